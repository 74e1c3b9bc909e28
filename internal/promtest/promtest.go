// Package promtest reads and checks Prometheus text endpoints in tests.
package promtest

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/pstrace/pstrace/internal/testutil"
)

// Scrape is one read of a Prometheus text endpoint: the body as served,
// and every sample keyed by Series.
type Scrape struct {
	Body    []byte
	Samples map[string]float64
}

// Series names one sample: `name{a="x",b="y"}`, labels sorted by name and
// empty ones left out (Prometheus treats an empty label as absent).
func Series(name string, labels ...string) string {
	var pairs []string
	for i := 0; i+1 < len(labels); i += 2 {
		if labels[i+1] != "" {
			pairs = append(pairs, fmt.Sprintf("%s=%q", labels[i], labels[i+1]))
		}
	}
	slices.Sort(pairs)
	return name + "{" + strings.Join(pairs, ",") + "}"
}

// Get reads url (a /metrics endpoint) and parses it, or fails the test.
func Get(t testing.TB, url string) Scrape {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatalf("scraping %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("scraping %s: status %d, %v: %s", url, resp.StatusCode, err, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("%s is not the Prometheus text format: %v", url, err)
	}
	s := Scrape{Body: body, Samples: map[string]float64{}}
	for name, f := range fams {
		for _, m := range f.Metric {
			var labels []string
			for _, l := range m.Label {
				labels = append(labels, l.GetName(), l.GetValue())
			}
			var v float64
			switch {
			case m.Counter != nil:
				v = m.Counter.GetValue()
			case m.Gauge != nil:
				v = m.Gauge.GetValue()
			case m.Untyped != nil:
				v = m.Untyped.GetValue()
			default:
				continue // summaries and histograms: none of pstrace's own
			}
			s.Samples[Series(name, labels...)] = v
		}
	}
	return s
}

// PromtoolCheck runs Prometheus's own linter, `promtool check metrics`, on
// a scrape's body and fails the test on any complaint.
func PromtoolCheck(t testing.TB, body []byte) {
	t.Helper()
	path, err := exec.LookPath("promtool")
	if err != nil {
		testutil.Unavailable(t, "promtool not found: it comes with Debian's prometheus package (scripts/deps.sh installs it)")
	}
	cmd := exec.Command(path, "check", "metrics")
	cmd.Stdin = bytes.NewReader(body)
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("promtool check metrics: %v\n%s", err, out)
	}
}
