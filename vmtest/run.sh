#!/usr/bin/env bash
# Usage: vmtest/run.sh [NAME...]
# Runs pstrace's test binaries, built from the current tree for each guest's architecture, as
# root in qemu VMs, one per kernel and architecture, and prints one table of results. NAME is a
# series listed in vmtest/kernels (a Debian cloud kernel, for each architecture listed there)
# or "host" (this machine's /boot/vmlinuz-$(uname -r)); no NAME means all.
# Exits non-zero when a kernel failed, did not report, or could not be had (a missing host
# kernel image is only reported), or when no kernel ran.
# Environment: VMTEST_ARCH (amd64 or arm64: only that architecture's guests), VMTEST_TIMEOUT
# (seconds per guest; default 600 for a guest of this machine's architecture, 1200 for an
# emulated one), VMTEST_RUN (a -test.run regex), VMTEST_VERBOSE=1 (stream the guest consoles),
# VMTEST_REFRESH=1 (re-read Debian's lists), VMTEST_ACCEL=auto|kvm|tcg (default auto: KVM when
# a probe guest boots under it; see accel.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=$here/.cache
started=$(date +%s)
. "$here/arch.sh"

case ${VMTEST_ACCEL:-auto} in
auto | kvm | tcg) ;;
*)
	echo "vmtest: VMTEST_ACCEL=$VMTEST_ACCEL: use auto, kvm or tcg" >&2
	exit 1
	;;
esac
# The kernel's names for the architectures are taken too.
case ${VMTEST_ARCH:-} in
x86_64) VMTEST_ARCH=amd64 ;;
aarch64) VMTEST_ARCH=arm64 ;;
esac
[ -z "${VMTEST_ARCH:-}" ] || arch_setup "$VMTEST_ARCH"

# The guests, "ARCH NAME SUITE FLAVOUR" each (- - for host), in the order of vmtest/kernels.
guests=()
declare -A known
while read -r name suite flavour arches; do
	for arch in $arches; do
		known[$name]+=" $arch"
		guests+=("$arch $name $suite $flavour")
	done
done < <(sed '/^#/d; /^[[:space:]]*$/d' "$here/kernels")
guests+=("$host_arch host - -")
known[host]=" $host_arch"
for name in "$@"; do
	if [ -z "${known[$name]:-}" ]; then
		echo "vmtest: unknown kernel $name: use one of $(printf '%s\n' "${!known[@]}" | sort -V | xargs) (see vmtest/kernels)" >&2
		exit 1
	fi
	if [ -n "${VMTEST_ARCH:-}" ] && [[ "${known[$name]} " != *" $VMTEST_ARCH "* ]]; then
		echo "vmtest: kernel $name is not listed for $VMTEST_ARCH in vmtest/kernels (only for${known[$name]})" >&2
		exit 1
	fi
