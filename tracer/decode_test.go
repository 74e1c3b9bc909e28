package tracer

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"unsafe"
)

// The C struct event (bpf/pstrace.h) as bpf2go generates it. A change to the
// C layout must be a deliberate one: it fails here first.
func TestEventLayout(t *testing.T) {
	var e pstraceEvent
	if headerSize != 88 {
		t.Errorf("headerSize %d, want 88", headerSize)
	}
	offsets := []struct {
		name      string
		got, want uintptr
	}{
		{"time_ns", unsafe.Offsetof(e.TimeNs), 0},
		{"start_ns", unsafe.Offsetof(e.StartNs), 8},
		{"cgroup_id", unsafe.Offsetof(e.CgroupId), 16},
		{"type", unsafe.Offsetof(e.Type), 24},
		{"pid", unsafe.Offsetof(e.Pid), 28},
		{"tid", unsafe.Offsetof(e.Tid), 32},
		{"ppid", unsafe.Offsetof(e.Ppid), 36},
		{"uid", unsafe.Offsetof(e.Uid), 40},
		{"gid", unsafe.Offsetof(e.Gid), 44},
		{"ns_pid", unsafe.Offsetof(e.NsPid), 48},
		{"exit_status", unsafe.Offsetof(e.ExitStatus), 52},
		{"reaper", unsafe.Offsetof(e.Reaper), 56},
		{"filename_len", unsafe.Offsetof(e.FilenameLen), 60},
		{"args_truncated", unsafe.Offsetof(e.ArgsTruncated), 62},
		{"filename_truncated", unsafe.Offsetof(e.FilenameTruncated), 63},
		{"args_len", unsafe.Offsetof(e.ArgsLen), 64},
		{"comm", unsafe.Offsetof(e.Comm), 68},
	}
	for _, o := range offsets {
		if o.got != o.want {
			t.Errorf("offset of %s: %d, want %d", o.name, o.got, o.want)
		}
	}
	if n := len(e.Comm); n != 16 {
		t.Errorf("comm holds %d bytes, want 16", n)
	}
}

// record builds a raw ring buffer record: h, then filename and args, then pad
// bytes (the ring rounds records up to 8 bytes).
func record(h pstraceEvent, filename, args string, pad int) []byte {
	h.FilenameLen = uint16(len(filename))
	h.ArgsLen = uint32(len(args))
	raw := append([]byte(nil), unsafe.Slice((*byte)(unsafe.Pointer(&h)), headerSize)...)
	raw = append(raw, filename...)
	raw = append(raw, args...)
	return append(raw, make([]byte, pad)...)
}

func comm(s string) (c [16]int8) {
	for i := 0; i < len(s) && i < 16; i++ {
		c[i] = int8(s[i])
	}
	return c
}

func TestDecode(t *testing.T) {
	fork := pstraceEvent{TimeNs: 2000, StartNs: 1000, CgroupId: 77, Type: 1, Pid: 10, Tid: 10, Ppid: 1,
		Uid: 1000, Gid: 100, NsPid: 3, Comm: comm("bash")}
	exec := fork
	exec.Type, exec.Tid, exec.ArgsTruncated, exec.Comm = 2, 11, 1, comm("fifteen-chars-x")
	exit := fork
	exit.Type, exit.ExitStatus, exit.Reaper, exit.Comm = 3, 3<<8, 1, comm("sixteen-chars-xy")

	tests := []struct {
		name    string
		raw     []byte
		want    Event
		wantErr string
	}{
		{name: "fork", raw: record(fork, "", "", 0), want: Event{Type: TypeFork, BootNs: 2000, StartNs: 1000,
			CgroupID: 77, PID: 10, TID: 10, PPID: 1, UID: 1000, GID: 100, NsPID: 3, Comm: []byte("bash")}},
		{name: "exec", raw: record(exec, "/bin/ls", "ls\x00-l\x00", 7), want: Event{Type: TypeExec, BootNs: 2000,
			StartNs: 1000, CgroupID: 77, PID: 10, TID: 11, PPID: 1, UID: 1000, GID: 100, NsPID: 3,
			Comm: []byte("fifteen-chars-x"), Filename: []byte("/bin/ls"), Args: []byte("ls\x00-l\x00"), ArgsTruncated: true}},
		{name: "exit, comm without NUL", raw: record(exit, "", "", 0), want: Event{Type: TypeExit, BootNs: 2000,
			StartNs: 1000, CgroupID: 77, PID: 10, TID: 10, PPID: 1, UID: 1000, GID: 100, NsPID: 3,
			Comm: []byte("sixteen-chars-xy"), Status: 3 << 8, Reaper: 1}},
		{name: "empty", raw: nil, wantErr: "shorter than its header"},
		{name: "short header", raw: record(fork, "", "", 0)[:headerSize-1], wantErr: "shorter than its header"},
		{name: "type 0", raw: record(pstraceEvent{}, "", "", 0), wantErr: "unknown event type 0"},
		{name: "type lost is not a kernel type", raw: record(pstraceEvent{Type: pstraceEventType(TypeLost)}, "", "", 0), wantErr: "unknown event type 5"},
		{name: "lengths past the end", raw: record(exec, "/bin/ls", "ls\x00", 0)[:headerSize+8], wantErr: "too short"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ev Event
			err := decode(tt.raw, &ev)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !eventsEqual(ev, tt.want) {
				t.Errorf("got  %+v\nwant %+v", ev, tt.want)
			}
		})
	}
}

