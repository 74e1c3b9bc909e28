package pbwire

import (
	"errors"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// Fields of every wire type come in order, a length-delimited one as its
// contents and a varint as its encoding; the last of a repeated field
// wins; a truncated message is an error, and so is fn's.
func TestEachField(t *testing.T) {
	var msg []byte
	msg = protowire.AppendTag(msg, 1, protowire.BytesType)
	msg = protowire.AppendString(msg, "first")
	msg = protowire.AppendTag(msg, 2, protowire.VarintType)
	msg = protowire.AppendVarint(msg, 300)
	msg = protowire.AppendTag(msg, 3, protowire.Fixed64Type)
	msg = protowire.AppendFixed64(msg, 7)
	msg = protowire.AppendTag(msg, 1, protowire.BytesType)
	msg = protowire.AppendString(msg, "last")

	var seen []protowire.Number
	err := EachField(msg, func(num protowire.Number, typ protowire.Type, v []byte) error {
		seen = append(seen, num)
		if num == 2 {
			if x, n := protowire.ConsumeVarint(v); typ != protowire.VarintType || n != len(v) || x != 300 {
				t.Errorf("field 2: type %v, value %v (%d of %d bytes)", typ, x, n, len(v))
			}
		}
		return nil
	})
	if err != nil || len(seen) != 4 || seen[0] != 1 || seen[1] != 2 || seen[2] != 3 || seen[3] != 1 {
		t.Errorf("EachField: fields %v, %v", seen, err)
	}
	if v, err := Field(msg, 1); err != nil || string(v) != "last" {
		t.Errorf("Field 1: %q, %v; want the last one", v, err)
	}
	if v, err := Field(msg, 2); err != nil || v != nil {
		t.Errorf("Field 2 (a varint): %q, %v; want none", v, err)
	}
	if v, err := Field(msg, 9); err != nil || v != nil {
		t.Errorf("Field 9 (absent): %q, %v; want none", v, err)
	}
	if _, err := Field(msg[:len(msg)-2], 1); err == nil {
		t.Error("a truncated message read without error")
	}
	stop := errors.New("stop")
	n := 0
	if err := EachField(msg, func(protowire.Number, protowire.Type, []byte) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("fn's error: %v after %d fields; want it after one", err, n)
	}
}
