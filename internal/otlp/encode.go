package otlp

import (
	"strconv"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/pstrace/pstrace/engine"
	"github.com/pstrace/pstrace/proctree"
	"github.com/pstrace/pstrace/tracer"
)

// Field numbers of the OTLP logs protobuf messages (opentelemetry-proto,
// collector/logs/v1 and logs/v1).
const (
	fRequestResourceLogs   = 1 // ExportLogsServiceRequest.resource_logs
	fResourceLogsResource  = 1 // ResourceLogs.resource
	fResourceLogsScopeLogs = 2 // ResourceLogs.scope_logs
	fResourceAttributes    = 1 // Resource.attributes
	fScopeLogsScope        = 1 // ScopeLogs.scope
	fScopeLogsRecords      = 2 // ScopeLogs.log_records
	fScopeName             = 1 // InstrumentationScope.name
	fScopeVersion          = 2 // InstrumentationScope.version
	fRecordTime            = 1 // LogRecord.time_unix_nano
	fRecordSeverity        = 2 // LogRecord.severity_number
	fRecordSeverityText    = 3 // LogRecord.severity_text
	fRecordBody            = 5 // LogRecord.body
	fRecordAttributes      = 6 // LogRecord.attributes
	fRecordObserved        = 11
	fRecordEventName       = 12
	fKVKey                 = 1 // KeyValue.key
	fKVValue               = 2 // KeyValue.value
	fAnyString             = 1 // AnyValue.string_value
	fAnyBool               = 2 // AnyValue.bool_value
	fAnyInt                = 3 // AnyValue.int_value
	fAnyArray              = 5 // AnyValue.array_value
	fArrayValues           = 1 // ArrayValue.values
	fResponsePartial       = 1 // ExportLogsServiceResponse.partial_success
	fPartialRejected       = 1 // ExportLogsPartialSuccess.rejected_log_records
	fPartialMessage        = 2 // ExportLogsPartialSuccess.error_message
)

// Severity numbers of the log data model.
const (
	severityInfo = 9
	severityWarn = 13
)

// encoder writes log records. Its buffers belong to the event loop.
type encoder struct {
	body []byte // the record's body text
	rec  []byte // a record moved aside when its length is not two bytes long
	time timeFormat
}

// A record is written in place after two bytes left for its length, the
// varint size of every length from 128 bytes to 16 KiB, where nearly all
// records fall; the rare other one is moved once its size is known.
const (
	minTwoByteLen = 1 << 7
	maxTwoByteLen = 1<<14 - 1
)

// appendRecord appends ev to dst as one ScopeLogs.log_records field.
func (e *encoder) appendRecord(dst []byte, ev *tracer.Event, ctr *proctree.Container, role proctree.Role) []byte {
	dst = appendVarint(dst, protowire.EncodeTag(fScopeLogsRecords, protowire.BytesType))
	at := len(dst)
	dst = e.encode(append(dst, 0, 0), ev, ctr, role)
	n := len(dst) - at - 2
	if n >= minTwoByteLen && n <= maxTwoByteLen {
		dst[at], dst[at+1] = byte(n)|0x80, byte(n>>7)
		return dst
	}
	e.rec = append(e.rec[:0], dst[at+2:]...)
	return append(appendVarint(dst[:at], uint64(n)), e.rec...)
}

