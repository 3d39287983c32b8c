/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/local's enumeration of static zone answers (what serve compiles into the lcores' tables): on
 * the seed's central.com, its records, the in-zone CNAME chain, the apex and NODATA for A and AAAA,
 * the delegated onprem.central.com left out; on the test zone, wildcards, a CNAME loop, a CNAME
 * leaving the zone and a cut left out. Every answer given is byte for byte what local_answer gives
 * the same query from a client.
 */
#include "harness.h"

#define TYPE_A	   1
#define TYPE_NS	   2
#define TYPE_CNAME 5
#define TYPE_SOA   6
#define TYPE_AAAA  28
#define GOT_MAX	   64

struct got {
	uint8_t name[255];
	size_t name_len;
	uint16_t qtype, qclass;
	uint32_t zone;
	uint8_t msg[LOCAL_ANSWER_MAX];
	size_t len;
};
static struct got got[GOT_MAX];
static size_t n_got;

static bool take(void *ctx, const struct local_static *a)
{
	(void)ctx;
	cr_assert_lt(n_got, GOT_MAX);
	struct got *g = &got[n_got++];
	memcpy(g->name, a->qname, a->qname_len);
	g->name_len = a->qname_len;
	g->qtype = a->qtype;
	g->qclass = a->qclass;
	g->zone = a->zone;
	memcpy(g->msg, a->msg, a->len);
	g->len = a->len;
	return true;
}

static void enumerate(void)
{
	n_got = 0;
	long n = local_static_answers(loc, 0, take, NULL);
	cr_assert_eq(n, (long)n_got);
}

/* The answer given for name/type, NULL when none was. */
static const struct got *find(const char *name, uint16_t type)
{
	struct mb q;
	mb_query(&q, 0, name, type, false);
	size_t len = q.n - WIRE_DNS_HLEN - 4;
	for (size_t i = 0; i < n_got; i++)
		if (got[i].qtype == type && got[i].name_len == len &&
		    !memcmp(got[i].name, q.b + WIRE_DNS_HLEN, len))
			return &got[i];
	return NULL;
}

/* Parses a given answer into am and rrs (the harness's). */
static const struct got *parse(const struct got *g)
{
	cr_assert(g);
	memcpy(out, g->msg, g->len);
	out_len = g->len;
	cr_assert_eq(wire_dns_parse_response(out, out_len, &am, rrs, 32, &n_rrs), WIRE_OK);
	return g;
}

/* Every answer given is local_answer's to a client's query for it (ID 0, RD, no OPT), and is
 * one the lcore may send as it is: a response, no OPT, not truncated, never SERVFAIL. */
static void expect_all_as_local_answer(void)
{
	for (size_t i = 0; i < n_got; i++) {
		const struct got *g = &got[i];
		uint8_t q[WIRE_DNS_HLEN + 255 + 4] = {0, 0, 1, 0, 0, 1};
		memcpy(q + WIRE_DNS_HLEN, g->name, g->name_len);
		q[WIRE_DNS_HLEN + g->name_len] = (uint8_t)(g->qtype >> 8);
		q[WIRE_DNS_HLEN + g->name_len + 1] = (uint8_t)g->qtype;
		q[WIRE_DNS_HLEN + g->name_len + 3] = 1;
		static uint8_t want[LOCAL_ANSWER_MAX];
		size_t want_len;
		cr_assert_eq(local_answer(loc, 0, MATCH_ZONE, g->zone, q,
					  WIRE_DNS_HLEN + g->name_len + 4, want, sizeof(want), 4096,
					  LOCAL_ANSWER_MAX, &want_len),
			     LOCAL_OK);
		cr_expect_eq(g->len, want_len, "answer %zu (type %u)", i, g->qtype);
		cr_expect(!memcmp(g->msg, want, want_len), "answer %zu (type %u)", i, g->qtype);
		cr_expect_eq(g->qclass, 1);
		parse(g);
		cr_expect(!am.has_opt);
		cr_expect(!(am.flags & WIRE_FLAG_TC));
		cr_expect_neq(WIRE_RCODE(am.flags), WIRE_RCODE_SERVFAIL);
	}
}

static void seed(void)
{
	local_setup(EXAMPLES_DIR "/seed.yaml");
}

static void wild(void)
{
	local_setup(LOCAL_DIR "/wild.yaml");
}

