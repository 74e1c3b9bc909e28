package engine

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/testutil"
)

// A Docker socket that accepts and never answers holds the first lookups
// that need Docker for one timeout, all at once, and no other lookup
// longer: the ones after skip Docker until it is tried again, and a
// containerd container's is answered within that timeout.
func TestDockerHungSocket(t *testing.T) {
	rootfs := testutil.RequireContainerd(t)
	id := uniqueName(t)
	shim := ctrRun(t, rootfs, id)
	const timeout = 3 * time.Second
	r, w := newResolver(t, Config{DockerSocket: testutil.HungSocket(t), ContainerdSocket: containerdSocket, Timeout: timeout, RetryAfter: time.Hour})

	start := time.Now()
	var stuck []Key
	for range 4 {
		k := Key{"moby", randomHex(t, 32)}
		stuck = append(stuck, k)
		r.Lookup(k.Namespace, k.ID, 0)
	}
	k := Key{"default", id}
	info := await(t, r, k, shim, func(*Info) bool { return final(r, k) })
	if took := time.Since(start); took >= 2*timeout {
		t.Errorf("a containerd lookup behind 4 lookups on a hung Docker took %v: more than one timeout (%v) each", took, timeout)
	}
	if info.Confirmed != Confirmed {
		t.Errorf("containerd container: %v, want confirmed", info.Confirmed)
	}
	for _, s := range stuck {
		info := await(t, r, s, 0, func(*Info) bool { return true })
		if info.Confirmed != Unknown || final(r, s) {
			t.Errorf("lookup on a hung Docker: %v (final %v), want unknown, to be retried", info.Confirmed, final(r, s))
		}
	}
	lines := w.all()
	if len(lines) != 1 || !strings.Contains(lines[0], "docker") || !strings.Contains(lines[0], "no answer") {
		t.Errorf("warnings: %q, want one saying Docker does not answer", lines)
	}
}

// dockerd stopped mid-run, then started again: one warning, the names
// known kept, and names back from the event stream, subscribed again, for
// the containers created after.
func TestDockerEngineRestart(t *testing.T) {
	testutil.RequireDocker(t)
	rootfs := testutil.RequireContainerd(t)
	d := testutil.StartPrivateDockerd(t, rootfs)
	r, w := newResolver(t, Config{DockerSocket: d.Socket, ContainerdSocket: containerdSocket, DockerNamespace: d.NS})

	id, name := dockerRun(t, d.Socket, nil, "true")
	k := Key{d.NS, id}
	if info := await(t, r, k, 0, func(*Info) bool { return final(r, k) }); info.Name != name {
		t.Fatalf("before the restart: name %q, want %q", info.Name, name)
	}

	d.Stop()
	await(t, r, k, 0, func(*Info) bool { return len(w.all()) > 0 })
	// While Docker is away, a new id of its namespace is not judged: no
	// engine that owns it could answer.
	gone := Key{d.NS, randomHex(t, 32)}
	if info := await(t, r, gone, 0, func(*Info) bool { return true }); info.Confirmed != Unknown || final(r, gone) {
		t.Errorf("lookup while dockerd is stopped: %v (final %v), want unknown, to be retried", info.Confirmed, final(r, gone))
	}
	if info := r.Lookup(k.Namespace, k.ID, 0); info == nil || info.Name != name {
		t.Errorf("while dockerd is stopped, the name known before is lost: %+v", info)
	}

	d.Start()
	// The event stream is open again: a container gone before any
	// inspect could see it is named from its events.
	await(t, r, k, 0, func(*Info) bool { return r.docker.health.up() })
	name2 := uniqueName(t)
	cidfile := filepath.Join(t.TempDir(), "cid")
	testutil.Run(t, "docker", "-H", "unix://"+d.Socket, "run", "--rm", "--cidfile", cidfile, "--name", name2,
		"--label", testutil.TestLabel, "--label", "com.docker.compose.service=after", testutil.TestImage, "true")
	id2, err := os.ReadFile(cidfile)
	if err != nil {
		t.Fatal(err)
	}
	k2 := Key{d.NS, string(id2)}
	info := await(t, r, k2, 0, func(i *Info) bool { return i.Name != "" })
	if info.Name != name2 || info.Labels["com.docker.compose.service"] != "after" {
		t.Errorf("after the restart: %+v, want name %s and service after", *info, name2)
	}

	var warned, back int
	for _, l := range w.all() {
		switch {
		case strings.HasPrefix(l, "warning: docker: "):
			warned++
		case strings.HasPrefix(l, "docker answers again"):
			back++
		default:
			t.Errorf("unexpected line %q", l)
		}
	}
	if warned != 1 || back != 1 {
		t.Errorf("lines: %q, want one warning that Docker is gone and one that it is back", w.all())
	}
}
