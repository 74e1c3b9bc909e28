package tracer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unsafe"
)

// headerSize is the size of struct event in bpf/pstrace.h.
const headerSize = int(unsafe.Sizeof(pstraceEvent{}))

var errShortRecord = errors.New("record shorter than its header")

// Field offsets, taken from the generated type so the C header stays the one definition.
var off = struct {
	timeNs, startNs, cgroupID, typ, pid, tid, ppid, uid, gid, nsPID, exitStatus, reaper, filenameLen, argsTruncated, filenameTruncated, argsLen, comm uintptr
}{
	unsafe.Offsetof(pstraceEvent{}.TimeNs),
	unsafe.Offsetof(pstraceEvent{}.StartNs),
	unsafe.Offsetof(pstraceEvent{}.CgroupId),
	unsafe.Offsetof(pstraceEvent{}.Type),
	unsafe.Offsetof(pstraceEvent{}.Pid),
	unsafe.Offsetof(pstraceEvent{}.Tid),
	unsafe.Offsetof(pstraceEvent{}.Ppid),
	unsafe.Offsetof(pstraceEvent{}.Uid),
	unsafe.Offsetof(pstraceEvent{}.Gid),
	unsafe.Offsetof(pstraceEvent{}.NsPid),
	unsafe.Offsetof(pstraceEvent{}.ExitStatus),
	unsafe.Offsetof(pstraceEvent{}.Reaper),
	unsafe.Offsetof(pstraceEvent{}.FilenameLen),
	unsafe.Offsetof(pstraceEvent{}.ArgsTruncated),
	unsafe.Offsetof(pstraceEvent{}.FilenameTruncated),
	unsafe.Offsetof(pstraceEvent{}.ArgsLen),
	unsafe.Offsetof(pstraceEvent{}.Comm),
}

// decode fills ev from one raw ring buffer record. The byte slices in ev
// point into raw. Time is left for the caller, who knows the clock offset.
func decode(raw []byte, ev *Event) error {
	if len(raw) < headerSize {
		return fmt.Errorf("%w: %d bytes", errShortRecord, len(raw))
	}
	le := binary.NativeEndian
	u32 := func(o uintptr) uint32 { return le.Uint32(raw[o:]) }

	typ := u32(off.typ)
	if typ < uint32(TypeFork) || typ > uint32(TypeRename) {
		return fmt.Errorf("unknown event type %d", typ)
	}
	fnLen := int(le.Uint16(raw[off.filenameLen:]))
	argsLen := int(u32(off.argsLen))
	if headerSize+fnLen+argsLen > len(raw) {
		return fmt.Errorf("record of %d bytes too short for %d bytes of filename and %d of argv", len(raw), fnLen, argsLen)
	}

	*ev = Event{
		Type:              Type(typ),
		BootNs:            le.Uint64(raw[off.timeNs:]),
		StartNs:           le.Uint64(raw[off.startNs:]),
		CgroupID:          le.Uint64(raw[off.cgroupID:]),
		PID:               u32(off.pid),
		TID:               u32(off.tid),
		PPID:              u32(off.ppid),
		UID:               u32(off.uid),
		GID:               u32(off.gid),
		NsPID:             u32(off.nsPID),
		Status:            ExitStatus(u32(off.exitStatus)),
		Reaper:            u32(off.reaper),
		Comm:              cstring(raw[off.comm : off.comm+16]),
		Filename:          raw[headerSize : headerSize+fnLen],
		Args:              raw[headerSize+fnLen : headerSize+fnLen+argsLen],
		ArgsTruncated:     raw[off.argsTruncated] != 0,
		FilenameTruncated: raw[off.filenameTruncated] != 0,
	}
	return nil
}

// cstring cuts b at its first NUL.
func cstring(b []byte) []byte {
	for i, c := range b {
		if c == 0 {
			return b[:i]
		}
	}
	return b
}
