package containertest

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/testutil"
)

// prometheus is a real Prometheus server (Debian's prometheus package) that
// scrapes one target every second, on loopback, with its storage in a
// temporary directory; it is stopped when the test ends.
type prometheus struct {
	t      *testing.T
	api    string
	cmd    *exec.Cmd
	stderr *testutil.SyncBuffer
	exited chan struct{} // closed once the server has exited
}

// freeAddr is a loopback address with a port nothing listened on a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startPrometheus starts a server that scrapes target's /metrics.
func startPrometheus(t *testing.T, target string) *prometheus {
	t.Helper()
	bin, err := exec.LookPath("prometheus")
	if err != nil {
		testutil.Unavailable(t, "prometheus not found: apt-get install prometheus (scripts/deps.sh installs it)")
	}
	dir := t.TempDir()
	config := fmt.Sprintf("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"+
		"scrape_configs:\n  - job_name: pstrace\n    static_configs:\n      - targets: ['%s']\n", target)
	cfgPath := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	listen := freeAddr(t)
	p := &prometheus{t: t, api: "http://" + listen, stderr: &testutil.SyncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, "--config.file="+cfgPath, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+listen, "--log.level=warn")
	p.cmd.Stdout, p.cmd.Stderr = p.stderr, p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting prometheus: %v", err)
	}
	go func() { p.cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.exited:
		case <-time.After(hangGuard):
			p.cmd.Process.Kill()
			t.Errorf("prometheus did not stop on SIGTERM; its log:\n%s", p.stderr.String())
		}
	})
	p.poll("Prometheus ready", func() bool {
		resp, err := http.Get(p.api + "/-/ready")
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == http.StatusOK
	})
	return p
}

// poll calls cond until it holds, failing the test after the hang guard.
func (p *prometheus) poll(what string, cond func() bool) {
	p.t.Helper()
	deadline := time.Now().Add(hangGuard)
	for !cond() {
		select {
		case <-p.exited:
			p.t.Fatalf("prometheus exited while the test waited for %s; its log:\n%s", what, p.stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("gave up waiting for %s after %v; prometheus's log:\n%s", what, hangGuard, p.stderr.String())
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// query evaluates a PromQL expression now through the HTTP API and returns
// its one value, or ok=false when it yields no sample.
func (p *prometheus) query(expr string) (v float64, ok bool) {
	p.t.Helper()
	resp, err := http.Get(p.api + "/api/v1/query?query=" + url.QueryEscape(expr))
	if err != nil {
		p.t.Fatalf("querying prometheus: %v", err)
	}
	defer resp.Body.Close()
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || r.Status != "success" {
		p.t.Fatalf("query %s: status %q, %s, %v", expr, r.Status, r.Error, err)
	}
	switch len(r.Data.Result) {
	case 0:
		return 0, false
	case 1:
	default:
		p.t.Fatalf("query %s: %d samples, want one", expr, len(r.Data.Result))
	}
	s, _ := r.Data.Result[0].Value[1].(string)
	v, err = strconv.ParseFloat(s, 64)
	if err != nil {
		p.t.Fatalf("query %s: value %q: %v", expr, s, err)
	}
	return v, true
}

// waitFor polls expr until it yields a value for which cond holds, and
// returns that value.
func (p *prometheus) waitFor(what, expr string, cond func(float64) bool) float64 {
	p.t.Helper()
	var v float64
	p.poll(what+" ("+expr+")", func() bool {
		var ok bool
		v, ok = p.query(expr)
		return ok && cond(v)
	})
	return v
}
