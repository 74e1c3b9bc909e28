package main

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// The container a storm runs in for the engine measurement: a shim is
// recognised by its file name and argv, so the storm exec'd through a
// link named like containerd's shim, with shim arguments after "--" (which
// its flag parsing leaves alone), is a container's shim to pstrace, and
// every process it spawns is in container engineBenchID.
const (
	engineBenchShim = "containerd-shim-runc-v2"
	engineBenchID   = "be7c4e11be7c4e11be7c4e11be7c4e11be7c4e11be7c4e11be7c4e11be7c4e11"
)

// engineResult compares pstrace with container name lookups on and off,
// every event of the storm in one container: lookups are per container,
// so on must stay within the noise of off.
type engineResult struct {
	On, Off []runResult
	// Docker and Containerd tell whether the engines' sockets accepted a
	// connection when the measurement started: without them, "on" measures
	// lookups that fail.
	Docker, Containerd bool
}

func engineTools(pstrace string) (on, off tracerTool) {
	on = tracerTool{
		Name: "pstrace, engine lookups on", Cmd: []string{pstrace, "events", "--format", "json"},
		Progs: 4, RunsPerSpawn: 4, Covers: "fork, exec, exit of a container's processes", PerSpawn: 3,
		count: countPstrace,
	}
	off = on
	off.Name = "pstrace --no-engine"
	off.Cmd = append(append([]string(nil), on.Cmd...), "--no-engine")
	return on, off
}

// measureEngine runs the storm in a container under pstrace with lookups
// on and off, alternating which goes first, round after round.
func (rn *runner) measureEngine(pstrace string, rounds, spawns int) (engineResult, error) {
	res := engineResult{Docker: accepts("/var/run/docker.sock"), Containerd: accepts("/run/containerd/containerd.sock")}
	link := filepath.Join(rn.outDir, engineBenchShim)
	os.Remove(link)
	storm, err := filepath.Abs(rn.storm)
	if err != nil {
		return res, fmt.Errorf("linking the storm as a shim: %w", err)
	}
	if err := os.Symlink(storm, link); err != nil {
		return res, fmt.Errorf("linking the storm as a shim: %w", err)
	}
	defer os.Remove(link)
	shim := &runner{storm: link, outDir: rn.outDir}
	on, off := engineTools(pstrace)
	args := []string{"-n", strconv.Itoa(spawns), "-workers", "2", "--", "-namespace", "moby", "-id", engineBenchID}
	for r := 0; r < rounds; r++ {
		order := []tracerTool{on, off}
		if r%2 == 1 {
			order[0], order[1] = off, on
		}
		for _, t := range order {
			run, err := shim.runUnder(t, args...)
			if err != nil {
				return res, fmt.Errorf("round %d, %s: %w", r+1, t.Name, err)
			}
			progress("round %d/%d %-36s cpu %5.1f ms  events %d lost %d", r+1, rounds, t.Name, float64(run.CPU.Ns)/1e6, run.Events, run.Lost)
			if t.Name == on.Name {
				res.On = append(res.On, run)
			} else {
				res.Off = append(res.Off, run)
			}
		}
	}
	return res, nil
}

// accepts tells whether a unix socket takes connections.
func accepts(path string) bool {
	c, err := net.DialTimeout("unix", path, time.Second)
	if err != nil {
		return false
	}
	c.Close()
	return true
}

func (r *report) writeEngine(w writer) {
	e := r.Engine
	if len(e.On) == 0 || len(e.Off) == 0 {
		return
	}
	on, off := engineTools(r.Config.pstrace)
	fon, foff := figuresOf(on, e.On), figuresOf(off, e.Off)
	w("## 8. Container name lookups\n\n")
	w("The storm's processes all in one container (the storm exec'd as a containerd shim of a made-up id), under `pstrace events --format json` with the engines asked for names and with `--no-engine`, alternating, %d rounds. Docker socket accepting: %v; containerd socket accepting: %v.\n\n",
		len(e.On), e.Docker, e.Containerd)
	w("| Lookups | CPU ms per 1,000 events | events | lost |\n|---|---|---|---|\n")
	for _, f := range []toolFigures{fon, foff} {
		w("| %s | %s | %s | %d |\n", f.Tool.Name, rangeOf(f.CPUPerKEvents, fixed(2)),
			rangeOf(f.Events, fixed(0)), f.Lost)
	}
	verdict := "MET: the medians are within the rounds' spread"
	if fon.CPUPerKEvents.Median > foff.CPUPerKEvents.Max {
		verdict = "NOT MET: with lookups on, the median is above every round with them off"
	}
	w("\nLookups per container, not per event (target: on within the noise of off): %s.\n\n", verdict)
}
