/* SPDX-License-Identifier: BSD-3-Clause */
/* tests/unit/wire: DNS query and response parsing, the record walk, and every DNS rejection. */
#include <criterion/criterion.h>

#include "dp/wire/wire.h"
#include "msgbuild.h"

static struct mb b;
static struct wire_dns_msg m;
static struct wire_rr rrs[256];
static size_t count;

static enum wire_err query(void)
{
	return wire_dns_parse_query(b.b, b.n, &m);
}

static enum wire_err response(void)
{
	return wire_dns_parse_response(b.b, b.n, &m, rrs, 256, &count);
}

Test(dns_query, parses_header_question_and_labels)
{
	mb_query(&b, 0xabcd, "www.Example.com", 28, false);
	cr_assert_eq(query(), WIRE_OK);
	cr_assert_eq(m.id, 0xabcd);
	cr_assert_eq(m.flags, WIRE_FLAG_RD);
	cr_assert_eq(m.qdcount, 1);
	cr_assert_eq(m.qname_len, 17);
	cr_assert_eq(m.qname_labels, 3);
	cr_assert_eq(m.label_off[0], 0);
	cr_assert_eq(m.label_off[1], 4);
	cr_assert_eq(m.label_off[2], 12);
	cr_assert_eq(m.qtype, 28);
	cr_assert_eq(m.qclass, 1);
	cr_assert_eq(m.question_end, 12 + 17 + 4);
	cr_assert_eq(m.msg_end, b.n);
	cr_assert_not(m.has_opt);
}

Test(dns_query, hashes_the_name_case_folded)
{
	mb_query(&b, 1, "WWW.EXAMPLE.COM", 1, false);
	cr_assert_eq(query(), WIRE_OK);
	uint64_t upper = m.qname_hash;
	mb_query(&b, 1, "www.example.com", 1, true);
	cr_assert_eq(query(), WIRE_OK);
	cr_assert_eq(m.qname_hash, upper);
	cr_assert_eq(m.qname_hash, wire_name_hash(b.b + 12, m.qname_len));
	mb_query(&b, 1, "www.example.org", 1, false);
	cr_assert_eq(query(), WIRE_OK);
	cr_assert_neq(m.qname_hash, upper);
}

Test(dns_query, parses_the_root_name)
{
	mb_query(&b, 1, ".", 2, false);
	cr_assert_eq(query(), WIRE_OK);
	cr_assert_eq(m.qname_len, 1);
	cr_assert_eq(m.qname_labels, 0);
}

