package containertest

import (
	"os/exec"
	"testing"

	"github.com/pstrace/pstrace/internal/testutil"
)

func TestContainerdRunFlagsEveryProcess(t *testing.T) {
	rootfs := testutil.RequireContainerd(t)
	s := watchEvents(t)

	id := uniqueName(t)
	removeCtrOnCleanup(t, id)
	script := "for i in 1 2 3; do /bin/true; done; : " + id
	cli := exec.Command("ctr", "-n", "default", "run", "--rm", "--rootfs", rootfs, id, "/bin/sh", "-c", script)
	if out, err := cli.CombinedOutput(); err != nil {
		t.Fatalf("ctr run: %v: %s", err, out)
	}
	s.sync()

	shell := s.until("exec of the container's shell", func(ev *event) bool { return execOf(ev, "sh", id) })
	inside := checkContainerEvents(t, s, shimOf(t, s, shell, id), id, "default")
	if n := s.countExecs(inside, "true", ""); n != 3 {
		t.Errorf("saw %d execs of /bin/true below the shim, want 3", n)
	}
	checkNotFlagged(t, s, uint32(cli.Process.Pid), "the ctr CLI")
}
