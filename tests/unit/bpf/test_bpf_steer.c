/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tests/unit/bpf: bpf/steer.bpf.c's verdicts on frames run through the kernel's verifier and
 * BPF_PROG_TEST_RUN, with its maps filled by bpf/steer.c as the daemon fills them. No AF_XDP
 * socket is in xsks_map here, so a steered frame comes back XDP_PASS and counts under no_socket
 * as well as under its verdict: the verdict counters are what the tests check, one frame at a
 * time.
 */
#include <criterion/criterion.h>
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_ether.h>
#include <string.h>
#include <unistd.h>

#include "bpf/steer_ctl.h"
#include "steer.skel.h"

#define FLOW_LO 1024
#define FLOW_HI 60999

static struct steer_bpf *skel;
static struct steer *maps;
static uint64_t before[STEER__COUNT];

#define RESOLVER (STEER_KIND_RESOLVER | STEER_KIND_NEIGH)
#define ENDPOINT (STEER_KIND_ENDPOINT | STEER_KIND_NEIGH)

static const uint8_t resolver4[4] = {172, 31, 0, 2}, endpoint4[4] = {172, 31, 1, 10},
		     inbound4[4] = {172, 31, 1, 20}, host4[4] = {172, 31, 9, 9},
		     client4[4] = {172, 31, 2, 118};
static const uint8_t resolver6[16] = {0xfd, 0, 0x0e, 0xc2, [15] = 0x53},
		     endpoint6[16] = {0xfd, 0, 0x0e, 0xc2, [15] = 0x10},
		     client6[16] = {0xfd, 0, 0x0e, 0xc2, [14] = 1, [15] = 0x18};
#define VLAN_TAGGED 100

static void setup(void)
{
	char err[256];
	if (geteuid() != 0)
		cr_skip_test("BPF_PROG_LOAD needs root");
	skel = steer_bpf__open_and_load();
	cr_assert_not_null(skel, "the verifier refused steer.bpf.o");
	maps = steer_open_program(bpf_program__fd(skel->progs.steer_dns), err, sizeof(err));
	cr_assert_not_null(maps, "%s", err);
	cr_assert_eq(steer_own(maps, 0, 4, resolver4, RESOLVER, err, sizeof(err)), 0);
	cr_assert_eq(steer_own(maps, 0, 4, endpoint4, ENDPOINT, err, sizeof(err)), 0);
	cr_assert_eq(steer_own(maps, 0, 6, resolver6, RESOLVER, err, sizeof(err)), 0);
	cr_assert_eq(steer_own(maps, 0, 6, endpoint6, ENDPOINT, err, sizeof(err)), 0);
	cr_assert_eq(steer_own(maps, VLAN_TAGGED, 4, endpoint4, RESOLVER, err, sizeof(err)), 0);
	/* an inbound endpoint address: io answers ARP for it, the kernel everything else */
	cr_assert_eq(steer_own(maps, 0, 4, inbound4, STEER_KIND_NEIGH, err, sizeof(err)), 0);
	cr_assert_eq(steer_set_flow_ports(maps, FLOW_LO, FLOW_HI, err, sizeof(err)), 0);
}

static void teardown(void)
{
	steer_close(maps);
	steer_bpf__destroy(skel);
}

TestSuite(bpf_steer, .init = setup, .fini = teardown);

/* --- frames --- */

struct frame {
	uint8_t b[256];
	size_t len;
};

static uint8_t *put(struct frame *f, const void *data, size_t n)
{
	uint8_t *at = f->b + f->len;
	if (data)
		memcpy(at, data, n);
	else
		memset(at, 0, n);
	f->len += n;
	return at;
}

static void put16(struct frame *f, uint16_t v)
{
	v = htons(v);
	put(f, &v, 2);
}

static void eth(struct frame *f, uint16_t vlan, uint16_t type)
{
	static const uint8_t macs[12] = {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2};
	f->len = 0;
	put(f, macs, sizeof(macs));
	if (vlan) {
		put16(f, ETH_P_8021Q);
		put16(f, vlan);
	}
	put16(f, type);
}

/* IPv4 with protocol proto to dst; frag is the frag_off field (host order). */
static void ipv4(struct frame *f, const uint8_t *dst, uint8_t proto, uint16_t frag)
{
	uint8_t *ip = put(f, NULL, 20);
	ip[0] = 0x45;
	ip[3] = 40;
	ip[6] = (uint8_t)(frag >> 8);
	ip[7] = (uint8_t)frag;
	ip[8] = 64;
	ip[9] = proto;
	memcpy(ip + 12, client4, 4);
	memcpy(ip + 16, dst, 4);
}

