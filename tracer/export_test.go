package tracer

import "encoding/binary"

// Decode is decode, for the external tests that feed the tree and the
// renderers from records as the kernel writes them.
var Decode = decode

// AppendRecord appends to dst[:0] the ring buffer record that decodes to ev
// (Time aside): the inverse of decode.
func AppendRecord(dst []byte, ev *Event) []byte {
	n := headerSize + len(ev.Filename) + len(ev.Args)
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	raw := dst[:n]
	clear(raw[:headerSize])
	le := binary.NativeEndian
	le.PutUint64(raw[off.timeNs:], ev.BootNs)
	le.PutUint64(raw[off.startNs:], ev.StartNs)
	le.PutUint64(raw[off.cgroupID:], ev.CgroupID)
	for o, v := range map[uintptr]uint32{
		off.typ: uint32(ev.Type), off.pid: ev.PID, off.tid: ev.TID, off.ppid: ev.PPID, off.uid: ev.UID, off.gid: ev.GID,
		off.nsPID: ev.NsPID, off.exitStatus: uint32(ev.Status), off.reaper: ev.Reaper, off.argsLen: uint32(len(ev.Args)),
	} {
		le.PutUint32(raw[o:], v)
	}
	le.PutUint16(raw[off.filenameLen:], uint16(len(ev.Filename)))
	if ev.ArgsTruncated {
		raw[off.argsTruncated] = 1
	}
	if ev.FilenameTruncated {
		raw[off.filenameTruncated] = 1
	}
	copy(raw[off.comm:off.comm+15], ev.Comm)
	p := headerSize + copy(raw[headerSize:], ev.Filename)
	copy(raw[p:], ev.Args)
	return raw
}
