package otlptest

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/plog"
)

// Record is one log record the collector received, with its resource.
type Record struct {
	EventName string
	Severity  string
	Body      string
	Time      time.Time
	Attrs     map[string]any // as pdata's AsRaw gives them: int64, string, bool, []any
	Resource  map[string]any
	Scope     string
}

// Int is attribute key as an int64, and whether it is one.
func (r Record) Int(key string) (int64, bool) {
	v, ok := r.Attrs[key].(int64)
	return v, ok
}

// Str is attribute key as a string, and whether it is one.
func (r Record) Str(key string) (string, bool) {
	v, ok := r.Attrs[key].(string)
	return v, ok
}

// Records reads every record the collector has written so far, over all
// its runs; a line the file exporter is still writing is left for later.
func (c *Collector) Records() []Record {
	c.t.Helper()
	files, _ := filepath.Glob(filepath.Join(c.dir, "logs-*.jsonl"))
	var out []Record
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			c.t.Fatal(err)
		}
		sc := bufio.NewScanner(bytes.NewReader(data))
		sc.Buffer(nil, 64<<20)
		for sc.Scan() {
			logs, err := (&plog.JSONUnmarshaler{}).UnmarshalLogs(sc.Bytes())
			if err != nil {
				if !strings.HasSuffix(string(data), "\n") {
					break // the last line, being written
				}
				c.t.Fatalf("%s: not OTLP JSON: %v", f, err)
			}
			out = appendRecords(out, logs)
		}
	}
	return out
}

func appendRecords(out []Record, logs plog.Logs) []Record {
	for _, rl := range logs.ResourceLogs().All() {
		res := rl.Resource().Attributes().AsRaw()
		for _, sl := range rl.ScopeLogs().All() {
			for _, lr := range sl.LogRecords().All() {
				out = append(out, Record{
					EventName: lr.EventName(),
					Severity:  lr.SeverityText(),
					Body:      lr.Body().AsString(),
					Time:      lr.Timestamp().AsTime(),
					Attrs:     lr.Attributes().AsRaw(),
					Resource:  res,
					Scope:     sl.Scope().Name(),
				})
			}
		}
	}
	return out
}

// WaitFor waits until the collector has received a record that match
// accepts, and returns it.
func (c *Collector) WaitFor(what string, match func(Record) bool) Record {
	c.t.Helper()
	for deadline := time.Now().Add(hangGuard); ; time.Sleep(100 * time.Millisecond) {
		for _, r := range c.Records() {
			if match(r) {
				return r
			}
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the collector never received %s; its log:\n%s", what, c.Stderr())
		}
	}
}
