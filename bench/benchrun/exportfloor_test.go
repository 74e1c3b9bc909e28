package main

import (
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// countRecords counts log records across resources and scopes, and
// nothing else: not the resource's attributes nor the scope's name.
func TestCountRecords(t *testing.T) {
	msg := func(fields ...[]byte) []byte {
		var b []byte
		for _, f := range fields {
			b = append(b, f...)
		}
		return b
	}
	field := func(num protowire.Number, v []byte) []byte {
		return protowire.AppendBytes(protowire.AppendTag(nil, num, protowire.BytesType), v)
	}
	record := field(2, []byte("a record"))
	scope := func(n int) []byte {
		s := field(1, []byte("pstrace")) // InstrumentationScope
		for range n {
			s = append(s, record...)
		}
		return field(2, s)
	}
	resource := func(scopes ...[]byte) []byte {
		return field(1, msg(append([][]byte{field(1, field(1, []byte("service.name")))}, scopes...)...))
	}
	req := msg(resource(scope(3), scope(2)), resource(scope(4)), protowire.AppendVarint(protowire.AppendTag(nil, 9, protowire.VarintType), 1))
	if n, err := countRecords(req); err != nil || n != 9 {
		t.Errorf("countRecords = %d, %v; want 9", n, err)
	}
	if _, err := countRecords(protowire.AppendVarint(protowire.AppendTag(nil, 1, protowire.VarintType), 5)); err == nil {
		t.Error("resource_logs as a varint: no error")
	}
}
