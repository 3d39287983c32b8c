#!/usr/bin/env bash
# End to end: the slow path of vpcdnsd in the network lab (scripts/lab) on examples/seed.yaml: DNS over
# TCP from clients through the forwarder's kernel interface (pipelined, many at once, on every resolver
# and inbound endpoint address), the upstream TCP fallback when a target truncates, CNAME chasing under
# the rules (recursion, a forward rule, a loop), recursion through the lab's offline internet for the
# "." rule and the seed's system rule, and delegation out of the private hosted zone (glue, and a name
# server outside the zone). Asked with dig and kdig from the client namespaces.
# Needs root. Prints one line per check and a final "N passed, N failed"; exits 1 on any failure.
# VPCDNSD names the daemon (default: build-test/ctl/vpcdnsd, else build/ctl/vpcdnsd).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
lab="$repo/scripts/lab"
# shellcheck source=scripts/lab.d/lab.env
. "$repo/scripts/lab.d/lab.env"
me=lab-slow
# shellcheck source=tests/lab/daemon.sh
. "$repo/tests/lab/daemon.sh"
ASK_TIMEOUT=3

short() { ask "$@" +short | tr '\n' ' ' | sed 's/ $//'; }
kflags() { # NS kdig-args...: the flags of kdig's first answer
	local ns=$1
	shift
	ip netns exec "$ns" kdig +time=3 +retry=0 "$@" 2>&1 | sed -n 's/^;; Flags: \([a-z ]*\);.*/\1/p' |
		head -n 1 | sed 's/ *$//'
}

start=$(date +%s%N)
"$lab" up >"$work/up.log" 2>&1 || fail "lab up" "$(tail -n 3 "$work/up.log")"
start_daemon "$repo/examples/seed.yaml"

# --- DNS over TCP from clients (RFC 7766) ---------------------------------------------------------------
expect "TCP: www.onprem.com through the forward rule" "$LAB_WWW_A" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW" +tcp)"
expect "TCP: the answer has the resolver's flags (kdig +tcp)" "qr rd ra" \
	"$(kflags "$LAB_NS_CLI" +tcp @"$LAB_RESOLVER" "$LAB_WWW")"
hits_before=$(counter "control core: slow path" cache_hits)
expect "TCP: asked again, answered from the slow path's cache" "$LAB_WWW_A" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW" +tcp)"
expect "... counted as its cache hit" 1 \
	"$(($(counter "control core: slow path" cache_hits) - ${hits_before:-0}))"
expect "TCP on 169.254.169.253" "$LAB_WWW_A" "$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER_LL" "$LAB_WWW" +tcp)"
inbound=${LAB_ENDPOINT_IN%% *}
expect "TCP on the inbound endpoint address $inbound" "$LAB_WWW_A" \
	"$(first_a "$LAB_NS_CLI" @"$inbound" "$LAB_WWW" +tcp)"
expect "TCP: the private hosted zone's CNAME chain" "www.central.com. 172.31.20.11" \
	"$(short "$LAB_NS_CLI" @"$LAB_RESOLVER" api.central.com +tcp)"
to_tcp_before=$(counter "control core: upstream" truncated_to_tcp)
expect "TCP: the seed's large.onprem.com, all $LAB_LARGE_COUNT records" "$LAB_LARGE_COUNT" \
	"$(answers_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_LARGE" +tcp)"
# The control core asked the target over UDP with the endpoint's 4096: the answer came in two IPv4
# fragments, an lcore reassembled it and the exception path cut it again for the TAP.
expect "... which the control core got whole over UDP (no TCP to the target)" 0 \
	"$(($(counter "control core: upstream" truncated_to_tcp) - ${to_tcp_before:-0}))"
check "... in fragments the kernel reassembled (refragmented by the exception path)" \
	test "$(counter "control core: exception path" refragmented)" -ge 1
expect "... in the seed's 1,645 octets" 1645 "$(size_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_LARGE" +tcp)"
expect "the seed's client of 1232 octets gets TC=1 over UDP, comes back over TCP and gets all $LAB_LARGE_COUNT" \
	"$LAB_LARGE_COUNT" "$(answers_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_LARGE" +bufsize=1232)"
expect "RD=0 (+norec) is answered with RD as sent" "qr ra" \
	"$(flags_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW" +norec +tcp)"
accepted_before=$(counter "control core: tcp clients" accepted)
pipelined=$(ip netns exec "$LAB_NS_CLI" kdig +tcp +keepopen +time=3 +retry=0 @"$LAB_RESOLVER" \
	"$LAB_WWW" A www.central.com A nosuch.onprem.com A 2>&1 | sed -n 's/.*status: \([A-Z]*\);.*/\1/p' |
	tr '\n' ' ' | sed 's/ $//')
expect "three queries pipelined on one connection (kdig +keepopen), each answered" \
	"NOERROR NOERROR NXDOMAIN" "$pipelined"
expect "... over one connection" 1 "$(($(counter "control core: tcp clients" accepted) - ${accepted_before:-0}))"
for i in $(seq 100); do
	ip netns exec "$LAB_NS_CLI" dig +tcp +time=5 +tries=1 +short @"$LAB_RESOLVER" "$LAB_WWW" >"$work/tcp.$i" 2>&1 &
