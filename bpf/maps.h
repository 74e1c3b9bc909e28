/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The settings, maps and filter of pstrace.bpf.c: what the hooks share, and
 * what user space sets before load and reads after. Included once. */
#ifndef PSTRACE_MAPS_H
#define PSTRACE_MAPS_H

/* Set by user space before load. */
const volatile __u64 wakeup_bytes = 65536;
const volatile bool filter_followed = false;
const volatile bool follow_shims = false;
const volatile bool filter_comm = false;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} events SEC(".maps");

/* Dropped records per CPU, by enum lost_reason. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, LOST_REASONS);
	__type(key, enum lost_reason);
	__type(value, __u64);
} lost SEC(".maps");

/* An exec record is assembled here, then copied to the ring at its exact size. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exec_record);
} scratch SEC(".maps");

/* Thread groups whose events pass the filter; a child inherits its parent's
 * entry. Preallocated: before Linux 6.1 a hash map that allocates at run time
 * is unsafe in a tracing program (the verifier says so with a WARNING). User
 * space shrinks it to one entry when no filter follows processes. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);
	__type(value, __u8);
} followed SEC(".maps");

/* A process, for as long as it lives: its pid and its start time. */
struct process_key {
	__u32 pid;
	__u32 pad;
	__u64 start_ns;
};

/* Multi-threaded processes whose exit was reported. Threads that exit
 * together can all find the live count at zero at sched_process_exit; the
 * first to insert its process here reports, the others stay silent. Entries
 * are left for LRU to drop. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct process_key);
	__type(value, __u8);
} exited SEC(".maps");

/* Command names (zero-padded) whose events pass the filter. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, char[TASK_COMM_LEN]);
	__type(value, __u8);
} comms SEC(".maps");

static __always_inline void count_lost(enum lost_reason reason)
{
	__u64 *n = bpf_map_lookup_elem(&lost, &reason);

	if (n)
		*n += 1;
}

/* Waking the reader costs more than the rest of a hook, so it only happens
 * once a backlog builds up; below that, user space drains on a timer. */
static __always_inline __u64 wakeup_flag(void)
{
	if (bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wakeup_bytes)
		return BPF_RB_FORCE_WAKEUP;
	return BPF_RB_NO_WAKEUP;
}

static __always_inline bool is_followed(__u32 tgid)
{
	return bpf_map_lookup_elem(&followed, &tgid) != NULL;
}

static __always_inline bool passes(__u32 tgid, const char *comm)
{
	if (filter_followed && !is_followed(tgid))
		return false;
	if (filter_comm && !bpf_map_lookup_elem(&comms, comm))
		return false;
	return true;
}

/* The current command name, zero-padded as the comms map's keys are: on some
 * kernels (6.1 among them) bpf_get_current_comm copies with strscpy, which
 * leaves the bytes after the name's NUL as they were. */
static __always_inline void current_comm(char comm[TASK_COMM_LEN])
{
	__builtin_memset(comm, 0, TASK_COMM_LEN);
	bpf_get_current_comm(comm, TASK_COMM_LEN);
}

#endif
