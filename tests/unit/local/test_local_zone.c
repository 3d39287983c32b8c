/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/local's zone logic on cases the seed's zone lacks (tests/unit/local/wild.yaml): wildcards and
 * the closest encloser (RFC 4592), empty non-terminals, a CNAME loop, a CNAME leaving the zone, a
 * zone cut with no delegate rule, and us-east-1's ec2.internal.
 */
#include "harness.h"

static void setup(void)
{
	local_setup(LOCAL_DIR "/wild.yaml");
}

TestSuite(local_zone, .init = setup, .fini = teardown);

static unsigned rcode(void)
{
	return WIRE_RCODE(am.flags);
}

Test(local_zone, a_wildcard_answers_under_the_askers_name)
{
	cr_assert_eq(ask("foo.apps.wild.test", 1), LOCAL_OK);
	cr_expect_eq(rcode(), WIRE_RCODE_NOERROR);
	cr_expect_eq(am.ancount, 1);
	cr_expect_eq(be32(out + rrs[0].rdata_off), 0x0a000505);
	cr_expect_eq(wire_name_length(out, out_len, rrs[0].owner_off), 20,
		     "owner foo.apps.wild.test");
	cr_expect_eq(rrs[0].owner_off, 12 + 20 + 4, "a pointer to the question's name");
	cr_expect_eq(be16(out + rrs[0].owner_off), 0xc00c);
}

Test(local_zone, an_existing_name_beats_the_wildcard_and_shadows_it_below)
{
	cr_assert_eq(ask("x.apps.wild.test", 1), LOCAL_OK);
	cr_expect_eq(be32(out + rrs[0].rdata_off), 0x0a000506);
	cr_assert_eq(ask("y.x.apps.wild.test", 1), LOCAL_OK);
	cr_expect_eq(rcode(), WIRE_RCODE_NXDOMAIN, "x.apps is the closest encloser: no *.x.apps");
}

Test(local_zone, a_wildcard_without_the_type_is_nodata)
{
	cr_assert_eq(ask("foo.apps.wild.test", 28), LOCAL_OK);
	cr_expect_eq(rcode(), WIRE_RCODE_NOERROR);
	cr_expect_eq(am.ancount, 0);
	cr_expect_eq(am.nscount, 1);
	cr_expect_eq(wire_rr_ttl(out, &rrs[0]), 30, "min(SOA TTL 60, MINIMUM 30)");
}

Test(local_zone, empty_non_terminals_are_nodata_and_below_them_nxdomain)
{
	cr_assert_eq(ask("deep.wild.test", 1), LOCAL_OK);
	cr_expect_eq(rcode(), WIRE_RCODE_NOERROR);
	cr_expect_eq(am.ancount, 0);
	cr_expect_eq(am.nscount, 1);
	cr_assert_eq(ask("b.deep.wild.test", 1), LOCAL_OK);
	cr_expect_eq(rcode(), WIRE_RCODE_NOERROR);
	cr_assert_eq(ask("a.b.deep.wild.test", 1), LOCAL_OK);
	cr_expect_eq(am.ancount, 1);
	cr_assert_eq(ask("c.b.deep.wild.test", 1), LOCAL_OK);
	cr_expect_eq(rcode(), WIRE_RCODE_NXDOMAIN);
}

Test(local_zone, a_cname_loop_ends_in_servfail)
{
	cr_assert_eq(ask("loop1.wild.test", 1), LOCAL_OK);
	cr_expect_eq(rcode(), WIRE_RCODE_SERVFAIL);
}

Test(local_zone, a_cname_leaving_the_zone_is_answered_as_far_as_the_zone_goes)
{
	cr_assert_eq(ask("out.wild.test", 1), LOCAL_OK);
	cr_expect_eq(rcode(), WIRE_RCODE_NOERROR);
	cr_expect_eq(am.ancount, 1);
	cr_expect_eq(rrs[0].type, 5);
}

Test(local_zone, below_a_cut_with_no_delegate_rule_is_left_to_the_slow_path)
{
	cr_expect_eq(ask("host.sub.wild.test", 1), LOCAL_DELEGATED);
	cr_expect_eq(ask("sub.wild.test", 1), LOCAL_DELEGATED);
}

Test(local_zone, us_east_1_names_instances_under_ec2_internal)
{
	cr_assert_eq(ask("ip-10-0-3-4.ec2.internal", 1), LOCAL_OK);
	cr_expect_eq(am.ancount, 1);
	cr_expect_eq(be32(out + rrs[0].rdata_off), 0x0a000304);
	cr_assert_eq(ask("4.3.0.10.in-addr.arpa", 12), LOCAL_OK);
	static const uint8_t want[] = "\13ip-10-0-3-4\3ec2\10internal";
	cr_expect_eq(rrs[0].rdata_len, sizeof(want));
	cr_expect(!memcmp(out + rrs[0].rdata_off, want, sizeof(want)));
}
