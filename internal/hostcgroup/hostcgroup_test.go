package hostcgroup

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

func TestDotDots(t *testing.T) {
	for root, want := range map[string]int{"/": 0, "/..": 1, "/../../..": 3, "/docker/x": -1, "/../x": -1} {
		up, ok := dotDots(root)
		if !ok {
			up = -1
		}
		if up != want {
			t.Errorf("dotDots(%q) = %d, want %d", root, up, want)
		}
	}
}

// In a private cgroup namespace the host's root shows as "/../.." in
// mountinfo, the runtime's own mount of the namespace's root as "/"; only
// the host's root lacks cgroup.events. /proc/PID/cgroup paths are relative
// to the namespace's root, which is found where pstrace's pid is listed.
func TestHostCgroup2PrivateNamespace(t *testing.T) {
	dir := t.TempDir()
	host, own := filepath.Join(dir, "host"), filepath.Join(dir, "own")
	ns := "/kubepods.slice/pod1.slice/cri-containerd-aaa.scope"
	other := "/kubepods.slice/pod1.slice/cri-containerd-bbb.scope"
	for _, d := range []string{host + ns, host + other, own} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		own + "/cgroup.events":          "populated 1\n",
		host + ns + "/cgroup.procs":     "1\n" + strconv.Itoa(os.Getpid()) + "\n",
		host + other + "/cgroup.procs":  "7\n",
		dir + "/mountinfo":              "50 40 0:30 / " + own + " ro - cgroup2 cgroup2 rw\n60 40 0:30 /../../.. " + host + " ro - cgroup2 cgroup2 rw\n",
		dir + "/self":                   "0::/\n",
		dir + "/mountinfo-no-host-root": "50 40 0:30 / " + own + " ro - cgroup2 cgroup2 rw\n",
	}
	for p, s := range files {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	v, err := Find(dir+"/mountinfo", dir+"/self")
	if err != nil || v.Mount != host || v.nsRoot != ns {
		t.Fatalf("hostCgroup2 = %+v, %v; want mount %s, root %s", v, err, host, ns)
	}
	if got := v.Abs("/../cri-containerd-bbb.scope"); got != other {
		t.Errorf("abs of a sibling = %q, want %q", got, other)
	}
	if _, err := Find(dir+"/mountinfo-no-host-root", dir+"/self"); err != ErrNoHostCgroup {
		t.Errorf("only the namespace's root mounted: got %v, want ErrNoHostCgroup", err)
	}
	// The host's cgroup namespace, no cgroup2 mount: fine on a host that
	// keeps every process in the root, not when pstrace is in a cgroup.
	if err := os.WriteFile(dir+"/none", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Find(dir+"/none", dir+"/self"); err != nil {
		t.Errorf("no cgroup2, in the root cgroup: %v", err)
	}
	if err := os.WriteFile(dir+"/self-in-container", []byte("0::/default/pstrace\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Find(dir+"/none", dir+"/self-in-container"); err != ErrNoHostCgroup {
		t.Errorf("no cgroup2 mount, in a cgroup: got %v, want ErrNoHostCgroup", err)
	}
}

func TestCgroup2Mount(t *testing.T) {
	dir := t.TempDir()
	info := "25 1 0:23 / /sys/fs/cgroup rw,nosuid - tmpfs tmpfs rw\n" +
		"30 25 0:26 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n" +
		"35 25 0:30 / /sys/fs/cgroup/unified\\040dir rw - cgroup2 cgroup2 rw\n"
	path := dir + "/mountinfo"
	if err := os.WriteFile(path, []byte(info), 0o644); err != nil {
		t.Fatal(err)
	}
	v, err := Find(path, "/proc/self/cgroup")
	got := v.Mount
	if err != nil || got != "/sys/fs/cgroup/unified dir" {
		t.Errorf("Find(...).Mount = %q, %v", got, err)
	}
}
