package tracer

import (
	"crypto/sha256"
	"encoding/hex"
)

// ObjectHash is the SHA-256 of the BPF object embedded in this binary: two
// binaries that report the same hash load the same programs.
func ObjectHash() string {
	sum := sha256.Sum256(_PstraceBytes)
	return hex.EncodeToString(sum[:])
}
