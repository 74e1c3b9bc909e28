package tracer

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// Defaults for Options.
const (
	DefaultRingSize      = 4 << 20
	DefaultWakeupBytes   = 64 << 10
	DefaultDrainInterval = 100 * time.Millisecond
)

// Limits of Options.
const (
	// MaxRingSize bounds the ring buffer: the kernel locks its memory.
	MaxRingSize = 1 << 30
	// MaxDrainInterval bounds the latency a user can ask for.
	MaxDrainInterval = time.Hour
	// MaxPID is the kernel's PID_MAX_LIMIT: no pid is larger.
	MaxPID = 1 << 22
	// MaxCommLen is the longest command name the kernel keeps.
	MaxCommLen = 15
)

// ShimComm is the command name of every containerd-shim-* runtime: the
// kernel keeps 15 bytes of it (bpf/pstrace.bpf.c's is_shim matches it too).
const ShimComm = "containerd-shim"

// Options tune a Tracer. The zero value traces every process with the
// defaults, and every default is valid with every other choice.
type Options struct {
	// Scope is what to trace.
	Scope Scope
	// RingSize is the ring buffer's size in bytes: a power of two, at least
	// a page, at most MaxRingSize. 0 means DefaultRingSize.
	RingSize int
	// WakeupBytes is the backlog at which the kernel wakes the reader;
	// below it the reader drains every DrainInterval. 0 means
	// DefaultWakeupBytes, or half the ring when that is smaller.
	WakeupBytes int
	// WakeEveryEvent wakes the reader on every event instead (costly).
	WakeEveryEvent bool
	// DrainInterval bounds how long an event waits in the ring buffer.
	// 0 means DefaultDrainInterval.
	DrainInterval time.Duration
	// BTFPath is a BTF file to use for CO-RE instead of the kernel's own.
	BTFPath string
}

// Scope is what a tracer (and a tree kept from its events) covers: every
// process, one process and its descendants, or the containerd shims and
// their descendants; optionally only some command names. Filtered-out
// events never leave the kernel.
type Scope struct {
	// PID, when not 0, keeps only this process and its descendants.
	PID int
	// Containers keeps only containerd shims and their descendants.
	Containers bool
	// Comms, when not empty, keeps only processes with one of these
	// command names (1 to MaxCommLen bytes each).
	Comms []string
}

// follows tells whether the kernel keeps a followed set for the scope.
func (s Scope) follows() bool { return s.PID != 0 || s.Containers }

// Root tells whether a process is the root of a subtree in scope: the pid
// itself, or a shim. It is nil when the scope is not made of subtrees.
func (s Scope) Root() func(pid uint32, comm string) bool {
	switch {
	case s.PID != 0:
		return func(pid uint32, _ string) bool { return pid == uint32(s.PID) }
	case s.Containers:
		return func(_ uint32, comm string) bool { return comm == ShimComm }
	}
	return nil
}

// OptionError is an invalid option: Field names it as in Options (with
// "Scope." before a scope's fields), so a caller can speak of it in its
// own words.
type OptionError struct {
	Field  string
	Value  any
	Reason string
}

func (e *OptionError) Error() string {
	return fmt.Sprintf("%s %v: %s", e.Field, e.Value, e.Reason)
}

// withDefaults returns o with every zero field set to its default.
func (o Options) withDefaults() Options {
	if o.RingSize == 0 {
		o.RingSize = DefaultRingSize
	}
	if o.WakeupBytes == 0 && !o.WakeEveryEvent {
		// The default must not forbid a small ring: it shrinks with it.
		o.WakeupBytes = min(DefaultWakeupBytes, max(o.RingSize/2, 1))
	}
	if o.DrainInterval == 0 {
		o.DrainInterval = DefaultDrainInterval
	}
	return o
}

// Validate checks o as Open would, defaults applied, and returns an
// *OptionError for the first field that is wrong.
func (o Options) Validate() error {
	o = o.withDefaults()
	page := os.Getpagesize()
	switch {
	case o.RingSize < page || o.RingSize > MaxRingSize || o.RingSize&(o.RingSize-1) != 0:
		return &OptionError{"RingSize", o.RingSize, fmt.Sprintf("must be a power of two from %d (the page size) to %d", page, MaxRingSize)}
	case o.WakeEveryEvent && o.WakeupBytes != 0:
		return &OptionError{"WakeupBytes", o.WakeupBytes, "cannot be combined with WakeEveryEvent"}
	case o.WakeupBytes < 0:
		return &OptionError{"WakeupBytes", o.WakeupBytes, "must not be negative"}
	case o.WakeupBytes > o.RingSize:
		return &OptionError{"WakeupBytes", o.WakeupBytes, fmt.Sprintf("must not exceed RingSize (%d)", o.RingSize)}
	case o.DrainInterval < time.Millisecond || o.DrainInterval > MaxDrainInterval:
		return &OptionError{"DrainInterval", o.DrainInterval, fmt.Sprintf("must be at least 1ms and at most %v", MaxDrainInterval)}
	}
	return o.Scope.validate()
}

func (s Scope) validate() error {
	if s.PID < 0 || s.PID > MaxPID {
		return &OptionError{"Scope.PID", s.PID, fmt.Sprintf("not a process id (1 to %d)", MaxPID)}
	}
	if s.PID != 0 && s.Containers {
		return &OptionError{"Scope.Containers", true, "cannot be combined with Scope.PID"}
	}
	_, specs, err := loadSpecs()
	if err != nil {
		return err
	}
	if max := int(specs.Comms.MaxEntries); len(s.Comms) > max {
		return &OptionError{"Scope.Comms", len(s.Comms), fmt.Sprintf("command names: at most %d can be filtered", max)}
	}
	for _, c := range s.Comms {
		if c == "" || len(c) > MaxCommLen {
			return &OptionError{"Scope.Comms", fmt.Sprintf("%q", c), fmt.Sprintf("must be 1 to %d bytes, as the kernel keeps it", MaxCommLen)}
		}
	}
	return nil
}

// ErrNoProcess is returned by Open when Scope.PID names no process.
var ErrNoProcess = errors.New("no process")
