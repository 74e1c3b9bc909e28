package otlp

import (
	"bytes"
	"encoding/binary"
	"os"
	"runtime"

	"google.golang.org/protobuf/encoding/protowire"
)

// ResourceField is one attribute of the resource every record is sent under.
type ResourceField struct {
	Key, Meaning string
}

// ResourceMapping lists the resource attributes; the README repeats it.
var ResourceMapping = []ResourceField{
	{"service.name", "`pstrace`"},
	{"service.version", "pstrace's version, as `pstrace --version` says it"},
	{"host.name", "the host name (`os.Hostname`)"},
	{"host.id", "`/etc/machine-id`, when the host has one"},
	{"host.arch", "`amd64` or `arm64`"},
	{"os.type", "`linux`"},
}

// scopeName is the instrumentation scope of every record.
const scopeName = "pstrace"

// frame holds what every request repeats around its records: the encoded
// resource and instrumentation scope.
type frame struct {
	resource []byte // the ResourceLogs.resource field
	scope    []byte // the ScopeLogs.scope field
	head     []byte // scratch for wrap
}

func newFrame(version string) *frame {
	var attrs []byte
	str := func(k, v string) { attrs = appendStr(attrs, fResourceAttributes, k, []byte(v)) }
	str("service.name", "pstrace")
	str("service.version", version)
	if h, err := os.Hostname(); err == nil {
		str("host.name", h)
	}
	if id, err := os.ReadFile("/etc/machine-id"); err == nil && len(bytes.TrimSpace(id)) > 0 {
		str("host.id", string(bytes.TrimSpace(id)))
	}
	// The conventions' names for the two architectures pstrace builds for
	// are Go's; others are left out rather than guessed.
	if runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64" {
		str("host.arch", runtime.GOARCH)
	}
	str("os.type", "linux")

	var scope []byte
	scope = protowire.AppendTag(scope, fScopeName, protowire.BytesType)
	scope = protowire.AppendString(scope, scopeName)
	scope = protowire.AppendTag(scope, fScopeVersion, protowire.BytesType)
	scope = protowire.AppendString(scope, version)

	f := &frame{
		resource: protowire.AppendBytes(protowire.AppendTag(nil, fResourceLogsResource, protowire.BytesType), attrs),
		scope:    protowire.AppendBytes(protowire.AppendTag(nil, fScopeLogsScope, protowire.BytesType), scope),
	}
	f.head = make([]byte, 0, f.headroom())
	return f
}

// headroom is the room a batch keeps before its records for wrap.
func (f *frame) headroom() int {
	return len(f.resource) + len(f.scope) + 3*(1+binary.MaxVarintLen64)
}

// wrap writes the request's head into buf[:start], right before the
// records in buf[start:], and returns the whole ExportLogsServiceRequest.
func (f *frame) wrap(buf []byte, start int) []byte {
	scopeLogs := len(f.scope) + len(buf) - start
	resourceLogs := len(f.resource) + protowire.SizeTag(fResourceLogsScopeLogs) + protowire.SizeBytes(scopeLogs)
	h := f.head[:0]
	h = protowire.AppendTag(h, fRequestResourceLogs, protowire.BytesType)
	h = protowire.AppendVarint(h, uint64(resourceLogs))
	h = append(h, f.resource...)
	h = protowire.AppendTag(h, fResourceLogsScopeLogs, protowire.BytesType)
	h = protowire.AppendVarint(h, uint64(scopeLogs))
	h = append(h, f.scope...)
	i := start - len(h)
	copy(buf[i:], h)
	return buf[i:]
}
