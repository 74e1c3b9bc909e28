package main

import (
	"bytes"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/pstrace/pstrace/internal/otlp"
)

// The export floor: what moving one storm's data costs, as OTLP requests
// through loopback TCP and as JSON Lines into a file, by a program that
// does nothing else. The sizes and the pace are pstrace's own, taken in
// this run: a storm under pstrace printing JSON to a file, and under
// pstrace exporting over OTLP/HTTP to sink, which keeps the requests and
// answers each with an empty success. Set beside the encoding costs of the
// Go benchmarks, it says what export would cost against JSON output with
// nothing but its bytes and its encoding to pay for.
type exportFloor struct {
	JSONBytes, JSONLines   int64 // one storm's JSON output
	OTLPBytes, OTLPRecords int64 // one storm's OTLP request bodies and the log records in them
	StormSeconds           float64
	// BatchBytes is the size of each write to the socket: a batch, or the
	// storm's requests when it filled none.
	BatchBytes int
	// FileMs and TCPMs are CPU ms per 1,000 events: writing JSON lines into
	// a file, sending records through loopback TCP.
	FileMs, TCPMs summary
}

// floorEvents is how many events' bytes each measurement moves: enough
// for milliseconds of CPU, well above the thread clock's grain.
const floorEvents = 10_000

// floorWrite is pstrace's output buffer, flushed in writes of at most
// this; an export batch holds otlp.BatchRecords records, and floorBatch
// bytes of requests, as many as a batch holds at most, are kept to send.
const (
	floorWrite = 64 << 10
	floorBatch = 3 << 20
)

// jsonLine is the per-line size of JSON output, otlpRecord of a record.
func (f exportFloor) jsonLine() float64 { return float64(f.JSONBytes) / float64(f.JSONLines) }
func (f exportFloor) otlpRecord() float64 {
	return float64(f.OTLPBytes) / float64(f.OTLPRecords)
}

// measureExportFloor takes one storm's sizes under pstrace, then moves
// floorEvents events' worth of each, rounds alternating.
func (rn *runner) measureExportFloor(pstrace string, spawns, rounds int) (exportFloor, error) {
	var res exportFloor
	sink, err := startSink()
	if err != nil {
		return res, err
	}
	defer sink.close()
	jsonTool := tracerTool{Name: "pstrace, JSON output sized", Cmd: []string{pstrace, "events", "--format", "json"}, Progs: 4,
		count: func(stdoutPath, _ string) (int64, int64) {
			data, _ := os.ReadFile(stdoutPath)
			res.JSONBytes, res.JSONLines = int64(len(data)), int64(bytes.Count(data, []byte{'\n'}))
			return res.JSONLines, 0
		}}
	exportTool := tracerTool{Name: "pstrace, OTLP export sized", Cmd: []string{pstrace, "events", "--output", "none", "--otlp-endpoint", "http://" + sink.addr}, Progs: 4,
		count: func(_, _ string) (int64, int64) {
			res.OTLPBytes, res.OTLPRecords = sink.totals()
			return res.OTLPRecords, 0
		}}
	storm := []string{"-n", strconv.Itoa(spawns), "-workers", "2"}
	for _, t := range []tracerTool{jsonTool, exportTool} {
		run, err := rn.runUnder(t, storm...)
		if err != nil {
			return res, fmt.Errorf("%s: %w", t.Name, err)
		}
		res.StormSeconds = run.Storm.Seconds // the export run's, the last: its pace is the one paced
	}
	if res.JSONLines == 0 || res.OTLPRecords == 0 || len(sink.payload()) == 0 {
		return res, fmt.Errorf("sizing a storm: %d JSON lines, %d OTLP records", res.JSONLines, res.OTLPRecords)
	}
	// Each side moves its bytes at the storm's pace: pstrace writes its
	// output as events come, and sends a batch as it fills. A write after
	// a pause costs more than one straight after another.
	eventsPerSec := float64(res.OTLPRecords) / res.StormSeconds
	jsonBytes, jsonWrite := int(res.jsonLine()*floorEvents), floorWrite
	otlpBytes := int(res.otlpRecord() * floorEvents)
	otlpWrite := min(int(res.otlpRecord()*otlp.BatchRecords), len(sink.payload()))
	res.BatchBytes = otlpWrite
	pace := func(bytesPerEvent float64, write int) time.Duration {
		return time.Duration(float64(write) / bytesPerEvent / eventsPerSec * float64(time.Second))
	}
	var file, tcp []float64
	for r := 0; r < rounds; r++ {
		ms, err := rn.writeFileFloor(jsonBytes, jsonWrite, pace(res.jsonLine(), jsonWrite))
		if err != nil {
			return res, err
		}
		file = append(file, ms*1000/floorEvents)
		if ms, err = sendFloor(sink.payload(), otlpBytes, otlpWrite, pace(res.otlpRecord(), otlpWrite)); err != nil {
			return res, err
		}
		tcp = append(tcp, ms*1000/floorEvents)
	}
	res.FileMs, res.TCPMs = summarize(file), summarize(tcp)
	return res, nil
}

