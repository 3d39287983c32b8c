/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tests/fuzz: the libFuzzer target for dp/wire. Every input is tried as an Ethernet frame, as a DNS
 * query and as a DNS response; whatever parses is walked and put through every in-place writer on a
 * copy of exactly its size (plus the room the writer may use), and the invariants are checked:
 * nothing is read or written past the span (ASan), offsets stay inside it, and what a writer
 * produced parses.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp/wire/wire.h"

#define RR_CAP 64

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

/* A heap copy with exactly `cap` octets, so ASan sees any write past what the writer may use. */
static uint8_t *copy_of(const uint8_t *data, size_t size, size_t cap)
{
	uint8_t *buf = malloc(cap ? cap : 1);
	CHECK(buf);
	memcpy(buf, data, size);
	return buf;
}

static void check_reparses(const uint8_t *buf, size_t len)
{
	struct wire_dns_msg m;
	size_t count;
	CHECK(wire_dns_parse_response(buf, len, &m, NULL, 0, &count) == WIRE_OK);
}

/* The uncompressed name at off (already validated by a parse): its octets into out[256]. */
static size_t decode_name(const uint8_t *msg, size_t off, uint8_t *out)
{
	size_t n = 0;
	while (msg[off] != 0) {
		if ((msg[off] & 0xc0) == 0xc0) {
			off = (size_t)(msg[off] & 0x3f) << 8 | msg[off + 1];
			continue;
		}
		memcpy(out + n, msg + off, msg[off] + 1u);
		n += msg[off] + 1u;
		off += msg[off] + 1u;
	}
	out[n++] = 0;
	return n;
}

/* Every record but the OPT that a rewrite kept reads the same owner name, type and RDATA size. */
static void check_records_kept(const uint8_t *was, size_t was_len, const uint8_t *now,
			       size_t now_len)
{
	static struct wire_rr a[RR_CAP], b[RR_CAP];
	uint8_t name_a[256], name_b[256];
	struct wire_dns_msg m;
	size_t na, nb;
	CHECK(wire_dns_parse_response(was, was_len, &m, a, RR_CAP, &na) == WIRE_OK);
	CHECK(wire_dns_parse_response(now, now_len, &m, b, RR_CAP, &nb) == WIRE_OK);
	for (size_t i = 0, j = 0; i < na && i < RR_CAP && j < nb && j < RR_CAP; i++) {
		if (a[i].type == WIRE_TYPE_OPT)
			continue;
		size_t la = decode_name(was, a[i].owner_off, name_a);
		CHECK(la == decode_name(now, b[j].owner_off, name_b) &&
		      !memcmp(name_a, name_b, la));
		CHECK(a[i].type == b[j].type && a[i].rdata_len == b[j].rdata_len);
		j++;
	}
}

static void fuzz_frame(const uint8_t *data, size_t size)
{
	struct wire_pkt p;
	if (wire_pkt_parse(data, size, &p) != WIRE_OK)
		return;
	CHECK(p.l3_off < p.l4_off && p.l4_off < p.payload_off);
	CHECK((size_t)p.payload_off + p.payload_len == p.ip_end && p.ip_end <= size);
	CHECK(p.src_addr == data + p.src_addr_off && p.src_addr_off + p.addr_len <= p.l4_off);

	uint8_t *buf = copy_of(data, size, size);
	wire_pkt_set_cksums(buf, &p);
	CHECK(wire_pkt_udp_cksum_ok(buf, &p));
	/* Incremental == full after an address and a word change. */
	uint8_t *ip = buf + p.l3_off, *udp = buf + p.l4_off;
	uint8_t addr[16];
	memcpy(addr, buf + p.dst_addr_off, p.addr_len);
	addr[0] ^= 0xa5;
	uint16_t ck = (uint16_t)(udp[6] << 8 | udp[7]);
	ck = wire_cksum_update_addr(ck, buf + p.src_addr_off, addr, p.addr_len);
	memcpy(buf + p.src_addr_off, addr, p.addr_len);
	uint16_t sport = (uint16_t)(udp[0] << 8 | udp[1]);
	ck = wire_cksum_update16(ck, sport, (uint16_t)~sport);
	udp[0] = (uint8_t)(~sport >> 8);
	udp[1] = (uint8_t)~sport;
	CHECK(wire_udp_cksum_store(ck) == wire_udp_cksum(ip, udp, (size_t)p.ip_end - p.l4_off));

	/* Shrink the payload (a truncated answer): the frame still parses, checksums right. */
	struct wire_pkt shrunk = p;
	wire_pkt_set_payload_len(buf, &shrunk, (uint16_t)(p.payload_len / 2));
	wire_pkt_set_cksums(buf, &shrunk);
	struct wire_pkt again;
	CHECK(wire_pkt_parse(buf, shrunk.ip_end, &again) == WIRE_OK);
	CHECK(again.payload_len == p.payload_len / 2 && wire_pkt_udp_cksum_ok(buf, &again));
	free(buf);
}

