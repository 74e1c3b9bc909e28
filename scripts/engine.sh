#!/usr/bin/env bash
# The real container engines the container tests run against.
#
#   scripts/engine.sh up    install docker.io, containerd, runc and busybox-static where
#                           missing; start containerd and dockerd where not running; build
#                           the offline test image and rootfs
#   scripts/engine.sh down  remove the tests' leftover containers, then stop the daemons
#                           that `up` started (never one it found running)
#   scripts/engine.sh run CMD...
#                           up, run CMD, then stop what this up started, however CMD
#                           ends; exits with CMD's status
#
# Works without systemd and without a network: dockerd gets no bridge and no iptables,
# and the image is a busybox-static rootfs imported with `docker import`.
set -euo pipefail

state=${PSTRACE_ENGINE_STATE:-/run/pstrace-engine}
rootfs=${PSTRACE_TEST_ROOTFS:-/var/lib/pstrace-test/rootfs}
image=pstrace-test:busybox
containerd_sock=/run/containerd/containerd.sock
docker_sock=/var/run/docker.sock
# Containers the tests create carry this label (docker) or id prefix (ctr).
test_label=pstrace-test
ctr_prefix=pstrace-test-
wait_seconds=${PSTRACE_ENGINE_WAIT:-90}

say() { echo "engine: $*" >&2; }

# Daemons this invocation started, in order.
started=()

