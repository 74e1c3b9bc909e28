package main

import (
	"os"

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
