/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The poll loop at its limits: the per-source rate limit (GCRA, a second's burst), a burst of
 * queries matched together, and a target's answer too big for one mbuf once reassembled.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "harness.h"

#define NS_PER_MS 1000000ull

static void setup_limited(void)
{
	h_tunables.rate_limit_pps = 4;
	h_setup(3, 1);
}

TestSuite(dp_rate, .init = setup_limited, .fini = h_teardown);

static void query_from(const uint8_t src[4], uint16_t id)
{
	uint8_t q[H_FRAME_MAX];
	h_inject(q, h_build_query(q, &(struct h_query){.vlan = H_VLAN_VPC0,
						       .src_ip = src,
						       .qname = "www.example.com",
						       .id = id}));
}

/* Polls, and returns how many queries got past the limit (retries of earlier ones, which the clock
 * moving on causes, are not queries). */
static unsigned admitted_now(void)
{
	uint8_t out[H_FRAME_MAX];
	uint64_t before = h_counters().queries;
	h_poll();
	while (h_take(out))
		;
	return (unsigned)(h_counters().queries - before);
}

Test(dp_rate, a_source_gets_a_seconds_worth_at_once_then_is_dropped_and_counted)
{
	for (uint16_t i = 0; i < 10; i++)
		query_from(h_client_ip, i);
	cr_expect_eq(admitted_now(), 4, "4 pps: a burst of 4");
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.drops[DP_DROP_RATE_LIMITED], 6);
	cr_expect_eq(c.queries, 4, "dropped packets are not counted as queries");
	struct dp_entity_counters v;
	cr_assert(dp_entity_counters_read(h.plane, DP_ENTITY_VPC, 0, &v));
	cr_expect_eq(v.drops, 6);
}

Test(dp_rate, the_allowance_comes_back_at_the_rate)
{
	for (uint16_t i = 0; i < 4; i++)
		query_from(h_client_ip, i);
	cr_assert_eq(admitted_now(), 4);
	query_from(h_client_ip, 10);
	cr_expect_eq(admitted_now(), 0, "the fifth in the same second");
	h.now += 250 * NS_PER_MS;
	query_from(h_client_ip, 11);
	query_from(h_client_ip, 12);
	cr_expect_eq(admitted_now(), 1, "a quarter second later: one more");
	h.now += 1000 * NS_PER_MS;
	for (uint16_t i = 20; i < 30; i++)
		query_from(h_client_ip, i);
	cr_expect_eq(admitted_now(), 4, "after a quiet second: a full burst again");
}

Test(dp_rate, each_source_has_its_own_allowance)
{
	const uint8_t other[4] = {10, 0, 1, 6};
	for (uint16_t i = 0; i < 6; i++) {
		query_from(h_client_ip, i);
		query_from(other, (uint16_t)(100 + i));
	}
	cr_expect_eq(admitted_now(), 8);
	cr_expect_eq(h_counters().drops[DP_DROP_RATE_LIMITED], 4);
}

Test(dp_rate, outsiders_are_limited_before_they_are_refused)
{
	for (uint16_t i = 0; i < 6; i++)
		query_from(h_outsider_ip, i);
	cr_expect_eq(admitted_now(), 4, "4 REFUSED answers, no more");
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.outsiders, 4);
	cr_expect_eq(c.drops[DP_DROP_RATE_LIMITED], 2);
}

/* A client's frame to the resolver that is not UDP (a TCP segment, as far as the parse goes). */
static void tcp_from_client(void)
{
	uint8_t f[H_FRAME_MAX];
	size_t len =
	    h_build_query(f, &(struct h_query){.vlan = H_VLAN_VPC0, .qname = "www.example.com"});
	struct wire_pkt pkt;
	cr_assert_eq(wire_pkt_parse(f, len, &pkt), WIRE_OK);
	f[pkt.l3_off + 9] = 6; /* IPPROTO_TCP */
	h_inject(f, len);
}

Test(dp_rate, tcp_to_the_resolver_counts_against_the_same_allowance)
{
	for (int i = 0; i < 3; i++)
		tcp_from_client();
	h_poll();
	cr_expect_eq(h_counters().exceptions, 3, "under the limit: on to the kernel");
	for (int i = 0; i < 3; i++)
		tcp_from_client();
	query_from(h_client_ip, 1);
	cr_expect_eq(admitted_now(), 0, "the fourth packet was the last of the second's worth");
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.exceptions, 4);
	cr_expect_eq(c.drops[DP_DROP_RATE_LIMITED], 3, "two TCP segments and the UDP query");
	struct rte_mbuf *m;
	while (rte_ring_dequeue(h.exception[0], (void **)&m) == 0)
		rte_pktmbuf_free(m);
}

static void setup_unlimited(void)
{
	h_setup(3, 1);
}

TestSuite(dp_burst, .init = setup_unlimited, .fini = h_teardown);

Test(dp_burst, a_burst_of_queries_for_two_vpcs_is_matched_and_each_follows_its_rule)
{
	uint8_t q[H_FRAME_MAX], out[H_FRAME_MAX];
	/* vpc 0 forwards example.com; vpc 1's table sends it elsewhere: see harness.c */
	for (uint16_t i = 0; i < 24; i++)
		h_inject(
		    q, h_build_query(q, &(struct h_query){.vlan = i % 3 ? H_VLAN_VPC0 : H_VLAN_VPC1,
							  .qname = i % 2 ? "www.example.com"
									 : "a.b.example.com",
							  .id = i}));
	h_poll();
	unsigned to_targets = 0;
	while (h_take(out))
		to_targets++;
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.queries, 24);
	cr_expect_eq(c.forwarded + c.to_slow, 24, "every query followed a rule");
	cr_expect_eq(c.forwarded, 16, "VPC 0's 16 queries forwarded");
	cr_expect_eq(to_targets, 16);
}

