/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The lcore's answer cache in the poll loop: a second query answered on the lcore with no trip
 * upstream, in the asker's ID, case and EDNS view; tenants kept apart; serve-stale after every try
 * timed out; the refresh of an entry near its end; a publish starting afresh.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

#define S 1000000000ull

static void setup(void)
{
	h_cache = (struct cache_params){.max_bytes = 1u << 20,
					.ttl_max_s = 86400,
					.negative_ttl_max_s = 3600,
					.servfail_ttl_s = 5,
					.stale_window_s = 86400,
					.stale_ttl_s = 30};
	h_setup(3, 1);
}

TestSuite(dp_cache, .init = setup, .fini = h_teardown);

static void ask(const char *name, uint16_t id, uint16_t vlan, uint16_t edns)
{
	uint8_t q[H_FRAME_MAX];
	h_inject(q, h_build_query(
			q, &(struct h_query){.vlan = vlan, .qname = name, .id = id, .edns = edns}));
	h_poll();
}

/* Asks name, answers it from the target (n A records, TTL 60), and takes the client's answer. */
static void cache_one(const char *name)
{
	uint8_t fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	ask(name, 1, H_VLAN_VPC0, 0);
	size_t fl = h_take(fwd);
	cr_assert_gt(fl, 0);
	h_inject(ans, h_build_answer(ans, fwd, fl, &(struct h_answer){.n_a = 2, .aa = true}));
	h_poll();
	cr_assert_gt(h_take(out), 0, "the first client's answer");
}

static uint32_t first_ttl(const uint8_t *frame, size_t len)
{
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	struct wire_rr rrs[8];
	size_t count;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_OK);
	cr_assert_eq(
	    wire_dns_parse_response(frame + pkt.payload_off, pkt.payload_len, &m, rrs, 8, &count),
	    WIRE_OK);
	cr_assert_gt(count, 0);
	return wire_rr_ttl(frame + pkt.payload_off, &rrs[0]);
}

static bool to_client(const uint8_t *frame, size_t len)
{
	struct wire_pkt pkt;
	return wire_pkt_parse(frame, len, &pkt) == WIRE_OK && !memcmp(pkt.dst_addr, h_client_ip, 4);
}

Test(dp_cache, a_second_query_is_answered_on_the_lcore_in_the_askers_id_case_and_edns)
{
	uint8_t out[H_FRAME_MAX];
	cache_one("www.example.com");
	h.now += 10 * S;
	ask("WWW.example.COM", 0x7777, H_VLAN_VPC0, 1232);
	size_t len = h_take(out);
	cr_assert_gt(len, 0);
	cr_expect_eq(h_take(out + 1024), 0, "nothing went upstream");
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(out, len, &pkt, &m, true);
	cr_expect(!memcmp(pkt.dst_addr, h_client_ip, 4));
	cr_expect(!memcmp(pkt.src_addr, h_resolver_ip, 4));
	cr_expect_eq(pkt.vlan_id, H_VLAN_VPC0);
	cr_expect_eq(m.id, 0x7777);
	cr_expect_eq(m.flags, WIRE_FLAG_QR | WIRE_FLAG_RD | WIRE_FLAG_RA, "no AA: flags %#x",
		     m.flags);
	cr_expect_eq(m.ancount, 2);
	cr_expect(m.has_opt, "this client sent EDNS");
	cr_expect_eq(m.opt.udp_size, 4096);
	cr_expect(!memcmp(out + pkt.payload_off + 12, "\3WWW\7example\3COM", 17), "its case");
	cr_expect_eq(first_ttl(out, len), 50, "60 s aged by 10");
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.cache_hits, 1);
	cr_expect_eq(c.forwarded, 1);
	cr_expect_eq(c.answered, 2);
	struct dp_entity_counters vc;
	cr_assert(dp_entity_counters_read(h.plane, DP_ENTITY_VPC, 0, &vc));
	cr_expect_eq(vc.cache_hits, 1);
	struct cache_stats st;
	cr_assert(dp_cache_stats_read(h.plane, 0, &st));
	cr_expect_eq(st.kept, 1);
	cr_expect_eq(st.hits, 1);
}

Test(dp_cache, a_hit_too_big_for_a_client_without_edns_is_truncated)
{
	uint8_t fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	ask("big.example.com", 1, H_VLAN_VPC0, 4096);
	size_t fl = h_take(fwd);
	h_inject(ans, h_build_answer(ans, fwd, fl, &(struct h_answer){.n_a = 40, .edns = 4096}));
	h_poll();
	cr_assert_gt(h_take(out), 0);
	ask("big.example.com", 2, H_VLAN_VPC0, 0);
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(out, h_take(out), &pkt, &m, true);
	cr_expect(m.flags & WIRE_FLAG_TC, "40 records do not fit 512 octets");
	cr_expect_eq(m.ancount, 0);
	cr_expect_not(m.has_opt);
	cr_expect_eq(h_counters().cache_hits, 1);
}

