package tracer

import (
	"fmt"
	"os"
)

// shimComm is the command name of every containerd-shim-* runtime: the
// kernel keeps 15 bytes of it.
const shimComm = "containerd-shim"

// FollowTree follows root and its descendants (Filter.Follow). Descendants
// forked while this runs are caught by the kernel once their parent is
// followed; a second pass over /proc catches those forked just before.
func (t *Tracer) FollowTree(root uint32) error {
	if _, err := ReadProcStat("/proc", root); err != nil {
		if os.IsNotExist(err) {
			return fmt.Errorf("no process with pid %d", root)
		}
		return fmt.Errorf("reading process %d: %w", root, err)
	}
	return t.followWhere(func(st ProcStat) bool { return st.PID == root })
}

// FollowShims follows every running containerd shim and its descendants.
func (t *Tracer) FollowShims() error {
	return t.followWhere(func(st ProcStat) bool { return st.Comm == shimComm })
}

func (t *Tracer) followWhere(isRoot func(ProcStat) bool) error {
	for pass := 0; pass < 2; pass++ {
		procs, err := ScanProc("/proc")
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
			if err := t.Follow(pid); err != nil {
				return err
			}
		}
	}
	return nil
}
