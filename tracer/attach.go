package tracer

import (
	"fmt"

	"github.com/cilium/ebpf/link"
)

// attach links the loaded program of each hook to its tracepoint, in the
// order of hooks.
func attach(objs *objects) ([]link.Link, error) {
	var links []link.Link
	fail := func(err error) ([]link.Link, error) {
		for _, l := range links {
			l.Close()
		}
		return nil, err
	}
	for i, h := range hooks {
		var (
			l   link.Link
			err error
		)
		if objs.btf {
			l, err = link.AttachTracing(link.TracingOptions{Program: objs.progs[i]})
			if err != nil {
				return fail(fmt.Errorf("attaching to tp_btf/%s: %w", h.tracepoint, err))
			}
		} else {
			l, err = link.AttachRawTracepoint(link.RawTracepointOptions{Name: h.tracepoint, Program: objs.progs[i]})
			if err != nil {
				return fail(fmt.Errorf("attaching to raw_tp/%s: %w", h.tracepoint, err))
			}
		}
		links = append(links, l)
	}
	return links, nil
}
