package proctree

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"

	"github.com/pstrace/pstrace/internal/procfs"
	"github.com/pstrace/pstrace/internal/testutil"
	"github.com/pstrace/pstrace/tracer"
)

func testHelper(name string, args ...string) *exec.Cmd {
	c := testutil.HelperCmd(name, args...)
	c.Stderr = os.Stderr
	return c
}

// Seeds run while processes fork, exec and exit; the trees then follow
// thousands more. At every check they must equal the kernel's.
func TestTreeMatchesProcThroughChurn(t *testing.T) {
	wait := testutil.Churn(t, 2, 1000)
	var trees []*liveTree
	for round := 1; round <= 3; round++ {
		l := startLiveTree(t, tracer.Options{})
		l.checkAgainstProc(fmt.Sprintf("seeded during the churn (%d)", round))
		trees = append(trees, l)
	}
	wait()
	for k, l := range trees {
		l.checkAgainstProc(fmt.Sprintf("after the churn (%d)", k+1))
	}
}

// With a tiny ring buffer events are lost; the tree repairs itself from
// /proc and equals the kernel's again.
func TestTreeRepairsAfterLostEvents(t *testing.T) {
	page := os.Getpagesize()
	// The kernel never wakes the reader (the backlog cannot reach the ring's
	// size) and the reader drains once a second: a burst overflows the ring.
	l := startLiveTree(t, tracer.Options{RingSize: page, WakeupBytes: page, DrainInterval: 500e6})
	wait := testutil.Churn(t, 1, 2000)
	wait()
	s := l.next()
	if s.lost == 0 || s.repairs == 0 {
		t.Fatalf("no events lost (%d) or no repair (%d): the test did not overflow the ring", s.lost, s.repairs)
	}
	t.Logf("%d events lost, %d repairs", s.lost, s.repairs)
	l.checkAgainstProc("after the repair")
}

// startAdopter starts an adopter helper and returns it and the pid of the
// orphan it relays.
func startAdopter(t *testing.T, attr *syscall.SysProcAttr, args ...string) (*exec.Cmd, uint32) {
	t.Helper()
	c := testutil.Helper("adopter", append([]string{"adopter"}, args...)...)
	c.SysProcAttr = attr
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	testutil.StartHelper(t, c)
	return c, testutil.ReadPID(t, bufio.NewReader(out))
}

// `sh -c 'sleep 5 & exit'`: the orphan goes where the kernel says.
func TestTreeOrphanToReaper(t *testing.T) {
	l := startLiveTree(t, tracer.Options{})
	c := testutil.Helper("orphaner", "orphaner")
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	testutil.StartHelper(t, c)
	orphan := testutil.ReadPID(t, bufio.NewReader(out))
	if err := c.Wait(); err != nil {
		t.Fatalf("orphaner: %v", err)
	}
	st, err := procfs.ReadStat("/proc", orphan)
	if err != nil {
		t.Fatal(err)
	}
	if st.PPID == uint32(c.Process.Pid) {
		t.Fatalf("the orphan's parent is still the orphaner")
	}
	s := l.waitFor("the orphan re-parented", func(s treeSnapshot) bool {
		_, orphanerAlive := s.procs[uint32(c.Process.Pid)]
		return !orphanerAlive && s.procs[orphan].ppid == st.PPID
	})
	t.Logf("orphan %d re-parented to %d", orphan, s.procs[orphan].ppid)
	l.checkAgainstProc("after the re-parenting")
}

func TestTreeOrphanToSubreaper(t *testing.T) {
	l := startLiveTree(t, tracer.Options{})
	sub, orphan := startAdopter(t, nil, "subreaper")
	s := l.waitFor("the orphan under the subreaper", func(s treeSnapshot) bool {
		return s.procs[orphan].ppid == uint32(sub.Process.Pid)
	})
	if got := s.procs[uint32(sub.Process.Pid)].ppid; got != uint32(os.Getpid()) {
		t.Errorf("subreaper's ppid %d, want the test's pid %d", got, os.Getpid())
	}
	l.checkAgainstProc("after the re-parenting")
}

// The init of a new pid namespace adopts the namespace's orphans, and when
// it exits, everything in the namespace goes with it.
func TestTreePidNamespaceInit(t *testing.T) {
	l := startLiveTree(t, tracer.Options{})
	init, nsOrphan := startAdopter(t, &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID})
	initPID := uint32(init.Process.Pid)
	var orphan uint32
	s := l.waitFor("the namespace's orphan under its init", func(s treeSnapshot) bool {
		for pid, p := range s.procs {
			if p.ppid == initPID && p.nsPID == nsOrphan {
				orphan = pid
				return true
			}
		}
		return false
	})
	if got := s.procs[initPID].nsPID; got != 1 {
		t.Errorf("namespace init has ns_pid %d, want 1", got)
	}
	if st, err := procfs.ReadStat("/proc", orphan); err != nil || st.PPID != initPID {
		t.Fatalf("/proc says the orphan %d has ppid %d (%v)", orphan, st.PPID, err)
	}
	l.checkAgainstProc("with a pid namespace")
	init.Process.Kill()
	init.Wait()
	l.waitFor("the namespace gone", func(s treeSnapshot) bool {
		_, a := s.procs[initPID]
		_, b := s.procs[orphan]
		return !a && !b
	})
}

// A thread that is not the leader execs: the process keeps its pid and
// takes the new argv; no thread ever shows as a process.
func TestTreeExecFromThread(t *testing.T) {
	l := startLiveTree(t, tracer.Options{})
	c := testutil.StartHelper(t, testutil.Helper("threadexec", "threadexec"))
	pid := uint32(c.Process.Pid)
	var tid uint32
	s := l.waitFor("the exec from a thread", func(s treeSnapshot) bool {
		_, err := fmt.Sscanf(s.procs[pid].args, "exec-from-thread\x00%d\x00", &tid)
		return err == nil
	})
	if tid == pid {
		t.Fatalf("the exec came from the leader")
	}
	if got := s.procs[pid].ppid; got != uint32(os.Getpid()) {
		t.Errorf("ppid %d, want %d", got, os.Getpid())
	}
	if _, ok := s.procs[tid]; ok {
		t.Errorf("the exec'ing thread %d shows as a process", tid)
	}
	l.checkAgainstProc("after the exec from a thread")
}

// A process cloned with CLONE_PARENT is its creator's sibling.
func TestTreeCloneParent(t *testing.T) {
	l := startLiveTree(t, tracer.Options{})
	c := testutil.Helper("sibling", "sibling")
	out, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	testutil.StartHelper(t, c)
	sibling := testutil.ReadPID(t, bufio.NewReader(out))
	t.Cleanup(func() {
		// The test is its parent: kill and reap it (its pid stays its own till then).
		syscall.Kill(int(sibling), syscall.SIGKILL)
		var ws syscall.WaitStatus
		syscall.Wait4(int(sibling), &ws, 0, nil)
	})
	self := uint32(os.Getpid())
	s := l.waitFor("the sibling", func(s treeSnapshot) bool {
		_, ok := s.procs[sibling]
		return ok
	})
	if got := s.procs[sibling].ppid; got != self {
		t.Errorf("the CLONE_PARENT child has ppid %d, want the test's pid %d (its creator is %d)", got, self, c.Process.Pid)
	}
	l.checkAgainstProc("after CLONE_PARENT")
}
