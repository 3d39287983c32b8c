/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/wire DNS parsing: the header, the question (walked once: labels, length, case-folded hash),
 * every record after it (bounds, compression pointers, the OPT) and the name rules, all strict and
 * bounded.
 */
#include <string.h>

#include "dp/wire/bytes.h"
#include "dp/wire/dns_priv.h"
#include "dp/wire/wire.h"

#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME  0x100000001b3ULL
#define PTR_MASK     0xc0
#define OPT_FIXED    10 /* TYPE, CLASS, TTL, RDLENGTH */

static inline uint8_t fold_case(uint8_t c)
{
	return (c >= 'A' && c <= 'Z') ? (uint8_t)(c + ('a' - 'A')) : c;
}

uint64_t wire_name_hash(const uint8_t *name, size_t len)
{
	uint64_t h = FNV64_OFFSET;

	for (size_t i = 0; i < len; i++)
		h = (h ^ fold_case(name[i])) * FNV64_PRIME;
	return h;
}

/*
 * Pointers must land before the segment they leave (so every walk ends), outside the header, and on
 * a name that ends before the pointer itself: a suffix is a name that already appeared.
 */
enum wire_err wire_name_skip(const uint8_t *msg, size_t len, size_t off, size_t *end,
			     size_t *name_len)
{
	size_t pos = off, limit = off, bound = len, total = 0;
	unsigned hops = 0;

	*end = 0;
	for (;;) {
		if (pos >= bound)
			return bound == len ? WIRE_E_NAME_TRUNCATED : WIRE_E_PTR_FORWARD;
		uint8_t b = msg[pos];
		if (b == 0)
			break;
		if ((b & PTR_MASK) == PTR_MASK) {
			if (pos + 1 >= bound)
				return bound == len ? WIRE_E_NAME_TRUNCATED : WIRE_E_PTR_FORWARD;
			size_t target = (size_t)(b & ~PTR_MASK) << 8 | msg[pos + 1];
			if (target > pos)
				return WIRE_E_PTR_FORWARD;
			if (target >= limit)
				return WIRE_E_PTR_LOOP;
			if (target < WIRE_DNS_HLEN)
				return WIRE_E_PTR_HEADER;
			if (++hops > WIRE_PTR_HOPS_MAX)
				return WIRE_E_PTR_HOPS;
			if (*end == 0)
				*end = pos + 2;
			bound = pos;
			pos = limit = target;
			continue;
		}
		if (b > WIRE_LABEL_MAX)
			return WIRE_E_LABEL_TOO_LONG;
		total += (size_t)b + 1;
		if (total + 1 > WIRE_NAME_MAX)
			return WIRE_E_NAME_TOO_LONG;
		pos += (size_t)b + 1;
	}
	if (*end == 0)
		*end = pos + 1;
	if (name_len)
		*name_len = total + 1;
	return WIRE_OK;
}

size_t wire_name_length(const uint8_t *msg, size_t len, size_t off)
{
	size_t end, name_len;

	if (wire_name_skip(msg, len, off, &end, &name_len) != WIRE_OK)
		return 0;
	return name_len;
}

uint32_t wire_rr_ttl(const uint8_t *msg, const struct wire_rr *rr)
{
	uint32_t ttl = rd32(msg + rr->ttl_off);
	return (ttl & 0x80000000u) ? 0 : ttl;
}

void wire_rr_set_ttl(uint8_t *buf, const struct wire_rr *rr, uint32_t ttl)
{
	wr32(buf + rr->ttl_off, ttl);
}

uint16_t wire_dns_udp_limit(const struct wire_dns_msg *m)
{
	if (!m->has_opt || m->opt.udp_size < WIRE_UDP_MIN)
		return WIRE_UDP_MIN;
	return m->opt.udp_size;
}

bool wire_dns_same_question(const uint8_t *a, const struct wire_dns_msg *ma, const uint8_t *b,
			    const struct wire_dns_msg *mb)
{
	if (!ma->question_end || !mb->question_end || ma->qname_len != mb->qname_len ||
	    ma->qtype != mb->qtype || ma->qclass != mb->qclass)
		return false;
	/* Both names are uncompressed at the same offset: length octets compare equal under folding
	 * only if equal, since they are at most 63 and never letters. */
	for (size_t i = WIRE_DNS_HLEN; i < WIRE_DNS_HLEN + (size_t)ma->qname_len; i++)
		if (fold_case(a[i]) != fold_case(b[i]))
			return false;
	return true;
}

/* The question's name: uncompressed, walked once for labels, length and hash. */
static enum wire_err parse_qname(const uint8_t *msg, size_t len, struct wire_dns_msg *m)
{
	size_t pos = WIRE_DNS_HLEN;
	uint64_t h = FNV64_OFFSET;
	uint8_t labels = 0;

