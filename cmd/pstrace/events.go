package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/render"
	"github.com/pstrace/pstrace/session"
	"github.com/pstrace/pstrace/tracer"
)

func eventsCommand() *cli.Command {
	flags := append(append(append(tracerFlags(), scopeFlags()...), engineFlags()...), containerFlags()...)
	return &cli.Command{
		Name:  "events",
		Usage: "print every process fork, exec and exit as it happens",
		Flags: append(append(flags, outputFlags()...),
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output `FORMAT`: text or json (JSON Lines)"},
			&cli.StringFlag{Name: "types", Value: "fork,exec,exit", Usage: "comma-separated event `TYPES` to print (fork, exec, exit, rename)"},
			&cli.StringSliceFlag{Name: "comm", Usage: "only processes with this command `NAME` (repeatable)"},
		),
		OnUsageError: usageError,
		Action:       runEvents,
	}
}

// eventWriter is the events command's stdout: every event of the chosen
// types, as text or JSON Lines, flushed at each drain.
type eventWriter struct {
	out   *bufio.Writer
	json  bool
	text  render.EventText
	types map[tracer.Type]bool
	tree  *proctree.Tree
	only  *containerFilter // nil: every container
	buf   []byte
}

func newEventWriter(c *cli.Context) (*eventWriter, error) {
	if c.Args().Present() {
		return nil, fmt.Errorf("unexpected argument %q: events takes only flags (see --help)", c.Args().First())
	}
	w := &eventWriter{out: bufio.NewWriterSize(os.Stdout, 64<<10), text: render.EventText{Colour: useColour(os.Stdout)}}
	switch f := c.String("format"); f {
	case "text":
	case "json":
		w.json = true
	default:
		return nil, fmt.Errorf("--format %q: must be text or json", f)
	}
	types, err := parseTypes(c.String("types"))
	if err != nil {
		return nil, err
	}
	w.types = types
	if w.only, err = newContainerFilter(c); err != nil {
		return nil, err
	}
	return w, nil
}

// parseTypes reads --types; lost events are always shown, never filtered.
func parseTypes(s string) (map[tracer.Type]bool, error) {
	types := map[tracer.Type]bool{tracer.TypeLost: true}
	for _, name := range strings.Split(s, ",") {
		t, ok := tracer.ParseType(strings.TrimSpace(name))
		if !ok || t == tracer.TypeLost {
			return nil, fmt.Errorf("--types: unknown event type %q (want fork, exec, exit or rename)", name)
		}
		types[t] = true
	}
	return types, nil
}

func (w *eventWriter) header() error {
	if w.json {
		return nil
	}
	if _, err := w.out.WriteString(render.EventTextHeader); err != nil {
		return writeErr("events", err)
	}
	return nil
}

func (w *eventWriter) event(ev *tracer.Event, ctr *proctree.Container) error {
	return w.eventAs(ev, ctr, w.tree.LastRole())
}

// eventAs writes ev, whose process had role.
func (w *eventWriter) eventAs(ev *tracer.Event, ctr *proctree.Container, role proctree.Role) error {
	if !w.types[ev.Type] || (ev.Type != tracer.TypeLost && !w.only.keeps(ctr, role)) {
		return nil
	}
	if w.json {
		w.buf = render.AppendEventRoleJSON(w.buf[:0], ev, ctr, role)
	} else {
		w.buf = w.text.AppendRole(w.buf[:0], ev, ctr, role)
	}
	if _, err := w.out.Write(w.buf); err != nil {
		return writeErr("events", err)
	}
	return nil
}

func (w *eventWriter) drain() error {
	if err := w.out.Flush(); err != nil {
		return writeErr("events", err)
	}
	return nil
}

func (w *eventWriter) close() error { return w.drain() }

func runEvents(c *cli.Context) error {
	w, err := newEventWriter(c)
	if err != nil {
		return err
	}
	scope, err := scopeOf(c)
	if err != nil {
		return err
	}
	scope.Comms = c.StringSlice("comm")
	o, err := parseOutputs(c)
	if err != nil {
		return err
	}
	defer o.abandon()
	return runCommand(c, scope, func(s *session.Session) ([]sink, error) {
		w.tree = s.Tree()
		if err := w.only.checkUnique(w.tree); err != nil {
			return nil, err
		}
		sinks, err := o.sinks(c, s, func(names *engineNames) sink {
			return holdForNames(names, w.tree, w, drainInterval(c))
		})
		if err == nil && o.stdout {
			err = w.header()
		}
		return sinks, err
	})
}
