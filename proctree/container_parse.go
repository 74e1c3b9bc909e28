package proctree

import (
	"bytes"
	"path"
	"strings"

	"github.com/pstrace/pstrace/tracer"
)

// isShimExec tells whether an exec'd image is a containerd shim: the kernel
// keeps 15 bytes of its name as comm ("containerd-shim" for every
// containerd-shim-* runtime); the file name covers a renamed comm.
func isShimExec(comm, filename []byte) bool {
	if string(comm) == tracer.ShimComm {
		return true
	}
	if i := bytes.LastIndexByte(filename, '/'); i >= 0 {
		filename = filename[i+1:]
	}
	return bytes.HasPrefix(filename, []byte(tracer.ShimComm))
}

// defaultNamespace is containerd's namespace when a shim is given none.
const defaultNamespace = "default"

// parseShimArgs reads a shim's container id and containerd namespace from its
// NUL-separated argv: `-id ID` or `-id=ID` (one or two dashes), and
// `-namespace NS`. Shim v1 (containerd-shim) has no -id: its -workdir ends
// in the container id.
func parseShimArgs(args []byte) (id, namespace string) {
	var workdir string
	fields := bytes.Split(bytes.TrimSuffix(args, []byte{0}), []byte{0})
	for i := 1; i < len(fields); i++ {
		name, value, hasValue := strings.Cut(string(fields[i]), "=")
		name = strings.TrimPrefix(strings.TrimPrefix(name, "-"), "-")
		if !hasValue {
			if i+1 >= len(fields) {
				break
			}
			value = string(fields[i+1])
		}
		switch name {
		case "id":
			id = value
		case "namespace":
			namespace = value
		case "workdir":
			workdir = value
		default:
			continue
		}
		if !hasValue {
			i++
		}
	}
	if id == "" && workdir != "" {
		id = path.Base(workdir)
	}
	if namespace == "" {
		namespace = defaultNamespace
	}
	return id, namespace
}

// cgroupMatch is the container a cgroup path names; an empty id means none.
type cgroupMatch struct {
	id, namespace string
}

// Prefixes of the per-container cgroup (or systemd scope) names the engines
// create, with the namespace reported for each.
var cgroupScopes = []struct{ prefix, namespace string }{
	{"docker-", "moby"},
	{"cri-containerd-", "k8s.io"},
	{"crio-", "crio"},
	{"libpod-", "podman"},
}

// parseCgroupPath finds the container a cgroup path belongs to: the
// innermost component that names one. Shapes recognised (cgroup v1 and v2):
//
//	/docker/ID                              Docker, cgroupfs driver
//	/system.slice/docker-ID.scope           Docker, systemd driver
//	/kubepods/besteffort/podUID/ID          Kubernetes, cgroupfs driver
//	/kubepods.slice/.../cri-containerd-ID.scope, crio-ID.scope, docker-ID.scope
//	/machine.slice/libpod-ID.scope, /libpod_parent/libpod-ID   Podman
//
// where ID is 64 hex digits; conmon's own crio-conmon-ID.scope and
// libpod-conmon-ID.scope are not containers.
func parseCgroupPath(p string) cgroupMatch {
	parts := strings.Split(p, "/")
	for i := len(parts) - 1; i >= 0; i-- {
		part := parts[i]
		if isContainerID(part) && i > 0 {
			switch parent := parts[i-1]; {
			case parent == "docker":
				return cgroupMatch{part, "moby"}
			case strings.HasPrefix(parent, "pod") && strings.Contains(p, "kubepods"):
				return cgroupMatch{part, "k8s.io"}
			}
			continue
		}
		name := strings.TrimSuffix(part, ".scope")
		for _, s := range cgroupScopes {
			if id, ok := strings.CutPrefix(name, s.prefix); ok && isContainerID(id) {
				return cgroupMatch{id, s.namespace}
			}
		}
	}
	return cgroupMatch{}
}

// isContainerID tells whether s has the shape of an engine's container id.
func isContainerID(s string) bool {
	if len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
