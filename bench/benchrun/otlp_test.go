package main

import (
	"os"
	"testing"
)

// The OTLP row counts the collector's records since its last count, and
// as lost both the lost events they report and what pstrace dropped.
func TestCountOTLP(t *testing.T) {
	out := writeTemp(t, "otlp.jsonl",
		`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":"process.fork"},{"eventName":"process.exec"},`+
			`{"attributes":[{"key":"pstrace.lost.count","value":{"intValue":"17"}}],"eventName":"pstrace.lost"}]}]}]}`+"\n"+
			`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"eventName":"process.exit"}]}]}]}`+"\n")
	stderr := writeTemp(t, "err", "pstrace: otlp: 5 records dropped (5 in all): the queue was full\n"+
		"pstrace: otlp: 2 records dropped (7 in all): still queued 5s after pstrace was stopped\n")
	count := countOTLP(out)
	if events, lost := count("", stderr); events != 3 || lost != 17+7 {
		t.Errorf("%d events, %d lost; want 3, 24", events, lost)
	}
	if st, err := os.Stat(out); err != nil || st.Size() != 0 {
		t.Errorf("the collector's file was not emptied for the next count: %v", err)
	}
	if events, _ := count("", stderr); events != 0 {
		t.Errorf("a second count found %d events, want 0", events)
	}
}
