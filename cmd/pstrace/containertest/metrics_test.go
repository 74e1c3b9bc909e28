package containertest

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pstrace/pstrace/internal/promtest"
	"github.com/pstrace/pstrace/internal/testutil"
)

// Sizes of the storm the test starts on the host.
const (
	stormTrue   = 200 // /bin/true: exit code 0
	stormFalse  = 50  // /bin/false: exit code 1
	stormKilled = 3   // sleep, killed with SIGKILL
)

// TestDockerMetricsScrapedByPrometheus runs pstrace events with
// --metrics-addr under a real Prometheus that scrapes it every second; a
// storm of processes and a docker run later, PromQL through Prometheus's
// HTTP API shows the exec and exit counters grown by at least the storm,
// by outcome, and the container's series with exactly the starts and exits
// pstrace printed for it; the series goes once the container has been gone
// for --metrics-container-ttl, and promtool finds nothing to say of a scrape.
func TestDockerMetricsScrapedByPrometheus(t *testing.T) {
	testutil.RequireDocker(t)
	addr := freeAddr(t)
	s := watchEvents(t, "--metrics-addr", addr, "--metrics-container-ttl", "5s")
	metricsURL := "http://" + addr + "/metrics"
	if code, body := get(t, "http://"+addr+"/healthz"); code != http.StatusOK {
		t.Fatalf("/healthz of a tracing pstrace: %d %s", code, body)
	}
	prom := startPrometheus(t, addr)
	prom.waitFor("a first scrape of pstrace", `up{job="pstrace"}`, func(v float64) bool { return v == 1 })
	// Prometheus holds a sample from before the storm: increases are taken from it.
	before := time.Now()
	increase := func(series string) string {
		return fmt.Sprintf("sum(%s) - (sum(%s @ %d) or vector(0))", series, series, before.Unix())
	}

	for range stormTrue {
		runQuiet(t, "/bin/true")
	}
	for range stormFalse {
		if err := exec.Command("/bin/false").Run(); err == nil {
			t.Fatal("/bin/false exited 0")
		}
	}
	for range stormKilled {
		sleep := exec.Command("sleep", "600")
		if err := sleep.Start(); err != nil {
			t.Fatal(err)
		}
		sleep.Process.Kill()
		sleep.Wait()
	}
	name := uniqueName(t)
	removeDockerOnCleanup(t, name)
	cidfile := filepath.Join(t.TempDir(), "cid")
	runQuiet(t, "docker", "run", "--name", name, "--label", testutil.TestLabel, "--cidfile", cidfile, testutil.TestImage,
		"sh", "-c", "for i in 1 2 3; do /bin/true; done; sleep 1; : "+name)
	cid, err := os.ReadFile(cidfile)
	if err != nil || len(cid) != 64 {
		t.Fatalf("cidfile: %q, %v", cid, err)
	}
	id := string(cid)
	s.sync() // every event of the run has been printed, and counted

	var forks, exits float64
	for _, ev := range s.seen {
		if ev.Container != nil && ev.Container.ID == id {
			switch ev.Type {
			case "fork":
				forks++
			case "exit":
				exits++
			}
		}
	}
	if forks < 4 || exits < 4 {
		t.Fatalf("pstrace printed %v forks and %v exits in the container: want the shell's 3 /bin/true and the sleep", forks, exits)
	}
	// The container's series, as pstrace serves it (it expires later).
	scrape := promtest.Get(t, metricsURL)
	promtest.PromtoolCheck(t, scrape.Body)

	atLeast := func(n float64) func(float64) bool { return func(v float64) bool { return v >= n } }
	const all = stormTrue + stormFalse + stormKilled
	prom.waitFor("the storm's execs", increase(`pstrace_events_total{type="exec"}`), atLeast(all))
	prom.waitFor("the storm's exits", increase(`pstrace_events_total{type="exit"}`), atLeast(all))
	prom.waitFor("exits with code 0", increase(`pstrace_process_exits_total{outcome="code_zero"}`), atLeast(stormTrue))
	prom.waitFor("exits with code 1", increase(`pstrace_process_exits_total{outcome="code_nonzero"}`), atLeast(stormFalse))
	prom.waitFor("kills", increase(`pstrace_process_exits_total{outcome="signal",signal="SIGKILL"}`), atLeast(stormKilled))
	prom.waitFor("a live container", `max_over_time(pstrace_containers[5m])`, atLeast(1))
	// Labelled by the name docker gave it: the engines answer within the
	// census interval that a container's label may wait for.
	ctr := fmt.Sprintf(`{container=%q,namespace="moby"}`, name)
	exact := func(n float64) func(float64) bool { return func(v float64) bool { return v == n } }
	// last_over_time: the series may already have expired from pstrace.
	starts := prom.waitFor("the container's starts", "last_over_time(pstrace_container_process_starts_total"+ctr+"[5m])", exact(forks))
	ended := prom.waitFor("the container's exits", "last_over_time(pstrace_container_process_exits_total"+ctr+"[5m])", exact(exits))
	t.Logf("container %s: %v starts and %v exits in Prometheus, as printed", name, starts, ended)

	// Gone for the TTL, the container's series leaves pstrace's /metrics.
	series := promtest.Series("pstrace_container_process_exits_total", "container", name, "namespace", "moby")
	deadline := time.Now().Add(hangGuard)
	for {
		if _, ok := promtest.Get(t, metricsURL).Samples[series]; !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still served %v after the container ended", series, hangGuard)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// runQuiet runs a command, failing the test with its output if it fails.
func runQuiet(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v: %s", name, err, out)
	}
}

// get returns an HTTP GET's status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}
