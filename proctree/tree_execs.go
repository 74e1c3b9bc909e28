package proctree

import (
	"time"

	"github.com/pstrace/pstrace/tracer"
)

// Bounds of the exec history. A process keeps its last maxExecs execs; the
// tree keeps at most maxHistory execs that are not a process's latest,
// each with at most maxHistoryArgs bytes of argv. The latest exec shares
// its record with the process's argv, so a process that exec'd once costs
// one entry (16 bytes) and its path.
const (
	maxExecs       = 8
	maxHistory     = 16384
	maxHistoryArgs = 1024
)

// execTable holds every process's exec history: per process a list of
// entries, oldest first, linked by index. Entries are recycled, and their
// records are argTable buffers, recycled by size class: an exec allocates
// nothing once the tree is warm.
type execTable struct {
	entries []execEntry // entries[noExecs] is never used
	free    []int32
	chains  int // processes with at least one entry
}

type execEntry struct {
	bootNs uint64
	rec    argRef // filename and argv (see argTable.storeExec)
	next   int32  // the next newer exec, or noExecs
}

const noExecs = 0

func (x *execTable) reset() {
	x.entries = append(x.entries[:0], execEntry{})
	x.free = x.free[:0]
	x.chains = 0
}

func (x *execTable) alloc(e execEntry) int32 {
	if k := len(x.free); k > 0 {
		i := x.free[k-1]
		x.free = x.free[:k-1]
		x.entries[i] = e
		return i
	}
	if len(x.entries) == 0 {
		x.entries = append(x.entries, execEntry{})
	}
	x.entries = append(x.entries, e)
	return int32(len(x.entries) - 1)
}

func (x *execTable) history() int { return len(x.entries) - 1 - len(x.free) - x.chains }

// recordExec stores node i's exec: its argv becomes the exec's record,
// which the history keeps too.
func (t *Tree) recordExec(i int32, ev *tracer.Event) {
	x := &t.execs
	n := &t.nodes[i]
	old := n.args
	n.args = t.argv.storeExec(ev.Filename, ev.Args, ev.ArgsTruncated)
	t.argv.release(old)
	if n.execs == noExecs {
		x.chains++
		n.execs = x.alloc(execEntry{bootNs: ev.BootNs, rec: t.argv.retain(n.args), next: noExecs})
		return
	}
	count, last := 1, n.execs
	for x.entries[last].next != noExecs {
		last = x.entries[last].next
		count++
	}
	// The latest so far becomes history: past the tree's bound, or the
	// process's, its oldest goes.
	if count >= maxExecs || x.history() >= maxHistory {
		t.dropOldestExec(i)
		if n.execs == noExecs {
			last = noExecs
		}
	}
	if last != noExecs {
		x.entries[last].rec = t.argv.shrink(x.entries[last].rec, maxHistoryArgs)
	}
	e := x.alloc(execEntry{bootNs: ev.BootNs, rec: t.argv.retain(n.args), next: noExecs})
	if last == noExecs {
		n.execs = e
		x.chains++
	} else {
		x.entries[last].next = e
	}
}

func (t *Tree) dropOldestExec(i int32) {
	x := &t.execs
	n := &t.nodes[i]
	e := n.execs
	n.execs = x.entries[e].next
	n.execsDropped++
	t.argv.release(x.entries[e].rec)
	x.free = append(x.free, e)
	if n.execs == noExecs {
		x.chains--
	}
}

// forgetExecs drops node i's history, as it exits.
func (t *Tree) forgetExecs(i int32) {
	for t.nodes[i].execs != noExecs {
		t.dropOldestExec(i)
	}
}

// Exec is one exec of a process, as its history keeps it.
type Exec struct {
	Time     time.Time // wall clock
	BootNs   uint64
	Filename []byte
	// Args is the NUL-terminated argv; ArgsTruncated tells that the kernel
	// cut it, or that the history kept only its first bytes.
	Args          []byte
	ArgsTruncated bool
}

// EachExec calls fn with each exec the process was seen to make since
// pstrace started, oldest first, at most the last eight (ExecsDropped
// counts the others). Its byte slices belong to the tree.
func (p *Process) EachExec(fn func(e *Exec)) {
	var e Exec
	for k := p.execs; k != noExecs; k = p.tree.execs.entries[k].next {
		entry := &p.tree.execs.entries[k]
		b := &p.tree.argv.bufs[entry.rec]
		e = Exec{Time: p.tree.clock.Wall(entry.bootNs), BootNs: entry.bootNs,
			Filename: p.tree.argv.filename(entry.rec), Args: p.tree.argv.get(entry.rec), ArgsTruncated: b.truncated}
		fn(&e)
	}
}
