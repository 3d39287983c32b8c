#!/usr/bin/env bash
# End to end: vpcdnsd forwards in the network lab (scripts/lab), on net_af_xdp over the forwarder's veth,
# asked by dig in the client namespaces, answered by BIND on the targets. The seed's scenarios
# (../shared/seeds/002_*.txt) and the data-plane issue's list: the forward rule, NXDOMAIN passing through,
# the resolver's own flags, per-hop EDNS seen at the target, failover from a silenced target, SERVFAIL
# when every target is silent or refuses, spoofed answers dropped and counted, clients outside the VPC
# refused, two VPCs with one CIDR on two VLANs, and TC=1 for a client that takes less than the answer.
# Needs root. Prints one line per check and a final "N passed, N failed"; exits 1 on any failure.
# VPCDNSD names the daemon (default: build-test/ctl/vpcdnsd, else build/ctl/vpcdnsd).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
lab="$repo/scripts/lab"
# shellcheck source=scripts/lab.d/lab.env
. "$repo/scripts/lab.d/lab.env"
me=lab-forward
# shellcheck source=tests/lab/daemon.sh
. "$repo/tests/lab/daemon.sh"
ASK_TIMEOUT=3
below() { # NAME LIMIT VALUE
	if [ -n "$3" ] && [ "$3" -lt "$2" ]; then pass "$1 ($3 < $2)"; else fail "$1" "want < $2, got '$3'"; fi
}
time_of() { ask "$@" | sed -n 's/^;; Query time: \([0-9]*\) msec/\1/p'; }


# queries_seen PCAP...: DNS queries for www.onprem.com the targets' captures hold.
queries_seen() {
	for f in "$@"; do tcpdump -r "$f" -n 2>/dev/null; done | grep -c "A? $LAB_WWW\."
}
# variant NAME KEY: VALUE...: the seed with tunables added (tunables is its last section).
variant() {
	local name=$1 kv exprs=()
	shift
	for kv in "$@"; do exprs+=("\$a\\  $kv"); done
	seed_variant "$name" "${exprs[@]}"
}
ttl_of() { ask "$@" | awk '$4 == "A" {print $2; exit}'; }

start=$(date +%s%N)

# --- the seed's VPC (examples/seed.yaml) on net_af_xdp, links at MTU 1500 ---------------------------------
"$lab" up >"$work/up.log" 2>&1 || fail "lab up" "$(tail -n 3 "$work/up.log")"
# The forwarding checks run with the cache off, so that every query goes upstream; the cache has its
# own section below.
start_daemon "$(variant seed-nocache.yaml "cache_max_bytes: 0")"

expect "www.onprem.com through the forward rule answers the target's address" "$LAB_WWW_A" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW")"
expect "the answer carries the resolver's flags (qr rd ra, never aa)" "qr rd ra" \
	"$(flags_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW")"
expect "169.254.169.253 is the same resolver" "$LAB_WWW_A" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER_LL" "$LAB_WWW")"
expect "mixed case (0x20) is matched and answered" "$LAB_WWW_A" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" WwW.OnPrEm.CoM)"
expect "NXDOMAIN from the target passes through" NXDOMAIN \
	"$(status_of "$LAB_NS_CLI" @"$LAB_RESOLVER" nosuch.onprem.com)"
expect "a client that sent no EDNS gets none back" "" \
	"$(ask "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW" +noedns | grep -c 'OPT PSEUDOSECTION' | grep -v '^0$')"
# The seed's "." rule is recursive: the control core resolves it from the lab's offline root.
expect "a name under no rule gets the \".\" rule's answer: recursion from the lab's root (NXDOMAIN)" \
	NXDOMAIN "$(status_of "$LAB_NS_CLI" @"$LAB_RESOLVER" www.example.org)"
expect "a client outside the VPC's CIDRs is refused" REFUSED \
	"$(status_of "$LAB_NS_OUT" @"$LAB_RESOLVER" "$LAB_WWW")"

