package otlp

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http2"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/pstrace/pstrace/internal/pbwire"
)

// gRPC status codes (grpc/doc/statuscodes.md).
const (
	codeOK = iota
	codeCanceled
	codeUnknown
	codeInvalidArgument
	codeDeadlineExceeded
	codeNotFound
	codeAlreadyExists
	codePermissionDenied
	codeResourceExhausted
	codeFailedPrecondition
	codeAborted
	codeOutOfRange
	codeUnimplemented
	codeInternal
	codeUnavailable
	codeDataLoss
	codeUnauthenticated
)

var codeNames = [...]string{"OK", "Canceled", "Unknown", "InvalidArgument", "DeadlineExceeded",
	"NotFound", "AlreadyExists", "PermissionDenied", "ResourceExhausted", "FailedPrecondition",
	"Aborted", "OutOfRange", "Unimplemented", "Internal", "Unavailable", "DataLoss", "Unauthenticated"}

func codeName(c int) string {
	if c >= 0 && c < len(codeNames) {
		return codeNames[c]
	}
	return "Code(" + strconv.Itoa(c) + ")"
}

// httpCode is the status of a response that is not gRPC's, by its HTTP
// status (grpc/doc/http-grpc-status-mapping.md).
func httpCode(status string) int {
	switch status {
	case "400":
		return codeInternal
	case "401":
		return codeUnauthenticated
	case "403":
		return codePermissionDenied
	case "404":
		return codeUnimplemented
	case "429", "502", "503", "504":
		return codeUnavailable
	}
	return codeUnknown
}

// resetCode is the status of a stream reset without one (the HTTP/2
// error code mapping of grpc/doc/PROTOCOL-HTTP2.md).
func resetCode(c http2.ErrCode) int {
	switch c {
	case http2.ErrCodeRefusedStream:
		return codeUnavailable // not processed: safe to send again
	case http2.ErrCodeCancel:
		return codeCanceled
	case http2.ErrCodeEnhanceYourCalm:
		return codeResourceExhausted
	case http2.ErrCodeInadequateSecurity:
		return codePermissionDenied
	}
	return codeInternal
}

// Field numbers of google.rpc.Status, google.protobuf.Any,
// google.rpc.RetryInfo and google.protobuf.Duration.
const (
	fStatusDetails    = 3
	fAnyTypeURL       = 1
	fAnyValue         = 2
	fRetryDelay       = 1
	fDurationSeconds  = 1
	fDurationNanos    = 2
	retryInfoTypeName = "google.rpc.RetryInfo"
)

// retryDelay reads the delay a RetryInfo in grpc-status-details-bin (a
// base64 google.rpc.Status) asks for; 0 if none.
func retryDelay(details string) time.Duration {
	if details == "" {
		return 0
	}
	st, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(details, "="))
	if err != nil {
		return 0
	}
	var delay time.Duration
	pbwire.EachField(st, func(num protowire.Number, typ protowire.Type, v []byte) error {
		if num != fStatusDetails || typ != protowire.BytesType {
			return nil
		}
		url, _ := pbwire.Field(v, fAnyTypeURL)
		if !strings.HasSuffix(string(url), "/"+retryInfoTypeName) {
			return nil
		}
		info, _ := pbwire.Field(v, fAnyValue)
		d, _ := pbwire.Field(info, fRetryDelay)
		pbwire.EachField(d, func(num protowire.Number, typ protowire.Type, v []byte) error {
			n, _ := protowire.ConsumeVarint(v)
			switch {
			case typ != protowire.VarintType:
			case num == fDurationSeconds:
				delay += time.Duration(int64(n)) * time.Second
			case num == fDurationNanos:
				delay += time.Duration(int32(n))
			}
			return nil
		})
		return nil
	})
	return delay
}
