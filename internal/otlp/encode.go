package otlp

import (
	"bytes"
	"strconv"
	"time"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"

	"pstrace/tracer"
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

// timeLayout is RFC 3339 in UTC with nanoseconds, as pstrace's JSON has it.
const timeLayout = "2006-01-02T15:04:05.000000000Z07:00"

// encoder writes log records. Its buffers belong to the event loop.
type encoder struct {
	rec  []byte // the record being written
	body []byte // the record's body text
}

// appendRecord appends ev to dst as one ScopeLogs.log_records field.
func (e *encoder) appendRecord(dst []byte, ev *tracer.Event, ctr *tracer.Container) []byte {
	e.rec = e.encode(e.rec[:0], ev, ctr)
	dst = protowire.AppendTag(dst, fScopeLogsRecords, protowire.BytesType)
	dst = protowire.AppendVarint(dst, uint64(len(e.rec)))
	return append(dst, e.rec...)
}

// encode writes the LogRecord message of ev.
func (e *encoder) encode(b []byte, ev *tracer.Event, ctr *tracer.Container) []byte {
	ns := uint64(ev.Time.UnixNano())
	b = protowire.AppendTag(b, fRecordTime, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, ns)
	// The kernel saw the event when it happened: observed and event time are one.
	b = protowire.AppendTag(b, fRecordObserved, protowire.Fixed64Type)
	b = protowire.AppendFixed64(b, ns)
	sev, sevText := uint64(severityInfo), "INFO"
	if ev.Type == tracer.TypeLost {
		sev, sevText = severityWarn, "WARN"
	}
	b = protowire.AppendTag(b, fRecordSeverity, protowire.VarintType)
	b = protowire.AppendVarint(b, sev)
	b = protowire.AppendTag(b, fRecordSeverityText, protowire.BytesType)
	b = protowire.AppendString(b, sevText)
	if int(ev.Type) < len(eventNames) && eventNames[ev.Type] != "" {
		b = protowire.AppendTag(b, fRecordEventName, protowire.BytesType)
		b = protowire.AppendString(b, eventNames[ev.Type])
	}
	e.body = appendBody(e.body[:0], ev)
	b = protowire.AppendTag(b, fRecordBody, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(anyStringSize(e.body)))
	b = appendAnyString(b, e.body)

	const f = fRecordAttributes
	if ev.Type == tracer.TypeLost {
		return appendInt(b, f, keyLostCount, int64(ev.LostCount))
	}
	b = appendInt(b, f, keyPID, int64(ev.PID))
	b = appendInt(b, f, keyTID, int64(ev.TID))
	b = appendInt(b, f, keyPPID, int64(ev.PPID))
	b = appendInt(b, f, keyVPID, int64(ev.NsPID))
	b = appendInt(b, f, keyUID, int64(ev.UID))
	b = appendInt(b, f, keyGID, int64(ev.GID))
	b = appendStr(b, f, keyComm, ev.Comm)
	b = appendTime(b, f, keyCreationTime, ev.Time.Add(-ev.Duration()))
	b = appendInt(b, f, keyCgroupID, int64(ev.CgroupID))
	if ctr != nil {
		b = appendStr(b, f, keyContainerID, bytesOf(ctr.ID))
		b = appendStr(b, f, keyContainerNS, bytesOf(ctr.Namespace))
		b = appendInt(b, f, keyShimPID, int64(ctr.ShimPID))
		b = appendStr(b, f, keySource, bytesOf(ctr.Source))
	}
	switch ev.Type {
	case tracer.TypeExec:
		b = appendStr(b, f, keyFilename, ev.Filename)
		var n int
		b, n = appendArgs(b, f, keyArgs, ev.Args)
		b = appendInt(b, f, keyArgsCount, int64(n))
		b = appendBool(b, f, keyArgsTrunc, ev.ArgsTruncated)
	case tracer.TypeExit:
		b = appendInt(b, f, keyExitCode, int64(ev.Status.Code()))
		b = appendTime(b, f, keyExitTime, ev.Time)
		b = appendInt(b, f, keySignal, int64(ev.Status.Signal()))
		b = appendBool(b, f, keyCoreDumped, ev.Status.CoreDumped())
		b = appendInt(b, f, keyDuration, int64(ev.Duration()))
	}
	return b
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
	case tracer.TypeLost:
		b = strconv.AppendUint(b, ev.LostCount, 10)
		b = append(b, " events lost: the ring buffer was full"...)
	}
	return b
}

