// Package render writes events and tree snapshots as pstrace shows them:
// JSON Lines (a stable contract) and aligned text. It only formats: it
// reads nothing from the system but user names, and never blocks.
package render

import (
	"encoding/base64"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/pstrace/pstrace/engine"
	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// AppendEventJSON appends ev, in container ctr (nil if none), as one JSON
// object and a newline, with no role: see AppendEventRoleJSON.
func AppendEventJSON(dst []byte, ev *tracer.Event, ctr *proctree.Container) []byte {
	return AppendEventRoleJSON(dst, ev, ctr, proctree.RoleNone)
}

// AppendEventRoleJSON appends ev, in container ctr (nil if none), its
// process having role, as one JSON object and a newline: the JSON Lines
// format of `pstrace events`. It does not allocate beyond growing dst.
func AppendEventRoleJSON(dst []byte, ev *tracer.Event, ctr *proctree.Container, role proctree.Role) []byte {
	dst = append(dst, `{"type":"`...)
	dst = append(dst, ev.Type.String()...)
	dst = append(dst, `","time":"`...)
	dst = AppendTime(dst, ev.Time)
	dst = append(dst, '"')
	if ev.Type == tracer.TypeLost {
		dst = append(dst, `,"count":`...)
		dst = strconv.AppendUint(dst, ev.LostCount, 10)
		dst = append(dst, `,"reason":"`...)
		dst = append(dst, ev.LostReason.String()...)
		return append(dst, "\"}\n"...)
	}
	dst = appendUintField(dst, "pid", uint64(ev.PID))
	dst = appendUintField(dst, "tid", uint64(ev.TID))
	dst = appendUintField(dst, "ppid", uint64(ev.PPID))
	dst = appendUintField(dst, "uid", uint64(ev.UID))
	dst = appendUintField(dst, "gid", uint64(ev.GID))
	dst = appendBytesField(dst, "comm", ev.Comm)
	dst = appendUintField(dst, "ns_pid", uint64(ev.NsPID))
	dst = appendUintField(dst, "cgroup_id", ev.CgroupID)
	dst = append(dst, `,"container":`...)
	dst = AppendContainerJSON(dst, ctr)
	dst = appendRole(dst, role)
	switch ev.Type {
	case tracer.TypeExec:
		dst = appendBytesField(dst, "filename", ev.Filename)
		dst = appendArgs(dst, ev.Args)
		dst = append(dst, `,"args_truncated":`...)
		dst = strconv.AppendBool(dst, ev.ArgsTruncated)
	case tracer.TypeExit:
		dst = append(dst, `,"exit_code":`...)
		dst = strconv.AppendInt(dst, int64(ev.Status.Code()), 10)
		dst = append(dst, `,"signal":`...)
		dst = strconv.AppendInt(dst, int64(ev.Status.Signal()), 10)
		dst = append(dst, `,"core_dumped":`...)
		dst = strconv.AppendBool(dst, ev.Status.CoreDumped())
		dst = appendUintField(dst, "duration_ns", uint64(ev.Duration()))
	}
	return append(dst, "}\n"...)
}

// AppendContainerJSON appends c as a JSON object, or null.
func AppendContainerJSON(dst []byte, c *proctree.Container) []byte {
	if c == nil {
		return append(dst, "null"...)
	}
	dst = append(dst, `{"id":`...)
	dst = AppendJSONString(dst, []byte(c.ID))
	dst = append(dst, `,"namespace":`...)
	dst = AppendJSONString(dst, []byte(c.Namespace))
	dst = appendUintField(dst, "shim_pid", uint64(c.ShimPID))
	dst = append(dst, `,"source":`...)
	dst = AppendJSONString(dst, []byte(c.Source))
	if c.Engine != nil {
		dst = appendEngineJSON(dst, c.Engine)
	}
	return append(dst, '}')
}

// appendRole appends ,"role":"NAME", or null outside containers.
func appendRole(dst []byte, role proctree.Role) []byte {
	if role == proctree.RoleNone {
		return append(dst, `,"role":null`...)
	}
	dst = append(dst, `,"role":"`...)
	dst = append(dst, role.String()...)
	return append(dst, '"')
}

// AppendTime appends t as RFC 3339 in UTC with nanoseconds.
func AppendTime(dst []byte, t time.Time) []byte {
	return t.UTC().AppendFormat(dst, "2006-01-02T15:04:05.000000000Z07:00")
}

func appendUintField(dst []byte, name string, v uint64) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	return strconv.AppendUint(dst, v, 10)
}

