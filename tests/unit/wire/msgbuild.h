/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tests/unit/wire: a small builder for hand-made DNS messages and frames, so each test states the
 * bytes it feeds the parser without hex dumps. Test code only; it trusts its caller.
 */
#ifndef VPCDNS_TESTS_WIRE_MSGBUILD_H
#define VPCDNS_TESTS_WIRE_MSGBUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct mb {
	uint8_t b[70000];
	size_t n;
};

static inline void mb_u8(struct mb *m, uint8_t v)
{
	m->b[m->n++] = v;
}

static inline void mb_u16(struct mb *m, uint16_t v)
{
	mb_u8(m, (uint8_t)(v >> 8));
	mb_u8(m, (uint8_t)v);
}

static inline void mb_u32(struct mb *m, uint32_t v)
{
	mb_u16(m, (uint16_t)(v >> 16));
	mb_u16(m, (uint16_t)v);
}

static inline void mb_bytes(struct mb *m, const void *p, size_t len)
{
	memcpy(m->b + m->n, p, len);
	m->n += len;
}

static inline void mb_hdr(struct mb *m, uint16_t id, uint16_t flags, uint16_t qd, uint16_t an,
			  uint16_t ns, uint16_t ar)
{
	m->n = 0;
	mb_u16(m, id);
	mb_u16(m, flags);
	mb_u16(m, qd);
	mb_u16(m, an);
	mb_u16(m, ns);
	mb_u16(m, ar);
}

/* Appends "www.example.com" (or "." or "") as an uncompressed wire name. */
static inline void mb_name(struct mb *m, const char *text)
{
	while (*text && strcmp(text, ".") != 0) {
		const char *dot = strchr(text, '.');
		size_t len = dot ? (size_t)(dot - text) : strlen(text);
		mb_u8(m, (uint8_t)len);
		mb_bytes(m, text, len);
		text += len + (dot ? 1 : 0);
	}
	mb_u8(m, 0);
}

static inline void mb_ptr(struct mb *m, uint16_t off)
{
	mb_u16(m, (uint16_t)(0xc000 | off));
}

static inline void mb_question(struct mb *m, const char *name, uint16_t type, uint16_t qclass)
{
	mb_name(m, name);
	mb_u16(m, type);
	mb_u16(m, qclass);
}

/* The fixed part of a record after its owner name. */
static inline void mb_rr_fixed(struct mb *m, uint16_t type, uint16_t rclass, uint32_t ttl,
			       uint16_t rdlen)
{
	mb_u16(m, type);
	mb_u16(m, rclass);
	mb_u32(m, ttl);
	mb_u16(m, rdlen);
}

static inline void mb_a(struct mb *m, uint16_t owner_ptr, uint32_t ttl, uint32_t addr)
{
	mb_ptr(m, owner_ptr);
	mb_rr_fixed(m, 1, 1, ttl, 4);
	mb_u32(m, addr);
}

static inline void mb_opt(struct mb *m, uint16_t udp, uint8_t ext_rcode, uint8_t version,
			  bool do_bit, const uint8_t *opts, uint16_t optlen)
{
	mb_u8(m, 0);
	mb_rr_fixed(m, 41, udp,
		    (uint32_t)ext_rcode << 24 | (uint32_t)version << 16 | (do_bit ? 0x8000u : 0),
		    optlen);
	if (optlen)
		mb_bytes(m, opts, optlen);
}

/* A query: one question, RD, an OPT (udp 1232) when edns. */
static inline void mb_query(struct mb *m, uint16_t id, const char *name, uint16_t type, bool edns)
{
	mb_hdr(m, id, 0x0100, 1, 0, 0, edns ? 1 : 0);
	mb_question(m, name, type, 1);
	if (edns)
		mb_opt(m, 1232, 0, 0, false, NULL, 0);
}

static inline uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t be32(const uint8_t *p)
{
	return (uint32_t)be16(p) << 16 | be16(p + 2);
}

/*
 * The reference RFC 1071 checksum, written the plain way (16-bit words, end-around carry each
 * step), to check the module's faster sum against.
 */
static inline uint16_t ref_sum(const uint8_t *d, size_t len, uint32_t sum)
{
	for (size_t i = 0; i < len; i += 2) {
		uint16_t w = (uint16_t)(d[i] << 8 | (i + 1 < len ? d[i + 1] : 0));
		sum += w;
		sum = (sum & 0xffff) + (sum >> 16);
	}
	return (uint16_t)sum;
}

/* Wraps payload in Ethernet (+ optional 802.1Q) + IPv4 + UDP with zero checksums. Returns length.
 */
static inline size_t mb_frame_v4(uint8_t *f, const uint8_t *payload, size_t plen, int vlan_tci,
				 const uint8_t src[4], const uint8_t dst[4], uint16_t sport,
				 uint16_t dport)
{
	static struct mb scratch;
	struct mb *m = &scratch;
	m->n = 0;
	for (int i = 0; i < 12; i++)
		mb_u8(m, (uint8_t)(i + 1));
	if (vlan_tci >= 0) {
		mb_u16(m, 0x8100);
		mb_u16(m, (uint16_t)vlan_tci);
	}
	mb_u16(m, 0x0800);
	mb_u8(m, 0x45);
	mb_u8(m, 0);
	mb_u16(m, (uint16_t)(20 + 8 + plen));
	mb_u16(m, 0x1234);
	mb_u16(m, 0x4000); /* DF */
	mb_u8(m, 64);
	mb_u8(m, 17);
	mb_u16(m, 0);
	mb_bytes(m, src, 4);
	mb_bytes(m, dst, 4);
	mb_u16(m, sport);
	mb_u16(m, dport);
	mb_u16(m, (uint16_t)(8 + plen));
	mb_u16(m, 0);
	mb_bytes(m, payload, plen);
	memcpy(f, m->b, m->n);
	return m->n;
}

static inline size_t mb_frame_v6(uint8_t *f, const uint8_t *payload, size_t plen,
				 const uint8_t src[16], const uint8_t dst[16], uint16_t sport,
				 uint16_t dport)
{
	static struct mb scratch;
	struct mb *m = &scratch;
	m->n = 0;
	for (int i = 0; i < 12; i++)
		mb_u8(m, (uint8_t)(i + 1));
	mb_u16(m, 0x86dd);
	mb_u32(m, 0x60000000);
	mb_u16(m, (uint16_t)(8 + plen));
	mb_u8(m, 17);
	mb_u8(m, 64);
	mb_bytes(m, src, 16);
	mb_bytes(m, dst, 16);
	mb_u16(m, sport);
	mb_u16(m, dport);
	mb_u16(m, (uint16_t)(8 + plen));
	mb_u16(m, 0);
	mb_bytes(m, payload, plen);
	memcpy(f, m->b, m->n);
	return m->n;
}

#endif
