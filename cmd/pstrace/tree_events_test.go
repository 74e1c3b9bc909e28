package main

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/testutil"
	"github.com/pstrace/pstrace/proctree"
)

// event is the part of an event's JSON this test reads.
type event struct {
	Type      string              `json:"type"`
	PID       uint32              `json:"pid"`
	Container *proctree.Container `json:"container"`
}

// A process exec'd under a shim's name and arguments is a shim: pstrace
// events names the container on every event of its descendants, and on
// none of its own or of other processes.
func TestEventsNameContainers(t *testing.T) {
	testutil.RequireRoot(t)
	events := startEvents(t)
	waitReady(t, events)

	b := make([]byte, 32)
	rand.Read(b)
	id := hex.EncodeToString(b)
	shimPath := testutil.LinkSelf(t, "containerd-shim-runc-v2")
	shim := startForker(t, func(c *exec.Cmd) {
		c.Path = shimPath
		c.Args = []string{shimPath, "-namespace", "moby", "-id", id, "-address", "/run/containerd/containerd.sock"}
	})
	child := shim.fork("in-container")
	outsider := startForker(t)

	want := proctree.Container{ID: id, Namespace: "moby", ShimPID: shim.pid, Source: "shim"}
	seen := map[string]bool{}
	for ev := range events {
		switch ev.PID {
		case shim.pid, outsider.pid:
			if ev.Container != nil {
				t.Errorf("%s of pid %d (shim %d): container %+v, want none", ev.Type, ev.PID, shim.pid, ev.Container)
			}
		case child:
			if ev.Container == nil || *ev.Container != want {
				t.Errorf("%s of the shim's child: container %+v, want %+v", ev.Type, ev.Container, want)
			}
			seen[ev.Type] = true
		}
		if seen["fork"] && seen["exec"] {
			return
		}
	}
	t.Fatalf("pstrace events stopped before the child's fork and exec")
}

// startEvents runs pstrace events --format json and decodes its output.
func startEvents(t *testing.T) <-chan event {
	t.Helper()
	cmd := pstrace("--drain-interval", "20ms", "events", "--format", "json")
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	events := make(chan event)
	done := make(chan struct{})
	go func() {
		defer close(events)
		s := bufio.NewScanner(out)
		s.Buffer(nil, 1<<20)
		for s.Scan() {
			var ev event
			if err := json.Unmarshal(s.Bytes(), &ev); err != nil {
				t.Errorf("event is not JSON: %v: %s", err, s.Bytes())
				return
			}
			select {
			case events <- ev:
			case <-done:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		interrupt(cmd)
	})
	return events
}

// waitReady waits until pstrace reports a process the test starts, starting
// one now and then, as those started before the tracer opened go unseen.
func waitReady(t *testing.T, events <-chan event) {
	t.Helper()
	markers := map[uint32]bool{startForker(t).pid: true}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatal("pstrace events stopped before reporting the test's process")
			}
			if markers[ev.PID] && ev.Type == "exec" {
				return
			}
		case <-tick.C:
			markers[startForker(t).pid] = true
		}
	}
}
