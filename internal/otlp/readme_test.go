package otlp

import (
	"os"
	"strings"
	"testing"

	"github.com/pstrace/pstrace/tracer"
)

// readmeTable returns the rows of the README's table under header, each
// split into its cells.
func readmeTable(t *testing.T, header string) [][]string {
	t.Helper()
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(readme), "\n"+header+"\n")
	if !ok {
		t.Fatalf("README.md has no table %q", header)
	}
	var rows [][]string
	for _, line := range strings.Split(rest, "\n")[1:] { // past the |---| line
		if !strings.HasPrefix(line, "|") {
			break
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, cells)
	}
	return rows
}

// The README's mapping tables are the code's.
func TestREADMEMapping(t *testing.T) {
	var want [][]string
	for _, f := range Mapping {
		want = append(want, []string{"`" + f.Key + "`", f.Type, f.Events, f.From, f.Meaning})
	}
	compareRows(t, "attributes", readmeTable(t, "| Attribute | Type | Events | From | Meaning |"), want)

	want = nil
	for _, f := range ResourceMapping {
		want = append(want, []string{"`" + f.Key + "`", f.Meaning})
	}
	compareRows(t, "resource", readmeTable(t, "| Resource attribute | Value |"), want)

	want = nil
	for typ := tracer.TypeFork; typ <= tracer.TypeLost; typ++ {
		sev := "INFO"
		if typ == tracer.TypeLost {
			sev = "WARN"
		}
		want = append(want, []string{"`" + typ.String() + "`", "`" + EventName[typ] + "`", sev})
	}
	compareRows(t, "events", readmeTable(t, "| Event | Event name | Severity |"), want)
}

func compareRows(t *testing.T, table string, got, want [][]string) {
	t.Helper()
	for i := range max(len(got), len(want)) {
		var g, w []string
		if i < len(got) {
			g = got[i]
		}
		if i < len(want) {
			w = want[i]
		}
		if strings.Join(g, " | ") != strings.Join(w, " | ") {
			t.Errorf("README %s table, row %d:\n  %q\nwant (from the code)\n  %q", table, i+1, g, w)
		}
	}
}
