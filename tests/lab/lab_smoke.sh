#!/usr/bin/env bash
# Smoke test of the network lab itself (scripts/lab), without the forwarder: the topology, the BIND
# targets and their answers, VLAN 100 isolation, the offline internet (root, com, auth) from the
# forwarder's uplink, the silence/capture/exec helpers, DPDK's testpmd
# receiving and sending on the forwarder's veth (net_af_xdp, then net_af_packet), and a clean `down`.
# Needs root. Prints one line per check and a final "N passed, N failed"; exits 1 on any failure.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
lab="$repo/scripts/lab"
# shellcheck source=scripts/lab.d/lab.env
. "$repo/scripts/lab.d/lab.env"
[ "$(id -u)" = 0 ] || {
	echo "lab_smoke: needs root" >&2
	exit 1
}

state=${VPCDNS_LAB_STATE:-/run/vpcdns-lab}
work=$(mktemp -d /tmp/vpcdns-lab-smoke.XXXXXX)
testpmd_pid=""
cleanup() {
	[ -n "$testpmd_pid" ] && kill -KILL "$testpmd_pid" 2>/dev/null
	"$lab" down >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# shellcheck source=tests/lab/checks.sh
. "$repo/tests/lab/checks.sh"
ASK_TIMEOUT=1
count_a() { ask "$@" | grep -cE '[[:space:]]IN[[:space:]]+A[[:space:]]'; }
no_answer() { ! ask "$@" | grep -q 'status:'; }

start=$(date +%s%N)

# --- up ------------------------------------------------------------------------------------------------
if "$lab" up >"$work/up.log" 2>&1; then pass "lab up builds the topology"; else
	fail "lab up builds the topology" "$(tail -n 3 "$work/up.log")"
fi
check "lab up is idempotent (a second up rebuilds cleanly)" "$lab" up
for ns in $LAB_NAMESPACES; do check "namespace $ns exists" test -e "/run/netns/$ns"; done

lab_addresses="$LAB_RESOLVER $LAB_RESOLVER_LL $LAB_ENDPOINT_OUT $LAB_ENDPOINT_IN $LAB_CLIENT $LAB_OUTSIDE_CLIENT $LAB_T1 $LAB_T2
	$LAB_INET_ROOT $LAB_INET_TLD $LAB_INET_AUTH $LAB_INET_UPLINK"
root_has_lab_address() {
	local a
	for a in $lab_addresses; do ip -o addr show | grep -qw "inet $a" && return 0; done
	return 1
}
check "the root namespace holds no lab address" eval '! root_has_lab_address'
expect "vpcdns-fw0 has no IP address (DPDK owns it)" "" \
	"$(ip -n "$LAB_NS_FWD" -o addr show dev "$LAB_IF_FWD" | grep -w inet)"
check "the forwarder owns $LAB_RESOLVER: nothing else in the lab has it" \
	eval "! for n in $LAB_NAMESPACES; do ip -n \$n -o addr; done | grep -qw 'inet $LAB_RESOLVER'"

tx_offload_left_on() {
	local ns dev
	for ns in $LAB_NAMESPACES; do
		for dev in $(ip -n "$ns" -o link show type veth | sed -n 's/^[0-9]*: \([^@:]*\).*/\1/p'); do
			ip netns exec "$ns" ethtool -k "$dev" | grep -q '^tx-checksumming: on' && return 0
		done
	done
	return 1
}
check "TX checksum offload is off on every lab veth, both ends" eval '! tx_offload_left_on'
for ns in $LAB_CLIENT_NAMESPACES; do
	expect "$ns: a bare dig asks the VPC resolver (resolv.conf)" "nameserver $LAB_RESOLVER" \
		"$(ip netns exec "$ns" grep '^nameserver' /etc/resolv.conf)"
done
check "the outside client has $LAB_OUTSIDE_CLIENT and an on-link route to $LAB_RESOLVER" \
	eval "ip -n $LAB_NS_OUT -o addr | grep -qw 'inet $LAB_OUTSIDE_CLIENT/$LAB_OUTSIDE_PREFIX' &&
	      ip -n $LAB_NS_OUT route get $LAB_RESOLVER | grep -q 'dev $LAB_IF_OUT src $LAB_OUTSIDE_CLIENT'"

# --- the targets ---------------------------------------------------------------------------------------
expect "cli: t1 answers $LAB_WWW with $LAB_WWW_A" "$LAB_WWW_A" "$(first_a "$LAB_NS_CLI" @"$LAB_T1" "$LAB_WWW")"
expect "cli: t2 answers $LAB_WWW with $LAB_WWW_A" "$LAB_WWW_A" "$(first_a "$LAB_NS_CLI" @"$LAB_T2" "$LAB_WWW")"
expect "cli: t1 answers as an authority (aa set)" "qr aa rd" "$(flags_of "$LAB_NS_CLI" @"$LAB_T1" "$LAB_WWW")"
expect "cli: t2 gives $LAB_LARGE's $LAB_LARGE_COUNT A records over TCP" "$LAB_LARGE_COUNT" \
	"$(count_a "$LAB_NS_CLI" @"$LAB_T2" "$LAB_LARGE" +tcp)"
expect "cli: t1 truncates $LAB_LARGE for a 1232-octet client (tc, no answers)" "qr aa tc rd:0" \
	"$(ask "$LAB_NS_CLI" @"$LAB_T1" "$LAB_LARGE" +bufsize=1232 +ignore |
		sed -n 's/^;; flags: \([a-z ]*\); QUERY: 1, ANSWER: \([0-9]*\),.*/\1:\2/p')"
