package otlp

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"golang.org/x/net/http2/hpack"
)

const grpcExportMethod = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"

// grpcTransport calls LogsService/Export with the request bytes as they
// are, over one HTTP/2 connection, dialled when a call finds none and
// dropped when a call fails on it: the sender's retries are its
// reconnection backoff.
type grpcTransport struct {
	addr    string
	tlsConf *tls.Config // nil in clear
	fields  []hpack.HeaderField
	conn    *h2conn
}

func newGRPC(cfg Config) (*grpcTransport, error) {
	g := &grpcTransport{addr: cfg.Target.Address}
	scheme := "http"
	if cfg.Target.TLS {
		host, _, err := net.SplitHostPort(cfg.Target.Address)
		if err != nil {
			return nil, fmt.Errorf("gRPC endpoint %s: %w", cfg.Target.Address, err)
		}
		g.tlsConf = &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12, ServerName: host, NextProtos: []string{"h2"}}
		scheme = "https"
	}
	g.fields = []hpack.HeaderField{
		{Name: ":method", Value: "POST"},
		{Name: ":scheme", Value: scheme},
		{Name: ":path", Value: grpcExportMethod},
		{Name: ":authority", Value: cfg.Target.Address},
		{Name: "content-type", Value: "application/grpc"},
		{Name: "te", Value: "trailers"},
		{Name: "user-agent", Value: "github.com/pstrace/pstrace/" + cfg.Version},
		{Name: "grpc-timeout", Value: strconv.FormatInt(requestTimeout.Milliseconds(), 10) + "m"},
	}
	for k, v := range cfg.Headers {
		k = strings.ToLower(k)
		switch k {
		case "content-type", "te", "user-agent", "grpc-timeout":
			continue // gRPC's own, above
		}
		g.fields = append(g.fields, hpack.HeaderField{Name: k, Value: v, Sensitive: k == "authorization"})
	}
	return g, nil
}

func (g *grpcTransport) export(ctx context.Context, body []byte) (int64, string, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	if g.conn != nil && !g.conn.catchUp(ctx) {
		g.close()
	}
	if g.conn == nil {
		c, err := dialH2(ctx, g.addr, g.tlsConf)
		if err != nil {
			return 0, "", fmt.Errorf("connecting to %s: %w", g.addr, err)
		}
		g.conn = c
	}
	s, err := g.conn.call(ctx, g.fields, body)
	if err != nil {
		g.close()
		return 0, "", fmt.Errorf("gRPC to %s: %w", g.addr, err)
	}
	msg, err := s.response()
	if err != nil {
		return 0, "", err
	}
	return parseResponse(msg)
}

func (g *grpcTransport) close() {
	if g.conn != nil {
		g.conn.close()
		g.conn = nil
	}
}

// response returns the response message of a call that ended with status
// OK, or the call's status as an error.
func (s *h2stream) response() ([]byte, error) {
	switch {
	case s.reset && s.grpcStatus == "":
		return nil, grpcError(resetCode(s.code), "stream reset: "+s.code.String(), "")
	case s.httpStatus != "200":
		// Not a gRPC server's answer: a proxy's, say (gRPC's HTTP mapping).
		return nil, grpcError(httpCode(s.httpStatus), "HTTP status "+s.httpStatus, "")
	case !strings.HasPrefix(s.contentType, "application/grpc"):
		return nil, grpcError(codeUnknown, fmt.Sprintf("content-type %q", s.contentType), "")
	}
	code, err := strconv.Atoi(s.grpcStatus)
	if err != nil {
		return nil, grpcError(codeInternal, fmt.Sprintf("grpc-status %q", s.grpcStatus), "")
	}
	if code != codeOK {
		return nil, grpcError(code, decodeMessage(s.grpcMessage), s.grpcDetails)
	}
	d := s.data
	if len(d) < 5 || d[0] != 0 || int(binary.BigEndian.Uint32(d[1:5])) != len(d)-5 {
		return nil, grpcError(codeInternal, fmt.Sprintf("malformed response of %d bytes", len(d)), "")
	}
	return d[5:], nil
}

// grpcError is a call's status as the sender sees it: the codes the OTLP
// specification retries, with the delay a RetryInfo asks for, or else a
// permanent refusal.
func grpcError(code int, msg, details string) error {
	err := &statusError{code: code, msg: msg}
	switch code {
	case codeCanceled, codeDeadlineExceeded, codeAborted, codeOutOfRange,
		codeUnavailable, codeDataLoss, codeResourceExhausted:
		if after := retryDelay(details); after > 0 {
			return &retryAfterError{err: err, after: after}
		}
		return err
	}
	return &permanentError{err}
}

// statusError is a gRPC status other than OK.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("gRPC status %s: %s", codeName(e.code), e.msg)
}

// decodeMessage undoes grpc-message's percent-encoding; a message that
// is not well encoded is kept as it came.
func decodeMessage(s string) string {
	if m, err := url.PathUnescape(s); err == nil {
		return m
	}
	return s
}
