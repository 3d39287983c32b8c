#!/usr/bin/env bash
# Recursion through the lab's offline internet: ctl/recurse (by recurse_probe) in the forwarder's
# namespace resolves from the lab's root (scripts/lab.d/root.hints) over the kernel uplink vpcdns-up,
# from its address and a given port range; checks the answers (public onprem.com, CNAME chains,
# NXDOMAIN, a silent server's SERVFAIL within the timeout), the counters, and on a capture of the
# uplink that every query left from that address and range. Needs root and a build:
#
#   sudo flock /tmp/vpcdns-lab.lock tests/lab/lab_recurse.sh [BUILD_DIR]     (default: build)
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
lab="$repo/scripts/lab"
build=$(realpath "${1:-$repo/build}")
probe="$build/tests/unit/recurse/recurse_probe"
# shellcheck source=scripts/lab.d/lab.env
. "$repo/scripts/lab.d/lab.env"
[ "$(id -u)" = 0 ] || {
	echo "lab_recurse: needs root" >&2
	exit 1
}
[ -x "$probe" ] || {
	echo "lab_recurse: no $probe (build first)" >&2
	exit 1
}
state=${VPCDNS_LAB_STATE:-/run/vpcdns-lab}
work=$(mktemp -d /tmp/vpcdns-lab-recurse.XXXXXX)
cleanup() {
	"$lab" down >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
# shellcheck source=tests/lab/checks.sh
. "$repo/tests/lab/checks.sh"
start=$(date +%s%N)
ports_low=40000
ports_high=40099
timeout_ms=2000

if "$lab" up >"$work/up.log" 2>&1; then pass "lab up"; else fail "lab up" "$(tail -n 3 "$work/up.log")"; fi
"$lab" capture inet start "$work/uplink.pcap" 'udp or tcp or arp'
t0=$(date +%s%N)
"$lab" exec fwd "$probe" "$repo/$LAB_ROOT_HINTS" "$LAB_INET_UPLINK" "$ports_low-$ports_high" "$timeout_ms" \
	"$LAB_PUBLIC_ACME" "$LAB_WWW" "$LAB_XYZ_ALIAS" "$LAB_XYZ_ALIAS2" "$LAB_XYZ_ACROSS" "$LAB_XYZ_MISSING" \
	"$LAB_SILENT" >"$work/probe.out" 2>"$work/probe.err"
took_ms=$((($(date +%s%N) - t0) / 1000000))
"$lab" capture inet stop "$work/uplink.pcap"
sed 's/^/    /' "$work/probe.out"

line_of() { grep "^$1 " "$work/probe.out" | cut -d' ' -f2-; }
expect "$LAB_PUBLIC_ACME: the public zone's address" "resolved 0 $LAB_PUBLIC_ACME_A" "$(line_of "$LAB_PUBLIC_ACME")"
expect "$LAB_WWW: the public zone's, not the on-prem targets' ($LAB_WWW_A)" "resolved 0 $LAB_PUBLIC_WWW_A" \
	"$(line_of "$LAB_WWW")"
expect "$LAB_XYZ_ALIAS: through its CNAME" "resolved 0 $LAB_XYZ_WWW_A" "$(line_of "$LAB_XYZ_ALIAS")"
expect "$LAB_XYZ_ALIAS2: through a chain of two CNAMEs" "resolved 0 $LAB_XYZ_WWW_A" "$(line_of "$LAB_XYZ_ALIAS2")"
expect "$LAB_XYZ_ACROSS: through a CNAME into onprem.com" "resolved 0 $LAB_PUBLIC_ACME_A" \
	"$(line_of "$LAB_XYZ_ACROSS")"
expect "$LAB_XYZ_MISSING: NXDOMAIN" "resolved 3" "$(line_of "$LAB_XYZ_MISSING")"
expect "$LAB_SILENT: SERVFAIL at the timeout" "timed_out 2" "$(line_of "$LAB_SILENT")"
check "all within the timeout and a second ($took_ms ms)" test "$took_ms" -lt $((timeout_ms + 1000))
counters=$(grep '^counters' "$work/probe.out")
for want in started=7 answered_noerror=5 answered_nxdomain=1 timeouts=1 failed_unbound=0; do
	check "counter $want" grep -qw "$want" <<<"$counters"
done

queries=$(tcpdump -r "$work/uplink.pcap" -n 'dst port 53' 2>/dev/null)
expect "the uplink carried queries to root, com and auth" "3" \
	"$(awk '{ print $5 }' <<<"$queries" | sed 's/\.53:$//' | sort -u | grep -cE "^($LAB_INET_ROOT|$LAB_INET_TLD|$LAB_INET_AUTH)$")"
expect "every query left from $LAB_INET_UPLINK" "" \
	"$(awk '{ print $3 }' <<<"$queries" | sed 's/\.[0-9]*$//' | sort -u | grep -vx "$LAB_INET_UPLINK")"
expect "every query left from a port in $ports_low-$ports_high" "" \
	"$(awk '{ print $3 }' <<<"$queries" | sed 's/.*\.//' | awk -v lo=$ports_low -v hi=$ports_high '$1 < lo || $1 > hi')"
# nobody has the silent server's address: the uplink asks ARP for it and its queries go nowhere
check "the silent server's address was sought (ARP, no reply)" eval \
	"tcpdump -r '$work/uplink.pcap' -n arp 2>/dev/null | grep -q 'who-has $LAB_INET_SILENT tell $LAB_INET_UPLINK'"
check "auth's query log shows the recursion's queries" grep -q "$LAB_INET_UPLINK#" "$state/auth/query.log"
expect "t1 saw none of them (forwarding is not recursion)" 0 "$(grep -c "$LAB_INET_UPLINK#" "$state/t1/query.log")"

finish_checks "lab recurse"
