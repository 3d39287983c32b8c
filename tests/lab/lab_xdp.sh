#!/usr/bin/env bash
# End to end: vpcdnsd in XDP mode (interface mode: xdp) in the network lab (scripts/lab), on
# examples/seed.yaml with that one line added. DPDK's af_xdp driver loads bpf/steer.bpf.o on
# vpcdns-fw0, which sends the DNS flows vpcdns owns to the lcores and everything else straight to
# the kernel on vpcdns-fw0 itself (no TAP): UDP queries answered by the lcore, DNS over TCP by the
# kernel's TCP on vpcdns-fw0, the seed's large.onprem.com over TCP, the client's and the upstream TCP
# fallback, recursion through the offline internet, ICMP by the kernel, the kernel's neighbours from
# what io hears, the addresses and the program gone after a stop, and a tagged VLAN refused on this
# kernel (no 8021q). Asked with dig and kdig from the client namespaces.
# Needs root. Prints one line per check and a final "N passed, N failed"; exits 1 on any failure.
# VPCDNSD names the daemon (default: build-test/ctl/vpcdnsd, else build/ctl/vpcdnsd); it finds
# steer.bpf.o in its build tree (or VPCDNS_STEER_OBJ).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
lab="$repo/scripts/lab"
# shellcheck source=scripts/lab.d/lab.env
. "$repo/scripts/lab.d/lab.env"
me=lab-xdp
# shellcheck source=tests/lab/daemon.sh
. "$repo/tests/lab/daemon.sh"
ASK_TIMEOUT=3

# xdp_variant NAME [SED-EXPRESSION]: the seed in XDP mode, edited.
xdp_variant() {
	local name=$1
	shift
	seed_variant "$name" "/device: \"net_af_xdp0,iface=$LAB_IF_FWD\"/a\\    mode: xdp" "$@"
}
in_fwd() { ip netns exec "$LAB_NS_FWD" "$@"; }
# delta WHO NAME BEFORE: how much a counter moved since BEFORE.
delta() { echo $(($(counter "$1" "$2") - ${3:-0})); }

start=$(date +%s%N)
"$lab" up >"$work/up.log" 2>&1 || fail "lab up" "$(tail -n 3 "$work/up.log")"
seed_xdp=$(xdp_variant seed-xdp.yaml)
check "the XDP variant of the seed passes --check" "$vpcdnsd" --check "$seed_xdp"
start_daemon "$seed_xdp"

# --- the NIC is shared: our program on it, no TAP, the addresses on the NIC itself -----------------------
check "our XDP program (steer_dns) is attached to $LAB_IF_FWD" \
	eval "in_fwd ip link show dev $LAB_IF_FWD | grep -q 'prog/xdp .* name steer_dns'"
check "no TAP: $LAB_IF_FWD, the uplink and lo are all the links in $LAB_NS_FWD" \
	test "$(in_fwd ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | sort | tr '\n' ' ')" = \
	"lo $LAB_IF_FWD $LAB_IF_UP "
# (looked at for up to 2 s: once, right after start, the address list came back without it)
check "the resolver address $LAB_RESOLVER is on $LAB_IF_FWD" \
	eval "(for _ in \$(seq 20); do in_fwd ip -o addr show dev $LAB_IF_FWD | grep -q ' $LAB_RESOLVER/32 ' && exit 0; sleep 0.1; done; exit 1)"
check "the on-link route to the VPC goes out of $LAB_IF_FWD" \
	eval "in_fwd ip route show $LAB_VPC_CIDR | grep -q 'dev $LAB_IF_FWD'"

# --- UDP: the lcore ------------------------------------------------------------------------------------------
queries_before=$(counter all queries)
to_dns_before=$(counter "xdp lab0" to_dns)
expect "UDP: www.onprem.com through the forward rule" "$LAB_WWW_A" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW")"
expect "... steered to DPDK by the XDP program" 1 "$(delta "xdp lab0" to_dns "$to_dns_before")"
expect "... and answered by the lcore" 1 "$(delta all queries "$queries_before")"
check "... which forwarded it with a flow port the program steered back" \
	test "$(counter "xdp lab0" to_flow)" -ge 1
