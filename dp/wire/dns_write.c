/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/wire DNS rewriting: changes a parsed message in place (header fields, the EDNS OPT,
 * truncation, error answers made from the query's own bytes) and keeps its parsed view current.
 */
#include <string.h>

#include "dp/wire/bytes.h"
#include "dp/wire/dns_priv.h"
#include "dp/wire/wire.h"

#define OPCODE_MASK 0x7800
#define RCODE_MASK  0x000f
#define PTR_MASK    0xc0
#define RR_FIXED    10 /* TYPE, CLASS, TTL, RDLENGTH */

void wire_dns_set_id(uint8_t *buf, uint16_t id)
{
	wr16(buf, id);
}

void wire_dns_set_flags(uint8_t *buf, uint16_t flags)
{
	wr16(buf + 2, flags);
}

void wire_dns_set_rcode(uint8_t *buf, uint8_t rcode)
{
	wr16(buf + 2, (uint16_t)((rd16(buf + 2) & ~RCODE_MASK) | (rcode & RCODE_MASK)));
}

void wire_dns_set_resolver_flags(uint8_t *buf, uint16_t query_flags)
{
	uint16_t answered = rd16(buf + 2);
	uint16_t flags = WIRE_FLAG_QR | WIRE_FLAG_RA;

	flags |= answered & (OPCODE_MASK | WIRE_FLAG_TC | RCODE_MASK);
	flags |= query_flags & (WIRE_FLAG_RD | WIRE_FLAG_CD);
	wr16(buf + 2, flags);
}

static void set_counts(uint8_t *buf, struct wire_dns_msg *m, uint16_t qd, uint16_t an, uint16_t ns,
		       uint16_t ar)
{
	m->qdcount = qd;
	m->ancount = an;
	m->nscount = ns;
	m->arcount = ar;
	wr16(buf + 4, qd);
	wr16(buf + 6, an);
	wr16(buf + 8, ns);
	wr16(buf + 10, ar);
}

/* Writes an option-less version-0 OPT at off and describes it in m. */
static void write_opt(uint8_t *buf, size_t off, struct wire_dns_msg *m, uint16_t udp_size,
		      uint8_t ext_rcode, bool do_bit)
{
	uint8_t *p = buf + off;

	p[0] = 0;
	wr16(p + 1, WIRE_TYPE_OPT);
	wr16(p + 3, udp_size);
	wr32(p + 5, (uint32_t)ext_rcode << 24 | (do_bit ? 0x8000u : 0));
	wr16(p + 9, 0);
	m->has_opt = true;
	m->opt = (struct wire_opt){
	    .off = (uint16_t)off,
	    .len = WIRE_OPT_RR_LEN,
	    .rdata_off = (uint16_t)(off + WIRE_OPT_RR_LEN),
	    .rdata_len = 0,
	    .udp_size = udp_size,
	    .ext_rcode = ext_rcode,
	    .version = 0,
	    .do_bit = do_bit,
	};
}

enum wire_err wire_dns_set_opt_udp_size(uint8_t *buf, struct wire_dns_msg *m, uint16_t udp_size)
{
	if (!m->has_opt)
		return WIRE_E_NO_OPT;
	wr16(buf + m->opt.off + 3, udp_size);
	m->opt.udp_size = udp_size;
	return WIRE_OK;
}

enum wire_err wire_dns_append_opt(uint8_t *buf, size_t *len, size_t cap, struct wire_dns_msg *m,
				  uint16_t udp_size, bool do_bit)
{
	if (m->has_opt)
		return WIRE_E_HAS_OPT;
	if (*len + WIRE_OPT_RR_LEN > cap || *len + WIRE_OPT_RR_LEN > UINT16_MAX ||
	    m->arcount == UINT16_MAX)
		return WIRE_E_NO_ROOM;
	write_opt(buf, *len, m, udp_size, 0, do_bit);
	m->opt_index = (uint16_t)(m->ancount + m->nscount + m->arcount);
	set_counts(buf, m, m->qdcount, m->ancount, m->nscount, (uint16_t)(m->arcount + 1));
	*len += WIRE_OPT_RR_LEN;
	m->msg_end = (uint16_t)*len;
	return WIRE_OK;
}

/*
 * True if the name at pos ends in place, or in a pointer to a name read wholly before `cut`. The
 * name was validated by the parse, so walking its labels in place is safe; *pos moves past it.
 */
static bool name_points_before(const uint8_t *buf, size_t end, size_t *pos, size_t cut)
{
	size_t p = *pos, suffix_end;

	while (p < end && buf[p] != 0 && (buf[p] & PTR_MASK) != PTR_MASK)
		p += (size_t)buf[p] + 1;
	if (p + 1 >= end || (buf[p] & PTR_MASK) != PTR_MASK) {
		*pos = p + 1;
		return true;
	}
	*pos = p + 2;
	size_t target = (size_t)(buf[p] & ~PTR_MASK) << 8 | buf[p + 1];
	/* Parsing with the span cut short at `cut` fails if the suffix reads any octet from there.
	 */
	return target < cut && wire_name_skip(buf, cut, target, &suffix_end, NULL) == WIRE_OK;
}

/*
 * True if every name in the records from pos to end (owners, and RDATA names of the compressible
 * types) points only before `cut`: then moving those records back changes no name. A chain that
 * lands before `cut` stays there, since pointers only go back.
 */
static bool records_point_before(const uint8_t *buf, size_t end, size_t pos, size_t cut)
{
	while (pos < end) {
		struct wire_rdata_shape shape;
		if (!name_points_before(buf, end, &pos, cut))
			return false;
		if (pos + RR_FIXED > end)
			return true;
		size_t rdata = pos + RR_FIXED;
		size_t next = rdata + rd16(buf + pos + 8);
		if (wire_rdata_shape(rd16(buf + pos), &shape)) {
			size_t name = rdata + shape.prefix;
			for (unsigned i = 0; i < shape.names; i++)
				if (!name_points_before(buf, next, &name, cut))
					return false;
		}
		pos = next;
	}
	return true;
}

enum wire_err wire_dns_strip_opt(uint8_t *buf, size_t *len, struct wire_dns_msg *m)
{
	if (!m->has_opt)
		return WIRE_E_NO_OPT;
	size_t cut = m->opt.off, after = cut + m->opt.len;
	size_t records = (size_t)m->ancount + m->nscount + m->arcount;
	uint16_t arcount = (uint16_t)(m->arcount - 1);

	if (records_point_before(buf, *len, after, cut)) {
		memmove(buf + cut, buf + after, *len - after);
		*len -= m->opt.len;
	} else {
		/* Re-pointing names into moved records is error-prone; this case is rare (servers
		 * put the OPT last) and additional data is optional (RFC 2181 9): drop what
		 * follows. */
		arcount = (uint16_t)(arcount - (records - m->opt_index - 1));
		*len = cut;
	}
	m->has_opt = false;
	memset(&m->opt, 0, sizeof(m->opt));
	set_counts(buf, m, m->qdcount, m->ancount, m->nscount, arcount);
	m->msg_end = (uint16_t)*len;
	return WIRE_OK;
}

enum wire_err wire_dns_truncate(uint8_t *buf, size_t *len, struct wire_dns_msg *m, bool keep_opt)
{
	size_t end = m->question_end ? m->question_end : WIRE_DNS_HLEN;
	bool opt = keep_opt && m->has_opt;

	if (opt) {
		memmove(buf + end, buf + m->opt.off, m->opt.len);
		m->opt.rdata_off = (uint16_t)(end + (m->opt.rdata_off - m->opt.off));
		m->opt.off = (uint16_t)end;
		m->opt_index = 0;
		end += m->opt.len;
	} else {
		m->has_opt = false;
		memset(&m->opt, 0, sizeof(m->opt));
	}
	set_counts(buf, m, m->question_end ? 1 : 0, 0, 0, opt ? 1 : 0);
	/* From buf, not m: the flags may have been rewritten since the parse (resolver flags). */
	m->flags = rd16(buf + 2) | WIRE_FLAG_TC;
	wr16(buf + 2, m->flags);
	*len = end;
	m->msg_end = (uint16_t)end;
	return WIRE_OK;
}

static bool answer_rcode_ok(int rcode)
{
	switch (rcode) {
	case WIRE_RCODE_FORMERR:
	case WIRE_RCODE_SERVFAIL:
	case WIRE_RCODE_NXDOMAIN:
	case WIRE_RCODE_NOTIMP:
	case WIRE_RCODE_REFUSED:
	case WIRE_RCODE_BADVERS:
		return true;
	default:
		return false;
	}
}

enum wire_err wire_dns_make_answer(uint8_t *buf, size_t *len, size_t cap, struct wire_dns_msg *m,
				   int rcode, uint16_t udp_size)
{
	size_t end = m->question_end ? m->question_end : WIRE_DNS_HLEN;
	bool opt = m->has_opt;

	if (!answer_rcode_ok(rcode))
		return WIRE_E_BAD_RCODE;
	if (rcode > RCODE_MASK && !opt)
		return WIRE_E_NO_OPT;
	if (*len < WIRE_DNS_HLEN)
		return WIRE_E_DNS_SHORT;
	if (end + (opt ? WIRE_OPT_RR_LEN : 0) > cap)
		return WIRE_E_NO_ROOM;
	uint16_t sent = rd16(buf + 2);
	m->flags = (uint16_t)(WIRE_FLAG_QR | WIRE_FLAG_RA | (sent & OPCODE_MASK) |
			      (sent & (WIRE_FLAG_RD | WIRE_FLAG_CD)) | (rcode & RCODE_MASK));
	wr16(buf + 2, m->flags);
	if (opt) {
		write_opt(buf, end, m, udp_size, (uint8_t)(rcode >> 4), m->opt.do_bit);
		m->opt_index = 0;
		end += WIRE_OPT_RR_LEN;
	}
	set_counts(buf, m, m->question_end ? 1 : 0, 0, 0, opt ? 1 : 0);
	*len = end;
	m->msg_end = (uint16_t)end;
	return WIRE_OK;
}
