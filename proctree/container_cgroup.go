package proctree

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"

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
	mount   string // where cgroup2 is mounted, "" if nowhere
	mountFD int
	cache   map[uint64]cgroupMatch
}

func newCgroupResolver() *cgroupResolver {
	r := &cgroupResolver{mountFD: -1, cache: make(map[uint64]cgroupMatch)}
	mount, err := cgroup2Mount("/proc/self/mountinfo")
	if err != nil || mount == "" {
		return r
	}
	fd, err := unix.Open(mount, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return r
	}
	r.mount, r.mountFD = mount, fd
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

// cgroup2Mount finds where the cgroup2 file system is mounted: at
// /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one.
func cgroup2Mount(mountinfo string) (string, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return "", fmt.Errorf("reading mounts: %w", err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		// id parent major:minor root mountpoint options... - fstype source options
		pre, post, ok := strings.Cut(s.Text(), " - ")
		if !ok || !strings.HasPrefix(post, "cgroup2 ") {
			continue
		}
		if f := strings.Fields(pre); len(f) >= 5 && f[3] == "/" {
			return unescapeMountPath(f[4]), nil
		}
	}
	return "", s.Err()
}

// unescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func unescapeMountPath(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// procCgroupMatch reads /proc/PID/cgroup's lines ("0::/path" for cgroup v2,
// "N:controllers:/path" for v1) and returns the v2 path and the container the
// first path that names one belongs to, v2 first: on a hybrid host only the
// v1 hierarchies may hold an engine's cgroups.
func procCgroupMatch(b []byte) (v2 string, m cgroupMatch) {
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
			v2 = p
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
