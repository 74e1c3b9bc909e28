package tracer_test

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/pstrace/pstrace/tracer"
)

// Print every exec on the host until Ctrl-C.
func Example() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	t, err := tracer.Open(tracer.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return
	}
	defer t.Close()
	err = t.Run(ctx, func(ev *tracer.Event) error {
		if ev.Type == tracer.TypeExec {
			fmt.Printf("%d %s %q\n", ev.PID, ev.Filename, ev.ArgStrings())
		}
		return nil
	}, nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
}