expect "UDP on 169.254.169.253" "$LAB_WWW_A" "$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER_LL" "$LAB_WWW")"

# --- TCP: the kernel's, on vpcdns-fw0 -----------------------------------------------------------------------
accepted_before=$(counter "control core: tcp clients" accepted)
pass_tcp_before=$(counter "xdp lab0" pass_tcp)
expect "TCP: www.onprem.com (dig +tcp)" "$LAB_WWW_A" "$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW" +tcp)"
expect "... accepted by the control core's TCP server once" 1 \
	"$(delta "control core: tcp clients" accepted "$accepted_before")"
check "... its segments passed to the kernel by the XDP program" \
	test "$(delta "xdp lab0" pass_tcp "$pass_tcp_before")" -ge 3
check "... the kernel's neighbour entry for the client holds its MAC (from what io heard)" \
	eval "in_fwd ip neigh show $LAB_CLIENT dev $LAB_IF_FWD | grep -qE 'lladdr ..:..:..:..:..:.. (REACHABLE|STALE|DELAY|PROBE)'"
check "... the kernel's listening socket is bound to $LAB_IF_FWD itself (ss)" \
	eval "in_fwd ss -ltn | grep -qE '$LAB_RESOLVER%$LAB_IF_FWD:53 '"
expect "TCP on 169.254.169.253" "$LAB_WWW_A" "$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER_LL" "$LAB_WWW" +tcp)"
inbound=${LAB_ENDPOINT_IN%% *}
expect "TCP on the inbound endpoint address $inbound" "$LAB_WWW_A" \
	"$(first_a "$LAB_NS_CLI" @"$inbound" "$LAB_WWW" +tcp)"
expect "TCP: the seed's large.onprem.com, all $LAB_LARGE_COUNT records" "$LAB_LARGE_COUNT" \
	"$(answers_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_LARGE" +tcp)"
expect "... in the seed's 1,645 octets" 1645 "$(size_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_LARGE" +tcp)"
expect "the seed's client of 1232 octets gets TC=1 over UDP, comes back over TCP and gets all $LAB_LARGE_COUNT" \
	"$LAB_LARGE_COUNT" "$(answers_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_LARGE" +bufsize=1232)"
for i in $(seq 50); do
	ip netns exec "$LAB_NS_CLI" dig +tcp +time=5 +tries=1 +short @"$LAB_RESOLVER" "$LAB_WWW" >"$work/tcp.$i" 2>&1 &
done
for job in $(jobs -p); do [ "$job" = "$daemon_pid" ] || wait "$job"; done
expect "50 TCP clients at once are all answered" 50 "$(cat "$work"/tcp.* | grep -c "^$LAB_WWW_A$")"

# --- the kernel's other business ------------------------------------------------------------------------------
# echo NS ADDR: one ICMP echo to ADDR from NS answered within 2 s (a raw socket: no ping on the machine).
echo_answered() {
	ip netns exec "$1" /usr/bin/python3 - "$2" <<'PY'
import socket, struct, sys
def csum(b):
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    s = (s >> 16) + (s & 0xffff)
    return ~(s + (s >> 16)) & 0xffff
body = struct.pack("!BBHHH", 8, 0, 0, 0x7864, 1) + b"vpcdns-xdp-echo!"
body = body[:2] + struct.pack("!H", csum(body)) + body[4:]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(2)
s.sendto(body, (sys.argv[1], 0))
while True:
    data, (src, _) = s.recvfrom(2048)
    icmp = data[(data[0] & 15) * 4:]
    if src == sys.argv[1] and icmp[0] == 0 and icmp[4:6] == body[4:6]:
        sys.exit(0)
PY
}
other_before=$(counter "xdp lab0" pass_other)
check "an ICMP echo to $LAB_RESOLVER is answered by the kernel" echo_answered "$LAB_NS_CLI" "$LAB_RESOLVER"
check "... passed to it as ICMP" test "$(delta "xdp lab0" pass_other "$other_before")" -ge 1
port_before=$(counter "xdp lab0" pass_udp_port)
refused=$(ask "$LAB_NS_CLI" -p 5353 @"$LAB_RESOLVER" "$LAB_WWW" | grep -c 'connection refused')
check "UDP to $LAB_RESOLVER on a port not 53: the kernel's (port unreachable: dig says refused)" \
	test "$refused" -ge 1
