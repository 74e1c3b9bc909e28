package otlp

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"time"
)

// Protocols.
const (
	GRPC = "grpc"
	HTTP = "http/protobuf"
)

// Defaults. A batch is sent when it holds BatchRecords records or
// batchBytes bytes, or once it is BatchDelay old. A batch as large as the
// Collector's batch processor sends by default: each send costs the event
// loop a hand-over to the sender and the sender its request, and with
// 2,048 records a spawn storm's export took 7-12% more CPU (perf stat,
// 7 rounds). The bytes stay below gRPC's default 4 MiB message limit,
// with room for one more record of the largest argv.
const (
	DefaultQueueSize = 8192
	BatchRecords     = 8192
	BatchDelay       = time.Second
	FlushTimeout     = 5 * time.Second
	batchBytes       = 3 << 20
)

// Target is where records go, as ParseEndpoint reads it.
type Target struct {
	Protocol string // GRPC or HTTP
	TLS      bool
	Address  string // host:port
	URL      string // the whole URL, for HTTP
}

// ParseEndpoint reads an endpoint URL. The scheme says whether TLS is used:
// grpc:// is OTLP/gRPC without TLS; http:// and https:// are OTLP/HTTP
// without and with TLS, or OTLP/gRPC when protocol is GRPC. A missing port
// is the protocol's standard one (4317 for gRPC, 4318 for HTTP); an HTTP
// endpoint without a path posts to /v1/logs. protocol "" takes the scheme's.
func ParseEndpoint(endpoint, protocol string) (Target, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return Target{}, errors.New("want grpc://HOST:PORT or http(s)://HOST:PORT[/PATH]")
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return Target{}, errors.New("must have no user, query or fragment")
	}
	var t Target
	switch u.Scheme {
	case "grpc":
		if protocol == HTTP {
			return t, fmt.Errorf("grpc:// with protocol %s: use http:// or https://", HTTP)
		}
		t.Protocol = GRPC
	case "http", "https":
		t.Protocol, t.TLS = protocol, u.Scheme == "https"
		if protocol == "" {
			t.Protocol = HTTP
		}
	default:
		return t, fmt.Errorf("scheme %q: must be grpc, http or https", u.Scheme)
	}
	if t.Protocol != GRPC && t.Protocol != HTTP {
		return t, fmt.Errorf("protocol %q: must be %s or %s", protocol, GRPC, HTTP)
	}
	port := "4318"
	if t.Protocol == GRPC {
		port = "4317"
		if u.Path != "" && u.Path != "/" {
			return t, errors.New("a gRPC endpoint has no path")
		}
	}
	if u.Port() != "" {
		port = u.Port()
	}
	t.Address = net.JoinHostPort(u.Hostname(), port)
	if t.Protocol == HTTP {
		path := u.EscapedPath()
		if path == "" || path == "/" {
			path = "/v1/logs"
		}
		scheme := "http"
		if t.TLS {
			scheme = "https"
		}
		t.URL = scheme + "://" + t.Address + path
	}
	return t, nil
}

// ParseHeader reads KEY=VALUE, a header sent with every request.
func ParseHeader(s string) (key, value string, err error) {
	key, value, ok := strings.Cut(s, "=")
	key = strings.TrimSpace(key)
	if !ok || key == "" {
		return "", "", errors.New("want KEY=VALUE")
	}
	for _, c := range key {
		if c <= ' ' || c >= 0x7f || strings.ContainsRune("\"(),/:;<=>?@[\\]{}", c) {
			return "", "", fmt.Errorf("%q is not a header name", key)
		}
	}
	if strings.ContainsAny(value, "\r\n\x00") {
		return "", "", errors.New("the value holds a line break or NUL")
	}
	return key, value, nil
}

// LoadCA reads PEM certificates that a TLS receiver's certificate must
// chain to, instead of the system's.
func LoadCA(file string) (*x509.CertPool, error) {
	pem, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, errors.New("no PEM certificate in it")
	}
	return pool, nil
}

// Config says where and how to export.
type Config struct {
	Target  Target
	RootCAs *x509.CertPool    // nil: the system's
	Headers map[string]string // sent with every request, e.g. authorization
	// QueueSize bounds the records waiting to be sent; 0 is DefaultQueueSize.
	QueueSize int
	Version   string    // pstrace's version: service.version and the scope's
	Stderr    io.Writer // where drops are said; nil is os.Stderr
}
