package tracer

import (
	"time"

	"golang.org/x/sys/unix"
)

// bootClock converts the kernel's CLOCK_BOOTTIME stamps to wall-clock time.
type bootClock struct {
	offset int64 // CLOCK_REALTIME - CLOCK_BOOTTIME, ns
}

// sync re-reads the offset, which moves when the wall clock is set.
func (c *bootClock) sync() {
	var boot, real unix.Timespec
	if unix.ClockGettime(unix.CLOCK_BOOTTIME, &boot) != nil || unix.ClockGettime(unix.CLOCK_REALTIME, &real) != nil {
		return
	}
	c.offset = real.Nano() - boot.Nano()
}

func (c *bootClock) wall(bootNs uint64) time.Time {
	return time.Unix(0, int64(bootNs)+c.offset)
}