expect "cli: t1 sends all of $LAB_LARGE over UDP to a 4096-octet client" "$LAB_LARGE_COUNT" \
	"$(count_a "$LAB_NS_CLI" @"$LAB_T1" "$LAB_LARGE" +bufsize=4096 +ignore)"
expect "cli: t1 says NXDOMAIN for a missing onprem.com name" NXDOMAIN \
	"$(status_of "$LAB_NS_CLI" @"$LAB_T1" nothing-here.onprem.com)"
expect "cli: t1 refuses $LAB_REFUSED" REFUSED "$(status_of "$LAB_NS_CLI" @"$LAB_T1" "$LAB_REFUSED")"
expect "cli: t2 refuses $LAB_REFUSED" REFUSED "$(status_of "$LAB_NS_CLI" @"$LAB_T2" "$LAB_REFUSED")"
expect "cli: t1 refuses $LAB_REFUSED_T1" REFUSED "$(status_of "$LAB_NS_CLI" @"$LAB_T1" "$LAB_REFUSED_T1")"
expect "cli: t2 answers $LAB_REFUSED_T1" "$LAB_REFUSED_T1_A" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_T2" "$LAB_REFUSED_T1")"
expect "cli: t1 refuses a name it does not serve ($LAB_NOT_SERVED)" REFUSED \
	"$(status_of "$LAB_NS_CLI" @"$LAB_T1" "$LAB_NOT_SERVED")"
expect "cli: t1 serves the seed's delegated $LAB_DELEGATED" "$LAB_DELEGATED_A" \
	"$(first_a "$LAB_NS_CLI" @"$LAB_T1" "$LAB_DELEGATED")"
check "t1's query log shows the client's queries" \
	grep -q "$LAB_CLIENT#[0-9]* ($LAB_WWW)" "$state/t1/query.log"

# --- VLAN 100: the second VPC, same CIDR ----------------------------------------------------------------
expect "cli2 (VLAN $LAB_VLAN2): $LAB_T3 is t3, answering $LAB_WWW_A_VLAN2" "$LAB_WWW_A_VLAN2" \
	"$(first_a "$LAB_NS_CLI2" @"$LAB_T3" "$LAB_WWW")"
check "cli2 (VLAN $LAB_VLAN2) cannot reach t2 on the untagged segment" no_answer "$LAB_NS_CLI2" @"$LAB_T2" "$LAB_WWW"
expect "t3 saw cli2's one query and none of cli's (same address, other VLAN)" 1 \
	"$(grep -c "($LAB_WWW)" "$state/t3/query.log")"

