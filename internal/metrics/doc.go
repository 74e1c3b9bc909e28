// Package metrics keeps pstrace's Prometheus metrics and serves them, with a
// health check, over HTTP.
//
// What it does: it counts the events the tracer reads (by type, exit
// outcome and container), and, at drain time only, reads the process tree
// (live processes and containers, repairs), the ring buffer (capacity,
// largest backlog seen) and the BPF programs' run counters. /metrics serves
// them in the Prometheus text format; /healthz says whether the BPF programs
// are attached and the reader is still draining. Other parts of pstrace
// report into the same registry: engine lookups (EngineLookups), event
// export (Export), or collectors of their own (Registerer).
//
// What it must not do: slow the event path. Event, called once per event on
// the event loop, does a few atomic adds and, for a process in a container,
// one lookup keyed by the container's pointer. Everything that walks, keys
// by strings, allocates series or expires them happens in Drain, at most
// once per census interval. It never blocks on the HTTP side: scrapes read
// atomics and take a lock the event loop holds only at drain time or the
// first time it meets a container.
//
// Cardinality is bounded: per-container series exist for at most
// MaxContainers containers at once (the others are counted together in one
// series labelled container="other"), and a container's series are deleted
// ContainerTTL after it was last seen live.
package metrics
