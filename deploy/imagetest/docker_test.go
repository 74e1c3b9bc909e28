package imagetest

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/pstrace/pstrace/deploy/manifest"
	"github.com/pstrace/pstrace/internal/testutil"
)

// dockerFlags turns the DaemonSet's `ctr run` flags into `docker run`'s for
// dockerd 20.10, which rejects CAP_BPF and CAP_PERFMON by name: CAP_SYS_ADMIN
// stands for both (the kernel accepts it for either), so this is the
// README's fallback, one capability broader than the DaemonSet.
func dockerFlags(ctr []string) ([]string, error) {
	flags := []string{"--cap-drop", "ALL"}
	noNewPrivs := true
	for i := 0; i < len(ctr); i++ {
		f, v := ctr[i], ""
		if f != "--read-only" && f != "--seccomp" && f != "--allow-new-privs" {
			i++
			if i == len(ctr) {
				return nil, fmt.Errorf("%s without a value", f)
			}
			v = ctr[i]
		}
		switch f {
		case "--with-ns":
			if !strings.HasPrefix(v, "pid:") {
				return nil, fmt.Errorf("--with-ns %s has no docker run flag", v)
			}
			flags = append(flags, "--pid", "host")
		case "--read-only":
			flags = append(flags, f)
		case "--seccomp": // dockerd's default profile
		case "--allow-new-privs":
			noNewPrivs = false
		case "--cap-drop": // all of them, above
		case "--cap-add":
			c := strings.TrimPrefix(v, "CAP_")
			if c == "BPF" || c == "PERFMON" {
				c = "SYS_ADMIN"
			}
			if !slices.Contains(flags, c) {
				flags = append(flags, "--cap-add", c)
			}
		case "--mount":
			m, ok := strings.CutSuffix(v, ",options=rbind:ro")
			if !ok {
				m, ok = strings.CutSuffix(v, ",options=rbind:rro")
			}
			if !ok {
				return nil, fmt.Errorf("--mount %s has no docker run flag", v)
			}
			flags = append(flags, "--mount", m+",readonly")
		case "--memory-limit":
			flags = append(flags, "--memory", v)
		case "--cpus":
			flags = append(flags, f, v)
		case "--env":
			flags = append(flags, "--env", v)
		default:
			return nil, fmt.Errorf("%s has no docker run flag", f)
		}
	}
	if noNewPrivs {
		flags = append(flags, "--security-opt", "no-new-privileges")
	}
	return flags, nil
}

// Under dockerd 20.10, with the fallback for CAP_BPF and CAP_PERFMON, the
// image sees the host's tree too, and its own container by Docker's id.
func TestDockerFallbackTree(t *testing.T) {
	requireEngines(t)
	pstraceImage(t)
	s, err := manifest.Load(manifestDir)
	if err != nil {
		t.Fatal(err)
	}
	ctr, err := s.CtrRunFlags(manifest.CtrOptions{HostPIDNS: "/proc/self/ns/pid"})
	if err != nil {
		t.Fatal(err)
	}
	flags, err := dockerFlags(ctr)
	if err != nil {
		t.Fatal(err)
	}
	cidfile := t.TempDir() + "/cid"
	args := append([]string{"run", "--rm", "--label", testutil.TestLabel, "--cidfile", cidfile}, flags...)
	args = append(args, imageTag, "tree", "--once", "--format", "json")
	cmd := exec.Command("docker", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("docker %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	cid, err := os.ReadFile(cidfile)
	if err != nil {
		t.Fatal(err)
	}
	var snap struct {
		Processes []treeProcess `json:"processes"`
	}
	if err := json.Unmarshal(out, &snap); err != nil {
		t.Fatalf("not one JSON snapshot: %v: %q", err, out)
	}
	if !slices.ContainsFunc(snap.Processes, func(p treeProcess) bool { return p.PID == 1 }) {
		t.Errorf("no pid 1 in the tree: not the host's")
	}
	if !slices.ContainsFunc(snap.Processes, func(p treeProcess) bool { return p.Container != nil && p.Container.ID == string(cid) }) {
		t.Errorf("pstrace's own process not in container %s", cid)
	}
}
