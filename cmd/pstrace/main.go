// Command pstrace traces process forks, execs and exits, and keeps a live
// process tree with container attribution.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/cilium/ebpf"
	"github.com/urfave/cli/v2"
)

func main() {
	if err := run(os.Args); err != nil {
		printError(os.Stderr, err, verbose(os.Args))
		os.Exit(1)
	}
}

// printError prints err on one line and, with verbose, the verifier's
// whole log when the kernel rejected the program.
func printError(w io.Writer, err error, verbose bool) {
	fmt.Fprintf(w, "pstrace: %s\n", oneLine(err))
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) && verbose {
		fmt.Fprintf(w, "%+v\n", ve)
	}
}

// unknownCommand is set by the app when it is given a command it lacks.
var unknownCommand string

func run(args []string) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := newApp().RunContext(ctx, args)
	if err == nil && unknownCommand != "" {
		return fmt.Errorf("unknown command %q (see --help)", unknownCommand)
	}
	return err
}

func newApp() *cli.App {
	app := &cli.App{
		Name:            "pstrace",
		Usage:           "trace process forks, execs and exits, live",
		HideHelpCommand: true,
		Flags:           globalFlags(),
		Commands:        []*cli.Command{eventsCommand(), treeCommand()},
		OnUsageError:    usageError,
		CommandNotFound: func(_ *cli.Context, name string) {
			unknownCommand = name
		},
		// Errors are printed once, by main, and never exit from inside cli.
		ExitErrHandler: func(*cli.Context, error) {},
	}
	setVersion(app)
	setFlagEnvs(app)
	return app
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

// verbose tells whether --verbose was given, on the command line or in its
// environment variable, for printing the verifier log after the app has returned.
func verbose(args []string) bool {
	for _, a := range args[1:] {
		if a == "--verbose" || a == "-verbose" || a == "-v" {
			return true
		}
	}
	on, _ := strconv.ParseBool(os.Getenv(flagEnv("verbose")))
	return on
}
