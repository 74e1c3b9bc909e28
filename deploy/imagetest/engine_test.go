// Package imagetest runs the pstrace image under the real containerd with
// exactly the privileges, pid mode and mounts the DaemonSet grants, read
// from the manifest and translated to `ctr run` flags (dockerd 20.10 rejects
// CAP_BPF and CAP_PERFMON by name; containerd takes them). The engines come
// from scripts/engine.sh up; every test name starts with TestContainerd.
package imagetest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/pstrace/pstrace/deploy/manifest"
	"github.com/pstrace/pstrace/internal/testutil"
)

const (
	manifestDir = "../kubernetes"
	// procPidInitIno is the inode of the initial pid namespace.
	procPidInitIno = 0xEFFFFFFC
)

var (
	imageOnce sync.Once
	imageTag  string // in dockerd
	imageRef  string // in containerd
	imageErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if imageTag != "" {
		exec.Command("ctr", "-n", "default", "images", "rm", imageRef).Run()
		exec.Command("docker", "image", "rm", imageTag).Run()
	}
	os.Exit(code)
}

func randomID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// requireEngines stops the test (see testutil.Unavailable) unless it runs
// as root, in the host's pid namespace, with dockerd, containerd and the
// busybox test image.
func requireEngines(t *testing.T) {
	t.Helper()
	testutil.RequireRoot(t)
	var st unix.Stat_t
	if err := unix.Stat("/proc/self/ns/pid", &st); err != nil || st.Ino != procPidInitIno {
		testutil.Unavailable(t, "not in the host's pid namespace")
	}
	for _, c := range [][]string{{"docker", "version", "--format", "{{.Server.Version}}"}, {"ctr", "version"}, {"docker", "image", "inspect", testutil.TestImage}} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			testutil.Unavailable(t, "%s: %v (%s): %s", strings.Join(c, " "), err, "start the engines with scripts/engine.sh up", lastLine(out))
		}
	}
}

// pstraceImage builds the image with scripts/image.sh (what make image
// runs) once per test run, and imports it into containerd.
func pstraceImage(t *testing.T) string {
	t.Helper()
	imageOnce.Do(func() {
		tag := "pstrace:test-" + randomID()
		build := exec.Command("../../scripts/image.sh")
		build.Env = append(os.Environ(), "IMAGE="+tag)
		if out, err := build.CombinedOutput(); err != nil {
			imageErr = fmt.Errorf("scripts/image.sh: %v\n%s", err, out)
			return
		}
		imageTag, imageRef = tag, "docker.io/library/"+tag
		save := exec.Command("sh", "-c", "docker save \"$1\" | ctr -n default images import -", "sh", tag)
		if out, err := save.CombinedOutput(); err != nil {
			imageErr = fmt.Errorf("importing into containerd: %v\n%s", err, out)
		}
	})
	if imageErr != nil {
		t.Fatal(imageErr)
	}
	return imageRef
}

// ctrRun returns `ctr run` of the image with the DaemonSet's privileges
// (less what o leaves out) and pstrace's args; the test removes the
// container at its end.
func ctrRun(t *testing.T, o manifest.CtrOptions, args ...string) (*exec.Cmd, string) {
	t.Helper()
	ref := pstraceImage(t)
	s, err := manifest.Load(manifestDir)
	if err != nil {
		t.Fatal(err)
	}
	o.HostPIDNS = "/proc/" + strconv.Itoa(os.Getpid()) + "/ns/pid"
	flags, err := s.CtrRunFlags(o)
	if err != nil {
		t.Fatal(err)
	}
	id := testutil.TestPrefix + randomID()
	argv := append([]string{"-n", "default", "run", "--rm", "--label", testutil.TestLabel + "=1"}, flags...)
	argv = append(argv, ref, id, "/pstrace")
	t.Cleanup(func() {
		exec.Command("ctr", "-n", "default", "tasks", "kill", "-s", "SIGKILL", id).Run()
		exec.Command("ctr", "-n", "default", "tasks", "delete", "-f", id).Run()
		exec.Command("ctr", "-n", "default", "containers", "delete", id).Run()
	})
	return exec.Command("ctr", append(argv, args...)...), id
}

// manifestCaps is what the DaemonSet's container adds.
func manifestCaps(t *testing.T) []string {
	t.Helper()
	s, err := manifest.Load(manifestDir)
	if err != nil {
		t.Fatal(err)
	}
	c, err := s.Container()
	if err != nil {
		t.Fatal(err)
	}
	var caps []string
	for _, a := range c.SecurityContext.Capabilities.Add {
		caps = append(caps, string(a))
	}
	return caps
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return lines[len(lines)-1]
}

// oneLine tells whether out is exactly one line starting with prefix.
func oneLine(out []byte, prefix string) bool {
	return bytes.Count(out, []byte("\n")) == 1 && bytes.HasPrefix(out, []byte(prefix))
}
