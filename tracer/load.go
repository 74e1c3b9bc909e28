package tracer

import (
	"bytes"
	"errors"
	"fmt"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/features"
	"github.com/cilium/ebpf/rlimit"
	"golang.org/x/sys/unix"
)

// kernelBTFPath is where a kernel built with CONFIG_DEBUG_INFO_BTF exposes its types.
const kernelBTFPath = "/sys/kernel/btf/vmlinux"

// Errors a user can meet before anything is loaded; each says what to do.
var (
	ErrPermission = errors.New("permission denied: pstrace needs root (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN); run it with sudo")
	ErrNoBTF      = errors.New("kernel BTF not found at " + kernelBTFPath + ": the kernel needs CONFIG_DEBUG_INFO_BTF=y, or pass --btf FILE")
	ErrNoRingBuf  = errors.New("the kernel has no BPF ring buffer: pstrace needs Linux 5.8 or newer")
)

// hook is one tracepoint and its two programs: BTF-enabled where the kernel
// has BTF, else raw.
type hook struct{ tracepoint, btfProg, rawProg string }

// hooks in the order they are attached. Exit goes first and fork last: a
// process whose fork is reported then always has its exit reported too,
// however long the attaching takes (a fork reported without its exit would
// stay in the tree for good).
var hooks = []hook{
	{"sched_process_exit", "exit_btf", "exit_raw"},
	{"sched_process_exec", "exec_btf", "exec_raw"},
	{"sched_process_fork", "fork_btf", "fork_raw"},
}

func load(opts *Options) (*ebpf.Collection, error) {
	if err := checkHost(); err != nil {
		return nil, err
	}
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK.
	if err := rlimit.RemoveMemlock(); errors.Is(err, unix.EPERM) {
		return nil, ErrNoCapSysResource
	} else if err != nil {
		return nil, fmt.Errorf("removing the memlock limit: %w", err)
	}
	_, statErr := os.Stat(kernelBTFPath)
	kernelBTF := statErr == nil
	if !kernelBTF && opts.BTFPath == "" {
		return nil, ErrNoBTF
	}
	if err := features.HaveMapType(ebpf.RingBuf); err != nil {
		if errors.Is(err, ebpf.ErrNotSupported) {
			return nil, fmt.Errorf("%w (this is %s)", ErrNoRingBuf, kernelRelease())
		}
		return nil, fmt.Errorf("probing for the BPF ring buffer: %w", err)
	}

	spec, err := loadPstrace()
	if err != nil {
		return nil, fmt.Errorf("reading BPF objects: %w", err)
	}
	for _, h := range hooks {
		if kernelBTF {
			delete(spec.Programs, h.rawProg)
		} else {
			delete(spec.Programs, h.btfProg)
		}
	}
	spec.Maps["events"].MaxEntries = uint32(opts.RingSize)
	if !opts.Filter.Follow && !opts.Filter.Shims {
		spec.Maps["followed"].MaxEntries = 1 // preallocated, and never used
	}
	vars := map[string]any{
		"wakeup_bytes":    uint64(max(opts.WakeupBytes, 0)),
		"filter_followed": opts.Filter.Follow,
		"follow_shims":    opts.Filter.Shims,
		"filter_comm":     len(opts.Filter.Comms) > 0,
	}
	for name, v := range vars {
		if err := spec.Variables[name].Set(v); err != nil {
			return nil, fmt.Errorf("setting %s: %w", name, err)
		}
	}

	var collOpts ebpf.CollectionOptions
	if opts.BTFPath != "" {
		types, err := btf.LoadSpec(opts.BTFPath)
		if err != nil {
			return nil, fmt.Errorf("reading BTF from %s: %w", opts.BTFPath, err)
		}
		collOpts.Programs.KernelTypes = types
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, collOpts)
	if err != nil {
		if errors.Is(err, unix.EPERM) {
			return nil, ErrPermission
		}
		return nil, fmt.Errorf("loading BPF objects: %w", err)
	}
	return coll, nil
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "an unknown kernel"
	}
	return "Linux " + string(bytes.TrimRight(u.Release[:], "\x00"))
}
