package otlptest

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/otlp/otelcol"
	"github.com/pstrace/pstrace/internal/testutil"
)

// hangGuard fails a wait that has clearly hung; it is no performance limit.
const hangGuard = 3 * time.Minute

// Collector is a running test collector.
type Collector struct {
	GRPC  string // host:port of the OTLP/gRPC receiver
	HTTP  string // host:port of the OTLP/HTTP receiver
	HTTPS string // host:port of the OTLP/HTTP receiver with TLS that wants Token
	GRPCS string // host:port of the OTLP/gRPC receiver with TLS that wants Token
	// GRPCBrief is an OTLP/gRPC receiver that ends connections: one idle
	// for BriefIdle, and any other after BriefAge (GOAWAY, then close).
	GRPCBrief string
	CAFile    string // PEM of the certificate the TLS receivers present
	Token     string // bearer token the TLS receivers want

	t       testing.TB
	dir     string
	keyFile string // the TLS receivers' private key
	runs    int
	proc    *otelcol.Process // nil once killed
	stderr  *testutil.SyncBuffer
}

// Start runs a collector on free loopback ports until the test ends.
func Start(t testing.TB) *Collector {
	t.Helper()
	c := &Collector{t: t, dir: t.TempDir(), Token: "pstrace-test-token"}
	c.GRPC, c.HTTP, c.HTTPS, c.GRPCS, c.GRPCBrief = freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	c.CAFile = filepath.Join(c.dir, "cert.pem")
	c.keyFile = filepath.Join(c.dir, "key.pem")
	writeCert(t, c.CAFile, c.keyFile)
	t.Cleanup(c.Kill)
	c.Restart()
	return c
}

// Restart starts the collector again, on the same ports, after Kill. Each
// run writes a file of its own, and Records reads them all.
func (c *Collector) Restart() {
	c.t.Helper()
	c.runs++
	config := filepath.Join(c.dir, fmt.Sprintf("config-%d.yaml", c.runs))
	out := filepath.Join(c.dir, fmt.Sprintf("logs-%d.jsonl", c.runs))
	yaml := fmt.Sprintf(configTemplate, c.Token, c.GRPC, c.HTTP, c.GRPCS, c.CAFile, c.keyFile, c.HTTPS, c.GRPCBrief, BriefIdle, BriefAge, out)
	if err := os.WriteFile(config, []byte(yaml), 0o644); err != nil {
		c.t.Fatal(err)
	}
	c.stderr = &testutil.SyncBuffer{}
	var err error
	if c.proc, err = otelcol.Start(Binary(c.t), config, c.stderr); err != nil {
		c.t.Fatal(err)
	}
	if err := c.proc.WaitListening(hangGuard, c.GRPC, c.HTTP, c.HTTPS, c.GRPCS, c.GRPCBrief); err != nil {
		c.t.Fatalf("%v:\n%s", err, c.stderr)
	}
}

// Kill stops the collector at once, as a crash would.
func (c *Collector) Kill() {
	if c.proc == nil {
		return
	}
	c.proc.Kill()
	c.proc = nil
}

// Stderr is what the current run of the collector has logged.
func (c *Collector) Stderr() string { return c.stderr.String() }

// How long the GRPCBrief receiver keeps a connection.
const (
	BriefIdle = 300 * time.Millisecond
	BriefAge  = 2 * time.Second
)

// configTemplate: the receivers (the TLS ones share one tls and one auth
// block, by YAML anchors), the file exporter, no telemetry server
// (collectors of tests that run at once would fight over its port).
const configTemplate = `
extensions:
  bearertokenauth:
    token: %q
receivers:
  otlp:
    protocols:
      grpc:
        endpoint: %s
      http:
        endpoint: %s
  otlp/tls:
    protocols:
      grpc:
        endpoint: %s
        tls: &tls
          cert_file: %s
          key_file: %s
        auth: &auth
          authenticator: bearertokenauth
      http:
        endpoint: %s
        tls: *tls
        auth: *auth
  otlp/brief:
    protocols:
      grpc:
        endpoint: %s
        keepalive:
          server_parameters:
            max_connection_idle: %v
            max_connection_age: %v
            max_connection_age_grace: 1m
exporters:
  file:
    path: %s
    flush_interval: 100ms
service:
  extensions: [bearertokenauth]
  telemetry:
    metrics:
      level: none
    logs:
      level: warn
  pipelines:
    logs:
      receivers: [otlp, otlp/tls, otlp/brief]
      exporters: [file]
`

// freeAddr returns a loopback address with a port nobody listens on.
func freeAddr(t testing.TB) string {
	t.Helper()
	addr, err := otelcol.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}
