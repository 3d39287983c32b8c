/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/wire ARP and neighbour discovery: parsing ARP (Ethernet/IPv4) and ICMPv6 NS/NA frames,
 * turning a request or solicitation for one of our addresses into the answer in place, and
 * building the requests that resolve a next hop's MAC. libc only, bounded by the spans given.
 */
#include <string.h>

#include "dp/wire/bytes.h"
#include "dp/wire/l2.h"
#include "dp/wire/wire.h"

#define ARP_HTYPE_ETHER	 1
#define ETHERTYPE_IPV4	 0x0800
#define IPPROTO_ICMPV6_	 58
#define ND_HOP_LIMIT	 255
#define ND_TARGET_OFF	 8 /* the target address, from the ICMPv6 header */
#define ND_OPT_UNIT	 8 /* option lengths count 8-octet units */
#define NA_WITH_TLLA_LEN (WIRE_ND_LEN + WIRE_ND_LLADDR_OPT_LEN)
#define IPV6_PAYLOAD_LEN 4
#define IPV6_NEXT_HEADER 6
#define IPV6_HOP_LIMIT	 7
#define IPV6_SRC	 8
#define IPV6_DST	 24

static const uint8_t all_nodes[16] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
static const uint8_t all_nodes_mac[WIRE_MAC_LEN] = {0x33, 0x33, 0, 0, 0, 1};
static const uint8_t broadcast_mac[WIRE_MAC_LEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* The Ethernet header (and tag) of an ARP or ND frame (ethertype); a stacked tag is neither's. */
static enum wire_err parse_l2(const uint8_t *frame, size_t len, uint16_t ethertype,
			      uint16_t *l3_off, bool *has_vlan, uint16_t *tci)
{
	struct wire_l2_hdr l2;
	enum wire_err err = wire_l2_parse(frame, len, &l2);

	if (err == WIRE_E_FRAME_SHORT)
		return err;
	*has_vlan = l2.has_vlan;
	*tci = l2.vlan_tci;
	if (err == WIRE_E_VLAN_STACKED || l2.ethertype != ethertype)
		return WIRE_E_ETHERTYPE;
	*l3_off = l2.l3_off;
	return WIRE_OK;
}

/* Writes the Ethernet header; returns the L3 offset. */
static size_t write_l2(uint8_t *buf, const struct wire_l2 *l2, const uint8_t *dst,
		       uint16_t ethertype)
{
	size_t off = 12;

	memcpy(buf, dst, WIRE_MAC_LEN);
	memcpy(buf + WIRE_MAC_LEN, l2->src, WIRE_MAC_LEN);
	if (l2->vlan_tagged) {
		wr16(buf + 12, WIRE_L2_ETHERTYPE_VLAN);
		wr16(buf + 14, l2->vlan_tci);
		off += WIRE_VLAN_HLEN;
	}
	wr16(buf + off, ethertype);
	return off + 2;
}

static size_t l2_len(const struct wire_l2 *l2)
{
	return WIRE_ETH_HLEN + (l2->vlan_tagged ? WIRE_VLAN_HLEN : 0);
}

/* Zero-pads a frame of len octets up to the Ethernet minimum; returns the padded length. */
static size_t pad_frame(uint8_t *buf, size_t len)
{
	if (len >= WIRE_ETH_MIN_LEN)
		return len;
	memset(buf + len, 0, WIRE_ETH_MIN_LEN - len);
	return WIRE_ETH_MIN_LEN;
}

static size_t frame_room(size_t len)
{
	return len < WIRE_ETH_MIN_LEN ? WIRE_ETH_MIN_LEN : len;
}

/* ---- ARP ---- */

enum wire_err wire_arp_parse(const uint8_t *frame, size_t len, struct wire_arp *arp)
{
	uint16_t off;
	enum wire_err err =
	    parse_l2(frame, len, WIRE_ETHERTYPE_ARP, &off, &arp->has_vlan, &arp->vlan_tci);

	if (err != WIRE_OK)
		return err;
	if (len < (size_t)off + WIRE_ARP_LEN)
		return WIRE_E_ARP_SHORT;

	const uint8_t *a = frame + off;
	if (rd16(a) != ARP_HTYPE_ETHER || rd16(a + 2) != ETHERTYPE_IPV4 || a[4] != WIRE_MAC_LEN ||
	    a[5] != 4)
		return WIRE_E_ARP_FORMAT;
	arp->op = rd16(a + 6);
	if (arp->op != WIRE_ARP_OP_REQUEST && arp->op != WIRE_ARP_OP_REPLY)
		return WIRE_E_ARP_OPCODE;

	arp->arp_off = off;
	arp->vlan_id = arp->vlan_tci & 0x0fff;
	memcpy(arp->sender_mac, a + 8, WIRE_MAC_LEN);
	memcpy(arp->sender_ip, a + 14, 4);
	memcpy(arp->target_mac, a + 18, WIRE_MAC_LEN);
	memcpy(arp->target_ip, a + 24, 4);
	return WIRE_OK;
}

void wire_arp_make_reply(uint8_t *frame, const struct wire_arp *req, const uint8_t *our_mac)
{
	uint8_t *a = frame + req->arp_off;

	memcpy(frame, req->sender_mac, WIRE_MAC_LEN);
	memcpy(frame + WIRE_MAC_LEN, our_mac, WIRE_MAC_LEN);
	wr16(a + 6, WIRE_ARP_OP_REPLY);
	memcpy(a + 8, our_mac, WIRE_MAC_LEN);
	memcpy(a + 14, req->target_ip, 4);
	memcpy(a + 18, req->sender_mac, WIRE_MAC_LEN);
	memcpy(a + 24, req->sender_ip, 4);
}

size_t wire_arp_build_request(uint8_t *buf, size_t cap, const struct wire_l2 *l2,
			      const uint8_t *sender_ip, const uint8_t *target_ip)
{
	size_t len = l2_len(l2) + WIRE_ARP_LEN;

	if (cap < frame_room(len))
		return 0;
	uint8_t *a = buf + write_l2(buf, l2, broadcast_mac, WIRE_ETHERTYPE_ARP);
	wr16(a, ARP_HTYPE_ETHER);
	wr16(a + 2, ETHERTYPE_IPV4);
	a[4] = WIRE_MAC_LEN;
	a[5] = 4;
	wr16(a + 6, WIRE_ARP_OP_REQUEST);
	memcpy(a + 8, l2->src, WIRE_MAC_LEN);
	memcpy(a + 14, sender_ip, 4);
	memset(a + 18, 0, WIRE_MAC_LEN);
	memcpy(a + 24, target_ip, 4);
	return pad_frame(buf, len);
}

/* ---- ICMPv6 neighbour discovery ---- */

bool wire_ipv6_unspecified(const uint8_t *addr)
{
	static const uint8_t zero[16];
	return memcmp(addr, zero, 16) == 0;
}

uint16_t wire_icmp6_cksum(const uint8_t *ip6, const uint8_t *icmp, size_t icmp_len)
{
	/* Pseudo-header: addresses, upper-layer length, next header (RFC 8200 8.1). */
	uint16_t sum = wire_cksum_sum(ip6 + IPV6_SRC, 32, (uint32_t)icmp_len + IPPROTO_ICMPV6_);
	sum = wire_cksum_sum(icmp, 2, sum);
	if (icmp_len > 4)
		sum = wire_cksum_sum(icmp + 4, icmp_len - 4, sum);
	return (uint16_t)~sum;
}

/* Finds the link-layer address option the message type carries; checks every option's length. */
static enum wire_err parse_nd_options(const uint8_t *opt, size_t len, uint8_t want,
				      struct wire_nd *nd)
{
	nd->has_lladdr = false;
	while (len > 0) {
		if (len < 2 || opt[1] == 0 || (size_t)opt[1] * ND_OPT_UNIT > len)
			return WIRE_E_ND_OPTION;
		size_t olen = (size_t)opt[1] * ND_OPT_UNIT;
		if (opt[0] == want && olen == WIRE_ND_LLADDR_OPT_LEN) {
			nd->has_lladdr = true;
			memcpy(nd->lladdr, opt + 2, WIRE_MAC_LEN);
		}
		opt += olen;
		len -= olen;
	}
	return WIRE_OK;
}

static enum wire_err parse_ipv6_icmp(const uint8_t *frame, size_t len, uint16_t l3,
				     struct wire_nd *nd)
{
	if (len < (size_t)l3 + WIRE_IPV6_HLEN || (frame[l3] >> 4) != 6)
		return WIRE_E_ND_NOT_ICMPV6;
	const uint8_t *ip6 = frame + l3;
	if (ip6[IPV6_NEXT_HEADER] != IPPROTO_ICMPV6_)
		return WIRE_E_ND_NOT_ICMPV6;
	nd->icmp_len = rd16(ip6 + IPV6_PAYLOAD_LEN);
	if (len < (size_t)l3 + WIRE_IPV6_HLEN + nd->icmp_len || nd->icmp_len < WIRE_ICMP6_HLEN)
		return WIRE_E_ND_SHORT;
	nd->l3_off = l3;
	nd->icmp_off = (uint16_t)(l3 + WIRE_IPV6_HLEN);
	memcpy(nd->src_ip, ip6 + IPV6_SRC, 16);
	memcpy(nd->dst_ip, ip6 + IPV6_DST, 16);
	return WIRE_OK;
}

enum wire_err wire_nd_parse(const uint8_t *frame, size_t len, struct wire_nd *nd)
{
	uint16_t l3;
	enum wire_err err =
	    parse_l2(frame, len, WIRE_ETHERTYPE_IPV6, &l3, &nd->has_vlan, &nd->vlan_tci);

	if (err != WIRE_OK)
		return err;
	nd->vlan_id = nd->vlan_tci & 0x0fff;
	memcpy(nd->eth_src, frame + WIRE_MAC_LEN, WIRE_MAC_LEN);

	err = parse_ipv6_icmp(frame, len, l3, nd);
	if (err != WIRE_OK)
		return err;
	const uint8_t *icmp = frame + nd->icmp_off;
	nd->type = icmp[0];
	if (nd->type != WIRE_ND_NS && nd->type != WIRE_ND_NA)
		return WIRE_E_ND_TYPE;
	if (nd->icmp_len < WIRE_ND_LEN)
		return WIRE_E_ND_SHORT;
	if (frame[l3 + IPV6_HOP_LIMIT] != ND_HOP_LIMIT)
		return WIRE_E_ND_HOP_LIMIT;
	if (icmp[1] != 0)
		return WIRE_E_ND_CODE;
	if (rd16(icmp + 2) != wire_icmp6_cksum(frame + l3, icmp, nd->icmp_len))
		return WIRE_E_ND_CKSUM;
	memcpy(nd->target, icmp + ND_TARGET_OFF, 16);
	if (nd->target[0] == 0xff)
		return WIRE_E_ND_TARGET;
	nd->na_flags = nd->type == WIRE_ND_NA ? rd32(icmp + 4) : 0;

	uint8_t want = nd->type == WIRE_ND_NS ? WIRE_ND_OPT_SRC_LLADDR : WIRE_ND_OPT_TGT_LLADDR;
	err = parse_nd_options(icmp + WIRE_ND_LEN, nd->icmp_len - WIRE_ND_LEN, want, nd);
	if (err != WIRE_OK)
		return err;
	/* RFC 4861 7.1.1: a probe from :: must not carry a source link-layer address. */
	if (nd->type == WIRE_ND_NS && nd->has_lladdr && wire_ipv6_unspecified(nd->src_ip))
		return WIRE_E_ND_DAD_SLLA;
	return WIRE_OK;
}

/* The NA's ICMPv6 body: flags, target, our target link-layer address option, checksum. */
static void write_na_body(uint8_t *ip6, uint32_t flags, const uint8_t *target,
			  const uint8_t *our_mac)
{
	uint8_t *icmp = ip6 + WIRE_IPV6_HLEN;

	icmp[0] = WIRE_ND_NA;
	icmp[1] = 0;
	wr16(icmp + 2, 0);
	wr32(icmp + 4, flags);
	memmove(icmp + ND_TARGET_OFF, target, 16);
	icmp[WIRE_ND_LEN] = WIRE_ND_OPT_TGT_LLADDR;
	icmp[WIRE_ND_LEN + 1] = 1;
	memcpy(icmp + WIRE_ND_LEN + 2, our_mac, WIRE_MAC_LEN);
	wr16(icmp + 2, wire_icmp6_cksum(ip6, icmp, NA_WITH_TLLA_LEN));
}

enum wire_err wire_nd_make_na(uint8_t *frame, size_t cap, size_t *len, const struct wire_nd *ns,
			      const uint8_t *our_mac)
{
	size_t new_len = (size_t)ns->icmp_off + NA_WITH_TLLA_LEN;
	bool probe = wire_ipv6_unspecified(ns->src_ip);

	if (cap < new_len)
		return WIRE_E_NO_ROOM;

	const uint8_t *eth_dst = probe ? all_nodes_mac : ns->has_lladdr ? ns->lladdr : ns->eth_src;
	memcpy(frame, eth_dst, WIRE_MAC_LEN);
	memcpy(frame + WIRE_MAC_LEN, our_mac, WIRE_MAC_LEN);

	uint8_t *ip6 = frame + ns->l3_off;
	wr32(ip6, 0x60000000u); /* version 6, traffic class and flow label 0 */
	wr16(ip6 + IPV6_PAYLOAD_LEN, NA_WITH_TLLA_LEN);
	ip6[IPV6_HOP_LIMIT] = ND_HOP_LIMIT;
	memcpy(ip6 + IPV6_SRC, ns->target, 16);
	memcpy(ip6 + IPV6_DST, probe ? all_nodes : ns->src_ip, 16);

	uint32_t flags = WIRE_ND_NA_OVERRIDE | (probe ? 0 : WIRE_ND_NA_SOLICITED);
	write_na_body(ip6, flags, ns->target, our_mac);
	*len = new_len;
	return WIRE_OK;
}

void wire_nd_solicited_node(const uint8_t *addr, uint8_t *group, uint8_t *mac)
{
	static const uint8_t prefix[13] = {0xff, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff};

	memcpy(group, prefix, sizeof(prefix));
	memcpy(group + 13, addr + 13, 3);
	mac[0] = 0x33;
	mac[1] = 0x33;
	memcpy(mac + 2, group + 12, 4);
}

size_t wire_nd_build_ns(uint8_t *buf, size_t cap, const struct wire_l2 *l2, bool unicast,
			const uint8_t *src_ip, const uint8_t *target)
{
	size_t icmp_len = WIRE_ND_LEN + WIRE_ND_LLADDR_OPT_LEN;
	size_t len = l2_len(l2) + WIRE_IPV6_HLEN + icmp_len;
	uint8_t group[16], group_mac[WIRE_MAC_LEN];

	if (cap < frame_room(len))
		return 0;
	wire_nd_solicited_node(target, group, group_mac);
	uint8_t *ip6 = buf + write_l2(buf, l2, unicast ? l2->dst : group_mac, WIRE_ETHERTYPE_IPV6);
	wr32(ip6, 0x60000000u);
	wr16(ip6 + IPV6_PAYLOAD_LEN, (uint16_t)icmp_len);
	ip6[IPV6_NEXT_HEADER] = IPPROTO_ICMPV6_;
	ip6[IPV6_HOP_LIMIT] = ND_HOP_LIMIT;
	memcpy(ip6 + IPV6_SRC, src_ip, 16);
	memcpy(ip6 + IPV6_DST, unicast ? target : group, 16);

	uint8_t *icmp = ip6 + WIRE_IPV6_HLEN;
	memset(icmp, 0, WIRE_ND_LEN);
	icmp[0] = WIRE_ND_NS;
	memcpy(icmp + ND_TARGET_OFF, target, 16);
	icmp[WIRE_ND_LEN] = WIRE_ND_OPT_SRC_LLADDR;
	icmp[WIRE_ND_LEN + 1] = 1;
	memcpy(icmp + WIRE_ND_LEN + 2, l2->src, WIRE_MAC_LEN);
	wr16(icmp + 2, wire_icmp6_cksum(ip6, icmp, icmp_len));
	return pad_frame(buf, len);
}
