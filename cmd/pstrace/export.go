package main

import (
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	"github.com/urfave/cli/v2"

	"pstrace/internal/otlp"
	"pstrace/tracer"
)

// exportFlags turn on OTLP export, on the commands that trace.
func exportFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "otlp-endpoint", Usage: "also send every event as an OpenTelemetry log record to `URL`: grpc://HOST:PORT, or http(s)://HOST:PORT[/PATH]"},
		&cli.StringFlag{Name: "otlp-protocol", Usage: "`PROTOCOL` of an http(s):// endpoint: http/protobuf (default) or grpc"},
		&cli.StringFlag{Name: "otlp-ca", Usage: "PEM `FILE` of the CAs that an https:// receiver's certificate must chain to (default: the system's)"},
		&cli.GenericFlag{Name: "otlp-header", Value: &headerFlag{}, Usage: "`KEY=VALUE` header sent with every export, e.g. \"Authorization=Bearer TOKEN\" (repeatable)"},
		&cli.IntFlag{Name: "otlp-queue-size", Value: otlp.DefaultQueueSize, Usage: "`RECORDS` waiting to be sent beyond which new ones are dropped (and counted)"},
	}
}

// headerFlag collects --otlp-header values; unlike a string slice flag it
// does not split them at commas.
type headerFlag struct{ values []string }

func (h *headerFlag) Set(v string) error {
	h.values = append(h.values, v)
	return nil
}

func (h *headerFlag) String() string { return strings.Join(h.values, ", ") }

// exporter is the OTLP export of one command's events; a nil one exports
// nothing.
type exporter struct{ x *otlp.Exporter }

// openExporter reads the export flags and starts the exporter, or returns
// nil without --otlp-endpoint.
func openExporter(c *cli.Context) (*exporter, error) {
	var headers []string
	if h, ok := c.Generic("otlp-header").(*headerFlag); ok {
		headers = h.values
	}
	endpoint := c.String("otlp-endpoint")
	if endpoint == "" {
		for _, name := range []string{"otlp-protocol", "otlp-ca", "otlp-header", "otlp-queue-size"} {
			if c.IsSet(name) {
				return nil, fmt.Errorf("--%s needs --otlp-endpoint", name)
			}
		}
		return nil, nil
	}
	cfg := otlp.Config{QueueSize: c.Int("otlp-queue-size"), Version: version()}
	var err error
	if cfg.Target, err = otlp.ParseEndpoint(endpoint, c.String("otlp-protocol")); err != nil {
		return nil, fmt.Errorf("--otlp-endpoint %q: %w", endpoint, err)
	}
	if ca := c.String("otlp-ca"); ca != "" {
		if !cfg.Target.TLS {
			return nil, errors.New("--otlp-ca needs an https:// endpoint")
		}
		if cfg.RootCAs, err = otlp.LoadCA(ca); err != nil {
			return nil, fmt.Errorf("--otlp-ca %s: %w", ca, err)
		}
	}
	for _, h := range headers {
		k, v, err := otlp.ParseHeader(h)
		if err != nil {
			return nil, fmt.Errorf("--otlp-header %q: %w", h, err)
		}
		if cfg.Headers == nil {
			cfg.Headers = map[string]string{}
		}
		cfg.Headers[k] = v
	}
	if cfg.QueueSize < 1 {
		return nil, fmt.Errorf("--otlp-queue-size %d: must be at least 1", cfg.QueueSize)
	}
	x, err := otlp.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("--otlp-endpoint %q: %w", endpoint, err)
	}
	return &exporter{x}, nil
}

// event queues ev for export; it never blocks.
func (e *exporter) event(ev *tracer.Event) {
	if e != nil {
		e.x.Enqueue(ev, ev.Container)
	}
}

// drain sends a batch that has waited long enough; once per drain interval.
func (e *exporter) drain() {
	if e != nil {
		e.x.Drain()
	}
}

// close flushes what is queued, for a bounded time.
func (e *exporter) close() {
	if e != nil {
		e.x.Close()
	}
}

// version is pstrace's module version, else its VCS revision, else devel.
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	for _, s := range bi.Settings {
		if s.Key == "vcs.revision" && len(s.Value) >= 12 {
			return s.Value[:12]
		}
	}
	return "devel"
}