// encode writes the LogRecord message of ev.
func (e *encoder) encode(b []byte, ev *tracer.Event, ctr *proctree.Container, role proctree.Role) []byte {
	ns := uint64(ev.Time.UnixNano())
	b = appendVarint(b, protowire.EncodeTag(fRecordTime, protowire.Fixed64Type))
	b = protowire.AppendFixed64(b, ns)
	// The kernel saw the event when it happened: observed and event time are one.
	b = appendVarint(b, protowire.EncodeTag(fRecordObserved, protowire.Fixed64Type))
	b = protowire.AppendFixed64(b, ns)
	sev, sevText := uint64(severityInfo), "INFO"
	if ev.Type == tracer.TypeLost {
		sev, sevText = severityWarn, "WARN"
	}
	b = appendVarint(b, protowire.EncodeTag(fRecordSeverity, protowire.VarintType))
	b = appendVarint(b, sev)
	b = appendVarint(b, protowire.EncodeTag(fRecordSeverityText, protowire.BytesType))
	b = appendString(b, sevText)
	if int(ev.Type) < len(eventNames) && eventNames[ev.Type] != "" {
		b = appendVarint(b, protowire.EncodeTag(fRecordEventName, protowire.BytesType))
		b = appendString(b, eventNames[ev.Type])
	}
	e.body = appendBody(e.body[:0], ev)
	n := escapedLen(e.body)
	b = appendVarint(b, protowire.EncodeTag(fRecordBody, protowire.BytesType))
	b = appendVarint(b, uint64(anyStringSize(n)))
	b = appendAnyString(b, e.body, n)

	const f = fRecordAttributes
	if ev.Type == tracer.TypeLost {
		b = appendInt(b, f, keyLostCount, int64(ev.LostCount))
		return appendStr(b, f, keyLostReason, bytesOf(ev.LostReason.String()))
	}
	b = appendInt(b, f, keyPID, int64(ev.PID))
	b = appendInt(b, f, keyTID, int64(ev.TID))
	b = appendInt(b, f, keyPPID, int64(ev.PPID))
	b = appendInt(b, f, keyVPID, int64(ev.NsPID))
	b = appendInt(b, f, keyUID, int64(ev.UID))
	b = appendInt(b, f, keyGID, int64(ev.GID))
	b = appendStr(b, f, keyComm, ev.Comm)
	b = e.time.appendAttr(b, f, keyCreationTime, ev.Time.Add(-ev.Duration()))
	b = appendInt(b, f, keyCgroupID, int64(ev.CgroupID))
	if ctr != nil {
		b = appendStr(b, f, keyContainerID, bytesOf(ctr.ID))
		b = appendStr(b, f, keyContainerNS, bytesOf(ctr.Namespace))
		b = appendInt(b, f, keyShimPID, int64(ctr.ShimPID))
		b = appendStr(b, f, keySource, bytesOf(ctr.Source))
		if role != proctree.RoleNone {
			b = appendStr(b, f, keyRole, bytesOf(role.String()))
		}
		if ctr.Engine != nil {
			b = appendEngine(b, f, ctr.Engine)
		}
	}
	switch ev.Type {
	case tracer.TypeExec:
		b = appendStr(b, f, keyFilename, ev.Filename)
		var n int
		b, n = appendArgs(b, f, keyArgs, ev.Args)
		b = appendInt(b, f, keyArgsCount, int64(n))
		// Attributes that would say "nothing happened" are left out, as
		// protobuf leaves out zero fields: they were an eighth of a storm's
		// bytes, which every collector on the way parses and keeps.
		if ev.ArgsTruncated {
			b = appendBool(b, f, keyArgsTrunc, true)
		}
	case tracer.TypeExit:
		// The record's time is the exit's: no attribute repeats it.
		b = appendInt(b, f, keyExitCode, int64(ev.Status.Code()))
		if sig := ev.Status.Signal(); sig != 0 {
			b = appendInt(b, f, keySignal, int64(sig))
			b = appendBool(b, f, keyCoreDumped, ev.Status.CoreDumped())
		}
		b = appendInt(b, f, keyDuration, int64(ev.Duration()))
	}
	return b
}

// appendEngine writes what the container engines say of the container.
func appendEngine(b []byte, f protowire.Number, info *engine.Info) []byte {
	if info.Name != "" {
		b = appendStr(b, f, keyName, bytesOf(info.Name))
	}
	if info.Image != "" {
		name, tag := splitImage(info.Image)
		b = appendStr(b, f, keyImage, bytesOf(name))
		if tag != "" {
			b, _ = appendArgs(b, f, keyImageTags, bytesOf(tag))
		}
	}
	if info.ImageID != "" {
		b = appendStr(b, f, keyImageID, bytesOf(info.ImageID))
	}
	if info.Confirmed != engine.Unknown {
		b = appendBool(b, f, keyConfirmed, info.Confirmed == engine.Confirmed)
	}
	for k, v := range info.Labels {
		b = appendLabel(b, f, k, bytesOf(v))
	}
	for _, l := range k8sLabels {
		if v := info.Labels[l.label]; v != "" {
			b = appendStr(b, f, l.key, bytesOf(v))
		}
	}
	return b
}

// splitImage parts an image reference as the user wrote it into its name
// and its tag: "nginx:1.27" is nginx and 1.27, "host:5000/app" has no tag,
// and a digest ("app@sha256:...") is neither.
func splitImage(ref string) (name, tag string) {
	if i := strings.IndexByte(ref, '@'); i >= 0 {
		return ref[:i], ""
	}
	if i := strings.LastIndexByte(ref, ':'); i > strings.LastIndexByte(ref, '/') {
		return ref[:i], ref[i+1:]
	}
	return ref, ""
}

// appendBody writes the record's body: a short line a person reads in a
// log viewer; the attributes carry the data.
func appendBody(b []byte, ev *tracer.Event) []byte {
	switch ev.Type {
	case tracer.TypeFork:
		b = append(b, "fork "...)
		b = append(b, ev.Comm...)
	case tracer.TypeExec:
		b = append(b, "exec "...)
		b = append(b, ev.Filename...)
	case tracer.TypeExit:
		switch {
		case ev.Status.Signal() != 0:
			b = append(b, "killed by signal "...)
			b = strconv.AppendInt(b, int64(ev.Status.Signal()), 10)
			if ev.Status.CoreDumped() {
				b = append(b, " (core dumped)"...)
			}
		default:
			b = append(b, "exit "...)
			b = strconv.AppendInt(b, int64(ev.Status.Code()), 10)
		}
	case tracer.TypeRename:
		b = append(b, "rename "...)
		b = append(b, ev.Comm...)
	case tracer.TypeLost:
		b = strconv.AppendUint(b, ev.LostCount, 10)
		b = append(b, " events lost: "...)
		b = append(b, ev.LostReason.String()...)
	}
	return b
}
