// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The floor under pstrace's in-kernel cost on a given machine: what a
 * program on sched_process_fork costs when it does nothing, and when it
 * only queues one event-sized record in a ring buffer, as each pstrace hook
 * does at least once. The benchmark attaches one at a time. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include "pstrace.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} records SEC(".maps");

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
