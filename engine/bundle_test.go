package engine

import "testing"

// Ids come from processes' argv and cgroup names, which their owners
// choose: only containerd's identifiers may reach a bundle path.
func TestValidID(t *testing.T) {
	for _, s := range []string{"moby", "k8s.io", "default", "pstrace-test-0a1b", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"} {
		if !validID(s) {
			t.Errorf("validID(%q) = false, want true", s)
		}
	}
	for _, s := range []string{"", ".", "..", "../etc", "a/b", "a..b", "-a", "a-", "a b", "a\x00b", string(make([]byte, 77))} {
		if validID(s) {
			t.Errorf("validID(%q) = true, want false", s)
		}
	}
}
