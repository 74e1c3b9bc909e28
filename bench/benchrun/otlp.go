package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"time"
)

// namePstraceOTLP and namePstraceOTLPHTTP are pstrace exporting every
// event over OTLP/gRPC and OTLP/HTTP, printing none. Set against
// namePstrace, which prints JSON instead, they tell whether export costs
// more than JSON output.
const (
	namePstraceOTLP     = "pstrace, OTLP/gRPC export instead of output"
	namePstraceOTLPHTTP = "pstrace, OTLP/HTTP export instead of output"
)

// otlpTools are the OTLP rows, one per protocol, when a collector receives
// the records.
func otlpTools(c config) []tracerTool {
	if c.otlp == nil {
		return nil
	}
	row := func(name, endpoint, protocol string) tracerTool {
		return tracerTool{
			Name:  name,
			Cmd:   []string{c.pstrace, "events", "--output", "none", "--otlp-endpoint", endpoint},
			Progs: 4, RunsPerSpawn: 4, Covers: "fork, exec, exit, rename as OTLP log records over " + protocol + " to a collector", PerSpawn: 3,
			count: countOTLP(c.otlp.out),
		}
	}
	return []tracerTool{
		row(namePstraceOTLP, c.otlp.grpc, "gRPC"),
		row(namePstraceOTLPHTTP, c.otlp.http, "HTTP/protobuf"),
	}
}

// collector is the OpenTelemetry Collector (internal/otlp/testcollector)
// the OTLP rows send to; it writes what it receives to a file.
type collector struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// otlpTarget is where the OTLP rows send, and where the records land.
type otlpTarget struct {
	grpc, http string // endpoints for --otlp-endpoint
	out        string // the collector's file
}

// freeAddr is a loopback address nothing listens on.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// startCollector starts bin listening for OTLP/gRPC and OTLP/HTTP on free
// loopback ports and returns where pstrace sends and the records go.
func startCollector(bin, workDir string) (*collector, *otlpTarget, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, nil, err
	}
	out := filepath.Join(workDir, "otlp.jsonl")
	config := filepath.Join(workDir, "otelcol.yaml")
	yaml := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
      http:
        endpoint: %s
exporters:
  file:
    path: %s
    append: true
    flush_interval: 100ms
service:
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    logs:
      receivers: [otlp]
      exporters: [file]
`, addr, httpAddr, out)
	if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
		return nil, nil, err
	}
	col := &collector{cmd: exec.Command(bin, "--config", config), done: make(chan struct{})}
	col.cmd.Stderr = os.Stderr
	if err := col.cmd.Start(); err != nil {
		return nil, nil, fmt.Errorf("starting the collector: %w", err)
	}
	go func() { col.cmd.Wait(); close(col.done) }()
	for deadline := time.Now().Add(startGuard); ; time.Sleep(100 * time.Millisecond) {
		if listening(addr) && listening(httpAddr) {
			return col, &otlpTarget{grpc: "grpc://" + addr, http: "http://" + httpAddr, out: out}, nil
		}
		select {
		case <-col.done:
			return nil, nil, fmt.Errorf("the collector exited at start")
		default:
		}
		if time.Now().After(deadline) {
			col.stop()
			return nil, nil, fmt.Errorf("the collector did not listen on %s and %s in %v", addr, httpAddr, startGuard)
		}
	}
}

func listening(addr string) bool {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return false
	}
	conn.Close()
	return true
}

func (c *collector) stop() {
	c.cmd.Process.Kill()
	<-c.done
}

var (
	otlpEvent = regexp.MustCompile(`"eventName":"process\.(fork|exec|exit)"`)
	otlpLost  = regexp.MustCompile(`"key":"pstrace\.lost\.count","value":\{"intValue":"(\d+)"\}`)
	otlpDrops = regexp.MustCompile(`pstrace: otlp: \d+ records dropped \((\d+) in all\)`)
)

// countOTLP counts the records the collector wrote since the last count
// (once pstrace has stopped and the file has stopped growing), then empties
// the file. Lost: the lost events the records report, and the records
// pstrace said it dropped.
func countOTLP(out string) func(stdoutPath, stderrPath string) (events, lost int64) {
	return func(_, stderrPath string) (events, lost int64) {
		var data []byte
		for deadline, last := time.Now().Add(stopGuard), -1; time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
			data, _ = os.ReadFile(out)
			if len(data) == last {
				break
			}
			last = len(data)
		}
		os.Truncate(out, 0) // the collector appends: the next count starts at 0
		events = int64(len(otlpEvent.FindAllIndex(data, -1)))
		for _, m := range otlpLost.FindAllSubmatch(data, -1) {
			n, _ := strconv.ParseInt(string(m[1]), 10, 64)
			lost += n
		}
		stderr, _ := os.ReadFile(stderrPath)
		if m := otlpDrops.FindAllSubmatch(stderr, -1); len(m) > 0 {
			n, _ := strconv.ParseInt(string(m[len(m)-1][1]), 10, 64)
			lost += n
		}
		return events, lost
	}
}
