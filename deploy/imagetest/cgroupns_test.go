package imagetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pstrace/pstrace/deploy/manifest"
	"github.com/pstrace/pstrace/internal/testutil"
)

// cgroup2Dir is where this host mounts its cgroup2 root: /sys/fs/cgroup on
// a unified host, /sys/fs/cgroup/unified on a hybrid one.
func cgroup2Dir(t *testing.T) string {
	t.Helper()
	for _, d := range []string{"/sys/fs/cgroup", "/sys/fs/cgroup/unified"} {
		var fs unix.Statfs_t
		if unix.Statfs(d, &fs) == nil && fs.Type == unix.CGROUP2_SUPER_MAGIC {
			return d
		}
	}
	t.Skip("no cgroup2 hierarchy: cgroup namespaces then show only v1 paths")
	return ""
}

// A pod on a cgroup v2 host has a private cgroup namespace rooted at its
// container's cgroup: /proc/PID/cgroup then shows every other process's
// cgroup relative to it ("/../..."). With the host's cgroup2 root mounted,
// pstrace resolves them and its tree is still the host's.
func TestContainerdPrivateCgroupNamespace(t *testing.T) {
	requireEngines(t)
	root := cgroup2Dir(t)
	cgroup := "/" + testutil.TestPrefix + "cgns-" + randomID()
	dir := filepath.Join(root, cgroup)
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// A process in that cgroup unshares the namespace the container joins;
	// runc then puts the container in the same cgroup, the namespace's root.
	holder := exec.Command("sh", "-c", `echo $$ > "$1/cgroup.procs" && exec unshare -C sleep 3600`, "sh", dir)
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		holder.Process.Kill()
		holder.Wait()
		// runc made the same cgroup in the v1 hierarchies of a hybrid host.
		matches, _ := filepath.Glob(filepath.Join("/sys/fs/cgroup", "*", cgroup))
		for _, d := range append(matches, dir) {
			os.Remove(d)
		}
	})
	ns := "/proc/" + strconv.Itoa(holder.Process.Pid) + "/ns/cgroup"
	guard := time.Now().Add(hangGuard)
	for {
		var mine, its unix.Stat_t
		if unix.Stat("/proc/self/ns/cgroup", &mine) == nil && unix.Stat(ns, &its) == nil && mine.Ino != its.Ino {
			break
		}
		if time.Now().After(guard) {
			t.Fatal("hung waiting for unshare -C")
		}
		time.Sleep(10 * time.Millisecond)
	}
	checkTree(t, manifest.CtrOptions{CgroupNS: ns, Cgroup: cgroup})
}
