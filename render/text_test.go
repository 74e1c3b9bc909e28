package render

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

func textLine(colour bool, ev tracer.Event, ctr ...*proctree.Container) string {
	var c *proctree.Container
	if len(ctr) > 0 {
		c = ctr[0]
	}
	return string(EventText{Colour: colour}.Append(nil, &ev, c))
}

// A hostile argv, filename or command name cannot break the line, move the
// cursor or send the terminal an escape sequence.
func TestTextEscapesHostileBytes(t *testing.T) {
	hostile := "a\nb\rc\x1b[2Jd\x1b]0;title\x07e\x08f\x7fg\u009b31mh\xff\xc3i\tj\\k"
	ev := tracer.Event{Type: tracer.TypeExec, Time: time.Now(), PID: 1, PPID: 0,
		Comm: []byte(hostile[:15]), Filename: []byte(hostile), Args: []byte(hostile + "\x00\x00x y\x00")}
	line := textLine(false, ev)
	if strings.Count(line, "\n") != 1 || !strings.HasSuffix(line, "\n") {
		t.Fatalf("not one line: %q", line)
	}
	for _, r := range strings.TrimSuffix(line, "\n") {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == utf8.RuneError {
			t.Fatalf("control character %U (or invalid UTF-8) in %q", r, line)
		}
	}
	want := `a\x0ab\x0dc\x1b[2Jd\x1b]0;title\x07e\x08f\x7fg\xc2\x9b31mh\xff\xc3i\x09j\\k`
	if !strings.Contains(line, " "+want+" "+want+` "" "x y"`) {
		t.Errorf("got %q\nwant filename and args rendered as %q, then \"\" and \"x y\"", line, want)
	}
}

func TestTextColumns(t *testing.T) {
	when := time.Date(2026, 1, 1, 12, 0, 0, 0, time.Local)
	common := tracer.Event{Time: when, BootNs: 2e9, StartNs: 1e9, PID: 1234567, PPID: 1, Comm: []byte("bash")}
	fork, exec, exit, signalled, lost := common, common, common, common, tracer.Event{Type: tracer.TypeLost, Time: when, LostCount: 5}
	fork.Type = tracer.TypeFork
	exec.Type, exec.Filename, exec.Args = tracer.TypeExec, []byte("/bin/ls"), []byte("ls\x00-l\x00")
	exit.Type, exit.Status = tracer.TypeExit, 3<<8
	signalled.Type, signalled.Status = tracer.TypeExit, 0x8b
	long := fork
	long.Comm = []byte("fifteen-chars-x")
	longCtr := &proctree.Container{ID: "0123456789abcdef"}

	header := EventTextHeader
	commCol := strings.Index(header, "COMM")
	detailsCol := strings.Index(header, "DETAILS")
	pidEnd := strings.Index(header, "PID") + len("PID")
	tests := []struct {
		ev      tracer.Event
		ctr     *proctree.Container
		details string
	}{
		{fork, nil, ""},
		{exec, nil, "/bin/ls ls -l"},
		{exit, nil, "exit 3 after 1s"},
		{signalled, nil, "killed by SIGSEGV (core dumped) after 1s"},
		{lost, nil, "5 events lost: the ring buffer was full"},
		{long, longCtr, "[container 0123456789ab]"},
	}
	for _, tt := range tests {
		line := strings.TrimSuffix(textLine(false, tt.ev, tt.ctr), "\n")
		if strings.HasSuffix(line, " ") {
			t.Errorf("trailing space: %q", line)
		}
		if !strings.HasPrefix(line, "12:00:00.000000 "+tt.ev.Type.String()) {
			t.Errorf("time and event: %q", line)
		}
		if tt.ev.Type != tracer.TypeLost && line[pidEnd-7:pidEnd] != "1234567" {
			t.Errorf("pid not right-aligned under PID: %q\n%q", line, header)
		}
		if !strings.HasPrefix(line[commCol:], string(tt.ev.Comm)) && tt.ev.Type != tracer.TypeLost {
			t.Errorf("comm not under COMM: %q\n%q", line, header)
		}
		if tt.details != "" && (len(line) < detailsCol || line[detailsCol:] != tt.details) {
			t.Errorf("details not %q under DETAILS: %q\n%q", tt.details, line, header)
		}
		if tt.details == "" && len(line) != commCol+len(tt.ev.Comm) {
			t.Errorf("fork line does not end at its comm: %q", line)
		}
	}
	if strings.HasSuffix(strings.TrimSuffix(header, "\n"), " ") {
		t.Errorf("header ends in a space: %q", header)
	}
}

func TestTextColour(t *testing.T) {
	ev := tracer.Event{Type: tracer.TypeExit, Time: time.Now(), Comm: []byte("sh")}
	if line := textLine(false, ev); strings.Contains(line, "\x1b") {
		t.Errorf("colour without a terminal: %q", line)
	}
	if line := textLine(true, ev); !strings.Contains(line, ansiRed+"exit"+ansiReset) {
		t.Errorf("no colour on a terminal: %q", line)
	}
}