static void ipv6(struct frame *f, const uint8_t *dst, uint8_t next)
{
	uint8_t *ip = put(f, NULL, 40);
	ip[0] = 0x60;
	ip[5] = 20;
	ip[6] = next;
	ip[7] = 255;
	memcpy(ip + 8, client6, 16);
	memcpy(ip + 24, dst, 16);
}

static void l4_ports(struct frame *f, uint16_t dport, size_t header)
{
	put16(f, 40000);
	put16(f, dport);
	put(f, NULL, header - 4);
}

static struct frame udp4(uint16_t vlan, const uint8_t *dst, uint16_t dport)
{
	struct frame f;
	eth(&f, vlan, ETH_P_IP);
	ipv4(&f, dst, IPPROTO_UDP, 0);
	l4_ports(&f, dport, 8);
	put(&f, NULL, 12); /* a DNS header's worth */
	return f;
}

static struct frame udp6(const uint8_t *dst, uint16_t dport)
{
	struct frame f;
	eth(&f, 0, ETH_P_IPV6);
	ipv6(&f, dst, IPPROTO_UDP);
	l4_ports(&f, dport, 8);
	put(&f, NULL, 12);
	return f;
}

static struct frame tcp4(const uint8_t *dst, uint16_t dport)
{
	struct frame f;
	eth(&f, 0, ETH_P_IP);
	ipv4(&f, dst, IPPROTO_TCP, 0);
	l4_ports(&f, dport, 20);
	return f;
}

static struct frame arp(uint16_t op, const uint8_t *target)
{
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 2};
	struct frame f;
	eth(&f, 0, ETH_P_ARP);
	put16(&f, 1);
	put16(&f, ETH_P_IP);
	put(&f, (uint8_t[]){6, 4}, 2);
	put16(&f, op);
	put(&f, mac, 6);
	put(&f, client4, 4);
	put(&f, NULL, 6);
	put(&f, target, 4);
	return f;
}

/* An NS for target (to its solicited-node group) or an NA to dst about the client. */
static struct frame nd(uint8_t type, const uint8_t *dst, const uint8_t *target)
{
	struct frame f;
	eth(&f, 0, ETH_P_IPV6);
	ipv6(&f, dst, 58);
	put(&f, (uint8_t[]){type, 0, 0, 0, 0, 0, 0, 0}, 8);
	put(&f, target, 16);
	return f;
}

/* --- running --- */

/* Runs f through the program: its XDP verdict, and the one verdict counter that moved. */
static int run(const struct frame *f, enum steer_count *moved)
{
	for (int c = 0; c < STEER__COUNT; c++)
		before[c] = steer_count(maps, (enum steer_count)c);
	uint8_t out[256];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = f->b, .data_size_in = (uint32_t)f->len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	cr_assert_eq(bpf_prog_test_run_opts(bpf_program__fd(skel->progs.steer_dns), &opts), 0,
		     "BPF_PROG_TEST_RUN failed");
	int moved_count = 0;
	for (int c = 0; c < STEER_NO_SOCKET; c++) {
		uint64_t d = steer_count(maps, (enum steer_count)c) - before[c];
		if (d) {
			*moved = (enum steer_count)c;
			moved_count++;
			cr_assert_eq(d, 1, "%s moved by %llu", steer_count_name(c),
				     (unsigned long long)d);
		}
	}
	cr_assert_eq(moved_count, 1, "one frame, one verdict: %d moved", moved_count);
	return (int)opts.retval;
}

static uint64_t no_socket_moved(void)
{
	return steer_count(maps, STEER_NO_SOCKET) - before[STEER_NO_SOCKET];
}

/* f is steered to AF_XDP with verdict want: without a socket, passed and counted as such. */
static void expect_steered(const struct frame *f, enum steer_count want)
{
	enum steer_count got = STEER__COUNT;
	int rc = run(f, &got);
	cr_assert_eq(got, want, "verdict %s, wanted %s", steer_count_name(got),
		     steer_count_name(want));
	cr_assert_eq(rc, XDP_PASS, "no socket in xsks_map: XDP_PASS");
	cr_assert_eq(no_socket_moved(), 1, "a steered frame without a socket counts no_socket");
}

static void expect_passed(const struct frame *f, enum steer_count want)
{
	enum steer_count got = STEER__COUNT;
	int rc = run(f, &got);
	cr_assert_eq(got, want, "verdict %s, wanted %s", steer_count_name(got),
		     steer_count_name(want));
	cr_assert_eq(rc, XDP_PASS);
	cr_assert_eq(no_socket_moved(), 0, "a passed frame is not a steered one");
}

