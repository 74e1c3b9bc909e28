// Command pstrace traces process forks, execs and exits, and keeps a live
// process tree with container attribution.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/urfave/cli/v2"
)

func main() {
	if err := run(os.Args); err != nil {
		fmt.Fprintf(os.Stderr, "pstrace: %s\n", oneLine(err))
		var ve *ebpf.VerifierError
		if errors.As(err, &ve) && verbose(os.Args) {
			fmt.Fprintf(os.Stderr, "%+v\n", ve)
		}
		os.Exit(1)
	}
}

func run(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return newApp().RunContext(ctx, args)
}

func newApp() *cli.App {
	return &cli.App{
		Name:            "pstrace",
		Usage:           "trace process forks, execs and exits, live",
		HideHelpCommand: true,
		Flags:           globalFlags(),
		Commands:        []*cli.Command{eventsCommand(), treeCommand()},
		OnUsageError:    usageError,
		// Errors are printed once, by main, and never exit from inside cli.
		ExitErrHandler: func(*cli.Context, error) {},
	}
}

// usageError keeps a bad flag to one line, without the help text.
func usageError(_ *cli.Context, err error, _ bool) error {
	return fmt.Errorf("%w (see --help)", err)
}

// oneLine keeps a multi-line error (a verifier log) to its first line.
func oneLine(err error) string {
	s := err.Error()
	for i, c := range s {
		if c == '\n' {
			return s[:i] + " (more with --verbose)"
		}
	}
	return s
}

// verbose tells whether --verbose was given, for printing the verifier log
// after the app has returned.
func verbose(args []string) bool {
	for _, a := range args[1:] {
		if a == "--verbose" || a == "-verbose" || a == "-v" {
			return true
		}
	}
	return false
}
