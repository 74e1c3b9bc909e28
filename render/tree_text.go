package render

import (
	"strconv"
	"time"

	"github.com/pstrace/pstrace/proctree"
)

// TreeView renders snapshots of the tree: JSON Lines, or text like
// ps fauxw. On a terminal each frame replaces the last, new processes are
// highlighted and those gone since the last frame are shown struck through,
// once; elsewhere frames follow one another, separated by a line.
type TreeView struct {
	// Keep, when set, chooses the processes shown; their depth then counts
	// the processes shown above them.
	Keep func(p *proctree.Process) bool
	// Width, when positive, cuts text lines to that many columns.
	Width     int
	json, tty bool
	users     *userNames
	buf       []byte
	frames    int
	prev      []treeRow
	// marked tells that the last frame marked changes: the next one, even
	// of an unchanged tree, clears the marks.
	marked bool
}

// treeRow is one process's line, kept to mark what changed by the next frame.
type treeRow struct {
	key  procKey
	line []byte // without colour
}

// procKey tells processes apart across pid reuse.
type procKey struct {
	pid   uint32
	start uint64
}

const (
	treeHeader    = "    PID USER     CONTAINER                COMMAND\n"
	treeSeparator = "---\n"
	ansiClear     = "\x1b[H\x1b[2J"
	ansiNew       = "\x1b[1;32m"
	ansiGone      = "\x1b[2;9m"
	containerCol  = 24
)

// NewTreeView renders JSON Lines, or text; tty tells that the text goes to
// a terminal, where frames replace one another.
func NewTreeView(json, tty bool) *TreeView {
	return &TreeView{json: json, tty: tty, users: newUserNames("/etc/passwd")}
}

// Frame renders the tree as of now.
func (v *TreeView) Frame(tree *proctree.Tree, now time.Time) []byte {
	v.frames++
	if v.json {
		v.buf = appendTreeJSON(v.buf[:0], tree, now, v.Keep)
		return v.buf
	}
	var rows []treeRow
	containers := map[proctree.Container]bool{}
	walkShown(tree, v.Keep, func(p *proctree.Process) {
		rows = append(rows, treeRow{procKey{p.PID, p.StartNs}, cutLine(v.appendRow(nil, p), v.Width)})
		if c := p.Container; c != nil {
			containers[proctree.Container{ID: c.ID, Namespace: c.Namespace}] = true
		}
	})
	dst := v.buf[:0]
	switch {
	case v.tty:
		dst = append(dst, ansiClear...)
	case v.frames > 1:
		dst = append(dst, treeSeparator...)
	}
	dst = append(dst, cutLine(appendSummary(nil, tree, len(rows), len(containers)), v.Width)...)
	dst = append(dst, cutLine([]byte(treeHeader), v.Width)...)
	v.marked = false
	if v.tty && v.frames > 1 {
		dst = v.appendChanges(dst, rows)
	} else {
		for _, r := range rows {
			dst = append(dst, r.line...)
		}
	}
	v.prev = rows
	v.buf = dst
	return dst
}

// appendSummary writes the frame's first line: how many processes and
// containers it shows, and the events lost, if any.
func appendSummary(dst []byte, tree *proctree.Tree, procs, containers int) []byte {
	dst = appendCount(dst, procs, "process", "processes")
	dst = append(dst, ", "...)
	dst = appendCount(dst, containers, "container", "containers")
	if lost := tree.Lost(); lost > 0 {
		dst = append(dst, ", "...)
		dst = appendCount(dst, int(lost), "event lost", "events lost")
		dst = append(dst, " (the tree was read again from /proc "...)
		dst = appendCount(dst, int(tree.Repairs()), "time", "times")
		dst = append(dst, ')')
	}
	return append(dst, '\n')
}

func appendCount(dst []byte, n int, one, many string) []byte {
	dst = strconv.AppendInt(dst, int64(n), 10)
	dst = append(dst, ' ')
	if n == 1 {
		return append(dst, one...)
	}
	return append(dst, many...)
}

