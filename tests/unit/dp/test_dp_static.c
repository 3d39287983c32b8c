/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Static zone answers in the poll loop: a query its VPC's match gives to a private zone is answered
 * on the lcore from the tables' static answers (the client's ID, case, RD and CD, EDNS view, cut
 * with TC to what it takes; TTLs as compiled, never aged), a miss still goes to the slow ring, two
 * VPCs with a zone of the same name each get their own answers, and the tables refuse what the
 * lcore could not answer from.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "../wire/msgbuild.h"
#include "harness.h"

#define TYPE_A	  1
#define TYPE_AAAA 28
#define VPC0_ADDR 0x0a010101u /* 10.1.1.1: VLAN 10's www.corp.internal */
#define VPC1_ADDR 0x0a020202u /* 10.2.2.2: VLAN 20's */
#define BIG_N	  40	      /* A records of big.corp.internal: 675 octets, over 512 */

static struct mb msg;

/* An answer to name/A as ctl/local compiles it (ID 0, RD), with n A records from addr on, TTL
 * 300; AA set, which the lcore must clear like any resolver answer. */
static void a_answer(const char *name, unsigned n, uint32_t addr)
{
	mb_hdr(&msg, 0, WIRE_FLAG_QR | WIRE_FLAG_AA | WIRE_FLAG_RD | WIRE_FLAG_RA, 1, (uint16_t)n,
	       0, 0);
	mb_question(&msg, name, TYPE_A, 1);
	for (unsigned i = 0; i < n; i++)
		mb_a(&msg, WIRE_DNS_HLEN, 300, addr + i);
}

static void add(struct dp_tables_builder *b, uint32_t vpc, uint32_t zone)
{
	char err[200];
	struct dp_static_spec spec = {.vpc = vpc, .zone = zone, .msg = msg.b, .len = msg.n};
	cr_assert_geq(dp_tables_add_static(b, &spec, err, sizeof(err)), 0, "%s", err);
}

static void statics(struct dp_tables_builder *b)
{
	a_answer("www.corp.internal", 1, VPC0_ADDR);
	add(b, 0, H_ZONE_ID);
	a_answer("www.corp.internal", 1, VPC1_ADDR);
	add(b, 1, H_ZONE_ID);
	a_answer("big.corp.internal", BIG_N, VPC0_ADDR);
	add(b, 0, H_ZONE_ID);
	/* compiled from another zone than the one VLAN 10's match gives corp.internal to */
	a_answer("other.corp.internal", 1, VPC0_ADDR);
	add(b, 0, H_ZONE_ID + 1);
}

static void setup(void)
{
	h_statics = statics;
	h_setup(3, 1);
}

static void teardown(void)
{
	h_teardown();
	h_statics = NULL;
}

TestSuite(dp_static, .init = setup, .fini = teardown);

static struct wire_rr rrs[64];
static size_t n_rrs;

/* Asks q, polls, and parses what was sent back to the client into m and rrs; its DNS length. */
static size_t ask(const struct h_query *q, struct wire_dns_msg *m)
{
	uint8_t frame[H_FRAME_MAX], out[H_FRAME_MAX];
	h_inject(frame, h_build_query(frame, q));
	h_poll();
	size_t len = h_take(out);
	cr_assert_gt(len, 0, "answered on the lcore");
	struct wire_pkt pkt;
	h_parse_sent(out, len, &pkt, m, true);
	cr_expect_eq(pkt.src_port, 53);
	cr_expect_eq(pkt.dst_port, H_CLIENT_PORT);
	const uint8_t *dns = out + pkt.payload_off;
	cr_assert_eq(wire_dns_parse_response(dns, pkt.payload_len, m, rrs, 64, &n_rrs), WIRE_OK);
	return pkt.payload_len;
}

static uint32_t a_of(const uint8_t *dns, const struct wire_rr *rr)
{
	return be32(dns + rr->rdata_off);
}

Test(dp_static, a_zone_query_is_answered_on_the_lcore_in_the_clients_id_case_and_flags)
{
	uint8_t frame[H_FRAME_MAX], out[H_FRAME_MAX];
	struct h_query q = {.vlan = H_VLAN_VPC0, .qname = "wWw.CORP.internal", .id = 0x1234};
	h_inject(frame, h_build_query(frame, &q));
	h_poll();
	size_t len = h_take(out);
	cr_assert_gt(len, 0);
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(out, len, &pkt, &m, true);
	const uint8_t *dns = out + pkt.payload_off;
	cr_assert_eq(wire_dns_parse_response(dns, pkt.payload_len, &m, rrs, 64, &n_rrs), WIRE_OK);
	cr_expect(!memcmp(pkt.src_addr, h_resolver_ip, 4), "from the resolver address asked");
	cr_expect(!memcmp(pkt.dst_addr, h_client_ip, 4));
	cr_expect_eq(m.id, 0x1234);
	cr_expect_eq(m.flags, WIRE_FLAG_QR | WIRE_FLAG_RD | WIRE_FLAG_RA, "QR RD RA, no AA: %#x",
		     m.flags);
	cr_expect(!memcmp(dns + WIRE_DNS_HLEN, "\3wWw\4CORP\10internal", 19), "the client's case");
	cr_expect(!m.has_opt, "no OPT asked, none given");
	cr_assert_eq(m.ancount, 1);
	cr_expect_eq(a_of(dns, &rrs[0]), VPC0_ADDR);
	cr_expect_eq(wire_rr_ttl(dns, &rrs[0]), 300);
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.static_answers, 1);
	cr_expect_eq(c.answered, 1);
	cr_expect_eq(c.to_slow, 0);
	struct dp_entity_counters v;
	dp_entity_counters_read(h.plane, DP_ENTITY_VPC, 0, &v);
	cr_expect_eq(v.static_answers, 1);
	cr_expect_eq(v.answered, 1);
	cr_expect_eq(rte_ring_count(dp_slow_ring(h.plane, 0)), 0);
}

