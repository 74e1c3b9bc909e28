// Package containertest runs the real pstrace binary against a real Docker
// engine and containerd and checks its public JSON output. The engines come
// from scripts/engine.sh up (make test runs it); every test name starts with
// TestDocker or TestContainerd, so that a harness without engines can skip them.
package containertest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/testutil"
)

// hangGuard fails a wait that has clearly hung; it is no performance limit.
const hangGuard = 3 * time.Minute

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// pstraceBinary builds the pstrace command once per test run, on first use,
// so a run that skips every test needs no Go toolchain. PSTRACE_BINARY names
// a prebuilt one instead.
func pstraceBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("PSTRACE_BINARY"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "pstrace-bin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(buildDir, "pstrace")
		out, err := exec.Command("go", "build", "-o", binPath, "github.com/pstrace/pstrace/cmd/pstrace").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatalf("building pstrace: %v", buildErr)
	}
	return binPath
}

// pstraceProc is a running pstrace whose stdout is read line by line. A
// goroutine queues the lines without bound, so a test that is busy elsewhere
// never makes pstrace block on its output and lose events.
type pstraceProc struct {
	t      *testing.T
	cmd    *exec.Cmd
	stderr *testutil.SyncBuffer

	mu    sync.Mutex
	queue [][]byte
	eof   bool
	ready chan struct{} // holds a token when queue or eof has changed

	exited  chan struct{} // closed once pstrace has exited and waitErr is set
	waitErr error
}

// startPstrace runs pstrace with args until the test ends.
func startPstrace(t *testing.T, args ...string) *pstraceProc {
	t.Helper()
	p := &pstraceProc{t: t, stderr: &testutil.SyncBuffer{}, ready: make(chan struct{}, 1), exited: make(chan struct{})}
	p.cmd = exec.Command(pstraceBinary(t), args...)
	p.cmd.Stderr = p.stderr
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting pstrace: %v", err)
	}
	go p.read(stdout)
	t.Cleanup(p.stop)
	return p
}

func (p *pstraceProc) read(stdout io.Reader) {
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	for sc.Scan() {
		p.push(bytes.Clone(sc.Bytes()), false)
	}
	p.push(nil, true)
	p.waitErr = p.cmd.Wait()
	close(p.exited)
}

func (p *pstraceProc) push(line []byte, eof bool) {
	p.mu.Lock()
	if eof {
		p.eof = true
	} else {
		p.queue = append(p.queue, line)
	}
	p.mu.Unlock()
	select {
	case p.ready <- struct{}{}:
	default:
	}
}

// stop interrupts pstrace, as Ctrl-C would, and waits for it.
func (p *pstraceProc) stop() {
	select {
	case <-p.exited:
		return // an early end is reported by next
	default:
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-p.exited:
		if p.waitErr != nil {
			p.t.Errorf("pstrace %v: %v; stderr:\n%s", p.cmd.Args[1:], p.waitErr, p.stderr.String())
		}
	case <-time.After(hangGuard):
		p.cmd.Process.Kill()
		p.t.Errorf("pstrace did not stop on SIGINT")
	}
}

// next returns the next line, or fails the test when pstrace ends or hangs.
// With wait > 0 it returns nil when no line comes within wait.
func (p *pstraceProc) next(wait time.Duration) []byte {
	p.t.Helper()
	limit := hangGuard
	if wait > 0 {
		limit = wait
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		p.mu.Lock()
		if len(p.queue) > 0 {
			line := p.queue[0]
			p.queue = p.queue[1:]
			p.mu.Unlock()
			return line
		}
		eof := p.eof
		p.mu.Unlock()
		if eof {
			<-p.exited
			p.t.Fatalf("pstrace %v ended early: %v; stderr:\n%s", p.cmd.Args[1:], p.waitErr, p.stderr.String())
		}
		select {
		case <-p.ready:
		case <-timer.C:
			if wait > 0 {
				return nil
			}
			p.t.Fatalf("pstrace printed nothing for %v; stderr:\n%s", hangGuard, p.stderr.String())
		}
	}
}

// pstraceOnce runs pstrace to completion and returns its stdout.
func pstraceOnce(t *testing.T, args ...string) []byte {
	t.Helper()
	var stderr bytes.Buffer
	cmd := exec.Command(pstraceBinary(t), args...)
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("pstrace %v: %v; stderr:\n%s", args, err, stderr.String())
	}
	return out
}

// mustJSON decodes one JSON Lines record or fails the test.
func mustJSON(t *testing.T, line []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(line, v); err != nil {
		t.Fatalf("pstrace printed a line that is not the expected JSON (%v): %s", err, line)
	}
}
