package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"pstrace/tracer"
)

func treeCommand() *cli.Command {
	return &cli.Command{
		Name:  "tree",
		Usage: "show the live process tree, with the container of every process",
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output `FORMAT`: text (like ps fauxw) or json (one snapshot per line)"},
			&cli.BoolFlag{Name: "once", Usage: "print one snapshot and exit"},
			&cli.DurationFlag{Name: "interval", Value: time.Second, Usage: "redraw at most this often when the tree changes"},
			&cli.BoolFlag{Name: "containers", Usage: "only containerd shims and their descendants"},
			&cli.UintFlag{Name: "pid", Usage: "only this `PID` and its descendants"},
		}, metricsFlags()...),
		OnUsageError: usageError,
		Action:       runTree,
	}
}

type treeConfig struct {
	json, once, containers bool
	pid                    uint32
	interval               time.Duration
}

func parseTreeFlags(c *cli.Context) (treeConfig, error) {
	cfg := treeConfig{once: c.Bool("once"), containers: c.Bool("containers"), interval: c.Duration("interval")}
	switch f := c.String("format"); f {
	case "text":
	case "json":
		cfg.json = true
	default:
		return cfg, fmt.Errorf("--format %q: must be text or json", f)
	}
	if cfg.interval <= 0 {
		return cfg, fmt.Errorf("--interval %v: must be positive", cfg.interval)
	}
	if c.IsSet("pid") {
		if cfg.containers {
			return cfg, errors.New("--pid and --containers cannot be combined")
		}
		pid := c.Uint("pid")
		if pid == 0 || pid > 1<<22 {
			return cfg, fmt.Errorf("--pid %d: not a process id", pid)
		}
		cfg.pid = uint32(pid)
	}
	return cfg, nil
}

func runTree(c *cli.Context) (err error) {
	cfg, err := parseTreeFlags(c)
	if err != nil {
		return err
	}
	opts, err := tracerOptions(c)
	if err != nil {
		return err
	}
	mcfg, err := parseMetricsFlags(c, opts.DrainInterval)
	if err != nil {
		return err
	}
	t, tree, err := openTree(opts, treeScope{containers: cfg.containers, pid: cfg.pid, byPID: cfg.pid != 0})
	if err != nil {
		mcfg.abandon()
		return err
	}
	defer t.Close()
	defer tree.Close()
	msink := mcfg.start(t, tree)
	defer func() { err = errors.Join(err, msink.close()) }()

	out := bufio.NewWriterSize(os.Stdout, 64<<10)
	defer out.Flush()
	view := newTreeView(cfg.json, isTerminal(os.Stdout))
	var (
		ev       tracer.Event
		lastGen  uint64
		lastDraw time.Time
		drawn    bool
	)
	for {
		err := t.Read(c.Context, &ev)
		switch {
		case err == nil:
			if err := tree.Apply(&ev); err != nil {
				return err
			}
			msink.event(&ev)
			continue
		case errors.Is(err, tracer.ErrDrained):
			msink.drain()
		case errors.Is(err, context.Canceled):
			return nil
		default:
			return err
		}
		// Drained: the tree is the kernel's as of now.
		if drawn && ((tree.Gen() == lastGen && !view.marked) || time.Since(lastDraw) < cfg.interval) {
			continue
		}
		lastGen, lastDraw, drawn = tree.Gen(), time.Now(), true
		if _, err := out.Write(view.frame(tree, lastDraw)); err != nil {
			return fmt.Errorf("writing the tree: %w", err)
		}
		if err := out.Flush(); err != nil {
			return fmt.Errorf("writing the tree: %w", err)
		}
		if cfg.once {
			return nil
		}
	}
}

// treeScope is what a tree holds: every process, the containerd shims and
// their descendants, or one process and its descendants.
type treeScope struct {
	containers bool
	byPID      bool
	pid        uint32
}

// openTree opens the tracer, narrows what the kernel sends to the processes
// in scope, and seeds a tree of them from /proc, in that order: events that
// happen during the scan are queued, not missed.
func openTree(opts tracer.Options, scope treeScope) (*tracer.Tracer, *tracer.Tree, error) {
	var treeOpts tracer.TreeOptions
	switch {
	case scope.containers:
		opts.Filter.Follow, opts.Filter.Shims = true, true
		treeOpts.Root = func(_ uint32, comm string) bool { return comm == "containerd-shim" }
	case scope.byPID:
		opts.Filter.Follow = true
		treeOpts.Root = func(p uint32, _ string) bool { return p == scope.pid }
	}
	t, err := tracer.Open(opts)
	if err != nil {
		return nil, nil, err
	}
	switch {
	case scope.containers:
		err = t.FollowShims()
	case scope.byPID:
		err = t.FollowTree(scope.pid)
	}
	if err != nil {
		t.Close()
		return nil, nil, err
	}
	tree := tracer.NewTree(treeOpts)
	if err := tree.Seed(); err != nil {
		tree.Close()
		t.Close()
		return nil, nil, fmt.Errorf("reading the process tree: %w", err)
	}
	return t, tree, nil
}
