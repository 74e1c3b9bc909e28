package render

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// jsonEvent is the public JSON Lines contract (README, `pstrace events`).
type jsonEvent struct {
	Type          string          `json:"type"`
	Time          string          `json:"time"`
	PID           *uint32         `json:"pid"`
	TID           *uint32         `json:"tid"`
	PPID          *uint32         `json:"ppid"`
	UID           *uint32         `json:"uid"`
	GID           *uint32         `json:"gid"`
	Comm          *string         `json:"comm"`
	CommRaw       []byte          `json:"comm_raw"`
	NsPID         *uint32         `json:"ns_pid"`
	CgroupID      *uint64         `json:"cgroup_id"`
	Container     json.RawMessage `json:"container"`
	Role          *string         `json:"role"`
	Filename      *string         `json:"filename"`
	FilenameRaw   []byte          `json:"filename_raw"`
	Args          []string        `json:"args"`
	ArgsRaw       []byte          `json:"args_raw"`
	ArgsTruncated *bool           `json:"args_truncated"`
	ExitCode      *int            `json:"exit_code"`
	Signal        *int            `json:"signal"`
	CoreDumped    *bool           `json:"core_dumped"`
	DurationNs    *uint64         `json:"duration_ns"`
	Count         *uint64         `json:"count"`
	Reason        *string         `json:"reason"`
}

// decodeLine checks that line is one JSON object ending in a newline, with
// no field outside the contract, and decodes it.
func decodeLine(t *testing.T, line []byte) (jsonEvent, map[string]any) {
	t.Helper()
	if bytes.Count(line, []byte("\n")) != 1 || line[len(line)-1] != '\n' {
		t.Fatalf("not one line: %q", line)
	}
	var ev jsonEvent
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&ev); err != nil {
		t.Fatalf("invalid JSON %q: %v", line, err)
	}
	var fields map[string]any
	if err := json.Unmarshal(line, &fields); err != nil {
		t.Fatal(err)
	}
	return ev, fields
}

// The bytes a hostile or unlucky process can put in its name and argv.
const awkward = "nl\n tab\t quote\" back\\ cr\r bell\a esc\x1b nul-free \x01\x1f del\x7f" +
	" bad:\xff\xfe lone-cont:\x80 short:\xe2\x82 surrogate:\xed\xa0\x80 ok:ünï€😀 fffd:\uFFFD"

// What a JSON reader must get back for awkward: every invalid byte as the
// four characters \xNN, everything else as it was.
const awkwardDecoded = "nl\n tab\t quote\" back\\ cr\r bell\a esc\x1b nul-free \x01\x1f del\x7f" +
	` bad:\xff\xfe lone-cont:\x80 short:\xe2\x82 surrogate:\xed\xa0\x80` + " ok:ünï€😀 fffd:\uFFFD"

func TestJSONStrings(t *testing.T) {
	ev := tracer.Event{
		Type: tracer.TypeExec, Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), PID: 1, TID: 1,
		Comm: []byte("a\nb\xff"), Filename: []byte(awkward),
		Args: []byte("\x00" + awkward + "\x00x\x00\x00"),
	}
	line := AppendEventJSON(nil, &ev, nil)
	got, _ := decodeLine(t, line)
	if *got.Comm != `a`+"\n"+`b\xff` {
		t.Errorf("comm: %q", *got.Comm)
	}
	if *got.Filename != awkwardDecoded {
		t.Errorf("filename:\n got  %q\n want %q", *got.Filename, awkwardDecoded)
	}
	if want := []string{"", awkwardDecoded, "x", ""}; !reflect.DeepEqual(got.Args, want) {
		t.Errorf("args: got %q, want %q", got.Args, want)
	}
	if got.Time != "2026-01-02T03:04:05.000000006Z" {
		t.Errorf("time %q", got.Time)
	}
	// Raw control bytes never reach the output.
	for _, c := range line[:len(line)-1] {
		if c < 0x20 {
			t.Fatalf("raw control byte %#x in %q", c, line)
		}
	}
}