	for (;;) {
		if (pos >= len)
			return WIRE_E_NAME_TRUNCATED;
		uint8_t b = msg[pos];
		if ((b & PTR_MASK) == PTR_MASK)
			return WIRE_E_QNAME_POINTER;
		if (b > WIRE_LABEL_MAX)
			return WIRE_E_LABEL_TOO_LONG;
		size_t next = pos + 1 + b;
		if (next - WIRE_DNS_HLEN + (b != 0) > WIRE_NAME_MAX)
			return WIRE_E_NAME_TOO_LONG;
		if (next > len)
			return WIRE_E_NAME_TRUNCATED;
		h = (h ^ b) * FNV64_PRIME;
		if (b == 0)
			break;
		m->label_off[labels++] = (uint8_t)(pos - WIRE_DNS_HLEN);
		for (size_t i = pos + 1; i < next; i++)
			h = (h ^ fold_case(msg[i])) * FNV64_PRIME;
		pos = next;
	}
	m->qname_labels = labels;
	m->qname_len = (uint16_t)(pos + 1 - WIRE_DNS_HLEN);
	m->qname_hash = h;
	return WIRE_OK;
}

static enum wire_err parse_question(const uint8_t *msg, size_t len, struct wire_dns_msg *m)
{
	enum wire_err err = parse_qname(msg, len, m);
	if (err)
		return err;
	size_t pos = WIRE_DNS_HLEN + (size_t)m->qname_len;
	if (pos + 4 > len)
		return WIRE_E_QUESTION_TRUNCATED;
	m->qtype = rd16(msg + pos);
	m->qclass = rd16(msg + pos + 2);
	m->question_end = (uint16_t)(pos + 4);
	return WIRE_OK;
}

static void parse_header(const uint8_t *msg, struct wire_dns_msg *m)
{
	m->id = rd16(msg);
	m->flags = rd16(msg + 2);
	m->qdcount = rd16(msg + 4);
	m->ancount = rd16(msg + 6);
	m->nscount = rd16(msg + 8);
	m->arcount = rd16(msg + 10);
}

static enum wire_err check_options(const uint8_t *rdata, size_t rdlen)
{
	size_t pos = 0;

	while (pos < rdlen) {
		if (pos + 4 > rdlen)
			return WIRE_E_OPT_OPTION;
		size_t optlen = rd16(rdata + pos + 2);
		if (pos + 4 + optlen > rdlen)
			return WIRE_E_OPT_OPTION;
		pos += 4 + optlen;
	}
	return WIRE_OK;
}

static enum wire_err take_opt(const uint8_t *msg, const struct wire_rr *rr, uint16_t index,
			      struct wire_dns_msg *m)
{
	if (m->has_opt)
		return WIRE_E_OPT_DUPLICATE;
	if (rr->section != WIRE_SEC_ADDITIONAL)
		return WIRE_E_OPT_SECTION;
	if (msg[rr->owner_off] != 0)
		return WIRE_E_OPT_OWNER;
	enum wire_err err = check_options(msg + rr->rdata_off, rr->rdata_len);
	if (err)
		return err;
	uint32_t ttl = rd32(msg + rr->ttl_off);
	m->has_opt = true;
	m->opt_index = index;
	m->opt = (struct wire_opt){
	    .off = rr->owner_off,
	    .len = (uint16_t)(1 + OPT_FIXED + rr->rdata_len),
	    .rdata_off = rr->rdata_off,
	    .rdata_len = rr->rdata_len,
	    .udp_size = rr->rclass,
	    .ext_rcode = (uint8_t)(ttl >> 24),
	    .version = (uint8_t)(ttl >> 16),
	    .do_bit = (ttl & 0x8000) != 0,
	};
	return WIRE_OK;
}

static uint8_t section_of(const struct wire_dns_msg *m, size_t i)
{
	if (i < m->ancount)
		return WIRE_SEC_ANSWER;
	if (i < (size_t)m->ancount + m->nscount)
		return WIRE_SEC_AUTHORITY;
	return WIRE_SEC_ADDITIONAL;
}

bool wire_rdata_shape(uint16_t type, struct wire_rdata_shape *shape)
{
	switch (type) {
	case 2:	 /* NS */
	case 3:	 /* MD */
	case 4:	 /* MF */
	case 5:	 /* CNAME */
	case 7:	 /* MB */
	case 8:	 /* MG */
	case 9:	 /* MR */
	case 12: /* PTR */
		*shape = (struct wire_rdata_shape){0, 1, 0};
		return true;
	case 6: /* SOA: MNAME RNAME SERIAL REFRESH RETRY EXPIRE MINIMUM */
		*shape = (struct wire_rdata_shape){0, 2, 20};
		return true;
	case 14: /* MINFO */
		*shape = (struct wire_rdata_shape){0, 2, 0};
		return true;
	case 15: /* MX: PREFERENCE EXCHANGE */
		*shape = (struct wire_rdata_shape){2, 1, 0};
		return true;
	default:
		return false;
	}
}

/* Names in RDATA are bounded by the RDATA's end: pointers only go back, so that bound is enough. */
static enum wire_err check_rdata_names(const uint8_t *msg, const struct wire_rr *rr)
{
	struct wire_rdata_shape shape;
	size_t rdata_end = (size_t)rr->rdata_off + rr->rdata_len;
	size_t pos = rr->rdata_off;