done
wait_clients=0
for job in $(jobs -p); do [ "$job" = "$daemon_pid" ] || wait "$job" || wait_clients=$((wait_clients + 1)); done
expect "100 TCP clients at once are all answered" 100 "$(cat "$work"/tcp.* | grep -c "^$LAB_WWW_A$")"

# --- recursion through the lab's offline internet ---------------------------------------------------------
expect "the seed's system rule: acme.onprem.com is resolved by the resolver, from the public zone" \
	"$LAB_PUBLIC_ACME_A" "$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_PUBLIC_ACME")"
expect "the \".\" rule resolves www.xyz.com from the root" "$LAB_XYZ_WWW_A" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_XYZ_WWW")"
expect "... and a chain of two CNAMEs there" "alias.xyz.com. www.xyz.com. $LAB_XYZ_WWW_A" \
	"$(short "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_XYZ_ALIAS2")"
expect "... over TCP too" "$LAB_XYZ_WWW_A" "$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_XYZ_WWW" +tcp)"
expect "a name the lab's root does not know is NXDOMAIN" NXDOMAIN \
	"$(status_of "$LAB_NS_CLI" @"$LAB_RESOLVER" www.example.org)"
expect "recursive answers carry the resolver's flags, never aa or ad (kdig)" "qr rd ra" \
	"$(kflags "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_PUBLIC_ACME")"

# --- CNAME chasing -------------------------------------------------------------------------------------------
chases_before=$(counter all cname_chases)
expect "the seed's CNAME case: alias.onprem.com CNAME www.xyz.com, no rule for xyz.com: resolved by recursion" \
	"www.xyz.com. $LAB_XYZ_WWW_A" "$(short "$LAB_NS_CLI" @"$LAB_RESOLVER" alias.onprem.com)"
expect "... the target's CNAME-only answer went to the slow path once" 1 \
	"$(($(counter all cname_chases) - ${chases_before:-0}))"
expect "... and over TCP the same chain" "www.xyz.com. $LAB_XYZ_WWW_A" \
	"$(short "$LAB_NS_CLI" @"$LAB_RESOLVER" alias.onprem.com +tcp)"
expect "a CNAME loop at the targets ends in SERVFAIL" SERVFAIL \
	"$(status_of "$LAB_NS_CLI" @"$LAB_RESOLVER" loop1.onprem.com)"

# --- delegation out of the private hosted zone --------------------------------------------------------------
expect "the seed's delegation: t1.onprem.central.com from the delegated server" "$LAB_DELEGATED_A" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_DELEGATED")"
expect "... over TCP too" "$LAB_DELEGATED_A" "$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_DELEGATED" +tcp)"
expect "... with the resolver's flags, not the authority's aa" "qr rd ra" \
	"$(flags_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_DELEGATED")"
expect "a delegation to a name server outside the zone (no glue): its address from the forward rule" \
	172.31.99.98 "$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" www.ext.central.com)"
stop_daemon

# --- upstream TCP fallback: the endpoint advertises 1232, so the target truncates large.onprem.com ----------
start_daemon "$(seed_variant seed-1232.yaml 's/edns_udp_size: 4096/edns_udp_size: 1232/')"
"$lab" capture t1 start "$work/t1.pcap" 'tcp port 53'
"$lab" capture t2 start "$work/t2.pcap" 'tcp port 53'
fallbacks_before=$(counter all tcp_fallbacks)
expect "large.onprem.com truncated by the target is asked again over TCP: the client gets all $LAB_LARGE_COUNT" \
	"$LAB_LARGE_COUNT" "$(answers_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_LARGE" +bufsize=4096)"
"$lab" capture t1 stop "$work/t1.pcap"
"$lab" capture t2 stop "$work/t2.pcap"
check "... the lcore handed the truncated answer to the slow path" \
	test "$(($(counter all tcp_fallbacks) - ${fallbacks_before:-0}))" -ge 1
check "... which asked over TCP from an endpoint address to the target's port 53" \
	eval "for f in '$work/t1.pcap' '$work/t2.pcap'; do tcpdump -r \$f -n 2>/dev/null; done |
		grep -qE '172\\.31\\.1\\.1[01]\\.[0-9]+ > 172\\.31\\.(6\\.52|36\\.253)\\.53: Flags \\[S\\]'"
stop_daemon

# --- a CNAME target under a forward rule of its own goes to that rule's targets ------------------------------
xyz_rule=$(seed_variant seed-xyz.yaml)
python3 - "$xyz_rule" <<'EOF'
import sys
path = sys.argv[1]
text = open(path).read()
rule = """  - id: rslvr-rr-xyz
    name: xyz
    type: forward
    domain: xyz.com
    endpoint: rslvr-out-bc4a94c901114c6ba
    targets: [172.31.6.52, 172.31.36.253]
    vpcs: [vpc-1f1af679]
"""
open(path, "w").write(text.replace("\nhosted_zones:", "\n" + rule + "\nhosted_zones:", 1))
EOF
start_daemon "$xyz_rule"
expect "with a forward rule for xyz.com, alias.onprem.com's target comes from the on-prem xyz.com" \
	"www.xyz.com. 172.31.77.10" "$(short "$LAB_NS_CLI" @"$LAB_RESOLVER" alias.onprem.com)"
stop_daemon

finish_checks "lab slow path"
