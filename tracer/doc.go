// Package tracer is pstrace's kernel side: it loads the BPF program, attaches
// it to the scheduler's fork, exec and exit tracepoints (and task_rename),
// and streams the events it writes to a BPF ring buffer, decoded. A Scope
// narrows what leaves the kernel. It keeps no process state and renders
// nothing: package proctree builds the process tree from these events,
// package render prints them, package session runs both together.
//
// The smallest use (as root):
//
//	t, err := tracer.Open(tracer.Options{})
//	if err != nil {
//		return err
//	}
//	defer t.Close()
//	return t.Run(ctx, func(ev *tracer.Event) error {
//		fmt.Println(ev.Type, ev.PID, string(ev.Comm))
//		return nil
//	}, nil)
package tracer
