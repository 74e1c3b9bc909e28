package main

import (
	"fmt"
	"strings"

	"github.com/urfave/cli/v2"
)

// outputFlags choose where a command's events go: stdout (or not, for an
// agent that only serves metrics), and the other outputs' own flags.
func outputFlags() []cli.Flag {
	return append([]cli.Flag{
		&cli.StringFlag{Name: "output", Value: "stdout", Usage: "`WHERE` the command writes: stdout, or none (with --metrics-addr or --otlp-endpoint: an agent that only serves metrics or exports)"},
	}, append(metricsFlags(), exportFlags()...)...)
}

// otherOutputs are the flags of outputs other than stdout: --output none
// needs one of them, or pstrace would trace for no one.
var otherOutputs = []string{"metrics-addr", "otlp-endpoint"}

// toStdout reads --output.
func toStdout(c *cli.Context) (bool, error) {
	switch o := c.String("output"); o {
	case "stdout":
		return true, nil
	case "none":
		for _, f := range otherOutputs {
			if c.String(f) != "" {
				return false, nil
			}
		}
		return false, fmt.Errorf("--output none: nothing else would be written either (add --%s)", strings.Join(otherOutputs, " or --"))
	default:
		return false, fmt.Errorf("--output %q: must be stdout or none", o)
	}
}
