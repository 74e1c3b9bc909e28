package tracer

import (
	"fmt"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
)

// attach links every loaded program to its tracepoint.
func attach(coll *ebpf.Collection) ([]link.Link, error) {
	var links []link.Link
	fail := func(err error) ([]link.Link, error) {
		for _, l := range links {
			l.Close()
		}
		return nil, err
	}
	for name, prog := range coll.Programs {
		var (
			l   link.Link
			err error
		)
		if tp, ok := btfPrograms[name]; ok {
			l, err = link.AttachTracing(link.TracingOptions{Program: prog})
			if err != nil {
				return fail(fmt.Errorf("attaching to tp_btf/%s: %w", tp, err))
			}
		} else {
			tp := rawPrograms[name]
			l, err = link.AttachRawTracepoint(link.RawTracepointOptions{Name: tp, Program: prog})
			if err != nil {
				return fail(fmt.Errorf("attaching to raw_tp/%s: %w", tp, err))
			}
		}
		links = append(links, l)
	}
	return links, nil
}