Test(dns_query, reads_the_opt_record)
{
	static const uint8_t cookie[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
	mb_hdr(&b, 7, 0x0100, 1, 0, 0, 1);
	mb_question(&b, "a.b", 1, 1);
	mb_opt(&b, 1232, 0, 0, true, cookie, sizeof(cookie));
	cr_assert_eq(query(), WIRE_OK);
	cr_assert(m.has_opt);
	cr_assert_eq(m.opt.off, m.question_end);
	cr_assert_eq(m.opt.udp_size, 1232);
	cr_assert(m.opt.do_bit);
	cr_assert_eq(m.opt.version, 0);
	cr_assert_eq(m.opt.rdata_len, sizeof(cookie));
	cr_assert_eq(m.opt.rdata_off, m.opt.off + 11);
	cr_assert_eq(m.opt.len, 11 + sizeof(cookie));
}

/* Writes a dotted name whose labels have the given lengths. */
static void name_of_labels(char *out, const int *lens, int n)
{
	for (int i = 0; i < n; i++) {
		if (i)
			*out++ = '.';
		memset(out, 'a' + i, (size_t)lens[i]);
		out += lens[i];
	}
	*out = 0;
}

Test(dns_query, accepts_a_name_of_exactly_255_octets)
{
	static const int lens[] = {63, 63, 63, 61};
	char name[300];
	name_of_labels(name, lens, 4);
	mb_query(&b, 1, name, 1, false);
	cr_assert_eq(query(), WIRE_OK);
	cr_assert_eq(m.qname_len, 255);
	cr_assert_eq(m.qname_labels, 4);
}

Test(dns_query, rejects_a_name_over_255_octets)
{
	static const int lens[] = {63, 63, 63, 62};
	char name[300];
	name_of_labels(name, lens, 4);
	mb_query(&b, 1, name, 1, false);
	cr_assert_eq(query(), WIRE_E_NAME_TOO_LONG);
	cr_assert_eq(wire_err_rcode(WIRE_E_NAME_TOO_LONG), WIRE_RCODE_FORMERR);
}

Test(dns_query, accepts_127_labels)
{
	char name[300] = "";
	for (int i = 0; i < 127; i++)
		strcat(name, i ? ".x" : "x");
	mb_query(&b, 1, name, 1, false);
	cr_assert_eq(query(), WIRE_OK);
	cr_assert_eq(m.qname_labels, 127);
	cr_assert_eq(m.label_off[126], 252);
}

Test(dns_query, rejects_label_over_63_octets)
{
	mb_hdr(&b, 1, 0x0100, 1, 0, 0, 0);
	mb_u8(&b, 64);
	for (int i = 0; i < 64; i++)
		mb_u8(&b, 'a');
	mb_u8(&b, 0);
	mb_u32(&b, 0x00010001);
	cr_assert_eq(query(), WIRE_E_LABEL_TOO_LONG);
	b.b[12] = 0x80; /* the reserved label type reads as a length over 63 too */
	cr_assert_eq(query(), WIRE_E_LABEL_TOO_LONG);
}

Test(dns_query, rejects_a_compression_pointer_in_the_question)
{
	mb_hdr(&b, 1, 0x0100, 1, 0, 0, 0);
	mb_u8(&b, 1);
	mb_u8(&b, 'a');
	mb_ptr(&b, 12);
	mb_u32(&b, 0x00010001);
	cr_assert_eq(query(), WIRE_E_QNAME_POINTER);
}

Test(dns_query, rejects_more_than_one_question_and_none)
{
	mb_hdr(&b, 1, 0x0100, 2, 0, 0, 0);
	mb_question(&b, "a", 1, 1);
	mb_question(&b, "b", 1, 1);
	cr_assert_eq(query(), WIRE_E_QD_COUNT);
	mb_hdr(&b, 1, 0x0100, 0, 0, 0, 0);
	cr_assert_eq(query(), WIRE_E_QD_COUNT);
	cr_assert_eq(m.question_end, 0);
}

Test(dns_query, rejects_opcodes_other_than_query_with_notimp)
{
	mb_query(&b, 1, "a", 1, false);
	b.b[2] |= 2 << 3; /* STATUS */
	cr_assert_eq(query(), WIRE_E_OPCODE);
	cr_assert_eq(wire_err_rcode(WIRE_E_OPCODE), WIRE_RCODE_NOTIMP);
}

Test(dns_query, drops_a_response_sent_as_a_query)
{
	mb_query(&b, 1, "a", 1, false);
	b.b[2] |= 0x80;
	cr_assert_eq(query(), WIRE_E_QR_RESPONSE);
	cr_assert_eq(wire_err_rcode(WIRE_E_QR_RESPONSE), -1);
}

Test(dns_query, drops_a_message_shorter_than_the_header)
{
	mb_query(&b, 1, "a", 1, false);
	cr_assert_eq(wire_dns_parse_query(b.b, 11, &m), WIRE_E_DNS_SHORT);
	cr_assert_eq(wire_err_rcode(WIRE_E_DNS_SHORT), -1);
}

Test(dns_query, rejects_a_name_running_past_the_message)
{
	mb_query(&b, 1, "abc.def", 1, false);
	cr_assert_eq(wire_dns_parse_query(b.b, 12 + 6, &m), WIRE_E_NAME_TRUNCATED);
	cr_assert_eq(wire_dns_parse_query(b.b, 12 + 8, &m), WIRE_E_NAME_TRUNCATED);
}

Test(dns_query, rejects_a_question_without_type_and_class)
{
	mb_query(&b, 1, "abc", 1, false);
	cr_assert_eq(wire_dns_parse_query(b.b, b.n - 1, &m), WIRE_E_QUESTION_TRUNCATED);
	cr_assert_eq(m.question_end, 0);
}

Test(dns_query, rejects_counts_that_overrun_the_packet)
{
	mb_query(&b, 1, "abc", 1, true);
	b.b[11] = 2;
	cr_assert_eq(query(), WIRE_E_COUNT_OVERRUN);
	mb_query(&b, 1, "abc", 1, false);
	b.b[7] = 1;
	cr_assert_eq(query(), WIRE_E_COUNT_OVERRUN);
}

Test(dns_query, rejects_a_truncated_record)
{
	mb_query(&b, 1, "abc", 1, true);
	cr_assert_eq(wire_dns_parse_query(b.b, b.n - 1, &m), WIRE_E_RR_TRUNCATED);
	static const uint8_t opt[] = {0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8};
	mb_hdr(&b, 1, 0x0100, 1, 0, 0, 1);
	mb_question(&b, "abc", 1, 1);
	mb_opt(&b, 1232, 0, 0, false, opt, sizeof(opt));
	cr_assert_eq(wire_dns_parse_query(b.b, b.n - 1, &m), WIRE_E_RR_TRUNCATED);
}

Test(dns_query, rejects_bytes_after_the_last_record)
{
	mb_query(&b, 1, "abc", 1, true);
	mb_u8(&b, 0);
	cr_assert_eq(query(), WIRE_E_TRAILING_DATA);
}

Test(dns_query, rejects_two_opt_records_with_formerr)
{
	mb_hdr(&b, 1, 0x0100, 1, 0, 0, 2);
	mb_question(&b, "abc", 1, 1);
	mb_opt(&b, 1232, 0, 0, false, NULL, 0);
	mb_opt(&b, 512, 0, 0, false, NULL, 0);
	cr_assert_eq(query(), WIRE_E_OPT_DUPLICATE);
	cr_assert_eq(wire_err_rcode(WIRE_E_OPT_DUPLICATE), WIRE_RCODE_FORMERR);
	cr_assert(m.has_opt, "the first OPT is kept for the answer");
	cr_assert_eq(m.opt.udp_size, 1232);
}

Test(dns_query, rejects_an_opt_outside_the_additional_section)
{
	mb_hdr(&b, 1, 0x0100, 1, 1, 0, 0);
	mb_question(&b, "abc", 1, 1);
	mb_opt(&b, 1232, 0, 0, false, NULL, 0);
	cr_assert_eq(query(), WIRE_E_OPT_SECTION);
}

Test(dns_query, rejects_an_opt_whose_owner_is_not_the_root)
{
	mb_hdr(&b, 1, 0x0100, 1, 0, 0, 1);
	mb_question(&b, "abc", 1, 1);
	mb_name(&b, "x");
	mb_rr_fixed(&b, 41, 1232, 0, 0);
	cr_assert_eq(query(), WIRE_E_OPT_OWNER);
}

Test(dns_query, rejects_an_edns_option_running_past_the_opt)
{
	static const uint8_t bad[] = {0, 10, 0, 9, 1, 2, 3, 4, 5, 6, 7, 8};
	mb_hdr(&b, 1, 0x0100, 1, 0, 0, 1);
	mb_question(&b, "abc", 1, 1);
	mb_opt(&b, 1232, 0, 0, false, bad, sizeof(bad));
	cr_assert_eq(query(), WIRE_E_OPT_OPTION);
	mb_hdr(&b, 1, 0x0100, 1, 0, 0, 1);
	mb_question(&b, "abc", 1, 1);
	mb_opt(&b, 1232, 0, 0, false, bad, 3);
	cr_assert_eq(query(), WIRE_E_OPT_OPTION);
}

Test(dns_query, rejects_edns_version_above_zero_with_badvers_keeping_the_opt)
{
	mb_hdr(&b, 1, 0x0100, 1, 0, 0, 1);
	mb_question(&b, "abc", 1, 1);
	mb_opt(&b, 1232, 0, 1, true, NULL, 0);
	cr_assert_eq(query(), WIRE_E_EDNS_VERSION);
	cr_assert_eq(wire_err_rcode(WIRE_E_EDNS_VERSION), WIRE_RCODE_BADVERS);
	cr_assert(m.has_opt);
	cr_assert_eq(m.opt.version, 1);
	cr_assert_neq(m.question_end, 0);
}

Test(dns_query, every_reason_has_a_distinct_stable_name)
{
	for (int i = 0; i < WIRE_E__COUNT; i++) {
		cr_assert_not_null(wire_err_name(i));
		cr_assert_neq(strcmp(wire_err_name(i), "unknown"), 0, "reason %d has no name", i);
		for (int j = 0; j < i; j++)
			cr_assert_neq(strcmp(wire_err_name(i), wire_err_name(j)), 0);
	}
	cr_assert_str_eq(wire_err_name(WIRE_E_LABEL_TOO_LONG), "label_too_long");
	cr_assert_str_eq(wire_err_name(WIRE_E__COUNT), "unknown");
	cr_assert_eq(wire_err_rcode(WIRE_E__COUNT), -1);
}

/* ---- responses and the record walk ---- */

/* www.example.com A with two answers pointing at the question, an NS and glue. */
static void build_response(void)
{
	mb_hdr(&b, 9, 0x8580, 1, 2, 1, 2);
	mb_question(&b, "www.example.com", 1, 1); /* name at 12 */
	mb_a(&b, 12, 300, 0x0a000001);
	mb_a(&b, 12, 300, 0x0a000002);
	mb_ptr(&b, 16); /* example.com */
	mb_rr_fixed(&b, 2, 1, 3600, 6);
	size_t ns_name = b.n;
	mb_u8(&b, 3);
	mb_bytes(&b, "ns1", 3);
	mb_ptr(&b, 16);
	mb_opt(&b, 4096, 0, 0, false, NULL, 0);
	mb_ptr(&b, (uint16_t)ns_name);
	mb_rr_fixed(&b, 1, 1, 3600, 4);
	mb_u32(&b, 0x0a000035);
}

Test(dns_response, walks_every_record_with_sections_and_offsets)
{
	build_response();
	cr_assert_eq(response(), WIRE_OK);
	cr_assert_eq(count, 5);
	cr_assert_eq(rrs[0].section, WIRE_SEC_ANSWER);
	cr_assert_eq(rrs[1].section, WIRE_SEC_ANSWER);
	cr_assert_eq(rrs[2].section, WIRE_SEC_AUTHORITY);
	cr_assert_eq(rrs[2].type, 2);
	cr_assert_eq(rrs[3].section, WIRE_SEC_ADDITIONAL);
	cr_assert_eq(rrs[3].type, WIRE_TYPE_OPT);
	cr_assert_eq(rrs[4].type, 1);
	cr_assert_eq(be32(b.b + rrs[0].ttl_off), 300);
	cr_assert_eq(be32(b.b + rrs[1].rdata_off), 0x0a000002);
	cr_assert_eq(rrs[1].rdata_len, 4);
	cr_assert(m.has_opt);
	cr_assert_eq(m.opt_index, 3);
	cr_assert_eq(m.opt.udp_size, 4096);
	cr_assert_eq(wire_name_length(b.b, b.n, rrs[4].owner_off), 17);
	cr_assert_eq(wire_name_length(b.b, b.n, rrs[0].owner_off), 17);
}

Test(dns_response, counts_records_past_the_descriptor_cap)
{
	build_response();
	cr_assert_eq(wire_dns_parse_response(b.b, b.n, &m, rrs, 2, &count), WIRE_OK);
	cr_assert_eq(count, 5);
	cr_assert(m.has_opt, "the walk goes on past the cap to find the OPT");
	cr_assert_eq(wire_dns_parse_response(b.b, b.n, &m, NULL, 0, &count), WIRE_OK);
	cr_assert_eq(count, 5);
}

Test(dns_response, head_of_an_answer_cut_mid_record_gives_header_and_question)
{
	build_response();
	size_t cut = 40; /* inside the first answer record */
	cr_assert_neq(wire_dns_parse_response(b.b, cut, &m, NULL, 0, &count), WIRE_OK);
	cr_assert_eq(wire_dns_parse_response_head(b.b, cut, &m), WIRE_OK);
	cr_assert_eq(m.qname_len, 17);
	cr_assert_eq(m.question_end, 12 + 17 + 4);
	cr_assert_eq(m.msg_end, m.question_end, "nothing past the question is read");
	cr_assert_eq(m.ancount, 2, "the header's counts are as sent");
	cr_assert_not(m.has_opt);
}

Test(dns_response, head_of_a_query_or_a_cut_question_is_refused)
{
	build_response();
	cr_assert_eq(wire_dns_parse_response_head(b.b, 20, &m), WIRE_E_NAME_TRUNCATED);
	mb_query(&b, 1, "www.example.com", 1, false);
	cr_assert_eq(wire_dns_parse_response_head(b.b, b.n, &m), WIRE_E_QR_QUERY);
}

Test(dns_response, drops_a_query_sent_as_a_response)
{
	mb_query(&b, 1, "a", 1, false);
	cr_assert_eq(response(), WIRE_E_QR_QUERY);
}

Test(dns_response, accepts_no_question_but_not_two)
{
	mb_hdr(&b, 1, 0x8001, 0, 0, 0, 0);
	cr_assert_eq(response(), WIRE_OK);
	cr_assert_eq(m.question_end, 0);
	mb_hdr(&b, 1, 0x8000, 2, 0, 0, 0);
	mb_question(&b, "a", 1, 1);
	mb_question(&b, "b", 1, 1);
	cr_assert_eq(response(), WIRE_E_QD_COUNT);
}

static void response_with_owner(void (*owner)(void))
{
	mb_hdr(&b, 1, 0x8000, 1, 1, 0, 0);
	mb_question(&b, "abc", 1, 1); /* 12..20 */
	owner();
	mb_rr_fixed(&b, 1, 1, 60, 4);
	mb_u32(&b, 1);
}

static void forward_ptr(void)
{
	mb_ptr(&b, 40);
}
static void self_ptr(void)
{
	mb_ptr(&b, (uint16_t)b.n);
}
static void ptr_into_own_name(void)
{
	/* a label, then a pointer back to that same label: a loop the backward rule alone would
	 * miss */
	size_t start = b.n;
	mb_u8(&b, 1);
	mb_u8(&b, 'x');
	mb_ptr(&b, (uint16_t)start);
}
static void header_ptr(void)
{
	mb_ptr(&b, 4);
}

Test(dns_response, rejects_a_forward_compression_pointer)
{
	response_with_owner(forward_ptr);
	cr_assert_eq(response(), WIRE_E_PTR_FORWARD);
}

Test(dns_response, rejects_looping_compression_pointers)
{
	response_with_owner(self_ptr);
	cr_assert_eq(response(), WIRE_E_PTR_LOOP);
	response_with_owner(ptr_into_own_name);
	cr_assert_eq(response(), WIRE_E_PTR_LOOP);
}

Test(dns_response, rejects_a_pointer_into_the_header)
{
	response_with_owner(header_ptr);
	cr_assert_eq(response(), WIRE_E_PTR_HEADER);
}

Test(dns_response, rejects_a_chain_of_more_than_16_pointers)
{
	/* Build 17 records whose owners are each a pointer to the previous owner (a chain of hops).
	 */
	mb_hdr(&b, 1, 0x8000, 1, 18, 0, 0);
	mb_question(&b, "abc", 1, 1);
	uint16_t prev = 12;
	for (int i = 0; i < 18; i++) {
		uint16_t here = (uint16_t)b.n;
		mb_ptr(&b, prev);
		mb_rr_fixed(&b, 1, 1, 60, 4);
		mb_u32(&b, (uint32_t)i);
		prev = here;
	}
	cr_assert_eq(response(), WIRE_E_PTR_HOPS);
	cr_assert_eq(count, 16, "records up to 16 hops were fine");
}

Test(dns_response, rejects_a_compressed_name_over_255_octets)
{
	/* Owner: 4 labels of 63 in place, then a pointer to "abc" (5 octets): 4*64 + 5 > 255. */
	mb_hdr(&b, 1, 0x8000, 1, 1, 0, 0);
	mb_question(&b, "abc", 1, 1);
	for (int i = 0; i < 4; i++) {
		mb_u8(&b, 63);
		for (int j = 0; j < 63; j++)
			mb_u8(&b, 'q');
	}
	mb_ptr(&b, 12);
	mb_rr_fixed(&b, 1, 1, 60, 4);
	mb_u32(&b, 1);
	cr_assert_eq(response(), WIRE_E_NAME_TOO_LONG);
}

Test(dns_response, rejects_rdata_names_that_do_not_fill_rdlength)
{
	mb_hdr(&b, 1, 0x8000, 1, 1, 0, 0);
	mb_question(&b, "abc", 5, 1);
	mb_ptr(&b, 12);
	mb_rr_fixed(&b, 5, 1, 60, 3); /* CNAME rdata: a pointer (2) + 1 stray octet */
	mb_ptr(&b, 12);
	mb_u8(&b, 0);
	cr_assert_eq(response(), WIRE_E_RDATA_LEN);

	mb_hdr(&b, 1, 0x8000, 1, 1, 0, 0);
	mb_question(&b, "abc", 5, 1);
	mb_ptr(&b, 12);
	mb_rr_fixed(&b, 5, 1, 60, 1); /* CNAME rdata cut inside its pointer */
	mb_u8(&b, 0xc0);
	cr_assert_eq(response(), WIRE_E_RDATA_LEN);
}

Test(dns_response, rejects_a_forward_pointer_inside_rdata)
{
	mb_hdr(&b, 1, 0x8000, 1, 1, 0, 0);
	mb_question(&b, "abc", 2, 1);
	mb_ptr(&b, 12);
	mb_rr_fixed(&b, 2, 1, 60, 2);
	mb_ptr(&b, 200);
	cr_assert_eq(response(), WIRE_E_PTR_FORWARD);
}

Test(dns_response, checks_soa_and_mx_rdata_shapes)
{
	mb_hdr(&b, 1, 0x8000, 1, 2, 0, 0);
	mb_question(&b, "abc", 6, 1);
	mb_ptr(&b, 12);
	mb_rr_fixed(&b, 6, 1, 60, 2 + 2 + 20);
	mb_ptr(&b, 12);
	mb_ptr(&b, 12);
	for (int i = 0; i < 5; i++)
		mb_u32(&b, 1);
	mb_ptr(&b, 12);
	mb_rr_fixed(&b, 15, 1, 60, 4);
	mb_u16(&b, 10);
	mb_ptr(&b, 12);
	cr_assert_eq(response(), WIRE_OK);
	b.b[b.n - 5] = 5; /* MX rdlength 5: one octet over */
	mb_u8(&b, 0);
	cr_assert_eq(response(), WIRE_E_RDATA_LEN);
}

Test(dns_response, name_length_is_zero_for_an_invalid_name)
{
	response_with_owner(forward_ptr);
	cr_assert_eq(wire_name_length(b.b, b.n, 20), 0);
	cr_assert_eq(wire_name_length(b.b, b.n, 12), 5);
}

Test(dns_response, rejects_a_pointer_to_a_name_running_past_the_pointer)
{
	/* The owner points at "\x01" inside the question: a label that would read through the
	 * pointer. */
	mb_hdr(&b, 1, 0x8000, 1, 1, 0, 0);
	mb_question(&b, "abc", 1, 1); /* 12: 03 'a' 'b' 'c' 00 | 00 01 | 00 01 */
	mb_ptr(&b, 18); /* 18: 01 00 01 -> a 1-octet label, then 01 ... past the pointer */
	mb_rr_fixed(&b, 1, 1, 60, 4);
	mb_u32(&b, 1);
	cr_assert_eq(response(), WIRE_E_PTR_FORWARD);
}

Test(dns_response, rejects_an_owner_label_over_63_octets)
{
	mb_hdr(&b, 1, 0x8000, 1, 1, 0, 0);
	mb_question(&b, "abc", 1, 1);
	mb_u8(&b, 0x41);
	mb_rr_fixed(&b, 1, 1, 60, 4);
	mb_u32(&b, 1);
	cr_assert_eq(response(), WIRE_E_LABEL_TOO_LONG);
}

Test(dns_response, rejects_a_bad_question_like_a_query_does)
{
	mb_hdr(&b, 1, 0x8000, 1, 0, 0, 0);
	mb_u8(&b, 1);
	mb_u8(&b, 'a');
	mb_ptr(&b, 12);
	mb_u32(&b, 0x00010001);
	cr_assert_eq(response(), WIRE_E_QNAME_POINTER);
	mb_hdr(&b, 1, 0x8000, 1, 0, 0, 0);
	mb_name(&b, "abc");
	cr_assert_eq(response(), WIRE_E_QUESTION_TRUNCATED);
}

Test(dns_response, walks_minfo_rdata_names)
{
	mb_hdr(&b, 1, 0x8000, 1, 1, 0, 0);
	mb_question(&b, "abc", 14, 1);
	mb_ptr(&b, 12);
	mb_rr_fixed(&b, 14, 1, 60, 4);
	mb_ptr(&b, 12);
	mb_ptr(&b, 12);
	cr_assert_eq(response(), WIRE_OK);
	b.b[b.n - 5] = 2; /* room for only the first name */
	b.n -= 2;
	cr_assert_eq(response(), WIRE_E_RDATA_LEN);
}

Test(dns_response, rejects_a_message_longer_than_dns_can_be)
{
	static struct mb big;
	mb_hdr(&big, 1, 0x8000, 0, 0, 0, 0);
	cr_assert_eq(wire_dns_parse_response(big.b, 65536, &m, NULL, 0, &count),
		     WIRE_E_TRAILING_DATA);
}

Test(dns_query, udp_limit_is_512_without_edns_and_never_below)
{
	mb_query(&b, 1, "abc", 1, false);
	cr_assert_eq(query(), WIRE_OK);
	cr_assert_eq(wire_dns_udp_limit(&m), 512);
	mb_query(&b, 1, "abc", 1, true);
	cr_assert_eq(query(), WIRE_OK);
	cr_assert_eq(wire_dns_udp_limit(&m), 1232);
	b.b[b.n - 8] = 1; /* OPT CLASS (the UDP size): 256 */
	b.b[b.n - 7] = 0;
	cr_assert_eq(query(), WIRE_OK);
	cr_assert_eq(m.opt.udp_size, 256);
	cr_assert_eq(wire_dns_udp_limit(&m), 512);
}

Test(dns_response, same_question_compares_names_ignoring_case)
{
	static struct mb other;
	struct wire_dns_msg mo;
	mb_query(&b, 1, "www.Example.COM", 1, false);
	cr_assert_eq(query(), WIRE_OK);
	mb_hdr(&other, 1, 0x8180, 1, 0, 0, 0);
	mb_question(&other, "WWW.example.com", 1, 1);
	cr_assert_eq(wire_dns_parse_response(other.b, other.n, &mo, NULL, 0, &count), WIRE_OK);
	cr_assert(wire_dns_same_question(b.b, &m, other.b, &mo));
	other.b[other.n - 3] = 28; /* AAAA */
	cr_assert_eq(wire_dns_parse_response(other.b, other.n, &mo, NULL, 0, &count), WIRE_OK);
	cr_assert_not(wire_dns_same_question(b.b, &m, other.b, &mo));
	mb_hdr(&other, 1, 0x8180, 1, 0, 0, 0);
	mb_question(&other, "www.example.org", 1, 1);
	cr_assert_eq(wire_dns_parse_response(other.b, other.n, &mo, NULL, 0, &count), WIRE_OK);
	cr_assert_not(wire_dns_same_question(b.b, &m, other.b, &mo));
	mb_hdr(&other, 1, 0x8180, 0, 0, 0, 0);
	cr_assert_eq(wire_dns_parse_response(other.b, other.n, &mo, NULL, 0, &count), WIRE_OK);
	cr_assert_not(wire_dns_same_question(b.b, &m, other.b, &mo));
}
