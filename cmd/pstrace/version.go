package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"github.com/pstrace/pstrace/internal/version"
	"github.com/pstrace/pstrace/tracer"
)

// setVersion gives the app --version (no short alias: -v is --verbose),
// printing the release, commit and the hash of the embedded BPF object.
func setVersion(app *cli.App) {
	info := version.Get(tracer.ObjectHash())
	app.Version = info.Version
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Usage: "print the version, commit and BPF object hash"}
	cli.VersionPrinter = func(c *cli.Context) {
		fmt.Fprintln(c.App.Writer, info)
	}
}
