package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
)

// gatedStorm is a spawn storm started with -gate: it exists, so it can be
// followed, before it spawns anything.
type gatedStorm struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	out   *bufio.Reader
	PID   uint32
}

func startGated(storm string, args ...string) (*gatedStorm, error) {
	cmd := exec.Command(storm, append([]string{"-gate"}, args...)...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting spawn storm: %w", err)
	}
	g := &gatedStorm{cmd: cmd, stdin: stdin, out: bufio.NewReader(stdout)}
	line, err := g.out.ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("spawn storm did not start: %w", err)
	}
	pid, err := strconv.ParseUint(strings.TrimSpace(line), 10, 32)
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return nil, fmt.Errorf("spawn storm printed %q, not its pid", line)
	}
	g.PID = uint32(pid)
	return g, nil
}

// release lets it spawn.
func (g *gatedStorm) release() error {
	_, err := io.WriteString(g.stdin, "go\n")
	return err
}

// wait returns its result once it is done.
func (g *gatedStorm) wait() (stormResult, error) {
	var res stormResult
	line, _ := g.out.ReadString('\n')
	if err := g.cmd.Wait(); err != nil {
		return res, fmt.Errorf("spawn storm: %w", err)
	}
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		return res, fmt.Errorf("reading spawn storm result %q: %w", line, err)
	}
	return res, nil
}

// kill stops a storm that will not be waited for.
func (g *gatedStorm) kill() {
	g.cmd.Process.Kill()
	g.cmd.Wait()
}
