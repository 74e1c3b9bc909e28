package main

import (
	"fmt"
	"strings"

	"github.com/pstrace/pstrace/session"
	"github.com/urfave/cli/v2"
)

// outputFlags choose where a command's events go: stdout (or not, for an
// agent that only serves metrics), and the other outputs' own flags.
func outputFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "output", Value: "stdout", Usage: "`WHERE` the command writes: stdout, or none (with --metrics-addr or --otlp-endpoint: an agent that only serves metrics or exports)"},
	}, append(metricsFlags(), exportFlags()...)...)
}

// otherOutputs are the flags of outputs other than stdout: --output none
// needs one of them, or pstrace would trace for no one.
var otherOutputs = []string{"metrics-addr", "otlp-endpoint"}

// toStdout reads --output.
func toStdout(c *cli.Context) (bool, error) {
	switch o := c.String("output"); o {
	case "stdout":
		return true, nil
	case "none":
		for _, f := range otherOutputs {
			if c.String(f) != "" {
				return false, nil
			}
		}
		return false, fmt.Errorf("--output none: nothing else would be written either (add --%s)", strings.Join(otherOutputs, " or --"))
	default:
		return false, fmt.Errorf("--output %q: must be stdout or none", o)
	}
}

// outputs are what a command writes besides its own view of the events:
// the engines' names (first, so that every other sink sees them), the
// metrics and the export. They are read, and the metrics port bound, before
// the BPF programs load, so a bad flag or a port in use costs nothing.
type outputs struct {
	stdout  bool
	export  *exportConfig
	metrics *metricsConfig
}

func parseOutputs(c *cli.Context) (*outputs, error) {
	stdout, err := toStdout(c)
	if err != nil {
		return nil, err
	}
	x, err := parseExport(c)
	if err != nil {
		return nil, err
	}
	m, err := listenMetrics(c)
	if err != nil {
		return nil, err
	}
	return &outputs{stdout: stdout, export: x, metrics: m}, nil
}

// sinks are a session's sinks: view (the command's stdout, given the names
// it waits for) unless --output none, with the names, metrics and export.
func (o *outputs) sinks(c *cli.Context, s *session.Session, view func(names *engineNames) sink) ([]sink, error) {
	names := newEngineNames(c)
	var own []sink
	if o.stdout {
		own = append(own, view(names))
	}
	return o.export.with(s, names, o.metrics, namedSinks(names, o.metrics.with(s, own...)...))
}

// abandon releases the metrics port when the session never started.
func (o *outputs) abandon() { o.metrics.abandon() }
