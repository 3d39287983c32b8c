/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/unit/wire: the in-place writers, each followed by a re-parse of what it wrote. */
#include <criterion/criterion.h>

#include "dp/wire/wire.h"
#include "msgbuild.h"

static struct mb b;
static struct wire_dns_msg m;
static struct wire_rr rrs[64];
static size_t count, len;

static void reparse_response(void)
{
	struct wire_dns_msg again;
	cr_assert_eq(wire_dns_parse_response(b.b, len, &again, rrs, 64, &count), WIRE_OK,
		     "rewritten message re-parses");
	cr_assert_eq(again.has_opt, m.has_opt, "the view was kept current");
	cr_assert_eq(again.arcount, m.arcount);
	cr_assert_eq(again.msg_end, m.msg_end);
	if (m.has_opt) {
		cr_assert_eq(again.opt.off, m.opt.off);
		cr_assert_eq(again.opt.udp_size, m.opt.udp_size);
	}
}

Test(dns_write, sets_id_flags_and_rcode)
{
	mb_query(&b, 1, "a.b", 1, false);
	wire_dns_set_id(b.b, 0xfeed);
	wire_dns_set_flags(b.b, WIRE_FLAG_QR | WIRE_FLAG_RD);
	wire_dns_set_rcode(b.b, WIRE_RCODE_NXDOMAIN);
	cr_assert_eq(be16(b.b), 0xfeed);
	cr_assert_eq(be16(b.b + 2), WIRE_FLAG_QR | WIRE_FLAG_RD | 3);
	wire_dns_set_rcode(b.b, WIRE_RCODE_NOERROR);
	cr_assert_eq(be16(b.b + 2), WIRE_FLAG_QR | WIRE_FLAG_RD);
}

Test(dns_write, resolver_flags_clear_aa_and_ad_and_take_rd_and_cd_from_the_client)
{
	mb_hdr(&b, 1, 0, 0, 0, 0, 0);
	/* target said: qr aa tc ad, NXDOMAIN, without RD */
	wire_dns_set_flags(b.b, WIRE_FLAG_QR | WIRE_FLAG_AA | WIRE_FLAG_TC | WIRE_FLAG_AD | 3);
	wire_dns_set_resolver_flags(b.b, WIRE_FLAG_RD | WIRE_FLAG_CD);
	cr_assert_eq(be16(b.b + 2),
		     WIRE_FLAG_QR | WIRE_FLAG_TC | WIRE_FLAG_RD | WIRE_FLAG_RA | WIRE_FLAG_CD | 3);
	wire_dns_set_resolver_flags(b.b, 0);
	cr_assert_eq(be16(b.b + 2), WIRE_FLAG_QR | WIRE_FLAG_TC | WIRE_FLAG_RA | 3);
}

Test(dns_write, rewrites_the_opt_udp_size)
{
	mb_query(&b, 1, "a.b", 1, true);
	cr_assert_eq(wire_dns_parse_query(b.b, b.n, &m), WIRE_OK);
	cr_assert_eq(wire_dns_set_opt_udp_size(b.b, &m, 4096), WIRE_OK);
	cr_assert_eq(wire_dns_parse_query(b.b, b.n, &m), WIRE_OK);
	cr_assert_eq(m.opt.udp_size, 4096);
	mb_query(&b, 1, "a.b", 1, false);
	cr_assert_eq(wire_dns_parse_query(b.b, b.n, &m), WIRE_OK);
	cr_assert_eq(wire_dns_set_opt_udp_size(b.b, &m, 4096), WIRE_E_NO_OPT);
}

Test(dns_write, appends_an_opt_when_the_query_had_none)
{
	mb_query(&b, 1, "a.b", 1, false);
	len = b.n;
	cr_assert_eq(wire_dns_parse_query(b.b, len, &m), WIRE_OK);
	cr_assert_eq(wire_dns_append_opt(b.b, &len, len + 10, &m, 4096, false), WIRE_E_NO_ROOM);
	cr_assert_eq(len, b.n, "nothing changed");
	cr_assert_eq(wire_dns_append_opt(b.b, &len, sizeof(b.b), &m, 4096, true), WIRE_OK);
	cr_assert_eq(len, b.n + 11);
	struct wire_dns_msg again;
	cr_assert_eq(wire_dns_parse_query(b.b, len, &again), WIRE_OK);
	cr_assert(again.has_opt);
	cr_assert_eq(again.arcount, 1);
	cr_assert_eq(again.opt.udp_size, 4096);
	cr_assert(again.opt.do_bit);
	cr_assert_eq(again.opt.off, m.opt.off);
	cr_assert_eq(wire_dns_append_opt(b.b, &len, sizeof(b.b), &m, 4096, false), WIRE_E_HAS_OPT);
}

