package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"

	"github.com/pstrace/pstrace/session"
	"github.com/pstrace/pstrace/tracer"
)

// globalFlags come before the command: `pstrace --btf FILE events`.
func globalFlags() []cli.Flag {
	return tracerFlags()
}

// tracerFlags tune the tracer. They are global flags, and every command
// takes them too, after its name: `pstrace tree --ring-size 8192`.
func tracerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "print the BPF verifier's log when loading fails"},
		&cli.StringFlag{Name: "btf", Usage: "BTF `FILE` for a kernel that does not expose /sys/kernel/btf/vmlinux"},
		&cli.IntFlag{Name: "ring-size", Value: tracer.DefaultRingSize, Usage: "ring buffer size in `BYTES` (a power of two)"},
		&cli.IntFlag{Name: "wakeup-bytes", Value: tracer.DefaultWakeupBytes, Usage: "backlog in `BYTES` at which the kernel wakes pstrace (0: every event)"},
		&cli.DurationFlag{Name: "drain-interval", Value: tracer.DefaultDrainInterval, Usage: "longest time an event waits in the ring buffer"},
	}
}

// flagOf names the CLI flag behind each field of the library's options, so
// that the library's one validation speaks the CLI's words.
var flagOf = map[string]string{
	"RingSize":         "--ring-size",
	"WakeupBytes":      "--wakeup-bytes",
	"WakeEveryEvent":   "--wakeup-bytes 0",
	"DrainInterval":    "--drain-interval",
	"Scope.PID":        "--pid",
	"Scope.Containers": "--containers",
	"Scope.Comms":      "--comm",
}

// sessionOptions reads the tracer flags and the scope, and validates them.
func sessionOptions(c *cli.Context, scope tracer.Scope) (session.Options, error) {
	o := tracer.Options{
		Scope:         scope,
		RingSize:      setIn(c, "ring-size").Int("ring-size"),
		DrainInterval: setIn(c, "drain-interval").Duration("drain-interval"),
		BTFPath:       setIn(c, "btf").String("btf"),
	}
	// Left unset, the library's default applies: it shrinks with a small ring.
	if w := setIn(c, "wakeup-bytes"); w.IsSet("wakeup-bytes") {
		o.WakeupBytes = w.Int("wakeup-bytes")
		o.WakeEveryEvent = o.WakeupBytes == 0
	}
	// The library reads a zero as "the default"; a zero the user typed is
	// checked as the smallest value instead, and reported as typed.
	if setIn(c, "ring-size").IsSet("ring-size") && o.RingSize == 0 {
		o.RingSize = 1
	}
	if setIn(c, "drain-interval").IsSet("drain-interval") && o.DrainInterval == 0 {
		o.DrainInterval = 1
	}
	if err := o.Validate(); err != nil {
		var oe *tracer.OptionError
		if errors.As(err, &oe) {
			switch name := strings.TrimPrefix(flagOf[oe.Field], "--"); name {
			case "ring-size", "wakeup-bytes", "drain-interval":
				oe.Value = setIn(c, name).Value(name)
			}
		}
		return session.Options{}, cliWords(err)
	}
	return session.Options{Tracer: o}, nil
}

// cliWords rewrites the library's errors in the CLI's words: option
// errors with flag names, and what to do where the library says what is
// missing.
func cliWords(err error) error {
	switch {
	case errors.Is(err, tracer.ErrPermission):
		return fmt.Errorf("%w: run it with sudo", err)
	case errors.Is(err, tracer.ErrNoBTF):
		return errors.New(strings.Replace(err.Error(), "Options.BTFPath", "pass --btf FILE", 1))
	}
	var oe *tracer.OptionError
	if !errors.As(err, &oe) {
		return err
	}
	reason := oe.Reason
	for field, flag := range flagOf {
		reason = strings.ReplaceAll(reason, field, flag)
	}
	flag, ok := flagOf[oe.Field]
	if !ok {
		flag = oe.Field
	}
	return fmt.Errorf("%s %v: %s", flag, oe.Value, reason)
}

// scopeFlags choose what to trace; events and tree both take them.
func scopeFlags() []cli.Flag {
	return []cli.Flag{
		&cli.Uint64Flag{Name: "pid", Usage: "only this `PID` and its descendants"},
		&cli.BoolFlag{Name: "containers", Usage: "only containerd shims and their descendants"},
	}
}

// scopeOf reads the scope flags; --pid 0 names no process.
func scopeOf(c *cli.Context) (tracer.Scope, error) {
	s := tracer.Scope{Containers: c.Bool("containers")}
	if c.IsSet("pid") {
		pid := c.Uint64("pid")
		if pid == 0 || pid > tracer.MaxPID {
			return s, fmt.Errorf("--pid %d: not a process id (1 to %d)", pid, tracer.MaxPID)
		}
		s.PID = int(pid)
	}
	return s, nil
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
