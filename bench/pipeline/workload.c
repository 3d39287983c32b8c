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

/* The name of query i's question, flipped to upper case on every other letter when mixed (the
 * 0x20 spelling a resolver may use), in wire form; its length. */
static size_t query_name(uint8_t *out, uint32_t name, bool mixed_case)
{
	char domain[96], text[128];
	wl_rule_domain(name % WL_RULES, domain, sizeof(domain));
	snprintf(text, sizeof(text), "h%u.%s", name, domain);
	size_t n = wire_name(out, text);
	for (size_t i = 0, letters = 0; mixed_case && i < n; i++)
		if (out[i] >= 'a' && out[i] <= 'z' && letters++ % 2 == 0)
			out[i] ^= 0x20;
	return n;
}

static uint16_t client_port(uint32_t client)
{
	return (uint16_t)(1024 + (client * 7919u) % 64000u);
}

static uint16_t client_id(uint32_t client)
{
	return (uint16_t)(client * 40503u);
}

/* 10.0.0.0/8 less the resolver's /24: WL_CLIENTS distinct clients */
static void client_addr(uint32_t client, uint8_t addr[4])
{
	addr[0] = 10;
	addr[1] = (uint8_t)(1 + ((client >> 16) & 0x7f));
	addr[2] = (uint8_t)(client >> 8);
	addr[3] = (uint8_t)client;
}

void wl_name_addr(uint32_t name, uint8_t addr[4])
{
	addr[0] = 100;
	addr[1] = (uint8_t)(64 + ((name >> 16) & 0x3f));
	addr[2] = (uint8_t)(name >> 8);
	addr[3] = (uint8_t)name;
}

size_t wl_client_query(uint8_t *f, const struct wl_query *q)
{
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
	client_addr(q->client, ip + 12);
	memcpy(ip + 16, wl_resolver, 4);
	put16(f + UDP_OFF, client_port(q->client));
	put16(f + UDP_OFF + 2, 53);

	uint8_t *dns = f + DNS_OFF;
	memset(dns, 0, 12);
	put16(dns, client_id(q->client));
	put16(dns + 2, WIRE_FLAG_RD);
	put16(dns + 4, 1);
	put16(dns + 10, 1);
	size_t n = 12 + query_name(dns + 12, q->name, q->mixed_case);
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

/* The i of a question "hI.<domain>" (any case); false for another name. */
static bool name_index(const uint8_t *qname, uint32_t *name)
{
	unsigned len = qname[0];
	uint64_t v = 0;
	if (len < 2 || len > 11 || (qname[1] | 0x20) != 'h')
		return false;
	for (unsigned k = 2; k <= len; k++) {
		if (qname[k] < '0' || qname[k] > '9')
			return false;
		v = v * 10 + (qname[k] - '0');
	}
	*name = (uint32_t)v;
	return v <= UINT32_MAX;
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

	/* one A record between the question and the OPT the DUT put last: the name's own address,
	 * so an answer given for another name shows */
	uint32_t name;
	uint8_t a[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, WL_ANSWER_TTL, 0, 4, 0, 0, 0, 0};
	if (!name_index(dns + WIRE_DNS_HLEN, &name))
		return false;
	wl_name_addr(name, a + 12);
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

bool wl_answer_client(const struct rte_mbuf *m, uint32_t *client)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	struct wire_pkt pkt;
	if (wire_pkt_parse(f, m->data_len, &pkt) != WIRE_OK || pkt.ip_version != 4 ||
	    pkt.vlan_id != WL_CLIENT_VLAN)
		return false;
	const uint8_t *a = f + pkt.dst_addr_off;
	if (a[0] != 10 || a[1] < 1 || a[1] > 0x80)
		return false;
	*client = (uint32_t)(a[1] - 1) << 16 | (uint32_t)a[2] << 8 | a[3];
	return true;
}

bool wl_is_answer_to(const struct rte_mbuf *m, const struct wl_query *q)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	struct wire_pkt pkt;
	uint8_t client[4], qname[WL_NAME_MAX], a[4];
	if (wire_pkt_parse(f, m->data_len, &pkt) != WIRE_OK || pkt.ip_version != 4 ||
	    pkt.vlan_id != WL_CLIENT_VLAN || memcmp(f, wl_gen_mac, 6) ||
	    memcmp(f + 6, wl_dut_mac, 6) || !wire_pkt_udp_cksum_ok(f, &pkt))
		return false;
	client_addr(q->client, client);
	if (memcmp(f + pkt.src_addr_off, wl_resolver, 4) || pkt.src_port != 53 ||
	    memcmp(f + pkt.dst_addr_off, client, 4) || pkt.dst_port != client_port(q->client))
		return false;
	/* the header: the client's ID and RD, an answer, NOERROR, one question and one record */
	const uint8_t *dns = f + pkt.payload_off;
	size_t qlen = query_name(qname, q->name, q->mixed_case);
	size_t rr = WIRE_DNS_HLEN + qlen + 4;
	if (pkt.payload_len < rr + 16)
		return false;
	uint16_t flags = get16(dns + 2);
	if (get16(dns) != client_id(q->client) || !(flags & WIRE_FLAG_QR) ||
	    !(flags & WIRE_FLAG_RD) || (flags & WIRE_FLAG_TC) || WIRE_RCODE(flags) != 0 ||
	    get16(dns + 4) != 1 || get16(dns + 6) != 1)
		return false;
	/* the question as the client spelled it, then the name's A record, its TTL aged at most */
	static const uint8_t a_in[] = {0xc0, 12, 0, 1, 0, 1};
	uint32_t ttl = (uint32_t)get16(dns + rr + 6) << 16 | get16(dns + rr + 8);
	wl_name_addr(q->name, a);
	return !memcmp(dns + WIRE_DNS_HLEN, qname, qlen) &&
	       get16(dns + WIRE_DNS_HLEN + qlen) == 1 &&
	       get16(dns + WIRE_DNS_HLEN + qlen + 2) == 1 && !memcmp(dns + rr, a_in, 6) &&
	       ttl <= WL_ANSWER_TTL && get16(dns + rr + 10) == 4 && !memcmp(dns + rr + 12, a, 4);
}
