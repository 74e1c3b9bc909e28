package render

import (
	"strconv"
	"time"

	"github.com/pstrace/pstrace/proctree"
)

// AppendTreeJSON appends a snapshot of the tree as one JSON object and a
// newline: {"time", "lost", "processes": [...]}, the processes in Walk's
// depth-first order, each with pid, ppid, uid, comm, args, start_time,
// ns_pid, depth, container (as in events, null if none), shim (the
// container a shim serves, null for any other process), role, and execs
// (the history of its execs, oldest first) with execs_dropped.
func AppendTreeJSON(dst []byte, t *proctree.Tree, now time.Time) []byte {
	return appendTreeJSON(dst, t, now, nil)
}

// appendTreeJSON appends the processes keep accepts (every one when nil).
func appendTreeJSON(dst []byte, t *proctree.Tree, now time.Time, keep func(*proctree.Process) bool) []byte {
	dst = append(dst, `{"time":"`...)
	dst = AppendTime(dst, now)
	dst = append(dst, '"')
	dst = appendUintField(dst, "lost", t.Lost())
	dst = append(dst, `,"processes":[`...)
	first := true
	walkShown(t, keep, func(p *proctree.Process) {
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendProcessJSON(dst, p)
	})
	return append(dst, "]}\n"...)
}

func appendProcessJSON(dst []byte, p *proctree.Process) []byte {
	dst = append(dst, `{"pid":`...)
	dst = strconv.AppendUint(dst, uint64(p.PID), 10)
	dst = appendUintField(dst, "ppid", uint64(p.PPID))
	dst = appendUintField(dst, "uid", uint64(p.UID))
	dst = appendBytesField(dst, "comm", p.Comm)
	dst = appendArgs(dst, p.Args)
	dst = append(dst, `,"start_time":"`...)
	dst = AppendTime(dst, p.StartTime)
	dst = append(dst, '"')
	dst = appendUintField(dst, "ns_pid", uint64(p.NsPID))
	dst = appendUintField(dst, "depth", uint64(p.Depth))
	dst = append(dst, `,"container":`...)
	dst = AppendContainerJSON(dst, p.Container)
	dst = append(dst, `,"shim":`...)
	dst = AppendContainerJSON(dst, p.ShimOf)
	dst = appendRole(dst, p.Role)
	dst = appendExecsJSON(dst, p)
	return append(dst, '}')
}
