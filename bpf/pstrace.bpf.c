// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Process lifecycle events: fork, exec and exit of every process on the host,
 * written to one ring buffer. Every hook exists twice: as a BTF-enabled
 * tracepoint, and as a raw tracepoint for kernels whose BTF comes from a file.
 * Kernel structures are only read through CO-RE relocations. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "pstrace.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Macros are not in BTF: include/linux/sched/signal.h, include/linux/sched.h. */
#define SIGNAL_GROUP_EXIT 0x00000004
#define PF_EXITING 0x00000004
/* Deeper ancestor chains than this are taken to end at the namespace's init. */
#define MAX_REAPER_DEPTH 64
#define EEXIST 17

#include "maps.h"

/* Fills what every event carries; the hooks run in the context of the
 * process the event is about, or of its parent for fork, which shares the
 * child's credentials, cgroup and command name at that point. */
static __always_inline void fill_common(struct event *e, struct task_struct *task, enum event_type type)
{
	struct task_struct *leader = BPF_CORE_READ(task, group_leader);
	struct pid *pid = BPF_CORE_READ(leader, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	__u64 uid_gid = bpf_get_current_uid_gid();
	struct upid upid = {};

	bpf_core_read(&upid, sizeof(upid), &pid->numbers[level]);

	e->type = type;
	e->time_ns = bpf_ktime_get_boot_ns();
	e->start_ns = BPF_CORE_READ(leader, start_boottime);
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->pid = BPF_CORE_READ(task, tgid);
	e->tid = BPF_CORE_READ(task, pid);
	/* Not the tracepoint's parent: under CLONE_PARENT the two differ. */
	e->ppid = BPF_CORE_READ(task, real_parent, tgid);
	e->uid = (__u32)uid_gid;
	e->gid = uid_gid >> 32;
	e->ns_pid = upid.nr;
	e->exit_status = 0;
	e->reaper = 0;
	e->filename_len = 0;
	e->args_truncated = 0;
	e->filename_truncated = 0;
	e->args_len = 0;
	current_comm(e->comm);
}

static __always_inline int on_fork(struct task_struct *child)
{
	__u32 pid = BPF_CORE_READ(child, tgid);
	__u32 ppid;
	struct event *e;
	char comm[TASK_COMM_LEN];

	/* A new thread joins its creator's group: that is not a new process. */
	if (BPF_CORE_READ(child, pid) != pid)
		return 0;

	if (filter_followed) {
		__u8 one = 1;

		ppid = BPF_CORE_READ(child, real_parent, tgid);
		if (!is_followed(ppid))
			return 0;
		if (bpf_map_update_elem(&followed, &pid, &one, BPF_ANY))
			count_lost(LOST_FOLLOW_FULL);
	}
	if (filter_comm) {
		current_comm(comm);
		if (!passes(pid, comm))
			return 0;
	}

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(LOST_RING_FULL);
		return 0;
	}
	fill_common(e, child, EVENT_FORK);
	bpf_ringbuf_submit(e, wakeup_flag());
	return 0;
}

/* containerd-shim-* binaries all show as this (comm keeps 15 bytes). */
static __always_inline bool is_shim(const char *comm)
{
	const char shim[TASK_COMM_LEN] = "containerd-shim";

	for (int i = 0; i < TASK_COMM_LEN; i++)
		if (comm[i] != shim[i])
			return false;
	return true;
}

static __always_inline int on_exec(struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	__u32 zero = 0, pid = BPF_CORE_READ(task, tgid);
	struct exec_record *r;
	struct event *e;
	struct mm_struct *mm;
	unsigned long start, end;
	__u64 len, fn_len, size;
	long n;
	char comm[TASK_COMM_LEN];

	/* The new image's name, decided on before reading anything else. */
	current_comm(comm);
	if (follow_shims && is_shim(comm)) {
		__u8 one = 1;

		if (bpf_map_update_elem(&followed, &pid, &one, BPF_ANY))
			count_lost(LOST_FOLLOW_FULL);
	}
	if (!passes(pid, comm))
		return 0;

	r = bpf_map_lookup_elem(&scratch, &zero);
	if (!r)
		return 0;
	e = &r->hdr;
	fill_common(e, task, EVENT_EXEC);
	/* After de_thread() the process has its leader's id; report the caller. */
	e->tid = old_pid;

	n = bpf_probe_read_kernel_str(r->data, FILENAME_MAX_LEN, BPF_CORE_READ(bprm, filename));
	if (n <= 0)
		n = 1;
	if (n == FILENAME_MAX_LEN)
		e->filename_truncated = 1;
	/* The length without its NUL, bounded for the verifier. */
	fn_len = (n - 1) & (FILENAME_MAX_LEN - 1);
	e->filename_len = fn_len;

	/* argv as the new image holds it: the kernel just copied it onto the
	 * new stack, so unlike execve()'s own pointers it is never paged out. */
	mm = BPF_CORE_READ(task, mm);
	start = BPF_CORE_READ(mm, arg_start);
	end = BPF_CORE_READ(mm, arg_end);
	len = end > start ? end - start : 0;
	if (len >= ARGS_MAX) {
		len = ARGS_MAX - 1;
		e->args_truncated = 1;
	}
	len &= ARGS_MAX - 1;
	if (bpf_probe_read_user(r->data + fn_len, len, (void *)start))
		len = 0;
	e->args_len = len;

	size = sizeof(*e) + fn_len + len;
	if (size > sizeof(*r))
		return 0;
	if (bpf_ringbuf_output(&events, r, size, wakeup_flag()))
		count_lost(LOST_RING_FULL);
	return 0;
}

static __always_inline bool alive(struct task_struct *t)
{
	return BPF_CORE_READ(t, signal, live.counter) > 0 && !(BPF_CORE_READ(t, flags) & PF_EXITING);
}

