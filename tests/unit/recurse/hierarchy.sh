#!/usr/bin/env bash
# The offline internet on loopback for test_recurse: network namespace vpcdns-rtest, lo up with
# 127.53.0.1 (root), .2 (com), .3 (onprem.com and xyz.com), .4 (silent.com's server: the test binds
# it and never reads) and .100 (a source address for the test), BIND on the first three, and root
# hints for it. The zones are the lab's (scripts/lab.d/zones/internet/).
#
#   hierarchy.sh up STATE     build it (tearing down any previous one); STATE gets the BIND configs,
#                             pid files, query logs and root.hints
#   hierarchy.sh down STATE   stop BIND by PID, delete the namespace and STATE (idempotent)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=scripts/lab.d/internet.sh
. "$here/../../../scripts/lab.d/internet.sh"
ns=vpcdns-rtest
state=${2:?usage: hierarchy.sh up|down STATE}
case $state in
/*vpcdns*) ;; # down removes it: never anything else
*)
	echo "hierarchy.sh: STATE must be an absolute path containing 'vpcdns', not '$state'" >&2
	exit 1
	;;
esac
declare -A address=([root]=127.53.0.1 [tld]=127.53.0.2 [auth]=127.53.0.3)

down() {
	local f pid pids=()
	for f in "$state"/*/daemon.pid; do
		[ -e "$f" ] || continue
		pid=$(cat "$f")
		[ "$(cat "/proc/$pid/comm" 2>/dev/null)" = named ] && pids+=("$pid")
	done
	if [ -e "/run/netns/$ns" ]; then
		for pid in $(ip netns pids "$ns"); do pids+=("$pid"); done
	fi
	if ((${#pids[@]})); then
		kill -TERM "${pids[@]}" 2>/dev/null || true
		for _ in $(seq 50); do
			kill -0 "${pids[@]}" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "${pids[@]}" 2>/dev/null || true
	fi
	[ -e "/run/netns/$ns" ] && ip netns del "$ns"
	rm -rf "$state"
}

start_named() {
	local role=$1 dir="$state/$1"
	mkdir -p "$dir"
	internet_zone_clauses "$role" "$state/zones" | render_named_conf "$dir" "${address[$role]}" >"$dir/named.conf"
	named-checkconf -z "$dir/named.conf" >/dev/null
	setsid ip netns exec "$ns" named -f -c "$dir/named.conf" -n 1 </dev/null >"$dir/stderr.log" 2>&1 &
	echo $! >"$dir/daemon.pid"
}

wait_named() {
	local role=$1 dir="$state/$1"
	for _ in $(seq 100); do
		[ -n "$(ip netns exec "$ns" dig +short +norec +time=1 +tries=1 @"${address[$role]}" SOA \
			"$(internet_probe_name "$role")" 2>/dev/null)" ] && return 0
		kill -0 "$(cat "$dir/daemon.pid")" 2>/dev/null || {
			echo "hierarchy.sh: named ($role) exited: $(tail -n 5 "$dir/stderr.log" "$dir/named.log" 2>/dev/null)" >&2
			return 1
		}
		sleep 0.1
	done
	echo "hierarchy.sh: named ($role) does not answer on ${address[$role]}" >&2
	return 1
}

up() {
	down
	mkdir -p "$state"
	ip netns add "$ns"
	ip -n "$ns" link set lo up
	local a role
	for a in 127.53.0.1 127.53.0.2 127.53.0.3 127.53.0.4 127.53.0.100; do
		ip -n "$ns" addr add "$a/32" dev lo
	done
	internet_render_zones "$state/zones" 127.53.0.1 127.53.0.2 127.53.0.3 127.53.0.4
	printf '.  3600000 NS a.root-servers.lab.\na.root-servers.lab.  3600000 A %s\n' \
		"${address[root]}" >"$state/root.hints"
	for role in root tld auth; do start_named "$role"; done
	for role in root tld auth; do wait_named "$role"; done
}

case ${1:-} in
up) up || {
	down
	exit 1
} ;;
down) down ;;
*)
	sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'
	exit 2
	;;
esac
