package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"github.com/pstrace/pstrace/engine"
	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// engineFlags choose where container names come from (see package engine).
func engineFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "no-engine", Usage: "do not ask the container engines for names, images and labels"},
		&cli.StringFlag{Name: "docker-socket", Value: "/var/run/docker.sock", Usage: "Docker Engine API unix socket `PATH` (\"\" for none)"},
		&cli.StringFlag{Name: "containerd-socket", Value: "/run/containerd/containerd.sock", Usage: "containerd API unix socket `PATH` (\"\" for none)"},
		&cli.StringFlag{Name: "docker-namespace", Value: "moby", Usage: "the containerd `NAMESPACE` of Docker's containers (dockerd --containerd-namespace)"},
	}
}

// engineNames is the first sink of a command: it gives each event's
// container what the engines say of it, before the other sinks see it.
// Lookups run in the resolver's goroutines; what they find is taken in at
// each drain, on the loop, since the tree and its containers are the
// loop's alone.
type engineNames struct {
	r       *engine.Resolver
	changed bool // an answer arrived since the tree was last named
	// named is the container last named, until the next drain: a storm's
	// events are mostly one container's, and the tree interns containers,
	// so a pointer comparison saves hashing its 64-hex id for each event.
	// Answers come in only at a drain, which forgets it.
	named *proctree.Container
}

// newEngineNames starts the lookups, or returns nil with --no-engine.
// Warnings go to stderr, one line per cause.
func newEngineNames(c *cli.Context) *engineNames {
	if c.Bool("no-engine") {
		return nil
	}
	return &engineNames{r: engine.New(engine.Config{
		DockerSocket:     c.String("docker-socket"),
		ContainerdSocket: c.String("containerd-socket"),
		DockerNamespace:  c.String("docker-namespace"),
		Warn:             func(msg string) { fmt.Fprintf(os.Stderr, "pstrace: %s\n", msg) },
	})}
}

func (n *engineNames) event(_ *tracer.Event, ctr *proctree.Container) error {
	n.name(ctr)
	return nil
}

func (n *engineNames) drain() error {
	n.r.Collect(func(engine.Key, *engine.Info) { n.changed = true })
	n.named = nil
	return nil
}

func (n *engineNames) close() error {
	n.r.Close()
	return nil
}

// name sets what is known now of ctr's container, and tells whether a
// lookup of it is still to answer.
func (n *engineNames) name(ctr *proctree.Container) (pending bool) {
	if n == nil || ctr == nil {
		return false
	}
	if ctr == n.named {
		return false
	}
	ctr.Engine = n.r.Lookup(ctr.Namespace, ctr.ID, ctr.ShimPID)
	if ctr.Engine == nil {
		return true
	}
	n.named = ctr
	return false
}

// nameTree names the containers of every process in the tree when an
// answer arrived since it last did (or first is true), and tells how many
// lookups are still to answer. Events name the containers they are about;
// this names those the /proc scan found, and passes on late answers.
func (n *engineNames) nameTree(tree *proctree.Tree, first bool) (pending int) {
	if n == nil || !(first || n.changed) {
		return 0
	}
	n.changed = false
	tree.Walk(func(p *proctree.Process) {
		if n.name(p.Container) {
			pending++
		}
		if n.name(p.ShimOf) {
			pending++
		}
	})
	return pending
}

// namedSinks puts names first, so that every other sink sees them.
func namedSinks(names *engineNames, sinks ...sink) []sink {
	if names == nil {
		return sinks
	}
	return append([]sink{names}, sinks...)
}