Test(dp_static, ttls_do_not_age)
{
	struct wire_dns_msg m;
	ask(&(struct h_query){.vlan = H_VLAN_VPC0, .qname = "www.corp.internal"}, &m);
	h.now += 200 * 1000000000ull;
	uint8_t frame[H_FRAME_MAX], out[H_FRAME_MAX];
	h_inject(frame, h_build_query(frame, &(struct h_query){.vlan = H_VLAN_VPC0,
							       .qname = "www.corp.internal"}));
	h_poll();
	size_t len = h_take(out);
	struct wire_pkt pkt;
	h_parse_sent(out, len, &pkt, &m, true);
	cr_assert_eq(
	    wire_dns_parse_response(out + pkt.payload_off, pkt.payload_len, &m, rrs, 64, &n_rrs),
	    WIRE_OK);
	cr_expect_eq(wire_rr_ttl(out + pkt.payload_off, &rrs[0]), 300, "200 s later, as compiled");
	cr_expect_eq(h_counters().static_answers, 2);
}

Test(dp_static, the_clients_opt_rd_and_cd_come_back)
{
	struct wire_dns_msg m;
	ask(&(struct h_query){.vlan = H_VLAN_VPC0,
			      .qname = "www.corp.internal",
			      .edns = 1232,
			      .flags = WIRE_FLAG_CD},
	    &m);
	cr_expect_eq(m.flags, WIRE_FLAG_QR | WIRE_FLAG_RA | WIRE_FLAG_CD, "RD off, CD on: %#x",
		     m.flags);
	cr_assert(m.has_opt, "the client's EDNS view");
	cr_expect_eq(m.opt.udp_size, DP_EDNS_DEFAULT, "the resolver's own size");
	cr_expect_eq(m.ancount, 1);
	/* the same over IPv6 */
	ask(&(struct h_query){.vlan = H_VLAN_VPC0, .qname = "www.corp.internal", .v6 = true}, &m);
	cr_expect_eq(m.ancount, 1);
	cr_expect(!m.has_opt);
	cr_expect_eq(h_counters().static_answers, 2);
}

Test(dp_static, too_big_for_a_client_of_512_goes_out_cut_with_tc)
{
	struct wire_dns_msg m;
	size_t len = ask(&(struct h_query){.vlan = H_VLAN_VPC0, .qname = "big.corp.internal"}, &m);
	cr_expect(m.flags & WIRE_FLAG_TC);
	cr_expect_eq(m.ancount, 0);
	cr_expect_eq(len, WIRE_DNS_HLEN + 19 + 4, "header and question");
	cr_expect_eq(h_counters().truncations, 1);
	/* a client that takes 1232 gets all of it */
	len = ask(
	    &(struct h_query){.vlan = H_VLAN_VPC0, .qname = "big.corp.internal", .edns = 1232}, &m);
	cr_expect(!(m.flags & WIRE_FLAG_TC));
	cr_expect_eq(m.ancount, BIG_N);
	cr_expect(m.has_opt);
	cr_expect_eq(len, WIRE_DNS_HLEN + 19 + 4 + BIG_N * 16 + 11);
	cr_expect_eq(h_counters().truncations, 1);
	cr_expect_eq(h_counters().static_answers, 2);
}

/* Asks name/type on VLAN 10 and expects the query on the slow ring, as the client sent it. */
static void expect_slow(const char *name, uint16_t type)
{
	uint8_t frame[H_FRAME_MAX], out[H_FRAME_MAX];
	h_inject(frame,
		 h_build_query(frame,
			       &(struct h_query){
				   .vlan = H_VLAN_VPC0, .qname = name, .qtype = type, .id = 0x77}));
	h_poll();
	cr_expect_eq(h_take(out), 0, "%s/%u: nothing sent", name, type);
	struct rte_mbuf *m = NULL;
	cr_assert_eq(rte_ring_dequeue(dp_slow_ring(h.plane, 0), (void **)&m), 0, "%s/%u", name,
		     type);
	const struct dp_slow_meta *meta = dp_slow_meta(m);
	cr_expect_eq(meta->kind, MATCH_ZONE);
	cr_expect_eq(meta->match_id, H_ZONE_ID);
	cr_expect_eq(meta->vpc, 0);
	cr_expect_eq(rte_pktmbuf_mtod(m, uint8_t *)[meta->dns_off + 1], 0x77, "untouched");
	rte_pktmbuf_free(m);
}

