package containertest

import (
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pstrace/pstrace/internal/testutil"
)

// A busybox container's init re-execs busybox through /proc/self/exe and
// renames itself to its applet: the live tree's command names are /proc's,
// for every process of the container, as its pids and parents are.
func TestDockerTreeCommIsProcs(t *testing.T) {
	testutil.RequireDocker(t)
	w := watchTree(t)
	id := dockerRunDetached(t, nil, "sh", "-c", "sleep 300 & exec sleep 301")
	initPID, _ := containerInit(t, id)
	tree := w.sync()
	checked := 0
	for _, p := range tree.Processes {
		if p.Container == nil || p.Container.ID != id {
			continue
		}
		b, err := os.ReadFile("/proc/" + strconv.FormatUint(uint64(p.PID), 10) + "/comm")
		if err != nil {
			continue // gone since the snapshot
		}
		if want := strings.TrimSuffix(string(b), "\n"); p.Comm != want {
			t.Errorf("pid %d (%q): live tree says comm %q, /proc says %q", p.PID, p.Args, p.Comm, want)
		}
		checked++
	}
	if _, i := tree.find(initPID); i < 0 || checked < 2 {
		t.Fatalf("live tree holds %d processes of the container (init %d listed: %v), want at least 2", checked, initPID, i >= 0)
	}
}
