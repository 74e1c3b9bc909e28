package proctree

import "github.com/pstrace/pstrace/engine"

// Container identifies the container a process runs in. The tree keeps one
// copy of each, so a pointer identifies a container while it runs.
type Container struct {
	ID        string `json:"id"`
	Namespace string `json:"namespace"`
	ShimPID   uint32 `json:"shim_pid"`
	Source    string `json:"source"` // "shim" or "cgroup"
	// Engine is what the container engines say of it (name, image, image
	// id, labels, confirmation): set on the event loop from an
	// engine.Resolver, nil while nothing is known. The Info is never
	// changed, only replaced, and the tree never sets it: the Container
	// stays comparable, and its identity is the four fields above.
	Engine *engine.Info `json:"-"`
}

// maxContainers bounds the interned containers; see maxCgroupCache.
const maxContainers = 4096

// Sources of a container attribution.
const (
	sourceShim   = "shim"
	sourceCgroup = "cgroup"
)

// containerOf works out the container of node i from its parent and its
// cgroup: a shim's descendants are in the shim's container (named by the
// cgroup when it names one: a pod's shim serves several containers); a
// process outside any shim is in the container its cgroup names, if any.
// For a shim it returns the container its descendants run in.
func (t *Tree) containerOf(i int32, cg cgroupMatch) *Container {
	n := &t.nodes[i]
	if n.flags&flagShim != 0 {
		id, ns := parseShimArgs(t.argv.get(n.args))
		return t.intern(Container{ID: id, Namespace: ns, ShimPID: n.pid, Source: sourceShim})
	}
	var shim *Container
	if p := n.parent; p != rootIndex && p != none {
		if c := t.nodes[p].ctr; c != nil && c.Source == sourceShim {
			shim = c
		}
	}
	switch {
	case shim != nil && cg.id != "" && cg.id != shim.ID:
		return t.intern(Container{ID: cg.id, Namespace: shim.Namespace, ShimPID: shim.ShimPID, Source: sourceShim})
	case shim != nil:
		return shim
	case cg.id != "":
		return t.intern(Container{ID: cg.id, Namespace: cg.namespace, Source: sourceCgroup})
	}
	return nil
}

// intern returns the one shared copy of c, so nodes hold a pointer and
// events get one without allocating.
func (t *Tree) intern(c Container) *Container {
	if p, ok := t.containers[c]; ok {
		return p
	}
	if len(t.containers) >= maxContainers {
		clear(t.containers)
	}
	p := &c
	t.containers[c] = p
	return p
}
