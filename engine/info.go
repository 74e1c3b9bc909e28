package engine

import "maps"

// Key names a container as the tracer attributes it.
type Key struct {
	Namespace string // containerd namespace: moby for Docker, k8s.io for CRI, default for ctr
	ID        string
}

// Confirmation says whether the container is known to exist. The zero
// value, Unknown, is what holds until an engine or a shim has answered, and
// for good when no engine that could own the id can be asked.
type Confirmation uint8

const (
	// Unknown: no engine could be asked yet (absent, stopped, pending, or
	// none that owns the namespace, as for CRI-O and Podman).
	Unknown Confirmation = iota
	// Confirmed: an engine, or a shim's bundle, vouched for the id. It is
	// kept after the container is removed.
	Confirmed
	// Unconfirmed: every engine that could own the id answered that it has
	// no such container, and no shim serves it: the attribution rests on a
	// cgroup name alone, which anyone who can create a cgroup can choose.
	Unconfirmed
)

func (c Confirmation) String() string {
	switch c {
	case Confirmed:
		return "confirmed"
	case Unconfirmed:
		return "unconfirmed"
	}
	return "unknown"
}

// LabelKeys are the labels kept from an engine: the ones users filter on.
var LabelKeys = []string{
	"com.docker.compose.project",
	"com.docker.compose.service",
	"io.kubernetes.pod.name",
	"io.kubernetes.pod.namespace",
	"io.kubernetes.pod.uid",
	"io.kubernetes.container.name",
}

// Info is what is known of a container. A published Info is never changed:
// a later answer comes as a new one, so the loop and the lookups may share it.
type Info struct {
	Name      string            // as the user named it (docker --name, nerdctl --name); "" if none
	Image     string            // as the user wrote it: "nginx:1.27", "pstrace-test:busybox"
	ImageID   string            // Docker: the image's config digest; containerd: the image's target digest
	Labels    map[string]string // only LabelKeys; nil when none
	Confirmed Confirmation
}

// pickLabels keeps the LabelKeys of m, nil when it has none.
func pickLabels(m map[string]string) map[string]string {
	var out map[string]string
	for _, k := range LabelKeys {
		if v, ok := m[k]; ok && v != "" {
			if out == nil {
				out = make(map[string]string)
			}
			out[k] = v
		}
	}
	return out
}

// over returns a copy of i with what it lacks taken from base: a later,
// fuller answer (an inspect) goes over an earlier one (an event), and a
// container once confirmed stays so after it is gone.
func (i Info) over(base *Info) Info {
	if base == nil {
		return i
	}
	if i.Name == "" {
		i.Name = base.Name
	}
	if i.Image == "" {
		i.Image = base.Image
	}
	if i.ImageID == "" {
		i.ImageID = base.ImageID
	}
	if len(base.Labels) > 0 {
		labels := maps.Clone(base.Labels)
		maps.Copy(labels, i.Labels)
		i.Labels = labels
	}
	if base.Confirmed == Confirmed {
		i.Confirmed = Confirmed
	}
	return i
}

// same tells whether two answers say the same, so that an unchanged one
// is not reported again.
func (i *Info) same(o *Info) bool {
	return i.Name == o.Name && i.Image == o.Image && i.ImageID == o.ImageID &&
		i.Confirmed == o.Confirmed && maps.Equal(i.Labels, o.Labels)
}