done
selected=()
for guest in "${guests[@]}"; do
	read -r arch name _ <<<"$guest"
	[ -z "${VMTEST_ARCH:-}" ] || [ "$arch" = "$VMTEST_ARCH" ] || continue
	[ $# -eq 0 ] || [[ " $* " == *" $name "* ]] || continue
	selected+=("$guest")
done

# Each architecture's qemu and initramfs, once.
mkdir -p "$cache/logs"
archs=$(printf '%s\n' "${selected[@]}" | awk '{print $1}' | sort -u)
for arch in $archs; do
	arch_setup "$arch"
	command -v "$qemu" >/dev/null || {
		echo "vmtest: $qemu not found: apt-get install $qemu_pkg" >&2
		exit 1
	}
	echo "vmtest: building the $arch test binaries and initramfs"
	"$here/initramfs.sh" "$cache/initramfs-$arch.cpio.gz" "$arch" "$(busybox_for "$arch")"
done

rows=() failed=0 ran=0 total_pass=0 total_fail=0
# field NAME: the value of NAME=... in the guest's VMTEST-RESULT line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$result"; }
# unfinished CONSOLE: the tests that started and never ended, the list Go prints when a test
# binary times out, and the kernel's own messages (warnings and worse, with their stacks);
# goroutine dumps and test logs push these out of the console's last lines.
unfinished() {
	awk '/^ *=== RUN/ { running[$3] = NR } /^ *--- (PASS|FAIL|SKIP)/ { delete running[$3] }
		END { for (t in running) print running[t], t }' <<<"$1" | sort -n |
		awk '{ print "vmtest: '"$id"': started and never ended: " $2 }'
	sed -n '/^panic: test timed out/,/^$/p' <<<"$1" | sed 's/^/    /'
	grep -a '^\[ *[0-9]*\.[0-9]*\] ' <<<"$1" | grep -av 'reboot: Power down' | head -n 200 | sed 's/^/    kernel: /'
}
row() { rows+=("$(printf '%-6s %-8s %-32s %-10s %6s %6s %6s %7s %7s' "$@")"); }

for guest in "${selected[@]}"; do
	read -r arch name suite flavour <<<"$guest"
	arch_setup "$arch"
	if [ "$name" = host ]; then
		vmlinuz=/boot/vmlinuz-$(uname -r)
		if [ ! -r "$vmlinuz" ]; then
			echo "vmtest: $arch/host: no kernel image at $vmlinuz on this machine: host kernel not tested"
			row "$arch" host "$(uname -r)" "no image" - - - - -
			continue
		fi
	elif ! vmlinuz=$("$here/debian-kernel.sh" "$name" "$suite" "$flavour" "$arch" "$cache"); then
		row "$arch" "$name" - "no kernel" - - - - -
		failed=1 total_fail=$((total_fail + 1))
		continue
	fi

	choose_accel "$arch" "$vmlinuz"
	timeout=${VMTEST_TIMEOUT:-$default_timeout}
	# The guest stops its tests a minute before the host would kill it (boot takes seconds).
	# Its kernel prints warnings and the stacks behind them, not the boot's chatter; a CPU
	# stuck in the kernel gets every CPU's stack printed.
	append="console=$console panic=-1 loglevel=5 softlockup_all_cpu_backtrace=1 VMTEST_DEADLINE=$((timeout - 60))"
	[ -z "${VMTEST_RUN:-}" ] || append+=" VMTEST_RUN=$VMTEST_RUN"
	initrd=$cache/initramfs-$arch.cpio.gz
	id=$arch/$name
	log=$cache/logs/$arch-$name.log
	echo "vmtest: $id: booting $(basename "$vmlinuz") (log: $log)"
	t0=$(date +%s)
	status=0
	if [ "${VMTEST_VERBOSE:-}" = 1 ]; then
		timeout -k 10 "$timeout" "$qemu" "${machine[@]}" "${accel[@]}" -smp 2 -m 1536 -nographic -no-reboot -nic none \
			-kernel "$vmlinuz" -initrd "$initrd" -append "$append" </dev/null 2>&1 | tee "$log" || status=$?
	else
		timeout -k 10 "$timeout" "$qemu" "${machine[@]}" "${accel[@]}" -smp 2 -m 1536 -nographic -no-reboot -nic none \
			-kernel "$vmlinuz" -initrd "$initrd" -append "$append" </dev/null >"$log" 2>&1 || status=$?
	fi
	secs=$(($(date +%s) - t0))
	ran=$((ran + 1))

	console=$(tr -d '\r' <"$log")
	booted=$(sed -n 's/.*VMTEST-BOOTED .*uptime=\([0-9.]*\).*/\1/p' <<<"$console" | head -n1)
	result=$(grep -m1 '^VMTEST-RESULT ' <<<"$console" || true)
	if [ -z "$result" ]; then
		if [ "$status" = 124 ] || [ "$status" = 137 ]; then
			echo "vmtest: $id: no result within ${timeout}s (VMTEST_TIMEOUT); the console's last lines:"
			verdict=timeout
		else
			echo "vmtest: $id: the guest stopped without a result (qemu status $status); the console's last lines:"
			verdict="no result"
		fi
		tail -n 40 <<<"$console" | sed 's/^/    /'
		unfinished "$console"
		release=$(basename "$vmlinuz" .vmlinuz)
		release=${release#linux-image-}
		row "$arch" "$name" "${release%%_*}" "$verdict" - - - "${booted:+${booted}s}" "${secs}s"
		failed=1 total_fail=$((total_fail + 1))
		continue
	fi
	pass=$(field pass) fail=$(field fail)
	total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail))
	verdict=ok
	if [ "$fail" != 0 ] || [ "$pass" = 0 ]; then
		verdict=FAIL failed=1
		echo "vmtest: $id: $fail failed, $pass passed (console: $log)"
		[ "${VMTEST_VERBOSE:-}" = 1 ] || sed 's/^/    /' <<<"$console"
	fi
	row "$arch" "$name" "$(field kernel)" "$verdict" "$pass" "$fail" "$(field skip)" "${booted}s" "${secs}s"
done

echo
printf '%-6s %-8s %-32s %-10s %6s %6s %6s %7s %7s\n' arch kernel release result passed failed skipped boot time
printf '%s\n' "${rows[@]}"
echo "vmtest: $ran guests booted in $(($(date +%s) - started))s"
for arch in $(printf '%s\n' "${!accel_why[@]}" | sort); do
	echo "vmtest: $arch guests' accelerator: ${accel_why[$arch]}"
done
echo "vmtest: $total_pass passed, $total_fail failed"
[ "$ran" -gt 0 ] || { echo "vmtest: no kernel ran" >&2; exit 1; }
exit "$failed"
