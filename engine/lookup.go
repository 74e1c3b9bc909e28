package engine

import (
	"context"
	"errors"
)

// work runs queued lookups until ctx is done.
func (r *Resolver) work(ctx context.Context) {
	for {
		select {
		case <-ctx.Done():
			return
		case j := <-r.jobs:
			info, final := r.lookup(ctx, j.key, j.shim)
			r.store.put(j.key, info, final)
			r.store.release(j.key)
		}
	}
}

// answer is one engine's reply about an id.
type answer uint8

const (
	unanswered answer = iota // engine absent, down, hung, or failing
	notFound
	found
)

// lookup asks the sources in order of cost: the shim's bundle, then the
// engines that may own the namespace, Docker first for Docker's own. The
// answer is final when an engine found the container, or every engine
// that may own it said it has no such container, or none may.
func (r *Resolver) lookup(ctx context.Context, k Key, shim uint32) (Info, bool) {
	info, err := readBundle(r.cfg.Proc, shim, k.Namespace, k.ID)
	inBundle := err == nil
	engines := r.enginesFor(k.Namespace)
	missing := 0
	for _, ask := range engines {
		got, a := ask(ctx, k)
		switch a {
		case found:
			return got.over(&info), true
		case unanswered:
			missing++
		}
	}
	switch {
	case inBundle:
		info.Confirmed = Confirmed
	case len(engines) > 0 && missing == 0:
		info.Confirmed = Unconfirmed
	}
	return info, missing == 0
}

// enginesFor lists the engines that may own containers of namespace ns:
// Docker then containerd for Docker's namespace (containerd holds Docker's
// running containers too), containerd for the others. CRI-O and Podman
// have none that pstrace asks.
func (r *Resolver) enginesFor(ns string) []func(context.Context, Key) (Info, answer) {
	var out []func(context.Context, Key) (Info, answer)
	switch ns {
	case "crio", "podman":
		return nil
	case r.cfg.DockerNamespace:
		if r.docker != nil {
			out = append(out, r.askDocker)
		}
	}
	if r.containerd != nil {
		out = append(out, r.askContainerd)
	}
	return out
}

func (r *Resolver) askDocker(ctx context.Context, k Key) (Info, answer) {
	d := r.docker
	return r.ask(ctx, d.health, d.socket, func(ctx context.Context) (Info, bool, error) {
		return d.inspect(ctx, k.ID)
	})
}

func (r *Resolver) askContainerd(ctx context.Context, k Key) (Info, answer) {
	c := r.containerd
	return r.ask(ctx, c.health, c.socket, func(ctx context.Context) (Info, bool, error) {
		return c.container(ctx, k.Namespace, k.ID)
	})
}

// ask makes one bounded request of an engine, unless the engine is known
// to be down: then it does not wait on it again before its skip period ends.
func (r *Resolver) ask(ctx context.Context, h *health, socket string, req func(context.Context) (Info, bool, error)) (Info, answer) {
	if h.skip() {
		return Info{}, unanswered
	}
	rctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	info, ok, err := req(rctx)
	switch {
	case err != nil && ctx.Err() != nil:
		return Info{}, unanswered // closing
	case err != nil:
		if rctx.Err() != nil {
			err = errors.Join(err, context.DeadlineExceeded)
		}
		h.fail(cause(socket, err), true, r.cfg.RetryAfter)
		return Info{}, unanswered
	case ok:
		h.ok()
		return info, found
	}
	h.ok()
	return Info{}, notFound
}
