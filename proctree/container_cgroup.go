package proctree

import (
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/pstrace/pstrace/internal/hostcgroup"
	"golang.org/x/sys/unix"
)

// fileIDKernfs is the file handle type of a kernfs (cgroup2) node, whose
// handle is the node's 64-bit id: the cgroup id that BPF reports.
const fileIDKernfs = 0xfe

// maxCgroupCache bounds the cgroup cache; containers come and go, so it is
// emptied when full rather than grown.
const maxCgroupCache = 4096

// cgroupResolver turns the cgroup ids of events into the container their
// cgroup v2 path names. A cgroup id is the inode number of the cgroup's
// directory; the kernel opens it by handle, so no tree walk is needed.
type cgroupResolver struct {
	mount   string // where the host's cgroup2 root is mounted, "" if nowhere
	mountFD int
	view    hostcgroup.View
	cache   map[uint64]cgroupMatch
}

func newCgroupResolver() *cgroupResolver {
	r := &cgroupResolver{mountFD: -1, cache: make(map[uint64]cgroupMatch)}
	view, err := hostcgroup.Find("/proc/self/mountinfo", "/proc/self/cgroup")
	if err != nil || view.Mount == "" {
		return r
	}
	fd, err := unix.Open(view.Mount, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return r
	}
	r.mount, r.mountFD, r.view = view.Mount, fd, view
	return r
}

func (r *cgroupResolver) close() {
	if r.mountFD >= 0 {
		unix.Close(r.mountFD)
		r.mountFD = -1
	}
}

// lookup returns the container the cgroup with this id belongs to. A cgroup
// that cannot be resolved (removed already, or no cgroup2) names none.
func (r *cgroupResolver) lookup(id uint64) cgroupMatch {
	if m, ok := r.cache[id]; ok {
		return m
	}
	var m cgroupMatch
	if p, err := r.path(id); err == nil {
		m = parseCgroupPath(p)
	}
	r.remember(id, m)
	return m
}

func (r *cgroupResolver) remember(id uint64, m cgroupMatch) {
	if len(r.cache) >= maxCgroupCache {
		clear(r.cache)
	}
	r.cache[id] = m
}

// path is the cgroup's path below the cgroup2 root, as /proc/PID/cgroup shows it.
func (r *cgroupResolver) path(id uint64) (string, error) {
	if r.mountFD < 0 {
		return "", fmt.Errorf("no cgroup2 file system mounted")
	}
	var handle [8]byte
	binary.NativeEndian.PutUint64(handle[:], id)
	fd, err := unix.OpenByHandleAt(r.mountFD, unix.NewFileHandle(fileIDKernfs, handle[:]), unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC)
	if err != nil {
		return "", fmt.Errorf("opening cgroup %d: %w", id, err)
	}
	defer unix.Close(fd)
	p, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(fd))
	if err != nil {
		return "", fmt.Errorf("reading the path of cgroup %d: %w", id, err)
	}
	rel := strings.TrimPrefix(p, r.mount)
	if rel == "" {
		rel = "/"
	}
	return rel, nil
}

// idOf is the id of the cgroup at path p below the cgroup2 root, 0 if unknown.
func (r *cgroupResolver) idOf(p string) uint64 {
	if r.mount == "" {
		return 0
	}
	var st unix.Stat_t
	if unix.Stat(r.mount+p, &st) != nil {
		return 0
	}
	return st.Ino
}

// procCgroupMatch reads /proc/PID/cgroup's lines ("0::/path" for cgroup v2,
// "N:controllers:/path" for v1) and returns the v2 path, made the host's by
// view, and the container the first path that names one belongs to, v2
// first: on a hybrid host only the v1 hierarchies may hold an engine's cgroups.
func procCgroupMatch(b []byte, view hostcgroup.View) (v2 string, m cgroupMatch) {
	var v1 []string
	for _, line := range strings.Split(string(b), "\n") {
		_, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		ctrl, p, ok := strings.Cut(rest, ":")
		if !ok {
			continue
		}
		if ctrl == "" {
			v2 = view.Abs(p)
		} else {
			v1 = append(v1, p)
		}
	}
	if m = parseCgroupPath(v2); m.id != "" {
		return v2, m
	}
	for _, p := range v1 {
		if m = parseCgroupPath(p); m.id != "" {
			return v2, m
		}
	}
	return v2, cgroupMatch{}
}
