package engine

import (
	"context"
	"time"
)

// Backoff of the event stream's reconnections.
const (
	watchMinBackoff = 250 * time.Millisecond
	watchMaxBackoff = 10 * time.Second
)

// watchDocker follows Docker's event stream, so that a container's name is
// known from its create event, before its first process runs, and still
// after it is gone (a `docker run --rm` of 50 ms). The stream is opened
// again with backoff when it fails or dockerd restarts; on each opening the
// list of containers fills in what happened meanwhile.
func (r *Resolver) watchDocker(ctx context.Context) {
	d := r.docker
	backoff := watchMinBackoff
	for ctx.Err() == nil {
		err := d.subscribe(ctx, r.cfg.Timeout, func() {
			backoff = watchMinBackoff
			d.health.ok()
			r.primeDocker(ctx)
		}, r.dockerEvent)
		if ctx.Err() != nil {
			return
		}
		d.health.fail(cause(d.socket, err), false, backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, watchMaxBackoff)
	}
}

// primeDocker records every container Docker has, in one request.
func (r *Resolver) primeDocker(ctx context.Context) {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	all, err := r.docker.list(ctx)
	if err != nil {
		return // the lookups ask one by one
	}
	for id, info := range all {
		r.store.put(Key{r.cfg.DockerNamespace, id}, info, true)
	}
}

// dockerEvent records what a container event says: its name, image and
// labels, confirmed by Docker. The image id is not in events: a lookup
// fetches it, while the container is being created.
func (r *Resolver) dockerEvent(ev *dockerEvent) {
	k := Key{r.cfg.DockerNamespace, ev.Actor.ID}
	switch ev.Action {
	case "create", "rename":
		r.store.put(k, ev.info(), false)
		r.enqueue(k, 0)
	case "start", "destroy":
		// A name known only from the event still names the processes of
		// a container gone before an inspect could see it; a removed
		// container is remembered from its removal on.
		r.store.note(k, ev.info())
	}
}
