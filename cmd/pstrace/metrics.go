package main

import (
	"fmt"
	"net"
	"time"

	"github.com/urfave/cli/v2"

	"pstrace/internal/metrics"
	"pstrace/tracer"
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
	opts metrics.Options
	ln   net.Listener
}

func parseMetricsFlags(c *cli.Context, drain time.Duration) (*metricsConfig, error) {
	addr := c.String("metrics-addr")
	if addr == "" {
		return nil, nil
	}
	cfg := &metricsConfig{opts: metrics.Options{
		MaxContainers: c.Int("metrics-max-containers"),
		ContainerTTL:  c.Duration("metrics-container-ttl"),
		DrainInterval: drain,
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

// metricsSink counts every event the tree has applied. A nil sink (no
// --metrics-addr) does nothing.
type metricsSink struct {
	m   *metrics.Metrics
	srv *metrics.Server
}

// start serves the metrics of an open tracer and its tree.
func (cfg *metricsConfig) start(t *tracer.Tracer, tree *tracer.Tree) *metricsSink {
	if cfg == nil {
		return nil
	}
	m := metrics.New(cfg.opts, t, tree)
	m.SetAttached(true)
	return &metricsSink{m: m, srv: m.Serve(cfg.ln)}
}

// abandon releases the port when the tracer could not be opened.
func (cfg *metricsConfig) abandon() {
	if cfg != nil {
		cfg.ln.Close()
	}
}

func (s *metricsSink) event(ev *tracer.Event) {
	if s != nil {
		s.m.Event(ev, ev.Container)
	}
}

func (s *metricsSink) drain() {
	if s != nil {
		s.m.Drain(time.Now())
	}
}

// close reports the programs detached, as they are about to be, and stops serving.
func (s *metricsSink) close() error {
	if s == nil {
		return nil
	}
	s.m.SetAttached(false)
	return s.srv.Close()
}