# --- the offline internet, from the forwarder's kernel uplink -------------------------------------------
refers_to() { ask "$1" +norec +noall +authority "$2" "$3" NS | awk '$4 == "NS" { print $5; exit }'; }
check "fwd: the uplink $LAB_IF_UP has $LAB_INET_UPLINK/$LAB_INET_PREFIX" \
	eval "ip -n $LAB_NS_FWD -o addr show dev $LAB_IF_UP | grep -qw 'inet $LAB_INET_UPLINK/$LAB_INET_PREFIX'"
expect "fwd: the root ($LAB_INET_ROOT) refers com to a.gtld-servers.com." a.gtld-servers.com. \
	"$(refers_to "$LAB_NS_FWD" @"$LAB_INET_ROOT" com)"
expect "fwd: the root's referral carries com's glue" "$LAB_INET_TLD" \
	"$(ask "$LAB_NS_FWD" +norec +noall +additional @"$LAB_INET_ROOT" com NS | awk '$4 == "A" { print $5; exit }')"
expect "fwd: com ($LAB_INET_TLD) refers xyz.com to ns1.xyz.com." ns1.xyz.com. \
	"$(refers_to "$LAB_NS_FWD" @"$LAB_INET_TLD" xyz.com)"
expect "fwd: com refers onprem.com (public) to ns1.xyz.com." ns1.xyz.com. \
	"$(refers_to "$LAB_NS_FWD" @"$LAB_INET_TLD" onprem.com)"
expect "fwd: auth answers $LAB_XYZ_WWW with $LAB_XYZ_WWW_A" "$LAB_XYZ_WWW_A" \
	"$(first_a "$LAB_NS_FWD" +norec @"$LAB_INET_AUTH" "$LAB_XYZ_WWW")"
expect "fwd: auth answers the public $LAB_PUBLIC_ACME with $LAB_PUBLIC_ACME_A" "$LAB_PUBLIC_ACME_A" \
	"$(first_a "$LAB_NS_FWD" +norec @"$LAB_INET_AUTH" "$LAB_PUBLIC_ACME")"
expect "fwd: auth answers the public $LAB_WWW with $LAB_PUBLIC_WWW_A (not t1's)" "$LAB_PUBLIC_WWW_A" \
	"$(first_a "$LAB_NS_FWD" +norec @"$LAB_INET_AUTH" "$LAB_WWW")"
expect "fwd: auth's $LAB_XYZ_ALIAS2 is a chain of two CNAMEs to $LAB_XYZ_WWW_A" \
	"alias.xyz.com. www.xyz.com. $LAB_XYZ_WWW_A" \
	"$(ask "$LAB_NS_FWD" +norec +short @"$LAB_INET_AUTH" "$LAB_XYZ_ALIAS2" | xargs)"
expect "fwd: auth says NXDOMAIN for $LAB_XYZ_MISSING" NXDOMAIN \
	"$(status_of "$LAB_NS_FWD" +norec @"$LAB_INET_AUTH" "$LAB_XYZ_MISSING")"
check "fwd: silent.com's server ($LAB_INET_SILENT) never answers" no_answer "$LAB_NS_FWD" @"$LAB_INET_SILENT" "$LAB_SILENT"
check "cli: the VPC's segment does not reach the internet's" no_answer "$LAB_NS_CLI" @"$LAB_INET_ROOT" com NS

# --- silence, capture, exec ----------------------------------------------------------------------------
"$lab" silence t1
check "silence t1: t1 no longer answers (UDP)" no_answer "$LAB_NS_CLI" @"$LAB_T1" "$LAB_WWW"
check "silence t1: t1 no longer answers (TCP)" no_answer "$LAB_NS_CLI" @"$LAB_T1" "$LAB_WWW" +tcp
expect "silence t1: t2 still answers" "$LAB_WWW_A" "$(first_a "$LAB_NS_CLI" @"$LAB_T2" "$LAB_WWW")"
"$lab" silence t2
check "silence t2 as well: t2 no longer answers" no_answer "$LAB_NS_CLI" @"$LAB_T2" "$LAB_WWW"
check "status reports the silenced targets" eval "[ \$('$lab' status | grep -c SILENCED) -eq 2 ]"
"$lab" unsilence t1
"$lab" unsilence t2
expect "unsilence: t1 answers again" "$LAB_WWW_A" "$(first_a "$LAB_NS_CLI" @"$LAB_T1" "$LAB_WWW")"
expect "unsilence: t2 answers again" "$LAB_WWW_A" "$(first_a "$LAB_NS_CLI" @"$LAB_T2" "$LAB_WWW")"

