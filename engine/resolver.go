package engine

import (
	"context"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Config says which engines to ask and how patiently.
type Config struct {
	DockerSocket     string // "" asks no Docker
	ContainerdSocket string // "" asks no containerd
	// DockerNamespace is the containerd namespace of Docker's containers;
	// "" means moby, dockerd's default.
	DockerNamespace string
	Proc            string        // where procfs is mounted; "" means /proc
	Timeout         time.Duration // bound on each request; 0 means 2s
	RetryAfter      time.Duration // first retry of a lookup that an engine could not answer; 0 means 2s, doubling to a minute
	Retain          time.Duration // what is known of a container is kept this long after its last use; 0 means 5m
	QueueSize       int           // lookups waiting for a worker; 0 means 256
	Workers         int           // lookups at once; 0 means 2
	// Warn prints one line: an engine lost or back, a full queue. It is
	// called from background goroutines, once per cause and outage.
	Warn func(msg string)
}

func (c *Config) setDefaults() {
	if c.DockerNamespace == "" {
		c.DockerNamespace = "moby"
	}
	if c.Proc == "" {
		c.Proc = "/proc"
	}
	if c.Timeout <= 0 {
		c.Timeout = 2 * time.Second
	}
	if c.RetryAfter <= 0 {
		c.RetryAfter = 2 * time.Second
	}
	if c.Retain <= 0 {
		c.Retain = 5 * time.Minute
	}
	if c.QueueSize <= 0 {
		c.QueueSize = 256
	}
	if c.Workers <= 0 {
		c.Workers = 2
	}
	if c.Warn == nil {
		c.Warn = func(string) {}
	}
}

// maxRetryDelay caps the backoff of lookups that an engine could not answer.
const maxRetryDelay = time.Minute

// Resolver answers what the engines know of containers. Lookup and Collect
// belong to one goroutine, the caller's event loop; the rest runs in the
// background until Close.
type Resolver struct {
	cfg        Config
	docker     *docker
	containerd *containerd
	store      *store
	jobs       chan job
	cancel     context.CancelFunc
	wg         sync.WaitGroup
	dropped    atomic.Uint64

	// The loop's own, read without locks.
	view      map[Key]*entry
	retrying  map[Key]*entry
	sweepGen  uint32
	lastSweep time.Time
	backs     uint64
	dropSaid  bool
}

// entry is what the loop knows of a container.
type entry struct {
	info    *Info // nil while the first lookup runs
	final   bool
	shim    uint32
	used    uint32 // sweep generation of the last Lookup
	tries   int
	retryAt time.Time
}

// job is one lookup for a worker.
type job struct {
	key  Key
	shim uint32
}

// New starts a resolver: its workers and, with a Docker socket, the
// subscription to Docker's event stream.
func New(cfg Config) *Resolver {
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	r := &Resolver{
		cfg:       cfg,
		store:     newStore(),
		jobs:      make(chan job, cfg.QueueSize),
		cancel:    cancel,
		view:      make(map[Key]*entry),
		retrying:  make(map[Key]*entry),
		lastSweep: time.Now(),
	}
	if cfg.DockerSocket != "" {
		r.docker = newDocker(cfg.DockerSocket, cfg.Warn)
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.watchDocker(ctx)
		}()
	}
	if cfg.ContainerdSocket != "" {
		r.containerd = newContainerd(cfg.ContainerdSocket, cfg.Warn)
	}
	for range cfg.Workers {
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.work(ctx)
		}()
	}
	return r
}

// Close stops the background goroutines and waits for them: a request in
// flight is cancelled.
func (r *Resolver) Close() {
	r.cancel()
	r.wg.Wait()
}

// Lookup returns what is known now of container id of namespace ns, whose
// shim is shim (0 if none: a cgroup attribution), or nil while nothing is.
// It never blocks: on a miss it queues a lookup whose answer a later
// Collect brings in. On the loop goroutine only.
func (r *Resolver) Lookup(ns, id string, shim uint32) *Info {
	k := Key{ns, id}
	if e, ok := r.view[k]; ok {
		e.used = r.sweepGen
		if e.shim == 0 {
			e.shim = shim
		}
		return e.info
	}
	e := &entry{shim: shim, used: r.sweepGen}
	// The event stream or an earlier lookup may know it already.
	if rec := r.store.get(k); rec != nil {
		e.info, e.final = rec.info, rec.final
		r.view[k] = e
		if !rec.final {
			r.retryLater(k, e)
		}
		return e.info
	}
	if r.enqueue(k, shim) {
		r.view[k] = e
	}
	return nil
}

// Collect takes in what the lookups found since the last call and calls fn
// (if not nil) with each container whose answer changed; it also retries,
// with backoff, lookups that an engine could not answer, at once when the
// engine is back. Call it on the loop goroutine at each drain.
func (r *Resolver) Collect(fn func(Key, *Info)) {
	now := time.Now()
	r.store.take(func(k Key, rec *record) {
		e := r.view[k]
		if e == nil {
			e = &entry{used: r.sweepGen}
			r.view[k] = e
		}
		e.info, e.final = rec.info, rec.final
		if rec.final {
			delete(r.retrying, k)
		} else if _, ok := r.retrying[k]; !ok {
			r.retryLater(k, e)
		}
		if fn != nil {
			fn(k, rec.info)
		}
	})
	if backs := r.engineBacks(); backs != r.backs {
		r.backs = backs
		for _, e := range r.retrying {
			e.retryAt, e.tries = now, 0
		}
	}
	for k, e := range r.retrying {
		if e.final || e.used != r.sweepGen || now.Before(e.retryAt) {
			continue
		}
		if r.enqueue(k, e.shim) {
			r.retryLater(k, e)
		}
	}
	if n := r.dropped.Load(); n > 0 && !r.dropSaid {
		r.dropSaid = true
		r.cfg.Warn("warning: container name lookups: the queue of " + strconv.Itoa(r.cfg.QueueSize) + " is full; lookups are retried on the container's next event")
	}
	if now.Sub(r.lastSweep) >= r.cfg.Retain {
		r.sweep(now)
	}
}

// retryLater schedules the next lookup of an answer that is not final.
func (r *Resolver) retryLater(k Key, e *entry) {
	delay := min(r.cfg.RetryAfter<<min(e.tries, 8), maxRetryDelay)
	e.tries++
	e.retryAt = time.Now().Add(delay)
	r.retrying[k] = e
}

// sweep forgets the containers not looked up since the previous sweep.
func (r *Resolver) sweep(now time.Time) {
	for k, e := range r.view {
		if e.used != r.sweepGen {
			delete(r.view, k)
			delete(r.retrying, k)
		}
	}
	r.sweepGen++
	r.lastSweep = now
	r.store.sweep()
}

// enqueue hands k to a worker unless one has it; false when the queue is
// full (counted; the next Lookup of k tries again).
func (r *Resolver) enqueue(k Key, shim uint32) bool {
	if !r.store.claim(k) {
		return true
	}
	select {
	case r.jobs <- job{k, shim}:
		return true
	default:
		r.store.release(k)
		r.dropped.Add(1)
		return false
	}
}

// Dropped is the number of lookups not queued because the queue was full.
func (r *Resolver) Dropped() uint64 { return r.dropped.Load() }

// engineBacks counts the engines' returns from outages.
func (r *Resolver) engineBacks() uint64 {
	var n uint64
	if r.docker != nil {
		n += r.docker.health.backs.Load()
	}
	if r.containerd != nil {
		n += r.containerd.health.backs.Load()
	}
	return n
}
