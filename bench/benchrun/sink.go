package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/pstrace/pstrace/internal/pbwire"
)

// sink takes OTLP/HTTP requests, counts their bytes and log records, keeps
// the first floorBatch bytes of them, and answers each with an empty
// ExportLogsServiceResponse: full success.
type sink struct {
	addr string
	srv  *http.Server

	mu             sync.Mutex
	bytes, records int64
	kept           []byte
}

func startSink() (*sink, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("export floor's sink: %w", err)
	}
	s := &sink{addr: l.Addr().String()}
	s.srv = &http.Server{Handler: http.HandlerFunc(s.serve), ReadHeaderTimeout: 10 * time.Second}
	go s.srv.Serve(l)
	return s, nil
}

func (s *sink) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	n, err := countRecords(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.bytes += int64(len(body))
	s.records += n
	if len(s.kept) < floorBatch {
		s.kept = append(s.kept, body[:min(len(body), floorBatch-len(s.kept))]...)
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.WriteHeader(http.StatusOK)
}

func (s *sink) totals() (bytes, records int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.bytes, s.records
}

// payload is the requests' bytes the sink kept: what the floor sends.
func (s *sink) payload() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.kept
}

func (s *sink) close() { s.srv.Close() }

// countRecords counts the log records of an ExportLogsServiceRequest:
// resource_logs (1), their scope_logs (2), their log_records (2).
func countRecords(req []byte) (int64, error) {
	var n int64
	errNested := errors.New("nested field is not length-delimited")
	in := func(num protowire.Number, then func([]byte) error) func(protowire.Number, protowire.Type, []byte) error {
		return func(f protowire.Number, t protowire.Type, v []byte) error {
			if f != num {
				return nil
			}
			if t != protowire.BytesType {
				return errNested
			}
			return then(v)
		}
	}
	count := func([]byte) error { n++; return nil }
	scope := func(v []byte) error { return pbwire.EachField(v, in(2, count)) }
	resource := func(v []byte) error { return pbwire.EachField(v, in(2, scope)) }
	err := pbwire.EachField(req, in(1, resource))
	return n, err
}
