package main

import (
	"fmt"
	"net"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pstrace/pstrace/internal/metrics"
	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/session"
	"github.com/pstrace/pstrace/tracer"
)

// metricsFlags serve Prometheus metrics alongside any output.
func metricsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "metrics-addr", Usage: "serve Prometheus /metrics and /healthz on `ADDR` (host:port, e.g. 127.0.0.1:9469)"},
		&cli.IntFlag{Name: "metrics-max-containers", Value: metrics.DefaultMaxContainers,
			Usage: "most containers with series of their own; the rest are counted in container=\"other\""},
		&cli.DurationFlag{Name: "metrics-container-ttl", Value: metrics.DefaultContainerTTL,
			Usage: "how long a container's series stay after it was last seen live"},
	}
}

// metricsConfig is the metrics flags, checked, with the port bound: a bad
// address or a port in use fails before the BPF programs load.
type metricsConfig struct {
	opts    metrics.Options
	ln      net.Listener
	started bool
	m       *metrics.Metrics // once with has made it
}

// listenMetrics reads the metrics flags and binds the port; nil without
// --metrics-addr.
func listenMetrics(c *cli.Context) (*metricsConfig, error) {
	addr := c.String("metrics-addr")
	if addr == "" {
		return nil, nil
	}
	cfg := &metricsConfig{opts: metrics.Options{
		MaxContainers: c.Int("metrics-max-containers"),
		ContainerTTL:  c.Duration("metrics-container-ttl"),
		DrainInterval: setIn(c, "drain-interval").Duration("drain-interval"),
	}}
	if cfg.opts.MaxContainers < 1 {
		return nil, fmt.Errorf("--metrics-max-containers %d: must be at least 1", cfg.opts.MaxContainers)
	}
	if cfg.opts.ContainerTTL < time.Second {
		return nil, fmt.Errorf("--metrics-container-ttl %v: must be at least 1s", cfg.opts.ContainerTTL)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("--metrics-addr %s: %w", addr, err)
	}
	cfg.ln = ln
	return cfg, nil
}

// with returns the command's sinks, preceded by the metrics sink of the
// session when metrics are on.
func (cfg *metricsConfig) with(s *session.Session, sinks ...sink) []sink {
	if cfg == nil {
		return sinks
	}
	m := metrics.New(cfg.opts, s.Tracer(), s.Tree())
	m.SetAttached(true)
	cfg.started, cfg.m = true, m
	return append([]sink{&metricsSink{m: m, srv: m.Serve(cfg.ln)}}, sinks...)
}

// exportMetrics are the metrics an exporter reports through, once with has
// made the session's; nil without --metrics-addr.
func (cfg *metricsConfig) exportMetrics() *metrics.Export {
	if cfg == nil || cfg.m == nil {
		return nil
	}
	return cfg.m.Export()
}

// abandon releases the port when the session never started.
func (cfg *metricsConfig) abandon() {
	if cfg != nil && !cfg.started {
		cfg.ln.Close()
	}
}

// metricsSink counts every event for /metrics and keeps /healthz current.
type metricsSink struct {
	m   *metrics.Metrics
	srv *metrics.Server
}

func (s *metricsSink) event(ev *tracer.Event, ctr *proctree.Container) error {
	s.m.Event(ev, ctr)
	return nil
}

func (s *metricsSink) drain() error {
	s.m.Drain(time.Now())
	return nil
}

// close reports the programs detached, as they are about to be, and stops serving.
func (s *metricsSink) close() error {
	s.m.SetAttached(false)
	return s.srv.Close()
}
