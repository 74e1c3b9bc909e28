/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* The record the BPF program writes to the ring buffer. It is defined once,
 * here; Go uses the type bpf2go generates from it. */
#ifndef PSTRACE_H
#define PSTRACE_H

#define TASK_COMM_LEN 16
/* Bytes of the exec'd path kept; a power of two so a mask bounds it. */
#define FILENAME_MAX_LEN 512
/* Bytes of argv kept, at most ARGS_MAX - 1; a power of two for the same reason. */
#define ARGS_MAX 16384

enum event_type {
	EVENT_FORK = 1,
	EVENT_EXEC = 2,
	EVENT_EXIT = 3,
	EVENT_RENAME = 4, /* the process's command name changed outside an exec */
};

/* Why a record was dropped: the index of the lost map's per-CPU counters. */
enum lost_reason {
	LOST_RING_FULL = 0,	/* the ring buffer had no room */
	LOST_FOLLOW_FULL = 1,	/* the followed set had no room: a child will not be followed */
	LOST_REASONS = 2,
};

/* A fixed header; an exec record is followed by filename_len bytes of path
 * and args_len bytes of NUL-separated argv, and nothing else. */
struct event {
	__u64 time_ns;	/* CLOCK_BOOTTIME of the event */
	__u64 start_ns; /* CLOCK_BOOTTIME start of the process */
	__u64 cgroup_id;
	enum event_type type;
	__u32 pid;	/* thread group id */
	__u32 tid;	/* fork: the child; exec: the thread that called execve; exit: the last thread */
	__u32 ppid;	/* real_parent's thread group id */
	__u32 uid;
	__u32 gid;
	__u32 ns_pid;	/* pid inside the process's own pid namespace */
	__u32 exit_status; /* exit: wait(2) status */
	__u32 reaper;	/* exit: the process that inherits this one's children */
	__u16 filename_len;
	__u8 args_truncated;	/* exec: argv was longer than what was kept */
	__u8 filename_truncated; /* exec: the path was longer than what was kept */
	__u32 args_len;
	char comm[TASK_COMM_LEN];
};

/* The largest record: an exec event with its path and argv. */
struct exec_record {
	struct event hdr;
	char data[FILENAME_MAX_LEN + ARGS_MAX];
};

#endif