check "... passed to it by the program" test "$(delta "xdp lab0" pass_udp_port "$port_before")" -ge 1

# --- recursion through the lab's offline internet (the control core's kernel sockets) ------------------------
expect "the seed's system rule: acme.onprem.com resolved from the public zone" \
	"$LAB_PUBLIC_ACME_A" "$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_PUBLIC_ACME")"
expect "the \".\" rule resolves www.xyz.com from the root" "$LAB_XYZ_WWW_A" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_XYZ_WWW")"
expect "... over TCP too" "$LAB_XYZ_WWW_A" "$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_XYZ_WWW" +tcp)"
expect "the seed's delegation: $LAB_DELEGATED from the delegated server (kernel UDP on port 61000+)" \
	"$LAB_DELEGATED_A" "$(first_a "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_DELEGATED")"
check "... whose answer the program passed to the kernel (the kernel's ports)" \
	test "$(counter "xdp lab0" pass_udp_port)" -ge 1
check "no steered frame met a queue without its socket" test "$(counter "xdp lab0" no_socket)" = 0
stop_daemon

check "after a stop: no address of vpcdns's is left on $LAB_IF_FWD" \
	eval "! in_fwd ip -o addr show dev $LAB_IF_FWD | grep -qE ' ($LAB_RESOLVER|$LAB_RESOLVER_LL|${LAB_ENDPOINT_OUT// /|}|${LAB_ENDPOINT_IN// /|})/'"
check "... nor its routes" eval "! in_fwd ip route show | grep -q '$LAB_VPC_CIDR'"
check "... nor its XDP program" eval "! in_fwd ip link show dev $LAB_IF_FWD | grep -q prog/xdp"

# --- upstream TCP fallback: the endpoint advertises 1232, so the target truncates large.onprem.com ----------
start_daemon "$(xdp_variant seed-1232.yaml 's/edns_udp_size: 4096/edns_udp_size: 1232/')"
fallbacks_before=$(counter all tcp_fallbacks)
expect "large.onprem.com truncated by the target is asked again over TCP: the client gets all $LAB_LARGE_COUNT" \
	"$LAB_LARGE_COUNT" "$(answers_of "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_LARGE" +bufsize=4096)"
check "... the lcore handed the truncated answer to the slow path" \
	test "$(delta all tcp_fallbacks "$fallbacks_before")" -ge 1
check "... whose TCP to the target went through the kernel on $LAB_IF_FWD" \
	test "$(counter "control core: upstream" sent_tcp)" -ge 1
stop_daemon

# --- a tagged VLAN needs 802.1Q sub-interfaces: refused on a kernel without them --------------------------
if in_fwd ip link add link "$LAB_IF_FWD" name vpcdns-vlt type vlan id 4000 2>/dev/null; then
	in_fwd ip link del vpcdns-vlt
	pass "a tagged VLAN in XDP mode: this kernel has 802.1Q, nothing to refuse (not checked)"
else
	"$lab" exec fwd "$vpcdnsd" --no-huge --run-seconds 5 "$(xdp_variant seed-vlan.yaml 's/vlan: 0/vlan: 100/')" \
		>"$work/vlan.log" 2>&1
	rc=$?
	check "a tagged VLAN in XDP mode on a kernel without 802.1Q: vpcdnsd refuses to start" test "$rc" != 0
	check "... and says why" grep -q "VLAN 100 in mode xdp needs the kernel's 802.1Q sub-interfaces" "$work/vlan.log"
	check "... leaving nothing on $LAB_IF_FWD" \
		eval "! in_fwd ip -o addr show dev $LAB_IF_FWD | grep -q ' $LAB_RESOLVER/'"
fi

finish_checks "lab XDP mode"
