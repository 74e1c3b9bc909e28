// Package bootclock turns the kernel's CLOCK_BOOTTIME stamps, in which BPF
// events and /proc start times are given, into wall-clock time.
package bootclock

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Clock converts the kernel's CLOCK_BOOTTIME stamps to wall-clock time.
type Clock struct {
	offset int64 // CLOCK_REALTIME - CLOCK_BOOTTIME, ns
}

// Sync re-reads the offset, which moves when the wall clock is set.
func (c *Clock) Sync() {
	var boot, real unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot) != nil || unix.ClockGettime(unix.CLOCK_REALTIME, &real) != nil {
		return
	}
	c.offset = real.Nano() - boot.Nano()
}

// Wall is the wall-clock time of a CLOCK_BOOTTIME stamp.
func (c *Clock) Wall(bootNs uint64) time.Time {
	return time.Unix(0, int64(bootNs)+c.offset)
}

// Now reads CLOCK_BOOTTIME, the clock of event times.
func Now() (uint64, error) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0, fmt.Errorf("reading the boot clock: %w", err)
	}
	return uint64(ts.Nano()), nil
}
