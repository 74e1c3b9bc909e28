package main

import (
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/pstrace/pstrace/internal/testutil"
)

// bpfIDs reads the ids of the BPF programs and links that pid holds open,
// from /proc/PID/fdinfo.
func bpfIDs(t *testing.T, pid int) (progs, links []uint32) {
	t.Helper()
	dir := "/proc/" + strconv.Itoa(pid) + "/fdinfo"
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[uint32]bool{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed meanwhile
		}
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			id, err := strconv.ParseUint(strings.TrimSpace(v), 10, 32)
			if err != nil {
				continue
			}
			switch k {
			case "prog_id":
				if !seen[uint32(id)] {
					seen[uint32(id)] = true
					progs = append(progs, uint32(id))
				}
			case "link_id":
				links = append(links, uint32(id))
			}
		}
	}
	return progs, links
}

// SIGINT detaches everything and exits 0; text output on a pipe has no colour.
func TestInterruptDetaches(t *testing.T) {
	r := startPstrace(t, pstraceCmd("events"))
	var progs, links []uint32
	// fork, exec, exit and task_rename
	const hooks = 4
	for deadline := time.Now().Add(hangGuard); len(links) < hooks; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("pstrace never attached its %d programs (links %v)", hooks, links)
		}
		progs, links = bpfIDs(t, r.cmd.Process.Pid)
	}
	lines, took := r.stop()
	if len(progs) != hooks {
		t.Errorf("found programs %v in fdinfo, want %d", progs, hooks)
	}
	// The kernel frees a program some time after its last reference goes
	// (after an RCU grace period): wait for that, but never forever.
	start := time.Now()
	for deadline := start.Add(hangGuard); ; time.Sleep(10 * time.Millisecond) {
		left := stillLoaded(progs, links)
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("still loaded long after pstrace exited: %v", left)
		}
	}
	t.Logf("exited %v after SIGINT; its programs %v and links %v were gone %v later", took, progs, links, time.Since(start))
	if len(lines) == 0 || !strings.HasPrefix(lines[0], "TIME ") {
		t.Fatalf("no header line in %q", lines)
	}
	for _, l := range lines {
		if strings.ContainsRune(l, '\x1b') || strings.HasSuffix(l, " ") {
			t.Errorf("colour or trailing space on a pipe: %q", l)
		}
	}
}

// stillLoaded lists the programs and links of these ids that still exist.
func stillLoaded(progs, links []uint32) []string {
	var left []string
	for _, id := range progs {
		if p, err := ebpf.NewProgramFromID(ebpf.ProgramID(id)); err == nil {
			p.Close()
			left = append(left, "program "+strconv.Itoa(int(id)))
		}
	}
	for _, id := range links {
		if l, err := link.NewFromID(link.ID(id)); err == nil {
			l.Close()
			left = append(left, "link "+strconv.Itoa(int(id)))
		}
	}
	return left
}

// --pid shows that process and its descendants, nothing else.
func TestPIDFilter(t *testing.T) {
	trueBin := testutil.LookBin(t, "true")
	loop := testutil.HelperCmd("spawn-loop", "spawn-loop", trueBin)
	stdin, err := loop.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := loop.Start(); err != nil {
		t.Fatal(err)
	}
	defer loop.Wait()
	defer stdin.Close()
	parent := uint32(loop.Process.Pid)
	r := startPstrace(t, pstraceCmd("events", "--format", "json", "--pid", strconv.Itoa(int(parent))))
	childExit := func(ev jsonEvent) bool { return ev.PPID == parent && ev.Type == "exit" }
	r.waitFor("a child of the followed process", childExit)
	other := runBin(t, trueBin)
	// Two more exits of followed children: the unrelated one had its chance.
	r.waitFor("another child", childExit)
	r.waitFor("yet another child", childExit)
	lines, _ := r.stop()
	for _, ev := range jsonLines(t, lines) {
		if ev.PID == other {
			t.Errorf("event of an unrelated process: %+v", ev)
		}
		if ev.PID != parent && ev.PPID != parent {
			t.Errorf("event outside the followed tree: %+v", ev)
		}
	}
}

