/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/wire packets: Ethernet (one optional 802.1Q tag), IPv4, IPv6 and UDP headers parsed in place,
 * and the IPv4 header and UDP checksums, full (RFC 1071) and incremental (RFC 1624).
 */
#include <string.h>

#include "dp/wire/bytes.h"
#include "dp/wire/l2.h"
#include "dp/wire/wire.h"

#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define IPPROTO_UDP_   17
#define IPV6_FRAGMENT  44
#define IPV4_MF	       0x2000
#define IPV4_OFFSET    0x1fff

/* IPv6 next-header values that are extension headers (RFC 8200 4, RFC 7045 list). */
static bool is_ipv6_ext_hdr(uint8_t nh)
{
	switch (nh) {
	case 0:	  /* hop-by-hop */
	case 43:  /* routing */
	case 50:  /* ESP */
	case 51:  /* AH */
	case 60:  /* destination options */
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */
	case 253: /* experimental */
	case 254:
		return true;
	default:
		return false;
	}
}

/* The fast path serves one 802.1Q tag at most: QinQ goes to the slow path (WIRE_E_VLAN_STACKED). */
static enum wire_err parse_l2(const uint8_t *f, size_t len, struct wire_pkt *p, uint16_t *ethertype)
{
	struct wire_l2_hdr l2;
	enum wire_err err = wire_l2_parse(f, len, &l2);

	if (err == WIRE_E_FRAME_SHORT)
		return err;
	*ethertype = l2.ethertype;
	p->l3_off = l2.l3_off;
	p->has_vlan = l2.has_vlan;
	p->vlan_tci = l2.vlan_tci;
	p->vlan_id = l2.vlan_tci & 0x0fff;
	return err;
}

static enum wire_err parse_ipv4(const uint8_t *f, size_t len, struct wire_pkt *p)
{
	const uint8_t *ip = f + p->l3_off;
	size_t avail = len - p->l3_off;

	if (avail < WIRE_IPV4_HLEN)
		return WIRE_E_IP_SHORT;
	if ((ip[0] >> 4) != 4)
		return WIRE_E_IP_VERSION;
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	if (ihl < WIRE_IPV4_HLEN || ihl > avail)
		return WIRE_E_IPV4_IHL;
	size_t total = rd16(ip + 2);
	if (total < ihl || total > avail)
		return WIRE_E_IP_TOTAL_LEN;
	p->ip_version = 4;
	p->addr_len = 4;
	p->src_addr_off = p->l3_off + 12;
	p->dst_addr_off = p->l3_off + 16;
	if (rd16(ip + 6) & (IPV4_MF | IPV4_OFFSET))
		return WIRE_E_IP_FRAGMENT;
	if (ip[9] != IPPROTO_UDP_)
		return WIRE_E_NOT_UDP;
	p->l4_off = (uint16_t)(p->l3_off + ihl);
	p->ip_end = (uint16_t)(p->l3_off + total);
	return WIRE_OK;
}

static enum wire_err parse_ipv6(const uint8_t *f, size_t len, struct wire_pkt *p)
{
	const uint8_t *ip = f + p->l3_off;
	size_t avail = len - p->l3_off;

	if (avail < WIRE_IPV6_HLEN)
		return WIRE_E_IP_SHORT;
	if ((ip[0] >> 4) != 6)
		return WIRE_E_IP_VERSION;
	size_t payload = rd16(ip + 4);
	/* A zero payload length means a jumbogram, which needs a hop-by-hop header: malformed here.
	 */
	if (payload == 0 || WIRE_IPV6_HLEN + payload > avail)
		return WIRE_E_IP_TOTAL_LEN;
	p->ip_version = 6;
	p->addr_len = 16;
	p->src_addr_off = p->l3_off + 8;
	p->dst_addr_off = p->l3_off + 24;
	uint8_t next = ip[6];
	if (next == IPV6_FRAGMENT)
		return WIRE_E_IP_FRAGMENT;
	if (is_ipv6_ext_hdr(next))
		return WIRE_E_IPV6_EXT_HDR;
	if (next != IPPROTO_UDP_)
		return WIRE_E_NOT_UDP;
	p->l4_off = (uint16_t)(p->l3_off + WIRE_IPV6_HLEN);
	p->ip_end = (uint16_t)(p->l4_off + payload);
	return WIRE_OK;
}

static enum wire_err parse_udp(const uint8_t *f, struct wire_pkt *p)
{
	const uint8_t *udp = f + p->l4_off;
	size_t ip_payload = (size_t)p->ip_end - p->l4_off;

	if (ip_payload < WIRE_UDP_HLEN)
		return WIRE_E_UDP_SHORT;
	if (rd16(udp + 4) != ip_payload)
		return WIRE_E_UDP_LEN;
	p->src_port = rd16(udp);
	p->dst_port = rd16(udp + 2);
	p->payload_off = (uint16_t)(p->l4_off + WIRE_UDP_HLEN);
	p->payload_len = (uint16_t)(ip_payload - WIRE_UDP_HLEN);
	return WIRE_OK;
}

enum wire_err wire_pkt_parse(const uint8_t *frame, size_t len, struct wire_pkt *pkt)
{
	uint16_t ethertype;
	enum wire_err err;

