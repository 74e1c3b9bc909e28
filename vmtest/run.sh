#!/usr/bin/env bash
# Usage: vmtest/run.sh [NAME...]
# Runs pstrace's test binaries, built from the current tree, as root in qemu VMs, one per
# kernel, and prints one table of results. NAME is a series listed in vmtest/kernels (a Debian
# cloud kernel) or "host" (this machine's /boot/vmlinuz-$(uname -r)); no NAME means all.
# Exits non-zero when a kernel failed, did not report, or could not be had (a missing host
# kernel image is only reported), or when no kernel ran.
# Environment: VMTEST_TIMEOUT (seconds per kernel, default 600), VMTEST_RUN (a -test.run
# regex), VMTEST_VERBOSE=1 (stream the guest consoles), VMTEST_REFRESH=1 (re-read Debian's lists),
# VMTEST_ACCEL=auto|kvm|tcg (default auto: KVM when a probe guest boots under it; see accel.sh).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=$here/.cache
timeout=${VMTEST_TIMEOUT:-600}
started=$(date +%s)

case ${VMTEST_ACCEL:-auto} in
auto | kvm | tcg) ;;
*)
	echo "vmtest: VMTEST_ACCEL=$VMTEST_ACCEL: use auto, kvm or tcg" >&2
	exit 1
	;;
esac
command -v qemu-system-x86_64 >/dev/null || {
	echo "vmtest: qemu-system-x86_64 not found: apt-get install qemu-system-x86" >&2
	exit 1
}

declare -A suites
while read -r name suite; do
	suites[$name]=$suite