# Answers the control core makes itself: the seed's private hosted zone central.com, and the VPC's
# auto-defined names (enable_dns_hostnames).
expect "the private hosted zone answers www.central.com" 172.31.20.11 \
	"$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" www.central.com)"
expect "... api.central.com's CNAME is followed inside the zone" "www.central.com. 172.31.20.11" \
	"$(ask "$LAB_NS_CLI" @"$LAB_RESOLVER" api.central.com +short | tr '\n' ' ' | sed 's/ $//')"
expect "... a name it lacks is NXDOMAIN" NXDOMAIN \
	"$(status_of "$LAB_NS_CLI" @"$LAB_RESOLVER" nosuch.central.com)"
expect "... with its SOA for negative caching" SOA \
	"$(ask "$LAB_NS_CLI" @"$LAB_RESOLVER" nosuch.central.com | awk '/AUTHORITY SECTION/ {getline; print $4}')"
expect "... and the answer has the resolver's flags, never aa (kdig)" "qr rd ra" \
	"$("$lab" exec cli kdig +time=3 +retry=0 @"$LAB_RESOLVER" www.central.com |
		sed -n 's/^;; Flags: \([a-z ]*\);.*/\1/p' | sed 's/ *$//')"
check "the daemon compiled the seed's 9 static zone answers" \
	grep -q '^vpcdnsd: 9 static zone answers in 1 VPCs' "$work/vpcdnsd.log"
static_before=$(counter all static_answers)
slow_before=$(counter all to_slow)
ask "$LAB_NS_CLI" @"$LAB_RESOLVER" www.central.com >/dev/null
ask "$LAB_NS_CLI" @"$LAB_RESOLVER" API.central.com AAAA >/dev/null
expect "... static zone answers come from the lcore (static_answers +2, to_slow unmoved)" "2 0" \
	"$(($(counter all static_answers) - ${static_before:-0})) $(($(counter all to_slow) - ${slow_before:-0}))"
expect "an instance name in the VPC answers its address" "$LAB_CLIENT" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "ip-${LAB_CLIENT//./-}.ap-southeast-2.compute.internal")"
expect "... and its PTR the instance name" "ip-${LAB_CLIENT//./-}.ap-southeast-2.compute.internal." \
	"$(ask "$LAB_NS_CLI" @"$LAB_RESOLVER" -x "$LAB_CLIENT" +short)"
expect "an address outside the VPC has no instance name (RFC 6303: 10.in-addr.arpa)" NXDOMAIN \
	"$(status_of "$LAB_NS_CLI" @"$LAB_RESOLVER" -x 10.1.2.3)"
expect "localhost is the loopback" 127.0.0.1 "$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" localhost)"

# Per-hop EDNS: the client advertises 1232, the target sees 4096 from an endpoint address.
"$lab" capture t1 start "$work/t1.pcap"
"$lab" capture t2 start "$work/t2.pcap"
for _ in 1 2 3 4; do ask "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW" +bufsize=1232 >/dev/null; done
"$lab" capture t1 stop "$work/t1.pcap"
"$lab" capture t2 stop "$work/t2.pcap"
seen=$(for f in "$work/t1.pcap" "$work/t2.pcap"; do tcpdump -r "$f" -n -vv 2>/dev/null; done |
	grep -A1 -E '172\.31\.1\.1[01]\.[0-9]+ > 172\.31\.(6\.52|36\.253)\.53' | grep -c 'OPT UDPsize=4096')
expect "a client's 1232 becomes 4096 at the targets, sent from endpoint addresses (4 queries)" 4 "$seen"
check "no query reached a target from the client's own address" \
	eval "! for f in '$work/t1.pcap' '$work/t2.pcap'; do tcpdump -r \$f -n 2>/dev/null; done | grep -q '$LAB_CLIENT\\.'"

