package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/otlp/otlptest"
	"github.com/pstrace/pstrace/internal/testutil"
)

// The tests named TestCollector* run a real OpenTelemetry Collector, built
// from the collector's Go modules (see internal/otlp/otlptest); VMs, which
// have no Go toolchain to build it, leave them out.

// exporting is a running pstrace whose OTLP export the test watches.
type exporting struct {
	t      *testing.T
	cmd    *exec.Cmd
	stdout *lineCounter
	stderr *testutil.SyncBuffer
}

// startExporting runs pstrace events with args, its JSON output counted
// (never blocking it) and its stderr kept.
func startExporting(t *testing.T, args ...string) *exporting {
	t.Helper()
	testutil.RequireRoot(t)
	p := &exporting{t: t, stdout: &lineCounter{}, stderr: &testutil.SyncBuffer{}}
	p.cmd = pstraceCmd(append([]string{"events", "--format", "json"}, args...)...)
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			p.cmd.Process.Kill()
			p.cmd.Wait()
		}
	})
	return p
}

// stop interrupts pstrace and fails the test unless it exits 0.
func (p *exporting) stop() {
	p.t.Helper()
	if err := interrupt(p.cmd); err != nil {
		p.t.Fatalf("pstrace after SIGINT: %v; stderr:\n%s", err, p.stderr)
	}
}

// waitAttached runs true until the collector has its exit: then pstrace is
// attached and exporting.
func waitAttachedOTLP(t *testing.T, col *otlptest.Collector) {
	t.Helper()
	for deadline := time.Now().Add(hangGuard); time.Now().Before(deadline); {
		pid := int64(runBin(t, testutil.LookBin(t, "true")))
		for wait := time.Now().Add(3 * time.Second); time.Now().Before(wait); time.Sleep(100 * time.Millisecond) {
			for _, r := range col.Records() {
				if v, _ := r.Int("process.pid"); v == pid && r.EventName == "process.exit" {
					return
				}
			}
		}
	}
	t.Fatalf("the collector never received an exit of true; its log:\n%s", col.Stderr())
}

// A known workload's fork, exec and exit arrive with their attributes, over
// gRPC, over HTTP, and over TLS with a bearer token by each protocol, each
// to a real collector.
func TestCollectorExport(t *testing.T) {
	testutil.RequireRoot(t)
	col := otlptest.Start(t)
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"grpc", []string{"--otlp-endpoint", "grpc://" + col.GRPC}},
		{"http", []string{"--otlp-endpoint", "http://" + col.HTTP}},
		{"https-token", []string{"--otlp-endpoint", "https://" + col.HTTPS + "/v1/logs", "--otlp-ca", col.CAFile,
			"--otlp-header", "Authorization=Bearer " + col.Token}},
		{"grpc-tls-token", []string{"--otlp-endpoint", "https://" + col.GRPCS, "--otlp-protocol", "grpc", "--otlp-ca", col.CAFile,
			"--otlp-header", "Authorization=Bearer " + col.Token}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startExporting(t, tc.args...)
			waitAttachedOTLP(t, col)
			marker := fmt.Sprintf("pstrace-otlp-%s-%d", tc.name, time.Now().UnixNano())
			sh := exec.Command("/bin/sh", "-c", "exit 7", marker)
			sh.Run()
			pid := int64(sh.Process.Pid)
			killed := exec.Command(testutil.LookBin(t, "sleep"), "600")
			if err := killed.Start(); err != nil {
				t.Fatal(err)
			}
			killed.Process.Kill()
			killed.Wait()
			checkWorkload(t, col, pid, marker)
			kr := col.WaitFor("the exit of the killed sleep", func(r otlptest.Record) bool {
				v, _ := r.Int("process.pid")
				return v == int64(killed.Process.Pid) && r.EventName == "process.exit"
			})
			if sig, _ := kr.Int("pstrace.process.exit.signal"); sig != 9 || kr.Attrs["pstrace.process.exit.core_dumped"] != false || kr.Body != "killed by signal 9" {
				t.Errorf("killed sleep: signal %d, core dumped %v, body %q; want 9, false, %q", sig, kr.Attrs["pstrace.process.exit.core_dumped"], kr.Body, "killed by signal 9")
			}
			p.stop()
			if s := p.stderr.String(); s != "" {
				t.Errorf("pstrace said on stderr:\n%s", s)
			}
		})
	}
}

