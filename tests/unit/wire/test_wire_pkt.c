/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/unit/wire: Ethernet/VLAN/IPv4/IPv6/UDP parsing and the checksums, full and incremental. */
#include <criterion/criterion.h>

#include "dp/wire/wire.h"
#include "msgbuild.h"

static const uint8_t src4[4] = {10, 0, 0, 5}, dst4[4] = {10, 0, 0, 2};
static const uint8_t src6[16] = {0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5};
static const uint8_t dst6[16] = {0xfd, 0, 0xec, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0x53};
static const uint8_t dns[] = {0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 1};

static uint8_t frame[2048];
static struct wire_pkt pkt;

static size_t v4(int vlan)
{
	return mb_frame_v4(frame, dns, sizeof(dns), vlan, src4, dst4, 40000, 53);
}

Test(wire_pkt, parses_untagged_ipv4_udp)
{
	size_t len = v4(-1);
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_OK);
	cr_assert_eq(pkt.ip_version, 4);
	cr_assert_eq(pkt.l3_off, 14);
	cr_assert_eq(pkt.l4_off, 34);
	cr_assert_eq(pkt.payload_off, 42);
	cr_assert_eq(pkt.payload_len, sizeof(dns));
	cr_assert_not(pkt.has_vlan);
	cr_assert_eq(pkt.src_port, 40000);
	cr_assert_eq(pkt.dst_port, 53);
	cr_assert_eq(memcmp(pkt.src_addr, src4, 4), 0);
	cr_assert_eq(memcmp(pkt.dst_addr, dst4, 4), 0);
	cr_assert_eq(pkt.src_addr, frame + pkt.src_addr_off);
}

Test(wire_pkt, keeps_the_8021q_tci_and_vlan_id)
{
	size_t len = v4(0xa07b); /* PCP 5, VID 123 */
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_OK);
	cr_assert(pkt.has_vlan);
	cr_assert_eq(pkt.vlan_tci, 0xa07b);
	cr_assert_eq(pkt.vlan_id, 123);
	cr_assert_eq(pkt.l3_off, 18);
	cr_assert_eq(pkt.payload_off, 46);
}

Test(wire_pkt, allows_ipv4_header_options)
{
	size_t len = v4(-1);
	/* Insert 4 octets of options (NOP NOP NOP EOL) after the fixed header. */
	memmove(frame + 38, frame + 34, len - 34);
	memcpy(frame + 34, "\x01\x01\x01\x00", 4);
	frame[14] = 0x46;
	frame[17] += 4;
	len += 4;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_OK);
	cr_assert_eq(pkt.l4_off, 38);
	cr_assert_eq(pkt.payload_len, sizeof(dns));
}

Test(wire_pkt, ignores_ethernet_padding_past_the_ip_packet)
{
	size_t len = v4(-1);
	memset(frame + len, 0, 20);
	cr_assert_eq(wire_pkt_parse(frame, len + 20, &pkt), WIRE_OK);
	cr_assert_eq(pkt.payload_len, sizeof(dns));
}

Test(wire_pkt, parses_ipv6_udp)
{
	size_t len = mb_frame_v6(frame, dns, sizeof(dns), src6, dst6, 40000, 53);
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_OK);
	cr_assert_eq(pkt.ip_version, 6);
	cr_assert_eq(pkt.addr_len, 16);
	cr_assert_eq(pkt.l4_off, 54);
	cr_assert_eq(pkt.payload_len, sizeof(dns));
	cr_assert_eq(memcmp(pkt.dst_addr, dst6, 16), 0);
}

Test(wire_pkt, rejects_a_frame_shorter_than_ethernet)
{
	v4(-1);
	cr_assert_eq(wire_pkt_parse(frame, 13, &pkt), WIRE_E_FRAME_SHORT);
}

Test(wire_pkt, rejects_a_vlan_tag_cut_short)
{
	v4(5);
	cr_assert_eq(wire_pkt_parse(frame, 16, &pkt), WIRE_E_FRAME_SHORT);
}

Test(wire_pkt, sends_stacked_vlans_to_the_slow_path)
{
	size_t len = v4(5);
	frame[16] = 0x81;
	frame[17] = 0x00;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_VLAN_STACKED);
	frame[12] = 0x88;
	frame[13] = 0xa8;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_VLAN_STACKED);
	cr_assert(wire_err_not_ours(WIRE_E_VLAN_STACKED));
}

Test(wire_pkt, sends_an_8021ad_tag_inside_an_8021q_one_to_the_slow_path)
{
	size_t len = v4(5);
	frame[16] = 0x88;
	frame[17] = 0xa8;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_VLAN_STACKED);
	cr_assert(pkt.has_vlan);
	cr_assert_eq(pkt.vlan_id, 5);
}

