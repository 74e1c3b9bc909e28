package main

import (
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/session"
	"github.com/pstrace/pstrace/tracer"
)

// A sink is one of a command's outputs. It gets every event on the event
// loop, after the tree has applied it, so it must not block there; drain
// is called whenever the ring buffer has been emptied (at least once per
// drain interval), close once at the end.
type sink interface {
	event(ev *tracer.Event, ctr *proctree.Container) error
	drain() error
	close() error
}

// errDone is returned by a sink that has written all it was asked for.
var errDone = errors.New("done")

// runCommand opens a session for the scope and feeds its events to the
// sinks that newSinks makes for it, until Ctrl-C, SIGTERM or errDone.
func runCommand(c *cli.Context, scope tracer.Scope, newSinks func(s *session.Session) ([]sink, error)) (err error) {
	opts, err := sessionOptions(c, scope)
	if err != nil {
		return err
	}
	s, err := session.Open(opts)
	if err != nil {
		return cliWords(err)
	}
	defer s.Close()
	sinks, err := newSinks(s)
	defer func() {
		for _, k := range sinks {
			if cerr := k.close(); cerr != nil && err == nil {
				err = cerr
			}
		}
	}()
	if err != nil {
		return err
	}
	err = s.Run(c.Context, func(ev *tracer.Event, ctr *proctree.Container) error {
		for _, k := range sinks {
			if err := k.event(ev, ctr); err != nil {
				return err
			}
		}
		return nil
	}, func() error {
		for _, k := range sinks {
			if err := k.drain(); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, errDone) {
		return nil
	}
	return err
}

// writeErr wraps a failed write of a command's output.
func writeErr(what string, err error) error {
	return fmt.Errorf("writing %s: %w", what, err)
}