"$lab" capture t1 start "$work/t1.pcap"
ask "$LAB_NS_CLI" @"$LAB_T1" "$LAB_LARGE" +bufsize=4096 +ignore >/dev/null
"$lab" capture t1 stop "$work/t1.pcap"
check "capture t1: the target saw a 4096 OPT from the client" \
	eval "tcpdump -r '$work/t1.pcap' -n -vv 2>/dev/null | grep -A1 '$LAB_CLIENT\.[0-9]* > $LAB_T1\.53' | grep -q 'OPT UDPsize=4096'"
"$lab" capture sw start "$work/trunk.pcap" "vlan and arp"
ask "$LAB_NS_CLI2" @"$LAB_RESOLVER" "$LAB_WWW" >/dev/null
"$lab" capture sw stop "$work/trunk.pcap"
check "capture sw: cli2's ARP for $LAB_RESOLVER reaches the forwarder's port tagged $LAB_VLAN2" \
	eval "tcpdump -r '$work/trunk.pcap' -n -e 2>/dev/null | grep -q 'vlan $LAB_VLAN2, .*who-has $LAB_RESOLVER tell $LAB_CLIENT'"
"$lab" capture cli start "$work/spoof.pcap"
"$lab" exec t1 "$repo/scripts/lab.d/dns-spoof" --to "$LAB_CLIENT" --ports 40000-40002 --id 4242 \
	--name "$LAB_WWW" --answer 6.6.6.6 >/dev/null
"$lab" capture cli stop "$work/spoof.pcap"
expect "dns-spoof from t1: three forged answers with good checksums reach cli" 3 \
	"$(tcpdump -r "$work/spoof.pcap" -n -vv 2>/dev/null |
		grep -c "$LAB_T1\.53 > $LAB_CLIENT\.4000[0-2]: \[udp sum ok\] 4242\* .* A 6\.6\.6\.6")"
expect "exec: runs a command in a lab namespace" "$LAB_CLIENT/$LAB_CLIENT_PREFIX" \
	"$("$lab" exec cli ip -o -4 addr show dev "$LAB_IF_CLI" | awk '{print $4}')"
check "exec fwd: bpffs is mounted for XDP" "$lab" exec fwd mountpoint -q /sys/fs/bpf