func eventsEqual(a, b Event) bool {
	bytesEq := bytes.Equal(a.Comm, b.Comm) && bytes.Equal(a.Filename, b.Filename) && bytes.Equal(a.Args, b.Args)
	a.Comm, a.Filename, a.Args, b.Comm, b.Filename, b.Args = nil, nil, nil, nil, nil, nil
	return bytesEq && reflect.DeepEqual(a, b)
}

// Decode never panics, and what it returns lies within the record.
func FuzzDecode(f *testing.F) {
	exec := pstraceEvent{Type: 2, Pid: 1, Tid: 1, Comm: comm("sh")}
	f.Add(record(exec, "/bin/sh", "sh\x00-c\x00true\x00", 3))
	f.Add(record(pstraceEvent{Type: 1}, "", "", 0))
	f.Add(record(pstraceEvent{Type: 3, ExitStatus: 0x8b}, "", "", 0))
	f.Add(record(exec, "/bin/sh", "sh", 0)[:headerSize+3])
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, headerSize+64))
	f.Fuzz(func(t *testing.T, raw []byte) {
		var ev Event
		if err := decode(raw, &ev); err != nil {
			return
		}
		if ev.Type < TypeFork || ev.Type > TypeExit {
			t.Fatalf("decoded type %d", ev.Type)
		}
		if len(ev.Comm) > 16 || bytes.IndexByte(ev.Comm, 0) >= 0 {
			t.Fatalf("comm %q", ev.Comm)
		}
		var h pstraceEvent
		copy(unsafe.Slice((*byte)(unsafe.Pointer(&h)), headerSize), raw)
		if len(ev.Filename) != int(h.FilenameLen) || len(ev.Args) != int(h.ArgsLen) {
			t.Fatalf("lengths %d and %d, header says %d and %d", len(ev.Filename), len(ev.Args), h.FilenameLen, h.ArgsLen)
		}
		if headerSize+len(ev.Filename)+len(ev.Args) > len(raw) {
			t.Fatalf("filename and args run past the %d-byte record", len(raw))
		}
		if len(ev.Filename) > 0 && &ev.Filename[0] != &raw[headerSize] {
			t.Fatalf("filename does not start right after the header")
		}
	})
}

func TestExitStatusDecoding(t *testing.T) {
	tests := []struct {
		status    ExitStatus
		code, sig int
		core      bool
	}{
		{0, 0, 0, false},
		{3 << 8, 3, 0, false},
		{255 << 8, 255, 0, false},
		{9, 0, 9, false},   // SIGKILL
		{15, 0, 15, false}, // SIGTERM
		{0x8b, 0, 11, true},
		{0x86, 0, 6, true}, // SIGABRT with core
	}
	for _, tt := range tests {
		s := tt.status
		if s.Code() != tt.code || s.Signal() != tt.sig || s.CoreDumped() != tt.core {
			t.Errorf("status %#x: code %d signal %d core %v, want %d %d %v",
				uint32(s), s.Code(), s.Signal(), s.CoreDumped(), tt.code, tt.sig, tt.core)
		}
	}
}

func TestEachArg(t *testing.T) {
	tests := []struct {
		args string
		want []string
	}{
		{"", nil},
		{"a\x00", []string{"a"}},
		{"a\x00\x00b\x00", []string{"a", "", "b"}},
		{"a\x00\x00", []string{"a", ""}},
		{"a\x00trunc", []string{"a", "trunc"}}, // a truncated capture ends mid-argument
	}
	for _, tt := range tests {
		e := Event{Args: []byte(tt.args)}
		if got := e.ArgStrings(); !equalStrings(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.args, got, tt.want)
		}
	}
}
