package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/otlp/otlptest"
	"github.com/pstrace/pstrace/internal/promtest"
	"github.com/pstrace/pstrace/internal/testutil"
)

// The collector is killed while pstrace exports to it, then restarted:
// pstrace traces on (every exec is on stdout), its queue overflows and it
// says so once, its RSS does not grow with what it cannot send, and once
// the collector is back it sends again; at exit it counts all it dropped.
func TestCollectorRestart(t *testing.T) {
	testutil.RequireRoot(t)
	col := otlptest.Start(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := ln.Addr().String()
	ln.Close()
	p := startExporting(t, "--otlp-endpoint", "grpc://"+col.GRPC, "--otlp-queue-size", "512", "--metrics-addr", metricsAddr)
	waitAttachedOTLP(t, col)
	scrape := func() promtest.Scrape { return promtest.Get(t, "http://"+metricsAddr+"/metrics") }
	if c := scrape().Samples[promtest.Series("pstrace_export_queue_capacity")]; c != 512 {
		t.Errorf("pstrace_export_queue_capacity %v, want 512", c)
	}
	col.Kill()
	down := time.Now()

	trueBin := testutil.LookBin(t, "true")
	const argBytes = 8 << 10
	pad := strings.Repeat("x", argBytes)
	storm := func(n int, marker string) {
		for range n {
			exec.Command(trueBin, marker, pad).Run()
		}
	}
	// Fill the queue until it overflows.
	for deadline := time.Now().Add(hangGuard); !strings.Contains(p.stderr.String(), "records dropped"); storm(100, "pstrace-otlp-fill") {
		if time.Now().After(deadline) {
			t.Fatalf("pstrace never said it dropped records; stderr:\n%s", p.stderr)
		}
	}
	full := vmRSS(t, p.cmd.Process.Pid)

	// Many times what the queue holds: an unbounded queue would grow by
	// at least its volume.
	const n = 3000
	marker := fmt.Sprintf("pstrace-otlp-down-%d", time.Now().UnixNano())
	p.stdout.count(marker)
	storm(n, marker)
	for deadline := time.Now().Add(hangGuard); p.stdout.counted() < n; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("pstrace printed %d of the %d execs while the collector was down", p.stdout.counted(), n)
		}
	}
	after := vmRSS(t, p.cmd.Process.Pid)
	volume := n * argBytes
	t.Logf("pstrace's RSS: %d KiB with the queue full, %d KiB after %d MiB more of exec records", full>>10, after>>10, volume>>20)
	if after-full > volume/4 {
		t.Errorf("RSS grew by %d KiB while %d KiB of records could not be sent: more than a quarter", (after-full)>>10, volume>>10)
	}
	said := dropLines(p.stderr.String())
	if len(said) == 0 || len(said) > 1+int(time.Since(down)/time.Minute) {
		t.Errorf("%d drop lines in %v, want one a minute at most:\n%s", len(said), time.Since(down), p.stderr)
	}
	if !strings.Contains(said[0], "the queue was full (sending: ") {
		t.Errorf("drop line %q does not say why", said[0])
	}

	droppedFull := promtest.Series("pstrace_export_records_dropped_total", "reason", "queue_full")
	waitUntil(t, "the drops counted in the metrics", func() bool { return scrape().Samples[droppedFull] >= n })

	// Back: what comes once the queue has room again is sent.
	col.Restart()
	waitAttachedOTLP(t, col)
	before := scrape().Samples[promtest.Series("pstrace_export_records_sent_total")]
	waitAttachedOTLP(t, col)
	waitUntil(t, "records sent after the restart counted in the metrics", func() bool {
		return scrape().Samples[promtest.Series("pstrace_export_records_sent_total")] > before
	})
	p.stop()

	said = dropLines(p.stderr.String())
	m := regexp.MustCompile(`\((\d+) in all\)`).FindStringSubmatch(said[len(said)-1])
	if m == nil {
		t.Fatalf("the last drop line %q has no total", said[len(said)-1])
	}
	if total, _ := strconv.Atoi(m[1]); total < n {
		t.Errorf("%d records dropped in all, want at least the %d execs of the outage", total, n)
	}
}

// dropLines are pstrace's lines saying it dropped records.
func dropLines(stderr string) []string {
	var out []string
	for _, l := range strings.Split(stderr, "\n") {
		if strings.HasPrefix(l, "pstrace: otlp: ") && strings.Contains(l, "records dropped") {
			out = append(out, l)
		}
	}
	return out
}

// vmRSS is the resident set size of process pid, in bytes.
func vmRSS(t *testing.T, pid int) int {
	t.Helper()
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			if err != nil {
				t.Fatalf("VmRSS %q: %v", v, err)
			}
			return kb << 10
		}
	}
	t.Fatalf("no VmRSS in /proc/%d/status", pid)
	return 0
}
