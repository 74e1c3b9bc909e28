package proctree

import (
	"strings"
	"testing"

	"github.com/pstrace/pstrace/internal/hostcgroup"
)

const (
	idA = "3f4e5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f7081"
	idB = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
)

func argv(args ...string) []byte { return []byte(strings.Join(args, "\x00") + "\x00") }

func TestParseShimArgs(t *testing.T) {
	cases := []struct {
		name   string
		args   []byte
		id, ns string
	}{
		{"runc v2, docker", argv("/usr/bin/containerd-shim-runc-v2", "-namespace", "moby", "-id", idA, "-address", "/run/containerd/containerd.sock"), idA, "moby"},
		{"double dashes", argv("containerd-shim-runc-v2", "--namespace", "k8s.io", "--id", idB), idB, "k8s.io"},
		{"equals forms", argv("containerd-shim-kata-v2", "-namespace=default", "--id="+idB, "-debug"), idB, "default"},
		{"v2 start subcommand", argv("containerd-shim-runc-v2", "-namespace", "moby", "-address", "/run/c.sock", "-publish-binary", "/usr/bin/containerd", "-id", idA, "start"), idA, "moby"},
		{"v1 shim names its container by workdir", argv("containerd-shim", "-namespace", "moby", "-workdir", "/var/lib/containerd/io.containerd.runtime.v1.linux/moby/"+idA, "-address", "/run/containerd/containerd.sock", "-containerd-binary", "/usr/bin/containerd", "-runtime-root", "/var/run/docker/runtime-runc"), idA, "moby"},
		{"no namespace", argv("containerd-shim-runc-v2", "-id", "web"), "web", "default"},
		{"flag without value at the end", argv("containerd-shim-runc-v2", "-namespace", "moby", "-id"), "", "moby"},
		{"empty", nil, "", "default"},
	}
	for _, c := range cases {
		id, ns := parseShimArgs(c.args)
		if id != c.id || ns != c.ns {
			t.Errorf("%s: got id %q namespace %q, want %q %q", c.name, id, ns, c.id, c.ns)
		}
	}
}

func TestIsShimExec(t *testing.T) {
	cases := []struct {
		comm, filename string
		want           bool
	}{
		{"containerd-shim", "/usr/bin/containerd-shim-runc-v2", true},
		{"containerd-shim", "/usr/bin/containerd-shim", true},
		{"shim-renamed", "/usr/local/bin/containerd-shim-kata-v2", true},
		{"containerd", "/usr/bin/containerd", false},
		{"runc", "/usr/bin/runc", false},
		{"sh", "/tmp/containerd-shim/sh", false},
	}
	for _, c := range cases {
		if got := isShimExec([]byte(c.comm), []byte(c.filename)); got != c.want {
			t.Errorf("isShimExec(%q, %q) = %v, want %v", c.comm, c.filename, got, c.want)
		}
	}
}

// Paths as /proc/PID/cgroup shows them on real hosts.
func TestParseCgroupPath(t *testing.T) {
	cases := []struct {
		path   string
		id, ns string
	}{
		// Docker, cgroup v1 and v2, cgroupfs driver.
		{"/docker/" + idA, idA, "moby"},
		// Docker, systemd driver (v1 and v2).
		{"/system.slice/docker-" + idA + ".scope", idA, "moby"},
		// A container running systemd, seen from the host.
		{"/system.slice/docker-" + idA + ".scope/init.scope", idA, "moby"},
		// Docker in Docker: the innermost container.
		{"/docker/" + idA + "/docker/" + idB, idB, "moby"},
		// Kubernetes, cgroupfs driver (v1), burstable and guaranteed pods.
		{"/kubepods/burstable/pod0f7c2a6e-1d2b-4c3a-9e8f-7a6b5c4d3e2f/" + idA, idA, "k8s.io"},
		{"/kubepods/pod0f7c2a6e-1d2b-4c3a-9e8f-7a6b5c4d3e2f/" + idB, idB, "k8s.io"},
		// Kubernetes, systemd driver, containerd, CRI-O, cri-dockerd.
		{"/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-pod0f7c2a6e_1d2b_4c3a_9e8f_7a6b5c4d3e2f.slice/cri-containerd-" + idA + ".scope", idA, "k8s.io"},
		{"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod0f7c2a6e_1d2b.slice/crio-" + idB + ".scope", idB, "crio"},
		{"/kubepods.slice/kubepods-pod0f7c2a6e_1d2b.slice/docker-" + idA + ".scope", idA, "moby"},
		// Podman: systemd and cgroupfs managers; conmon is outside the container.
		{"/machine.slice/libpod-" + idB + ".scope", idB, "podman"},
		{"/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" + idB + ".scope/container", idB, "podman"},
		{"/libpod_parent/libpod-" + idB, idB, "podman"},
		{"/machine.slice/libpod-conmon-" + idB + ".scope", "", ""},
		{"/kubepods.slice/kubepods-burstable.slice/crio-conmon-" + idB + ".scope", "", ""},
		// Not containers.
		{"/", "", ""},
		{"/system.slice/docker.service", "", ""},
		{"/system.slice/containerd.service", "", ""},
		{"/user.slice/user-0.slice/session-1.scope", "", ""},
		{"/docker/buildkit", "", ""},
		{"/kubepods/burstable/pod0f7c2a6e", "", ""},
		{"/docker/" + idA[:12], "", ""},
		{"/system.slice/docker-" + strings.ToUpper(idA) + ".scope", "", ""},
	}
	for _, c := range cases {
		m := parseCgroupPath(c.path)
		if m.id != c.id || m.namespace != c.ns {
			t.Errorf("parseCgroupPath(%q) = %q %q, want %q %q", c.path, m.id, m.namespace, c.id, c.ns)
		}
	}
}

func TestProcCgroupMatch(t *testing.T) {
	// A hybrid host, Docker with the cgroupfs driver: only v1 names the container.
	hybrid := "12:pids:/docker/" + idA + "\n4:memory:/docker/" + idA + "\n1:name=systemd:/docker/" + idA + "\n0::/system.slice/containerd.service\n"
	if v2, m := procCgroupMatch([]byte(hybrid), hostcgroup.View{}); v2 != "/system.slice/containerd.service" || m.id != idA {
		t.Errorf("hybrid: got v2 %q, container %q", v2, m.id)
	}
	unified := "0::/system.slice/docker-" + idB + ".scope\n"
	if v2, m := procCgroupMatch([]byte(unified), hostcgroup.View{}); v2 != "/system.slice/docker-"+idB+".scope" || m.id != idB || m.namespace != "moby" {
		t.Errorf("unified: got v2 %q, container %+v", v2, m)
	}
	if _, m := procCgroupMatch([]byte("0::/user.slice\n"), hostcgroup.View{}); m.id != "" {
		t.Errorf("no container: got %+v", m)
	}
}