# --- the forwarder's port: testpmd on vpcdns-fw0 -------------------------------------------------------
# 5tswap sends every frame back with MAC, IP and port swapped: a client's query returns to it, which
# proves DPDK receives from and transmits to the segment, untagged and on VLAN 100.
fw_mac=$(ip netns exec "$LAB_NS_FWD" cat "/sys/class/net/$LAB_IF_FWD/address")
testpmd_round_trip() { # DRIVER DEVICE-STRING
	local driver=$1 device=$2 fifo="$work/testpmd-$1.in" log="$work/testpmd-$1.log"
	local echoed=0 echoed2=0 echoed_ll=0 echoed_out=0
	# No ARP responder on the port: point the clients at its MAC by hand.
	ip -n "$LAB_NS_CLI" neigh replace "$LAB_RESOLVER" lladdr "$fw_mac" dev "$LAB_IF_CLI" nud permanent
	ip -n "$LAB_NS_CLI" neigh replace "$LAB_RESOLVER_LL" lladdr "$fw_mac" dev "$LAB_IF_CLI" nud permanent
	ip -n "$LAB_NS_CLI2" neigh replace "$LAB_RESOLVER" lladdr "$fw_mac" dev "$LAB_IF_CLI2" nud permanent
	ip -n "$LAB_NS_OUT" neigh replace "$LAB_RESOLVER" lladdr "$fw_mac" dev "$LAB_IF_OUT" nud permanent
	mkfifo "$fifo"
	# testpmd runs until its stdin closes (then prints its port statistics and exits); line-buffered
	# so that "Press enter to exit" says when it forwards.
	"$lab" exec fwd stdbuf -oL dpdk-testpmd -l 0,1 --no-huge -m 512 --no-pci --no-shconf --vdev "$device" -- \
		--forward-mode=5tswap --total-num-mbufs=16384 <"$fifo" >"$log" 2>&1 &
	testpmd_pid=$!
	exec 9>"$fifo"
	for _ in $(seq 100); do
		grep -q 'Press enter to exit' "$log" && break
		kill -0 "$testpmd_pid" 2>/dev/null || break
		sleep 0.1
	done
	for _ in $(seq 5); do
		ask "$LAB_NS_CLI" @"$LAB_RESOLVER" "$LAB_WWW" | grep -q 'query response not set' && {
			echoed=1
			break
		}
		kill -0 "$testpmd_pid" 2>/dev/null || break
	done
	ask "$LAB_NS_CLI2" @"$LAB_RESOLVER" "$LAB_WWW" | grep -q 'query response not set' && echoed2=1
	ask "$LAB_NS_CLI" @"$LAB_RESOLVER_LL" "$LAB_WWW" | grep -q 'query response not set' && echoed_ll=1
	ask "$LAB_NS_OUT" @"$LAB_RESOLVER" "$LAB_WWW" | grep -q 'query response not set' && echoed_out=1
	exec 9>&-
	for _ in $(seq 50); do
		kill -0 "$testpmd_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$testpmd_pid" 2>/dev/null
	wait "$testpmd_pid" 2>/dev/null
	testpmd_pid=""
	check "testpmd $driver: the device probes" eval "! grep -q 'probe failed' '$log' && grep -q 'Port 0: ' '$log'"
	expect "testpmd $driver: cli's query to $LAB_RESOLVER comes back through DPDK" 1 "$echoed"
	expect "testpmd $driver: cli2's tagged query comes back through DPDK" 1 "$echoed2"
	expect "testpmd $driver: cli's query to $LAB_RESOLVER_LL comes back through DPDK" 1 "$echoed_ll"
	expect "testpmd $driver: the outside client's query comes back through DPDK" 1 "$echoed_out"
	check "testpmd $driver: port statistics show RX and TX" eval \
		"grep -A1 'Forward statistics for port 0' '$log' | grep -qE 'RX-packets: [1-9]' &&
		 grep -A2 'Forward statistics for port 0' '$log' | grep -qE 'TX-packets: [1-9]'"
	rm -f "$fifo"
}
testpmd_round_trip af_xdp "$LAB_DEV_AF_XDP"
testpmd_round_trip af_packet "$LAB_DEV_AF_PACKET"

# --- down ----------------------------------------------------------------------------------------------
named_pids=$(cat "$state"/*/daemon.pid 2>/dev/null)
# A process a test left in the forwarder's namespace (a crashed test's forwarder, say).
"$lab" exec fwd sleep 300 &
stray_pid=$!
sleep 0.2
"$lab" down >/dev/null
lab_namespaces_left() {
	local ns
	for ns in $LAB_NAMESPACES; do [ -e "/run/netns/$ns" ] && return 0; done
	return 1
}
check "down: no lab namespace is left" eval '! lab_namespaces_left'
any_alive() {
	local pid
	for pid in "$@"; do kill -0 "$pid" 2>/dev/null && return 0; done
	return 1
}
expect "down: the lab had started six named (t1, t2, t3, root, com, auth)" 6 "$(echo "$named_pids" | wc -w)"
# shellcheck disable=SC2086,SC2016
check "down: every named it started has stopped" eval '! any_alive $named_pids'
check "down: a process left in a lab namespace is stopped too" eval "! any_alive $stray_pid"
check "down: the state directory is gone" test ! -e "$state"
check "down: the clients' /etc/netns entries are gone" eval "! ls -d /etc/netns/vpcdns-* 2>/dev/null"
check "down: a second down succeeds (idempotent)" "$lab" down
check "status after down says so" eval "'$lab' status | grep -q 'no lab namespace exists'"
ip netns add "$LAB_NS_T1" && ip netns add "$LAB_NS_SW"
check "down after a partial up removes what exists" eval "'$lab' down && ! lab_namespaces_left"

finish_checks "lab smoke"