Test(dp_static, a_miss_goes_to_the_slow_ring)
{
	expect_slow("nosuch.corp.internal", TYPE_A);
	expect_slow("www.corp.internal", TYPE_AAAA);
	/* an entry compiled from a zone other than the one the match names is no answer */
	expect_slow("other.corp.internal", TYPE_A);
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.to_slow, 3);
	cr_expect_eq(c.static_answers, 0);
	cr_expect_eq(c.answered, 0);
}

Test(dp_static, two_vpcs_with_a_zone_of_one_name_each_get_their_own)
{
	struct wire_dns_msg m;
	uint8_t frame[H_FRAME_MAX], out[H_FRAME_MAX];
	for (int round = 0; round < 2; round++) {
		uint16_t vlan = round ? H_VLAN_VPC1 : H_VLAN_VPC0;
		h_inject(frame,
			 h_build_query(
			     frame, &(struct h_query){.vlan = vlan, .qname = "www.corp.internal"}));
		h_poll();
		size_t len = h_take(out);
		cr_assert_gt(len, 0);
		struct wire_pkt pkt;
		h_parse_sent(out, len, &pkt, &m, true);
		cr_expect_eq(pkt.vlan_id, vlan, "back on the client's VLAN");
		const uint8_t *dns = out + pkt.payload_off;
		cr_assert_eq(wire_dns_parse_response(dns, pkt.payload_len, &m, rrs, 64, &n_rrs),
			     WIRE_OK);
		cr_assert_eq(m.ancount, 1);
		cr_expect_eq(a_of(dns, &rrs[0]), round ? VPC1_ADDR : VPC0_ADDR, "VLAN %u", vlan);
	}
	/* big.corp.internal is only VLAN 10's */
	h_inject(frame, h_build_query(frame, &(struct h_query){.vlan = H_VLAN_VPC1,
							       .qname = "big.corp.internal"}));
	h_poll();
	cr_expect_eq(h_take(out), 0);
	cr_expect_eq(h_counters().to_slow, 1);
	struct dp_entity_counters v0, v1;
	dp_entity_counters_read(h.plane, DP_ENTITY_VPC, 0, &v0);
	dp_entity_counters_read(h.plane, DP_ENTITY_VPC, 1, &v1);
	cr_expect_eq(v0.static_answers, 1);
	cr_expect_eq(v1.static_answers, 1);
	cr_expect_eq(h_counters().static_answers, 2);
}

Test(dp_static, a_publish_replaces_them)
{
	char err[200];
	h_statics = NULL;
	cr_assert_eq(dp_publish(h.plane, h_tables(), err, sizeof(err)), 0, "%s", err);
	expect_slow("www.corp.internal", TYPE_A);
	cr_expect_eq(h_counters().static_answers, 0);
}

static void bad_statics(struct dp_tables_builder *b)
{
	char err[200];
	struct dp_static_spec spec = {.vpc = 0, .zone = H_ZONE_ID};
	a_answer("www.corp.internal", 1, VPC0_ADDR);
	spec.msg = msg.b;
	spec.len = msg.n;
	spec.vpc = 2;
	cr_expect_lt(dp_tables_add_static(b, &spec, err, sizeof(err)), 0, "an unknown VPC");
	spec.vpc = 0;
	mb_opt(&msg, 1232, 0, 0, false, NULL, 0);
	msg.b[11] = 1;
	spec.len = msg.n;
	cr_expect_lt(dp_tables_add_static(b, &spec, err, sizeof(err)), 0, "with an OPT");
	mb_query(&msg, 0, "www.corp.internal", TYPE_A, false);
	spec.len = msg.n;
	cr_expect_lt(dp_tables_add_static(b, &spec, err, sizeof(err)), 0, "a query");
	a_answer("www.corp.internal", 1, VPC0_ADDR);
	spec.len = msg.n;
	cr_expect_eq(dp_tables_add_static(b, &spec, err, sizeof(err)), 0, "%s", err);
	/* the same key in another case: given twice */
	a_answer("WWW.corp.internal", 1, VPC0_ADDR + 1);
	cr_expect_eq(dp_tables_add_static(b, &spec, err, sizeof(err)), 1, "%s", err);
}

Test(dp_static, the_tables_refuse_what_the_lcore_could_not_answer_from)
{
	char err[200] = "";
	h_statics = bad_statics;
	struct dp_tables *t = h_tables_try(err, sizeof(err));
	cr_expect_null(t, "one key given twice");
	cr_expect(strstr(err, "twice"), "%s", err);
	dp_tables_free(t);
}
