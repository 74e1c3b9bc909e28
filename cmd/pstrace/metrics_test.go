package main

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/promtest"
	"github.com/pstrace/pstrace/internal/testutil"
)

func TestMetricsAddrInUse(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	cmd := pstraceCmd("events", "--metrics-addr", busy.Addr().String())
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	cmd.Run()
	want := "pstrace: --metrics-addr " + busy.Addr().String() + ": listen tcp " + busy.Addr().String() + ": bind: address already in use\n"
	if code := cmd.ProcessState.ExitCode(); code != 1 || stderr.String() != want {
		t.Errorf("exit status %d, stderr %q; want 1 and %q", code, stderr.String(), want)
	}
}

// TestServesMetrics runs pstrace tree, and events as a metrics-only agent
// (--output none), with --metrics-addr: /healthz turns 200 once it traces,
// /metrics counts a process the test starts, nothing but the tree goes to
// stdout, and after the interrupt the port is free again.
func TestServesMetrics(t *testing.T) {
	testutil.RequireRoot(t)
	for _, args := range [][]string{
		{"tree", "--format", "json", "--interval", "1h"},
		{"events", "--output", "none"},
	} {
		t.Run(args[0], func(t *testing.T) { checkServesMetrics(t, args) })
	}
}

func checkServesMetrics(t *testing.T, args []string) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := pstraceCmd(append(args, "--metrics-addr", addr)...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()
	base := "http://" + addr
	waitUntil(t, "/healthz to answer 200", func() bool {
		resp, err := http.Get(base + "/healthz")
		if err != nil {
			return false
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK && string(body) == "ok\n"
	})
	f := startForker(t)
	f.fork("metrics")
	waitUntil(t, "a fork counted and the tree's census served", func() bool {
		s := promtest.Get(t, base+"/metrics")
		return s.Samples[promtest.Series("pstrace_events_total", "type", "fork")] >= 1 &&
			s.Samples[promtest.Series("pstrace_processes")] >= 1
	})
	if err := interrupt(cmd); err != nil {
		t.Fatalf("pstrace %v: %v; stderr:\n%s", args, err, stderr.String())
	}
	if ln, err := net.Listen("tcp", addr); err != nil {
		t.Errorf("the metrics port is still taken after pstrace exited: %v", err)
	} else {
		ln.Close()
	}
	if strings.TrimSpace(stderr.String()) != "" {
		t.Errorf("stderr: %q, want nothing", stderr.String())
	}
	if none := args[0] == "events"; none != (stdout.Len() == 0) {
		t.Errorf("with %v, %d bytes on stdout", args, stdout.Len())
	}
}

// waitUntil polls cond every 50ms, failing the test after the hang guard.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s after %v", what, hangGuard)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