// walkShown calls fn for each process keep accepts (every one when keep
// is nil), in Walk's order, its depth counted among the processes shown.
func walkShown(t *proctree.Tree, keep func(*proctree.Process) bool, fn func(*proctree.Process)) {
	if keep == nil {
		t.Walk(fn)
		return
	}
	var shown []int // Walk's depths of the shown ancestors of the process
	t.Walk(func(p *proctree.Process) {
		for len(shown) > 0 && shown[len(shown)-1] >= p.Depth {
			shown = shown[:len(shown)-1]
		}
		if !keep(p) {
			return
		}
		depth := p.Depth
		p.Depth = len(shown)
		shown = append(shown, depth)
		fn(p)
	})
}

// appendChanges writes rows with new processes highlighted, and each
// process gone since the last frame struck through below the row that
// preceded it then.
func (v *TreeView) appendChanges(dst []byte, rows []treeRow) []byte {
	now := make(map[procKey]bool, len(rows))
	for _, r := range rows {
		now[r.key] = true
	}
	was := make(map[procKey]bool, len(v.prev))
	gone := map[procKey][]treeRow{} // by the last row still there before them
	var anchor procKey
	for _, r := range v.prev {
		was[r.key] = true
		if now[r.key] {
			anchor = r.key
		} else {
			gone[anchor] = append(gone[anchor], r)
		}
	}
	appendGone := func(dst []byte, k procKey) []byte {
		for _, r := range gone[k] {
			dst = append(dst, ansiGone...)
			dst = append(dst, r.line[:len(r.line)-1]...)
			dst = append(dst, ansiReset+"\n"...)
		}
		return dst
	}
	v.marked = len(gone) > 0
	dst = appendGone(dst, procKey{})
	for _, r := range rows {
		if was[r.key] {
			dst = append(dst, r.line...)
		} else {
			v.marked = true
			dst = append(dst, ansiNew...)
			dst = append(dst, r.line[:len(r.line)-1]...)
			dst = append(dst, ansiReset+"\n"...)
		}
		dst = appendGone(dst, r.key)
	}
	return dst
}

// appendRow writes PID USER CONTAINER and the command line, indented under
// its parent the way ps f does.
func (v *TreeView) appendRow(dst []byte, p *proctree.Process) []byte {
	dst = appendRight(dst, strconv.FormatUint(uint64(p.PID), 10), 7)
	dst = append(dst, ' ')
	dst = appendPadded(dst, v.users.name(p.UID), 8)
	dst = append(dst, ' ')
	start := len(dst)
	switch {
	case p.ShimOf != nil:
		dst = append(dst, "<shim> "...)
		dst = appendContainer(dst, p.ShimOf)
	case p.Container != nil:
		dst = appendContainer(dst, p.Container)
	}
	for len(dst)-start < containerCol {
		dst = append(dst, ' ')
	}
	dst = append(dst, ' ')
	if p.Depth > 0 {
		for d := 1; d < p.Depth; d++ {
			dst = append(dst, "    "...)
		}
		dst = append(dst, ` \_ `...)
	}
	dst = appendExecChain(dst, p)
	if len(p.Args) == 0 {
		dst = append(dst, '[')
		dst = appendEscaped(dst, p.Comm)
		dst = append(dst, ']')
	} else {
		first := true
		p.EachArg(func(a []byte) {
			if !first {
				dst = append(dst, ' ')
			}
			first = false
			dst = appendEscaped(dst, a)
		})
	}
	return append(dst, '\n')
}

func appendContainer(dst []byte, c *proctree.Container) []byte {
	dst = appendEscaped(dst, []byte(containerLabel(c)))
	dst = append(dst, ' ')
	return appendEscaped(dst, []byte(c.Namespace))
}

// Marked tells that the last frame marked changes, so the next one must be
// drawn even if the tree did not change: it clears the marks.
func (v *TreeView) Marked() bool { return v.marked }
