package engine

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// maxBundleConfig bounds the config.json read: a runtime spec is a few KiB.
const maxBundleConfig = 4 << 20

// Annotations a CRI runtime (containerd's CRI plugin) writes into the OCI
// spec, mapped to the labels users know; nerdctl writes the name it was given.
var annotationLabels = map[string]string{
	"io.kubernetes.cri.sandbox-name":      "io.kubernetes.pod.name",
	"io.kubernetes.cri.sandbox-namespace": "io.kubernetes.pod.namespace",
	"io.kubernetes.cri.sandbox-uid":       "io.kubernetes.pod.uid",
	"io.kubernetes.cri.container-name":    "io.kubernetes.container.name",
}

const (
	annotationImage   = "io.kubernetes.cri.image-name"
	nerdctlNameLabel  = "nerdctl/name"
	errBundleNotFound = bundleError("no bundle")
)

type bundleError string

func (e bundleError) Error() string { return string(e) }

// readBundle reads the OCI bundle of container id of namespace ns through
// the shim that serves it: a runc v2 shim runs in its bundle directory,
// <state>/<namespace>/<id>, and a pod's shim serves its other containers
// from sibling directories. No socket is needed, and the shim's view is the
// runtime's own. It fails with errBundleNotFound when the shim is gone or
// serves no such container in that namespace (a shim pid reused, a forged id).
func readBundle(proc string, shim uint32, ns, id string) (Info, error) {
	if shim == 0 || !validID(id) || !validID(ns) {
		return Info{}, errBundleNotFound
	}
	cwd := filepath.Join(proc, strconv.FormatUint(uint64(shim), 10), "cwd")
	dir, err := os.Readlink(cwd)
	if err != nil || filepath.Base(filepath.Dir(dir)) != ns {
		return Info{}, errBundleNotFound
	}
	// Through the magic link, so the path is resolved in the shim's root
	// (not joined: filepath.Join would drop the "..").
	f, err := os.Open(cwd + "/../" + id + "/config.json")
	if err != nil {
		return Info{}, errBundleNotFound
	}
	defer f.Close()
	var spec struct {
		Annotations map[string]string `json:"annotations"`
	}
	if err := json.NewDecoder(io.LimitReader(f, maxBundleConfig)).Decode(&spec); err != nil {
		return Info{}, fmt.Errorf("bundle of %s: config.json: %w", id, err)
	}
	a := spec.Annotations
	labels := pickLabels(a)
	for from, to := range annotationLabels {
		if v := a[from]; v != "" {
			if labels == nil {
				labels = make(map[string]string)
			}
			labels[to] = v
		}
	}
	return Info{Name: a[nerdctlNameLabel], Image: a[annotationImage], Labels: labels, Confirmed: Confirmed}, nil
}

// validID accepts containerd's identifiers (letters, digits, and . _ -
// between them), so that an id read from a process's argv or cgroup can
// never name a path outside the bundle directory.
func validID(s string) bool {
	if s == "" || len(s) > 76 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
		if alnum {
			continue
		}
		if (c != '.' && c != '_' && c != '-') || i == 0 || i == len(s)-1 {
			return false
		}
		if p := s[i-1]; p == '.' || p == '_' || p == '-' {
			return false
		}
	}
	return true
}
