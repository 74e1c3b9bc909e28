package render

import (
	"strconv"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// EventText renders events as aligned columns, one line each:
// TIME EVENT PID PPID COMM DETAILS, with no trailing spaces. Colour wraps
// the event names in terminal colours.
type EventText struct {
	Colour bool
}

// Column widths; DETAILS, the last, has none.
const (
	timeLayout = "15:04:05.000000"
	eventWidth = 5
	pidWidth   = 7
	commWidth  = 16
)

// EventTextHeader names the columns of EventText's lines.
var EventTextHeader = string(appendColumns(nil, []byte("TIME"), "EVENT", []byte("PID"), []byte("PPID"), []byte("COMM"), "", true)) + "DETAILS\n"

const (
	ansiReset = "\x1b[0m"
	ansiGreen = "\x1b[32m"
	ansiCyan  = "\x1b[36m"
	ansiRed   = "\x1b[31m"
	ansiBold  = "\x1b[1;33m"
)

var typeColours = map[tracer.Type]string{
	tracer.TypeFork:   ansiCyan,
	tracer.TypeExec:   ansiGreen,
	tracer.TypeExit:   ansiRed,
	tracer.TypeRename: ansiCyan,
	tracer.TypeLost:   ansiBold,
}

// appendColumns lays out the columns up to COMM, each padded to its width
// and comm escaped; comm is padded only when details follow, so that no line
// ends in spaces. colour, if any, wraps the event name.
func appendColumns(dst []byte, time []byte, event string, pid, ppid, comm []byte, colour string, details bool) []byte {
	dst = appendPadded(dst, time, len(timeLayout))
	dst = append(dst, ' ')
	dst = append(dst, colour...)
	dst = append(dst, event...)
	if colour != "" {
		dst = append(dst, ansiReset...)
	}
	dst = appendPadded(dst, "", eventWidth-len(event))
	dst = appendRight(dst, pid, pidWidth+1)
	dst = appendRight(dst, ppid, pidWidth+1)
	dst = append(dst, ' ')
	start := len(dst)
	dst = appendEscaped(dst, comm)
	if details {
		dst = appendPadded(dst, "", commWidth-(len(dst)-start))
		dst = append(dst, ' ')
	}
	return dst
}

// Append appends ev's line; ctr is the process's container, nil if none.
func (w EventText) Append(dst []byte, ev *tracer.Event, ctr *proctree.Container) []byte {
	return w.AppendRole(dst, ev, ctr, proctree.RoleNone)
}

// AppendRole appends ev's line, its process in container ctr (nil if none)
// with role, which follows the container's name.
func (w EventText) AppendRole(dst []byte, ev *tracer.Event, ctr *proctree.Container, role proctree.Role) []byte {
	var colour string
	if w.Colour {
		colour = typeColours[ev.Type]
	}
	// The first columns' digits, formatted on the stack.
	var nb [len(timeLayout) + 2*10]byte
	b := ev.Time.Local().AppendFormat(nb[:0], timeLayout)
	nt := len(b)
	if ev.Type == tracer.TypeLost {
		dash := []byte("-")
		dst = appendColumns(dst, b[:nt], ev.Type.String(), dash, dash, dash, colour, true)
		dst = strconv.AppendUint(dst, ev.LostCount, 10)
		if ev.LostReason == tracer.LostFollowFull {
			return append(dst, " events lost: the followed set was full\n"...)
		}
		return append(dst, " events lost: the ring buffer was full\n"...)
	}
	b = strconv.AppendUint(b, uint64(ev.PID), 10)
	np := len(b)
	b = strconv.AppendUint(b, uint64(ev.PPID), 10)
	when, pid, ppid := b[:nt], b[nt:np], b[np:]
	switch ev.Type {
	case tracer.TypeExec:
		dst = appendColumns(dst, when, ev.Type.String(), pid, ppid, ev.Comm, colour, true)
		dst = appendEscaped(dst, ev.Filename)
		if ev.FilenameTruncated {
			dst = append(dst, "..."...)
		}
		ev.EachArg(func(a []byte) {
			dst = append(dst, ' ')
			dst = appendArg(dst, a)
		})
		if ev.ArgsTruncated {
			dst = append(dst, " ..."...)
		}
	case tracer.TypeExit:
		dst = appendColumns(dst, when, ev.Type.String(), pid, ppid, ev.Comm, colour, true)
		dst = appendExit(dst, ev)
	default:
		dst = appendColumns(dst, when, ev.Type.String(), pid, ppid, ev.Comm, colour, ctr != nil)
	}
	if c := ctr; c != nil {
		if ev.Type != tracer.TypeFork {
			dst = append(dst, ' ')
		}
		dst = append(dst, "[container "...)
		dst = appendEscaped(dst, []byte(containerLabel(c)))
		if role != proctree.RoleNone {
			dst = append(dst, ' ')
			dst = append(dst, role.String()...)
		}
		dst = append(dst, ']')
	}
	return append(dst, '\n')
}

func appendExit(dst []byte, ev *tracer.Event) []byte {
	s := ev.Status
	if sig := s.Signal(); sig != 0 {
		dst = append(dst, "killed by "...)
		if name := unix.SignalName(unix.Signal(sig)); name != "" {
			dst = append(dst, name...)
		} else {
			dst = append(dst, "signal "...)
			dst = strconv.AppendInt(dst, int64(sig), 10)
		}
		if s.CoreDumped() {
			dst = append(dst, " (core dumped)"...)
		}
	} else {
		dst = append(dst, "exit "...)
		dst = strconv.AppendInt(dst, int64(s.Code()), 10)
	}
	dst = append(dst, " after "...)
	return append(dst, ev.Duration().Round(time.Microsecond).String()...)
}

// containerLabel is how text output names a container: the name the user
// gave it, else its short id.
func containerLabel(c *proctree.Container) string {
	if c.Engine != nil && c.Engine.Name != "" {
		return c.Engine.Name
	}
	return shortID(c.ID)
}

// shortID is the 12-character form of a container id that docker ps shows.
func shortID(id string) string {
	if len(id) > 12 {
		return id[:12]
	}
	return id
}

func appendPadded[S string | []byte](dst []byte, s S, width int) []byte {
	dst = append(dst, s...)
	for i := len(s); i < width; i++ {
		dst = append(dst, ' ')
	}
	return dst
}

func appendRight[S string | []byte](dst []byte, s S, width int) []byte {
	for i := len(s); i < width; i++ {
		dst = append(dst, ' ')
	}
	return append(dst, s...)
}

// appendArg writes one argument so that its boundaries stay visible: an
// empty one, or one with spaces or quotes, is put in double quotes.
func appendArg(dst []byte, a []byte) []byte {
	quote := len(a) == 0
	for _, c := range a {
		if c == ' ' || c == '"' {
			quote = true
			break
		}
	}
	if !quote {
		return appendEscaped(dst, a)
	}
	dst = append(dst, '"')
	for _, c := range a {
		if c == '"' {
			dst = append(dst, '\\', '"')
		} else {
			dst = appendEscaped(dst, []byte{c})
		}
	}
	return append(dst, '"')
}

// appendEscaped writes s with every byte that could move the cursor, change
// the terminal's state or is not valid UTF-8 as \xNN, and backslashes doubled,
// so a hostile argv cannot forge lines or escape sequences.
func appendEscaped(dst []byte, s []byte) []byte {
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if (r == utf8.RuneError && size == 1) || (r >= 0x80 && r < 0xa0) {
				for _, b := range s[i : i+size] {
					dst = append(dst, '\\', 'x', hexDigit(b>>4), hexDigit(b&0xf))
				}
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '\\':
			dst = append(dst, '\\', '\\')
		case c < 0x20 || c == 0x7f:
			dst = append(dst, '\\', 'x', hexDigit(c>>4), hexDigit(c&0xf))
		default:
			dst = append(dst, c)
		}
		i++
	}
	return dst
}

func hexDigit(b byte) byte { return "0123456789abcdef"[b] }