// checkWorkload checks the fork, exec and exit records of sh -c "exit 7".
func checkWorkload(t *testing.T, col *otlptest.Collector, pid int64, marker string) {
	t.Helper()
	of := func(name string) otlptest.Record {
		return col.WaitFor(name+" of the workload", func(r otlptest.Record) bool {
			v, _ := r.Int("process.pid")
			return v == pid && r.EventName == name
		})
	}
	host, _ := os.Hostname()
	self := int64(os.Getpid())
	want := map[string]map[string]any{
		"process.fork": {"process.parent_pid": self, "process.real_user.id": int64(0), "pstrace.process.real_group.id": int64(0)},
		"process.exec": {"process.parent_pid": self, "process.executable.path": "/bin/sh", "process.executable.name": "sh",
			"process.args_count": int64(4)},
		"process.exit": {"process.parent_pid": self, "process.exit.code": int64(7), "process.executable.name": "sh"},
	}
	// Left out: what would only say that nothing happened.
	unset := map[string][]string{
		"process.exec": {"pstrace.process.args_truncated"},
		"process.exit": {"pstrace.process.exit.signal", "pstrace.process.exit.core_dumped"},
	}
	for name, attrs := range want {
		r := of(name)
		if r.Resource["service.name"] != "pstrace" || r.Resource["host.name"] != host || r.Resource["os.type"] != "linux" || r.Scope != "pstrace" {
			t.Errorf("%s: resource %v, scope %q", name, r.Resource, r.Scope)
		}
		for k, v := range attrs {
			if r.Attrs[k] != v {
				t.Errorf("%s: %s = %#v, want %#v", name, k, r.Attrs[k], v)
			}
		}
		for _, k := range unset[name] {
			if v, ok := r.Attrs[k]; ok {
				t.Errorf("%s: %s = %#v, want it left out", name, k, v)
			}
		}
		created, err := time.Parse(time.RFC3339Nano, fmt.Sprint(r.Attrs["process.creation.time"]))
		if err != nil || created.After(r.Time) || r.Time.Sub(created) > hangGuard {
			t.Errorf("%s: process.creation.time %v for a record of %v", name, r.Attrs["process.creation.time"], r.Time)
		}
		switch name {
		case "process.exec":
			args := fmt.Sprint(r.Attrs["process.command_args"])
			if args != fmt.Sprint([]any{"/bin/sh", "-c", "exit 7", marker}) {
				t.Errorf("exec: process.command_args %s", args)
			}
		case "process.exit":
			if d, _ := r.Int("pstrace.process.duration_ns"); d <= 0 || r.Body != "exit 7" {
				t.Errorf("exit: duration %d ns, body %q", d, r.Body)
			}
		}
	}
}

