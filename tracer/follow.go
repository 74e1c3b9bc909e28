package tracer

import (
	"fmt"
	"os"

	"github.com/pstrace/pstrace/internal/procfs"
)

// followTree follows root and its descendants. Descendants forked while
// this runs are caught by the kernel once their parent is followed; a second
// pass over /proc catches those forked just before.
func (t *Tracer) followTree(root uint32) error {
	if _, err := procfs.ReadStat("/proc", root); err != nil {
		if os.IsNotExist(err) {
			return fmt.Errorf("%w with pid %d", ErrNoProcess, root)
		}
		return fmt.Errorf("reading process %d: %w", root, err)
	}
	return t.followWhere(func(st procfs.Stat) bool { return st.PID == root })
}

// followShims follows every running containerd shim and its descendants.
func (t *Tracer) followShims() error {
	return t.followWhere(func(st procfs.Stat) bool { return st.Comm == ShimComm })
}

func (t *Tracer) followWhere(isRoot func(procfs.Stat) bool) error {
	for pass := 0; pass < 2; pass++ {
		procs, err := procfs.Scan("/proc")
		if err != nil {
			return err
		}
		children := make(map[uint32][]uint32, len(procs))
		var stack []uint32
		for _, st := range procs {
			children[st.PPID] = append(children[st.PPID], st.PID)
			if isRoot(st) {
				stack = append(stack, st.PID)
			}
		}
		for len(stack) > 0 {
			pid := stack[len(stack)-1]
			stack = append(stack[:len(stack)-1], children[pid]...)
			if err := t.follow(pid); err != nil {
				return err
			}
		}
	}
	return nil
}
