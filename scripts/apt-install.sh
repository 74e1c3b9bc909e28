#!/usr/bin/env bash
# Usage: scripts/apt-install.sh WHO PKG...
# Installs those of the Debian packages PKG that are missing (apt-get update, then install
# without recommends); WHO starts each of its lines. Another apt holding its lock (an
# unattended upgrade, a second make test) is waited for, up to PSTRACE_APT_WAIT seconds
# (default 300), and one line says so; after that it fails with one line naming the holder.
set -euo pipefail

who=$1
shift
wait_seconds=${PSTRACE_APT_WAIT:-300}

missing=()
for p in "$@"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -gt 0 ] || exit 0
if [ "$(id -u)" -ne 0 ]; then
	echo "$who: missing packages (${missing[*]}); run as root or install them with apt-get" >&2
	exit 1
fi

# apt CMD... runs apt-get, retrying while another process holds one of apt's locks (apt's
# own DPkg::Lock::Timeout covers dpkg's lock, not the package lists' that update takes).
deadline=$(($(date +%s) + wait_seconds)) said=
apt() {
	local out
	while :; do
		if out=$(apt-get -qq -o DPkg::Lock::Timeout=10 "$@" 2>&1 </dev/null); then
			return 0
		fi
		holder=$(grep -m1 -o 'Could not get lock .*' <<<"$out" || true)
		if [ -z "$holder" ]; then
			echo "$who: apt-get $1 failed:" >&2
			grep '^[EW]:' <<<"$out" >&2 || echo "$out" >&2
			return 1
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			echo "$who: apt is still busy after ${wait_seconds}s (PSTRACE_APT_WAIT): ${holder#Could not get }" >&2
			return 1
		fi
		[ -n "$said" ] || echo "$who: waiting up to ${wait_seconds}s for apt: ${holder#Could not get }" >&2
		said=1
		sleep 2
	done
}

echo "$who: installing ${missing[*]}"
# Installed, never started: Debian would start prometheus (on :9090) and dockerd from their
# init scripts; the tests and scripts/engine.sh start what they need.
if [ ! -e /usr/sbin/policy-rc.d ]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
export DEBIAN_FRONTEND=noninteractive
apt update
apt install -y --no-install-recommends "${missing[@]}"
