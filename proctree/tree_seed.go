package proctree

import (
	"bytes"
	"errors"
	"os"
	"strconv"
	"syscall"

	"github.com/pstrace/pstrace/internal/bootclock"
	"github.com/pstrace/pstrace/internal/procfs"
	"github.com/pstrace/pstrace/tracer"
)

// Seed (re)builds the tree from /proc. Open the Tracer first: the events it
// queues meanwhile are then applied on top, and those the scan already saw
// change nothing, so a process that forks, execs or exits during the scan
// is neither lost nor resurrected.
func (t *Tree) Seed() error { return t.seed(false) }

// seed reads /proc. After lost events (repair) it also remembers when it
// listed /proc: see deadBeforeSeed.
func (t *Tree) seed(repair bool) error {
	listNs, err := bootclock.Now()
	if err != nil {
		return err
	}
	pids, err := procfs.ListPIDs(t.proc)
	if err != nil {
		return err
	}
	t.reset()
	t.listNs = 0
	if repair {
		t.listNs = listNs
	}
	t.clock.Sync()
	matches := make(map[int32]cgroupMatch)
	for _, pid := range pids {
		sp, err := t.readProc(pid)
		if errors.Is(err, os.ErrNotExist) || errors.Is(err, syscall.ESRCH) || errors.Is(err, errGone) {
			continue
		}
		if err != nil {
			return err
		}
		i := t.alloc(pid)
		t.nodes[i] = sp.node
		t.nodes[i].args = t.argv.store(sp.args)
		t.byPID[pid] = i
		matches[i] = sp.cgroup
	}
	for _, i := range t.byPID {
		t.linkParent(i)
	}
	t.walkAll(func(i int32) {
		n := &t.nodes[i]
		if n.flags&flagKernel == 0 {
			n.ctr = t.containerOf(i, matches[i])
			n.role = t.seedRole(i)
		}
	})
	if t.root != nil {
		t.prune()
	}
	return nil
}

// errGone marks a process that is dead, or dying, though /proc still lists it.
var errGone = errors.New("process is exiting")

type seededProc struct {
	node   node
	args   []byte
	cgroup cgroupMatch
}

// readProc reads what the tree keeps of one process. A zombie, or a process
// whose one thread is exiting, is gone already: its exit event, if the
// tracer saw it, must not find it.
func (t *Tree) readProc(pid uint32) (seededProc, error) {
	var sp seededProc
	dir := t.proc + "/" + strconv.FormatUint(uint64(pid), 10) + "/"
	readNs, err := bootclock.Now()
	if err != nil {
		return sp, err
	}
	stat, err := os.ReadFile(dir + "stat")
	if err != nil {
		return sp, err
	}
	st, err := procfs.ParseStat(pid, stat)
	if err != nil {
		return sp, err
	}
	if procfs.Dying(stat) {
		return sp, errGone
	}
	status, err := os.ReadFile(dir + "status")
	if err != nil {
		return sp, err
	}
	cmdline, err := os.ReadFile(dir + "cmdline")
	if err != nil {
		return sp, err
	}
	cgroups, err := os.ReadFile(dir + "cgroup")
	if err != nil {
		return sp, err
	}
	n := &sp.node
	*n = node{pid: pid, ppid: st.PPID, parent: none, child: none, next: none, prev: none,
		startNs: st.StartTime * (1e9 / procfs.UserHZ), readNs: readNs}
	n.uid = statusField(status, "Uid:", false)
	n.nsPID = statusField(status, "NSpid:", true)
	n.setComm([]byte(st.Comm))
	sp.args = cmdline
	if st.Kernel {
		n.flags |= flagKernel
	} else if st.Comm == tracer.ShimComm {
		n.flags |= flagShim
	}
	v2, m := procCgroupMatch(cgroups, t.cgroups.view)
	if n.cgroup = t.cgroups.idOf(v2); n.cgroup != 0 {
		if _, ok := t.cgroups.cache[n.cgroup]; !ok {
			t.cgroups.remember(n.cgroup, parseCgroupPath(v2))
		}
	}
	sp.cgroup = m
	return sp, nil
}

// statusField reads the first (or, with last, the last) number of a line of
// /proc/PID/status: the real uid of "Uid:", the innermost pid of "NSpid:".
func statusField(status []byte, name string, last bool) uint32 {
	i := bytes.Index(status, []byte("\n"+name))
	if i < 0 {
		return 0
	}
	line := status[i+1+len(name):]
	if j := bytes.IndexByte(line, '\n'); j >= 0 {
		line = line[:j]
	}
	f := bytes.Fields(line)
	if len(f) == 0 {
		return 0
	}
	pick := f[0]
	if last {
		pick = f[len(f)-1]
	}
	v, _ := strconv.ParseUint(string(pick), 10, 32)
	return uint32(v)
}

// walkAll calls fn for every node, each parent before its children.
func (t *Tree) walkAll(fn func(i int32)) {
	stack := append(t.scratch[:0], t.nodes[rootIndex].child)
	for len(stack) > 0 {
		i := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if i == none {
			continue
		}
		fn(i)
		stack = append(stack, t.nodes[i].next, t.nodes[i].child)
	}
	t.scratch = stack[:0]
}

// prune keeps only the subtrees of the processes opts.Root accepts; their
// roots go to the top of the tree.
func (t *Tree) prune() {
	keep := make(map[int32]bool)
	var mark func(i int32)
	mark = func(i int32) {
		keep[i] = true
		for c := t.nodes[i].child; c != none; c = t.nodes[c].next {
			mark(c)
		}
	}
	for _, i := range t.byPID {
		n := &t.nodes[i]
		if !keep[i] && t.root(n.pid, string(n.commBytes())) {
			mark(i)
		}
	}
	for pid, i := range t.byPID {
		if !keep[i] {
			delete(t.byPID, pid)
			t.forgetExecs(i)
			t.argv.release(t.nodes[i].args)
			t.nodes[i] = node{parent: none, child: none, next: none, prev: none}
			t.free = append(t.free, i)
		}
	}
	t.nodes[rootIndex].child = none
	for _, i := range t.byPID {
		n := &t.nodes[i]
		n.parent, n.child, n.next, n.prev = none, none, none, none
	}
	for _, i := range t.byPID {
		t.linkParent(i)
	}
}
