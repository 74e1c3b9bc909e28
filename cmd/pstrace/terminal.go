package main

import (
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// useColour tells whether to colour output to f: only on a terminal, and
// not when NO_COLOR is set.
func useColour(f *os.File) bool {
	return os.Getenv("NO_COLOR") == "" && isTerminal(f)
}

func isTerminal(f *os.File) bool {
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// wideFlag keeps the tree's lines whole on a terminal.
func wideFlag() cli.Flag {
	return &cli.BoolFlag{Name: "wide", Usage: "on a terminal, keep whole lines instead of cutting them to its width"}
}

// lineWidth is the width to cut the tree's lines to: the terminal's, or 0
// (whole lines) off a terminal, with --wide, or when the terminal does not
// say. It is asked before each frame, so a resized window is followed.
func lineWidth(f *os.File, wide bool) int {
	if wide {
		return 0
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}
