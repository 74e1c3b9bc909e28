package main

import (
	"bytes"
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
	Versions            map[string]string
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
