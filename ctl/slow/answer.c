/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/slow answer: records gathered across steps, kept uncompressed, and the client's answer built
 * from them. See answer.h.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl/slow/answer.h"

#define PTR_HOPS_MAX 16
#define TYPE_CNAME   5
#define TYPE_OPT     41

bool slow_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		uint8_t x = a[i], y = b[i];
		x = (x >= 'A' && x <= 'Z') ? (uint8_t)(x + 32) : x;
		y = (y >= 'A' && y <= 'Z') ? (uint8_t)(y + 32) : y;
		if (x != y)
			return false;
	}
	return true;
}

/* Copies the name at off, uncompressed, to out (SLOW_NAME_MAX); its length, or 0 if invalid.
 * Pointers only go backwards, and only so many times. */
static size_t read_name(const uint8_t *msg, size_t len, size_t off, uint8_t *out)
{
	size_t n = 0;
	for (unsigned hops = 0;;) {
		if (off >= len)
			return 0;
		uint8_t c = msg[off];
		if ((c & 0xc0) == 0xc0) {
			size_t ptr =
			    (size_t)(c & 0x3f) << 8 | (off + 1 < len ? msg[off + 1] : 0xff);
			if (off + 1 >= len || ptr >= off || ++hops > PTR_HOPS_MAX)
				return 0;
			off = ptr;
			continue;
		}
		if ((c & 0xc0) || n + c + 1u > SLOW_NAME_MAX || off + c + 1u > len)
			return 0;
		memcpy(out + n, msg + off, c + 1u);
		n += c + 1u;
		off += c + 1u;
		if (c == 0)
			return n;
	}
}

static bool put(struct slow_section *s, const void *data, size_t len)
{
	if (len == 0)
		return true;
	if (s->len + len > s->cap) {
		size_t cap = s->cap ? s->cap : 512;
		while (cap < s->len + len)
			cap *= 2;
		if (cap > SLOW_ANSWER_MAX)
			return false;
		uint8_t *grown = realloc(s->buf, cap);
		if (!grown)
			return false;
		s->buf = grown;
		s->cap = cap;
	}
	memcpy(s->buf + s->len, data, len);
	s->len += len;
	return true;
}

static bool put_name_at(struct slow_section *s, const uint8_t *msg, size_t len, size_t off)
{
	uint8_t name[SLOW_NAME_MAX];
	size_t n = read_name(msg, len, off, name);
	return n && put(s, name, n);
}

/* Where the RDATA of a type whose names may be compressed (RFC 3597 4: the RFC 1035 types, and
 * DNAME) holds them: prefix octets, then names, then tail octets. */
struct rdata_names {
	uint8_t prefix, names, tail;
};

static bool names_of(uint16_t type, struct rdata_names *out)
{
	switch (type) {
	case 2:
	case 3:
	case 4:
	case 5:
	case 7:
	case 8:
	case 9:
	case 12:
	case 39:
		*out = (struct rdata_names){0, 1, 0}; /* NS MD MF CNAME MB MG MR PTR DNAME */
		return true;
	case 6:
		*out = (struct rdata_names){0, 2, 20}; /* SOA: MNAME RNAME, five counters */
		return true;
	case 14:
		*out = (struct rdata_names){0, 2, 0}; /* MINFO */
		return true;
	case 15:
		*out = (struct rdata_names){2, 1, 0}; /* MX: preference, exchange */
		return true;
	default:
		return false;
	}
}

/* The end of the name encoded at off (its labels, then the root or a pointer); 0 past end. */
static size_t skip_name(const uint8_t *msg, size_t off, size_t end)
{
	while (off < end && msg[off] != 0 && (msg[off] & 0xc0) != 0xc0)
		off += msg[off] + 1u;
	if (off >= end)
		return 0;
	return off + (msg[off] == 0 ? 1 : 2);
}

/* A record's RDATA, its names written uncompressed (other types' RDATA as it is). */
static bool put_rdata(struct slow_section *s, const uint8_t *msg, size_t len,
		      const struct wire_rr *rr)
{
	struct rdata_names layout;
	size_t off = rr->rdata_off, end = (size_t)rr->rdata_off + rr->rdata_len;
	if (!names_of(rr->type, &layout))
		return put(s, msg + off, rr->rdata_len);
	if (rr->rdata_len < layout.prefix || !put(s, msg + off, layout.prefix))
		return false;
	off += layout.prefix;
	for (unsigned i = 0; i < layout.names; i++) {
		uint8_t name[SLOW_NAME_MAX];
		size_t n = read_name(msg, len, off, name);
		if (!n || !put(s, name, n) || (off = skip_name(msg, off, end)) == 0)
			return false;
	}
	return off + layout.tail == end && put(s, msg + off, layout.tail);
}