# Failover: target 1 silent, answers come from target 2 well under the seed's 379 ms.
"$lab" silence t1 >/dev/null
worst=0
answers=""
for _ in $(seq 8); do
	out=$(ask "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW")
	answers="$answers $(echo "$out" | awk '/IN[[:space:]]+A[[:space:]]/ {print $NF}' | head -n 1)"
	t=$(echo "$out" | sed -n 's/^;; Query time: \([0-9]*\) msec/\1/p')
	[ -n "$t" ] && [ "$t" -gt "$worst" ] && worst=$t
done
expect "with target 1 silent, 8 queries are answered by target 2" \
	"$(printf " $LAB_WWW_A%.0s" $(seq 8))" "$answers"
below "the slowest of them in ms, against the seed's 379" 379 "$worst"

# Both silent: SERVFAIL after the last try, within the bound.
"$lab" silence t2 >/dev/null
expect "with both targets silent the client gets SERVFAIL" SERVFAIL \
	"$(status_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW")"
below "SERVFAIL comes within 1,500 ms (three tries)" 1500 "$(time_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW")"
"$lab" unsilence t1 >/dev/null
"$lab" unsilence t2 >/dev/null

# REFUSED: from every target it is SERVFAIL; from one, the next target answers.
expect "a name every target refuses is SERVFAIL to the client" SERVFAIL \
	"$(status_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_REFUSED")"
answers=""
for _ in $(seq 6); do answers="$answers $(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_REFUSED_T1")"; done
expect "a name target 1 refuses is answered by target 2, every time" \
	"$(printf " $LAB_REFUSED_T1_A%.0s" $(seq 6))" "$answers"

# Spoofed answers from the target's namespace, to both endpoint addresses over a range of ports: none
# is accepted (no open flow for their port and ID), each is counted, and the real answers win.
no_flow_before=$(counter all no_flow)
for ep in $LAB_ENDPOINT_OUT; do
	"$lab" exec t1 "$repo/scripts/lab.d/dns-spoof" --to "$ep" --ports 1024-1523 --id 4242 \
		--name "$LAB_WWW" --answer 6.6.6.6 >/dev/null
done
answers=""
for _ in 1 2 3; do answers="$answers $(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW")"; done
expect "the real answers win over the spoofed ones" " $LAB_WWW_A $LAB_WWW_A $LAB_WWW_A" "$answers"
no_flow_after=$(counter all no_flow)
expect "1,000 spoofed answers are dropped and counted (no_flow)" 1000 \
	"$((${no_flow_after:-0} - ${no_flow_before:-0}))"

# The seed's large answer (1,645 octets) crosses the MTU-1500 link from the target in two IPv4
# fragments: the lcore reassembles it, then truncates it for the client of 1232 octets.
reassembled_before=$(counter all reassembled)
big=$(ask "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_LARGE" +bufsize=1232 +ignore)
expect "large.onprem.com over MTU 1500, client of 1232 octets: TC=1 as in the seed" "qr tc rd ra" \
	"$(echo "$big" | sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p')"
expect "... the target's fragmented answer was reassembled once" 1 \
	"$(($(counter all reassembled) - ${reassembled_before:-0}))"
expect "large.onprem.com over MTU 1500 to a client of 4096 octets: TC=1, as 1,645 octets do not fit the link" \
	"qr tc rd ra" "$(flags_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_LARGE" +bufsize=4096 +ignore)"

# The per-source rate limit (1,024 pps by default): 3,000 queries sent at once from one client socket
# get at most a second's worth answered plus what the rate gives back while they are being sent; the
# rest is dropped unanswered and counted; a second later the client is served again. (50 ms of slack:
# the lcore takes them from the link a little later and longer than the client takes to send them.)
limited_before=$(counter all rate_limited)
queries_before=$(counter all queries)
flood=$("$lab" exec cli "$repo/scripts/lab.d/dns-flood" --to "$LAB_RESOLVER" --name "$LAB_WWW" --count 3000)
read -r _ sent _ answered _ secs <<<"$flood"
limited=$(($(counter all rate_limited) - ${limited_before:-0}))
admitted=$(($(counter all queries) - ${queries_before:-0}))
allowed=$(awk -v s="${secs:-0}" 'BEGIN { printf "%d", 1024 + 1024 * (s + 0.05) }')
check "3,000 queries at once from one client: a second's worth answered ($flood; at most $allowed)" \
	test "${answered:-0}" -le "$allowed" -a "${answered:-0}" -ge 900
