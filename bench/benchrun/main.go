// Command benchrun measures pstrace against the tracers people use today,
// side by side on this machine, and writes the results as Markdown. It runs
// as root, from bench/run.sh (make bench).
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "benchrun: %v\n", err)
		os.Exit(1)
	}
}

type config struct {
	pstrace, storm, script, out, workDir, goBench, commit string
	rounds, spawns                                        int
	// collector is the test collector's binary; the OTLP rows, run when it
	// is given, export to it as otlp says.
	collector string
	otlp      *otlpTarget
}

func run() error {
	var c config
	flag.StringVar(&c.pstrace, "pstrace", "./pstrace", "the pstrace binary")
	flag.StringVar(&c.storm, "storm", "", "the spawnstorm binary")
	flag.StringVar(&c.script, "bpftrace-script", "bench/lifecycle.bt", "the bpftrace peer's script")
	flag.StringVar(&c.out, "out", "BENCHMARKS.md", "where to write the results")
	flag.StringVar(&c.workDir, "work", "bench/.out", "directory for tracer output")
	flag.StringVar(&c.goBench, "go-bench", "", "file with the output of the Go benchmarks (go test -bench)")
	flag.StringVar(&c.commit, "commit", "unknown", "the source revision measured")
	flag.IntVar(&c.rounds, "rounds", 5, "rounds of storms, each under every tracer")
	flag.IntVar(&c.spawns, "spawns", 2000, "spawns per storm")
	flag.StringVar(&c.collector, "collector", "", "an OpenTelemetry Collector binary for the OTLP export rows (none: no such rows)")
	flag.Parse()
	if c.storm == "" || c.rounds < 1 || c.spawns < 2 {
		return fmt.Errorf("need -storm, -rounds >= 1 and -spawns >= 2")
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root: it loads BPF programs and reads their statistics")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/bpf_stats_enabled"); err != nil || string(b) != "1\n" {
		return fmt.Errorf("kernel.bpf_stats_enabled must be 1 (bench/run.sh sets it)")
	}
	if err := os.MkdirAll(c.workDir, 0o755); err != nil {
		return err
	}
	if c.collector != "" {
		col, target, err := startCollector(c.collector, c.workDir)
		if err != nil {
			return err
		}
		defer col.Kill()
		c.otlp = target
	}
	rep := report{Start: time.Now().UTC(), LoadBefore: loadAverage(), Config: c}
	rep.Machine = describeMachine()
	rn := &runner{storm: c.storm, outDir: c.workDir}

	var err error
	if rep.Rounds, rep.Failed, err = rn.rounds(tools(c), c.rounds, c.spawns); err != nil {
		return err
	}
	progress("fastest spawn rate under pstrace")
	if rep.MaxRate, err = rn.maxRate(pstraceJSON(c), c.spawns); err != nil {
		return err
	}
	progress("floor: minimal BPF programs")
	if rep.Floor, err = rn.measureFloor(3); err != nil {
		return err
	}
	progress("in-kernel filtering")
	if rep.Filter, err = measureFilter(c.storm); err != nil {
		return err
	}
	progress("drain interval")
	if rep.Drain, err = rn.measureDrain(c.pstrace); err != nil {
		return err
	}
	progress("container name lookups on and off")
	if rep.Engine, err = rn.measureEngine(c.pstrace, c.rounds, c.spawns); err != nil {
		return err
	}
	if c.otlp != nil {
		progress("export against JSON output, %d rounds", exportRounds)
		if rep.ExportPaired, err = rn.measureExportPaired(c, c.spawns); err != nil {
			return err
		}
		progress("export floor: moving a storm's records and its JSON lines")
		floor, err := rn.measureExportFloor(c.pstrace, c.spawns, 15)
		if err != nil {
			return err
		}
		rep.ExportFloor = &floor
	}
	if c.goBench != "" {
		if rep.GoBench, err = readGoBench(c.goBench); err != nil {
			return err
		}
	}
	rep.End = time.Now().UTC()
	rep.LoadAfter = loadAverage()
	return os.WriteFile(c.out, rep.markdown(), 0o644)
}

// rounds runs a storm under every tool in turn, round after round; each round
// starts one tool further on, so no tool always follows the same one. A peer
// that fails is reported and left out of later rounds; pstrace failing, or
// the storm, ends the benchmark.
func (rn *runner) rounds(ts []tracerTool, rounds, spawns int) (map[string][]runResult, map[string]string, error) {
	out := map[string][]runResult{}
	failed := map[string]string{}
	for r := 0; r < rounds; r++ {
		for i := range ts {
			t := ts[(i+r)%len(ts)]
			if failed[t.Name] != "" {
				continue
			}
			res, err := rn.runUnder(t, "-n", strconv.Itoa(spawns), "-workers", "2")
			if err != nil && t.Peer {
				progress("round %d/%d %s failed: %v", r+1, rounds, t.Name, err)
				failed[t.Name] = err.Error()
				delete(out, t.Name)
				continue
			}
			if err != nil {
				return nil, nil, fmt.Errorf("round %d, %s: %w", r+1, t.Name, err)
			}
			ns, runs := res.kernelNs()
			progress("round %d/%d %-36s %6.0f spawns/s  kernel %6.0f ns/spawn (%d runs)  cpu %5.1f ms  events %d lost %d",
				r+1, rounds, t.Name, res.Storm.SpawnsPerSec, float64(ns)/float64(res.Storm.Spawns), runs,
				float64(res.CPU.Ns)/1e6, res.Events, res.Lost)
			out[t.Name] = append(out[t.Name], res)
		}
	}
	return out, failed, nil
}

// maxRate runs pstrace with its defaults under a storm with more workers than
// cores, to reach the fastest rate this machine spawns at.
func (rn *runner) maxRate(pstrace tracerTool, spawns int) (runResult, error) {
	return rn.runUnder(pstrace, "-n", strconv.Itoa(2*spawns), "-workers", "4")
}

func progress(format string, args ...any) {
	fmt.Fprintf(os.Stderr, time.Now().UTC().Format("15:04:05 ")+format+"\n", args...)
}
