// Package session runs pstrace's pipeline for one scope: the tracer that
// sends the scope's events, the process tree seeded from /proc and kept from
// them, and the one loop that feeds the first to the second. Open does the
// steps in the only order that keeps the tree exact; callers see each event
// with the container the tree gives it. It renders and exports nothing.
package session

import (
	"context"
	"fmt"

	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// Options are the tracer's, with the scope the tree shares.
type Options struct {
	Tracer tracer.Options
	// Proc is where the host's procfs is mounted; "" means /proc.
	Proc string
}

// Session is a running tracer and the tree kept from its events.
type Session struct {
	tracer *tracer.Tracer
	tree   *proctree.Tree
}

// Open starts tracing and then reads /proc: the ring buffer queues what
// happens during the scan, and the tree drops what the scan already saw.
func Open(opts Options) (*Session, error) {
	t, err := tracer.Open(opts.Tracer)
	if err != nil {
		return nil, err
	}
	tree := proctree.New(proctree.Options{Proc: opts.Proc, Scope: opts.Tracer.Scope})
	if err := tree.Seed(); err != nil {
		tree.Close()
		t.Close()
		return nil, fmt.Errorf("reading the process tree: %w", err)
	}
	return &Session{tracer: t, tree: tree}, nil
}

// Tracer is the tracer, for what it tells of the kernel side (ring buffer,
// programs' run counts); like the tree, read it in Run's callbacks.
func (s *Session) Tracer() *tracer.Tracer { return s.tracer }

// Tree is the process tree. It may be read in the callbacks of Run, and
// after Run returns; it changes only in Run.
func (s *Session) Tree() *proctree.Tree { return s.tree }

// Run applies every event to the tree and then calls onEvent with it and
// the container of its process (nil if none); onDrain, which may be nil, is
// called whenever the ring buffer has been drained: the tree is then the
// kernel's as of that moment. Run returns nil once ctx is done, else the
// first error.
func (s *Session) Run(ctx context.Context, onEvent func(ev *tracer.Event, ctr *proctree.Container) error, onDrain func() error) error {
	return s.tracer.Run(ctx, func(ev *tracer.Event) error {
		ctr, err := s.tree.Apply(ev)
		if err != nil {
			return err
		}
		return onEvent(ev, ctr)
	}, onDrain)
}

// Close detaches the tracer and releases the tree.
func (s *Session) Close() error {
	s.tree.Close()
	return s.tracer.Close()
}
