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

// Errors a user can meet before anything is loaded.
var (
	ErrPermission = errors.New("permission denied: loading BPF programs needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN")
	ErrNoBTF      = errors.New("kernel BTF not found at " + kernelBTFPath + ": the kernel needs CONFIG_DEBUG_INFO_BTF=y, or Options.BTFPath")
	ErrNoRingBuf  = errors.New("the kernel has no BPF ring buffer: pstrace needs Linux 5.8 or newer")
)

// hook is one tracepoint and its two programs: BTF-enabled where the kernel
// has BTF, else raw.
type hook struct{ tracepoint, btfProg, rawProg string }

// hooks in the order they are attached. Exit goes first and fork last: a
// process whose fork is reported then always has its exit reported too,
// however long the attaching takes (a fork reported without its exit would
// stay in the tree for good). A rename before its process's fork is
// reported changes nothing.
var hooks = [...]hook{
	{"sched_process_exit", pstraceProgExitBtf, pstraceProgExitRaw},
	{"sched_process_exec", pstraceProgExecBtf, pstraceProgExecRaw},
	{"task_rename", pstraceProgRenameBtf, pstraceProgRenameRaw},
	{"sched_process_fork", pstraceProgForkBtf, pstraceProgForkRaw},
}

// objects are the loaded maps, and the program of each hook chosen for this
// kernel (BTF-enabled or raw), in the order of hooks.
type objects struct {
	maps  pstraceMaps
	progs [len(hooks)]*ebpf.Program
	btf   bool // progs are BTF-enabled tracepoints
}

func (o *objects) close() error {
	var errs []error
	for i, p := range o.progs {
		if p != nil {
			errs = append(errs, p.Close())
			o.progs[i] = nil
		}
	}
	errs = append(errs, o.maps.Close())
	o.maps = pstraceMaps{}
	return errors.Join(errs...)
}

func load(opts *Options, objs *objects) error {
	if err := checkHost(); err != nil {
		return err
	}
	// Kernels before 5.11 charge BPF memory to RLIMIT_MEMLOCK.
	if err := rlimit.RemoveMemlock(); errors.Is(err, unix.EPERM) {
		return ErrNoCapSysResource
	} else if err != nil {
		return fmt.Errorf("removing the memlock limit: %w", err)
	}
	_, statErr := os.Stat(kernelBTFPath)
	objs.btf = statErr == nil
	if !objs.btf && opts.BTFPath == "" {
		return ErrNoBTF
	}
	if err := features.HaveMapType(ebpf.RingBuf); err != nil {
		if errors.Is(err, ebpf.ErrNotSupported) {
			return fmt.Errorf("%w (this is %s)", ErrNoRingBuf, kernelRelease())
		}
		return fmt.Errorf("probing for the BPF ring buffer: %w", err)
	}

	spec, specs, err := loadSpecs()
	if err != nil {
		return err
	}
	for _, h := range hooks {
		if objs.btf {
			delete(spec.Programs, h.rawProg)
		} else {
			delete(spec.Programs, h.btfProg)
		}
	}
	specs.Events.MaxEntries = uint32(opts.RingSize)
	if !opts.Scope.follows() {
		specs.Followed.MaxEntries = 1 // preallocated, and never used
	}
	wakeup := uint64(opts.WakeupBytes) // 0 with WakeEveryEvent: any backlog wakes
	for _, v := range []struct {
		spec  *ebpf.VariableSpec
		value any
	}{
		{specs.WakeupBytes, wakeup},
		{specs.FilterFollowed, opts.Scope.follows()},
		{specs.FollowShims, opts.Scope.Containers},
		{specs.FilterComm, len(opts.Scope.Comms) > 0},
	} {
		if err := v.spec.Set(v.value); err != nil {
			return fmt.Errorf("setting %s: %w", v.spec.Name, err)
		}
	}

	var collOpts ebpf.CollectionOptions
	if opts.BTFPath != "" {
		types, err := btf.LoadSpec(opts.BTFPath)
		if err != nil {
			return fmt.Errorf("reading BTF from %s: %w", opts.BTFPath, err)
		}
		collOpts.Programs.KernelTypes = types
	}
	coll, err := ebpf.NewCollectionWithOptions(spec, collOpts)
	if err != nil {
		if errors.Is(err, unix.EPERM) {
			return ErrPermission
		}
		return fmt.Errorf("loading BPF objects: %w", err)
	}
	defer coll.Close()
	if err := coll.Assign(&objs.maps); err != nil {
		return fmt.Errorf("loading BPF objects: %w", err)
	}
	for i, h := range hooks {
		name := h.rawProg
		if objs.btf {
			name = h.btfProg
		}
		// A name missing here is caught by the build: it is bpf2go's constant.
		objs.progs[i] = coll.DetachProgram(name)
	}
	return nil
}

// loadSpecs reads the embedded BPF objects, with bpf2go's typed view of them.
func loadSpecs() (*ebpf.CollectionSpec, *pstraceSpecs, error) {
	spec, err := loadPstrace()
	if err != nil {
		return nil, nil, fmt.Errorf("reading BPF objects: %w", err)
	}
	var specs pstraceSpecs
	if err := spec.Assign(&specs); err != nil {
		return nil, nil, fmt.Errorf("reading BPF objects: %w", err)
	}
	return spec, &specs, nil
}

func kernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return "an unknown kernel"
	}
	return "Linux " + string(bytes.TrimRight(u.Release[:], "\x00"))
}