// --comm shows only processes of that name, --types only those events.
func TestCommFilter(t *testing.T) {
	trueBin, falseBin := testutil.LookBin(t, "true"), testutil.LookBin(t, "false")
	r := startPstrace(t, pstraceCmd("events", "--format", "json", "--comm", "true", "--types", "exit"))
	r.waitAttached(trueBin)
	falsePID := runBin(t, falseBin)
	last := runBin(t, trueBin)
	r.waitFor("the exit of the last true", exitOf(last))
	lines, _ := r.stop()
	for _, ev := range jsonLines(t, lines) {
		if ev.Comm != "true" || ev.PID == falsePID {
			t.Errorf("event of another command: %+v", ev)
		}
		if ev.Type != "exit" {
			t.Errorf("event of a type not asked for: %+v", ev)
		}
	}
}

// Without kernel BTF pstrace says what the kernel needs; with --btf it runs
// on raw tracepoints and delivers events.
func TestWithoutKernelBTF(t *testing.T) {
	testutil.RequireRoot(t)
	copyPath := filepath.Join(t.TempDir(), "vmlinux.btf")
	src, err := os.Open("/sys/kernel/btf/vmlinux")
	if err != nil {
		testutil.Unavailable(t, "no kernel BTF to copy: %v", err)
	}
	dst, err := os.Create(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(dst, src); err != nil {
		t.Fatal(err)
	}
	src.Close()
	dst.Close()
	hidden := func(args ...string) *running {
		cmd := testutil.HelperCmd("pstrace-hidden-btf", append([]string{"pstrace"}, args...)...)
		cmd.SysProcAttr = newMountNamespace()
		return startPstrace(t, cmd)
	}

	t.Run("no BTF", func(t *testing.T) {
		cmd := testutil.HelperCmd("pstrace-hidden-btf", "pstrace", "events")
		cmd.SysProcAttr = newMountNamespace()
		out, err := cmd.CombinedOutput()
		if cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 1 {
			t.Fatalf("exit %v, want status 1: %s", err, out)
		}
		if got := string(out); strings.Count(got, "\n") != 1 || !strings.Contains(got, "CONFIG_DEBUG_INFO_BTF") || !strings.Contains(got, "--btf FILE") {
			t.Errorf("output %q, want one line naming CONFIG_DEBUG_INFO_BTF and --btf FILE", got)
		}
	})
	t.Run("--btf copy", func(t *testing.T) {
		trueBin := testutil.LookBin(t, "true")
		r := hidden("events", "--format", "json", "--comm", "true", "--btf", copyPath)
		r.waitAttached(trueBin)
		r.stop()
	})
}

// Errors found once the program is loaded: still one line and status 1.
func TestRootOnlyErrors(t *testing.T) {
	testutil.RequireRoot(t)
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"events", "--btf", "/nonexistent"}, "reading BTF from /nonexistent"},
		{[]string{"events", "--pid", "4194304"}, "no process with pid 4194304"},
	}
	for _, tt := range tests {
		cmd := pstraceCmd(tt.args...)
		out, _ := cmd.CombinedOutput()
		if got := string(out); cmd.ProcessState.ExitCode() != 1 || strings.Count(got, "\n") != 1 || !strings.Contains(got, tt.want) {
			t.Errorf("%v: status %d, output %q; want 1 and one line with %q", tt.args, cmd.ProcessState.ExitCode(), got, tt.want)
		}
	}
}

// Without root, pstrace says to use sudo.
func TestNotRoot(t *testing.T) {
	testutil.RequireRoot(t) // to switch to another user
	// The test binary may sit in a directory only root can enter.
	dir := t.TempDir()
	for _, d := range []string{dir, filepath.Dir(dir)} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "pstrace")
	if err := copyFile(self, exe, 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := pstraceCmd("events")
	cmd.Path = exe
	cmd.SysProcAttr = asNobody()
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 {
		t.Errorf("exit status %d, want 1", cmd.ProcessState.ExitCode())
	}
	if got := string(out); strings.Count(got, "\n") != 1 || !strings.Contains(got, "run it with sudo") {
		t.Errorf("output %q, want one line saying to run it with sudo", got)
	}
}

func copyFile(from, to string, mode os.FileMode) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, mode)
}
