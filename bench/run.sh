#!/usr/bin/env bash
# make bench: measures pstrace side by side with the classic process tracers
# on this machine and writes BENCHMARKS.md. Needs root. BENCH_ROUNDS and
# BENCH_SPAWNS make a quicker run (default 5 rounds of 2000 spawns).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -ne 0 ]; then
	echo "bench: needs root (BPF programs and their statistics): run sudo make bench" >&2
	exit 1
fi

# The peers, from the distribution.
scripts/apt-install.sh bench libbpf-tools bpftrace forkstat bpftool

# execsnoop attaches to syscall tracepoints, which libbpf finds in tracefs.
scripts/mounts.sh

out=bench/.out
mkdir -p "$out"
# bench/ is a module of its own, beside the product's.
(cd bench && go build -o "../$out/spawnstorm" ./spawnstorm && go build -o "../$out/benchrun" ./benchrun)
go test -c -o "$out/tracer.test" ./tracer
go test -c -o "$out/render.test" ./render
go test -c -o "$out/otlp.test" ./internal/otlp
# The OpenTelemetry Collector the OTLP export row sends to (minutes to build the first time).
go build -C internal/otlp/testcollector -trimpath -o "$PWD/$out/otelcol" .

# The Go pipeline, then each tree size in a process of its own so that its
# RSS is that tree's alone.
echo "bench: Go pipeline and memory benchmarks"
(
	cd tracer
	../"$out"/tracer.test -test.run '^$' -test.bench 'Pipeline' -test.benchmem -test.count 1
	for n in 10000 100000; do
		../"$out"/tracer.test -test.run '^$' -test.bench "LiveProcesses/$n\$" -test.benchtime 1x
	done
	cd ../render
	../"$out"/render.test -test.run '^$' -test.bench 'Render' -test.benchmem -test.count 1
	cd ../internal/otlp
	../../"$out"/otlp.test -test.run '^$' -test.bench 'OTLPRecord' -test.benchmem -test.count 1
) | tee "$out/gobench.txt" | grep '^Benchmark'

was=$(cat /proc/sys/kernel/bpf_stats_enabled)
trap 'sysctl -qw kernel.bpf_stats_enabled="$was"' EXIT
sysctl -qw kernel.bpf_stats_enabled=1

# The revision measured, "-dirty" when files other than this report (which
# the last run rewrote) differ from it.
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
if [ -n "$(git status --porcelain --untracked-files=no -- . ':!BENCHMARKS.md' 2>/dev/null)" ]; then
	commit=$commit-dirty
fi

"$out/benchrun" -pstrace ./pstrace -storm "$out/spawnstorm" -bpftrace-script bench/lifecycle.bt \
	-go-bench "$out/gobench.txt" -collector "$out/otelcol" -out BENCHMARKS.md -work "$out" -commit "$commit" \
	-rounds "${BENCH_ROUNDS:-5}" -spawns "${BENCH_SPAWNS:-2000}"
echo "bench: wrote BENCHMARKS.md"