Test(dns_write, strips_an_opt_that_is_last)
{
	mb_hdr(&b, 1, 0x8180, 1, 1, 0, 1);
	mb_question(&b, "abc", 1, 1);
	mb_a(&b, 12, 60, 1);
	mb_opt(&b, 4096, 0, 0, false, (const uint8_t[]){0, 3, 0, 2, 'h', 'i'}, 6);
	len = b.n;
	cr_assert_eq(wire_dns_parse_response(b.b, len, &m, NULL, 0, &count), WIRE_OK);
	cr_assert_eq(wire_dns_strip_opt(b.b, &len, &m), WIRE_OK);
	cr_assert_eq(len, b.n - 17);
	cr_assert_not(m.has_opt);
	reparse_response();
	cr_assert_eq(count, 1);
	cr_assert_eq(wire_dns_strip_opt(b.b, &len, &m), WIRE_E_NO_OPT);
}

/*
 * Additional: glue A (before the OPT), the OPT, then an A for glue2.ns1.example.com and a CNAME
 * whose owner and target both point at that A's owner: two names after the OPT that point past it.
 */
static void build_opt_in_the_middle(void)
{
	mb_hdr(&b, 1, 0x8180, 1, 0, 1, 4);
	mb_question(&b, "example.com", 2, 1); /* 12..29 */
	mb_ptr(&b, 12);
	mb_rr_fixed(&b, 2, 1, 60, 6);
	uint16_t ns = (uint16_t)b.n;
	mb_u8(&b, 3);
	mb_bytes(&b, "ns1", 3);
	mb_ptr(&b, 12);
	mb_ptr(&b, ns);
	mb_rr_fixed(&b, 1, 1, 60, 4);
	mb_u32(&b, 0x0a000035);
	mb_opt(&b, 4096, 0, 0, false, NULL, 0);
	uint16_t glue2 = (uint16_t)b.n;
	mb_u8(&b, 5);
	mb_bytes(&b, "glue2", 5);
	mb_ptr(&b, ns);
	mb_rr_fixed(&b, 1, 1, 60, 4);
	mb_u32(&b, 0x0a000036);
	mb_ptr(&b, glue2);
	mb_rr_fixed(&b, 5, 1, 60, 2);
	mb_ptr(&b, glue2);
}

/* Strips the OPT of the message in b and checks the records left. */
static void strip_and_expect(size_t records_left, size_t len_left)
{
	len = b.n;
	cr_assert_eq(wire_dns_parse_response(b.b, len, &m, NULL, 0, &count), WIRE_OK);
	cr_assert_eq(wire_dns_strip_opt(b.b, &len, &m), WIRE_OK);
	cr_assert_eq(len, len_left);
	reparse_response();
	cr_assert_eq(count, records_left);
	cr_assert_not(m.has_opt);
}

Test(dns_write, keeps_glue_after_a_middle_opt_that_points_before_it)
{
	mb_hdr(&b, 1, 0x8180, 1, 0, 1, 2);
	mb_question(&b, "example.com", 2, 1);
	mb_ptr(&b, 12);
	mb_rr_fixed(&b, 2, 1, 60, 6);
	uint16_t ns = (uint16_t)b.n;
	mb_u8(&b, 3);
	mb_bytes(&b, "ns1", 3);
	mb_ptr(&b, 12);
	mb_opt(&b, 4096, 0, 0, false, NULL, 0);
	mb_ptr(&b, ns);
	mb_rr_fixed(&b, 1, 1, 60, 4);
	mb_u32(&b, 0x0a000035);
	strip_and_expect(2, b.n - 11);
	cr_assert_eq(rrs[1].type, 1);
	cr_assert_eq(wire_name_length(b.b, len, rrs[1].owner_off), 17, "ns1.example.com still");
	cr_assert_eq(be32(b.b + rrs[1].rdata_off), 0x0a000035);
	cr_assert_eq(m.arcount, 1);
}

