package otlp

import (
	"errors"

	"google.golang.org/protobuf/encoding/protowire"
)

// parseResponse reads an ExportLogsServiceResponse: its partial success
// says how many records the receiver rejected, and why.
func parseResponse(b []byte) (rejected int64, msg string, err error) {
	partial, err := field(b, fResponsePartial, protowire.BytesType)
	if err != nil || partial == nil {
		return 0, "", err
	}
	for len(partial) > 0 {
		num, typ, n := protowire.ConsumeTag(partial)
		if n < 0 {
			return 0, "", errBadResponse
		}
		partial = partial[n:]
		switch {
		case num == fPartialRejected && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(partial)
			if n < 0 {
				return 0, "", errBadResponse
			}
			rejected, partial = int64(v), partial[n:]
			continue
		case num == fPartialMessage && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(partial)
			if n < 0 {
				return 0, "", errBadResponse
			}
			msg, partial = string(v), partial[n:]
			continue
		}
		n = protowire.ConsumeFieldValue(num, typ, partial)
		if n < 0 {
			return 0, "", errBadResponse
		}
		partial = partial[n:]
	}
	return rejected, msg, nil
}

var errBadResponse = errors.New("the receiver's response is no ExportLogsServiceResponse")

// field returns the last field num of type typ in message b, nil if none.
func field(b []byte, num protowire.Number, typ protowire.Type) ([]byte, error) {
	var found []byte
	for len(b) > 0 {
		n, t, l := protowire.ConsumeTag(b)
		if l < 0 {
			return nil, errBadResponse
		}
		b = b[l:]
		l = protowire.ConsumeFieldValue(n, t, b)
		if l < 0 {
			return nil, errBadResponse
		}
		if n == num && t == typ {
			v, _ := protowire.ConsumeBytes(b[:l])
			found = v
		}
		b = b[l:]
	}
	return found, nil
}
