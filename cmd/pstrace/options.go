package main

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"pstrace/tracer"
)

// globalFlags come before the command: `pstrace --btf FILE events`.
func globalFlags() []cli.Flag {
	return tracerFlags()
}

func verboseFlag() cli.Flag {
	return &cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print the BPF verifier's log when loading fails"}
}

// tracerFlags tune the tracer. They are global flags, and a command that
// runs the tracer takes them too, after its name: `pstrace events --btf FILE`.
func tracerFlags() []cli.Flag {
	return []cli.Flag{
		verboseFlag(),
		&cli.StringFlag{Name: "btf", Usage: "BTF `FILE` for a kernel that does not expose /sys/kernel/btf/vmlinux"},
		&cli.IntFlag{Name: "ring-size", Value: tracer.DefaultRingSize, Usage: "ring buffer size in `BYTES` (a power of two)"},
		&cli.IntFlag{Name: "wakeup-bytes", Value: tracer.DefaultWakeupBytes, Usage: "backlog in `BYTES` at which the kernel wakes pstrace (0: every event)"},
		&cli.DurationFlag{Name: "drain-interval", Value: tracer.DefaultDrainInterval, Usage: "longest time an event waits in the ring buffer"},
	}
}

// tracerOptions reads the global flags. A zero wakeup threshold is a real
// choice (wake on every event), so it is passed as 0 only when given.
func tracerOptions(c *cli.Context) (tracer.Options, error) {
	o := tracer.Options{
		RingSize:      setIn(c, "ring-size").Int("ring-size"),
		WakeupBytes:   setIn(c, "wakeup-bytes").Int("wakeup-bytes"),
		DrainInterval: setIn(c, "drain-interval").Duration("drain-interval"),
		BTFPath:       setIn(c, "btf").String("btf"),
	}
	if o.WakeupBytes == 0 {
		o.WakeupBytes = -1
	}
	// The default threshold must not forbid a small ring: it shrinks with it.
	if !setIn(c, "wakeup-bytes").IsSet("wakeup-bytes") && o.WakeupBytes > o.RingSize/2 {
		o.WakeupBytes = max(o.RingSize/2, 1)
	}
	if page := os.Getpagesize(); o.RingSize < page || o.RingSize&(o.RingSize-1) != 0 {
		return o, fmt.Errorf("--ring-size %d: must be a power of two of at least %d", o.RingSize, page)
	}
	if o.WakeupBytes > o.RingSize {
		return o, fmt.Errorf("--wakeup-bytes %d: must not exceed --ring-size (%d)", o.WakeupBytes, o.RingSize)
	}
	if o.DrainInterval < time.Millisecond {
		return o, fmt.Errorf("--drain-interval %v: must be at least 1ms", o.DrainInterval)
	}
	return o, nil
}

// setIn is the context, c or one of its parents, in which flag name was
// given, else c. A flag defined both globally and on the command reads as
// the command's default otherwise, even when given before the command.
func setIn(c *cli.Context, name string) *cli.Context {
	for _, ctx := range c.Lineage() {
		if ctx.IsSet(name) {
			return ctx
		}
	}
	return c
}