// threadCPU is the calling thread's CPU time in ms, by the scheduler's
// clock that /proc/PID/task/*/schedstat, which measures the tracers, also
// reads (getrusage's is sampled at ticks).
func threadCPU() float64 {
	var ts unix.Timespec
	unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts)
	return float64(ts.Nano()) / 1e6
}

// writeFileFloor writes n bytes into a file of the work directory, where
// the JSON rows' output goes, size bytes a write, a pause after each.
func (rn *runner) writeFileFloor(n, size int, pause time.Duration) (float64, error) {
	path := filepath.Join(rn.outDir, "floor.json")
	f, err := os.Create(path)
	if err != nil {
		return 0, err
	}
	defer os.Remove(path)
	defer f.Close()
	return pacedWrites(f, bytes.Repeat([]byte{'x'}, size), n, pause)
}

// sendFloor sends n bytes of payload to a reader on loopback TCP that
// discards them, size bytes a write, a pause after each. The receive path
// the kernel runs on the sending thread is in its clock, as it is for
// pstrace.
func sendFloor(payload []byte, n, size int, pause time.Duration) (float64, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("export floor: %w", err)
	}
	defer l.Close()
	read := make(chan error, 1)
	go func() {
		c, err := l.Accept()
		if err == nil {
			_, err = io.Copy(io.Discard, c)
			c.Close()
		}
		read <- err
	}()
	c, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		return 0, fmt.Errorf("export floor: %w", err)
	}
	ms, err := pacedWrites(c, payload[:min(size, len(payload))], n, pause)
	c.Close()
	if rerr := <-read; err == nil && rerr != nil {
		err = fmt.Errorf("export floor: %w", rerr)
	}
	return ms, err
}

// pacedWrites writes n bytes to w, at most len(data) a write and a pause
// after each, and returns the CPU ms the writes alone took on this thread:
// pstrace's event loop wakes as often in either mode, so the pauses do
// not count.
func pacedWrites(w io.Writer, data []byte, n int, pause time.Duration) (float64, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var ms float64
	for left := n; left > 0; {
		k := min(left, len(data))
		start := threadCPU()
		_, err := w.Write(data[:k])
		ms += threadCPU() - start
		if err != nil {
			return 0, fmt.Errorf("export floor: %w", err)
		}
		left -= k
		time.Sleep(pause)
	}
	return ms, nil
}

// floorFigures are the floor's pieces per 1,000 events, in ms: moving the
// bytes (file, tcp) and making them (the Go benchmarks' line and record).
type floorFigures struct {
	file, tcp, line, record float64
}

// figures are the floor's pieces, when the Go benchmarks ran.
func (r *report) exportFloorFigures() (floorFigures, bool) {
	f := r.ExportFloor
	js, okJ := findBench(r.GoBench, benchRenderJSON)
	ob, okO := findBench(r.GoBench, benchOTLPRecord)
	if f == nil || !okJ || !okO {
		return floorFigures{}, false
	}
	// ns per event is µs per 1,000 events: / 1000 for ms.
	return floorFigures{file: f.FileMs.Median, tcp: f.TCPMs.Median, line: js.Metrics["ns/op"] / 1000, record: ob.Metrics["ns/op"] / 1000}, true
}

