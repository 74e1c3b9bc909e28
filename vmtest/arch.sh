# Sourced by run.sh: how vmtest runs a guest of each architecture. Needs here and cache.

# host_arch is this machine's architecture, in Debian's and Go's words.
case $(uname -m) in
x86_64) host_arch=amd64 ;;
aarch64) host_arch=arm64 ;;
*) host_arch=$(uname -m) ;;
esac

# arch_setup ARCH sets, for guests of ARCH: qemu (the emulator), machine (its options before
# the accelerator's), console (the kernel's console device), tcg (qemu's options without
# KVM), qemu_pkg (the Debian package with qemu) and default_timeout (seconds per guest).
arch_setup() {
	case $1 in
	amd64)
		qemu=qemu-system-x86_64 qemu_pkg=qemu-system-x86 console=ttyS0 machine=()
		# Both vCPUs in one emulator thread. With a thread each, a 5.10 guest locked up about
		# once in 20 runs: while one vCPU patched a tracepoint's call site in do_exit (a
		# tracer attaching or detaching during a fork churn), the other looped on the site's
		# int3 in exit_group and both stayed stuck (soft lockups on both CPUs, RCU stalls).
		tcg=(-accel tcg,thread=single)
		default_timeout=600
		;;
	arm64)
		qemu=qemu-system-aarch64 qemu_pkg=qemu-system-arm console=ttyAMA0 machine=(-M virt)
		# A thread per vCPU: arm64 patches a tracepoint's branch with one atomic store, which
		# a CPU running through it may see before or after, never half done. pauth-impdef
		# swaps the architected pointer-authentication hash, slow to emulate, for a cheap one.
		tcg=(-accel tcg -cpu max,pauth-impdef=on)
		default_timeout=1200
		;;
	*)
		echo "vmtest: unknown architecture $1: use amd64 or arm64" >&2
		exit 1
		;;
	esac
}

# busybox_for ARCH prints the path of a static busybox for ARCH: the host's own, or the one of
# Debian bookworm's busybox-static for ARCH, fetched once.
busybox_for() {
	if [ "$1" = "$host_arch" ]; then
		command -v busybox
		return
	fi
	local bin=$cache/busybox-$1 deb
	if [ ! -s "$bin" ]; then
		deb=$("$here/debian-deb.sh" bookworm "$1" busybox-static "$cache")
		dpkg-deb --fsys-tarfile "$deb" | tar -xO ./bin/busybox >"$bin.tmp"
		mv "$bin.tmp" "$bin"
	fi
	echo "$bin"
}

# Per architecture, once a run: qemu's accelerator options and why they were chosen.
declare -A accel_opts accel_why

# choose_accel ARCH VMLINUZ sets accel (qemu's accelerator options) for ARCH's guests. Where
# ARCH is the host's, KVM is used when VMLINUZ boots under it with the probe initramfs
# (vmtest/accel.sh); a forced VMTEST_ACCEL=kvm that does not work ends the run.
choose_accel() {
	local arch=$1 vmlinuz=$2 probe choice
	if [ -z "${accel_opts[$arch]:-}" ]; then
		if [ "$arch" != "$host_arch" ]; then
			accel_opts[$arch]="${tcg[*]}" accel_why[$arch]="tcg (emulated on $host_arch)"
		else
			probe=$cache/probe-$arch.cpio.gz
			[ "${VMTEST_ACCEL:-auto}" = tcg ] || "$here/initramfs.sh" --probe "$probe"
			choice=$("$here/accel.sh" "$qemu" "$console" "$vmlinuz" "$probe" "${machine[@]}") || exit 1
			if [ "${choice%% *}" = kvm ]; then
				accel_opts[$arch]="-accel kvm -cpu host"
			else
				accel_opts[$arch]="${tcg[*]}"
			fi
			accel_why[$arch]="${choice%% *} (${choice#* })"
		fi
	fi
	read -ra accel <<<"${accel_opts[$arch]}"
}
