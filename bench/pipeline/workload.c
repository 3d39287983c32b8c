/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/pipeline workload: the one description both processes share (the DUT builds its tables
 * from it, the generator its frames), and the generator's view of the wire: client queries, a
 * target's answer made from a forwarded query, and the check of what reaches a client.
 */
#include <stdio.h>
#include <string.h>

#include "bench/pipeline/bench.h"
#include "dp/wire/wire.h"

const uint8_t wl_gen_mac[6] = {2, 0, 0, 0, 0, 1};
const uint8_t wl_dut_mac[6] = {2, 0, 0, 0, 0, 2};
const uint8_t wl_resolver[4] = {10, 0, 0, 2};
const uint8_t wl_endpoint[2][4] = {{192, 168, 1, 10}, {192, 168, 1, 11}};
const uint8_t wl_gateway[4] = {192, 168, 1, 1};

#define ETH_VLAN_HLEN 18
#define IP_OFF	      18
#define UDP_OFF	      38
#define DNS_OFF	      46

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

void wl_rule_domain(unsigned rule, char *buf, size_t len)
{
	switch (rule % 3) {
	case 0:
		snprintf(buf, len, "svc%u.example.com", rule);
		break;
	case 1:
		snprintf(buf, len, "app%u.team%u.corp.internal", rule, rule % 50);
		break;
	default:
		snprintf(buf, len, "db%u.eu%u.cloud%u.net", rule, rule % 4, rule % 9);
	}
}

void wl_target_addr(unsigned k, uint8_t addr[4])
{
	addr[0] = 192;
	addr[1] = 168;
	addr[2] = 2;
	addr[3] = (uint8_t)(k + 1);
}

/* Presentation name to wire form; its length. */
static size_t wire_name(uint8_t *out, const char *text)
{
	size_t n = 0;
	while (*text) {
		size_t label = strcspn(text, ".");
		out[n++] = (uint8_t)label;
		memcpy(out + n, text, label);
		n += label;
		text += label + (text[label] == '.');
	}
	out[n++] = 0;
	return n;
}

size_t wl_client_query(uint8_t *f, uint32_t i)
{
	char domain[96], name[128];
	wl_rule_domain(i % WL_RULES, domain, sizeof(domain));
	snprintf(name, sizeof(name), "h%u.%s", i, domain);

	memset(f, 0, DNS_OFF);
	memcpy(f, wl_dut_mac, 6);
	memcpy(f + 6, wl_gen_mac, 6);
	put16(f + 12, 0x8100);
	put16(f + 14, WL_CLIENT_VLAN);
	put16(f + 16, 0x0800);
	uint8_t *ip = f + IP_OFF;
	ip[0] = 0x45;
	ip[8] = 64;
	ip[9] = 17;
	/* 10.0.0.0/8 less the resolver's /24: 2^23 distinct clients */
	ip[12] = 10;
	ip[13] = (uint8_t)(1 + ((i >> 16) & 0x7f));
	ip[14] = (uint8_t)(i >> 8);
	ip[15] = (uint8_t)i;
	memcpy(ip + 16, wl_resolver, 4);
	put16(f + UDP_OFF, (uint16_t)(1024 + (i * 7919u) % 64000u));
	put16(f + UDP_OFF + 2, 53);

	uint8_t *dns = f + DNS_OFF;
	memset(dns, 0, 12);
	put16(dns, (uint16_t)(i * 40503u));
	put16(dns + 2, WIRE_FLAG_RD);
	put16(dns + 4, 1);
	put16(dns + 10, 1);
	size_t n = 12 + wire_name(dns + 12, name);
	static const uint8_t a_in_then_opt[] = {0, 1, 0, 1, 0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0};
	memcpy(dns + n, a_in_then_opt, sizeof(a_in_then_opt));
	n += sizeof(a_in_then_opt);

	size_t len = DNS_OFF + n;
	put16(ip + 2, (uint16_t)(len - IP_OFF));
	put16(f + UDP_OFF + 4, (uint16_t)(len - UDP_OFF));
	struct wire_pkt pkt;
	if (wire_pkt_parse(f, len, &pkt) != WIRE_OK)
		return 0;
	wire_pkt_set_cksums(f, &pkt);
	return len;
}

static bool is_target(const uint8_t *addr)
{
	return addr[0] == 192 && addr[1] == 168 && addr[2] == 2 && addr[3] >= 1 &&
	       addr[3] <= WL_TARGETS;
}

static bool is_endpoint(const uint8_t *addr)
{
	return !memcmp(addr, wl_endpoint[0], 4) || !memcmp(addr, wl_endpoint[1], 4);
}

static void swap(uint8_t *a, uint8_t *b, size_t n)
{
	uint8_t tmp[16];
	memcpy(tmp, a, n);
	memcpy(a, b, n);
	memcpy(b, tmp, n);
}

bool wl_target_answer(struct rte_mbuf *m)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *);
	struct wire_pkt pkt;
	struct wire_dns_msg msg;
	if (wire_pkt_parse(f, m->data_len, &pkt) != WIRE_OK || pkt.ip_version != 4 ||
	    pkt.vlan_id != WL_UPSTREAM_VLAN || pkt.dst_port != 53 ||
	    !is_target(f + pkt.dst_addr_off) || !is_endpoint(f + pkt.src_addr_off) ||
	    memcmp(f, wl_gen_mac, 6) || !wire_pkt_udp_cksum_ok(f, &pkt))
		return false;
	uint8_t *dns = f + pkt.payload_off;
	if (wire_dns_parse_query(dns, pkt.payload_len, &msg) != WIRE_OK || !msg.has_opt)
		return false;
	swap(f, f + 6, 6);
	swap(f + pkt.src_addr_off, f + pkt.dst_addr_off, 4);
	put16(f + pkt.l4_off, pkt.dst_port);
	put16(f + pkt.l4_off + 2, pkt.src_port);

	/* one A record between the question and the OPT the DUT put last */
	static const uint8_t a[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 172, 31, 55, 18};
	uint8_t *opt = dns + msg.question_end;
	size_t opt_len = pkt.payload_len - msg.question_end;
	if (rte_pktmbuf_tailroom(m) < sizeof(a))
		return false;
	memmove(opt + sizeof(a), opt, opt_len);
	memcpy(opt, a, sizeof(a));
	put16(dns + 2, WIRE_FLAG_QR | WIRE_FLAG_AA | WIRE_FLAG_RD);
	put16(dns + 6, 1);
	uint16_t len = (uint16_t)(pkt.payload_len + sizeof(a));
	rte_pktmbuf_append(m, (uint16_t)(pkt.payload_off + len - m->data_len));
	wire_pkt_set_payload_len(f, &pkt, len);
	wire_pkt_set_cksums(f, &pkt);
	return true;
}

bool wl_is_client_answer(const struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	struct wire_pkt pkt;
	if (wire_pkt_parse(f, m->data_len, &pkt) != WIRE_OK || pkt.vlan_id != WL_CLIENT_VLAN ||
	    pkt.src_port != 53 || memcmp(f + pkt.src_addr_off, wl_resolver, 4) ||
	    memcmp(f, wl_gen_mac, 6) || !wire_pkt_udp_cksum_ok(f, &pkt) || pkt.payload_len < 12)
		return false;
	const uint8_t *dns = f + pkt.payload_off;
	uint16_t flags = get16(dns + 2);
	return (flags & WIRE_FLAG_QR) && WIRE_RCODE(flags) == 0 && get16(dns + 6) == 1;
}
