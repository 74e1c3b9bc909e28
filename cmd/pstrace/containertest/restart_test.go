package containertest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/testutil"
)

// dockerd stopped while pstrace runs, then started again: pstrace goes on
// tracing and loses no event, says so once on stderr (and once that names
// are back), and names the containers created after the restart.
func TestDockerRestartMidRun(t *testing.T) {
	testutil.RequireDocker(t)
	rootfs := testutil.RequireContainerd(t)
	d := testutil.StartPrivateDockerd(t, rootfs)
	s := watchEvents(t, "--docker-socket", d.Socket, "--docker-namespace", d.NS)
	host := "unix://" + d.Socket

	before := uniqueName(t)
	removeOnPrivate(t, host, before)
	testutil.Run(t, "docker", "-H", host, "run", "-d", "--name", before, "--label", testutil.TestLabel, testutil.TestImage, "sleep", "300")
	s.sync()

	d.Stop()
	// Processes that run while the engine is away are all reported.
	token := uniqueName(t)
	for range 50 {
		if err := exec.Command("/bin/sh", "-c", ": "+token).Run(); err != nil {
			t.Fatal(err)
		}
	}
	s.sync()
	d.Start()
	// Names come back once the event stream is open again.
	for deadline := time.Now().Add(hangGuard); !strings.Contains(s.p.stderr.String(), "docker answers again"); s.sync() {
		if time.Now().After(deadline) {
			t.Fatalf("pstrace never said that dockerd answers again; its stderr: %q", s.p.stderr.String())
		}
	}

	after := uniqueName(t)
	removeOnPrivate(t, host, after)
	cidfile := filepath.Join(t.TempDir(), "cid")
	testutil.Run(t, "docker", "-H", host, "run", "--cidfile", cidfile, "--name", after, "--label", testutil.TestLabel, testutil.TestImage, "sh", "-c", "true")
	id, err := os.ReadFile(cidfile)
	if err != nil {
		t.Fatal(err)
	}
	s.sync()

	shells := 0
	for _, ev := range s.seen {
		if ev.Type == "exec" && len(ev.Args) == 3 && ev.Args[2] == ": "+token {
			shells++
		}
	}
	if shells != 50 || s.lost() != 0 {
		t.Errorf("%d of the 50 execs made while dockerd was stopped reported, %d events lost", shells, s.lost())
	}
	checkNamed(t, s, string(id), named{Name: after, Image: testutil.TestImage, ImageID: imageID(t, host),
		Labels: map[string]string{}})

	var warned, back int
	for _, l := range strings.Split(strings.TrimSpace(s.p.stderr.String()), "\n") {
		switch {
		case strings.Contains(l, "docker") && strings.Contains(l, "warning"):
			warned++
		case strings.Contains(l, "docker answers again"):
			back++
		}
	}
	if warned != 1 || back != 1 {
		t.Errorf("stderr %q: want one warning that dockerd is gone and one line that it is back", s.p.stderr.String())
	}
}

// removeOnPrivate removes a container of the test's own dockerd at its end.
func removeOnPrivate(t *testing.T, host, name string) {
	t.Cleanup(func() { exec.Command("docker", "-H", host, "rm", "-f", name).Run() })
}

// imageID is the test image's id in the dockerd at host.
func imageID(t *testing.T, host string) string {
	return strings.TrimSpace(testutil.Run(t, "docker", "-H", host, "image", "inspect", "--format", "{{.Id}}", testutil.TestImage))
}