// more is what export pays per 1,000 events above JSON output at the floor.
func (g floorFigures) more() float64 { return g.tcp + g.record - g.file - g.line }

func (r *report) writeExportFloor(w writer) {
	f := r.ExportFloor
	if f == nil {
		return
	}
	w("## 9. Export's floor: moving the bytes\n\n")
	w("One storm of %d spawns under pstrace printing JSON to a file wrote %d lines, %s bytes each on average; under pstrace exporting over OTLP/HTTP to a sink of this benchmark (which keeps the requests and answers each with an empty success), the requests held %d records, %s bytes each. A program that does nothing else then moves %d events' worth of each at the storm's pace (%.0f events/s), the way pstrace does: JSON into a file of the work directory in writes of %d KiB, the records' bytes through loopback TCP to a reader that discards them in writes of %d KiB (a batch of up to %d records, or as many as the storm sent). Only the writing thread's CPU counts (its scheduler clock, as for the tracers), the kernel's receive path run on it included, as it is for pstrace. Median (min–max) over %d rounds, per 1,000 events.\n\n",
		r.Config.spawns, f.JSONLines, num(0, f.jsonLine()), f.OTLPRecords, num(0, f.otlpRecord()), floorEvents, float64(f.OTLPRecords)/f.StormSeconds, floorWrite>>10, f.BatchBytes>>10, otlp.BatchRecords, f.FileMs.N)
	w("| Moving | bytes per event | CPU ms per 1,000 events |\n|---|---|---|\n")
	w("| JSON lines into a file | %s | %s |\n", num(0, f.jsonLine()), rangeOf(f.FileMs, fixed(3)))
	w("| OTLP records through loopback TCP | %s | %s |\n\n", num(0, f.otlpRecord()), rangeOf(f.TCPMs, fixed(3)))
	g, ok := r.exportFloorFigures()
	if !ok {
		w("The Go benchmarks did not run: no encoding costs to set beside these.\n\n")
		return
	}
	w("With the encoding costs of the Go benchmarks (one record %s ms, one JSON line %s ms per 1,000), export at its floor costs %s ms per 1,000 events %s than JSON output: %s + %s against %s + %s.\n\n",
		num(3, g.record), num(3, g.line), num(3, math.Abs(g.more())), moreOrLess(g.more()), num(3, g.tcp), num(3, g.record), num(3, g.file), num(3, g.line))
}

func moreOrLess(x float64) string {
	if x > 0 {
		return "more"
	}
	return "less"
}

// exportFloorLoss says, when export costs more than JSON output, how much
// of the difference its floor accounts for.
func (r *report) exportFloorLoss() (string, bool) {
	g, ok := r.exportFloorFigures()
	if !ok {
		return "", false
	}
	// As the targets do, by the paired rounds (section 10).
	p := summarize(r.ExportPaired.cpuMs(namePstrace)).Median
	var over []string
	for _, row := range otlpRows {
		if q := r.ExportPaired.ratio(row.name); q.Median > 1 {
			d := (q.Median - 1) * p
			over = append(over, fmt.Sprintf("over %s by %s ms (%.2f times), %s ms of it above the floor", row.protocol, num(2, d), q.Median, num(2, d-g.more())))
		}
	}
	if len(over) == 0 {
		return "", false
	}
	floor := fmt.Sprintf("export could cost %s ms per 1,000 events less than JSON output if it paid for nothing else", num(2, -g.more()))
	if g.more() > 0 {
		floor = fmt.Sprintf("on this machine export cannot cost less than JSON output: at its floor it costs %s ms per 1,000 events more (%.2f times JSON output's %s ms)", num(2, g.more()), (p+g.more())/p, num(2, p))
	}
	return fmt.Sprintf("Export's floor (section 9): a record's bytes through loopback TCP cost %s ms per 1,000 events against %s ms for a JSON line's into a file, and encoding a record %s ms against %s ms for rendering a line, so %s. Measured, export costs more than JSON output %s: what is above the floor is what export does besides encoding and moving its bytes (the sender's thread, requests and responses).",
		num(3, g.tcp), num(3, g.file), num(3, g.record), num(3, g.line), floor, strings.Join(over, ", ")), true
}
