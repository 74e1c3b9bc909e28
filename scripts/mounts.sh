#!/usr/bin/env bash
# Mounts tracefs (/sys/kernel/tracing) and debugfs (/sys/kernel/debug) where they are not
# mounted, as on a machine booted without systemd: tools that attach to syscall tracepoints
# (execsnoop, bpftrace, the benchmark's peers and any test that runs one) find the tracepoints'
# ids there. pstrace itself needs neither. Without root it only says what is missing.
set -euo pipefail

# ensure TYPE DIR mounts a TYPE file system at DIR unless one is there.
ensure() {
	local type=$1 dir=$2
	mountpoint -q "$dir" && return 0
	if [ "$(id -u)" -ne 0 ]; then
		echo "mounts: $type is not mounted at $dir, and only root can mount it" >&2
		return 0
	fi
	if ! out=$(mount -t "$type" "$type" "$dir" 2>&1); then
		echo "mounts: cannot mount $type at $dir: $out" >&2
		exit 1
	fi
	echo "mounts: mounted $type at $dir"
}

ensure debugfs /sys/kernel/debug
ensure tracefs /sys/kernel/tracing