// appendKeyValue writes the head of a KeyValue field whose AnyValue takes
// valueLen bytes; the caller writes the AnyValue.
func appendKeyValue(b []byte, field protowire.Number, key string, valueLen int) []byte {
	kv := protowire.SizeTag(fKVKey) + protowire.SizeBytes(len(key)) +
		protowire.SizeTag(fKVValue) + protowire.SizeBytes(valueLen)
	b = protowire.AppendTag(b, field, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(kv))
	b = protowire.AppendTag(b, fKVKey, protowire.BytesType)
	b = protowire.AppendString(b, key)
	b = protowire.AppendTag(b, fKVValue, protowire.BytesType)
	return protowire.AppendVarint(b, uint64(valueLen))
}

func appendInt(b []byte, field protowire.Number, key string, v int64) []byte {
	b = appendKeyValue(b, field, key, protowire.SizeTag(fAnyInt)+protowire.SizeVarint(uint64(v)))
	b = protowire.AppendTag(b, fAnyInt, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(v))
}

func appendBool(b []byte, field protowire.Number, key string, v bool) []byte {
	b = appendKeyValue(b, field, key, protowire.SizeTag(fAnyBool)+1)
	b = protowire.AppendTag(b, fAnyBool, protowire.VarintType)
	return protowire.AppendVarint(b, protowire.EncodeBool(v))
}

func appendStr(b []byte, field protowire.Number, key string, s []byte) []byte {
	b = appendKeyValue(b, field, key, anyStringSize(s))
	return appendAnyString(b, s)
}

func appendTime(b []byte, field protowire.Number, key string, t time.Time) []byte {
	var buf [40]byte
	return appendStr(b, field, key, t.UTC().AppendFormat(buf[:0], timeLayout))
}

// appendArgs writes argv, each argument ending in a NUL as the kernel holds
// it, as a string array, and returns how many arguments it held.
func appendArgs(b []byte, field protowire.Number, key string, args []byte) ([]byte, int) {
	size, n := 0, 0
	for rest := args; len(rest) > 0; n++ {
		var a []byte
		a, rest = nextArg(rest)
		size += protowire.SizeTag(fArrayValues) + protowire.SizeBytes(anyStringSize(a))
	}
	b = appendKeyValue(b, field, key, protowire.SizeTag(fAnyArray)+protowire.SizeBytes(size))
	b = protowire.AppendTag(b, fAnyArray, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	for rest := args; len(rest) > 0; {
		var a []byte
		a, rest = nextArg(rest)
		b = protowire.AppendTag(b, fArrayValues, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(anyStringSize(a)))
		b = appendAnyString(b, a)
	}
	return b, n
}

// nextArg splits the first argument off argv; a truncated last argument
// has no NUL.
func nextArg(args []byte) (arg, rest []byte) {
	if i := bytes.IndexByte(args, 0); i >= 0 {
		return args[:i], args[i+1:]
	}
	return args, nil
}

// anyStringSize is the size of an AnyValue holding s as a string.
func anyStringSize(s []byte) int {
	return protowire.SizeTag(fAnyString) + protowire.SizeBytes(escapedLen(s))
}

func appendAnyString(b []byte, s []byte) []byte {
	b = protowire.AppendTag(b, fAnyString, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(escapedLen(s)))
	return appendEscaped(b, s)
}

const hexDigits = "0123456789abcdef"

// A protobuf string must be UTF-8, and argv need not be: as in pstrace's
// JSON, each byte of an invalid sequence becomes the four characters \xNN.
func escapedLen(s []byte) int {
	if utf8.Valid(s) {
		return len(s)
	}
	n := 0
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			n += 4
		} else {
			n += size
		}
		i += size
	}
	return n
}

func appendEscaped(b []byte, s []byte) []byte {
	if utf8.Valid(s) {
		return append(b, s...)
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, '\\', 'x', hexDigits[s[i]>>4], hexDigits[s[i]&0xf])
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return b
}

// bytesOf views a string's bytes without copying them, for the encoder,
// which only reads them.
func bytesOf(s string) []byte {
	return unsafe.Slice(unsafe.StringData(s), len(s))
}