Test(wire_pkt, sends_arp_to_the_slow_path)
{
	size_t len = v4(-1);
	frame[12] = 0x08;
	frame[13] = 0x06;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_ETHERTYPE);
	cr_assert(wire_err_not_ours(WIRE_E_ETHERTYPE));
}

Test(wire_pkt, rejects_a_truncated_ip_header)
{
	v4(-1);
	cr_assert_eq(wire_pkt_parse(frame, 14 + 19, &pkt), WIRE_E_IP_SHORT);
	mb_frame_v6(frame, dns, sizeof(dns), src6, dst6, 1, 53);
	cr_assert_eq(wire_pkt_parse(frame, 14 + 39, &pkt), WIRE_E_IP_SHORT);
}

Test(wire_pkt, rejects_an_ip_version_that_disagrees_with_the_ethertype)
{
	size_t len = v4(-1);
	frame[14] = 0x65;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_IP_VERSION);
}

Test(wire_pkt, rejects_an_ihl_below_five_or_past_the_packet)
{
	size_t len = v4(-1);
	frame[14] = 0x44;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_IPV4_IHL);
	frame[14] = 0x4f;
	cr_assert_eq(wire_pkt_parse(frame, 14 + 40, &pkt), WIRE_E_IPV4_IHL);
}

Test(wire_pkt, rejects_an_ip_total_length_past_the_frame)
{
	size_t len = v4(-1);
	cr_assert_eq(wire_pkt_parse(frame, len - 1, &pkt), WIRE_E_IP_TOTAL_LEN);
	frame[16] = 0;
	frame[17] = 19; /* below the header */
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_IP_TOTAL_LEN);
	len = mb_frame_v6(frame, dns, sizeof(dns), src6, dst6, 1, 53);
	cr_assert_eq(wire_pkt_parse(frame, len - 1, &pkt), WIRE_E_IP_TOTAL_LEN);
	frame[18] = frame[19] = 0; /* jumbogram */
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_IP_TOTAL_LEN);
}

Test(wire_pkt, sends_ipv4_fragments_to_the_slow_path)
{
	size_t len = v4(-1);
	frame[20] = 0x20; /* MF */
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_IP_FRAGMENT);
	cr_expect_eq(pkt.ip_version, 4, "what reassembly needs is filled in");
	cr_expect_eq(pkt.l3_off, WIRE_ETH_HLEN);
	cr_expect_eq(pkt.dst_addr, frame + WIRE_ETH_HLEN + 16);
	frame[20] = 0x00;
	frame[21] = 0x10; /* offset 16 */
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_IP_FRAGMENT);
	cr_assert(wire_err_not_ours(WIRE_E_IP_FRAGMENT));
}

Test(wire_pkt, sends_ipv6_fragments_and_extension_headers_to_the_slow_path)
{
	size_t len = mb_frame_v6(frame, dns, sizeof(dns), src6, dst6, 1, 53);
	frame[20] = 44;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_IP_FRAGMENT);
	frame[20] = 0; /* hop-by-hop */
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_IPV6_EXT_HDR);
	frame[20] = 60;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_IPV6_EXT_HDR);
	cr_assert(wire_err_not_ours(WIRE_E_IPV6_EXT_HDR));
}

Test(wire_pkt, sends_tcp_and_icmp_to_the_slow_path)
{
	size_t len = v4(-1);
	frame[23] = 6;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_NOT_UDP);
	len = mb_frame_v6(frame, dns, sizeof(dns), src6, dst6, 1, 53);
	frame[20] = 58;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_NOT_UDP);
}

Test(wire_pkt, rejects_an_ip_payload_too_short_for_udp)
{
	size_t len = v4(-1);
	frame[16] = 0;
	frame[17] = 27;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_UDP_SHORT);
	cr_assert_not(wire_err_not_ours(WIRE_E_UDP_SHORT));
}

Test(wire_pkt, rejects_a_udp_length_that_disagrees_with_ip)
{
	size_t len = v4(-1);
	frame[39] += 1;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_UDP_LEN);
	frame[38] = 0;
	frame[39] = 7;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_UDP_LEN);
}

Test(wire_pkt, malformed_l2_to_l4_reasons_are_dropped_silently)
{
	for (int e = WIRE_E_FRAME_SHORT; e <= WIRE_E_UDP_LEN; e++) {
		cr_assert_eq(wire_err_rcode(e), -1, "%s", wire_err_name(e));
		cr_assert_not(wire_err_not_ours(e), "%s", wire_err_name(e));
	}
}

/* ---- checksums ---- */

