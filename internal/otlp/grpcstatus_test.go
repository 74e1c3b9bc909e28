package otlp

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
)

// detailsBin encodes a google.rpc.Status with details as a gRPC server
// sends it in grpc-status-details-bin.
func detailsBin(t *testing.T, enc *base64.Encoding, details ...proto.Message) string {
	st := &status.Status{Code: codeUnavailable, Message: "busy"}
	for _, d := range details {
		a, err := anypb.New(d)
		if err != nil {
			t.Fatal(err)
		}
		st.Details = append(st.Details, a)
	}
	b, err := proto.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	return enc.EncodeToString(b)
}

// A call's status becomes the sender's error: the codes the OTLP
// specification retries stay retryable, with the delay of a RetryInfo
// found among the details; the others are permanent.
func TestGRPCStatus(t *testing.T) {
	retry := &errdetails.RetryInfo{RetryDelay: durationpb.New(2500 * time.Millisecond)}
	other := &errdetails.ErrorInfo{Reason: "QUOTA", Domain: "collector"}
	for _, tc := range []struct {
		name      string
		s         h2stream
		permanent bool
		after     time.Duration
		text      string
	}{
		{"unavailable", h2stream{httpStatus: "200", contentType: "application/grpc", grpcStatus: "14", grpcMessage: "no%20pipeline"},
			false, 0, "gRPC status Unavailable: no pipeline"},
		{"retry info", h2stream{httpStatus: "200", contentType: "application/grpc", grpcStatus: "8",
			grpcDetails: detailsBin(t, base64.RawStdEncoding, other, retry)}, false, 2500 * time.Millisecond, "gRPC status ResourceExhausted: "},
		{"retry info padded", h2stream{httpStatus: "200", contentType: "application/grpc", grpcStatus: "14",
			grpcDetails: detailsBin(t, base64.StdEncoding, retry)}, false, 2500 * time.Millisecond, "gRPC status Unavailable: "},
		{"details not base64", h2stream{httpStatus: "200", contentType: "application/grpc", grpcStatus: "14", grpcDetails: "#!"},
			false, 0, "gRPC status Unavailable: "},
		{"unauthenticated", h2stream{httpStatus: "200", contentType: "application/grpc", grpcStatus: "16", grpcMessage: "bad token %zz"},
			true, 0, "gRPC status Unauthenticated: bad token %zz"},
		{"proxy 503", h2stream{httpStatus: "503", contentType: "text/html"}, false, 0, "gRPC status Unavailable: HTTP status 503"},
		{"proxy 401", h2stream{httpStatus: "401"}, true, 0, "gRPC status Unauthenticated: HTTP status 401"},
		{"not grpc", h2stream{httpStatus: "200", contentType: "text/html"}, true, 0, `gRPC status Unknown: content-type "text/html"`},
		{"no status", h2stream{httpStatus: "200", contentType: "application/grpc"}, true, 0, `gRPC status Internal: grpc-status ""`},
		{"refused stream", h2stream{reset: true, code: 0x7}, false, 0, "gRPC status Unavailable: stream reset: REFUSED_STREAM"},
		{"malformed", h2stream{httpStatus: "200", contentType: "application/grpc+proto", grpcStatus: "0", data: []byte{0, 0, 0, 0, 9, 1}},
			true, 0, "gRPC status Internal: malformed response of 6 bytes"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := tc.s.response()
			if err == nil {
				t.Fatal("no error")
			}
			_, permanent := errors.AsType[*permanentError](err)
			var after time.Duration
			if ra, ok := errors.AsType[*retryAfterError](err); ok {
				after = ra.after
			}
			if permanent != tc.permanent || after != tc.after || !strings.HasPrefix(err.Error(), tc.text) {
				t.Errorf("%q: permanent %v, retry after %v; want %q, %v, %v", err, permanent, after, tc.text, tc.permanent, tc.after)
			}
		})
	}
	ok := h2stream{httpStatus: "200", contentType: "application/grpc", grpcStatus: "0", data: []byte{0, 0, 0, 0, 2, 8, 1}}
	if msg, err := ok.response(); err != nil || string(msg) != "\x08\x01" {
		t.Errorf("OK response: %q, %v", msg, err)
	}
}
