#!/usr/bin/env bash
# Usage: accel.sh QEMU CONSOLE KERNEL INITRD [QEMU-OPTION...]
# Decides how vmtest runs guests of this machine's architecture: prints "kvm" or "tcg", a
# space, and why. KVM is used only when a guest really runs under it: a writable /dev/kvm is
# not enough (on a nested host without working virtualization `-cpu host` aborts on an MSR, and
# other CPU models hang in the firmware). So QEMU (with the QEMU-OPTIONs, e.g. a machine type)
# boots KERNEL with INITRD (the probe initramfs, whose init prints VMTEST-PROBE-OK and powers
# off) under KVM with its console on CONSOLE, and KVM is chosen when that line comes in time.
# Environment: VMTEST_ACCEL=auto|kvm|tcg (default auto; kvm fails, with the reason, where KVM
# does not work), VMTEST_PROBE_TIMEOUT (seconds, default 10: a KVM boot of the probe takes
# about one), VMTEST_KVM_DEVICE (default /dev/kvm).
set -euo pipefail

qemu=$1 console=$2 kernel=$3 initrd=$4
shift 4
mode=${VMTEST_ACCEL:-auto}
device=${VMTEST_KVM_DEVICE:-/dev/kvm}
probe_timeout=${VMTEST_PROBE_TIMEOUT:-10}

case $mode in
auto | kvm | tcg) ;;
*)
	echo "vmtest: VMTEST_ACCEL=$mode: use auto, kvm or tcg" >&2
	exit 1
	;;
esac
if [ "$mode" = tcg ]; then
	echo "tcg VMTEST_ACCEL=tcg"
	exit 0
fi

# unusable REASON: KVM cannot run the guests.
unusable() {
	if [ "$mode" = kvm ]; then
		echo "vmtest: VMTEST_ACCEL=kvm but KVM is unusable ($1)" >&2
		exit 1
	fi
	echo "vmtest: KVM present but unusable ($1): using TCG" >&2
	echo "tcg KVM unusable"
	exit 0
}

if [ ! -e "$device" ]; then
	[ "$mode" = kvm ] || { echo "tcg no $device"; exit 0; }
	unusable "no $device"
fi
[ -w "$device" ] || unusable "$device is not writable"

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# The group's redirection keeps bash's own word on a qemu that died of a signal ("Aborted")
# off the terminal: the reason below says it.
{
	timeout -k 2 "$probe_timeout" "$qemu" "$@" -accel kvm -cpu host -smp 2 -m 256 -nographic -no-reboot -nic none \
		-kernel "$kernel" -initrd "$initrd" -append "console=$console panic=-1 quiet" </dev/null >"$log" 2>&1
} 2>/dev/null || status=$?
if tr -d '\r' <"$log" | grep -q '^VMTEST-PROBE-OK$'; then
	echo "kvm probe booted"
	exit 0
fi
# qemu's own complaint (an error, a failed assertion) says best why.
why=$(tr -d '\r' <"$log" | grep -av 'terminating on signal' | grep -a -m1 -E 'error|Assertion|failed|qemu-system' | cut -c1-160 || true)
case $status in
124 | 137) unusable "no probe line within ${probe_timeout}s${why:+: $why}" ;;
0) unusable "the probe guest stopped without its line${why:+: $why}" ;;
*) unusable "qemu exited with status $status${why:+: $why}" ;;
esac
