package main

import (
	"bufio"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// goBench is one line of `go test -bench` output.
type goBench struct {
	Name    string
	Metrics map[string]float64 // by unit: "ns/op", "allocs/op", "events/s", ...
	Order   []string
}

// readGoBench reads the benchmark lines of go test's output, in order.
func readGoBench(path string) ([]goBench, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading Go benchmark results: %w", err)
	}
	defer f.Close()
	var out []goBench
	s := bufio.NewScanner(f)
	for s.Scan() {
		fields := strings.Fields(s.Text())
		if len(fields) < 4 || !strings.HasPrefix(fields[0], "Benchmark") {
			continue
		}
		b := goBench{Name: trimProcs(fields[0]), Metrics: map[string]float64{}}
		for i := 2; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				break
			}
			b.Metrics[fields[i+1]] = v
			b.Order = append(b.Order, fields[i+1])
		}
		out = append(out, b)
	}
	return out, s.Err()
}

// trimProcs drops the -GOMAXPROCS suffix go test adds to a benchmark's name.
func trimProcs(name string) string {
	if i := strings.LastIndexByte(name, '-'); i > 0 {
		if _, err := strconv.Atoi(name[i+1:]); err == nil {
			return name[:i]
		}
	}
	return name
}

func findBench(bs []goBench, name string) (goBench, bool) {
	for _, b := range bs {
		if b.Name == name {
			return b, true
		}
	}
	return goBench{}, false
}
