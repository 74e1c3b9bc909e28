// Package version says which pstrace this is: the release and commit the
// Makefile stamps in with -ldflags -X, else what the Go toolchain recorded.
package version

import (
	"fmt"
	"runtime/debug"
)

// Set by the Makefile: -X pstrace/internal/version.version=... -X ...commit=...
var (
	version string
	commit  string
)

// Info is what `pstrace --version` prints.
type Info struct {
	Version string // release, or "devel" for a plain go build of a checkout
	Commit  string // VCS revision, "+dirty" when the tree had changes; "unknown" without one
	Object  string // SHA-256 of the embedded BPF object
}

// Get reads the stamped values, falling back on the build information of
// the binary (go build records the revision when built in a git checkout,
// go install records the module version).
func Get(objectHash string) Info {
	i := Info{Version: version, Commit: commit, Object: objectHash}
	bi, ok := debug.ReadBuildInfo()
	if i.Version == "" {
		i.Version = "devel"
		if ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			i.Version = bi.Main.Version
		}
	}
	if i.Commit == "" {
		i.Commit = "unknown"
		if ok {
			i.Commit = vcsCommit(bi.Settings)
		}
	}
	return i
}

func vcsCommit(settings []debug.BuildSetting) string {
	rev, dirty := "", false
	for _, s := range settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "unknown"
	}
	if dirty {
		rev += "+dirty"
	}
	return rev
}

// String is the one line `pstrace --version` prints.
func (i Info) String() string {
	return fmt.Sprintf("pstrace %s (commit %s, BPF object sha256:%s)", i.Version, i.Commit, i.Object)
}