containerd_up() { ctr --address "$containerd_sock" version >/dev/null 2>&1; }
dockerd_up() { docker -H "unix://$docker_sock" version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# start_time PID prints the process's start time (clock ticks after boot), which
# tells a daemon from a later process that reused its pid.
start_time() { awk '{sub(/.*\) /, ""); print $20}' "/proc/$1/stat" 2>/dev/null; }

install_missing() {
	"$(dirname "$0")/apt-install.sh" engine docker.io containerd runc busybox-static
}

# launch NAME CHECK CMD... starts CMD in its own session, logging to
# $state/NAME.log, records its pid, and waits until CHECK succeeds.
launch() {
	local name=$1 check=$2
	shift 2
	local log=$state/$name.log
	say "starting $name (log: $log)"
	setsid "$@" >>"$log" 2>&1 </dev/null {lock}>&- &
	local pid=$!
	echo "$pid $(start_time "$pid")" >"$state/$name.pid"
	started+=("$name")
	local i
	for ((i = 0; i < wait_seconds * 5; i++)); do
		"$check" && return 0
		if ! kill -0 "$pid" 2>/dev/null; then
			say "$name exited while starting; last lines of $log:"
			tail -n 30 "$log" >&2
			rm -f "$state/$name.pid"
			return 1
		fi
		sleep 0.2
	done
	say "$name did not answer within ${wait_seconds}s; last lines of $log:"
	tail -n 30 "$log" >&2
	return 1
}

# answering NAME CHECK ADDRESS: whether a NAME daemon answers CHECK at ADDRESS. One of this
# mount namespace that runs without answering yet (a concurrent up is starting it) is waited
# for; one that never answers (it listens elsewhere, or hangs) fails with one line.
answering() {
	local name=$1 check=$2 address=$3 pid i
	"$check" && return 0
	pid=$(pgrep -xo --ns $$ --nslist mnt "$name") || return 1
	say "$name (pid $pid) runs but does not answer at $address yet: waiting up to ${wait_seconds}s"
	for ((i = 0; i < wait_seconds * 5; i++)); do
		"$check" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.2
	done
	say "$name (pid $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)) runs but does not answer at $address: stop it, or have it listen there"
	exit 1
}

start_daemons() {
	if answering containerd containerd_up "$containerd_sock"; then
		say "containerd already running"
	else
		# The CRI plugin wants CNI networking, which the tests do not use. A socket left by
		# a containerd that died is removed by the new one.
		printf 'version = 2\ndisabled_plugins = ["io.containerd.grpc.v1.cri"]\n' >"$state/containerd.toml"
		launch containerd containerd_up containerd --config "$state/containerd.toml" --address "$containerd_sock"
	fi
	if answering dockerd dockerd_up "$docker_sock"; then
		say "dockerd already running"
	else
		# No dockerd runs: a pid file left behind is stale, and dockerd would refuse to
		# start should its pid now be another process's.
		rm -f "$state/dockerd.pidfile"
		launch dockerd dockerd_up dockerd --containerd "$containerd_sock" -H "unix://$docker_sock" \
			--pidfile "$state/dockerd.pidfile" --iptables=false --ip-masq=false --bridge=none
	fi
}

# build_rootfs makes a minimal root: busybox-static and a link for each applet.
build_rootfs() {
	[ -x "$rootfs/bin/busybox" ] && [ -e "$rootfs/bin/sh" ] && return
	local tmp=$rootfs.tmp applet
	rm -rf "$tmp"
	mkdir -p "$tmp"/{bin,sbin,usr/bin,usr/sbin,proc,sys,dev,etc,tmp}
	cp /bin/busybox "$tmp/bin/busybox"
	for applet in $(/bin/busybox --list-full); do
		[ -e "$tmp/$applet" ] || ln -s /bin/busybox "$tmp/$applet"
	done
	mkdir -p "$(dirname "$rootfs")"
	mv "$tmp" "$rootfs"
}

build_image() {
	build_rootfs
	if docker image inspect "$image" >/dev/null 2>&1; then
		return
	fi
	say "importing $image from $rootfs"
	tar -C "$rootfs" -c . | docker import - "$image" >/dev/null
}

up() {
	if [ "$(id -u)" -ne 0 ]; then
		say "must run as root"
		exit 1
	fi
	install_missing
	mkdir -p "$state"
	# Two ups at once (two make test runs) would both start daemons: the second waits.
	exec {lock}>"$state/lock"
	if ! flock -w "$wait_seconds" "$lock"; then
		say "another scripts/engine.sh up held $state/lock for ${wait_seconds}s"
		exit 1
	fi
	start_daemons
	build_image
	exec {lock}>&-
	say "ready: containerd at $containerd_sock, dockerd at $docker_sock, image $image, rootfs $rootfs"
}

remove_test_containers() {
	local ids id
	if dockerd_up; then
		ids=$(docker ps -aq --filter "label=$test_label")
		[ -z "$ids" ] || docker rm -f $ids >/dev/null 2>&1 || true
	fi
	if containerd_up; then
		for id in $(ctr -n default containers list -q 2>/dev/null | grep "^$ctr_prefix" || true); do
			ctr -n default tasks kill -s SIGKILL "$id" >/dev/null 2>&1 || true
			ctr -n default tasks delete -f "$id" >/dev/null 2>&1 || true
			ctr -n default containers delete "$id" >/dev/null 2>&1 || true
		done
	fi
}

# stop NAME sends SIGTERM to the daemon `up` started, if it still runs, and
# waits for it to exit (SIGKILL after the wait).
stop() {
	local name=$1 pidfile=$state/$1.pid pid started i
	[ -f "$pidfile" ] || return 0
	read -r pid started <"$pidfile"
	rm -f "$pidfile"
	[ -n "$pid" ] && [ "$(start_time "$pid")" = "$started" ] || return 0
	say "stopping $name (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < wait_seconds * 5; i++)); do
		[ "$(start_time "$pid")" = "$started" ] || return 0
		sleep 0.2
	done
	say "$name did not stop within ${wait_seconds}s; killing it"
	kill -KILL "$pid" 2>/dev/null || true
}

down() {
	remove_test_containers
	stop dockerd
	stop containerd
}

# stop_started undoes this invocation's up, and nothing an earlier one did.
stop_started() {
	[ ${#started[@]} -gt 0 ] || return 0
	remove_test_containers
	local i
	for ((i = ${#started[@]} - 1; i >= 0; i--)); do
		stop "${started[i]}"
	done
}

case ${1:-} in
up) up ;;
down) down ;;
run)
	shift
	[ $# -gt 0 ] || { echo "usage: $0 run CMD..." >&2; exit 1; }
	trap stop_started EXIT
	up
	"$@"
	;;
*)
	echo "usage: $0 up|down|run CMD..." >&2
	exit 1
	;;
esac
