/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tests/unit/wire: ARP and IPv6 neighbour discovery, against frames captured from the Linux kernel
 * (our answers must equal the kernel's byte for byte) and hand-made variants (VLAN tags, bad
 * lengths, bad checksums, duplicate address detection probes).
 */
#include <criterion/criterion.h>
#include <string.h>

#include "dp/wire/wire.h"
#include "nd_capture.h"

static const uint8_t mac_a[6] = {2, 0, 0, 0, 0, 0x0a}, mac_b[6] = {2, 0, 0, 0, 0, 0x0b};
static const uint8_t ip4_a[4] = {10, 9, 0, 1}, ip4_b[4] = {10, 9, 0, 2};
static const uint8_t ip6_a[16] = {0xfd, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t ip6_b[16] = {0xfd, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

static uint8_t frame[256];

/* Copies src into frame with an 802.1Q tag (TCI tci) inserted after the MACs. */
static size_t tagged(const uint8_t *src, size_t len, uint16_t tci)
{
	memcpy(frame, src, 12);
	frame[12] = 0x81;
	frame[13] = 0x00;
	frame[14] = (uint8_t)(tci >> 8);
	frame[15] = (uint8_t)tci;
	memcpy(frame + 16, src + 12, len - 12);
	return len + 4;
}

/* Copies src into frame with two tags after the MACs: TPID outer (TCI 7), then TPID inner (TCI 5).
 */
static size_t stacked(const uint8_t *src, size_t len, uint16_t outer, uint16_t inner)
{
	static const uint8_t tcis[2][2] = {{0, 7}, {0, 5}};
	uint16_t tpids[2] = {outer, inner};
	memcpy(frame, src, 12);
	for (int i = 0; i < 2; i++) {
		frame[12 + 4 * i] = (uint8_t)(tpids[i] >> 8);
		frame[13 + 4 * i] = (uint8_t)tpids[i];
		memcpy(frame + 14 + 4 * i, tcis[i], 2);
	}
	memcpy(frame + 20, src + 12, len - 12);
	return len + 8;
}

/* Recomputes the ICMPv6 checksum of the untagged NS/NA in frame after a test changed it. */
static void fix_cksum(size_t icmp_len)
{
	frame[56] = frame[57] = 0;
	uint16_t ck = wire_icmp6_cksum(frame + 14, frame + 54, icmp_len);
	frame[56] = (uint8_t)(ck >> 8);
	frame[57] = (uint8_t)ck;
}

static size_t copy(const uint8_t *src, size_t len)
{
	memcpy(frame, src, len);
	return len;
}

Test(wire_arp, parses_a_captured_request)
{
	struct wire_arp arp;
	cr_assert_eq(wire_arp_parse(captured_arp_request, sizeof(captured_arp_request), &arp),
		     WIRE_OK);
	cr_assert_eq(arp.op, WIRE_ARP_OP_REQUEST);
	cr_assert_eq(arp.arp_off, 14);
	cr_assert_not(arp.has_vlan);
	cr_assert_eq(memcmp(arp.sender_mac, mac_a, 6), 0);
	cr_assert_eq(memcmp(arp.sender_ip, ip4_a, 4), 0);
	cr_assert_eq(memcmp(arp.target_ip, ip4_b, 4), 0);
}

Test(wire_arp, reply_equals_the_kernels_byte_for_byte)
{
	struct wire_arp arp;
	size_t len = copy(captured_arp_request, sizeof(captured_arp_request));
	cr_assert_eq(wire_arp_parse(frame, len, &arp), WIRE_OK);
	wire_arp_make_reply(frame, &arp, mac_b);
	cr_assert_eq(len, sizeof(captured_arp_reply));
	cr_assert_arr_eq(frame, captured_arp_reply, len);
}

Test(wire_arp, reply_keeps_the_vlan_tag)
{
	struct wire_arp arp;
	size_t len = tagged(captured_arp_request, sizeof(captured_arp_request), 0x2007);
	cr_assert_eq(wire_arp_parse(frame, len, &arp), WIRE_OK);
	cr_assert(arp.has_vlan);
	cr_assert_eq(arp.vlan_id, 7);
	cr_assert_eq(arp.arp_off, 18);
	wire_arp_make_reply(frame, &arp, mac_b);

	uint8_t want[64];
	memcpy(want, captured_arp_reply, 12);
	memcpy(want + 12, "\x81\x00\x20\x07", 4);
	memcpy(want + 16, captured_arp_reply + 12, sizeof(captured_arp_reply) - 12);
	cr_assert_arr_eq(frame, want, len);
}

Test(wire_arp, parses_a_captured_reply_for_learning)
{
	struct wire_arp arp;
	cr_assert_eq(wire_arp_parse(captured_arp_reply, sizeof(captured_arp_reply), &arp), WIRE_OK);
	cr_assert_eq(arp.op, WIRE_ARP_OP_REPLY);
	cr_assert_eq(memcmp(arp.sender_mac, mac_b, 6), 0);
	cr_assert_eq(memcmp(arp.sender_ip, ip4_b, 4), 0);
}

Test(wire_arp, built_request_equals_the_kernels_padded_to_60)
{
	struct wire_l2 l2 = {.src = {2, 0, 0, 0, 0, 0x0a}};
	uint8_t buf[64];
	memset(buf, 0xee, sizeof(buf));
	size_t len = wire_arp_build_request(buf, sizeof(buf), &l2, ip4_a, ip4_b);
	cr_assert_eq(len, WIRE_ETH_MIN_LEN);
	cr_assert_arr_eq(buf, captured_arp_request, sizeof(captured_arp_request));
	for (size_t i = sizeof(captured_arp_request); i < len; i++)
		cr_assert_eq(buf[i], 0, "padding octet %zu", i);
}

Test(wire_arp, built_request_carries_the_tag_and_refuses_a_small_buffer)
{
	struct wire_l2 l2 = {.src = {2, 0, 0, 0, 0, 0x0a}, .vlan_tagged = true, .vlan_tci = 7};
	uint8_t buf[64];
	cr_assert_eq(wire_arp_build_request(buf, 59, &l2, ip4_a, ip4_b), 0);
	size_t len = wire_arp_build_request(buf, sizeof(buf), &l2, ip4_a, ip4_b);
	struct wire_arp arp;
	cr_assert_eq(wire_arp_parse(buf, len, &arp), WIRE_OK);
	cr_assert_eq(arp.vlan_id, 7);
	cr_assert_eq(arp.op, WIRE_ARP_OP_REQUEST);
	cr_assert_eq(memcmp(arp.target_ip, ip4_b, 4), 0);
}

Test(wire_arp, rejects_short_foreign_and_unknown_opcodes)
{
	struct wire_arp arp;
	size_t len = copy(captured_arp_request, sizeof(captured_arp_request));
	cr_assert_eq(wire_arp_parse(frame, 13, &arp), WIRE_E_FRAME_SHORT);
	cr_assert_eq(wire_arp_parse(frame, len - 1, &arp), WIRE_E_ARP_SHORT);
	frame[21] = 3; /* RARP request */
	cr_assert_eq(wire_arp_parse(frame, len, &arp), WIRE_E_ARP_OPCODE);
	frame[21] = 1;
	frame[19] = 16; /* protocol length of IPv6 */
	cr_assert_eq(wire_arp_parse(frame, len, &arp), WIRE_E_ARP_FORMAT);
	cr_assert_eq(wire_nd_parse(captured_arp_request, len, &(struct wire_nd){0}),
		     WIRE_E_ETHERTYPE);
}

Test(wire_nd, parses_a_captured_solicitation)
{
	struct wire_nd nd;
	cr_assert_eq(wire_nd_parse(captured_nd_ns, sizeof(captured_nd_ns), &nd), WIRE_OK);
	cr_assert_eq(nd.type, WIRE_ND_NS);
	cr_assert_eq(nd.icmp_off, 54);
	cr_assert_eq(nd.icmp_len, 32);
	cr_assert(nd.has_lladdr);
	cr_assert_eq(memcmp(nd.lladdr, mac_a, 6), 0);
	cr_assert_eq(memcmp(nd.src_ip, ip6_a, 16), 0);
	cr_assert_eq(memcmp(nd.target, ip6_b, 16), 0);
}

Test(wire_nd, advertisement_equals_the_kernels_byte_for_byte)
{
	struct wire_nd nd;
	size_t len = copy(captured_nd_ns, sizeof(captured_nd_ns));
	cr_assert_eq(wire_nd_parse(frame, len, &nd), WIRE_OK);
	cr_assert_eq(wire_nd_make_na(frame, sizeof(frame), &len, &nd, mac_b), WIRE_OK);
	cr_assert_eq(len, sizeof(captured_nd_na));
	cr_assert_arr_eq(frame, captured_nd_na, len);
}

Test(wire_nd, parses_a_captured_advertisement_for_learning)
{
	struct wire_nd nd;
	cr_assert_eq(wire_nd_parse(captured_nd_na, sizeof(captured_nd_na), &nd), WIRE_OK);
	cr_assert_eq(nd.type, WIRE_ND_NA);
	cr_assert_eq(nd.na_flags, WIRE_ND_NA_SOLICITED | WIRE_ND_NA_OVERRIDE);
	cr_assert(nd.has_lladdr);
	cr_assert_eq(memcmp(nd.lladdr, mac_b, 6), 0);
	cr_assert_eq(memcmp(nd.target, ip6_b, 16), 0);
}

Test(wire_nd, advertisement_keeps_the_vlan_tag)
{
	struct wire_nd nd;
	size_t len = tagged(captured_nd_ns, sizeof(captured_nd_ns), 0x0064);
	cr_assert_eq(wire_nd_parse(frame, len, &nd), WIRE_OK);
	cr_assert_eq(nd.vlan_id, 100);
	cr_assert_eq(wire_nd_make_na(frame, sizeof(frame), &len, &nd, mac_b), WIRE_OK);
	cr_assert_eq(len, sizeof(captured_nd_na) + 4);
	cr_assert_arr_eq(frame, captured_nd_na, 12);
	cr_assert_arr_eq(frame + 12, "\x81\x00\x00\x64", 4);
	cr_assert_arr_eq(frame + 16, captured_nd_na + 12, sizeof(captured_nd_na) - 12);
}

Test(wire_nd, built_solicitation_equals_the_kernels)
{
	struct wire_l2 l2 = {.src = {2, 0, 0, 0, 0, 0x0a}};
	uint8_t buf[128];
	size_t len = wire_nd_build_ns(buf, sizeof(buf), &l2, false, ip6_a, ip6_b);
	cr_assert_eq(len, sizeof(captured_nd_ns));
	cr_assert_arr_eq(buf, captured_nd_ns, len);
	cr_assert_eq(wire_nd_build_ns(buf, len - 1, &l2, false, ip6_a, ip6_b), 0);
}

Test(wire_nd, unicast_solicitation_goes_to_the_known_mac_and_address)
{
	struct wire_l2 l2 = {.src = {2, 0, 0, 0, 0, 0x0a}, .dst = {2, 0, 0, 0, 0, 0x0b}};
	uint8_t buf[128];
	struct wire_nd nd;
	size_t len = wire_nd_build_ns(buf, sizeof(buf), &l2, true, ip6_a, ip6_b);
	cr_assert_eq(wire_nd_parse(buf, len, &nd), WIRE_OK);
	cr_assert_arr_eq(buf, mac_b, 6);
	cr_assert_eq(memcmp(nd.dst_ip, ip6_b, 16), 0);
}

Test(wire_nd, solicited_node_group_and_mac_take_the_low_24_bits)
{
	const uint8_t addr[16] = {0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xab, 0xcd, 0xef};
	const uint8_t want[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xab, 0xcd, 0xef};
	const uint8_t want_mac[6] = {0x33, 0x33, 0xff, 0xab, 0xcd, 0xef};
	uint8_t group[16], mac[6];
	wire_nd_solicited_node(addr, group, mac);
	cr_assert_arr_eq(group, want, 16);
	cr_assert_arr_eq(mac, want_mac, 6);
}

Test(wire_nd, answers_a_probe_from_unspecified_to_all_nodes_unsolicited)
{
	/* A DAD probe: from ::, no source link-layer address option (icmp length 24). */
	struct wire_nd nd;
	size_t len = copy(captured_nd_ns, sizeof(captured_nd_ns)) - 8;
	memset(frame + 22, 0, 16);
	frame[19] = 24;
	fix_cksum(24);
	cr_assert_eq(wire_nd_parse(frame, len, &nd), WIRE_OK);
	cr_assert_not(nd.has_lladdr);

	cr_assert_eq(wire_nd_make_na(frame, len, &len, &nd, mac_b), WIRE_E_NO_ROOM);
	cr_assert_eq(wire_nd_make_na(frame, sizeof(frame), &len, &nd, mac_b), WIRE_OK);
	cr_assert_eq(len, 86, "grew by the target link-layer address option");
	struct wire_nd na;
	cr_assert_eq(wire_nd_parse(frame, len, &na), WIRE_OK);
	cr_assert_arr_eq(frame, "\x33\x33\x00\x00\x00\x01", 6);
	cr_assert_eq(na.dst_ip[0], 0xff);
	cr_assert_eq(na.dst_ip[15], 1);
	cr_assert_eq(na.na_flags, WIRE_ND_NA_OVERRIDE);
}

Test(wire_nd, rejects_a_probe_with_a_source_link_layer_address)
{
	struct wire_nd nd;
	size_t len = copy(captured_nd_ns, sizeof(captured_nd_ns));
	memset(frame + 22, 0, 16);
	fix_cksum(32);
	cr_assert_eq(wire_nd_parse(frame, len, &nd), WIRE_E_ND_DAD_SLLA);
}

Test(wire_nd, rejects_bad_checksum_hop_limit_code_and_type)
{
	struct wire_nd nd;
	size_t len = copy(captured_nd_ns, sizeof(captured_nd_ns));
	frame[57] ^= 1;
	cr_assert_eq(wire_nd_parse(frame, len, &nd), WIRE_E_ND_CKSUM);
	frame[57] ^= 1;
	frame[21] = 64;
	cr_assert_eq(wire_nd_parse(frame, len, &nd), WIRE_E_ND_HOP_LIMIT);
	frame[21] = 255;
	frame[55] = 1;
	cr_assert_eq(wire_nd_parse(frame, len, &nd), WIRE_E_ND_CODE);
	frame[55] = 0;
	frame[54] = 128; /* echo request */
	cr_assert_eq(wire_nd_parse(frame, len, &nd), WIRE_E_ND_TYPE);
	frame[54] = WIRE_ND_NS;
	frame[20] = 17; /* UDP */
	cr_assert_eq(wire_nd_parse(frame, len, &nd), WIRE_E_ND_NOT_ICMPV6);
}

Test(wire_nd, rejects_lengths_and_options_past_the_frame)
{
	struct wire_nd nd;
	size_t len = copy(captured_nd_ns, sizeof(captured_nd_ns));
	cr_assert_eq(wire_nd_parse(frame, len - 1, &nd), WIRE_E_ND_SHORT);
	cr_assert_eq(wire_nd_parse(frame, 50, &nd), WIRE_E_ND_NOT_ICMPV6);
	frame[79] = 0; /* option length 0 */
	fix_cksum(32);
	cr_assert_eq(wire_nd_parse(frame, len, &nd), WIRE_E_ND_OPTION);
	frame[79] = 2; /* 16 octets in an 8-octet space */
	fix_cksum(32);
	cr_assert_eq(wire_nd_parse(frame, len, &nd), WIRE_E_ND_OPTION);
}

Test(wire_nd, rejects_a_multicast_target)
{
	struct wire_nd nd;
	size_t len = copy(captured_nd_ns, sizeof(captured_nd_ns));
	frame[62] = 0xff;
	fix_cksum(32);
	cr_assert_eq(wire_nd_parse(frame, len, &nd), WIRE_E_ND_TARGET);
}

Test(wire_nd, new_reasons_have_names_and_never_answer)
{
	for (int e = WIRE_E_ARP_SHORT; e <= WIRE_E_ND_DAD_SLLA; e++) {
		cr_assert_neq(strcmp(wire_err_name(e), "unknown"), 0);
		cr_assert_eq(wire_err_rcode(e), -1);
		cr_assert_not(wire_err_not_ours(e));
	}
	cr_assert_str_eq(wire_err_name(WIRE_E_ND_CKSUM), "nd_cksum");
}

/* io's exception path hands frames both parsers call WIRE_E_ETHERTYPE to the kernel (TAP). */
Test(wire_nd, leaves_stacked_tags_to_others)
{
	static const uint16_t tpids[3][2] = {{0x8100, 0x8100}, {0x88a8, 0x8100}, {0x8100, 0x88a8}};
	struct wire_arp arp;
	struct wire_nd nd;
	for (int i = 0; i < 3; i++) {
		size_t len = stacked(captured_arp_request, sizeof(captured_arp_request),
				     tpids[i][0], tpids[i][1]);
		cr_assert_eq(wire_arp_parse(frame, len, &arp), WIRE_E_ETHERTYPE, "%04x/%04x",
			     tpids[i][0], tpids[i][1]);
		len = stacked(captured_nd_ns, sizeof(captured_nd_ns), tpids[i][0], tpids[i][1]);
		cr_assert_eq(wire_nd_parse(frame, len, &nd), WIRE_E_ETHERTYPE, "%04x/%04x",
			     tpids[i][0], tpids[i][1]);
	}
}

Test(wire_nd, rejects_a_vlan_tag_cut_short)
{
	struct wire_arp arp;
	struct wire_nd nd;
	tagged(captured_arp_request, sizeof(captured_arp_request), 7);
	for (size_t len = 14; len < 18; len++)
		cr_assert_eq(wire_arp_parse(frame, len, &arp), WIRE_E_FRAME_SHORT, "%zu", len);
	tagged(captured_nd_ns, sizeof(captured_nd_ns), 7);
	for (size_t len = 14; len < 18; len++)
		cr_assert_eq(wire_nd_parse(frame, len, &nd), WIRE_E_FRAME_SHORT, "%zu", len);
	cr_assert_eq(wire_nd_parse(frame, 13, &nd), WIRE_E_FRAME_SHORT);
}

Test(wire_nd, keeps_the_whole_tci)
{
	struct wire_arp arp;
	struct wire_nd nd;
	size_t len = tagged(captured_arp_request, sizeof(captured_arp_request), 0xa07b);
	cr_assert_eq(wire_arp_parse(frame, len, &arp), WIRE_OK);
	cr_assert_eq(arp.vlan_tci, 0xa07b);
	cr_assert_eq(arp.vlan_id, 123);
	len = tagged(captured_nd_ns, sizeof(captured_nd_ns), 0xa07b);
	cr_assert_eq(wire_nd_parse(frame, len, &nd), WIRE_OK);
	cr_assert(nd.has_vlan);
	cr_assert_eq(nd.vlan_tci, 0xa07b);
	cr_assert_eq(nd.vlan_id, 123);
	cr_assert_eq(nd.l3_off, 18);
}
