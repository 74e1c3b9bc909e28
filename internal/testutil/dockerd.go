package testutil

// Engines a test owns: a dockerd of its own it may stop and start, and a
// socket that accepts and never answers, as a hung engine does.

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// ContainerdSocket is where scripts/engine.sh starts containerd.
const ContainerdSocket = "/run/containerd/containerd.sock"

// randomHex is n random bytes in hex.
func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// HungSocket is a real unix socket whose server accepts connections and
// never answers: what a wedged dockerd looks like from outside.
func HungSocket(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "hung.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		wg    sync.WaitGroup
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		l.Close()
		wg.Wait()
		for _, c := range conns {
			c.Close()
		}
	})
	return path
}

// PrivateDockerd is a dockerd of the test's own, on its own socket, data
// and exec roots and containerd namespace, which the test may stop and
// start without touching the engines others use.
type PrivateDockerd struct {
	t      testing.TB
	dir    string
	Socket string // its API socket
	NS     string // its containerd namespace
	cmd    *exec.Cmd
	exited chan struct{}
}

func StartPrivateDockerd(t testing.TB, rootfs string) *PrivateDockerd {
	t.Helper()
	d := &PrivateDockerd{t: t, dir: t.TempDir(), NS: TestPrefix + randomHex(6)}
	d.Socket = filepath.Join(d.dir, "docker.sock")
	t.Cleanup(func() {
		d.Stop()
		exec.Command("ctr", "namespaces", "rm", d.NS, d.NS+"-plugins").Run()
	})
	d.Start()
	tar := exec.Command("tar", "-C", rootfs, "-c", ".")
	imp := exec.Command("docker", "-H", "unix://"+d.Socket, "import", "-", TestImage)
	pipe, err := tar.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	imp.Stdin = pipe
	if err := tar.Start(); err != nil {
		t.Fatal(err)
	}
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("importing %s into the test's dockerd: %v: %s", TestImage, err, out)
	}
	if err := tar.Wait(); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *PrivateDockerd) Start() {
	d.t.Helper()
	log, err := os.OpenFile(filepath.Join(d.dir, "dockerd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		d.t.Fatal(err)
	}
	defer log.Close()
	d.cmd = exec.Command("dockerd", "-H", "unix://"+d.Socket,
		"--data-root", filepath.Join(d.dir, "data"), "--exec-root", filepath.Join(d.dir, "exec"),
		"--pidfile", filepath.Join(d.dir, "dockerd.pid"), "--containerd", ContainerdSocket,
		"--containerd-namespace", d.NS, "--containerd-plugins-namespace", d.NS+"-plugins",
		"--iptables=false", "--ip-masq=false", "--bridge=none", "--shutdown-timeout", "1")
	d.cmd.Stdout, d.cmd.Stderr = log, log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := d.cmd.Start(); err != nil {
		d.t.Fatalf("starting dockerd: %v", err)
	}
	exited := make(chan struct{})
	go func() { d.cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(HangGuard)
	for exec.Command("docker", "-H", "unix://"+d.Socket, "version").Run() != nil {
		select {
		case <-exited:
			logs, _ := os.ReadFile(filepath.Join(d.dir, "dockerd.log"))
			d.t.Fatalf("the test's dockerd exited while starting:\n%s", lastLines(logs, 20))
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("the test's dockerd did not answer within %v", HangGuard)
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.exited = exited
}

// stop stops the test's dockerd as a service manager would and waits for it.
func (d *PrivateDockerd) Stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(HangGuard):
		d.cmd.Process.Kill()
		<-d.exited
		d.t.Errorf("the test's dockerd did not stop on SIGTERM within %v", HangGuard)
	}
	d.cmd = nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
