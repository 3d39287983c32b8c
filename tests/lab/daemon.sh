# shellcheck shell=bash
# What the lab scripts that run vpcdnsd share: root, the daemon (VPCDNSD, else build-test/ctl/vpcdnsd, else
# build/ctl/vpcdnsd), a work directory ($work), the daemon started in the forwarder's namespace and stopped by
# its PID, the lab taken down and the work directory removed on exit, the PASS/FAIL checks (checks.sh), its
# counters, and variants of examples/seed.yaml.
# Source it with $repo, $lab and $me (the script's name, for messages) set.

[ "$(id -u)" = 0 ] || {
	echo "$me: needs root" >&2
	exit 1
}
vpcdnsd=${VPCDNSD:-}
for candidate in "$repo/build-test/ctl/vpcdnsd" "$repo/build/ctl/vpcdnsd"; do
	[ -z "$vpcdnsd" ] && [ -x "$candidate" ] && vpcdnsd=$candidate
done
[ -x "$vpcdnsd" ] || {
	echo "$me: no vpcdnsd built (set VPCDNSD)" >&2
	exit 1
}

work=$(mktemp -d "/tmp/vpcdns-$me.XXXXXX")
daemon_pid=""
stop_daemon() {
	[ -n "$daemon_pid" ] || return 0
	kill -TERM "$daemon_pid" 2>/dev/null
	for _ in $(seq 50); do
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$daemon_pid" 2>/dev/null
	wait "$daemon_pid" 2>/dev/null
	daemon_pid=""
}
cleanup() {
	stop_daemon
	"$lab" down >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=tests/lab/checks.sh
. "$repo/tests/lab/checks.sh"

# start_daemon CONFIG: vpcdnsd in the forwarder's namespace, ready once it says it serves.
start_daemon() {
	"$lab" exec fwd "$vpcdnsd" --no-huge "$1" >"$work/vpcdnsd.log" 2>&1 &
	daemon_pid=$!
	for _ in $(seq 100); do
		grep -q '^vpcdnsd: serving' "$work/vpcdnsd.log" && return 0
		kill -0 "$daemon_pid" 2>/dev/null || break
		sleep 0.1
	done
	fail "vpcdnsd starts with $1" "$(tail -n 5 "$work/vpcdnsd.log")"
	return 1
}

# counter WHO NAME: NAME's value on the first counters line starting "WHO:" that SIGUSR1 prints ("all"
# for the lcores' sum, "control core: slow path", ...).
counter() {
	local before
	before=$(wc -l <"$work/vpcdnsd.log")
	kill -USR1 "$daemon_pid"
	sleep 0.5
	tail -n +"$((before + 1))" "$work/vpcdnsd.log" | grep "^$1:" |
		sed -n "s/.*\b$2 \([0-9][0-9]*\).*/\1/p" | head -n 1
}

# seed_variant NAME [SED-EXPRESSION...]: examples/seed.yaml edited by each expression, in $work (its
# zones and root hints beside it); prints its path.
seed_variant() {
	local out="$work/$1" expr
	shift
	[ -e "$work/zones" ] || ln -s "$repo/examples/zones" "$work/zones"
	[ -e "$work/root.hints" ] || ln -s "$repo/$LAB_ROOT_HINTS" "$work/root.hints"
	local args=(-e 's|root_hints: [^ ]*|root_hints: root.hints|')
	for expr in "$@"; do args+=(-e "$expr"); done
	sed "${args[@]}" "$repo/examples/seed.yaml" >"$out"
	echo "$out"
}

answers_of() { ask "$@" | sed -n 's/.*ANSWER: \([0-9]*\),.*/\1/p'; }
size_of() { ask "$@" | sed -n 's/^;; MSG SIZE  rcvd: \([0-9]*\)/\1/p'; }
