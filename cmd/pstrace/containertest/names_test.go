package containertest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/pstrace/pstrace/internal/hostcgroup"
	"github.com/pstrace/pstrace/internal/testutil"
)

// named is what the engines add to the "container" object.
type named struct {
	ID        string            `json:"id"`
	Source    string            `json:"source"`
	Name      string            `json:"name"`
	Image     string            `json:"image"`
	ImageID   string            `json:"image_id"`
	Labels    map[string]string `json:"labels"`
	Confirmed *bool             `json:"confirmed"`
}

// namesOf returns the engine fields of the events s saw of container id.
func namesOf(t *testing.T, s *eventStream, id string) []named {
	t.Helper()
	var out []named
	for _, ev := range s.seen {
		if ev.Container == nil || ev.Container.ID != id {
			continue
		}
		var line struct {
			Container named `json:"container"`
		}
		mustJSON(t, ev.Raw, &line)
		out = append(out, line.Container)
	}
	if len(out) == 0 {
		t.Fatalf("no event of container %s", id)
	}
	return out
}

func confirmedString(c *bool) string {
	if c == nil {
		return "absent"
	}
	return strconv.FormatBool(*c)
}

// checkNamed fails the test unless every event of container id carries
// want's name, image, image id and labels, confirmed.
func checkNamed(t *testing.T, s *eventStream, id string, want named) {
	t.Helper()
	for _, got := range namesOf(t, s, id) {
		if got.Name != want.Name || got.Image != want.Image || got.ImageID != want.ImageID ||
			!maps.Equal(got.Labels, want.Labels) || got.Confirmed == nil || !*got.Confirmed {
			t.Errorf("event of container %s: name %q image %q image_id %q labels %v confirmed %s; want name %q image %q image_id %q labels %v confirmed true",
				id[:12], got.Name, got.Image, got.ImageID, got.Labels, confirmedString(got.Confirmed), want.Name, want.Image, want.ImageID, want.Labels)
			return
		}
	}
}

// A `docker run --rm` that lives a few milliseconds is named in every one
// of its own events, from its runtime's first process on.
func TestDockerNamesInEvents(t *testing.T) {
	testutil.RequireDocker(t)
	s := watchEvents(t)
	name := uniqueName(t)
	removeDockerOnCleanup(t, name)
	cidfile := filepath.Join(t.TempDir(), "cid")
	testutil.Run(t, "docker", "run", "--rm", "--cidfile", cidfile, "--name", name, "--label", testutil.TestLabel,
		"--label", "com.docker.compose.service=web", testutil.TestImage, "sh", "-c", "/bin/true; : "+name)
	s.sync()
	id, err := os.ReadFile(cidfile)
	if err != nil {
		t.Fatal(err)
	}
	imageID := testutil.Run(t, "docker", "image", "inspect", "-f", "{{.Id}}", testutil.TestImage)
	checkNamed(t, s, string(id), named{Name: name, Image: testutil.TestImage, ImageID: imageID,
		Labels: map[string]string{"com.docker.compose.service": "web"}})
}

// A containerd container with CRI-shaped labels, as a kubelet makes, has
// its pod's name and namespace in its events.
func TestContainerdNamesInEvents(t *testing.T) {
	rootfs := testutil.RequireContainerd(t)
	s := watchEvents(t)
	id := uniqueName(t)
	removeCtrOnCleanup(t, id)
	testutil.Run(t, "ctr", "-n", "default", "run", "--rm", "--label", "io.kubernetes.pod.name=web-0",
		"--label", "io.kubernetes.pod.namespace=shop", "--rootfs", rootfs, id, "/bin/true")
	s.sync()
	checkNamed(t, s, id, named{Labels: map[string]string{
		"io.kubernetes.pod.name": "web-0", "io.kubernetes.pod.namespace": "shop"}})
}

// A process in a cgroup named like a Docker container's, with no shim
// above it and no such container in Docker, is attributed from the cgroup
// name but reported unconfirmed.
func TestDockerFakeCgroupUnconfirmed(t *testing.T) {
	testutil.RequireDocker(t)
	root := cgroup2Mount(t)
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	id := hex.EncodeToString(b[:])
	parent := filepath.Join(root, testutil.TestPrefix+id[:8])
	dir := filepath.Join(parent, "docker-"+id+".scope")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir); os.Remove(parent) })

	s := watchEvents(t)
	// Events wait for an engine's answer at most a drain interval: the first
	// shell's may go out before it, the second's, a drain or more later, not.
	runInCgroup(t, dir, id)
	s.sync()
	first := len(namesOf(t, s, id))
	runInCgroup(t, dir, id)
	s.sync()
	all := namesOf(t, s, id)
	unconfirmed := false
	for i, got := range all {
		if got.Source != "cgroup" || got.Name != "" || (got.Confirmed != nil && *got.Confirmed) {
			t.Errorf("event in a fake container's cgroup: source %s, name %q, confirmed %s; want source cgroup, no name, not confirmed",
				got.Source, got.Name, confirmedString(got.Confirmed))
		}
		switch {
		case got.Confirmed != nil:
			unconfirmed = true
		case unconfirmed || i >= first:
			t.Errorf("event %d of %d in a fake container's cgroup: confirmed absent after the engines answered (the second shell's start at %d)", i, len(all), first)
		}
	}
}

// runInCgroup runs a shell in the cgroup dir, which runs a child there.
func runInCgroup(t *testing.T, dir, id string) {
	t.Helper()
	// The shell waits on stdin until it is in the cgroup.
	sh := exec.Command("/bin/sh", "-c", "read x; /bin/true; : "+id)
	stdin, err := sh.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := sh.Start(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(sh.Process.Pid)), 0); err != nil {
		sh.Process.Kill()
		sh.Wait()
		t.Fatalf("moving the shell into %s: %v", dir, err)
	}
	stdin.Write([]byte("go\n"))
	stdin.Close()
	if err := sh.Wait(); err != nil {
		t.Fatalf("the shell in the fake container's cgroup: %v", err)
	}
}

// cgroup2Mount is where the host's cgroup2 file system is mounted.
func cgroup2Mount(t *testing.T) string {
	t.Helper()
	v, err := hostcgroup.Find("/proc/self/mountinfo", "/proc/self/cgroup")
	if err != nil || v.Mount == "" {
		t.Fatalf("no cgroup2 file system mounted (%v)", err)
	}
	return v.Mount
}

// The tree's CONTAINER column shows a container's name, not its id.
func TestDockerNameInTreeText(t *testing.T) {
	testutil.RequireDocker(t)
	name := uniqueName(t)
	removeDockerOnCleanup(t, name)
	id := testutil.Run(t, "docker", "run", "-d", "--name", name, "--label", testutil.TestLabel, testutil.TestImage, "sleep", "600")
	initPID, _ := containerInit(t, id)
	out := pstraceOnce(t, "tree", "--once")
	prefix := fmt.Sprintf("%7d ", initPID)
	for _, line := range bytes.Split(out, []byte("\n")) {
		if bytes.HasPrefix(line, []byte(prefix)) {
			if !bytes.Contains(line, []byte(" "+name+" moby ")) {
				t.Errorf("tree line of the container's init: %q, want its name %s in the CONTAINER column", line, name)
			}
			return
		}
	}
	t.Fatalf("pstrace tree --once has no line for the container's init %d:\n%s", initPID, out)
}
