package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/pstrace/pstrace/internal/testutil"
)

// openPty opens a pseudo-terminal of cols columns: the master to read, the
// terminal to give a command as its stdout.
func openPty(t *testing.T, cols uint16) (master, tty *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		testutil.Unavailable(t, "no pseudo-terminals here (mount devpts): %v", err)
	}
	t.Cleanup(func() { master.Close() })
	if err := unix.IoctlSetPointerInt(int(master.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(master.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	tty, err = os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetWinsize(int(tty.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 50, Col: cols}); err != nil {
		t.Fatal(err)
	}
	return master, tty
}

// treeOnTerminal runs pstrace tree --once with args on a terminal of cols
// columns and returns its lines as the terminal got them.
func treeOnTerminal(t *testing.T, cols uint16, args ...string) []string {
	t.Helper()
	master, tty := openPty(t, cols)
	cmd := pstrace(append([]string{"tree", "--once"}, args...)...)
	cmd.Stdout = tty
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	var out bytes.Buffer
	_, err := io.Copy(&out, master) // ends with EIO once the terminal's last user is gone
	if werr := cmd.Wait(); werr != nil {
		t.Fatalf("pstrace tree on a terminal: %v: %s", werr, stderr.Bytes())
	}
	if err != nil && !errors.Is(err, syscall.EIO) {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(out.String(), "\r\n", "\n")
	text = strings.TrimPrefix(text, "\x1b[H\x1b[2J")
	return strings.Split(strings.TrimSuffix(text, "\n"), "\n")
}

// On a terminal the tree's lines fit its width, cut with an ellipsis;
// --wide keeps them whole, as does a pipe. The header counts processes.
func TestTreeFitsTerminal(t *testing.T) {
	testutil.RequireRoot(t)
	f := startForker(t)
	tag := strings.Repeat("long-argument-", 10) + "end"
	child := f.fork(tag)
	pid := fmt.Sprint(f.pid)

	lines := treeOnTerminal(t, 60, "--pid", pid)
	if len(lines) != 4 || lines[0] != "2 processes, 0 containers" {
		t.Fatalf("want the counts, the column names, the forker and its child, got:\n%s", strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if n := utf8.RuneCountInString(l); n > 60 {
			t.Errorf("a line of %d columns on a terminal of 60: %q", n, l)
		}
	}
	if l := lines[3]; !strings.HasPrefix(strings.TrimSpace(l), fmt.Sprint(child)) || utf8.RuneCountInString(l) != 60 || !strings.HasSuffix(l, "…") {
		t.Errorf("the child's line is not cut to 60 columns with an ellipsis: %q", l)
	}

	wide := treeOnTerminal(t, 60, "--pid", pid, "--wide")
	if len(wide) != 4 || !strings.HasSuffix(wide[3], " "+tag) {
		t.Errorf("with --wide the child's line is cut: %q", wide[len(wide)-1])
	}
	out, err := pstrace("tree", "--once", "--pid", pid).Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(strings.TrimSuffix(string(out), "\n"), " "+tag) {
		t.Errorf("through a pipe the child's line is cut:\n%s", out)
	}
}