static void fuzz_answer(const uint8_t *data, size_t size, const struct wire_dns_msg *parsed,
			int rcode)
{
	struct wire_dns_msg m = *parsed;
	uint8_t *buf = copy_of(data, size, size);
	size_t len = size;
	if (wire_dns_make_answer(buf, &len, size, &m, rcode, 1232) == WIRE_OK) {
		CHECK(len <= size);
		check_reparses(buf, len);
	}
	free(buf);
}

static void fuzz_query(const uint8_t *data, size_t size)
{
	struct wire_dns_msg m;
	enum wire_err err = wire_dns_parse_query(data, size, &m);
	int rcode = wire_err_rcode(err);
	if (err != WIRE_OK) {
		if (rcode > 0)
			fuzz_answer(data, size, &m, rcode);
		return;
	}
	CHECK(m.msg_end == size && m.question_end <= size && m.qname_len <= WIRE_NAME_MAX);
	CHECK(m.qname_hash == wire_name_hash(data + WIRE_DNS_HLEN, m.qname_len));
	fuzz_answer(data, size, &m, WIRE_RCODE_SERVFAIL);

	/* Per-hop EDNS: set or add the OPT, and the query still parses. */
	uint8_t *buf = copy_of(data, size, size + WIRE_OPT_RR_LEN);
	size_t len = size;
	struct wire_dns_msg w = m;
	if (w.has_opt)
		CHECK(wire_dns_set_opt_udp_size(buf, &w, 4096) == WIRE_OK);
	else
		CHECK(wire_dns_append_opt(buf, &len, size + WIRE_OPT_RR_LEN, &w, 4096, true) ==
			  WIRE_OK ||
		      size + WIRE_OPT_RR_LEN > UINT16_MAX || m.arcount == UINT16_MAX);
	struct wire_dns_msg again;
	CHECK(wire_dns_parse_query(buf, len, &again) == WIRE_OK);
	CHECK(again.qname_hash == m.qname_hash);
	free(buf);
}

/* Forwarded back to a client: ID, flags, OPT size, the OPT stripped, an OPT appended again. */
static void fuzz_forward_back(const uint8_t *data, size_t size, const struct wire_dns_msg *m)
{
	uint8_t *buf = copy_of(data, size, size + WIRE_OPT_RR_LEN);
	size_t len = size;
	struct wire_dns_msg w = *m;
	wire_dns_set_id(buf, 0x5a5a);
	wire_dns_set_rcode(buf, WIRE_RCODE(m->flags));
	wire_dns_set_resolver_flags(buf, WIRE_FLAG_RD);
	if (w.has_opt) {
		CHECK(wire_dns_set_opt_udp_size(buf, &w, 512) == WIRE_OK);
		CHECK(wire_dns_strip_opt(buf, &len, &w) == WIRE_OK);
		CHECK(len == size - m->opt.len || len == m->opt.off);
		check_reparses(buf, len);
		check_records_kept(data, size, buf, len);
	}
	if (wire_dns_append_opt(buf, &len, size + WIRE_OPT_RR_LEN, &w, 1232, false) == WIRE_OK)
		check_reparses(buf, len);
	free(buf);
}

/* Truncated for a small client, with and without the OPT: same question, nothing else. */
static void fuzz_truncate(const uint8_t *data, size_t size, const struct wire_dns_msg *m)
{
	for (int keep = 0; keep < 2; keep++) {
		uint8_t *buf = copy_of(data, size, size);
		size_t len = size, count;
		struct wire_dns_msg w = *m, t;
		CHECK(wire_dns_truncate(buf, &len, &w, keep) == WIRE_OK);
		CHECK(len <= size);
		CHECK(wire_dns_parse_response(buf, len, &t, NULL, 0, &count) == WIRE_OK);
		CHECK(count == (keep && m->has_opt ? 1u : 0u));
		CHECK(wire_dns_same_question(data, m, buf, &t) == (m->question_end != 0));
		CHECK(wire_dns_udp_limit(&t) >= WIRE_UDP_MIN);
		free(buf);
	}
}

static void fuzz_response(const uint8_t *data, size_t size)
{
	struct wire_dns_msg m;
	struct wire_rr rrs[RR_CAP];
	size_t count = 0;
	if (wire_dns_parse_response(data, size, &m, rrs, RR_CAP, &count) != WIRE_OK)
		return;
	CHECK(count == (size_t)m.ancount + m.nscount + m.arcount && m.msg_end == size);
	for (size_t i = 0; i < count && i < RR_CAP; i++) {
		CHECK((size_t)rrs[i].rdata_off + rrs[i].rdata_len <= size);
		CHECK(rrs[i].ttl_off + 4u <= size);
		CHECK(rrs[i].type == WIRE_TYPE_OPT || wire_rr_ttl(data, &rrs[i]) <= 0x7fffffffu);
		size_t name_len = wire_name_length(data, size, rrs[i].owner_off);
		CHECK(name_len >= 1 && name_len <= WIRE_NAME_MAX);
	}
	fuzz_forward_back(data, size, &m);
	fuzz_truncate(data, size, &m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_frame(data, size);
	fuzz_query(data, size);
	fuzz_response(data, size);
	for (int e = 0; e <= WIRE_E__COUNT; e++)
		CHECK(wire_err_name((enum wire_err)e) != NULL);
	return 0;
}