Test(dp_cache, another_vpc_never_sees_the_answer)
{
	uint8_t out[H_FRAME_MAX];
	cache_one("www.example.com");
	/* VPC 1 (VLAN 20, the same CIDR) has example.com as a private zone: the control core's */
	ask("www.example.com", 2, H_VLAN_VPC1, 0);
	cr_expect_eq(h_take(out), 0);
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.cache_hits, 0);
	cr_expect_eq(c.to_slow, 1);
}

Test(dp_cache, when_every_try_times_out_an_expired_answer_is_served_stale_with_ttl_30)
{
	uint8_t out[H_FRAME_MAX];
	cache_one("www.example.com");
	h.now += 3600 * S;
	ask("www.example.com", 9, H_VLAN_VPC0, 0);
	size_t up = h_take(out);
	cr_assert_gt(up, 0, "expired: asked upstream");
	cr_assert(!to_client(out, up));
	for (int i = 0; i < 3; i++) {
		h.now += FLOW_TIMEOUT_MAX_DEFAULT + 10000000ull;
		h_poll();
		if (i < 2)
			cr_assert_gt(h_take(out), 0, "retry %d", i);
	}
	size_t len = h_take(out);
	cr_assert_gt(len, 0);
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(out, len, &pkt, &m, true);
	cr_expect(to_client(out, len));
	cr_expect_eq(m.id, 9);
	cr_expect_eq(WIRE_RCODE(m.flags), WIRE_RCODE_NOERROR);
	cr_expect_eq(m.ancount, 2);
	cr_expect_eq(first_ttl(out, len), 30);
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.stale, 1);
	cr_expect_eq(c.servfails, 0);
}

Test(dp_cache, a_hit_in_the_last_tenth_of_the_ttl_answers_and_refreshes_upstream)
{
	uint8_t a[H_FRAME_MAX], b[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	cache_one("www.example.com");
	h.now += 55 * S;
	ask("www.example.com", 3, H_VLAN_VPC0, 0);
	size_t la = h_take(a), lb = h_take(b);
	cr_assert(la && lb, "an answer and a refresh");
	const uint8_t *fwd = to_client(a, la) ? b : a;
	size_t fl = fwd == a ? la : lb;
	cr_assert(to_client(fwd == a ? b : a, fwd == a ? lb : la));
	cr_assert(!to_client(fwd, fl));
	h_inject(ans, h_build_answer(ans, fwd, fl, &(struct h_answer){.n_a = 3}));
	h_poll();
	cr_expect_eq(h_take(out), 0, "a refresh's answer goes to no client");
	h.now += 30 * S; /* the first answer has expired; the refreshed one lives */
	ask("www.example.com", 4, H_VLAN_VPC0, 0);
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(out, h_take(out), &pkt, &m, true);
	cr_expect_eq(m.ancount, 3, "the refreshed answer");
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.refreshes, 1);
	cr_expect_eq(c.refreshed, 1);
	cr_expect_eq(c.cache_hits, 2);
}

Test(dp_cache, a_publish_starts_afresh)
{
	uint8_t out[H_FRAME_MAX];
	cache_one("www.example.com");
	char err[200];
	struct dp_tables_builder *b = dp_tables_builder_new(&h_tunables);
	struct dp_tables *empty = dp_tables_build(b, err, sizeof(err));
	cr_assert_eq(dp_publish(h.plane, empty, err, sizeof(err)), 0);
	cr_assert_eq(dp_publish(h.plane, h_tables(), err, sizeof(err)), 0, "%s", err);
	ask("www.example.com", 2, H_VLAN_VPC0, 0);
	size_t len = h_take(out);
	cr_assert_gt(len, 0);
	cr_expect_not(to_client(out, len), "asked upstream again");
	cr_expect_eq(h_counters().cache_hits, 0);
}

/*
 * A query in flight when the tables change: its answer must not be kept in the new tables' view of
 * the VPC index it had, which may be another tenant's now. Here VLAN 10's VPC (index 0) forwards
 * example.com; a publish puts VLAN 20's VPC, for which example.com is a private zone, at index 0.
 */
Test(dp_cache, an_answer_to_a_query_from_older_tables_is_not_kept_for_another_tenant)
{
	uint8_t fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	ask("www.example.com", 1, H_VLAN_VPC0, 0);
	size_t fl = h_take(fwd);
	cr_assert_gt(fl, 0);
	char err[200];
	cr_assert_eq(dp_publish(h.plane, h_tables_vpcs_swapped(), err, sizeof(err)), 0, "%s", err);
	h_inject(ans, h_build_answer(ans, fwd, fl, &(struct h_answer){.n_a = 2, .aa = true}));
	h_poll();
	size_t len = h_take(out);
	cr_assert_gt(len, 0);
	cr_assert(to_client(out, len), "the VLAN 10 client still gets its answer");
	ask("www.example.com", 2, H_VLAN_VPC1, 0);
	cr_expect_eq(h_take(out), 0, "VLAN 20's private zone answers, on the control core");
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.cache_hits, 0, "VLAN 20 got VLAN 10's forwarded answer from the cache");
	cr_expect_eq(c.to_slow, 1);
}

