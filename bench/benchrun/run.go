package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pstrace/pstrace/internal/otlp"
)

// stormResult is what bench/spawnstorm prints.
type stormResult struct {
	PID          int     `json:"pid"`
	Spawns       int     `json:"spawns"`
	Failed       int     `json:"failed"`
	Seconds      float64 `json:"seconds"`
	SpawnsPerSec float64 `json:"spawns_per_sec"`
}

// runResult is one spawn storm under one tracer.
type runResult struct {
	Tool   string
	Storm  stormResult
	Progs  []progDelta
	CPU    cpuUse
	Events int64
	Lost   int64 // -1: the tool does not say
}

func (r runResult) kernelNs() (ns, runs uint64) {
	for _, p := range r.Progs {
		ns += p.RunTimeNs
		runs += p.RunCnt
	}
	return ns, runs
}

// cpuPerKEvents is the tool's CPU ms per 1,000 events it reported.
func (r runResult) cpuPerKEvents() float64 {
	return perK(float64(r.CPU.Ns)/1e6, float64(r.Events))
}

// settle is how long a tracer gets after the storm to read what is left:
// several of pstrace's drain intervals and of the peers' poll timeouts.
const settle = 500 * time.Millisecond

// cpuWindow is how long after a storm a tracer's CPU is still counted, the
// same for every tracer: long enough for an exporting pstrace to have sent
// its last batch, which waits up to otlp.BatchDelay to fill, then settle.
// With settle alone the last send of a storm fell outside the window.
const cpuWindow = otlp.BatchDelay + 100*time.Millisecond + settle

// runner runs storms, alone or under a tracer.
type runner struct {
	storm  string // the spawnstorm binary
	outDir string
}

func (rn *runner) runStorm(args ...string) (stormResult, error) {
	var res stormResult
	out, err := exec.Command(rn.storm, args...).Output()
	if err != nil {
		return res, fmt.Errorf("spawn storm: %w", exitDetail(err))
	}
	if err := json.Unmarshal(out, &res); err != nil {
		return res, fmt.Errorf("reading spawn storm result %q: %w", out, err)
	}
	return res, nil
}

// runUnder starts tool, runs one storm with stormArgs, and measures the
// tool's BPF programs, its CPU and its output over the storm.
func (rn *runner) runUnder(tool tracerTool, stormArgs ...string) (runResult, error) {
	res := runResult{Tool: tool.Name, Lost: -1}
	if tool.Cmd == nil {
		st, err := rn.runStorm(stormArgs...)
		res.Storm = st
		return res, err
	}
	stdoutPath := filepath.Join(rn.outDir, "tracer.out")
	stderrPath := filepath.Join(rn.outDir, "tracer.err")
	defer os.Remove(stdoutPath)
	defer os.Remove(stderrPath)
	p, err := startTracer(tool, stdoutPath, stderrPath)
	if err != nil {
		return res, err
	}
	defer p.stop()

	before, err := snapshot(p.pid(), p.progs)
	if err != nil {
		return res, err
	}
	st, err := rn.runStorm(stormArgs...)
	if err != nil {
		return res, err
	}
	res.Storm = st
	time.Sleep(cpuWindow)
	after, err := snapshot(p.pid(), p.progs)
	if err != nil {
		return res, err
	}
	res.CPU = after.cpu.sub(before.cpu)
	res.Progs = diffStats(before.progs, after.progs)
	if err := p.stop(); err != nil {
		return res, err
	}
	res.Events, res.Lost = tool.count(stdoutPath, stderrPath)
	return res, nil
}

type snap struct {
	cpu   cpuUse
	progs map[uint32]progStat
}

func snapshot(pid int, ids []uint32) (snap, error) {
	var s snap
	var err error
	if s.cpu, err = readCPU(pid); err != nil {
		return s, err
	}
	if len(ids) > 0 {
		if s.progs, err = progStats(ids); err != nil {
			return s, err
		}
	}
	return s, nil
}

// tracerProc is a running tracer.
type tracerProc struct {
	cmd   *exec.Cmd
	done  chan struct{} // closed once it has exited and been reaped
	progs []uint32
}

func (p *tracerProc) pid() int { return p.cmd.Process.Pid }

// stopGuard only stops a tracer that ignores SIGINT; none should need it.
const stopGuard = 20 * time.Second

// stop interrupts the tracer, as a user would, and waits for it to write
// its last output and exit. It is safe to call twice.
func (p *tracerProc) stop() error {
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGINT); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("interrupting %s: %w", p.cmd.Path, err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(stopGuard):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s ignored SIGINT for %v", p.cmd.Path, stopGuard)
	}
}

// startTracer starts tool and waits until it holds all its BPF programs
// (or, without BPF, until it has had time to subscribe).
func startTracer(tool tracerTool, stdoutPath, stderrPath string) (*tracerProc, error) {
	stdout, err := os.Create(stdoutPath)
	if err != nil {
		return nil, err
	}
	defer stdout.Close()
	stderr, err := os.Create(stderrPath)
	if err != nil {
		return nil, err
	}
	defer stderr.Close()
	cmd := exec.Command(tool.Cmd[0], tool.Cmd[1:]...)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", tool.Name, err)
	}
	p := &tracerProc{cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(tool, stderrPath); err != nil {
		p.stop()
		return nil, err
	}
	return p, nil
}

// startGuard only stops a wait for a tracer that never finishes loading.
const startGuard = 60 * time.Second

func (p *tracerProc) waitReady(tool tracerTool, stderrPath string) error {
	deadline := time.Now().Add(startGuard)
	for tool.Progs > 0 {
		ids, err := progIDs(p.pid())
		if err != nil {
			return err
		}
		if len(ids) >= tool.Progs {
			p.progs = ids
			break
		}
		if err := p.checkStarting(tool, stderrPath, deadline); err != nil {
			return err
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Attaching, subscribing and reading /proc at start are no part of the
	// cost per event: wait until the tracer is idle, or at most settleMax
	// when the rest of the host keeps it busy.
	const quietWindow, quietCPU, settleMax = 200 * time.Millisecond, 2 * time.Millisecond, 3 * time.Second
	last, err := readCPU(p.pid())
	if err != nil {
		return err
	}
	for start := time.Now(); time.Since(start) < settleMax; {
		time.Sleep(quietWindow)
		if err := p.checkStarting(tool, stderrPath, deadline); err != nil {
			return err
		}
		now, err := readCPU(p.pid())
		if err != nil {
			return err
		}
		if time.Duration(now.Ns-last.Ns) < quietCPU {
			return nil
		}
		last = now
	}
	return nil
}

// checkStarting fails when the tracer has exited or is taking too long to start.
func (p *tracerProc) checkStarting(tool tracerTool, stderrPath string, deadline time.Time) error {
	select {
	case <-p.done:
		return fmt.Errorf("%s exited at start: %s", tool.Name, tail(stderrPath))
	default:
	}
	if time.Now().After(deadline) {
		return fmt.Errorf("%s did not finish starting in %v: %s", tool.Name, startGuard, tail(stderrPath))
	}
	return nil
}

// tail is the last line a tool wrote to stderr, for errors.
func tail(path string) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strconv.Quote(lines[len(lines)-1])
}

// exitDetail adds a failed command's stderr to its error.
func exitDetail(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) && len(ee.Stderr) > 0 {
		return fmt.Errorf("%w: %s", err, strings.TrimSpace(string(ee.Stderr)))
	}
	return err
}
