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

// namePstraceOTLP is pstrace exporting every event over OTLP/gRPC and
// printing none. Set against namePstrace, which prints JSON instead, it
// tells whether export costs more than JSON output.
const namePstraceOTLP = "pstrace, OTLP export instead of output"

// otlpTool is the OTLP row, when a collector receives the records.
func otlpTool(c config) []tracerTool {
	if c.otlpEndpoint == "" {
		return nil
	}
	return []tracerTool{{
		Name:  namePstraceOTLP,
		Cmd:   []string{c.pstrace, "events", "--output", "none", "--otlp-endpoint", c.otlpEndpoint},
		Progs: 4, RunsPerSpawn: 4, Covers: "fork, exec, exit, rename as OTLP log records over gRPC to a collector", PerSpawn: 3,
		count: countOTLP(c.otlpOut),
	}}
}

// collector is the OpenTelemetry Collector (internal/otlp/testcollector)
// the OTLP row sends to; it writes what it receives to a file.
type collector struct {
	cmd  *exec.Cmd
	done chan struct{}
}

// startCollector starts bin on a free loopback port and returns the
// endpoint for pstrace and the file the records go to.
func startCollector(bin, workDir string) (col *collector, endpoint, out string, err error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", "", err
	}
	addr := l.Addr().String()
	l.Close()
	out = filepath.Join(workDir, "otlp.jsonl")
	config := filepath.Join(workDir, "otelcol.yaml")
	yaml := fmt.Sprintf(`receivers:
  otlp:
    protocols:
      grpc:
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
`, addr, out)
	if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
		return nil, "", "", err
	}
	col = &collector{cmd: exec.Command(bin, "--config", config), done: make(chan struct{})}
	col.cmd.Stderr = os.Stderr
	if err := col.cmd.Start(); err != nil {
		return nil, "", "", fmt.Errorf("starting the collector: %w", err)
	}
	go func() { col.cmd.Wait(); close(col.done) }()
	for deadline := time.Now().Add(startGuard); ; time.Sleep(100 * time.Millisecond) {
		if conn, err := net.Dial("tcp", addr); err == nil {
			conn.Close()
			return col, "grpc://" + addr, out, nil
		}
		select {
		case <-col.done:
			return nil, "", "", fmt.Errorf("the collector exited at start")
		default:
		}
		if time.Now().After(deadline) {
			col.stop()
			return nil, "", "", fmt.Errorf("the collector did not listen on %s in %v", addr, startGuard)
		}
	}
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
