// Package otlp exports pstrace's events as OpenTelemetry log records, over
// OTLP/gRPC or OTLP/HTTP with protobuf bodies, to an OpenTelemetry Collector
// or any other OTLP receiver.
//
// What it does: every event becomes one log record whose attributes follow
// the table in mapping.go (the README repeats it), under one resource that
// describes the host. Records are encoded into batches as they are enqueued;
// a sender goroutine ships sealed batches, retries with backoff what the
// receiver could not take, and counts what it sent and dropped (Stats).
//
// What it must not do: block or slow the event loop. Enqueue copies the
// event into the current batch (the event's byte slices are reused by the
// tracer after it returns), never waits, never does I/O and, once batches are
// warm, never allocates. When the receiver is down or slow, the queue is
// bounded in records and bytes, and what does not fit is dropped, counted,
// and said on stderr at most once a minute: memory stays bounded and tracing
// goes on. Close flushes what is queued, but waits no longer than its bound.
//
// The OTLP protobuf messages are written directly with protowire instead of
// being built as pdata or SDK objects: building the same records as objects
// costs several allocations per attribute on the event path, while writing
// them costs about what the JSON output does. Tests decode the bytes with
// the collector's own pdata and send them to a real collector.
package otlp
