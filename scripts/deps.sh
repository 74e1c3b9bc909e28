#!/usr/bin/env bash
# Installs the Debian packages the build checks and tests use, where missing.
set -euo pipefail

pkgs=(
	clang llvm libbpf-dev bpftool     # make generate (regeneration check)
	docker.io containerd runc busybox-static  # container tests, test image
	qemu-system-x86 cpio zstd         # vmtest
	prometheus                        # metrics tests: a real server, and promtool
)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages (${missing[*]}); run as root or install them with apt-get" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
# Installed, never started: Debian would start prometheus (on :9090) and dockerd
# from their init scripts; the tests and scripts/engine.sh start what they need.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
