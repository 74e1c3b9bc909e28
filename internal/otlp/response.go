package otlp

import (
	"errors"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/pstrace/pstrace/internal/pbwire"
)

// parseResponse reads an ExportLogsServiceResponse: its partial success
// says how many records the receiver rejected, and why.
func parseResponse(b []byte) (rejected int64, msg string, err error) {
	partial, err := pbwire.Field(b, fResponsePartial)
	if err != nil {
		return 0, "", errBadResponse
	}
	err = pbwire.EachField(partial, func(num protowire.Number, typ protowire.Type, v []byte) error {
		switch {
		case num == fPartialRejected && typ == protowire.VarintType:
			n, _ := protowire.ConsumeVarint(v)
			rejected = int64(n)
		case num == fPartialMessage && typ == protowire.BytesType:
			msg = string(v)
		}
		return nil
	})
	if err != nil {
		return 0, "", errBadResponse
	}
	return rejected, msg, nil
}

var errBadResponse = errors.New("the receiver's response is no ExportLogsServiceResponse")