func TestJSONFields(t *testing.T) {
	when := time.Date(2026, 5, 6, 7, 8, 9, 123456789, time.FixedZone("x", 3600))
	common := tracer.Event{Time: when, BootNs: 5e9, StartNs: 2e9, PID: 42, TID: 43, PPID: 1, UID: 1000, GID: 100,
		NsPID: 7, CgroupID: 1 << 40, Comm: []byte("sh")}
	fork, exec, exit, lost := common, common, common, tracer.Event{Type: tracer.TypeLost, Time: when, LostCount: 12}
	fork.Type = tracer.TypeFork
	exec.Type, exec.Filename, exec.Args, exec.ArgsTruncated = tracer.TypeExec, []byte("/bin/sh"), []byte("sh\x00"), true
	exit.Type, exit.Status = tracer.TypeExit, 0x86
	exitCtr := &proctree.Container{ID: "abc", Namespace: "moby", ShimPID: 9, Source: "shim"}

	all := []string{"type", "time", "pid", "tid", "ppid", "uid", "gid", "comm", "ns_pid", "cgroup_id", "container", "role"}
	tests := []struct {
		ev   tracer.Event
		ctr  *proctree.Container
		role proctree.Role
		keys []string
	}{
		{fork, nil, proctree.RoleNone, all},
		{exec, nil, proctree.RoleNone, append(all, "filename", "args", "args_truncated")},
		{exit, exitCtr, proctree.RoleInit, append(all, "exit_code", "signal", "core_dumped", "duration_ns")},
		{lost, nil, proctree.RoleNone, []string{"type", "time", "count", "reason"}},
	}
	for _, tt := range tests {
		t.Run(tt.ev.Type.String(), func(t *testing.T) {
			got, fields := decodeLine(t, AppendEventRoleJSON(nil, &tt.ev, tt.ctr, tt.role))
			if len(fields) != len(tt.keys) {
				t.Errorf("fields %v, want exactly %v", fields, tt.keys)
			}
			for _, k := range tt.keys {
				if _, ok := fields[k]; !ok {
					t.Errorf("no %q in %v", k, fields)
				}
			}
			if got.Type != tt.ev.Type.String() || got.Time != "2026-05-06T06:08:09.123456789Z" {
				t.Errorf("type %q time %q", got.Type, got.Time)
			}
			switch tt.ev.Type {
			case tracer.TypeFork:
				if *got.PID != 42 || *got.TID != 43 || *got.PPID != 1 || *got.UID != 1000 || *got.GID != 100 ||
					*got.NsPID != 7 || *got.CgroupID != 1<<40 || *got.Comm != "sh" || string(got.Container) != "null" || got.Role != nil {
					t.Errorf("fork: %s", AppendEventRoleJSON(nil, &tt.ev, tt.ctr, tt.role))
				}
			case tracer.TypeExec:
				if *got.Filename != "/bin/sh" || !reflect.DeepEqual(got.Args, []string{"sh"}) || !*got.ArgsTruncated {
					t.Errorf("exec: %s", AppendEventRoleJSON(nil, &tt.ev, tt.ctr, tt.role))
				}
			case tracer.TypeExit:
				if *got.ExitCode != 0 || *got.Signal != 6 || !*got.CoreDumped || *got.DurationNs != 3e9 || got.Role == nil || *got.Role != "init" {
					t.Errorf("exit: %s", AppendEventRoleJSON(nil, &tt.ev, tt.ctr, tt.role))
				}
				var c proctree.Container
				if err := json.Unmarshal(got.Container, &c); err != nil || c != *tt.ctr {
					t.Errorf("container %s: %v", got.Container, err)
				}
			case tracer.TypeLost:
				if *got.Count != 12 || *got.Reason != "ring_full" {
					t.Errorf("count %d, reason %q", *got.Count, *got.Reason)
				}
			}
		})
	}
}

func TestAppendJSONDoesNotAllocate(t *testing.T) {
	ev := tracer.Event{Type: tracer.TypeExec, Comm: []byte("sh"), Filename: []byte("/bin/sh"), Args: []byte("sh\x00-c\x00\xff\x00")}
	buf := make([]byte, 0, 4096)
	if n := testing.AllocsPerRun(100, func() { buf = AppendEventJSON(buf[:0], &ev, nil) }); n != 0 {
		t.Errorf("%v allocations per event", n)
	}
}

// exact recovers the bytes of a string field: name_raw when present, else
// the string itself.
func exact(s *string, raw []byte) []byte {
	if raw != nil {
		return raw
	}
	if s == nil {
		return nil
	}
	return []byte(*s)
}

// Every byte of comm, filename and argv comes back from the JSON exactly,
// whatever the bytes; valid UTF-8 reads as it is, with no _raw beside it.
func FuzzJSONBytesRoundTrip(f *testing.F) {
	f.Add([]byte("sh"), []byte("/bin/sh"), []byte("sh\x00-c\x00echo hi\x00"))
	f.Add([]byte("\\xff"), []byte{0xff}, []byte("\\xff\x00\xff\x00"))
	f.Add([]byte{0xed, 0xa0, 0x80}, []byte("caf\xc3\xa9"), []byte("a\x00\x00b"))
	f.Fuzz(func(t *testing.T, comm, filename, args []byte) {
		if len(comm) > 15 {
			comm = comm[:15]
		}
		ev := tracer.Event{Type: tracer.TypeExec, Comm: comm, Filename: filename, Args: args}
		line := AppendEventJSON(nil, &ev, nil)
		var got jsonEvent
		if err := json.Unmarshal(line, &got); err != nil {
			t.Fatalf("invalid JSON %q: %v", line, err)
		}
		if c := exact(got.Comm, got.CommRaw); !bytes.Equal(c, comm) {
			t.Errorf("comm %q came back as %q", comm, c)
		}
		if fn := exact(got.Filename, got.FilenameRaw); !bytes.Equal(fn, filename) {
			t.Errorf("filename %q came back as %q", filename, fn)
		}
		if got.ArgsRaw != nil {
			if !bytes.Equal(got.ArgsRaw, args) {
				t.Errorf("args %q came back as %q", args, got.ArgsRaw)
			}
		} else {
			var joined []byte
			for _, a := range got.Args {
				joined = append(append(joined, a...), 0)
			}
			want := args
			if len(want) > 0 && want[len(want)-1] != 0 {
				want = append(append([]byte(nil), want...), 0) // a truncated last argument
			}
			if !bytes.Equal(joined, want) {
				t.Errorf("args %q came back as %q", args, joined)
			}
		}
		for name, v := range map[string][]byte{"comm": comm, "filename": filename, "args": args} {
			if raw := bytes.Contains(line, []byte(`"`+name+`_raw"`)); raw == utf8.Valid(v) {
				t.Errorf("%s %q: %s_raw present %v, want it exactly when not valid UTF-8", name, v, name, raw)
			}
		}
	})
}