/* ---- an answer too big for one mbuf ---- */

TestSuite(dp_oversized, .init = setup_unlimited, .fini = h_teardown);

/* A DNS answer to the forwarded query fwd with n A records (no OPT), written to dns. */
static size_t big_answer(uint8_t *dns, const uint8_t *fwd, size_t fwd_len, unsigned n)
{
	struct wire_pkt fp;
	struct wire_dns_msg fm;
	cr_assert_eq(wire_pkt_parse(fwd, fwd_len, &fp), WIRE_OK);
	cr_assert_eq(wire_dns_parse_query(fwd + fp.payload_off, fp.payload_len, &fm), WIRE_OK);
	size_t len = fm.question_end;
	memcpy(dns, fwd + fp.payload_off, len);
	dns[2] = 0x84 | 0x01; /* QR, AA, RD */
	dns[3] = 0;
	dns[6] = (uint8_t)(n >> 8), dns[7] = (uint8_t)n;
	dns[10] = dns[11] = 0;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t rr[] = {
		    0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 9, (uint8_t)(i >> 8), (uint8_t)i};
		memcpy(dns + len, rr, sizeof(rr));
		len += sizeof(rr);
	}
	return len;
}

/* Cuts an IPv4 frame (Ethernet + 802.1Q + IPv4 without options) into fragments of at most mtu
 * octets of IP each, injected in order. */
static unsigned inject_fragments(const uint8_t *frame, size_t len, size_t mtu)
{
	const size_t l3 = 18, hl = 20;
	size_t payload = len - l3 - hl, step = (mtu - hl) & ~(size_t)7;
	unsigned n = 0;
	for (size_t off = 0; off < payload; off += step, n++) {
		uint8_t frag[H_FRAME_MAX];
		size_t part = payload - off < step ? payload - off : step;
		memcpy(frag, frame, l3 + hl);
		memcpy(frag + l3 + hl, frame + l3 + hl + off, part);
		uint16_t total = (uint16_t)(hl + part);
		uint16_t fo = (uint16_t)(off / 8) | (off + part < payload ? 0x2000 : 0);
		frag[l3 + 2] = (uint8_t)(total >> 8), frag[l3 + 3] = (uint8_t)total;
		frag[l3 + 4] = 0x12, frag[l3 + 5] = 0x34; /* the datagram's IP ID */
		frag[l3 + 6] = (uint8_t)(fo >> 8), frag[l3 + 7] = (uint8_t)fo;
		frag[l3 + 10] = frag[l3 + 11] = 0;
		uint16_t ck = wire_ipv4_hdr_cksum(frag + l3);
		frag[l3 + 10] = (uint8_t)(ck >> 8), frag[l3 + 11] = (uint8_t)ck;
		h_inject(frag, l3 + total);
	}
	return n;
}

static void oversized_answer_to(uint16_t client_edns, struct wire_pkt *pkt, struct wire_dns_msg *m,
				uint8_t *out)
{
	uint8_t q[H_FRAME_MAX], fwd[H_FRAME_MAX], dns[4096], ans[4200];
	h_inject(q, h_build_query(q, &(struct h_query){.vlan = H_VLAN_VPC0,
						       .qname = "big.example.com",
						       .id = 0x4242,
						       .edns = client_edns}));
	h_poll();
	size_t fl = h_take(fwd);
	cr_assert_gt(fl, 0);
	size_t dl = big_answer(dns, fwd, fl, 220); /* 3,553 octets: no 2 KiB mbuf holds it */
	cr_assert_gt(dl, 3500);
	size_t al = h_wrap_answer(ans, fwd, fl, dns, dl);
	cr_assert_eq(inject_fragments(ans, al, 1500), 3);
	h_poll();
	size_t ol = h_take(out);
	cr_assert_gt(ol, 0, "the client got nothing");
	h_parse_sent(out, ol, pkt, m, true);
}

Test(dp_oversized, answer_reassembled_past_one_mbuf_reaches_the_client_cut_with_tc)
{
	uint8_t out[H_FRAME_MAX];
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	oversized_answer_to(4096, &pkt, &m, out);
	cr_expect_eq(m.id, 0x4242);
	cr_expect(m.flags & WIRE_FLAG_TC);
	cr_expect_eq(m.ancount, 0);
	cr_expect(m.has_opt, "the client's EDNS view: it sent an OPT");
	cr_expect_eq(m.opt.udp_size, 4096);
	cr_expect_eq(pkt.payload_len, 12 + 17 + 4 + 11);
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.fragments, 3);
	cr_expect_eq(c.reassembled, 1);
	cr_expect_eq(c.oversized, 1);
	cr_expect_eq(c.truncations, 1);
	cr_expect_eq(c.answered, 1);
}

Test(dp_oversized, a_client_without_edns_gets_the_cut_answer_without_an_opt)
{
	uint8_t out[H_FRAME_MAX];
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	oversized_answer_to(0, &pkt, &m, out);
	cr_expect(m.flags & WIRE_FLAG_TC);
	cr_expect_not(m.has_opt);
	cr_expect_eq(pkt.payload_len, 12 + 17 + 4);
}
