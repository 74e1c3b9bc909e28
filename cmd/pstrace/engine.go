package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"pstrace/internal/engine"
	"pstrace/tracer"
)

// engineFlags choose where container names come from (see internal/engine).
func engineFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "no-engine", Usage: "do not ask the container engines for names, images and labels"},
		&cli.StringFlag{Name: "docker-socket", Value: "/var/run/docker.sock", Usage: "Docker Engine API unix socket `PATH` (\"\" for none)"},
		&cli.StringFlag{Name: "containerd-socket", Value: "/run/containerd/containerd.sock", Usage: "containerd API unix socket `PATH` (\"\" for none)"},
	}
}

// engineNames gives the event loop's containers their names. Lookups run
// in the resolver's goroutines; what they find is taken in at each drain,
// on the loop, since the tree and its containers are the loop's alone.
type engineNames struct {
	r *engine.Resolver // nil with --no-engine
}

// openEngineNames starts the lookups unless --no-engine; warnings go to
// stderr, one line per cause.
func openEngineNames(c *cli.Context) *engineNames {
	if c.Bool("no-engine") {
		return &engineNames{}
	}
	return &engineNames{r: engine.New(engine.Config{
		DockerSocket:     c.String("docker-socket"),
		ContainerdSocket: c.String("containerd-socket"),
		Warn:             func(msg string) { fmt.Fprintf(os.Stderr, "pstrace: %s\n", msg) },
	})}
}

func (n *engineNames) close() {
	if n.r != nil {
		n.r.Close()
	}
}

// name sets what is known now of c's container, and tells whether a
// lookup is still to answer.
func (n *engineNames) name(c *tracer.Container) (pending bool) {
	if n.r == nil || c == nil {
		return false
	}
	c.Engine = n.r.Lookup(c.Namespace, c.ID, c.ShimPID)
	return c.Engine == nil
}

// drain takes in the lookups' answers; it tells whether any changed.
func (n *engineNames) drain() (changed bool) {
	if n.r != nil {
		n.r.Collect(func(engine.Key, *engine.Info) { changed = true })
	}
	return changed
}

// nameTree names the containers of every process in the tree, and tells
// how many lookups are still to answer.
func (n *engineNames) nameTree(tree *tracer.Tree) (pending int) {
	if n.r == nil {
		return 0
	}
	tree.Walk(func(p *tracer.Process) {
		if n.name(p.Container) {
			pending++
		}
		if n.name(p.ShimOf) {
			pending++
		}
	})
	return pending
}

// containerLabel is how text output names a container: the name the user
// gave it, else its short id.
func containerLabel(c *tracer.Container) string {
	if c.Engine != nil && c.Engine.Name != "" {
		return c.Engine.Name
	}
	return shortID(c.ID)
}
