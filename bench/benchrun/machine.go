package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"golang.org/x/sys/unix"
)

// machine is what the figures were measured on.
type machine struct {
	Kernel, CPU, Memory string
	Cores               int
	// Paging: what makes each kernel entry's first memory accesses slow.
	Paging   string
	Versions map[string]string
}

func describeMachine() machine {
	m := machine{Cores: runtime.NumCPU(), CPU: "unknown", Memory: "unknown", Versions: map[string]string{}}
	var u unix.Utsname
	if unix.Uname(&u) == nil {
		m.Kernel = string(bytes.TrimRight(u.Release[:], "\x00")) + " " + string(bytes.TrimRight(u.Machine[:], "\x00"))
	}
	if v, ok := fieldOf("/proc/cpuinfo", "model name"); ok {
		m.CPU = v
	}
	if v, ok := fieldOf("/proc/meminfo", "MemTotal"); ok {
		m.Memory = v
	}
	m.Paging = describePaging()
	for _, pkg := range []string{"libbpf-tools", "bpftrace", "forkstat", "bpftool"} {
		out, err := exec.Command("dpkg-query", "-W", "-f=${Version}", pkg).Output()
		if err == nil {
			m.Versions[pkg] = string(out)
		}
	}
	m.Versions["go"] = runtime.Version()
	return m
}

// fieldOf is the value of the first "name: value" line of a /proc file.
func fieldOf(path, name string) (string, bool) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", false
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v), true
		}
	}
	return "", false
}

// describePaging says whether the kernel runs under a hypervisor and
// whether every entry into it flushes the TLB: page table isolation
// switches page tables on each entry, and without PCID that flushes them.
func describePaging() string {
	flags, ok := fieldOf("/proc/cpuinfo", "flags")
	if !ok {
		return "unknown"
	}
	has := map[string]bool{}
	for _, f := range strings.Fields(flags) {
		has[f] = true
	}
	virt := "bare metal"
	if has["hypervisor"] {
		virt = "under a hypervisor"
	}
	pti := "unknown"
	if b, err := os.ReadFile("/sys/devices/system/cpu/vulnerabilities/meltdown"); err == nil {
		pti = strings.TrimSpace(string(b))
	}
	pcid := "PCID"
	if !has["pcid"] {
		pcid = "no PCID"
	}
	return fmt.Sprintf("%s; meltdown: %s; %s", virt, pti, pcid)
}
