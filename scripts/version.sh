#!/usr/bin/env bash
# Prints what the build stamps into pstrace: `scripts/version.sh version` the
# release (the v* tag at HEAD's ancestry, else dev-<short commit>, "-dirty"
# with uncommitted changes), `scripts/version.sh commit` the full commit.
# Both are valid image tags. Outside a git checkout: "dev" and "unknown".
set -euo pipefail
cd "$(dirname "$0")/.."
if ! git rev-parse --git-dir >/dev/null 2>&1; then
	case ${1:-} in version) echo dev ;; commit) echo unknown ;; esac
	exit 0
fi
dirty=
[ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ] && dirty=-dirty
case ${1:-} in
version)
	if v=$(git describe --tags --match 'v[0-9]*' 2>/dev/null); then
		echo "${v#v}$dirty"
	else
		echo "dev-$(git rev-parse --short=12 HEAD)$dirty"
	fi
	;;
commit) echo "$(git rev-parse HEAD)$dirty" ;;
*)
	echo "usage: $0 version|commit" >&2
	exit 2
	;;
esac