Test(wire_cksum, sum_matches_the_plain_rfc1071_loop_on_every_length)
{
	uint8_t data[300];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 37 + 11);
	for (size_t len = 0; len <= sizeof(data); len++)
		cr_assert_eq(wire_cksum_sum(data, len, 0), ref_sum(data, len, 0), "len %zu", len);
	memset(data, 0xff, sizeof(data));
	cr_assert_eq(wire_cksum_sum(data, 299, 0xffff), ref_sum(data, 299, 0xffff));
}

Test(wire_cksum, ipv4_header_checksum_verifies_to_zero)
{
	v4(-1);
	uint16_t ck = wire_ipv4_hdr_cksum(frame + 14);
	frame[24] = (uint8_t)(ck >> 8);
	frame[25] = (uint8_t)ck;
	cr_assert_eq((uint16_t)~ref_sum(frame + 14, 20, 0), 0);
}

Test(wire_cksum, udp_checksums_verify_for_ipv4_and_ipv6)
{
	size_t len = v4(-1);
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_OK);
	cr_assert(wire_pkt_udp_cksum_ok(frame, &pkt), "0 means no checksum on IPv4");
	wire_pkt_set_cksums(frame, &pkt);
	cr_assert(wire_pkt_udp_cksum_ok(frame, &pkt));
	frame[len - 1] ^= 1;
	cr_assert_not(wire_pkt_udp_cksum_ok(frame, &pkt));

	len = mb_frame_v6(frame, dns, sizeof(dns), src6, dst6, 40000, 53);
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_OK);
	cr_assert_not(wire_pkt_udp_cksum_ok(frame, &pkt), "IPv6 requires a UDP checksum");
	wire_pkt_set_cksums(frame, &pkt);
	cr_assert(wire_pkt_udp_cksum_ok(frame, &pkt));
	/* Independent check: pseudo-header + UDP sums to 0xffff with the checksum in place. */
	uint32_t pseudo = ref_sum(frame + 22, 32, 0);
	pseudo = ref_sum((const uint8_t[]){0, 17}, 2, pseudo);
	uint8_t l[2] = {(uint8_t)((8 + sizeof(dns)) >> 8), (uint8_t)(8 + sizeof(dns))};
	pseudo = ref_sum(l, 2, pseudo);
	cr_assert_eq(ref_sum(frame + 54, 8 + sizeof(dns), pseudo), 0xffff);
}

Test(wire_cksum, udp_checksum_of_zero_is_sent_as_ffff)
{
	cr_assert_eq(wire_udp_cksum_store(0), 0xffff);
	cr_assert_eq(wire_udp_cksum_store(0x1234), 0x1234);
}

static uint16_t stored16(size_t off)
{
	return be16(frame + off);
}

static void store16(size_t off, uint16_t v)
{
	frame[off] = (uint8_t)(v >> 8);
	frame[off + 1] = (uint8_t)v;
}

Test(wire_cksum, incremental_updates_equal_full_after_rewriting_ipv4_addresses_port_and_id)
{
	size_t len = v4(-1);
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_OK);
	wire_pkt_set_cksums(frame, &pkt);
	const uint8_t new_src[4] = {192, 168, 7, 9}, new_dst[4] = {172, 31, 255, 254};
	uint16_t ipck = stored16(24), udpck = stored16(40);

	ipck = wire_cksum_update_addr(ipck, frame + 26, new_src, 4);
	udpck = wire_cksum_update_addr(udpck, frame + 26, new_src, 4);
	memcpy(frame + 26, new_src, 4);
	ipck = wire_cksum_update_addr(ipck, frame + 30, new_dst, 4);
	udpck = wire_cksum_update_addr(udpck, frame + 30, new_dst, 4);
	memcpy(frame + 30, new_dst, 4);
	udpck = wire_cksum_update16(udpck, stored16(34), 5353);
	store16(34, 5353);
	udpck = wire_cksum_update16(udpck, stored16(42), 0xbeef); /* DNS ID */
	store16(42, 0xbeef);
	store16(24, ipck);
	store16(40, wire_udp_cksum_store(udpck));

	cr_assert_eq(ipck, wire_ipv4_hdr_cksum(frame + 14));
	cr_assert_eq(wire_udp_cksum_store(udpck),
		     wire_udp_cksum(frame + 14, frame + 34, 8 + sizeof(dns)));
}

Test(wire_cksum, incremental_updates_equal_full_after_rewriting_ipv6_addresses)
{
	size_t len = mb_frame_v6(frame, dns, sizeof(dns), src6, dst6, 40000, 53);
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_OK);
	wire_pkt_set_cksums(frame, &pkt);
	uint8_t new_src[16];
	for (int i = 0; i < 16; i++)
		new_src[i] = (uint8_t)(0xf0 + i);
	uint16_t udpck = wire_cksum_update_addr(stored16(60), frame + 22, new_src, 16);
	memcpy(frame + 22, new_src, 16);
	cr_assert_eq(wire_udp_cksum_store(udpck),
		     wire_udp_cksum(frame + 14, frame + 54, 8 + sizeof(dns)));
}