# A busy host can lose some of the burst before the lcore sees it (the AF_XDP ring overflows): what
# reached the lcore is what it admitted plus what it dropped, and it admitted no more than allowed.
check "... the rest that reached the lcore dropped unanswered and counted ($admitted admitted, $limited rate_limited)" \
	test "$admitted" -le "$allowed" -a "$limited" -ge 1 -a $((admitted + limited)) -le "${sent:-0}"
sleep 1.1
expect "... and a second later the client is answered again" "$LAB_WWW_A" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW")"

stop_daemon
check "vpcdnsd stops on SIGTERM and prints its counters" grep -q '^all: rx' "$work/vpcdnsd.log"
"$lab" down >/dev/null 2>&1

# --- the answer cache on examples/seed.yaml, TTLs capped at 10 s so that they end within the test --------
"$lab" up >"$work/up.log" 2>&1 || fail "lab up" "$(tail -n 3 "$work/up.log")"
start_daemon "$(variant seed-cache.yaml "cache_ttl_max_s: 10")"
"$lab" capture t1 start "$work/c1.pcap"
"$lab" capture t2 start "$work/c2.pcap"
hits_before=$(counter all cache_hits)
first=$(ask "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW")
expect "cache: the first www.onprem.com goes to a target, its TTL capped at 10 for the client too" \
	"$LAB_WWW_A 10" "$(echo "$first" | awk '$4 == "A" {print $5, $2; exit}')"
