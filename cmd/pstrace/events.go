package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/urfave/cli/v2"

	"pstrace/tracer"
)

func eventsCommand() *cli.Command {
	return &cli.Command{
		Name:  "events",
		Usage: "print every process fork, exec and exit as it happens",
		Flags: append(append(tracerFlags(), metricsFlags()...),
			&cli.StringFlag{Name: "format", Value: "text", Usage: "output `FORMAT`: text or json (JSON Lines)"},
			&cli.StringFlag{Name: "types", Value: "fork,exec,exit", Usage: "comma-separated event `TYPES` to print"},
			&cli.StringSliceFlag{Name: "comm", Usage: "only processes with this command `NAME` (repeatable)"},
			&cli.UintFlag{Name: "pid", Usage: "only this `PID` and its descendants"},
		),
		OnUsageError: usageError,
		Action:       runEvents,
	}
}

type eventsConfig struct {
	json  bool
	types map[tracer.Type]bool
}

func parseEventsFlags(c *cli.Context) (eventsConfig, error) {
	var cfg eventsConfig
	if c.Args().Present() {
		return cfg, fmt.Errorf("unexpected argument %q: events takes only flags (see --help)", c.Args().First())
	}
	switch f := c.String("format"); f {
	case "text":
	case "json":
		cfg.json = true
	default:
		return cfg, fmt.Errorf("--format %q: must be text or json", f)
	}
	types, err := parseTypes(c.String("types"))
	if err != nil {
		return cfg, err
	}
	cfg.types = types
	return cfg, nil
}

// parseTypes reads --types; lost events are always shown, never filtered.
func parseTypes(s string) (map[tracer.Type]bool, error) {
	types := map[tracer.Type]bool{tracer.TypeLost: true}
	for _, name := range strings.Split(s, ",") {
		t, ok := tracer.ParseType(strings.TrimSpace(name))
		if !ok || t == tracer.TypeLost {
			return nil, fmt.Errorf("--types: unknown event type %q (want fork, exec or exit)", name)
		}
		types[t] = true
	}
	return types, nil
}

func runEvents(c *cli.Context) (err error) {
	cfg, err := parseEventsFlags(c)
	if err != nil {
		return err
	}
	opts, err := tracerOptions(c)
	if err != nil {
		return err
	}
	opts.Filter.Comms = c.StringSlice("comm")
	pid := uint32(c.Uint("pid"))
	opts.Filter.Follow = c.IsSet("pid")
	mcfg, err := parseMetricsFlags(c, opts.DrainInterval)
	if err != nil {
		return err
	}

	t, tree, err := openTree(opts, treeScope{pid: pid, byPID: opts.Filter.Follow})
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
	text := newTextWriter(useColour(os.Stdout))
	if !cfg.json {
		out.WriteString(textHeader)
	}
	var (
		ev  tracer.Event
		buf []byte
	)
	for {
		err := t.Read(c.Context, &ev)
		switch {
		case err == nil:
		case errors.Is(err, tracer.ErrDrained):
			msink.drain()
			if err := out.Flush(); err != nil {
				return fmt.Errorf("writing events: %w", err)
			}
			continue
		case errors.Is(err, context.Canceled):
			return nil
		default:
			return err
		}
		// The tree names every event's container.
		if err := tree.Apply(&ev); err != nil {
			return err
		}
		msink.event(&ev)
		if !cfg.types[ev.Type] {
			continue
		}
		if cfg.json {
			buf = tracer.AppendJSON(buf[:0], &ev)
		} else {
			buf = text.append(buf[:0], &ev)
		}
		if _, err := out.Write(buf); err != nil {
			return fmt.Errorf("writing events: %w", err)
		}
	}
}