Test(wire_cksum, incremental_updates_equal_full_after_a_length_change)
{
	/* Truncate the payload by 4 octets: IPv4 total length, UDP length (twice: field and
	 * pseudo). */
	static const uint8_t big[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
	size_t len = mb_frame_v4(frame, big, sizeof(big), -1, src4, dst4, 1, 53);
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_OK);
	wire_pkt_set_cksums(frame, &pkt);
	uint16_t ipck = stored16(24), udpck = stored16(40);
	uint16_t old_total = stored16(16), old_udp = stored16(38);
	/* The dropped octets leave the sum too: subtract them as words changing to 0. */
	for (size_t i = 12; i < 16; i += 2)
		udpck = wire_cksum_update16(udpck, be16(frame + 42 + i), 0);
	ipck = wire_cksum_update16(ipck, old_total, (uint16_t)(old_total - 4));
	udpck = wire_cksum_update16(udpck, old_udp, (uint16_t)(old_udp - 4));
	udpck = wire_cksum_update16(udpck, old_udp, (uint16_t)(old_udp - 4));
	store16(16, (uint16_t)(old_total - 4));
	store16(38, (uint16_t)(old_udp - 4));
	cr_assert_eq(ipck, wire_ipv4_hdr_cksum(frame + 14));
	cr_assert_eq(wire_udp_cksum_store(udpck), wire_udp_cksum(frame + 14, frame + 34, 8 + 12));
}

Test(wire_cksum, incremental_update_handles_the_all_ones_edge)
{
	/* RFC 1624's example where eqn. 2 goes wrong: HC 0xdd2f, m 0x5555 -> 0x3285, expect 0x0000.
	 */
	cr_assert_eq(wire_cksum_update16(0xdd2f, 0x5555, 0x3285), 0x0000);
}

Test(wire_pkt, rejects_an_ipv6_header_with_another_version)
{
	size_t len = mb_frame_v6(frame, dns, sizeof(dns), src6, dst6, 1, 53);
	frame[14] = 0x40;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_E_IP_VERSION);
}

Test(wire_pkt, setting_a_shorter_payload_fixes_ipv6_and_udp_lengths)
{
	size_t len = mb_frame_v6(frame, dns, sizeof(dns), src6, dst6, 40000, 53);
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_OK);
	wire_pkt_set_payload_len(frame, &pkt, 12);
	wire_pkt_set_cksums(frame, &pkt);
	struct wire_pkt again;
	cr_assert_eq(wire_pkt_parse(frame, pkt.ip_end, &again), WIRE_OK);
	cr_assert_eq(again.payload_len, 12);
	cr_assert_eq(be16(frame + 18), 20);
	cr_assert(wire_pkt_udp_cksum_ok(frame, &again));
}

Test(wire_pkt, setting_a_longer_payload_drops_ethernet_padding_and_keeps_ipv4_checksum_right)
{
	size_t len = v4(5);
	cr_assert_eq(wire_pkt_parse(frame, len + 10, &pkt), WIRE_OK, "10 octets of padding");
	wire_pkt_set_cksums(frame, &pkt);
	wire_pkt_set_payload_len(frame, &pkt, (uint16_t)(sizeof(dns) + 8));
	cr_assert_eq(pkt.ip_end, len + 8);
	cr_assert_eq(be16(frame + 18 + 2), 20 + 8 + sizeof(dns) + 8);
	cr_assert_eq(be16(frame + 18 + 10), wire_ipv4_hdr_cksum(frame + 18));
}

Test(wire_cksum, ipv4_header_checksum_reads_20_octets_when_ihl_is_bogus)
{
	v4(-1);
	frame[14] = 0x40; /* IHL 0 */
	uint16_t bogus = wire_ipv4_hdr_cksum(frame + 14);
	frame[14] = 0x45;
	uint16_t right = wire_ipv4_hdr_cksum(frame + 14);
	/* Only the version/IHL octet differs between the two sums. */
	cr_assert_eq(wire_cksum_update16(bogus, 0x4000, 0x4500), right);
}

Test(wire_pkt, reads_no_further_than_64_kib_of_a_longer_buffer)
{
	static uint8_t big[70000];
	size_t len = v4(-1);
	memcpy(big, frame, len);
	cr_assert_eq(wire_pkt_parse(big, sizeof(big), &pkt), WIRE_OK, "the rest is padding");
	cr_assert_eq(pkt.payload_len, sizeof(dns));
}
