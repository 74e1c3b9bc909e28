// Package pbwire reads protobuf messages field by field, for the few
// replies pstrace decodes without generated types: containerd's, and an
// OTLP receiver's response and gRPC status.
package pbwire

import "google.golang.org/protobuf/encoding/protowire"

// EachField calls fn with the number, wire type and value of each field
// of msg, in order: a length-delimited field's contents, or any other
// field's encoded value (protowire.ConsumeVarint reads a varint's). It
// stops at fn's first error, or at a malformed field with a
// protowire.ParseError.
func EachField(msg []byte, fn func(protowire.Number, protowire.Type, []byte) error) error {
	for len(msg) > 0 {
		num, typ, n := protowire.ConsumeTag(msg)
		if n < 0 {
			return protowire.ParseError(n)
		}
		msg = msg[n:]
		n = protowire.ConsumeFieldValue(num, typ, msg)
		if n < 0 {
			return protowire.ParseError(n)
		}
		v := msg[:n]
		if typ == protowire.BytesType {
			v, _ = protowire.ConsumeBytes(v)
		}
		msg = msg[n:]
		if err := fn(num, typ, v); err != nil {
			return err
		}
	}
	return nil
}

// Field returns the last length-delimited field num of msg, nil if absent
// (protobuf's default).
func Field(msg []byte, num protowire.Number) ([]byte, error) {
	var out []byte
	err := EachField(msg, func(n protowire.Number, typ protowire.Type, v []byte) error {
		if n == num && typ == protowire.BytesType {
			out = v
		}
		return nil
	})
	return out, err
}
