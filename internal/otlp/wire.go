package otlp

import (
	"bytes"
	"unicode/utf8"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"
)

// The protobuf pieces of a record: attributes as KeyValue messages, their
// AnyValues, and the strings in them.

// appendKeyValue writes the head of a KeyValue field whose AnyValue takes
// valueLen bytes; the caller writes the AnyValue.
func appendKeyValue(b []byte, field protowire.Number, key string, valueLen int) []byte {
	kv := protowire.SizeTag(fKVKey) + protowire.SizeBytes(len(key)) +
		protowire.SizeTag(fKVValue) + protowire.SizeBytes(valueLen)
	if kv < 0x80 && field < 16 {
		// Nearly every attribute: each length fits in one byte, so the head
		// is written in three appends instead of seven varints.
		b = append(b, byte(protowire.EncodeTag(field, protowire.BytesType)), byte(kv),
			byte(protowire.EncodeTag(fKVKey, protowire.BytesType)), byte(len(key)))
		b = append(b, key...)
		return append(b, byte(protowire.EncodeTag(fKVValue, protowire.BytesType)), byte(valueLen))
	}
	b = appendVarint(b, protowire.EncodeTag(field, protowire.BytesType))
	b = appendVarint(b, uint64(kv))
	b = appendVarint(b, protowire.EncodeTag(fKVKey, protowire.BytesType))
	b = appendString(b, key)
	b = appendVarint(b, protowire.EncodeTag(fKVValue, protowire.BytesType))
	return appendVarint(b, uint64(valueLen))
}

func appendInt(b []byte, field protowire.Number, key string, v int64) []byte {
	b = appendKeyValue(b, field, key, protowire.SizeTag(fAnyInt)+protowire.SizeVarint(uint64(v)))
	if uint64(v) < 0x80 {
		return append(b, byte(protowire.EncodeTag(fAnyInt, protowire.VarintType)), byte(v))
	}
	b = appendVarint(b, protowire.EncodeTag(fAnyInt, protowire.VarintType))
	return protowire.AppendVarint(b, uint64(v))
}

func appendBool(b []byte, field protowire.Number, key string, v bool) []byte {
	b = appendKeyValue(b, field, key, protowire.SizeTag(fAnyBool)+1)
	b = appendVarint(b, protowire.EncodeTag(fAnyBool, protowire.VarintType))
	return appendVarint(b, protowire.EncodeBool(v))
}

func appendStr(b []byte, field protowire.Number, key string, s []byte) []byte {
	n := escapedLen(s)
	b = appendKeyValue(b, field, key, anyStringSize(n))
	return appendAnyString(b, s, n)
}

// appendASCII is appendStr for a string known to be ASCII, such as a
// formatted time, which needs no check.
func appendASCII(b []byte, field protowire.Number, key string, s []byte) []byte {
	b = appendKeyValue(b, field, key, anyStringSize(len(s)))
	return appendAnyString(b, s, len(s))
}

// appendArgs writes argv, each argument ending in a NUL as the kernel holds
// it, as a string array, and returns how many arguments it held.
func appendArgs(b []byte, field protowire.Number, key string, args []byte) ([]byte, int) {
	// NUL is a byte of its own in UTF-8: valid argv has valid arguments,
	// and then no argument needs checking on its own, twice.
	valid := utf8.Valid(args)
	argLen := func(a []byte) int {
		if valid {
			return len(a)
		}
		return escapedLen(a)
	}
	size, n := 0, 0
	for rest := args; len(rest) > 0; n++ {
		var a []byte
		a, rest = nextArg(rest)
		size += protowire.SizeTag(fArrayValues) + protowire.SizeBytes(anyStringSize(argLen(a)))
	}
	b = appendKeyValue(b, field, key, protowire.SizeTag(fAnyArray)+protowire.SizeBytes(size))
	b = appendVarint(b, protowire.EncodeTag(fAnyArray, protowire.BytesType))
	b = appendVarint(b, uint64(size))
	for rest := args; len(rest) > 0; {
		var a []byte
		a, rest = nextArg(rest)
		l := argLen(a)
		b = appendVarint(b, protowire.EncodeTag(fArrayValues, protowire.BytesType))
		b = appendVarint(b, uint64(anyStringSize(l)))
		b = appendAnyString(b, a, l)
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

// anyStringSize is the size of an AnyValue holding a string of n bytes.
func anyStringSize(n int) int {
	return protowire.SizeTag(fAnyString) + protowire.SizeBytes(n)
}

// appendAnyString writes s as an AnyValue string; n is escapedLen(s).
func appendAnyString(b []byte, s []byte, n int) []byte {
	b = appendVarint(b, protowire.EncodeTag(fAnyString, protowire.BytesType))
	b = appendVarint(b, uint64(n))
	if n == len(s) { // valid UTF-8: an invalid byte takes four
		return append(b, s...)
	}
	return appendEscaped(b, s)
}

// appendVarint is protowire.AppendVarint with the one-byte case inlined:
// nearly every varint in a record is a tag or a short length.
func appendVarint(b []byte, v uint64) []byte {
	if v < 0x80 {
		return append(b, byte(v))
	}
	return protowire.AppendVarint(b, v)
}

func appendString(b []byte, s string) []byte {
	return append(appendVarint(b, uint64(len(s))), s...)
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

// appendLabel writes label k as container.label.k, without building the key.
func appendLabel(b []byte, field protowire.Number, k string, v []byte) []byte {
	n := escapedLen(v)
	vlen := anyStringSize(n)
	klen := len(labelPrefix) + len(k)
	kv := protowire.SizeTag(fKVKey) + protowire.SizeBytes(klen) + protowire.SizeTag(fKVValue) + protowire.SizeBytes(vlen)
	b = appendVarint(b, protowire.EncodeTag(field, protowire.BytesType))
	b = appendVarint(b, uint64(kv))
	b = appendVarint(b, protowire.EncodeTag(fKVKey, protowire.BytesType))
	b = appendVarint(b, uint64(klen))
	b = append(append(b, labelPrefix...), k...)
	b = appendVarint(b, protowire.EncodeTag(fKVValue, protowire.BytesType))
	b = appendVarint(b, uint64(vlen))
	return appendAnyString(b, v, n)
}
