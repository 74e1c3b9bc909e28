package otlp

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// httpTransport posts requests as application/x-protobuf.
type httpTransport struct {
	client *http.Client
	url    string
	header http.Header
}

func newHTTP(cfg Config) (*httpTransport, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12}
	h := &httpTransport{client: &http.Client{Transport: tr}, url: cfg.Target.URL, header: http.Header{}}
	for k, v := range cfg.Headers {
		h.header.Set(k, v)
	}
	h.header.Set("Content-Type", "application/x-protobuf")
	h.header.Set("User-Agent", "github.com/pstrace/pstrace/"+cfg.Version)
	return h, nil
}

func (h *httpTransport) export(ctx context.Context, body []byte) (int64, string, error) {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	rd := &bodyReader{Reader: bytes.NewReader(body), closed: make(chan struct{})}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, h.url, rd)
	if err != nil {
		return 0, "", &permanentError{err}
	}
	req.ContentLength = int64(len(body))
	req.Header = h.header
	resp, err := h.client.Do(req)
	// The transport may still read the body after Do returns: the batch's
	// buffer is reused only once it has closed it, which it always does.
	defer func() { <-rd.closed }()
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return 0, "", fmt.Errorf("reading the response: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusOK:
		return parseResponse(data)
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		err := fmt.Errorf("%s: %s", h.url, resp.Status)
		if s, perr := strconv.Atoi(resp.Header.Get("Retry-After")); perr == nil && s > 0 {
			return 0, "", &retryAfterError{err: err, after: time.Duration(s) * time.Second}
		}
		return 0, "", err
	}
	return 0, "", &permanentError{fmt.Errorf("%s: %s", h.url, resp.Status)}
}

func (h *httpTransport) close() { h.client.CloseIdleConnections() }

// bodyReader tells when the HTTP transport is done with the body.
type bodyReader struct {
	*bytes.Reader
	closed chan struct{}
	once   sync.Once
}

func (b *bodyReader) Close() error {
	b.once.Do(func() { close(b.closed) })
	return nil
}
