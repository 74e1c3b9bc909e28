package otlp

import (
	"maps"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"

	"github.com/pstrace/pstrace/engine"
	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

var (
	testStart = time.Date(2026, 11, 30, 4, 5, 6, 123456789, time.UTC)
	testCtr   = &proctree.Container{ID: "0123456789abcdef", Namespace: "k8s.io", ShimPID: 42, Source: "shim",
		Engine: &engine.Info{Name: "web", Image: "registry.local:5000/web:1.27", ImageID: "sha256:abcd", Confirmed: engine.Confirmed,
			Labels: map[string]string{"io.kubernetes.pod.name": "web-7f9", "io.kubernetes.pod.namespace": "shop",
				"io.kubernetes.pod.uid": "uid-1", "io.kubernetes.container.name": "web"}}}
)

// testEvents has one event of each type, in Type order; exec's argv holds
// a byte that is not UTF-8 and is truncated.
func testEvents() []*tracer.Event {
	base := tracer.Event{
		Time: testStart.Add(1500 * time.Millisecond), BootNs: 5_000_000_000, StartNs: 3_500_000_000,
		PID: 100, TID: 101, PPID: 1, UID: 1000, GID: 1001, NsPID: 7, CgroupID: 1234, Comm: []byte("sh"),
	}
	fork, exec, exit, rename := base, base, base, base
	lost := tracer.Event{Type: tracer.TypeLost, Time: base.Time, LostCount: 17, LostReason: tracer.LostFollowFull}
	fork.Type = tracer.TypeFork
	exec.Type = tracer.TypeExec
	exec.Filename = []byte("/bin/sh")
	exec.Args = []byte("sh\x00-c\x00echo \xff\x00trunc")
	exec.ArgsTruncated = true
	exit.Type = tracer.TypeExit
	exit.Status = 9 | 0x80 // SIGKILL, core dumped
	rename.Type = tracer.TypeRename
	rename.Comm = []byte("worker")
	return []*tracer.Event{&fork, &exec, &exit, &rename, &lost}
}

// decode sends events through the encoder and the frame, and reads the
// request back with the collector's own pdata.
func decode(t *testing.T, evs []*tracer.Event, ctr *proctree.Container) plog.Logs {
	t.Helper()
	f := newFrame("v1.2.3")
	var enc encoder
	buf := make([]byte, f.headroom())
	for _, ev := range evs {
		role := proctree.RoleNone
		if ctr != nil {
			role = proctree.RoleExec
		}
		buf = enc.appendRecord(buf, ev, ctr, role)
	}
	req := plogotlp.NewExportRequest()
	if err := req.UnmarshalProto(f.wrap(buf, f.headroom())); err != nil {
		t.Fatalf("the request is not OTLP: %v", err)
	}
	return req.Logs()
}

func TestRecordsDecode(t *testing.T) {
	logs := decode(t, testEvents(), testCtr)
	if n := logs.ResourceLogs().Len(); n != 1 {
		t.Fatalf("%d resources, want 1", n)
	}
	rl := logs.ResourceLogs().At(0)
	res := rl.Resource().Attributes().AsRaw()
	host, _ := os.Hostname()
	for k, want := range map[string]any{"service.name": "pstrace", "service.version": "v1.2.3", "host.name": host, "os.type": "linux"} {
		if res[k] != want {
			t.Errorf("resource %s = %v, want %v", k, res[k], want)
		}
	}
	for k := range res {
		if !slices.ContainsFunc(ResourceMapping, func(f ResourceField) bool { return f.Key == k }) {
			t.Errorf("resource attribute %s is not in ResourceMapping", k)
		}
	}
	sl := rl.ScopeLogs().At(0)
	if sl.Scope().Name() != "pstrace" || sl.Scope().Version() != "v1.2.3" {
		t.Errorf("scope %s %s, want pstrace v1.2.3", sl.Scope().Name(), sl.Scope().Version())
	}
	recs := sl.LogRecords()
	if recs.Len() != 5 {
		t.Fatalf("%d records, want 5", recs.Len())
	}
	want := []map[string]any{
		{"process.executable.name": "sh", "process.pid": int64(100), "thread.id": int64(101), "process.parent_pid": int64(1),
			"process.vpid": int64(7), "process.real_user.id": int64(1000), "pstrace.process.real_group.id": int64(1001),
			"pstrace.process.cgroup.id": int64(1234), "process.creation.time": "2026-11-30T04:05:06.123456789Z",
			"container.id": "0123456789abcdef", "pstrace.container.namespace": "k8s.io", "pstrace.container.shim_pid": int64(42),
			"pstrace.container.source": "shim", "pstrace.process.role": "exec", "container.name": "web", "container.image.name": "registry.local:5000/web",
			"container.image.tags": []any{"1.27"}, "container.image.id": "sha256:abcd", "pstrace.container.confirmed": true,
			"container.label.io.kubernetes.pod.name": "web-7f9", "container.label.io.kubernetes.pod.namespace": "shop",
			"container.label.io.kubernetes.pod.uid": "uid-1", "container.label.io.kubernetes.container.name": "web",
			"k8s.pod.name": "web-7f9", "k8s.namespace.name": "shop", "k8s.pod.uid": "uid-1", "k8s.container.name": "web"},
		{"process.executable.path": "/bin/sh", "process.command_args": []any{"sh", "-c", `echo \xff`, "trunc"},
			"process.args_count": int64(4), "pstrace.process.args_truncated": true},
		{"process.exit.code": int64(0), "pstrace.process.exit.signal": int64(9), "pstrace.process.exit.core_dumped": true,
			"pstrace.process.duration_ns": int64(1_500_000_000)},
		{"process.executable.name": "worker"},
		{"pstrace.lost.count": int64(17), "pstrace.lost.reason": "followed_set_full"},
	}
	bodies := []string{"fork sh", "exec /bin/sh", "killed by signal 9 (core dumped)", "rename worker", "17 events lost: followed_set_full"}
	for i, ev := range testEvents() {
		r := recs.At(i)
		if r.EventName() != EventName[ev.Type] {
			t.Errorf("record %d: event name %q, want %q", i, r.EventName(), EventName[ev.Type])
		}
		if !r.Timestamp().AsTime().Equal(ev.Time) || !r.ObservedTimestamp().AsTime().Equal(ev.Time) {
			t.Errorf("%s: time %v observed %v, want %v", ev.Type, r.Timestamp(), r.ObservedTimestamp(), ev.Time)
		}
		if r.Body().AsString() != bodies[i] {
			t.Errorf("%s: body %q, want %q", ev.Type, r.Body().AsString(), bodies[i])
		}
		common := maps.Clone(want[0])
		switch ev.Type {
		case tracer.TypeLost:
			common = nil
		case tracer.TypeRename:
			delete(common, "process.executable.name")
		}
		checkAttrs(t, ev, r.Attributes(), common, want[i])
	}
	if s := recs.At(4).SeverityNumber(); s != plog.SeverityNumberWarn {
		t.Errorf("lost: severity %v, want WARN", s)
	}
	if s := recs.At(1).SeverityNumber(); s != plog.SeverityNumberInfo {
		t.Errorf("exec: severity %v, want INFO", s)
	}
}

// checkAttrs checks that the record of ev carries exactly the attributes
// that Mapping gives it, of the types it says, with the values in common
// (fork, exec and exit) and own.
func checkAttrs(t *testing.T, ev *tracer.Event, attrs pcommon.Map, common, own map[string]any) {
	t.Helper()
	typ := ev.Type
	got := attrs.AsRaw()
	for _, f := range Mapping {
		applies := carries(f, ev)
		if prefix, ok := strings.CutSuffix(f.Key, "<key>"); ok { // a template: one attribute per label
			n := 0
			for k := range got {
				if strings.HasPrefix(k, prefix) {
					n++
					delete(got, k)
				}
			}
			if (n > 0) != applies {
				t.Errorf("%s: %d attributes %s, want them: %v", typ, n, f.Key, applies)
			}
			continue
		}
		v, ok := attrs.Get(f.Key)
		if ok != applies {
			t.Errorf("%s: has %s = %v, want it: %v", typ, f.Key, ok, applies)
			continue
		}
		if !ok {
			continue
		}
		types := map[string]pcommon.ValueType{"int": pcommon.ValueTypeInt, "string": pcommon.ValueTypeStr,
			"bool": pcommon.ValueTypeBool, "string[]": pcommon.ValueTypeSlice}
		if v.Type() != types[f.Type] {
			t.Errorf("%s: %s is %v, Mapping says %s", typ, f.Key, v.Type(), f.Type)
		}
		delete(got, f.Key)
	}
	for k := range got {
		t.Errorf("%s: attribute %s is not in Mapping", typ, k)
	}
	for _, want := range []map[string]any{common, own} {
		for k, w := range want {
			if v, ok := attrs.Get(k); !ok || !equalRaw(v.AsRaw(), w) {
				t.Errorf("%s: %s = %#v, want %#v", typ, k, v.AsRaw(), w)
			}
		}
	}
}

// carries says whether Mapping gives the record of ev the attribute of f:
// its Events name ev's type, and what they say after it holds.
func carries(f Field, ev *tracer.Event) bool {
	if !strings.Contains(f.Events, ev.Type.String()) {
		return false
	}
	switch {
	case strings.HasSuffix(f.Events, " whose argv was cut"):
		return ev.ArgsTruncated
	case strings.HasSuffix(f.Events, " by a signal"):
		return ev.Status.Signal() != 0
	}
	return true
}

func equalRaw(a, b any) bool {
	as, aok := a.([]any)
	bs, bok := b.([]any)
	if aok && bok {
		return slices.Equal(as, bs)
	}
	return a == b
}

// An exec whose argv was whole and an exit by exit(2) leave out the
// attributes that would say so; the exit code 0 of a clean exit stays.
func TestUnsetLeftOut(t *testing.T) {
	evs := testEvents()
	exec, exit, clean := evs[1], evs[2], *evs[2]
	exec.ArgsTruncated = false
	exit.Status = 7 << 8
	clean.Status = 0
	recs := decode(t, []*tracer.Event{exec, exit, &clean}, testCtr).ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
	own := []map[string]any{
		{"process.args_count": int64(4)},
		{"process.exit.code": int64(7)},
		{"process.exit.code": int64(0)},
	}
	for i, ev := range []*tracer.Event{exec, exit, &clean} {
		checkAttrs(t, ev, recs.At(i).Attributes(), nil, own[i])
	}
	if body := recs.At(1).Body().AsString(); body != "exit 7" {
		t.Errorf("exit: body %q, want %q", body, "exit 7")
	}
}

// Outside a container a record has no container attributes.
func TestNoContainer(t *testing.T) {
	logs := decode(t, testEvents()[:1], nil)
	attrs := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords().At(0).Attributes()
	for _, k := range []string{keyContainerID, keyContainerNS, keyShimPID, keySource, keyRole, keyName, keyPodName} {
		if _, ok := attrs.Get(k); ok {
			t.Errorf("%s set outside a container", k)
		}
	}
}

// A record is written in place with room for a two-byte length; one
// longer than 16 KiB needs three, and is moved: both decode.
func TestRecordLengths(t *testing.T) {
	for _, argLen := range []int{10, 16 << 10, 64 << 10} {
		ev := testEvents()[1]
		ev.Args = []byte(strings.Repeat("a", argLen) + "\x00")
		ev.ArgsTruncated = false
		logs := decode(t, []*tracer.Event{ev, testEvents()[2]}, testCtr)
		recs := logs.ResourceLogs().At(0).ScopeLogs().At(0).LogRecords()
		if recs.Len() != 2 {
			t.Fatalf("args of %d bytes: %d records, want 2", argLen, recs.Len())
		}
		args, _ := recs.At(0).Attributes().Get(keyArgs)
		if got := args.Slice().At(0).Str(); len(got) != argLen {
			t.Errorf("args of %d bytes: decoded %d", argLen, len(got))
		}
		if name := recs.At(1).EventName(); name != eventNames[tracer.TypeExit] {
			t.Errorf("args of %d bytes: the next record is %q, want the exit", argLen, name)
		}
	}
}

// Encoding an event into a warm batch allocates nothing.
func TestEncodeAllocs(t *testing.T) {
	evs := testEvents()
	var enc encoder
	buf := make([]byte, 0, 64<<10)
	allocs := testing.AllocsPerRun(100, func() {
		buf = buf[:0]
		for _, ev := range evs {
			buf = enc.appendRecord(buf, ev, testCtr, proctree.RoleExec)
		}
	})
	if allocs != 0 {
		t.Errorf("%v allocations per run of 4 events, want 0", allocs)
	}
}

// The formatter that keeps the minute writes what time's own formatting
// does, across minutes, days and years, backwards too, and before 1970.
func TestTimeFormat(t *testing.T) {
	var tf timeFormat
	start := time.Date(1969, 12, 31, 23, 58, 30, 0, time.UTC)
	for _, step := range []time.Duration{7*time.Second + 123456789, -13*time.Second - 1, 61 * time.Second, 400 * 24 * time.Hour} {
		tm := start
		for range 40 {
			want := tm.UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
			if got := string(tf.append(nil, tm)); got != want {
				t.Fatalf("%v: %s, want %s", tm, got, want)
			}
			tm = tm.Add(step)
		}
	}
}

// A time formatted afresh (its minute not kept) is what time's own
// formatting writes, whatever its zone.
func TestAppendRFC3339(t *testing.T) {
	for _, tm := range []time.Time{
		testStart, time.Unix(0, 0), time.Date(1999, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2026, 3, 1, 0, 0, 0, 1, time.FixedZone("east", 5*3600+1800)),
	} {
		want := tm.UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
		var tf timeFormat
		if got := string(tf.append(nil, tm)); got != want {
			t.Errorf("%v: %s, want %s", tm, got, want)
		}
	}
}
