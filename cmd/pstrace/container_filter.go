package main

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/pstrace/pstrace/proctree"
)

// containerFlags choose containers by name or id, on events and tree.
func containerFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "container", Usage: "only this container's own processes: its `NAME` (from the engines) or a unique prefix of its id (repeatable)"},
	}
}

// containerFilter keeps the processes of the containers --container names,
// their own ones only: roles init and exec, and processes attributed by
// their cgroup alone; not the shim, nor the runtime's processes. It runs on
// the event loop, after the tree, so it sees each event's container and
// role as the tree gives them.
type containerFilter struct {
	sels []*selector
}

// selector is one --container: a name, or an id prefix, which stands for
// the first container it matches from then on.
type selector struct {
	arg    string
	id, ns string // the container the prefix matched
	warned bool
}

// newContainerFilter reads --container; nil when it is not given.
func newContainerFilter(c *cli.Context) (*containerFilter, error) {
	args := c.StringSlice("container")
	if len(args) == 0 {
		return nil, nil
	}
	f := &containerFilter{}
	for _, a := range args {
		a = strings.TrimPrefix(a, "/") // docker inspect's form of a name
		if a == "" || strings.ContainsAny(a, " \t\n") {
			return nil, fmt.Errorf("--container %q: want a container name or a prefix of its id", a)
		}
		f.sels = append(f.sels, &selector{arg: a})
	}
	return f, nil
}

// keeps tells whether a process in ctr with role is one of the chosen
// containers' own. A nil filter keeps everything.
func (f *containerFilter) keeps(ctr *proctree.Container, role proctree.Role) bool {
	if f == nil {
		return true
	}
	if ctr == nil || !role.Own() {
		return false
	}
	for _, s := range f.sels {
		if s.matches(ctr) {
			return true
		}
	}
	return false
}

func (s *selector) matches(c *proctree.Container) bool {
	if c.Engine != nil && c.Engine.Name == s.arg {
		return true
	}
	if !strings.HasPrefix(c.ID, s.arg) {
		return false
	}
	if s.id == "" {
		s.id, s.ns = c.ID, c.Namespace
	}
	if c.ID == s.id && c.Namespace == s.ns {
		return true
	}
	if !s.warned {
		s.warned = true
		fmt.Fprintf(os.Stderr, "pstrace: warning: --container %s: container %s starts with it too; keeping %s only\n", s.arg, c.ID, s.id)
	}
	return false
}

// checkUnique fails when an id prefix matches several of the containers
// running now, as docker does; a prefix that matches one stands for it.
func (f *containerFilter) checkUnique(tree *proctree.Tree) error {
	if f == nil {
		return nil
	}
	ids := map[proctree.Container]bool{}
	tree.Walk(func(p *proctree.Process) {
		if p.Container != nil {
			ids[proctree.Container{ID: p.Container.ID, Namespace: p.Container.Namespace}] = true
		}
	})
	for _, s := range f.sels {
		var matched []string
		for c := range ids {
			if strings.HasPrefix(c.ID, s.arg) {
				matched = append(matched, c.ID)
				s.id, s.ns = c.ID, c.Namespace
			}
		}
		if len(matched) > 1 {
			sort.Strings(matched)
			return fmt.Errorf("--container %s: the id prefix matches %d containers (%s): give more of the id, or a name", s.arg, len(matched), strings.Join(matched, ", "))
		}
	}
	return nil
}

// drainInterval is the tracer's drain interval as the flags set it.
func drainInterval(c *cli.Context) time.Duration {
	return setIn(c, "drain-interval").Duration("drain-interval")
}