/* Appends rr (of msg) to s, uncompressed; false (s as it was) when its names do not read or s
 * would grow past SLOW_ANSWER_MAX. */
static bool copy_record(struct slow_section *s, const uint8_t *msg, size_t len,
			const struct wire_rr *rr)
{
	size_t was = s->len;
	uint8_t fixed[10];
	fixed[0] = (uint8_t)(rr->type >> 8), fixed[1] = (uint8_t)rr->type;
	fixed[2] = (uint8_t)(rr->rclass >> 8), fixed[3] = (uint8_t)rr->rclass;
	memcpy(fixed + 4, msg + rr->ttl_off, 4);
	fixed[8] = fixed[9] = 0;
	if (!put_name_at(s, msg, len, rr->owner_off) || !put(s, fixed, 10)) {
		s->len = was;
		return false;
	}
	size_t rdlen_at = s->len - 2, start = s->len;
	if (!put_rdata(s, msg, len, rr) || s->len - start > UINT16_MAX) {
		s->len = was;
		return false;
	}
	size_t rdlen = s->len - start;
	s->buf[rdlen_at] = (uint8_t)(rdlen >> 8);
	s->buf[rdlen_at + 1] = (uint8_t)rdlen;
	s->count++;
	return true;
}

/* Walks an uncompressed section: the record at *off (owner, type, rdata), advancing *off. */
static bool next_record(const struct slow_section *s, size_t *off, const uint8_t **owner,
			size_t *owner_len, uint16_t *type, const uint8_t **rdata, size_t *rdlen)
{
	size_t o = *off;
	if (o >= s->len)
		return false;
	*owner = s->buf + o;
	while (s->buf[o] != 0)
		o += s->buf[o] + 1u;
	*owner_len = o + 1 - *off;
	o++;
	*type = (uint16_t)(s->buf[o] << 8 | s->buf[o + 1]);
	*rdlen = (size_t)(s->buf[o + 8] << 8 | s->buf[o + 9]);
	*rdata = s->buf + o + 10;
	*off = o + 10 + *rdlen;
	return true;
}

void slow_gathered_free(struct slow_gathered *g)
{
	free(g->answer.buf);
	free(g->authority.buf);
	memset(g, 0, sizeof(*g));
}

void slow_gathered_clear(struct slow_gathered *g, uint8_t rcode)
{
	g->answer.len = g->answer.count = 0;
	g->authority.len = g->authority.count = 0;
	g->rcode = rcode;
}

enum slow_gather_status slow_gather(struct slow_gathered *g, const uint8_t *msg, size_t len,
				    struct wire_rr *rrs)
{
	struct wire_dns_msg m;
	size_t n_rrs = 0;
	if (wire_dns_parse_response(msg, len, &m, rrs, SLOW_STEP_RRS_MAX, &n_rrs) != WIRE_OK)
		return SLOW_GATHER_BAD_RESPONSE;
	if (n_rrs > SLOW_STEP_RRS_MAX)
		n_rrs = SLOW_STEP_RRS_MAX;
	g->authority.len = g->authority.count = 0;
	for (size_t i = 0; i < n_rrs; i++) {
		const struct wire_rr *rr = &rrs[i];
		struct slow_section *s = rr->section == WIRE_SEC_ANSWER	     ? &g->answer
					 : rr->section == WIRE_SEC_AUTHORITY ? &g->authority
									     : NULL;
		if (s && rr->type != TYPE_OPT && !copy_record(s, msg, len, rr))
			return s->len + rr->rdata_len + 2 * SLOW_NAME_MAX + 10 > SLOW_ANSWER_MAX
				   ? SLOW_GATHER_TOO_BIG
				   : SLOW_GATHER_BAD_RESPONSE; /* names in its RDATA that do not
								  read */
	}
	g->rcode = (uint8_t)WIRE_RCODE(m.flags);
	return SLOW_GATHER_OK;
}

size_t slow_chain_end(const struct slow_gathered *g, const uint8_t *qname, size_t qlen,
		      unsigned max_links, uint8_t *out)
{
	size_t len = qlen;
	memcpy(out, qname, len);
	for (unsigned links = 0; links <= max_links; links++) {
		size_t off = 0, owner_len, rdlen;
		const uint8_t *owner, *rdata;
		uint16_t type;
		bool moved = false;
		while (next_record(&g->answer, &off, &owner, &owner_len, &type, &rdata, &rdlen))
			if (type == TYPE_CNAME && slow_name_equal(owner, owner_len, out, len) &&
			    rdlen <= SLOW_NAME_MAX) {
				memcpy(out, rdata, rdlen);
				len = rdlen;
				moved = true;
				break;
			}
		if (!moved)
			return len;
	}
	return 0;
}

