package otlp

import (
	"context"
	"crypto/tls"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

const grpcExportMethod = "/opentelemetry.proto.collector.logs.v1.LogsService/Export"

// grpcTransport calls LogsService/Export with the request bytes as they
// are: rawCodec hands them to gRPC without a message type.
type grpcTransport struct {
	conn *grpc.ClientConn
	md   metadata.MD
}

func newGRPC(cfg Config) (*grpcTransport, error) {
	creds := insecure.NewCredentials()
	if cfg.Target.TLS {
		creds = credentials.NewTLS(&tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12})
	}
	conn, err := grpc.NewClient(cfg.Target.Address,
		grpc.WithTransportCredentials(creds),
		grpc.WithUserAgent("github.com/pstrace/pstrace/"+cfg.Version),
		// gRPC's own reconnection backoff grows to two minutes by default:
		// a receiver back from a restart is found within retryMax instead.
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: retryMin, Multiplier: 1.6, Jitter: 0.2, MaxDelay: retryMax},
			MinConnectTimeout: retryMax,
		}),
		grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{})),
	)
	if err != nil {
		return nil, fmt.Errorf("gRPC client for %s: %w", cfg.Target.Address, err)
	}
	g := &grpcTransport{conn: conn}
	if len(cfg.Headers) > 0 {
		g.md = metadata.MD{}
		for k, v := range cfg.Headers {
			g.md.Append(strings.ToLower(k), v)
		}
	}
	return g, nil
}

func (g *grpcTransport) export(ctx context.Context, body []byte) (int64, string, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	if g.md != nil {
		ctx = metadata.NewOutgoingContext(ctx, g.md)
	}
	req, resp := rawMessage(body), rawMessage(nil)
	if err := g.conn.Invoke(ctx, grpcExportMethod, &req, &resp); err != nil {
		return 0, "", grpcError(err)
	}
	return parseResponse(resp)
}

func (g *grpcTransport) close() { g.conn.Close() }

// grpcError marks the codes the OTLP specification does not retry as
// permanent, and passes on the delay a RetryInfo asks for.
func grpcError(err error) error {
	st := status.Convert(err)
	switch st.Code() {
	case codes.Canceled, codes.DeadlineExceeded, codes.Aborted, codes.OutOfRange,
		codes.Unavailable, codes.DataLoss, codes.ResourceExhausted:
		for _, d := range st.Details() {
			if ri, ok := d.(*errdetails.RetryInfo); ok && ri.GetRetryDelay() != nil {
				return &retryAfterError{err: err, after: ri.GetRetryDelay().AsDuration()}
			}
		}
		return err
	}
	return &permanentError{err}
}

// rawMessage is an encoded protobuf message.
type rawMessage []byte

type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*rawMessage))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*rawMessage) = data.Materialize()
	return nil
}

func (rawCodec) Name() string { return "proto" }
