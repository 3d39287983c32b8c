/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/local's zone logic on cases the seed's zone lacks (tests/unit/local/wild.yaml): wildcards and
 * the closest encloser (RFC 4592), empty non-terminals, a CNAME loop, a CNAME leaving the zone, a
 * zone cut with no delegate rule, and us-east-1's ec2.internal.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../wire/msgbuild.h"
#include "ctl/local/local.h"
#include "dp/wire/wire.h"

static struct config *cfg;
static struct config_tables *tables;
static struct local *loc;

static void setup(void)
{
	struct config_errors errs = {0};
	char err[200];
	cfg = config_load(LOCAL_DIR "/wild.yaml", &errs);
	cr_assert(cfg, "%s", errs.count ? errs.list[0].text : "?");
	tables = config_compile(cfg, MATCH_ENGINE_SUFFIX, &errs);
	cr_assert(tables);
	loc = local_new(cfg, tables, err, sizeof(err));
	cr_assert(loc, "%s", err);
	config_errors_free(&errs);
}

static void teardown(void)
{
	local_free(loc);
	config_tables_free(tables);
	config_free(cfg);
}

TestSuite(local_zone, .init = setup, .fini = teardown);

static uint8_t out[4096];
static size_t out_len;
static struct wire_dns_msg am;
static struct wire_rr rrs[32];
static size_t n_rrs;

static enum local_status ask(const char *name, uint16_t type)
{
	struct mb q;
	mb_query(&q, 7, name, type, false);
	struct match_result res;
	cr_assert_eq(match_lookup(tables->vpcs[0].table, NULL, q.b + 12, q.n - 16, &res), MATCH_OK);
	enum local_status st = local_answer(loc, 0, res.kind, res.id, q.b, q.n, out, sizeof(out),
					    4096, 1472, &out_len);
	if (st == LOCAL_OK)
		cr_assert_eq(wire_dns_parse_response(out, out_len, &am, rrs, 32, &n_rrs), WIRE_OK);
	return st;
}

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
