// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The floor under pstrace's in-kernel cost on a given machine: what a
 * program on sched_process_fork costs when it does nothing, when it only
 * queues one event-sized record in a ring buffer, as each pstrace hook does
 * at least once, and when it writes its event to per-CPU memory instead, as
 * a design that batches records would. The benchmark attaches one at a time. */
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
