#!/usr/bin/env bash
# Usage: initramfs.sh [--probe] OUT [GOARCH BUSYBOX]
# Builds the guest's initramfs (gzip'd cpio) from the current tree: static busybox and its
# applets, pstrace, every package's test binary (go test -c, static) beside a copy of the
# package's testdata, and vmtest/init as /init. With --probe, the accelerator probe's instead:
# busybox and an init that prints VMTEST-PROBE-OK and powers off. GOARCH and BUSYBOX (a static
# busybox of that architecture) build another architecture's; by default this machine's, with
# the busybox of Debian's busybox-static.
set -euo pipefail

probe=
[ "${1:-}" != --probe ] || { probe=1; shift; }
out=$1
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
go=${GO:-go}
host_busybox=$(command -v busybox || true)

# The guest has no libc: busybox must be the static build. Another architecture's cannot run
# here to list its applets, so the host's lists them: vmtest takes both from the same Debian
# release, which builds them alike.
if [ -z "$host_busybox" ] || ! dpkg-query -W -f='${Status}' busybox-static 2>/dev/null | grep -q 'ok installed'; then
	echo "vmtest: busybox-static is missing: apt-get install busybox-static" >&2
	exit 1
fi
export GOARCH=${2:-$("$go" env GOARCH)}
busybox=${3:-$host_busybox}

root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
chmod 0755 "$root" # it becomes /, which tests running as other users must traverse
mkdir -p "$root"/{bin,dev,etc,proc,root,sys,tmp,src}
chmod 1777 "$root/tmp"
install -m 0755 "$busybox" "$root/bin/busybox"
for applet in $("$host_busybox" --list); do
	[ -e "$root/bin/$applet" ] || ln -s busybox "$root/bin/$applet"
done
# pack writes the tree as OUT.
pack() {
	(cd "$root" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp"
	mv "$out.tmp" "$out"
}
if [ -n "$probe" ]; then
	printf '#!/bin/sh\nexport PATH=/bin\necho VMTEST-PROBE-OK\npoweroff -f\n' >"$root/init"
	chmod 0755 "$root/init"
	pack
	exit 0
fi
echo 'root:x:0:0:root:/root:/bin/sh' >"$root/etc/passwd"
echo 'root:x:0:' >"$root/etc/group"
install -m 0755 "$here/init" "$root/init"

cd "$repo"
export CGO_ENABLED=0
"$go" build -o "$root/bin/pstrace" ./cmd/pstrace
module=$("$go" list -m)
for pkg in $("$go" list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./...); do
	rel=${pkg#"$module"}
	rel=${rel#/}
	# The harness's own tests run on the host.
	[ "$rel" != vmtest ] || continue
	dir=$root/src/${rel:-.}
	mkdir -p "$dir"
	"$go" test -c -o "$dir/$(basename "$pkg").test" "$pkg"
	[ ! -d "${rel:-.}/testdata" ] || cp -r "${rel:-.}/testdata" "$dir/"
done
# Tests that hold the README to the code (internal/otlp's mapping table) read it from there.
cp README.md "$root/src/"
pack
