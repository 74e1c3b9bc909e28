// Package hostcgroup finds the host's cgroup2 hierarchy from wherever
// pstrace runs (a host, or a container with a private cgroup namespace) and
// turns /proc/PID/cgroup paths into paths below the host's root. It reads
// mountinfo and cgroup files and changes nothing.
package hostcgroup

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
)

// ErrNoHostCgroup says that cgroup2 is mounted, but only a container's part
// of it: the cgroups of other containers cannot be resolved.
var ErrNoHostCgroup = errors.New("the host's cgroup2 root is not mounted: mount the host's /sys/fs/cgroup (read-only)")

// View is where the host's cgroup2 hierarchy is mounted and how
// /proc/PID/cgroup paths translate to paths below it.
type View struct {
	Mount string // "" when no cgroup2 file system is mounted
	// nsRoot is the root of pstrace's cgroup namespace, below the host's
	// root: /proc/PID/cgroup shows paths relative to it ("/../../x" in a
	// container with a private cgroup namespace, as Kubernetes makes on
	// cgroup v2), and "" in the host's namespace.
	nsRoot string
}

// Abs turns a /proc/PID/cgroup v2 path into the host's path.
func (v View) Abs(p string) string {
	if v.nsRoot == "" || p == "" {
		return p
	}
	return path.Join(v.nsRoot, p)
}

// Find finds the mount of the host's cgroup2 root in mountinfo: the
// only cgroup without a cgroup.events file; ErrNoHostCgroup when the host
// has one that is not mounted. Its mountinfo root is "/" in the
// host's cgroup namespace and "/.." once per level of the namespace's root
// below it in a private one; that root is then found from the cgroup that
// /proc/self/cgroup (selfCgroup) places pstrace in.
func Find(mountinfo, selfCgroup string) (View, error) {
	var v View
	mounts, err := cgroup2Mounts(mountinfo)
	if err != nil {
		return v, err
	}
	for _, m := range mounts {
		if _, err := os.Stat(m.dir + "/cgroup.events"); !errors.Is(err, os.ErrNotExist) {
			continue
		}
		v.Mount = m.dir
		if m.up > 0 {
			v.nsRoot, err = findNsRoot(m.dir, m.up, selfCgroup)
		}
		return v, err
	}
	// A cgroup2 mount of a container's part only, or none while pstrace's own
	// cgroup is not the root: the host places processes in cgroup2 cgroups,
	// which pstrace cannot resolve without its root.
	if len(mounts) > 0 {
		return v, ErrNoHostCgroup
	}
	if b, err := os.ReadFile(selfCgroup); err == nil {
		if self := V2Path(b); self != "" && self != "/" {
			return v, ErrNoHostCgroup
		}
	}
	return v, nil
}

type cgroup2MountInfo struct {
	dir string
	up  int // levels from the cgroup namespace's root up to the mount's root
}

// cgroup2Mounts lists the cgroup2 mounts whose root is the cgroup
// namespace's root or above it: on a unified host at /sys/fs/cgroup, on a
// hybrid one at /sys/fs/cgroup/unified.
func cgroup2Mounts(mountinfo string) ([]cgroup2MountInfo, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return nil, fmt.Errorf("reading mounts: %w", err)
	}
	defer f.Close()
	var out []cgroup2MountInfo
	s := bufio.NewScanner(f)
	for s.Scan() {
		// id parent major:minor root mountpoint options... - fstype source options
		pre, post, ok := strings.Cut(s.Text(), " - ")
		if !ok || !strings.HasPrefix(post, "cgroup2 ") {
			continue
		}
		f := strings.Fields(pre)
		if len(f) < 5 {
			continue
		}
		if up, ok := dotDots(f[3]); ok {
			out = append(out, cgroup2MountInfo{UnescapeMountPath(f[4]), up})
		}
	}
	return out, s.Err()
}

// dotDots counts the components of a root that is "/" or "/../..", and
// says whether it is one.
func dotDots(root string) (int, bool) {
	if root == "/" {
		return 0, true
	}
	parts := strings.Split(strings.TrimPrefix(root, "/"), "/")
	for _, p := range parts {
		if p != ".." {
			return 0, false
		}
	}
	return len(parts), true
}

// findNsRoot finds the cgroup namespace's root, up levels below the host's
// root mounted at mount: the one directory at that depth under which
// pstrace's own cgroup (its path in selfCgroup, relative to the
// namespace's root) lists pstrace's pid.
func findNsRoot(mount string, up int, selfCgroup string) (string, error) {
	b, err := os.ReadFile(selfCgroup)
	if err != nil {
		return "", fmt.Errorf("reading pstrace's cgroup: %w", err)
	}
	self := V2Path(b)
	pid := strconv.Itoa(os.Getpid())
	var found []string
	level := []string{"/"}
	for range up {
		var next []string
		for _, dir := range level {
			entries, err := os.ReadDir(mount + dir)
			if err != nil {
				continue // removed meanwhile
			}
			for _, e := range entries {
				if e.IsDir() {
					next = append(next, path.Join(dir, e.Name()))
				}
			}
		}
		level = next
	}
	for _, dir := range level {
		procs, err := os.ReadFile(mount + path.Join(dir, self) + "/cgroup.procs")
		if err == nil && slices.Contains(strings.Fields(string(procs)), pid) {
			found = append(found, dir)
		}
	}
	if len(found) != 1 {
		return "", fmt.Errorf("finding the root of pstrace's cgroup namespace below %s: %d candidates at depth %d", mount, len(found), up)
	}
	return found[0], nil
}

// V2Path is the cgroup v2 path of a /proc/PID/cgroup file ("0::/path"),
// "" if it has none.
func V2Path(b []byte) string {
	for _, line := range strings.Split(string(b), "\n") {
		if p, ok := strings.CutPrefix(line, "0::"); ok {
			return p
		}
	}
	return ""
}

// UnescapeMountPath undoes mountinfo's octal escapes (\040 for a space).
func UnescapeMountPath(s string) string {
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
