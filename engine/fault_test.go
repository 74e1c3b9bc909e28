package engine

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/testutil"
)

// hungSocket is a real unix socket whose server accepts connections and
// never answers: what a wedged dockerd looks like from outside.
func hungSocket(t *testing.T) string {
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

// A Docker socket that accepts and never answers holds the first lookups
// that need Docker for one timeout, all at once, and no other lookup
// longer: the ones after skip Docker until it is tried again, and a
// containerd container's is answered within that timeout.
func TestDockerHungSocket(t *testing.T) {
	rootfs := testutil.RequireContainerd(t)
	id := uniqueName(t)
	shim := ctrRun(t, rootfs, id)
	const timeout = 3 * time.Second
	r, w := newResolver(t, Config{DockerSocket: hungSocket(t), ContainerdSocket: containerdSocket, Timeout: timeout, RetryAfter: time.Hour})

	start := time.Now()
	var stuck []Key
	for range 4 {
		k := Key{"moby", randomHex(t, 32)}
		stuck = append(stuck, k)
		r.Lookup(k.Namespace, k.ID, 0)
	}
	k := Key{"default", id}
	info := await(t, r, k, shim, func(*Info) bool { return final(r, k) })
	if took := time.Since(start); took >= 2*timeout {
		t.Errorf("a containerd lookup behind 4 lookups on a hung Docker took %v: more than one timeout (%v) each", took, timeout)
	}
	if info.Confirmed != Confirmed {
		t.Errorf("containerd container: %v, want confirmed", info.Confirmed)
	}
	for _, s := range stuck {
		info := await(t, r, s, 0, func(*Info) bool { return true })
		if info.Confirmed != Unknown || final(r, s) {
			t.Errorf("lookup on a hung Docker: %v (final %v), want unknown, to be retried", info.Confirmed, final(r, s))
		}
	}
	lines := w.all()
	if len(lines) != 1 || !strings.Contains(lines[0], "docker") || !strings.Contains(lines[0], "no answer") {
		t.Errorf("warnings: %q, want one saying Docker does not answer", lines)
	}
}

// privateDockerd is a dockerd of the test's own, on its own socket, data
// and exec roots and containerd namespace, which the test may stop and
// start without touching the engines others use.
type privateDockerd struct {
	t      *testing.T
	dir    string
	socket string
	ns     string
	cmd    *exec.Cmd
	exited chan struct{}
}

func startPrivateDockerd(t *testing.T, rootfs string) *privateDockerd {
	t.Helper()
	d := &privateDockerd{t: t, dir: t.TempDir(), ns: uniqueName(t)}
	d.socket = filepath.Join(d.dir, "docker.sock")
	t.Cleanup(func() {
		d.stop()
		exec.Command("ctr", "namespaces", "rm", d.ns, d.ns+"-plugins").Run()
	})
	d.start()
	tar := exec.Command("tar", "-C", rootfs, "-c", ".")
	imp := exec.Command("docker", "-H", "unix://"+d.socket, "import", "-", testutil.TestImage)
	pipe, err := tar.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	imp.Stdin = pipe
	if err := tar.Start(); err != nil {
		t.Fatal(err)
	}
	if out, err := imp.CombinedOutput(); err != nil {
		t.Fatalf("importing %s into the test's dockerd: %v: %s", testutil.TestImage, err, out)
	}
	if err := tar.Wait(); err != nil {
		t.Fatal(err)
	}
	return d
}

func (d *privateDockerd) start() {
	d.t.Helper()
	log, err := os.OpenFile(filepath.Join(d.dir, "dockerd.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		d.t.Fatal(err)
	}
	defer log.Close()
	d.cmd = exec.Command("dockerd", "-H", "unix://"+d.socket,
		"--data-root", filepath.Join(d.dir, "data"), "--exec-root", filepath.Join(d.dir, "exec"),
		"--pidfile", filepath.Join(d.dir, "dockerd.pid"), "--containerd", containerdSocket,
		"--containerd-namespace", d.ns, "--containerd-plugins-namespace", d.ns+"-plugins",
		"--iptables=false", "--ip-masq=false", "--bridge=none", "--shutdown-timeout", "1")
	d.cmd.Stdout, d.cmd.Stderr = log, log
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := d.cmd.Start(); err != nil {
		d.t.Fatalf("starting dockerd: %v", err)
	}
	exited := make(chan struct{})
	go func() { d.cmd.Wait(); close(exited) }()
	deadline := time.Now().Add(testutil.HangGuard)
	for exec.Command("docker", "-H", "unix://"+d.socket, "version").Run() != nil {
		select {
		case <-exited:
			logs, _ := os.ReadFile(filepath.Join(d.dir, "dockerd.log"))
			d.t.Fatalf("the test's dockerd exited while starting:\n%s", lastLines(logs, 20))
		default:
		}
		if time.Now().After(deadline) {
			d.t.Fatalf("the test's dockerd did not answer within %v", testutil.HangGuard)
		}
		time.Sleep(100 * time.Millisecond)
	}
	d.exited = exited
}

// stop stops the test's dockerd as a service manager would and waits for it.
func (d *privateDockerd) stop() {
	if d.cmd == nil || d.cmd.Process == nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-d.exited:
	case <-time.After(testutil.HangGuard):
		d.cmd.Process.Kill()
		<-d.exited
		d.t.Errorf("the test's dockerd did not stop on SIGTERM within %v", testutil.HangGuard)
	}
	d.cmd = nil
}

func lastLines(b []byte, n int) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// dockerd stopped mid-run, then started again: one warning, the names
// known kept, and names back from the event stream, subscribed again, for
// the containers created after.
func TestDockerEngineRestart(t *testing.T) {
	testutil.RequireDocker(t)
	rootfs := testutil.RequireContainerd(t)
	d := startPrivateDockerd(t, rootfs)
	r, w := newResolver(t, Config{DockerSocket: d.socket, ContainerdSocket: containerdSocket, DockerNamespace: d.ns})

	id, name := dockerRun(t, d.socket, nil, "true")
	k := Key{d.ns, id}
	if info := await(t, r, k, 0, func(*Info) bool { return final(r, k) }); info.Name != name {
		t.Fatalf("before the restart: name %q, want %q", info.Name, name)
	}

	d.stop()
	await(t, r, k, 0, func(*Info) bool { return len(w.all()) > 0 })
	// While Docker is away, a new id of its namespace is not judged: no
	// engine that owns it could answer.
	gone := Key{d.ns, randomHex(t, 32)}
	if info := await(t, r, gone, 0, func(*Info) bool { return true }); info.Confirmed != Unknown || final(r, gone) {
		t.Errorf("lookup while dockerd is stopped: %v (final %v), want unknown, to be retried", info.Confirmed, final(r, gone))
	}
	if info := r.Lookup(k.Namespace, k.ID, 0); info == nil || info.Name != name {
		t.Errorf("while dockerd is stopped, the name known before is lost: %+v", info)
	}

	d.start()
	// The event stream is open again: a container gone before any
	// inspect could see it is named from its events.
	await(t, r, k, 0, func(*Info) bool { return r.docker.health.up() })
	name2 := uniqueName(t)
	cidfile := filepath.Join(t.TempDir(), "cid")
	run(t, "docker", "-H", "unix://"+d.socket, "run", "--rm", "--cidfile", cidfile, "--name", name2,
		"--label", testutil.TestLabel, "--label", "com.docker.compose.service=after", testutil.TestImage, "true")
	id2, err := os.ReadFile(cidfile)
	if err != nil {
		t.Fatal(err)
	}
	k2 := Key{d.ns, string(id2)}
	info := await(t, r, k2, 0, func(i *Info) bool { return i.Name != "" })
	if info.Name != name2 || info.Labels["com.docker.compose.service"] != "after" {
		t.Errorf("after the restart: %+v, want name %s and service after", *info, name2)
	}

	var warned, back int
	for _, l := range w.all() {
		switch {
		case strings.HasPrefix(l, "warning: docker: "):
			warned++
		case strings.HasPrefix(l, "docker answers again"):
			back++
		default:
			t.Errorf("unexpected line %q", l)
		}
	}
	if warned != 1 || back != 1 {
		t.Errorf("lines: %q, want one warning that Docker is gone and one that it is back", w.all())
	}
}