	if (!wire_rdata_shape(rr->type, &shape))
		return WIRE_OK;
	pos += shape.prefix;
	for (unsigned i = 0; i < shape.names; i++) {
		size_t end;
		enum wire_err err = wire_name_skip(msg, rdata_end, pos, &end, NULL);
		if (err == WIRE_E_NAME_TRUNCATED)
			return WIRE_E_RDATA_LEN;
		if (err)
			return err;
		pos = end;
	}
	if (pos + shape.tail != rdata_end)
		return WIRE_E_RDATA_LEN;
	return WIRE_OK;
}

enum wire_err wire_rr_read(const uint8_t *msg, size_t len, size_t *pos, struct wire_rr *rr)
{
	size_t end;
	enum wire_err err = wire_name_skip(msg, len, *pos, &end, NULL);
	if (err)
		return err;
	if (end + OPT_FIXED > len)
		return WIRE_E_RR_TRUNCATED;
	rr->owner_off = (uint16_t)*pos;
	rr->type = rd16(msg + end);
	rr->rclass = rd16(msg + end + 2);
	rr->ttl_off = (uint16_t)(end + 4);
	rr->rdata_len = rd16(msg + end + 8);
	rr->rdata_off = (uint16_t)(end + OPT_FIXED);
	if ((size_t)rr->rdata_off + rr->rdata_len > len)
		return WIRE_E_RR_TRUNCATED;
	if ((err = check_rdata_names(msg, rr)))
		return err;
	*pos = (size_t)rr->rdata_off + rr->rdata_len;
	return WIRE_OK;
}

/* Walks every record after the question: the count is bounded by len (a record is >= 11 octets). */
static enum wire_err walk_records(const uint8_t *msg, size_t len, struct wire_dns_msg *m,
				  struct wire_rr *rrs, size_t cap, size_t *count)
{
	size_t total = (size_t)m->ancount + m->nscount + m->arcount;
	size_t pos = m->question_end ? m->question_end : WIRE_DNS_HLEN;

	for (size_t i = 0; i < total; i++) {
		struct wire_rr rr;
		if (pos >= len)
			return WIRE_E_COUNT_OVERRUN;
		rr.section = section_of(m, i);
		enum wire_err err = wire_rr_read(msg, len, &pos, &rr);
		if (err)
			return err;
		if (rr.type == WIRE_TYPE_OPT && (err = take_opt(msg, &rr, (uint16_t)i, m)))
			return err;
		if (i < cap)
			rrs[i] = rr;
		if (count)
			*count = i + 1;
	}
	if (pos != len)
		return WIRE_E_TRAILING_DATA;
	m->msg_end = (uint16_t)pos;
	return WIRE_OK;
}

/* Common start: the header (kept even for an oversize message, so it can be answered). */
static enum wire_err begin(const uint8_t *msg, size_t len, struct wire_dns_msg *m)
{
	memset(m, 0, sizeof(*m));
	if (len < WIRE_DNS_HLEN)
		return WIRE_E_DNS_SHORT;
	parse_header(msg, m);
	/* No DNS message is longer, and the views hold 16-bit offsets. */
	if (len > UINT16_MAX)
		return WIRE_E_TRAILING_DATA;
	return WIRE_OK;
}

enum wire_err wire_dns_parse_query(const uint8_t *msg, size_t len, struct wire_dns_msg *m)
{
	enum wire_err err = begin(msg, len, m);
	if (err)
		return err;
	if (m->flags & WIRE_FLAG_QR)
		return WIRE_E_QR_RESPONSE;
	if (WIRE_OPCODE(m->flags) != 0)
		return WIRE_E_OPCODE;
	if (m->qdcount != 1)
		return WIRE_E_QD_COUNT;
	if ((err = parse_question(msg, len, m)))
		return err;
	if ((err = walk_records(msg, len, m, NULL, 0, NULL)))
		return err;
	if (m->has_opt && m->opt.version > 0)
		return WIRE_E_EDNS_VERSION;
	return WIRE_OK;
}

/* A response's header and question (QR=1, at most one question). */
static enum wire_err response_head(const uint8_t *msg, size_t len, struct wire_dns_msg *m)
{
	enum wire_err err = begin(msg, len, m);
	if (err)
		return err;
	if (!(m->flags & WIRE_FLAG_QR))
		return WIRE_E_QR_QUERY;
	if (m->qdcount > 1)
		return WIRE_E_QD_COUNT;
	if (m->qdcount == 1)
		return parse_question(msg, len, m);
	return WIRE_OK;
}

enum wire_err wire_dns_parse_response(const uint8_t *msg, size_t len, struct wire_dns_msg *m,
				      struct wire_rr *rrs, size_t cap, size_t *count)
{
	if (count)
		*count = 0;
	enum wire_err err = response_head(msg, len, m);
	if (err)
		return err;
	return walk_records(msg, len, m, rrs, cap, count);
}

enum wire_err wire_dns_parse_response_head(const uint8_t *msg, size_t len, struct wire_dns_msg *m)
{
	enum wire_err err = response_head(msg, len, m);
	if (err)
		return err;
	m->msg_end = m->question_end ? m->question_end : WIRE_DNS_HLEN;
	return WIRE_OK;
}
