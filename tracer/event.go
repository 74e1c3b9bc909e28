package tracer

import (
	"bytes"
	"time"
)

// Type is the kind of an event.
type Type uint8

// Event types. Their names are part of the JSON output. The kernel's come
// from bpf/pstrace.h through bpf2go.
const (
	TypeFork = Type(pstraceEventTypeEVENT_FORK)
	TypeExec = Type(pstraceEventTypeEVENT_EXEC)
	TypeExit = Type(pstraceEventTypeEVENT_EXIT)
	// TypeRename is a new command name set outside an exec (prctl
	// PR_SET_NAME, a write to /proc/PID/comm); Comm holds it.
	TypeRename = Type(pstraceEventTypeEVENT_RENAME)
	// TypeLost reports records the kernel dropped; LostReason says why.
	TypeLost = TypeRename + 1
)

// LostReason says why the kernel dropped records.
type LostReason uint8

// Reasons for lost records.
const (
	// LostRingFull: the ring buffer had no room, the reader fell behind.
	LostRingFull = LostReason(pstraceLostReasonLOST_RING_FULL)
	// LostFollowFull: the followed set had no room for a new child, whose
	// events (and its descendants') are then filtered out.
	LostFollowFull = LostReason(pstraceLostReasonLOST_FOLLOW_FULL)
)

func (r LostReason) String() string {
	if r == LostFollowFull {
		return "followed_set_full"
	}
	return "ring_full"
}

func (t Type) String() string {
	switch t {
	case TypeFork:
		return "fork"
	case TypeExec:
		return "exec"
	case TypeExit:
		return "exit"
	case TypeRename:
		return "rename"
	case TypeLost:
		return "lost"
	}
	return "unknown"
}

// ParseType is the inverse of Type.String for the event types a user can ask for.
func ParseType(s string) (Type, bool) {
	for t := TypeFork; t <= TypeLost; t++ {
		if t.String() == s {
			return t, true
		}
	}
	return 0, false
}

// Event is one process lifecycle event. Its byte slices point into the
// tracer's buffer and stay valid only until the next Read.
type Event struct {
	Type     Type
	Time     time.Time // wall clock
	BootNs   uint64    // CLOCK_BOOTTIME of the event
	StartNs  uint64    // CLOCK_BOOTTIME start of the process, as /proc/PID/stat's starttime
	PID      uint32    // thread group id
	TID      uint32
	PPID     uint32
	UID      uint32
	GID      uint32
	NsPID    uint32 // pid inside the process's own pid namespace
	CgroupID uint64
	Comm     []byte

	// exec
	Filename          []byte
	Args              []byte // argv as the kernel holds it: each argument ends in a NUL
	ArgsTruncated     bool
	FilenameTruncated bool

	// exit
	Status ExitStatus
	// Reaper is the process that inherits the exiting process's children:
	// the nearest child subreaper among its ancestors, else its pid
	// namespace's init. Subreapers are invisible in /proc, so only the
	// kernel can say.
	Reaper uint32

	// lost
	LostCount  uint64
	LostReason LostReason
}

// Duration is how long the process lived, for an exit event.
func (e *Event) Duration() time.Duration {
	if e.BootNs < e.StartNs {
		return 0
	}
	return time.Duration(e.BootNs - e.StartNs)
}

// EachArg calls fn with every captured argument in order. A truncated last
// argument is passed as far as it was captured.
func (e *Event) EachArg(fn func(arg []byte)) { EachArg(e.Args, fn) }

// EachArg splits argv as the kernel holds it, each argument ending in a NUL.
func EachArg(args []byte, fn func(arg []byte)) {
	for len(args) > 0 {
		i := bytes.IndexByte(args, 0)
		if i < 0 {
			fn(args)
			return
		}
		fn(args[:i])
		args = args[i+1:]
	}
}

// ArgStrings returns the arguments as strings; it allocates, EachArg does not.
func (e *Event) ArgStrings() []string {
	var out []string
	e.EachArg(func(a []byte) { out = append(out, string(a)) })
	return out
}

// ExitStatus is a wait(2) status.
type ExitStatus uint32

// Code is the exit code of a process that exited on its own, else 0.
func (s ExitStatus) Code() int {
	if s.Signal() != 0 {
		return 0
	}
	return int(s>>8) & 0xff
}

// Signal is the signal that terminated the process, 0 if none did.
func (s ExitStatus) Signal() int { return int(s & 0x7f) }

// CoreDumped tells whether the terminating signal dumped core.
func (s ExitStatus) CoreDumped() bool { return s&0x80 != 0 }

// Clone returns a copy of e that owns its bytes, valid after the next Read.
func (e *Event) Clone() Event {
	c := *e
	c.Comm = bytes.Clone(e.Comm)
	c.Filename = bytes.Clone(e.Filename)
	c.Args = bytes.Clone(e.Args)
	return c
}
