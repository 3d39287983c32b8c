/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/local on the seed's config (examples/seed.yaml): its private hosted zone central.com
 * (records, an in-zone CNAME, NXDOMAIN and NODATA with the SOA, the delegated onprem.central.com
 * left to its rule) and the VPC's auto-defined names (instance names and their PTRs inside the
 * VPC's CIDRs, localhost, RFC 6303 reverse zones), each query matched as the lcore would.
 */
#include "harness.h"

static void setup(void)
{
	local_setup(EXAMPLES_DIR "/seed.yaml");
}

TestSuite(local, .init = setup, .fini = teardown);

static uint32_t a_of(const struct wire_rr *rr)
{
	return be32(out + rr->rdata_off);
}

Test(local, a_zone_record_answers_with_the_resolvers_flags)
{
	cr_assert_eq(ask("www.central.com", 1), LOCAL_OK);
	cr_expect_eq(am.id, 0x4321);
	cr_expect_eq(am.flags, WIRE_FLAG_QR | WIRE_FLAG_RD | WIRE_FLAG_RA, "no AA: %#x", am.flags);
	cr_expect_eq(am.ancount, 1);
	cr_expect_eq(a_of(&rrs[0]), 0xac1f140b, "172.31.20.11");
	cr_expect_eq(wire_rr_ttl(out, &rrs[0]), 300);
	cr_assert_eq(ask("central.com", 1), LOCAL_OK);
	cr_expect_eq(a_of(&rrs[0]), 0xac1f140a, "the apex: 172.31.20.10");
}

Test(local, the_question_keeps_the_clients_case)
{
	cr_assert_eq(ask("WWW.Central.COM", 1), LOCAL_OK);
	cr_expect(!memcmp(out + 12, "\3WWW\7Central\3COM", 17));
	cr_expect_eq(am.ancount, 1);
}

Test(local, an_in_zone_cname_is_followed)
{
	cr_assert_eq(ask("api.central.com", 1), LOCAL_OK);
	cr_expect_eq(am.ancount, 2);
	cr_expect_eq(rrs[0].type, 5);
	cr_expect_eq(rrs[1].type, 1);
	cr_expect_eq(a_of(&rrs[1]), 0xac1f140b);
	cr_assert_eq(ask("api.central.com", 5), LOCAL_OK);
	cr_expect_eq(am.ancount, 1, "asked for the CNAME itself: not followed");
}

Test(local, a_missing_name_is_nxdomain_with_the_soa_at_the_negative_ttl)
{
	cr_assert_eq(ask("nosuch.central.com", 1), LOCAL_OK);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NXDOMAIN);
	cr_expect_eq(am.ancount, 0);
	cr_expect_eq(am.nscount, 1);
	cr_expect_eq(rrs[0].type, 6);
	cr_expect_eq(wire_rr_ttl(out, &rrs[0]), 300, "min(SOA TTL 300, MINIMUM 86400)");
}

Test(local, a_name_without_that_type_is_nodata_with_the_soa)
{
	cr_assert_eq(ask("www.central.com", 28), LOCAL_OK);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NOERROR);
	cr_expect_eq(am.ancount, 0);
	cr_expect_eq(am.nscount, 1);
}

Test(local, an_instance_name_in_the_vpc_answers_its_address)
{
	cr_assert_eq(ask("ip-172-31-2-118.ap-southeast-2.compute.internal", 1), LOCAL_OK);
	cr_expect_eq(am.ancount, 1);
	cr_expect_eq(a_of(&rrs[0]), 0xac1f0276);
	cr_assert_eq(ask("ip-10-0-0-5.ap-southeast-2.compute.internal", 1), LOCAL_OK);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NXDOMAIN, "outside the VPC's CIDRs");
	cr_assert_eq(ask("www.ap-southeast-2.compute.internal", 1), LOCAL_OK);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NXDOMAIN);
	cr_assert_eq(ask("ip-172-31-2-118.ap-southeast-2.compute.internal", 28), LOCAL_OK);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NOERROR, "NODATA for AAAA");
	cr_expect_eq(am.ancount, 0);
}

Test(local, a_ptr_in_the_vpc_answers_the_instance_name)
{
	cr_assert_eq(ask("118.2.31.172.in-addr.arpa", 12), LOCAL_OK);
	cr_expect_eq(am.ancount, 1);
	cr_expect_eq(rrs[0].type, 12);
	static const uint8_t want[] = "\17ip-172-31-2-118\16ap-southeast-2\7compute\10internal";
	cr_expect_eq(rrs[0].rdata_len, sizeof(want));
	cr_expect(!memcmp(out + rrs[0].rdata_off, want, sizeof(want)));
}

Test(local, rfc_6303_reverse_names_are_nxdomain)
{
	cr_assert_eq(ask("5.0.0.10.in-addr.arpa", 12), LOCAL_OK);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NXDOMAIN);
	cr_assert_eq(ask("1.0.0.127.in-addr.arpa", 12), LOCAL_OK);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NXDOMAIN);
}

Test(local, localhost_is_the_loopback)
{
	cr_assert_eq(ask("localhost", 1), LOCAL_OK);
	cr_expect_eq(am.ancount, 1);
	cr_expect_eq(a_of(&rrs[0]), 0x7f000001);
	cr_assert_eq(ask("localhost", 28), LOCAL_OK);
	cr_expect_eq(rrs[0].rdata_len, 16);
	cr_assert_eq(ask("other.localhost", 1), LOCAL_OK);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NXDOMAIN);
}

Test(local, the_clients_edns_view_and_size)
{
	cr_assert_eq(ask_link("www.central.com", 1, true, 1472), LOCAL_OK);
	cr_expect(am.has_opt);
	cr_expect_eq(am.opt.udp_size, 4096);
	cr_assert_eq(ask_link("api.central.com", 1, true, 40), LOCAL_OK);
	cr_expect(am.flags & WIRE_FLAG_TC, "over what the link carries: TC");
	cr_expect_eq(am.ancount, 0);
	cr_expect(am.has_opt);
}

Test(local, names_that_are_not_local_are_left_to_the_caller)
{
	cr_expect_eq(ask("t1.onprem.central.com", 1), LOCAL_NOT_LOCAL, "the delegate rule's");
	cr_expect_eq(ask("www.onprem.com", 1), LOCAL_NOT_LOCAL, "the forward rule's");
	uint8_t bad[5] = {0};
	size_t len;
	cr_expect_eq(local_answer(loc, 0, MATCH_ZONE, 0, bad, sizeof(bad), out, sizeof(out), 4096,
				  1472, &len),
		     LOCAL_BAD_QUERY);
}