done < <(sed '/^#/d; /^[[:space:]]*$/d' "$here/kernels")
names=("$@")
[ ${#names[@]} -gt 0 ] || names=($(sed '/^#/d; /^[[:space:]]*$/d' "$here/kernels" | awk '{print $1}') host)
for name in "${names[@]}"; do
	if [ "$name" != host ] && [ -z "${suites[$name]:-}" ]; then
		echo "vmtest: unknown kernel $name: use host or one of ${!suites[*]} (see vmtest/kernels)" >&2
		exit 1
	fi
done

mkdir -p "$cache/logs"
initrd=$cache/initramfs.cpio.gz
echo "vmtest: building the test binaries and the initramfs"
"$here/initramfs.sh" "$initrd"

# choose_accel VMLINUZ sets accel (qemu's options) and accel_why, once per run, by booting
# VMLINUZ with the probe initramfs under KVM (vmtest/accel.sh). Without KVM both vCPUs run in
# one emulator thread. With a thread each, a 5.10 guest locked up about once in 20 runs: while
# one vCPU patched a tracepoint's call site in do_exit (a tracer attaching or detaching during
# a fork churn), the other looped on the site's int3 in exit_group and both stayed stuck (soft
# lockups on both CPUs, RCU stalls).
accel=()
choose_accel() {
	[ ${#accel[@]} -eq 0 ] || return 0
	local probe=$cache/probe.cpio.gz choice
	[ "${VMTEST_ACCEL:-auto}" = tcg ] || "$here/initramfs.sh" --probe "$probe"
	choice=$("$here/accel.sh" qemu-system-x86_64 "$1" "$probe") || exit 1
	accel_why=${choice#* }
	if [ "${choice%% *}" = kvm ]; then
		accel=(-accel kvm -cpu host)
	else
		accel=(-accel tcg,thread=single)
	fi
}

# The guest stops its tests a minute before the host would kill it (boot takes seconds). Its
# kernel prints warnings and the stacks behind them, not the boot's chatter; a CPU stuck in the
# kernel gets every CPU's stack printed.
append="console=ttyS0 panic=-1 loglevel=5 softlockup_all_cpu_backtrace=1 VMTEST_DEADLINE=$((timeout - 60))"
[ -z "${VMTEST_RUN:-}" ] || append+=" VMTEST_RUN=$VMTEST_RUN"

rows=() failed=0 ran=0 total_pass=0 total_fail=0
# field NAME: the value of NAME=... in the guest's VMTEST-RESULT line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$result"; }
# unfinished CONSOLE: the tests that started and never ended, the list Go prints when a test
# binary times out, and the kernel's own messages (warnings and worse, with their stacks);
# goroutine dumps and test logs push these out of the console's last lines.
unfinished() {
	awk '/^ *=== RUN/ { running[$3] = NR } /^ *--- (PASS|FAIL|SKIP)/ { delete running[$3] }
		END { for (t in running) print running[t], t }' <<<"$1" | sort -n |
		awk '{ print "vmtest: '"$name"': started and never ended: " $2 }'
	sed -n '/^panic: test timed out/,/^$/p' <<<"$1" | sed 's/^/    /'
	grep -a '^\[ *[0-9]*\.[0-9]*\] ' <<<"$1" | grep -av 'reboot: Power down' | head -n 200 | sed 's/^/    kernel: /'
}
row() { rows+=("$(printf '%-6s %-28s %-14s %6s %6s %6s %7s %7s' "$@")"); }

for name in "${names[@]}"; do
	if [ "$name" = host ]; then
		vmlinuz=/boot/vmlinuz-$(uname -r)
		if [ ! -r "$vmlinuz" ]; then
			echo "vmtest: host: no kernel image at $vmlinuz on this machine: host kernel not tested"
			row host "$(uname -r)" "no image" - - - - -
			continue
		fi
	elif ! vmlinuz=$("$here/debian-kernel.sh" "$name" "${suites[$name]}" "$cache"); then
		row "$name" - "no kernel" - - - - -
		failed=1 total_fail=$((total_fail + 1))
		continue
	fi

	choose_accel "$vmlinuz"
	log=$cache/logs/$name.log
	echo "vmtest: $name: booting $(basename "$vmlinuz") (log: $log)"
	t0=$(date +%s)
	status=0
	if [ "${VMTEST_VERBOSE:-}" = 1 ]; then
		timeout -k 10 "$timeout" qemu-system-x86_64 "${accel[@]}" -smp 2 -m 1536 -nographic -no-reboot -nic none \
			-kernel "$vmlinuz" -initrd "$initrd" -append "$append" </dev/null 2>&1 | tee "$log" || status=$?
	else
		timeout -k 10 "$timeout" qemu-system-x86_64 "${accel[@]}" -smp 2 -m 1536 -nographic -no-reboot -nic none \
			-kernel "$vmlinuz" -initrd "$initrd" -append "$append" </dev/null >"$log" 2>&1 || status=$?
	fi
	secs=$(($(date +%s) - t0))
	ran=$((ran + 1))

	console=$(tr -d '\r' <"$log")
	booted=$(sed -n 's/.*VMTEST-BOOTED .*uptime=\([0-9.]*\).*/\1/p' <<<"$console" | head -n1)
	result=$(grep -m1 '^VMTEST-RESULT ' <<<"$console" || true)
	if [ -z "$result" ]; then
		if [ "$status" = 124 ] || [ "$status" = 137 ]; then
			echo "vmtest: $name: no result within ${timeout}s (VMTEST_TIMEOUT); the console's last lines:"
			verdict=timeout
		else
			echo "vmtest: $name: the guest stopped without a result (qemu status $status); the console's last lines:"
			verdict="no result"
		fi
		tail -n 40 <<<"$console" | sed 's/^/    /'
		unfinished "$console"
		row "$name" "$(basename "$vmlinuz" .vmlinuz)" "$verdict" - - - "${booted:+${booted}s}" "${secs}s"
		failed=1 total_fail=$((total_fail + 1))
		continue
	fi
	pass=$(field pass) fail=$(field fail)
	total_pass=$((total_pass + pass)) total_fail=$((total_fail + fail))
	verdict=ok
	if [ "$fail" != 0 ] || [ "$pass" = 0 ]; then
		verdict=FAIL failed=1
		echo "vmtest: $name: $fail failed, $pass passed (console: $log)"
		[ "${VMTEST_VERBOSE:-}" = 1 ] || sed 's/^/    /' <<<"$console"
	fi
	row "$name" "$(field kernel)" "$verdict" "$pass" "$fail" "$(field skip)" "${booted}s" "${secs}s"
done

echo
printf '%-6s %-28s %-14s %6s %6s %6s %7s %7s\n' kernel release result passed failed skipped boot time
printf '%s\n' "${rows[@]}"
echo "vmtest: $((ran)) kernels booted in $(($(date +%s) - started))s"
[ ${#accel[@]} -eq 0 ] || echo "vmtest: accelerator: ${accel[1]%%,*} ($accel_why)"
echo "vmtest: $total_pass passed, $total_fail failed"
[ "$ran" -gt 0 ] || { echo "vmtest: no kernel ran" >&2; exit 1; }
exit "$failed"
