#!/usr/bin/env bash
# Builds the pstrace container image offline, from nothing but this checkout:
# a static binary (CGO off) in an image with no base layer, imported into the
# local dockerd with `docker import`. Prints the tag and the image's size.
#
#   scripts/image.sh            tags pstrace:$(scripts/version.sh version)
#   IMAGE=pstrace:test scripts/image.sh
#
# The image holds /pstrace only: pstrace reads the host through mounts
# (/proc via hostPID, /sys/fs/cgroup, /sys/kernel/btf, the engines' socket
# directories) and writes nothing, so it runs with a read-only root.
set -euo pipefail
cd "$(dirname "$0")/.."

go=${GO:-go}
version=${VERSION:-$(scripts/version.sh version)}
commit=${COMMIT:-$(scripts/version.sh commit)}
image=${IMAGE:-pstrace:$version}

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/root"

pkg=$("$go" list -m)/internal/version
CGO_ENABLED=0 "$go" build -trimpath \
	-ldflags "-s -w -X $pkg.version=$version -X $pkg.commit=$commit" \
	-o "$work/root/pstrace" ./cmd/pstrace

# Owned by root, dated at the epoch: the same checkout gives the same layer.
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner \
	-C "$work/root" -cf "$work/rootfs.tar" .

docker import \
	--change 'ENTRYPOINT ["/pstrace"]' \
	--change 'CMD ["events", "--format", "json"]' \
	--change "LABEL org.opencontainers.image.title=pstrace org.opencontainers.image.version=$version org.opencontainers.image.revision=$commit" \
	--message "pstrace $version" \
	"$work/rootfs.tar" "$image" >/dev/null

size=$(docker image inspect --format '{{.Size}}' "$image")
echo "image: $image, $size bytes ($((size / 1024)) KiB)"