Test(dns_write, drops_records_after_a_middle_opt_that_point_past_it)
{
	build_opt_in_the_middle();
	size_t opt_off = 0;
	len = b.n;
	cr_assert_eq(wire_dns_parse_response(b.b, len, &m, NULL, 0, &count), WIRE_OK);
	cr_assert_eq(m.opt_index, 2);
	opt_off = m.opt.off;
	strip_and_expect(2, opt_off);
	cr_assert_eq(m.arcount, 1, "the glue before the OPT stays");
}

Test(dns_write, drops_records_after_an_opt_a_later_name_borrows_the_root_of)
{
	mb_hdr(&b, 1, 0x8180, 1, 0, 0, 2);
	mb_question(&b, "abc", 1, 1);
	uint16_t opt = (uint16_t)b.n;
	mb_opt(&b, 4096, 0, 0, false, NULL, 0);
	mb_ptr(&b, opt); /* the root, borrowed from the OPT's owner */
	mb_rr_fixed(&b, 1, 1, 60, 4);
	mb_u32(&b, 1);
	strip_and_expect(0, opt);
}

Test(dns_write, truncates_to_header_question_and_opt_with_tc)
{
	build_opt_in_the_middle();
	len = b.n;
	cr_assert_eq(wire_dns_parse_response(b.b, len, &m, NULL, 0, &count), WIRE_OK);
	cr_assert_eq(wire_dns_truncate(b.b, &len, &m, true), WIRE_OK);
	cr_assert_eq(len, 12 + 13 + 4 + 11);
	reparse_response();
	cr_assert_eq(count, 1);
	cr_assert(be16(b.b + 2) & WIRE_FLAG_TC);
	cr_assert_eq(be16(b.b + 6), 0);
	cr_assert_eq(be16(b.b + 8), 0);
	cr_assert_eq(m.opt.udp_size, 4096);
}

Test(dns_write, truncates_without_the_opt_when_asked)
{
	build_opt_in_the_middle();
	len = b.n;
	cr_assert_eq(wire_dns_parse_response(b.b, len, &m, NULL, 0, &count), WIRE_OK);
	cr_assert_eq(wire_dns_truncate(b.b, &len, &m, false), WIRE_OK);
	cr_assert_eq(len, 12 + 13 + 4);
	reparse_response();
	cr_assert_eq(count, 0);
	cr_assert(be16(b.b + 2) & WIRE_FLAG_TC);
}

static void assert_answer(int rcode, bool want_question, bool want_opt)
{
	struct wire_dns_msg a;
	cr_assert_eq(wire_dns_parse_response(b.b, len, &a, rrs, 64, &count), WIRE_OK);
	cr_assert_eq(a.flags & WIRE_FLAG_QR, WIRE_FLAG_QR);
	cr_assert_eq(a.flags & WIRE_FLAG_RA, WIRE_FLAG_RA);
	cr_assert_eq(a.flags & WIRE_FLAG_AA, 0);
	cr_assert_eq(WIRE_RCODE(a.flags) | (a.has_opt ? a.opt.ext_rcode << 4 : 0), rcode);
	cr_assert_eq(a.qdcount, want_question ? 1 : 0);
	cr_assert_eq(a.ancount + a.nscount, 0);
	cr_assert_eq(a.has_opt, want_opt);
}

Test(dns_write, makes_servfail_refused_nxdomain_answers_from_a_query)
{
	static const int rcodes[] = {WIRE_RCODE_SERVFAIL, WIRE_RCODE_REFUSED, WIRE_RCODE_NXDOMAIN,
				     WIRE_RCODE_FORMERR, WIRE_RCODE_NOTIMP};
	for (size_t i = 0; i < sizeof(rcodes) / sizeof(rcodes[0]); i++) {
		mb_query(&b, 0x4242, "www.example.com", 1, true);
		b.b[3] |= WIRE_FLAG_CD;
		len = b.n;
		cr_assert_eq(wire_dns_parse_query(b.b, len, &m), WIRE_OK);
		cr_assert_eq(wire_dns_make_answer(b.b, &len, len, &m, rcodes[i], 1232), WIRE_OK);
		assert_answer(rcodes[i], true, true);
		cr_assert_eq(be16(b.b), 0x4242);
		cr_assert_eq(be16(b.b + 2) & (WIRE_FLAG_RD | WIRE_FLAG_CD),
			     WIRE_FLAG_RD | WIRE_FLAG_CD);
		cr_assert_eq(len, 12 + 17 + 4 + 11);
	}
}

