package engine

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"syscall"
)

// unixTransport is an HTTP transport that dials one unix socket whatever
// the URL's host. With h2c it speaks HTTP/2 with prior knowledge, as gRPC
// servers (containerd) want; without, HTTP/1.1 as dockerd serves.
func unixTransport(socket string, h2c bool) *http.Transport {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", socket)
		},
		DisableCompression: true,
		MaxIdleConns:       4,
	}
	if h2c {
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetUnencryptedHTTP2(true)
	}
	return tr
}

// cause names why an engine could not be reached, in words a user acts on;
// it is what a warning says, once per outage.
func cause(socket string, err error) string {
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Sprintf("no socket at %s (engine not installed or not running)", socket)
	case errors.Is(err, syscall.ECONNREFUSED):
		return fmt.Sprintf("connection refused at %s (engine stopped)", socket)
	case errors.Is(err, os.ErrPermission):
		return fmt.Sprintf("permission denied on %s", socket)
	case errors.Is(err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer from %s within the timeout (engine hung or overloaded)", socket)
	}
	return fmt.Sprintf("%s: %v", socket, err)
}
