package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// Export is what an event exporter (OTLP) reports. Its metrics exist only
// once Metrics.Export has been called, so an agent that exports nothing
// shows none.
type Export struct {
	// QueueLength is the number of records waiting to be sent.
	QueueLength prometheus.Gauge
	// QueueCapacity is the most records the queue holds.
	QueueCapacity prometheus.Gauge
	// Sent counts records the receiver accepted.
	Sent prometheus.Counter
	// Dropped counts records given up on, by reason (e.g. queue_full,
	// rejected, retries_exhausted): keep what WithLabelValues returns.
	Dropped *prometheus.CounterVec
}

type exportOnce struct {
	once sync.Once
	e    *Export
}

// Export registers the exporter's metrics on first call and returns them.
func (m *Metrics) Export() *Export {
	m.export.once.Do(func() { m.export.e = NewExport(m.reg) })
	return m.export.e
}

// NewExport creates the exporter's metrics on reg; with a registry nobody
// serves, they count for no one (pstrace without --metrics-addr).
func NewExport(reg *prometheus.Registry) *Export {
	f := factory{reg}
	return &Export{
		QueueLength:   f.gauge("pstrace_export_queue_length", "Event records waiting in the export queue."),
		QueueCapacity: f.gauge("pstrace_export_queue_capacity", "Most event records the export queue holds."),
		Sent:          f.counter("pstrace_export_records_sent_total", "Event records the receiver accepted."),
		Dropped:       f.counterVec("pstrace_export_records_dropped_total", "Event records not exported, by reason.", "reason"),
	}
}