Test(dns_write, answer_keeps_the_opt_only_if_the_query_had_one)
{
	mb_query(&b, 1, "www.example.com", 1, false);
	b.b[2] &= (uint8_t)~1; /* RD off */
	len = b.n;
	cr_assert_eq(wire_dns_parse_query(b.b, len, &m), WIRE_OK);
	cr_assert_eq(wire_dns_make_answer(b.b, &len, len, &m, WIRE_RCODE_SERVFAIL, 1232), WIRE_OK);
	assert_answer(WIRE_RCODE_SERVFAIL, true, false);
	cr_assert_eq(be16(b.b + 2) & WIRE_FLAG_RD, 0, "RD as sent");
	cr_assert_eq(len, 12 + 17 + 4);
}

Test(dns_write, answers_badvers_through_the_opt_extended_rcode)
{
	mb_hdr(&b, 5, 0x0100, 1, 0, 0, 1);
	mb_question(&b, "abc", 1, 1);
	mb_opt(&b, 1232, 0, 1, true, (const uint8_t[]){0, 10, 0, 2, 1, 2}, 6);
	len = b.n;
	cr_assert_eq(wire_dns_parse_query(b.b, len, &m), WIRE_E_EDNS_VERSION);
	cr_assert_eq(
	    wire_dns_make_answer(b.b, &len, len, &m, wire_err_rcode(WIRE_E_EDNS_VERSION), 4096),
	    WIRE_OK);
	assert_answer(WIRE_RCODE_BADVERS, true, true);
	struct wire_dns_msg a;
	cr_assert_eq(wire_dns_parse_response(b.b, len, &a, NULL, 0, &count), WIRE_OK);
	cr_assert_eq(WIRE_RCODE(a.flags), 0);
	cr_assert_eq(a.opt.ext_rcode, 1);
	cr_assert_eq(a.opt.version, 0);
	cr_assert_eq(a.opt.udp_size, 4096);
	cr_assert(a.opt.do_bit, "DO as sent");
	cr_assert_eq(a.opt.rdata_len, 0);
}

Test(dns_write, badvers_needs_an_opt_and_odd_rcodes_are_refused)
{
	mb_query(&b, 1, "abc", 1, false);
	len = b.n;
	cr_assert_eq(wire_dns_parse_query(b.b, len, &m), WIRE_OK);
	cr_assert_eq(wire_dns_make_answer(b.b, &len, len, &m, WIRE_RCODE_BADVERS, 1232),
		     WIRE_E_NO_OPT);
	cr_assert_eq(wire_dns_make_answer(b.b, &len, len, &m, 0, 1232), WIRE_E_BAD_RCODE);
	cr_assert_eq(wire_dns_make_answer(b.b, &len, len, &m, 6, 1232), WIRE_E_BAD_RCODE);
	cr_assert_eq(len, b.n);
}

Test(dns_write, formerr_for_a_bad_question_has_no_question)
{
	mb_hdr(&b, 9, 0x0100, 1, 0, 0, 0);
	mb_u8(&b, 1);
	mb_u8(&b, 'a');
	mb_ptr(&b, 12);
	mb_u32(&b, 0x00010001);
	len = b.n;
	enum wire_err err = wire_dns_parse_query(b.b, len, &m);
	cr_assert_eq(err, WIRE_E_QNAME_POINTER);
	cr_assert_eq(wire_dns_make_answer(b.b, &len, len, &m, wire_err_rcode(err), 1232), WIRE_OK);
	cr_assert_eq(len, 12);
	assert_answer(WIRE_RCODE_FORMERR, false, false);
}

Test(dns_write, notimp_keeps_the_opcode)
{
	mb_query(&b, 1, "abc", 1, true);
	b.b[2] |= 4 << 3; /* NOTIFY */
	len = b.n;
	enum wire_err err = wire_dns_parse_query(b.b, len, &m);
	cr_assert_eq(err, WIRE_E_OPCODE);
	cr_assert_eq(wire_dns_make_answer(b.b, &len, len, &m, wire_err_rcode(err), 1232), WIRE_OK);
	assert_answer(WIRE_RCODE_NOTIMP, false, false);
	cr_assert_eq(WIRE_OPCODE(be16(b.b + 2)), 4);
}

