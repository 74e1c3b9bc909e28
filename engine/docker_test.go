package engine

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/pstrace/pstrace/internal/testutil"
)

// bothEngines is the resolver configuration of the engines engine.sh starts.
func bothEngines() Config {
	return Config{DockerSocket: dockerSocket, ContainerdSocket: containerdSocket}
}

func TestDockerNameImageLabels(t *testing.T) {
	testutil.RequireDocker(t)
	r, w := newResolver(t, bothEngines())
	id, name := dockerRun(t, "", []string{"--label", "com.docker.compose.service=web", "--label", "unrelated=1"}, "sleep", "600")
	shim := dockerShim(t, "", id)
	k := Key{"moby", id}

	info := await(t, r, k, shim, func(*Info) bool { return final(r, k) })
	imageID := testutil.Run(t, "docker", "image", "inspect", "-f", "{{.Id}}", testutil.TestImage)
	want := Info{Name: name, Image: testutil.TestImage, ImageID: imageID, Confirmed: Confirmed,
		Labels: map[string]string{"com.docker.compose.service": "web"}}
	if !info.same(&want) {
		t.Errorf("got %+v, want %+v", *info, want)
	}
	if lines := w.all(); len(lines) > 0 {
		t.Errorf("warnings with both engines up: %q", lines)
	}
}

// A container that lives a few milliseconds and is removed at once is
// named from Docker's event stream: an inspect after it is gone finds nothing.
func TestDockerRemovedContainerNamed(t *testing.T) {
	testutil.RequireDocker(t)
	r, _ := newResolver(t, bothEngines())
	// The stream must be open before the container is created.
	await(t, r, Key{"moby", randomHex(t, 32)}, 0, func(*Info) bool { return r.docker.health.up() })

	name := uniqueName(t)
	cidfile := filepath.Join(t.TempDir(), "cid")
	testutil.Run(t, "docker", "run", "--rm", "--cidfile", cidfile, "--name", name, "--label", testutil.TestLabel,
		"--label", "com.docker.compose.project=shop", testutil.TestImage, "true")
	id, err := os.ReadFile(cidfile)
	if err != nil {
		t.Fatal(err)
	}
	k := Key{"moby", string(id)}
	if out, err := runErr("docker", "inspect", k.ID); err == nil {
		t.Fatalf("docker inspect %s after docker run --rm returned: the container is still there: %s", k.ID, out)
	}

	info := await(t, r, k, 0, func(i *Info) bool { return i.Name != "" })
	if info.Name != name || info.Image != testutil.TestImage || info.Labels["com.docker.compose.project"] != "shop" || info.Confirmed != Confirmed {
		t.Errorf("removed container: got %+v, want name %s, image %s, project shop, confirmed", *info, name, testutil.TestImage)
	}
}

// An id that no engine has and no shim serves, as a process in a cgroup
// named like a container's would carry, is unconfirmed; a real one is
// confirmed, by Docker, by containerd, and by its shim alone.
func TestDockerConfirmation(t *testing.T) {
	testutil.RequireDocker(t)
	testutil.RequireContainerd(t)
	r, _ := newResolver(t, bothEngines())
	for _, ns := range []string{"moby", "k8s.io"} {
		k := Key{ns, randomHex(t, 32)}
		info := await(t, r, k, 0, func(*Info) bool { return final(r, k) })
		if info.Confirmed != Unconfirmed {
			t.Errorf("fake id in namespace %s: %v, want unconfirmed", ns, info.Confirmed)
		}
	}

	id, _ := dockerRun(t, "", nil, "sleep", "600")
	shim := dockerShim(t, "", id)
	k := Key{"moby", id}
	if info := await(t, r, k, 0, func(*Info) bool { return final(r, k) }); info.Confirmed != Confirmed {
		t.Errorf("real container: %v, want confirmed", info.Confirmed)
	}
	// With no engine to ask, the shim's bundle vouches for the id, and
	// only for the ids the shim serves.
	bundleOnly, _ := newResolver(t, Config{})
	if info := await(t, bundleOnly, k, shim, func(*Info) bool { return final(bundleOnly, k) }); info.Confirmed != Confirmed {
		t.Errorf("real container, bundle only: %v, want confirmed", info.Confirmed)
	}
	fake := Key{"moby", randomHex(t, 32)}
	if info := await(t, bundleOnly, fake, shim, func(*Info) bool { return final(bundleOnly, fake) }); info.Confirmed != Unknown {
		t.Errorf("fake id under a real shim, bundle only: %v, want unknown", info.Confirmed)
	}
}
