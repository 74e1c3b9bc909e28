package imagetest

import (
	"bytes"
	"testing"

	"github.com/pstrace/pstrace/deploy/manifest"
)

// Each capability the DaemonSet adds, hostPID and the host cgroup mount is
// needed: without it pstrace exits 1 with one line naming it.
func TestContainerdEachPrivilegeNeeded(t *testing.T) {
	requireEngines(t)
	type leaveOut struct {
		name string
		o    manifest.CtrOptions
		want string
	}
	var cases []leaveOut
	for _, c := range manifestCaps(t) {
		cases = append(cases, leaveOut{"CAP_" + c, manifest.CtrOptions{WithoutCap: c}, "pstrace: missing CAP_" + c + ": "})
	}
	cases = append(cases,
		leaveOut{"hostPID", manifest.CtrOptions{WithoutHostPID: true}, "pstrace: /proc is the container's own, mount the host's /proc or use hostPID\n"},
		leaveOut{"/sys/fs/cgroup", manifest.CtrOptions{WithoutMount: "/sys/fs/cgroup"}, "pstrace: the host's cgroup2 root is not mounted: "},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd, _ := ctrRun(t, c.o, "events")
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			cmd.Run()
			if code := cmd.ProcessState.ExitCode(); code != 1 {
				t.Errorf("exit status %d, want 1", code)
			}
			if !oneLine(stderr.Bytes(), c.want) {
				t.Errorf("stderr %q, want one line starting %q", stderr.String(), c.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}
