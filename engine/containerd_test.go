package engine

import (
	"testing"

	"github.com/pstrace/pstrace/internal/testutil"
)

// A real containerd container carrying CRI-shaped labels stands in for a
// kubelet's: its pod name and namespace come from containerd.
func TestContainerdPodLabels(t *testing.T) {
	rootfs := testutil.RequireContainerd(t)
	id := uniqueName(t)
	shim := ctrRun(t, rootfs, id, "--label", "io.kubernetes.pod.name=web-0",
		"--label", "io.kubernetes.pod.namespace=shop", "--label", "nerdctl/name=web")
	r, w := newResolver(t, Config{ContainerdSocket: containerdSocket})
	k := Key{"default", id}

	info := await(t, r, k, shim, func(*Info) bool { return final(r, k) })
	want := Info{Name: "web", Confirmed: Confirmed, Labels: map[string]string{
		"io.kubernetes.pod.name": "web-0", "io.kubernetes.pod.namespace": "shop"}}
	if !info.same(&want) {
		t.Errorf("got %+v, want %+v", *info, want)
	}
	if lines := w.all(); len(lines) > 0 {
		t.Errorf("warnings with containerd up: %q", lines)
	}
}

// The OCI annotations the CRI plugin writes are read from the shim's
// bundle, with no engine socket at all.
func TestContainerdBundleAnnotations(t *testing.T) {
	rootfs := testutil.RequireContainerd(t)
	id := uniqueName(t)
	shim := ctrRun(t, rootfs, id,
		"--annotation", "io.kubernetes.cri.sandbox-name=api-7",
		"--annotation", "io.kubernetes.cri.sandbox-namespace=prod",
		"--annotation", "io.kubernetes.cri.sandbox-uid=0b5e-uid",
		"--annotation", "io.kubernetes.cri.container-name=api",
		"--annotation", "io.kubernetes.cri.image-name=registry.example/api:2")
	r, _ := newResolver(t, Config{})
	k := Key{"default", id}

	info := await(t, r, k, shim, func(*Info) bool { return final(r, k) })
	want := Info{Image: "registry.example/api:2", Confirmed: Confirmed, Labels: map[string]string{
		"io.kubernetes.pod.name": "api-7", "io.kubernetes.pod.namespace": "prod",
		"io.kubernetes.pod.uid": "0b5e-uid", "io.kubernetes.container.name": "api"}}
	if !info.same(&want) {
		t.Errorf("got %+v, want %+v", *info, want)
	}
	// The same id in another namespace is not what this shim serves.
	other := Key{"k8s.io", id}
	if info := await(t, r, other, shim, func(*Info) bool { return final(r, other) }); info.Confirmed != Unknown {
		t.Errorf("id under a shim of another namespace: %v, want unknown", info.Confirmed)
	}
}
