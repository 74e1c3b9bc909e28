#!/usr/bin/env bash
# Usage: debian-kernel.sh NAME SUITE FLAVOUR ARCH CACHE
# Prints the path of the kernel image of Debian's newest linux-image-SERIES.*-FLAVOUR (SERIES
# is NAME up to its first "-"; ARCH in FLAVOUR stands for ARCH) in SUITE and SUITE-security,
# fetched by debian-deb.sh and extracted once into CACHE/kernels.
set -euo pipefail

name=$1 suite=$2 flavour=$3 arch=$4 cache=$5
here=$(cd "$(dirname "$0")" && pwd)
series=${name%%-*}

deb=$("$here/debian-deb.sh" "$suite" "$arch" "linux-image-${series//./\\.}\\.[0-9][^ ]*-${flavour//ARCH/$arch}" "$cache")
mkdir -p "$cache/kernels"
vmlinuz=$cache/kernels/$(basename "$deb" .deb).vmlinuz
if [ ! -s "$vmlinuz" ]; then
	dpkg-deb --fsys-tarfile "$deb" | tar -xO --wildcards './boot/vmlinuz-*' >"$vmlinuz.tmp" || {
		echo "vmtest: $name $arch: no /boot/vmlinuz-* in $deb" >&2
		exit 1
	}
	mv "$vmlinuz.tmp" "$vmlinuz"
fi
echo "$vmlinuz"
