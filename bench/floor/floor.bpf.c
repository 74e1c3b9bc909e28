// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The floor under pstrace's in-kernel cost on a given machine: what a
 * program on sched_process_fork costs when it does nothing, when it only
 * queues one event-sized record in a ring buffer, as each pstrace hook does
 * at least once, and when it writes its event to per-CPU memory instead, as
 * a design that batches records would. Last, the least a tracer of the same
 * three events can do: time-stamped records in per-CPU memory, with exec's
 * path and argv and nothing else. The benchmark attaches one case at a time. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "pstrace.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} records SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct event);
} slot SEC(".maps");

SEC("tp_btf/sched_process_fork")
int BPF_PROG(empty, struct task_struct *parent, struct task_struct *child)
{
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(ring_record, struct task_struct *parent, struct task_struct *child)
{
	struct event *e = bpf_ringbuf_reserve(&records, sizeof(*e), 0);

	if (!e)
		return 0;
	e->type = EVENT_FORK;
	bpf_ringbuf_submit(e, BPF_RB_NO_WAKEUP);
	return 0;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(percpu_event, struct task_struct *parent, struct task_struct *child)
{
	__u32 zero = 0;
	struct event *e = bpf_map_lookup_elem(&slot, &zero);

	if (!e)
		return 0;
	e->type = EVENT_FORK;
	e->pid = child->tgid;
	return 0;
}

/* The minimal lifecycle tracer: one per-CPU record, overwritten by each
 * event, as a batch's next slot would be. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_record);
} min_slot SEC(".maps");

static __always_inline struct event *min_event(__u32 type, __u32 pid)
{
	__u32 zero = 0;
	struct event *e = bpf_map_lookup_elem(&min_slot, &zero);

	if (!e)
		return NULL;
	/* Batches from different CPUs can only be merged by time. */
	e->time_ns = bpf_ktime_get_boot_ns();
	e->type = type;
	e->pid = pid;
	return e;
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(min_fork, struct task_struct *parent, struct task_struct *child)
{
	struct event *e;

	if (child->pid != child->tgid)
		return 0;
	e = min_event(EVENT_FORK, child->tgid);
	if (e)
		e->ppid = parent->tgid;
	return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(min_exec, struct task_struct *task, pid_t old_pid, struct linux_binprm *bprm)
{
	struct exec_record *r = (struct exec_record *)min_event(EVENT_EXEC, task->tgid);
	struct mm_struct *mm = task->mm;
	__u64 len = mm->arg_end - mm->arg_start;
	long n;

	if (!r)
		return 0;
	n = bpf_probe_read_kernel_str(r->data, FILENAME_MAX_LEN, bprm->filename);
	n = (n - 1) & (FILENAME_MAX_LEN - 1);
	len &= ARGS_MAX - 1;
	bpf_probe_read_user(r->data + n, len, (void *)mm->arg_start);
	r->hdr.args_len = len;
	return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(min_exit, struct task_struct *task)
{
	/* Threads leave silently; the process exits with its last thread. */
	if (task->signal->live.counter == 0)
		min_event(EVENT_EXIT, task->tgid);
	return 0;
}