const hexDigits = "0123456789abcdef"

// appendBytesField appends ,"name":"s" and, when s is not valid UTF-8,
// ,"name_raw":"BASE64" with its exact bytes: the string alone is then the
// readable form, with \xNN for each invalid byte, which a literal "\xNN"
// in valid text would also give. Without name_raw, the string is exact.
func appendBytesField(dst []byte, name string, s []byte) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, '"', ':')
	dst = AppendJSONString(dst, s)
	if utf8.Valid(s) {
		return dst
	}
	return appendRaw(dst, name, s)
}

func appendRaw(dst []byte, name string, s []byte) []byte {
	dst = append(dst, ',', '"')
	dst = append(dst, name...)
	dst = append(dst, `_raw":"`...)
	dst = base64.StdEncoding.AppendEncode(dst, s)
	return append(dst, '"')
}

// appendArgs appends ,"args":[...] and, when an argument is not valid
// UTF-8, ,"args_raw":"BASE64" with argv's exact bytes as the kernel holds
// them: each argument followed by a NUL (a truncated last one without).
func appendArgs(dst []byte, args []byte) []byte {
	dst = append(dst, `,"args":[`...)
	first := true
	tracer.EachArg(args, func(a []byte) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = AppendJSONString(dst, a)
	})
	dst = append(dst, ']')
	if utf8.Valid(args) {
		return dst
	}
	return appendRaw(dst, "args", args)
}

// AppendJSONString appends s as a readable JSON string: valid UTF-8 passes
// through, each byte of an invalid sequence becomes the four characters
// \xNN, and control characters, quotes and backslashes are escaped as JSON
// requires. Where s may not be valid UTF-8, appendBytesField adds its exact
// bytes.
func AppendJSONString(dst []byte, s []byte) []byte {
	dst = append(dst, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRune(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, '\\', '\\', 'x', hexDigits[c>>4], hexDigits[c&0xf])
			} else {
				dst = append(dst, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c < 0x20 || c == 0x7f:
			dst = append(dst, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
		default:
			dst = append(dst, c)
		}
		i++
	}
	return append(dst, '"')
}

// appendEngineJSON appends what the engines know of a container: the
// fields known, labels in engine.LabelKeys order, and confirmed once an
// engine or a shim has answered.
func appendEngineJSON(dst []byte, e *engine.Info) []byte {
	for _, f := range [...]struct{ name, value string }{{"name", e.Name}, {"image", e.Image}, {"image_id", e.ImageID}} {
		if f.value != "" {
			dst = append(dst, ',', '"')
			dst = append(dst, f.name...)
			dst = append(dst, '"', ':')
			dst = AppendJSONString(dst, []byte(f.value))
		}
	}
	if len(e.Labels) > 0 {
		dst = append(dst, `,"labels":{`...)
		first := true
		for _, k := range engine.LabelKeys {
			if v, ok := e.Labels[k]; ok {
				if !first {
					dst = append(dst, ',')
				}
				first = false
				dst = AppendJSONString(dst, []byte(k))
				dst = append(dst, ':')
				dst = AppendJSONString(dst, []byte(v))
			}
		}
		dst = append(dst, '}')
	}
	if e.Confirmed != engine.Unknown {
		dst = append(dst, `,"confirmed":`...)
		dst = strconv.AppendBool(dst, e.Confirmed == engine.Confirmed)
	}
	return dst
}