bool slow_gathered_has(const struct slow_gathered *g, const uint8_t *name, size_t len,
		       uint16_t qtype)
{
	size_t off = 0, owner_len, rdlen;
	const uint8_t *owner, *rdata;
	uint16_t type;
	while (next_record(&g->answer, &off, &owner, &owner_len, &type, &rdata, &rdlen))
		if (type == qtype && slow_name_equal(owner, owner_len, name, len))
			return true;
	return false;
}

/* Names already written to the client's answer, for compression (RFC 1035 4.1.4). */
#define DICT_MAX 64
struct dict {
	uint16_t off[DICT_MAX];
	unsigned n;
};

/* Writes an owner name: a pointer to the same name written before (the question's, an earlier
 * owner's, a CNAME's target), else the name itself, remembered. Its length, 0 if out is full. */
static size_t put_owner(uint8_t *out, size_t at, size_t cap, const uint8_t *name, size_t len,
			struct dict *d)
{
	for (unsigned i = 0; i < d->n; i++) {
		/* names written whole are uncompressed: equal octets are the same labels */
		if (d->off[i] + len <= at && slow_name_equal(out + d->off[i], len, name, len)) {
			if (at + 2 > cap)
				return 0;
			wire_put16(out + at, (uint16_t)(0xc000 | d->off[i]));
			return 2;
		}
	}
	if (at + len > cap)
		return 0;
	memcpy(out + at, name, len);
	if (d->n < DICT_MAX && at < 0x4000)
		d->off[d->n++] = (uint16_t)at;
	return len;
}

/* Writes a section's records, owners compressed; a CNAME's target becomes a name to point at. */
static size_t put_section(uint8_t *out, size_t at, size_t cap, const struct slow_section *s,
			  struct dict *d)
{
	size_t off = 0, owner_len, rdlen, start = at;
	const uint8_t *owner, *rdata;
	uint16_t type;
	while (next_record(s, &off, &owner, &owner_len, &type, &rdata, &rdlen)) {
		size_t w = put_owner(out, at, cap, owner, owner_len, d);
		if (w == 0 || at + w + 10 + rdlen > cap)
			return 0;
		at += w;
		memcpy(out + at, owner + owner_len, 10 + rdlen);
		if (type == TYPE_CNAME && d->n < DICT_MAX && at + 10 < 0x4000)
			d->off[d->n++] = (uint16_t)(at + 10);
		at += 10 + rdlen;
	}
	return at - start;
}

/* The answer whole (truncate false) or cut to header, question and OPT with TC=1. */
static size_t write_answer(const struct slow_gathered *g, const uint8_t *query,
			   const struct wire_dns_msg *q, uint16_t edns_size, uint8_t *out,
			   size_t cap, bool truncate)
{
	uint16_t flags =
	    (uint16_t)(WIRE_FLAG_QR | (q->flags & (0x7800 | WIRE_FLAG_RD | WIRE_FLAG_CD)) |
		       0x0080 /* RA */ | (g->rcode & 0xf) | (truncate ? WIRE_FLAG_TC : 0));
	struct dict d = {.off = {12}, .n = 1};
	size_t n = q->question_end;
	if (cap < n + 11)
		return 0;
	wire_put16(out, q->id);
	wire_put16(out + 2, flags);
	wire_put16(out + 4, 1);
	wire_put16(out + 6, truncate ? 0 : (uint16_t)g->answer.count);
	wire_put16(out + 8, truncate ? 0 : (uint16_t)g->authority.count);
	wire_put16(out + 10, q->has_opt ? 1 : 0);
	memcpy(out + 12, query + 12, n - 12);
	cap -= 11; /* room for the OPT */
	if (!truncate) {
		size_t w = put_section(out, n, cap, &g->answer, &d);
		if (w == 0 && g->answer.count)
			return 0;
		n += w;
		w = put_section(out, n, cap, &g->authority, &d);
		if (w == 0 && g->authority.count)
			return 0;
		n += w;
	}
	if (q->has_opt) {
		const uint8_t opt[11] = {0, 0, TYPE_OPT, (uint8_t)(edns_size >> 8),
					 (uint8_t)edns_size};
		memcpy(out + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	return n;
}

size_t slow_build_answer(const struct slow_gathered *g, const uint8_t *query,
			 const struct wire_dns_msg *q, uint16_t edns_size, size_t limit,
			 uint8_t *out, size_t cap, bool *truncated)
{
	size_t n = write_answer(g, query, q, edns_size, out, cap, false);
	*truncated = n == 0 || n > limit;
	if (*truncated)
		n = write_answer(g, query, q, edns_size, out, cap, true);
	return n;
}
