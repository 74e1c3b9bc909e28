package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pstrace/pstrace/tracer"
)

// drainSetting is one choice of --drain-interval and --wakeup-bytes.
type drainSetting struct {
	Interval    time.Duration
	WakeupBytes int // as the flag takes it: 0 wakes the reader on every event
}

func (d drainSetting) String() string {
	return fmt.Sprintf("--drain-interval %v --wakeup-bytes %d", d.Interval, d.WakeupBytes)
}

// drainResult is the latency of events under one setting, and the CPU
// `pstrace events` spends under it.
type drainResult struct {
	Setting                drainSetting
	Events                 int
	P50, P99, Max          time.Duration
	CPU                    runResult
	PacedRate, PacedSpawns int
}

var drainSettings = []drainSetting{
	{10 * time.Millisecond, tracer.DefaultWakeupBytes},
	{100 * time.Millisecond, tracer.DefaultWakeupBytes},
	{time.Second, tracer.DefaultWakeupBytes},
	{100 * time.Millisecond, 0},
}

// The paced workload: steady, as on a busy host, rather than a storm, so that
// the drain timer rather than the wakeup threshold decides when events are read.
const (
	pacedRate   = 100
	pacedSpawns = 400
)

func (rn *runner) measureDrain(pstrace string) ([]drainResult, error) {
	var out []drainResult
	for _, s := range drainSettings {
		r, err := drainLatency(rn.storm, s)
		if err != nil {
			return nil, fmt.Errorf("%v: %w", s, err)
		}
		tool := tracerTool{
			Name: "pstrace " + s.String(),
			Cmd: []string{pstrace, "--drain-interval", s.Interval.String(), "--wakeup-bytes", fmt.Sprint(s.WakeupBytes),
				"events", "--format", "json"},
			Progs: 4, count: countPstrace,
		}
		if r.CPU, err = rn.runUnder(tool, "-n", fmt.Sprint(pacedSpawns), "-rate", fmt.Sprint(pacedRate)); err != nil {
			return nil, err
		}
		r.PacedRate, r.PacedSpawns = pacedRate, pacedSpawns
		progress("drain %-45s latency p50 %v p99 %v max %v, cpu %.1f ms for %d events",
			s, r.P50, r.P99, r.Max, float64(r.CPU.CPU.Ns)/1e6, r.CPU.Events)
		out = append(out, r)
	}
	return out, nil
}

// drainLatency reads, through the tracer library as `pstrace events` does,
// the events of a paced storm, and measures for each the time from the
// kernel's stamp to its return from Read.
func drainLatency(storm string, s drainSetting) (drainResult, error) {
	res := drainResult{Setting: s}
	g, err := startGated(storm, "-n", fmt.Sprint(pacedSpawns), "-rate", fmt.Sprint(pacedRate))
	if err != nil {
		return res, err
	}
	tr, err := tracer.Open(tracer.Options{DrainInterval: s.Interval, WakeupBytes: s.WakeupBytes, WakeEveryEvent: s.WakeupBytes == 0,
		Scope: tracer.Scope{PID: int(g.PID)}})
	if err != nil {
		g.kill()
		return res, err
	}
	defer tr.Close()
	ctx, cancel := context.WithCancel(context.Background())
	var (
		wg      sync.WaitGroup
		lat     []float64
		readErr error
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		readErr = tr.Run(ctx, func(ev *tracer.Event) error {
			if ev.Type != tracer.TypeLost {
				lat = append(lat, float64(bootNow()-int64(ev.BootNs)))
			}
			return nil
		}, nil)
	}()
	err = g.release()
	if err == nil {
		_, err = g.wait()
	}
	// Long enough for the slowest setting to drain what is left.
	time.Sleep(2*s.Interval + settle)
	cancel()
	wg.Wait()
	if err := errors.Join(err, readErr); err != nil {
		return res, err
	}
	sort.Float64s(lat)
	res.Events = len(lat)
	res.P50 = time.Duration(percentile(lat, 50))
	res.P99 = time.Duration(percentile(lat, 99))
	res.Max = time.Duration(percentile(lat, 100))
	return res, nil
}

func bootNow() int64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts)
	return ts.Nano()
}
