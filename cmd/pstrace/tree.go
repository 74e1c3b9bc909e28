package main

import (
	"bufio"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/render"
	"github.com/pstrace/pstrace/session"
	"github.com/pstrace/pstrace/tracer"
)

func treeCommand() *cli.Command {
	flags := append(append(append(tracerFlags(), scopeFlags()...), engineFlags()...), containerFlags()...)
	return &cli.Command{
		Name:  "tree",
		Usage: "show the live process tree, with the container of every process",
		Flags: append(append(flags, outputFlags()...),
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output `FORMAT`: text (like ps fauxw) or json (one snapshot per line)"},
			&cli.BoolFlag{Name: "once", Usage: "print one snapshot and exit"},
			&cli.DurationFlag{Name: "interval", Value: time.Second, Usage: "redraw at most this often when the tree changes"},
			wideFlag(),
		),
		OnUsageError: usageError,
		Action:       runTree,
	}
}

// treeWriter is the tree command's stdout: a frame whenever the tree has
// changed, at most every interval, drawn once the events are drained.
type treeWriter struct {
	out      *bufio.Writer
	tree     *proctree.Tree
	view     *render.TreeView
	once     bool
	interval time.Duration
	lastGen  uint64
	lastDraw time.Time
	drawn    bool
	names    *engineNames // nil with --no-engine
	waited   int          // drains the first frame waited for names
	only     *containerFilter
	wide     bool
}

func newTreeWriter(c *cli.Context) (*treeWriter, error) {
	if c.Args().Present() {
		return nil, fmt.Errorf("unexpected argument %q: tree takes only flags (see --help)", c.Args().First())
	}
	w := &treeWriter{out: bufio.NewWriterSize(os.Stdout, 64<<10), once: c.Bool("once"), interval: c.Duration("interval")}
	var json bool
	switch f := c.String("format"); f {
	case "text":
	case "json":
		json = true
	default:
		return nil, fmt.Errorf("--format %q: must be text or json", f)
	}
	if w.interval <= 0 {
		return nil, fmt.Errorf("--interval %v: must be positive", w.interval)
	}
	w.view = render.NewTreeView(json, isTerminal(os.Stdout))
	w.wide = c.Bool("wide")
	only, err := newContainerFilter(c)
	if only != nil {
		w.only = only
		w.view.Keep = func(p *proctree.Process) bool { return only.keeps(p.Container, p.Role) }
	}
	return w, err
}

func (w *treeWriter) event(*tracer.Event, *proctree.Container) error { return nil }

// drain draws: the tree is the kernel's as of now.
func (w *treeWriter) drain() error {
	renamed := w.names != nil && w.names.changed
	if w.drawn && ((w.tree.Gen() == w.lastGen && !w.view.Marked() && !renamed) || time.Since(w.lastDraw) < w.interval) {
		return nil
	}
	// The first frame waits up to two drains for the names it lacks.
	if w.names.nameTree(w.tree, !w.drawn) > 0 && !w.drawn && w.waited < 2 {
		w.waited++
		return nil
	}
	w.lastGen, w.lastDraw, w.drawn = w.tree.Gen(), time.Now(), true
	w.view.Width = lineWidth(os.Stdout, w.wide)
	if _, err := w.out.Write(w.view.Frame(w.tree, w.lastDraw)); err != nil {
		return writeErr("the tree", err)
	}
	if err := w.out.Flush(); err != nil {
		return writeErr("the tree", err)
	}
	if w.once {
		return errDone
	}
	return nil
}

func (w *treeWriter) close() error { return nil }

func runTree(c *cli.Context) error {
	w, err := newTreeWriter(c)
	if err != nil {
		return err
	}
	scope, err := scopeOf(c)
	if err != nil {
		return err
	}
	o, err := parseOutputs(c)
	if err != nil {
		return err
	}
	defer o.abandon()
	if !o.stdout && w.once {
		return fmt.Errorf("--once prints a snapshot: it cannot be combined with --output none")
	}
	return runCommand(c, scope, func(s *session.Session) ([]sink, error) {
		if err := w.only.checkUnique(s.Tree()); err != nil {
			return nil, err
		}
		w.tree = s.Tree()
		return o.sinks(c, s, func(names *engineNames) sink {
			w.names = names
			return w
		})
	})
}