/* --- verdicts --- */

Test(bpf_steer, dns_to_a_resolver_address_is_steered)
{
	struct frame f = udp4(0, resolver4, 53);
	expect_steered(&f, STEER_TO_DNS);
	f = udp6(resolver6, 53);
	expect_steered(&f, STEER_TO_DNS);
}

Test(bpf_steer, udp_to_a_resolver_on_another_port_is_the_kernels)
{
	struct frame f = udp4(0, resolver4, 5353);
	expect_passed(&f, STEER_PASS_UDP_PORT);
	/* a resolver address is no endpoint: the flow ports are not vpcdns's there */
	f = udp4(0, resolver4, 40000);
	expect_passed(&f, STEER_PASS_UDP_PORT);
}

Test(bpf_steer, a_targets_answer_on_a_flow_port_is_steered)
{
	struct frame f = udp4(0, endpoint4, FLOW_LO);
	expect_steered(&f, STEER_TO_FLOW);
	f = udp4(0, endpoint4, FLOW_HI);
	expect_steered(&f, STEER_TO_FLOW);
	f = udp6(endpoint6, 33333);
	expect_steered(&f, STEER_TO_FLOW);
}

Test(bpf_steer, the_kernels_ports_on_an_endpoint_address_are_passed)
{
	struct frame f = udp4(0, endpoint4, FLOW_HI + 1);
	expect_passed(&f, STEER_PASS_UDP_PORT);
	f = udp4(0, endpoint4, 65535);
	expect_passed(&f, STEER_PASS_UDP_PORT);
	f = udp4(0, endpoint4, FLOW_LO - 1);
	expect_passed(&f, STEER_PASS_UDP_PORT);
	f = udp6(endpoint6, 61000);
	expect_passed(&f, STEER_PASS_UDP_PORT);
	/* DNS to an outbound endpoint address is not a resolver's */
	f = udp4(0, endpoint4, 53);
	expect_passed(&f, STEER_PASS_UDP_PORT);
}

Test(bpf_steer, no_flow_port_is_steered_before_the_control_core_sets_them)
{
	char err[128];
	cr_assert_eq(steer_set_flow_ports(maps, 0, 0, err, sizeof(err)), 0);
	struct frame f = udp4(0, endpoint4, 0);
	expect_passed(&f, STEER_PASS_UDP_PORT);
	f = udp4(0, endpoint4, 2000);
	expect_passed(&f, STEER_PASS_UDP_PORT);
}

Test(bpf_steer, tcp_to_owned_addresses_is_the_kernels)
{
	struct frame f = tcp4(resolver4, 53);
	expect_passed(&f, STEER_PASS_TCP);
	f = tcp4(endpoint4, 40000);
	expect_passed(&f, STEER_PASS_TCP);
	f.len = 0;
	eth(&f, 0, ETH_P_IPV6);
	ipv6(&f, resolver6, IPPROTO_TCP);
	l4_ports(&f, 53, 20);
	expect_passed(&f, STEER_PASS_TCP);
}

Test(bpf_steer, other_addresses_are_the_kernels)
{
	struct frame f = udp4(0, host4, 53);
	expect_passed(&f, STEER_PASS_NOT_OURS);
	f = udp6(client6, 53);
	expect_passed(&f, STEER_PASS_NOT_OURS);
	f = tcp4(host4, 22);
	expect_passed(&f, STEER_PASS_NOT_OURS);
}

Test(bpf_steer, icmp_to_an_owned_address_is_the_kernels)
{
	struct frame f;
	eth(&f, 0, ETH_P_IP);
	ipv4(&f, resolver4, IPPROTO_ICMP, 0);
	put(&f, (uint8_t[]){8, 0, 0, 0, 0, 1, 0, 1}, 8);
	expect_passed(&f, STEER_PASS_OTHER);
}

Test(bpf_steer, fragments_to_an_endpoint_address_are_steered)
{
	struct frame f;
	eth(&f, 0, ETH_P_IP);
	ipv4(&f, endpoint4, IPPROTO_UDP, 0x2000); /* MF, offset 0: the first, with the UDP header */
	l4_ports(&f, 65000, 8);
	expect_steered(&f, STEER_TO_FRAGMENT);
	eth(&f, 0, ETH_P_IP);
	ipv4(&f, endpoint4, IPPROTO_UDP, 185); /* the last: no UDP header, offset 1480 */
	put(&f, NULL, 20);
	expect_steered(&f, STEER_TO_FRAGMENT);
}

