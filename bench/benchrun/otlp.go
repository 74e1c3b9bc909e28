package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"time"

	"github.com/pstrace/pstrace/internal/otlp/otelcol"
)

// namePstraceOTLP and namePstraceOTLPHTTP are pstrace exporting every
// event over OTLP/gRPC and OTLP/HTTP, printing none. Set against
// namePstrace, which prints JSON instead, they tell whether export costs
// more than JSON output.
const (
	namePstraceOTLP     = "pstrace, OTLP/gRPC export instead of output"
	namePstraceOTLPHTTP = "pstrace, OTLP/HTTP export instead of output"
)

// otlpRows name the OTLP rows by the protocol the targets and the report
// give them.
var otlpRows = []struct{ name, protocol string }{{namePstraceOTLP, "gRPC"}, {namePstraceOTLPHTTP, "HTTP"}}

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

// otlpTarget is where the OTLP rows send, and where the records land.
type otlpTarget struct {
	grpc, http string // endpoints for --otlp-endpoint
	out        string // the collector's file
}

// startCollector starts the OpenTelemetry Collector bin
// (internal/otlp/testcollector) listening for OTLP/gRPC and OTLP/HTTP on
// free loopback ports, and returns where pstrace sends and the file the
// collector writes the records to.
func startCollector(bin, workDir string) (*otelcol.Process, *otlpTarget, error) {
	addr, err := otelcol.FreeAddr()
	if err != nil {
		return nil, nil, err
	}
	httpAddr, err := otelcol.FreeAddr()
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
	col, err := otelcol.Start(bin, config, os.Stderr)
	if err != nil {
		return nil, nil, err
	}
	if err := col.WaitListening(startGuard, addr, httpAddr); err != nil {
		col.Kill()
		return nil, nil, err
	}
	return col, &otlpTarget{grpc: "grpc://" + addr, http: "http://" + httpAddr, out: out}, nil
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