	memset(pkt, 0, sizeof(*pkt));
	/* Offsets are 16-bit: a longer frame is no Ethernet frame we can carry. */
	if (len > UINT16_MAX)
		len = UINT16_MAX;
	err = parse_l2(frame, len, pkt, &ethertype);
	if (err)
		return err;
	if (ethertype == ETHERTYPE_IPV4)
		err = parse_ipv4(frame, len, pkt);
	else if (ethertype == ETHERTYPE_IPV6)
		err = parse_ipv6(frame, len, pkt);
	else
		return WIRE_E_ETHERTYPE;
	if (pkt->addr_len) {
		pkt->src_addr = frame + pkt->src_addr_off;
		pkt->dst_addr = frame + pkt->dst_addr_off;
	}
	if (err)
		return err;
	err = parse_udp(frame, pkt);
	return err;
}

void wire_pkt_set_payload_len(uint8_t *frame, struct wire_pkt *pkt, uint16_t payload_len)
{
	uint8_t *ip = frame + pkt->l3_off;
	uint16_t udp_len = (uint16_t)(WIRE_UDP_HLEN + payload_len);

	if (pkt->ip_version == 4) {
		uint16_t old_total = rd16(ip + 2);
		uint16_t total = (uint16_t)(pkt->l4_off - pkt->l3_off + udp_len);
		wr16(ip + 2, total);
		wr16(ip + 10, wire_cksum_update16(rd16(ip + 10), old_total, total));
	} else {
		wr16(ip + 4, udp_len);
	}
	wr16(frame + pkt->l4_off + 4, udp_len);
	pkt->payload_len = payload_len;
	pkt->ip_end = (uint16_t)(pkt->l4_off + udp_len);
}

/* ---- checksums ---- */

static uint16_t fold(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

/*
 * Sums 32-bit big-endian words into a 64-bit accumulator (no carry can be lost below 2^32 words),
 * which folds to the same one's-complement sum as 16-bit words would (RFC 1071 2(C)).
 */
static uint64_t sum_bytes(const uint8_t *d, size_t len, uint64_t sum)
{
	while (len >= 4) {
		sum += rd32(d);
		d += 4;
		len -= 4;
	}
	if (len >= 2) {
		sum += rd16(d);
		d += 2;
		len -= 2;
	}
	if (len)
		sum += (uint32_t)d[0] << 8;
	return sum;
}

uint16_t wire_cksum_sum(const uint8_t *data, size_t len, uint32_t initial)
{
	return fold(sum_bytes(data, len, initial));
}

uint16_t wire_ipv4_hdr_cksum(const uint8_t *ip)
{
	size_t ihl = (size_t)(ip[0] & 0xf) * 4;
	uint64_t sum = sum_bytes(ip, 10, 0);

	/* A header that never passed wire_pkt_parse must still not make us read before or past it.
	 */
	if (ihl < WIRE_IPV4_HLEN)
		ihl = WIRE_IPV4_HLEN;

	sum = sum_bytes(ip + 12, ihl - 12, sum);
	return (uint16_t)~fold(sum);
}

uint16_t wire_udp_cksum(const uint8_t *ip, const uint8_t *udp, size_t udp_len)
{
	uint64_t sum;

	if ((ip[0] >> 4) == 4)
		sum = sum_bytes(ip + 12, 8, 0);
	else
		sum = sum_bytes(ip + 8, 32, 0);
	sum += IPPROTO_UDP_ + (uint64_t)udp_len;
	sum = sum_bytes(udp, 6, sum);
	if (udp_len > WIRE_UDP_HLEN)
		sum = sum_bytes(udp + WIRE_UDP_HLEN, udp_len - WIRE_UDP_HLEN, sum);
	uint16_t ck = (uint16_t)~fold(sum);
	return ck ? ck : 0xffff;
}

void wire_pkt_set_cksums(uint8_t *frame, const struct wire_pkt *pkt)
{
	uint8_t *ip = frame + pkt->l3_off;
	uint8_t *udp = frame + pkt->l4_off;

	if (pkt->ip_version == 4)
		wr16(ip + 10, wire_ipv4_hdr_cksum(ip));
	wr16(udp + 6, wire_udp_cksum(ip, udp, (size_t)pkt->ip_end - pkt->l4_off));
}

bool wire_pkt_udp_cksum_ok(const uint8_t *frame, const struct wire_pkt *pkt)
{
	const uint8_t *ip = frame + pkt->l3_off;
	const uint8_t *udp = frame + pkt->l4_off;
	uint16_t stored = rd16(udp + 6);

	if (stored == 0)
		return pkt->ip_version == 4;
	return stored == wire_udp_cksum(ip, udp, (size_t)pkt->ip_end - pkt->l4_off);
}

uint16_t wire_cksum_update16(uint16_t hc, uint16_t old_word, uint16_t new_word)
{
	uint32_t sum = (uint16_t)~hc + (uint32_t)(uint16_t)~old_word + new_word;
	return (uint16_t)~fold(sum);
}

uint16_t wire_cksum_update_addr(uint16_t hc, const uint8_t *old_addr, const uint8_t *new_addr,
				size_t addr_len)
{
	uint64_t sum = (uint16_t)~hc;

	for (size_t i = 0; i + 1 < addr_len; i += 2)
		sum += (uint16_t)~rd16(old_addr + i) + (uint64_t)rd16(new_addr + i);
	return (uint16_t)~fold(sum);
}