Test(bpf_steer, fragments_to_others_are_the_kernels)
{
	struct frame f;
	eth(&f, 0, ETH_P_IP);
	ipv4(&f, resolver4, IPPROTO_UDP, 0x2000);
	l4_ports(&f, 53, 8);
	expect_passed(&f, STEER_PASS_OTHER);
	eth(&f, 0, ETH_P_IP);
	ipv4(&f, host4, IPPROTO_UDP, 185);
	put(&f, NULL, 20);
	expect_passed(&f, STEER_PASS_NOT_OURS);
}

Test(bpf_steer, arp_about_an_owned_address_is_steered)
{
	struct frame f = arp(1, resolver4);
	expect_steered(&f, STEER_TO_ARP);
	f = arp(2, endpoint4); /* the answer to io's or the kernel's request */
	expect_steered(&f, STEER_TO_ARP);
}

Test(bpf_steer, arp_about_the_hosts_own_addresses_is_the_kernels)
{
	struct frame f = arp(1, host4);
	expect_passed(&f, STEER_PASS_NOT_IP);
	f = arp(2, host4);
	expect_passed(&f, STEER_PASS_NOT_IP);
}

Test(bpf_steer, neighbour_discovery_about_owned_addresses_is_steered)
{
	static const uint8_t solicited_node[16] = {0xff, 0x02, [11] = 1, [12] = 0xff, [15] = 0x53};
	struct frame f = nd(135, solicited_node, resolver6);
	expect_steered(&f, STEER_TO_ND);
	f = nd(136, endpoint6, client6);
	expect_steered(&f, STEER_TO_ND);
}

Test(bpf_steer, other_icmpv6_is_the_kernels)
{
	static const uint8_t all_nodes[16] = {0xff, 0x02, [15] = 1};
	struct frame f = nd(135, all_nodes, client6); /* NS for someone else */
	expect_passed(&f, STEER_PASS_OTHER);
	f = nd(136, all_nodes, client6); /* unsolicited NA to all nodes */
	expect_passed(&f, STEER_PASS_OTHER);
	f = nd(128, resolver6, resolver6); /* echo request */
	expect_passed(&f, STEER_PASS_OTHER);
}

Test(bpf_steer, addresses_are_owned_per_vlan)
{
	struct frame f = udp4(VLAN_TAGGED, endpoint4, 53);
	expect_steered(&f, STEER_TO_DNS);
	f = udp4(VLAN_TAGGED, resolver4, 53);
	expect_passed(&f, STEER_PASS_NOT_OURS);
	f = udp4(VLAN_TAGGED + 1, endpoint4, 53);
	expect_passed(&f, STEER_PASS_NOT_OURS);
}

Test(bpf_steer, other_ethertypes_and_short_frames_are_the_kernels)
{
	struct frame f;
	eth(&f, 0, 0x88cc); /* LLDP */
	put(&f, NULL, 40);
	expect_passed(&f, STEER_PASS_NOT_IP);
	f = udp4(0, resolver4, 53);
	f.len = 14 + 20 + 4; /* the UDP header cut short */
	expect_passed(&f, STEER_PASS_SHORT);
	f.len = 14 + 10;
	expect_passed(&f, STEER_PASS_SHORT);
}

Test(bpf_steer, the_maps_are_found_on_the_attached_program_by_name)
{
	char err[256];
	struct steer *again =
	    steer_open_program(bpf_program__fd(skel->progs.steer_dns), err, sizeof(err));
	cr_assert_not_null(again, "%s", err);
	struct frame f = udp4(0, resolver4, 53);
	enum steer_count got;
	run(&f, &got);
	cr_assert_eq(steer_count(again, STEER_TO_DNS), steer_count(maps, STEER_TO_DNS));
	cr_assert_gt(steer_count(again, STEER_TO_DNS), 0);
	steer_close(again);
	cr_assert_null(steer_open_interface("vpcdns-none0", err, sizeof(err)));
	cr_assert(strstr(err, "vpcdns-none0"), "%s", err);
}

Test(bpf_steer, an_address_owned_for_arp_only_leaves_its_ip_to_the_kernel)
{
	struct frame f = arp(1, inbound4);
	expect_steered(&f, STEER_TO_ARP);
	f = udp4(0, inbound4, 53);
	expect_passed(&f, STEER_PASS_NOT_OURS);
	f = tcp4(inbound4, 53);
	expect_passed(&f, STEER_PASS_NOT_OURS);
}