cached_at=$(date +%s%N)
sleep 2
ttl=$(ttl_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW")
check "... the second is answered from the cache with its TTL aged ($ttl of 10)" \
	test "${ttl:-99}" -ge 6 -a "${ttl:-99}" -le 8
expect "... counted as a cache hit" 1 "$(($(counter all cache_hits) - ${hits_before:-0}))"
"$lab" capture t1 stop "$work/c1.pcap"
"$lab" capture t2 stop "$work/c2.pcap"
expect "... and the targets saw one query, not two" 1 "$(queries_seen "$work/c1.pcap" "$work/c2.pcap")"

# Prefetch: a hit in the last tenth of the TTL (9 to 10 s) is answered and refreshes the entry.
"$lab" capture t1 start "$work/r1.pcap"
"$lab" capture t2 start "$work/r2.pcap"
sleep "$(awk -v t="$cached_at" -v now="$(date +%s%N)" 'BEGIN { s = 9.3 - (now - t) / 1e9; printf "%.3f", (s > 0 ? s : 0) }')"
expect "a hit 9.3 s into a 10 s TTL is answered" "$LAB_WWW_A" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW")"
sleep 0.5
"$lab" capture t1 stop "$work/r1.pcap"
"$lab" capture t2 stop "$work/r2.pcap"
expect "... and the target saw the refresh" 1 "$(queries_seen "$work/r1.pcap" "$work/r2.pcap")"
expect "... which came back and was kept (refreshed)" 1 "$(counter all refreshed)"
sleep "$(awk -v t="$cached_at" -v now="$(date +%s%N)" 'BEGIN { s = 10.5 - (now - t) / 1e9; printf "%.3f", (s > 0 ? s : 0) }')"
hits_before=$(counter all cache_hits)
ttl=$(ttl_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW")
check "... so past the first answer's 10 s the name is still answered from the cache (TTL $ttl)" \
	test "${ttl:-0}" -ge 1 -a "${ttl:-0}" -le 9 -a "$(($(counter all cache_hits) - ${hits_before:-0}))" = 1

# Serve-stale: the entry expires, both targets go silent: the expired answer comes with TTL 30.
"$lab" silence t1 >/dev/null
"$lab" silence t2 >/dev/null
sleep 10
out=$(ask "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW")
expect "both targets silent, the entry expired: the stale answer" "$LAB_WWW_A" \
	"$(echo "$out" | awk '$4 == "A" {print $5; exit}')"
expect "... with TTL 30 (RFC 8767)" 30 "$(echo "$out" | awk '$4 == "A" {print $2; exit}')"
below "... within the failover bound of three tries (ms)" 1500 \
	"$(echo "$out" | sed -n 's/^;; Query time: \([0-9]*\) msec/\1/p')"
expect "... counted as stale" 1 "$(counter all stale)"
expect "a name never cached still gets SERVFAIL" SERVFAIL \
	"$(status_of "$LAB_NS_CLI" @"$LAB_RESOLVER" nosuch.onprem.com)"
"$lab" unsilence t1 >/dev/null
"$lab" unsilence t2 >/dev/null
stop_daemon
"$lab" down >/dev/null 2>&1

# --- two VPCs with one CIDR on two VLANs; links at MTU 3000 so large answers come unfragmented ---------
VPCDNS_LAB_MTU=3000 "$lab" up >"$work/up2.log" 2>&1 || fail "lab up (MTU 3000)" "$(tail -n 3 "$work/up2.log")"
start_daemon "$repo/scripts/lab.d/two-vpcs.yaml"
expect "the untagged VPC's client gets its rule's target (t1, t2)" "$LAB_WWW_A" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW")"
expect "the VLAN $LAB_VLAN2 VPC's client, same address, gets its own target (t3)" "$LAB_WWW_A_VLAN2" \
	"$(first_a "$LAB_NS_CLI2" @"$LAB_RESOLVER" "$LAB_WWW")"
expect "over TCP, the untagged VPC's client gets its own target's answer" "$LAB_WWW_A" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW" +tcp)"
expect "over TCP, the VLAN $LAB_VLAN2 VPC's client gets its own (the kernel's VLAN interface, or its TAP)" \
	"$LAB_WWW_A_VLAN2" "$(first_a "$LAB_NS_CLI2" @"$LAB_RESOLVER" "$LAB_WWW" +tcp)"
hits_before=$(counter all cache_hits)
expect "asked again, each VPC gets its own answer from the cache" "$LAB_WWW_A $LAB_WWW_A_VLAN2" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW") $(first_a "$LAB_NS_CLI2" @"$LAB_RESOLVER" "$LAB_WWW")"
expect "... both cache hits" 2 "$(($(counter all cache_hits) - ${hits_before:-0}))"
big=$(ask "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_LARGE" +bufsize=1232 +ignore)
expect "large.onprem.com to a client of 1232 octets: TC=1" "qr tc rd ra" \
	"$(echo "$big" | sed -n 's/^;; flags: \([a-z ]*\);.*/\1/p')"
expect "... with no records, only the question and the OPT" "0" \
	"$(echo "$big" | sed -n 's/.*ANSWER: \([0-9]*\),.*/\1/p')"
full=$(ask "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_LARGE" +bufsize=4096)
expect "large.onprem.com to a client of 4096 octets: all $LAB_LARGE_COUNT records over UDP" \
	"$LAB_LARGE_COUNT" "$(echo "$full" | sed -n 's/.*ANSWER: \([0-9]*\),.*/\1/p')"
expect "... in the seed's 1,645 octets" 1645 \
	"$(echo "$full" | sed -n 's/^;; MSG SIZE  rcvd: \([0-9]*\)/\1/p')"
expect "large.onprem.com without EDNS: TC=1 (512 octets at most)" "qr tc rd ra" \
	"$(flags_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_LARGE" +noedns +ignore)"
stop_daemon

finish_checks "lab forward"