Test(dns_write, answer_needs_room_for_its_opt)
{
	mb_hdr(&b, 1, 0x0100, 2, 0, 0, 0); /* two questions: FORMERR, header only */
	len = 12;
	cr_assert_eq(wire_dns_parse_query(b.b, len, &m), WIRE_E_QD_COUNT);
	m.has_opt = true; /* as if an OPT had been read */
	cr_assert_eq(wire_dns_make_answer(b.b, &len, 12, &m, WIRE_RCODE_FORMERR, 512),
		     WIRE_E_NO_ROOM);
	cr_assert_eq(wire_dns_make_answer(b.b, &len, 23, &m, WIRE_RCODE_FORMERR, 512), WIRE_OK);
	cr_assert_eq(len, 23);
}

Test(dns_write, drops_records_after_an_opt_a_later_name_reads_through)
{
	/* A later owner points at an A record's RDATA "\x03abc", whose root is the OPT's owner. */
	mb_hdr(&b, 1, 0x8180, 1, 1, 0, 2);
	mb_question(&b, "x", 1, 1);
	mb_ptr(&b, 12);
	mb_rr_fixed(&b, 1, 1, 60, 4);
	uint16_t rdata = (uint16_t)b.n;
	mb_u8(&b, 3);
	mb_bytes(&b, "abc", 3);
	mb_opt(&b, 4096, 0, 0, false, NULL, 0);
	mb_ptr(&b, rdata);
	mb_rr_fixed(&b, 1, 1, 60, 4);
	mb_u32(&b, 1);
	strip_and_expect(1, (size_t)rdata + 4);
}

Test(dns_write, drops_records_after_an_opt_an_rdata_name_borrows_the_root_of)
{
	mb_hdr(&b, 1, 0x8180, 1, 0, 0, 2);
	mb_question(&b, "abc", 5, 1);
	uint16_t opt = (uint16_t)b.n;
	mb_opt(&b, 4096, 0, 0, false, NULL, 0);
	mb_ptr(&b, 12);
	mb_rr_fixed(&b, 5, 1, 60, 2); /* CNAME to the root, borrowed from the OPT's owner */
	mb_ptr(&b, opt);
	strip_and_expect(0, opt);
}

Test(dns_write, makes_no_answer_from_less_than_a_header)
{
	mb_query(&b, 1, "abc", 1, false);
	len = b.n;
	cr_assert_eq(wire_dns_parse_query(b.b, len, &m), WIRE_OK);
	len = 11;
	cr_assert_eq(wire_dns_make_answer(b.b, &len, 64, &m, WIRE_RCODE_SERVFAIL, 512),
		     WIRE_E_DNS_SHORT);
}

Test(dns_write, keeps_uncompressed_records_after_a_middle_opt)
{
	mb_hdr(&b, 1, 0x8180, 1, 0, 0, 2);
	mb_question(&b, "abc", 1, 1);
	mb_opt(&b, 4096, 0, 0, false, NULL, 0);
	mb_name(&b, "ns.example");
	mb_rr_fixed(&b, 16, 1, 60, 3);
	mb_bytes(&b, "\002hi", 3);
	strip_and_expect(1, b.n - 11);
	cr_assert_eq(rrs[0].type, 16);
	cr_assert_eq(wire_name_length(b.b, len, rrs[0].owner_off), 12);
}

Test(dns_write, truncate_keeps_flags_rewritten_after_the_parse)
{
	mb_hdr(&b, 1, WIRE_FLAG_QR | WIRE_FLAG_AA, 1, 1, 0, 0);
	mb_question(&b, "abc", 1, 1);
	mb_a(&b, 12, 60, 1);
	len = b.n;
	cr_assert_eq(wire_dns_parse_response(b.b, len, &m, NULL, 0, &count), WIRE_OK);
	wire_dns_set_resolver_flags(b.b, WIRE_FLAG_RD);
	cr_assert_eq(wire_dns_truncate(b.b, &len, &m, true), WIRE_OK);
	cr_assert_eq(be16(b.b + 2), WIRE_FLAG_QR | WIRE_FLAG_TC | WIRE_FLAG_RD | WIRE_FLAG_RA);
	cr_assert_eq(m.flags, be16(b.b + 2));
}
