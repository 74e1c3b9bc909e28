// Package engine names containers: given the containerd namespace, id and
// shim of a container that pstrace attributed a process to, it says what
// the container engines know of it (name, image as the user wrote it, image
// id, a few labels users filter on) and whether any engine or shim vouches
// for the id at all.
//
// Sources, cheapest first: the OCI bundle's config.json, reached through
// the shim's working directory (no socket); the Docker Engine API on its
// unix socket (an inspect per id, and the event stream, so that a new
// container is usually known before its first process runs); containerd's
// API for the containers Docker does not own.
//
// What it must not do: block or slow the caller's event loop. Lookup reads
// a map that only the loop touches, and on a miss queues the work for
// background goroutines, each request bounded by a timeout; Collect, called
// by the loop at each drain, takes in what they found. Results are never
// applied from another goroutine: the caller's data is not concurrent-safe.
// A missing, stopped, restarted or hung engine never stops tracing: it costs
// at most one timeout per outage, one warning line, and names come back
// when the engine does.
package engine
