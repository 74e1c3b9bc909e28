package otlp

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// dial connects to addr, over TLS when tlsConf is not nil.
func dial(ctx context.Context, addr string, tlsConf *tls.Config) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil || tlsConf == nil {
		return c, err
	}
	tc := tls.Client(c, tlsConf)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		return nil, err
	}
	return tc, nil
}

// bound makes ctx's deadline c's, and ctx's cancellation (pstrace
// stopping) end a blocked read or write; stop undoes the latter.
func bound(ctx context.Context, c net.Conn) (stop func() bool) {
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	return context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
}

// readable tells, without blocking, whether an idle connection has bytes
// or its end waiting: a receiver closes idle connections, and says why
// (GOAWAY) over HTTP/2 first.
func readable(c net.Conn) bool {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	sc, ok := c.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	ready := true
	rc.Read(func(fd uintptr) bool {
		var b [1]byte
		_, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		ready = !errors.Is(err, unix.EAGAIN)
		return true
	})
	return ready
}
