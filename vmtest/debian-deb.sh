#!/usr/bin/env bash
# Usage: debian-deb.sh SUITE ARCH PATTERN CACHE
# Prints the path of the .deb of the newest package of architecture ARCH in SUITE and
# SUITE-security whose name matches the extended regex PATTERN (anchored at both ends),
# downloaded into CACHE/debs. apt runs with a private configuration (its own sources list,
# lists, state and package cache under CACHE/apt/SUITE-ARCH), so the machine's apt state is
# never touched; the mirrors are those of the machine's own apt sources. Lists are refreshed
# once a day (or with VMTEST_REFRESH=1); a package already in CACHE is not downloaded again.
set -euo pipefail

suite=$1 arch=$2 pattern=$3 cache=$4
keyring=${VMTEST_KEYRING:-/usr/share/keyrings/debian-archive-keyring.gpg}

fail() {
	echo "vmtest: $suite $arch: $*" >&2
	exit 1
}

# Every URI of a deb source of this machine, one a line (deb822 and one-line formats).
machine_uris() {
	local f
	for f in /etc/apt/sources.list.d/*.sources; do
		[ ! -r "$f" ] || sed -n 's/^URIs://p' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ ! -r "$f" ] || sed -n 's/\[[^]]*\]//; s/^deb[[:space:]]\+\([^[:space:]]*\).*/\1/p' "$f"
	done
}

# Debian mirrors serve the archive at .../debian and security updates at .../debian-security.
uris=$(machine_uris | tr ' \t' '\n\n' | sed '/^$/d; s#/*$##')
mirror=${VMTEST_MIRROR:-$(grep -m1 '/debian$' <<<"$uris" || true)}
[ -n "$mirror" ] || fail "no Debian mirror (a URI ending in /debian) in /etc/apt/sources.list or /etc/apt/sources.list.d/: set VMTEST_MIRROR=URI"
security=${VMTEST_SECURITY_MIRROR:-$(grep -m1 '/debian-security$' <<<"$uris" || echo "$mirror-security")}
[ -r "$keyring" ] || fail "no Debian archive keyring at $keyring: apt-get install debian-archive-keyring"

apt_dir=$cache/apt/$suite-$arch
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$cache/debs"
touch "$apt_dir/status"
cat >"$apt_dir/sources.list.new" <<EOF
deb [signed-by=$keyring] $mirror $suite main
deb [signed-by=$keyring] $security $suite-security main
EOF
# A changed mirror makes the lists stale.
if ! cmp -s "$apt_dir/sources.list.new" "$apt_dir/sources.list"; then
	mv "$apt_dir/sources.list.new" "$apt_dir/sources.list"
	rm -f "$apt_dir/updated"
else
	rm "$apt_dir/sources.list.new"
fi

apt_opts=(
	-o "Dir::Etc::sourcelist=$apt_dir/sources.list" -o Dir::Etc::sourceparts=-
	-o "Dir::State=$apt_dir" -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::State::status=$apt_dir/status"
	-o "Dir::Cache=$apt_dir" -o "Dir::Cache::archives=$apt_dir/archives"
	-o "APT::Architecture=$arch" -o "APT::Architectures=$arch" -o Acquire::Languages=none
	-o Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false
	-o APT::Sandbox::User=root -q
)

if [ "${VMTEST_REFRESH:-}" = 1 ] || [ -z "$(find "$apt_dir/updated" -mmin -1440 2>/dev/null)" ]; then
	echo "vmtest: $suite $arch: reading package lists of $suite and $suite-security" >&2
	if ! out=$(apt-get "${apt_opts[@]}" update 2>&1) || grep -q '^E:' <<<"$out"; then
		echo "$out" | grep '^[WE]:' >&2 || echo "$out" >&2
		if grep -q NO_PUBKEY <<<"$out"; then
			fail "$keyring lacks the archive key of $suite: install a newer debian-archive-keyring, or set VMTEST_KEYRING=FILE"
		fi
		fail "cannot read the package lists of $suite from $mirror and $security"
	fi
	touch "$apt_dir/updated"
fi

pkg=$(apt-cache "${apt_opts[@]}" pkgnames | grep -E "^($pattern)\$" | sort -V | tail -n1 || true)
[ -n "$pkg" ] || fail "no package matching $pattern in $suite or $suite-security"
version=$(apt-cache "${apt_opts[@]}" show --no-all-versions "$pkg" | sed -n 's/^Version: //p')
deb=$cache/debs/${pkg}_${version//:/%3a}_$arch.deb
if [ ! -s "$deb" ]; then
	echo "vmtest: $suite $arch: downloading $pkg $version" >&2
	(cd "$cache/debs" && apt-get "${apt_opts[@]}" download "$pkg" >&2) ||
		fail "cannot download $pkg $version from $mirror or $security"
	[ -s "$deb" ] || fail "apt downloaded no $deb"
fi
echo "$deb"
