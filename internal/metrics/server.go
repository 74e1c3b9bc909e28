package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Timeouts of the HTTP server: a slow or stuck client cannot hold a
// connection, and a scrape cannot take longer than writeTimeout.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 2 * time.Minute
	shutdownTimeout   = 5 * time.Second
)

// Server serves /metrics and /healthz.
type Server struct {
	srv  *http.Server
	ln   net.Listener
	done chan error
}

// Listen binds addr (host:port; port 0 picks one) and serves in the
// background until Close. A bad address or a port in use fails here.
func (m *Metrics) Listen(addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return m.Serve(ln), nil
}

// Serve serves on ln, bound beforehand (so that a port in use is found
// before the BPF programs load), in the background until Close.
func (m *Metrics) Serve(ln net.Listener) *Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg, // counts its own errors in promhttp_metric_handler_errors_total
	}))
	mux.HandleFunc("GET /healthz", m.health.serveHealth)
	s := &Server{
		ln:   ln,
		done: make(chan error, 1),
		srv: &http.Server{
			Handler:           mux,
			ReadHeaderTimeout: readHeaderTimeout,
			ReadTimeout:       readTimeout,
			WriteTimeout:      writeTimeout,
			IdleTimeout:       idleTimeout,
			// A client that hangs up is the client's business, not stderr's.
			ErrorLog: log.New(io.Discard, "", 0),
		},
	}
	go func() { s.done <- s.srv.Serve(ln) }()
	return s
}

// Addr is the address the server listens on.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Close stops the server, letting scrapes under way finish for a while,
// and returns the error that stopped it if it stopped on its own.
func (s *Server) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := s.srv.Shutdown(ctx)
	if serveErr := <-s.done; !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("serving metrics: %w", serveErr)
	}
	return err
}
