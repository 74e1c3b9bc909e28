// Command spawnstorm is the benchmark's workload: workers that each fork,
// exec and wait for a program (by default /bin/true) in a loop, as fast as
// they can or at a set rate. It prints one JSON line with what it did.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"
)

type result struct {
	PID          int     `json:"pid"`
	Spawns       int     `json:"spawns"`
	Failed       int     `json:"failed"`
	Seconds      float64 `json:"seconds"`
	SpawnsPerSec float64 `json:"spawns_per_sec"`
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "spawnstorm: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	var (
		total   = flag.Int("n", 3000, "spawns in all, shared by the workers")
		workers = flag.Int("workers", 2, "concurrent workers")
		rate    = flag.Float64("rate", 0, "spawns per second in all (0: as fast as possible)")
		path    = flag.String("path", "/bin/true", "program each spawn execs")
		gate    = flag.Bool("gate", false, "print the pid, then start only after a line on stdin")
	)
	flag.Parse()
	if *total < 1 || *workers < 1 || *rate < 0 {
		return errors.New("-n and -workers must be positive and -rate not negative")
	}
	if _, err := os.Stat(*path); err != nil {
		return err
	}
	if *gate {
		fmt.Println(os.Getpid())
		if _, err := bufio.NewReader(os.Stdin).ReadString('\n'); err != nil {
			return fmt.Errorf("waiting for the start line: %w", err)
		}
	}
	res := storm(*path, *total, *workers, *rate)
	res.PID = os.Getpid()
	if res.Spawns == 0 {
		return fmt.Errorf("every spawn of %s failed", *path)
	}
	return json.NewEncoder(os.Stdout).Encode(res)
}

func storm(path string, total, workers int, rate float64) result {
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		spawns int
		failed int
	)
	argv := []string{path}
	attr := &syscall.ProcAttr{Env: []string{}, Files: []uintptr{0, 1, 2}}
	start := time.Now()
	for w := 0; w < workers; w++ {
		n := total / workers
		if w < total%workers {
			n++
		}
		wg.Add(1)
		go func(w, n int) {
			defer wg.Done()
			ok, bad := 0, 0
			for i := 0; i < n; i++ {
				if rate > 0 {
					// Worker w's i-th spawn is due at the (i*workers+w)-th slot of the whole storm.
					due := start.Add(time.Duration(float64(i*workers+w) / rate * float64(time.Second)))
					time.Sleep(time.Until(due))
				}
				if spawn(path, argv, attr) {
					ok++
				} else {
					bad++
				}
			}
			mu.Lock()
			spawns += ok
			failed += bad
			mu.Unlock()
		}(w, n)
	}
	wg.Wait()
	secs := time.Since(start).Seconds()
	return result{Spawns: spawns, Failed: failed, Seconds: secs, SpawnsPerSec: float64(spawns) / secs}
}

// spawn forks, execs and reaps one child; it reports whether the child ran
// and exited (with any status: the workload may run /bin/false).
func spawn(path string, argv []string, attr *syscall.ProcAttr) bool {
	pid, err := syscall.ForkExec(path, argv, attr)
	if err != nil {
		return false
	}
	var ws syscall.WaitStatus
	for {
		_, err := syscall.Wait4(pid, &ws, 0, nil)
		if err != syscall.EINTR {
			return err == nil && ws.Exited()
		}
	}
}