TestSuite(local_static_seed, .init = seed, .fini = teardown);
TestSuite(local_static_wild, .init = wild, .fini = teardown);

Test(local_static_seed, central_com_records_chain_and_apex)
{
	enumerate();
	/* apex SOA, NS, A, AAAA (NODATA); www A, AAAA (NODATA); api CNAME, A, AAAA */
	cr_expect_eq(n_got, 9);
	expect_all_as_local_answer();
	uint32_t zone = got[0].zone;
	for (size_t i = 0; i < n_got; i++)
		cr_expect_eq(got[i].zone, zone, "the seed has one zone");

	parse(find("www.central.com", TYPE_A));
	cr_expect_eq(am.flags, WIRE_FLAG_QR | WIRE_FLAG_RD | WIRE_FLAG_RA, "no AA: %#x", am.flags);
	cr_assert_eq(am.ancount, 1);
	cr_expect_eq(be32(out + rrs[0].rdata_off), 0xac1f140b, "172.31.20.11");

	parse(find("api.central.com", TYPE_A));
	cr_assert_eq(am.ancount, 2, "the in-zone chain");
	cr_expect_eq(rrs[0].type, TYPE_CNAME);
	cr_expect_eq(rrs[1].type, TYPE_A);
	cr_expect_eq(be32(out + rrs[1].rdata_off), 0xac1f140b);
	parse(find("api.central.com", TYPE_CNAME));
	cr_expect_eq(am.ancount, 1);
	parse(find("api.central.com", TYPE_AAAA));
	cr_expect_eq(am.ancount, 1, "the CNAME, then NODATA at its end");
	cr_expect_eq(am.nscount, 1);

	parse(find("central.com", TYPE_A));
	cr_expect_eq(be32(out + rrs[0].rdata_off), 0xac1f140a, "the apex: 172.31.20.10");
	parse(find("central.com", TYPE_SOA));
	cr_expect_eq(rrs[0].type, TYPE_SOA);
	cr_expect_eq(rrs[0].section, WIRE_SEC_ANSWER);
	parse(find("central.com", TYPE_NS));
	cr_expect_eq(am.ancount, 1);
	parse(find("www.central.com", TYPE_AAAA));
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NOERROR);
	cr_expect_eq(am.ancount, 0, "NODATA");
	cr_expect_eq(am.nscount, 1);
	cr_expect_eq(rrs[0].type, TYPE_SOA);

	cr_expect_null(find("onprem.central.com", TYPE_NS), "a zone cut: the delegate rule's");
	cr_expect_null(find("ns1.onprem.central.com", TYPE_A), "below the cut");
}

Test(local_static_seed, a_vpc_out_of_range_has_none)
{
	n_got = 0;
	cr_expect_eq(local_static_answers(loc, 7, take, NULL), 0);
	cr_expect_eq(n_got, 0);
}

static bool stop_at_two(void *ctx, const struct local_static *a)
{
	(void)a;
	return ++*(int *)ctx < 2;
}

Test(local_static_seed, the_taker_may_stop_it)
{
	int taken = 0;
	cr_expect_eq(local_static_answers(loc, 0, stop_at_two, &taken), -1);
	cr_expect_eq(taken, 2);
}

Test(local_static_wild, wildcards_loops_leaving_chains_and_cuts_are_left_out)
{
	enumerate();
	/* apex SOA, NS, A and AAAA (NODATA); ns1, x.apps and a.b.deep A and AAAA; loop1, loop2
	 * and out as CNAMEs asked for themselves */
	cr_expect_eq(n_got, 13);
	expect_all_as_local_answer();
	cr_expect_null(find("*.apps.wild.test", TYPE_A), "a wildcard");
	cr_expect(find("x.apps.wild.test", TYPE_A), "a name beside the wildcard");
	cr_expect_null(find("apps.wild.test", TYPE_A), "an empty non-terminal is not an owner");
	cr_expect_null(find("loop1.wild.test", TYPE_A), "a loop: SERVFAIL");
	parse(find("loop1.wild.test", TYPE_CNAME));
	cr_expect_eq(am.ancount, 1);
	cr_expect_null(find("out.wild.test", TYPE_A), "leaves the zone: the slow path chases it");
	cr_expect(find("out.wild.test", TYPE_CNAME));
	cr_expect_null(find("sub.wild.test", TYPE_NS), "a cut");
	cr_expect_null(find("ns.sub.wild.test", TYPE_A), "below a cut");
}
