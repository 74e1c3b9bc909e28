package main

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/urfave/cli/v2"

	"github.com/pstrace/pstrace/internal/metrics"
	"github.com/pstrace/pstrace/internal/otlp"
	"github.com/pstrace/pstrace/internal/version"
	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/session"
	"github.com/pstrace/pstrace/tracer"
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

// exportConfig is the export flags, checked; nil without --otlp-endpoint.
type exportConfig struct {
	cfg      otlp.Config
	interval time.Duration // the drain interval, the most an event is held for names
}

// parseExport reads the export flags, before anything is loaded.
func parseExport(c *cli.Context) (*exportConfig, error) {
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
	cfg := otlp.Config{QueueSize: c.Int("otlp-queue-size"), Version: version.Get(tracer.ObjectHash()).Version}
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
	return &exportConfig{cfg, drainInterval(c)}, nil
}

// with returns sinks and, when export is on, the export sink after them,
// its events held for the engines' names as stdout's are. The metrics
// sink, if any, is among sinks already: the export reports through it.
func (x *exportConfig) with(ss *session.Session, names *engineNames, m *metricsConfig, sinks []sink) ([]sink, error) {
	if x == nil {
		return sinks, nil
	}
	e, err := otlp.New(x.cfg)
	if err != nil {
		return sinks, fmt.Errorf("--otlp-endpoint: %w", err)
	}
	s := &exportSink{x: e, tree: ss.Tree()}
	if mx := m.exportMetrics(); mx != nil {
		s.metrics = mx
		mx.QueueCapacity.Set(float64(e.Stats().Capacity))
		for r := range s.dropped {
			s.dropped[r] = mx.Dropped.WithLabelValues(otlp.DropReason(r).String())
		}
	}
	return append(sinks, holdForNames(names, s.tree, s, x.interval)), nil
}

// exportSink queues every event for export, and passes the exporter's
// counts on to the metrics at each drain.
type exportSink struct {
	x       *otlp.Exporter
	tree    *proctree.Tree  // says each event's role
	metrics *metrics.Export // nil without --metrics-addr
	dropped [otlp.NumDropReasons]prometheus.Counter
	// What the metrics have been told.
	sent uint64
	by   [otlp.NumDropReasons]uint64
}

func (s *exportSink) event(ev *tracer.Event, ctr *proctree.Container) error {
	return s.eventAs(ev, ctr, s.tree.LastRole())
}

// eventAs queues ev, whose process had role; it never blocks.
func (s *exportSink) eventAs(ev *tracer.Event, ctr *proctree.Container, role proctree.Role) error {
	s.x.Enqueue(ev, ctr, role)
	return nil
}

func (s *exportSink) drain() error {
	s.x.Drain()
	s.report()
	return nil
}

// close flushes what is queued, for a bounded time; the exporter says on
// stderr what it could not send.
func (s *exportSink) close() error {
	s.x.Close()
	s.report()
	return nil
}

func (s *exportSink) report() {
	if s.metrics == nil {
		return
	}
	st := s.x.Stats()
	s.metrics.QueueLength.Set(float64(st.Queued.Load()))
	sent := st.Sent.Load()
	s.metrics.Sent.Add(float64(sent - s.sent))
	s.sent = sent
	for r := range s.by {
		n := st.DroppedBy[r].Load()
		s.dropped[r].Add(float64(n - s.by[r]))
		s.by[r] = n
	}
}