/* Where the kernel's find_new_reaper() will move the children of a process
 * whose last thread is exiting: the nearest living ancestor in the same pid
 * namespace that is a child subreaper, else the namespace's init. User space
 * cannot see subreapers, so the exit event says it. */
static __always_inline __u32 find_reaper(struct task_struct *task)
{
	struct pid *pid = BPF_CORE_READ(task, thread_pid);
	unsigned int level = BPF_CORE_READ(pid, level);
	struct upid upid = {};
	struct task_struct *init, *p = task;
	struct signal_struct *signal = BPF_CORE_READ(task, signal);

	bpf_core_read(&upid, sizeof(upid), &pid->numbers[level]);
	init = BPF_CORE_READ(upid.ns, child_reaper);
	if (BPF_CORE_READ_BITFIELD_PROBED(signal, has_child_subreaper)) {
		for (int i = 0; i < MAX_REAPER_DEPTH; i++) {
			p = BPF_CORE_READ(p, real_parent);
			if (!p || p == init || BPF_CORE_READ(p, thread_pid, level) != level)
				break;
			signal = BPF_CORE_READ(p, signal);
			if (BPF_CORE_READ_BITFIELD_PROBED(signal, is_child_subreaper) && alive(p))
				return BPF_CORE_READ(p, tgid);
		}
	}
	return BPF_CORE_READ(init, tgid);
}

static __always_inline int on_exit(struct task_struct *task)
{
	struct signal_struct *signal = BPF_CORE_READ(task, signal);
	__u32 pid = BPF_CORE_READ(task, tgid);
	bool pass;
	struct event *e;
	char comm[TASK_COMM_LEN];

	/* Threads leave silently; the process exits with its last thread. */
	if (BPF_CORE_READ(signal, live.counter) != 0)
		return 0;
	struct process_key key = {
		.pid = pid,
		.start_ns = BPF_CORE_READ(task, group_leader, start_boottime),
	};
	/* Other threads not yet released may have found the count at zero too. */
	if (BPF_CORE_READ(signal, nr_threads) > 1) {
		__u8 one = 1;

		/* Compared as an int: before Linux 6.4 the map's update returns an
		 * int that reaches the program without its upper 32 bits. */
		if ((int)bpf_map_update_elem(&exited, &key, &one, BPF_NOEXIST) == -EEXIST)
			return 0;
	} else if (BPF_CORE_READ(signal, sum_sched_runtime) && bpf_map_lookup_elem(&exited, &key)) {
		/* A count of one here may be a leader whose siblings were
		 * released (and counted out) first: one of them may have
		 * reported. A released thread adds its accounted run time to
		 * the signal struct; while that is zero no thread ever left,
		 * and the common single-threaded exit skips the lookup, whose
		 * cold hash bucket costs more than the rest of this hook. (A
		 * sibling released within a tick of its start, never switched
		 * out, adds nothing: there a double report stays possible.) The
		 * entry is left to LRU: a lookup takes no lock, a delete would. */
		return 0;
	}

	current_comm(comm);
	pass = passes(pid, comm);
	if (filter_followed || follow_shims)
		bpf_map_delete_elem(&followed, &pid);
	if (!pass)
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(LOST_RING_FULL);
		return 0;
	}
	fill_common(e, task, EVENT_EXIT);
	/* What wait(2) reports: the group's code after exit_group() or a fatal
	 * signal, else the code the leader thread passed to exit(2), even when
	 * the leader exited before the last thread. */
	if (BPF_CORE_READ(signal, flags) & SIGNAL_GROUP_EXIT)
		e->exit_status = BPF_CORE_READ(signal, group_exit_code);
	else
		e->exit_status = BPF_CORE_READ(task, group_leader, exit_code);
	e->reaper = find_reaper(task);
	bpf_ringbuf_submit(e, wakeup_flag());
	return 0;
}

/* A command name set by prctl(PR_SET_NAME) or a write to /proc/PID/comm; the
 * one an exec sets is in the exec event. Only the leader's name is the
 * process's (/proc/PID/comm), so other threads' renames are not reported. */
static __always_inline int on_rename(struct task_struct *task, const char *comm)
{
	__u32 pid = BPF_CORE_READ(task, tgid);
	struct event *e;
	char name[TASK_COMM_LEN] = {};

	if (BPF_CORE_READ(task, pid) != pid || BPF_CORE_READ_BITFIELD_PROBED(task, in_execve))
		return 0;
	bpf_probe_read_kernel_str(name, sizeof(name), comm);
	if (!passes(pid, name))
		return 0;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		count_lost(LOST_RING_FULL);
		return 0;
	}
	fill_common(e, task, EVENT_RENAME);
	/* The task may be another thread of the caller's group, and the new
	 * name is not in place yet when the tracepoint fires. */
	__builtin_memcpy(e->comm, name, TASK_COMM_LEN);
	bpf_ringbuf_submit(e, wakeup_flag());
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(fork_btf, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(child);
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(exec_btf, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(task, old_pid, bprm);
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(exit_btf, struct task_struct *task)
{
	return on_exit(task);
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(fork_raw, struct task_struct *parent, struct task_struct *child)
{
	return on_fork(child);
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(exec_raw, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	return on_exec(task, old_pid, bprm);
}

SEC("raw_tp/sched_process_exit")
int BPF_PROG(exit_raw, struct task_struct *task)
{
	return on_exit(task);
}

SEC("tp_btf/task_rename")
int BPF_PROG(rename_btf, struct task_struct *task, const char *comm)
{
	return on_rename(task, comm);
}

SEC("raw_tp/task_rename")
int BPF_PROG(rename_raw, struct task_struct *task, const char *comm)
{
	return on_rename(task, comm);
}
