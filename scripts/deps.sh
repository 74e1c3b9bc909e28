#!/usr/bin/env bash
# Installs the Debian packages the build checks and tests use, where missing.
set -euo pipefail

pkgs=(
	clang llvm libbpf-dev bpftool     # make generate (regeneration check)
	docker.io containerd runc busybox-static  # container tests, test image
	qemu-system-x86 qemu-system-arm cpio zstd  # vmtest
	prometheus                        # metrics tests: a real server, and promtool
)
exec "$(dirname "$0")/apt-install.sh" deps "${pkgs[@]}"