/*
 * CD=1 asks the target not to validate (RFC 4035 3.2.2): what it answers then may be data a
 * validating target would have refused with SERVFAIL, and must not go to a client that wants it
 * checked (RFC 4035 4.7, RFC 6840 5.9). A CD=0 query after a CD=1 one goes upstream.
 */
Test(dp_cache, an_answer_got_with_checking_disabled_is_not_served_to_a_client_that_wants_it_checked)
{
	uint8_t q[H_FRAME_MAX], fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	h_inject(q, h_build_query(q, &(struct h_query){.vlan = H_VLAN_VPC0,
						       .qname = "www.example.com",
						       .id = 1,
						       .flags = WIRE_FLAG_RD | WIRE_FLAG_CD}));
	h_poll();
	size_t fl = h_take(fwd);
	cr_assert_gt(fl, 0);
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(fwd, fl, &pkt, &m, false);
	cr_assert(m.flags & WIRE_FLAG_CD, "the target was asked not to validate");
	h_inject(ans, h_build_answer(ans, fwd, fl, &(struct h_answer){.n_a = 2}));
	h_poll();
	cr_assert_gt(h_take(out), 0);
	ask("www.example.com", 2, H_VLAN_VPC0, 0);
	size_t len = h_take(out);
	cr_assert_gt(len, 0);
	cr_expect_not(to_client(out, len), "the CD=0 query went upstream");
	cr_expect_eq(h_counters().cache_hits, 0);
}

/* A refresh is the resolver's own query: a CD=1 hit's refresh asks with CD=0, so that its answer is
 * kept. */
Test(dp_cache, a_refresh_for_a_cd_query_asks_for_checking_and_is_kept)
{
	uint8_t q[H_FRAME_MAX], a[H_FRAME_MAX], b[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	cache_one("www.example.com");
	h.now += 55 * S;
	h_inject(q, h_build_query(q, &(struct h_query){.vlan = H_VLAN_VPC0,
						       .qname = "www.example.com",
						       .id = 3,
						       .flags = WIRE_FLAG_RD | WIRE_FLAG_CD}));
	h_poll();
	size_t la = h_take(a), lb = h_take(b);
	cr_assert(la && lb, "an answer and a refresh");
	const uint8_t *fwd = to_client(a, la) ? b : a;
	size_t fl = fwd == a ? la : lb;
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(fwd, fl, &pkt, &m, false);
	cr_expect_not(m.flags & WIRE_FLAG_CD);
	h_inject(ans, h_build_answer(ans, fwd, fl, &(struct h_answer){.n_a = 3}));
	h_poll();
	cr_expect_eq(h_take(out), 0, "a refresh's answer goes to no client");
	h.now += 30 * S;
	ask("www.example.com", 4, H_VLAN_VPC0, 0);
	size_t len = h_take(out);
	cr_assert_gt(len, 0);
	cr_assert(to_client(out, len), "answered from the refreshed entry");
	h_parse_sent(out, len, &pkt, &m, true);
	cr_expect_eq(m.ancount, 3);
}

/*
 * A hit is written over the asker's query, in the asker's mbuf: an answer that came in one mbuf
 * behind IPv4 headers may not fit one behind IPv6's. The asker must still get an answer (from
 * upstream, as without the cache), not silence.
 */
Test(dp_cache, a_hit_too_big_for_the_askers_mbuf_is_not_silence)
{
	uint8_t q[H_FRAME_MAX], fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	ask("big.example.com", 1, H_VLAN_VPC0, 4096);
	size_t fl = h_take(fwd);
	cr_assert_gt(fl, 0);
	size_t al = h_build_answer(ans, fwd, fl, &(struct h_answer){.n_a = 122});
	cr_assert_leq(al, 2048, "one mbuf (%zu)", al);
	h_inject(ans, al);
	h_poll();
	cr_assert_gt(h_take(out), 0);
	struct cache_stats st;
	cr_assert(dp_cache_stats_read(h.plane, 0, &st));
	cr_assert_eq(st.kept, 1);
	h_inject(q, h_build_query(q, &(struct h_query){.vlan = H_VLAN_VPC0,
						       .qname = "big.example.com",
						       .id = 2,
						       .edns = 4096,
						       .v6 = true}));
	h_poll();
	size_t len = h_take(out);
	cr_assert_gt(len, 0, "the IPv6 client's query was dropped (no room: %lu)",
		     (unsigned long)h_counters().drops[DP_DROP_NO_ROOM]);
	cr_expect_not(to_client(out, len), "asked upstream");
	cr_expect_eq(h_counters().drops[DP_DROP_NO_ROOM], 0);
}
