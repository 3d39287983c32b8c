# shellcheck shell=bash
# What every lab test script shares: PASS/FAIL lines and their counts, and dig from a lab namespace.
# Source it; set ASK_TIMEOUT (seconds dig waits for one try) before calling ask.

passed=0
failed=0
pass() {
	passed=$((passed + 1))
	printf 'PASS %s\n' "$1"
}
fail() {
	failed=$((failed + 1))
	printf 'FAIL %s%s\n' "$1" "${2:+: $2}"
}
# check NAME CMD...: passes when CMD succeeds.
check() {
	local name=$1
	shift
	if "$@" >/dev/null 2>&1; then pass "$name"; else fail "$name"; fi
}
# expect NAME WANT GOT
expect() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "want '$2', got '$3'"; fi
}

ask() { # NS dig-args... (one try: a silent server fails within ASK_TIMEOUT)
	local ns=$1
	shift
	ip netns exec "$ns" dig +time="${ASK_TIMEOUT:-1}" +tries=1 "$@" 2>&1
}
first_a() { ask "$@" +short | head -n 1; }
status_of() { ask "$@" | sed -n 's/.*status: \([A-Z]*\),.*/\1/p'; }
flags_of() { ask "$@" | sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p'; }

# The closing lines: the time since $start (date +%s%N) and the counts; the exit status.
finish_checks() { # WHAT
	local ms=$((($(date +%s%N) - start) / 1000000))
	printf '%s: %d.%03d s\n' "$1" "$((ms / 1000))" "$((ms % 1000))"
	echo "$passed passed, $failed failed"
	[ "$failed" = 0 ]
}
