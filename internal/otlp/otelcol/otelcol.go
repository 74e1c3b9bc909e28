// Package otelcol runs an OpenTelemetry Collector binary and waits for its
// receivers: the tests' collector (otlptest) and the benchmark's start it
// the same way.
package otelcol

import (
	"fmt"
	"io"
	"net"
	"os/exec"
	"syscall"
	"time"
)

// FreeAddr returns a loopback address with a port nobody listens on.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Process is a running collector.
type Process struct {
	cmd    *exec.Cmd
	exited chan struct{}
}

// Start runs the collector bin with the configuration file config,
// writing its log to stderr.
func Start(bin, config string, stderr io.Writer) (*Process, error) {
	p := &Process{cmd: exec.Command(bin, "--config", config), exited: make(chan struct{})}
	p.cmd.Stderr = stderr
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting the collector: %w", err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	return p, nil
}

// WaitListening waits until the collector accepts connections on every one
// of addrs; it fails when the collector exits first or guard passes, a
// bound on a hang, not on speed.
func (p *Process) WaitListening(guard time.Duration, addrs ...string) error {
	deadline := time.Now().Add(guard)
	for _, addr := range addrs {
		for ; ; time.Sleep(50 * time.Millisecond) {
			if conn, err := net.Dial("tcp", addr); err == nil {
				conn.Close()
				break
			}
			select {
			case <-p.exited:
				return fmt.Errorf("the collector exited: %v", p.cmd.ProcessState)
			default:
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the collector never listened on %s in %v", addr, guard)
			}
		}
	}
	return nil
}

// Kill stops the collector at once, as a crash would, and waits for it.
func (p *Process) Kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
}