// Without the token the receiver refuses every request: pstrace goes on,
// and says on stderr that it dropped records, and why, whichever the
// protocol.
func TestCollectorRefused(t *testing.T) {
	testutil.RequireRoot(t)
	col := otlptest.Start(t)
	for _, tc := range []struct {
		name, endpoint, protocol, why string
	}{
		{"http", "https://" + col.HTTPS, "http/protobuf", "401"},
		{"grpc", "https://" + col.GRPCS, "grpc", "Unauthenticated"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := startExporting(t, "--otlp-endpoint", tc.endpoint, "--otlp-protocol", tc.protocol, "--otlp-ca", col.CAFile)
			for deadline := time.Now().Add(hangGuard); !strings.Contains(p.stderr.String(), "records dropped"); time.Sleep(200 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatalf("pstrace never said it dropped records; stderr:\n%s", p.stderr)
				}
				runBin(t, testutil.LookBin(t, "true"))
			}
			p.stop()
			for _, l := range strings.Split(strings.TrimSpace(p.stderr.String()), "\n") {
				if !strings.HasPrefix(l, "pstrace: otlp: ") || !strings.Contains(l, "refused them") || !strings.Contains(l, tc.why) {
					t.Errorf("stderr line %q, want a drop refused with %s", l, tc.why)
				}
			}
			if p.stdout.lines() == 0 {
				t.Error("pstrace printed no event")
			}
		})
	}
}

// lineCounter counts the lines written to it, and those holding a
// marker, keeping none but an unfinished last line.
type lineCounter struct {
	mu      sync.Mutex
	n       int
	marker  []byte
	matched int
	tail    []byte
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n += bytes.Count(p, []byte{'\n'})
	if len(c.marker) > 0 {
		c.tail = append(c.tail, p...)
		if i := bytes.LastIndexByte(c.tail, '\n'); i >= 0 {
			c.matched += bytes.Count(c.tail[:i], c.marker)
			c.tail = append(c.tail[:0], c.tail[i+1:]...)
		}
	}
	return len(p), nil
}

func (c *lineCounter) lines() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// count starts counting the lines that hold marker.
func (c *lineCounter) count(marker string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.marker, c.matched, c.tail = []byte(marker), 0, c.tail[:0]
}

func (c *lineCounter) counted() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.matched
}

// Bad export flags: one line naming the flag, exit status 1, before
// anything is loaded (so without root too).
func TestBadExportFlags(t *testing.T) {
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"events", "--otlp-endpoint", "ftp://host"}, `--otlp-endpoint "ftp://host": scheme "ftp": must be grpc, http or https`},
		{[]string{"events", "--otlp-endpoint", "localhost:4317"}, `--otlp-endpoint "localhost:4317": want grpc://HOST:PORT or http(s)://HOST:PORT[/PATH]`},
		{[]string{"events", "--otlp-endpoint", "grpc://host:4317/v1/logs"}, "a gRPC endpoint has no path"},
		{[]string{"events", "--otlp-endpoint", "grpc://host", "--otlp-protocol", "http/protobuf"}, "grpc:// with protocol http/protobuf: use http:// or https://"},
		{[]string{"events", "--otlp-endpoint", "http://host", "--otlp-protocol", "thrift"}, `protocol "thrift": must be grpc or http/protobuf`},
		{[]string{"events", "--otlp-ca", "ca.pem"}, "--otlp-ca needs --otlp-endpoint"},
		{[]string{"events", "--otlp-header", "a=b"}, "--otlp-header needs --otlp-endpoint"},
		{[]string{"events", "--otlp-endpoint", "http://host", "--otlp-ca", "/nonexistent"}, "--otlp-ca needs an https:// endpoint"},
		{[]string{"events", "--otlp-endpoint", "https://host", "--otlp-ca", "/nonexistent"}, "--otlp-ca /nonexistent: open /nonexistent: no such file or directory"},
		{[]string{"events", "--otlp-endpoint", "http://host", "--otlp-header", "novalue"}, `--otlp-header "novalue": want KEY=VALUE`},
		{[]string{"events", "--otlp-endpoint", "http://host", "--otlp-header", "a b=c"}, `--otlp-header "a b=c": "a b" is not a header name`},
		{[]string{"events", "--otlp-endpoint", "http://host", "--otlp-queue-size", "0"}, "--otlp-queue-size 0: must be at least 1"},
		{[]string{"tree", "--otlp-endpoint", "grpc://"}, `--otlp-endpoint "grpc://": want grpc://HOST:PORT`},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) { checkBadFlags(t, tt.args, tt.want) })
	}
}
