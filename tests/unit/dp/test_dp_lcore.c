/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The poll loop end to end on a ring-backed port: client queries in, frames out, checked field by
 * field (addresses, ports, VLANs, IDs, flags, EDNS, checksums) and through the counters.
 */
#include <criterion/criterion.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ip.h>
#include <rte_udp.h>
#include <rte_lcore.h>

#include "harness.h"

static void setup3(void)
{
	h_setup(3, 1);
}

TestSuite(dp_lcore, .init = setup3, .fini = h_teardown);

static bool is_ip(const uint8_t *a, const uint8_t b[4])
{
	return !memcmp(a, b, 4);
}

/* Sends a query for name (no EDNS unless edns) and returns the forwarded frame's length. */
static size_t forward_one(uint8_t *fwd, const char *name, uint16_t edns)
{
	uint8_t q[H_FRAME_MAX];
	h_inject(q, h_build_query(
			q, &(struct h_query){
			       .vlan = H_VLAN_VPC0, .qname = name, .id = 0x1234, .edns = edns}));
	h_poll();
	size_t len = h_take(fwd);
	cr_assert_gt(len, 0, "nothing forwarded");
	return len;
}

Test(dp_lcore, forwards_query_from_endpoint_to_target_with_opt_4096)
{
	uint8_t fwd[H_FRAME_MAX];
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	size_t len = forward_one(fwd, "www.example.com", 0);
	h_parse_sent(fwd, len, &pkt, &m, false);
	cr_expect(!memcmp(fwd, h_gateway_mac, 6), "next hop's MAC");
	cr_expect(!memcmp(fwd + 6, h.port_mac.addr_bytes, 6), "port's MAC");
	cr_expect(pkt.has_vlan);
	cr_expect_eq(pkt.vlan_id, H_VLAN_ENDPOINT);
	cr_expect(is_ip(pkt.src_addr, h_endpoint_ip[0]) || is_ip(pkt.src_addr, h_endpoint_ip[1]));
	cr_expect(is_ip(pkt.dst_addr, h_target_ip[0]) || is_ip(pkt.dst_addr, h_target_ip[1]));
	cr_expect_eq(pkt.dst_port, 53);
	cr_expect(pkt.src_port >= H_PORT_LO && pkt.src_port <= H_PORT_HI);
	cr_expect(m.has_opt);
	cr_expect_eq(m.opt.udp_size, 4096);
	cr_expect_eq(m.arcount, 1);
	cr_expect_eq(m.flags, WIRE_FLAG_RD);
	cr_expect_eq(m.qname_len, 17);
	cr_expect(!memcmp(fwd + pkt.payload_off + 12, "\3www\7example\3com", 17));
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.queries, 1);
	cr_expect_eq(c.forwarded, 1);
}

Test(dp_lcore, forwarded_queries_draw_fresh_ports_and_ids)
{
	uint8_t a[H_FRAME_MAX], b[H_FRAME_MAX];
	struct wire_pkt pa, pb;
	struct wire_dns_msg ma, mb;
	h_parse_sent(a, forward_one(a, "a.example.com", 0), &pa, &ma, false);
	h_parse_sent(b, forward_one(b, "a.example.com", 0), &pb, &mb, false);
	/* the same client ID twice; the two (port, ID) pairs are open at once, so they differ */
	cr_expect(pa.src_port != pb.src_port || ma.id != mb.id);
}

Test(dp_lcore, client_opt_size_is_replaced_by_the_endpoints)
{
	uint8_t fwd[H_FRAME_MAX];
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(fwd, forward_one(fwd, "www.example.com", 1232), &pkt, &m, false);
	cr_expect(m.has_opt);
	cr_expect_eq(m.opt.udp_size, 4096);
	cr_expect_eq(m.arcount, 1);
}

Test(dp_lcore, answer_goes_back_to_client_with_its_id_and_no_aa)
{
	uint8_t fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	size_t fl = forward_one(fwd, "www.example.com", 0);
	h.now += 5000000; /* the target takes 5 ms */
	h_inject(ans, h_build_answer(ans, fwd, fl,
				     &(struct h_answer){.n_a = 2, .aa = true, .edns = 4096}));
	h_poll();
	size_t len = h_take(out);
	cr_assert_gt(len, 0);
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(out, len, &pkt, &m, true);
	cr_expect(!memcmp(out, h_client_mac, 6));
	cr_expect(pkt.has_vlan);
	cr_expect_eq(pkt.vlan_id, H_VLAN_VPC0);
	cr_expect(is_ip(pkt.src_addr, h_resolver_ip));
	cr_expect(is_ip(pkt.dst_addr, h_client_ip));
	cr_expect_eq(pkt.src_port, 53);
	cr_expect_eq(pkt.dst_port, H_CLIENT_PORT);
	cr_expect_eq(m.id, 0x1234);
	cr_expect_eq(m.flags, WIRE_FLAG_QR | WIRE_FLAG_RD | WIRE_FLAG_RA, "flags %#x", m.flags);
	cr_expect_eq(m.ancount, 2);
	cr_expect(!m.has_opt, "the client sent no OPT");
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.responses, 1);
	cr_expect_eq(c.answered, 1);
	struct dp_entity_counters vc;
	cr_assert(dp_entity_counters_read(h.plane, DP_ENTITY_VPC, 0, &vc));
	cr_expect_eq(vc.queries, 1);
	cr_expect_eq(vc.answered, 1);
	uint64_t srtt, p90;
	struct wire_pkt fp;
	cr_assert_eq(wire_pkt_parse(fwd, fl, &fp), WIRE_OK);
	cr_assert(dp_target_rtt(h.plane, is_ip(fp.dst_addr, h_target_ip[0]) ? 0 : 1, &srtt, &p90));
	cr_expect_eq(srtt, 5000000);
	cr_expect(p90 > 5000000 - 5000000 / 8 && p90 < 5000000 + 5000000 / 8, "p90 %lu", p90);
}

Test(dp_lcore, answer_keeps_the_clients_opt_when_it_sent_one)
{
	uint8_t fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	size_t fl = forward_one(fwd, "www.example.com", 1232);
	h_inject(ans, h_build_answer(ans, fwd, fl, &(struct h_answer){.n_a = 1}));
	h_poll();
	size_t len = h_take(out);
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(out, len, &pkt, &m, true);
	cr_expect(m.has_opt, "the target sent none, the client did: one is added");
	cr_expect_eq(m.opt.udp_size, 4096);
	cr_expect_eq(m.ancount, 1);
}

Test(dp_lcore, answer_over_512_to_a_client_without_edns_is_truncated)
{
	uint8_t fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	size_t fl = forward_one(fwd, "big.example.com", 0);
	h_inject(ans, h_build_answer(ans, fwd, fl, &(struct h_answer){.n_a = 40, .edns = 4096}));
	h_poll();
	size_t len = h_take(out);
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(out, len, &pkt, &m, true);
	cr_expect(m.flags & WIRE_FLAG_TC);
	cr_expect_eq(m.ancount, 0);
	cr_expect(!m.has_opt);
	cr_expect_eq(pkt.payload_len, 12 + 17 + 4);
	cr_expect_eq(h_counters().truncations, 1);
}

Test(dp_lcore, answer_within_the_clients_edns_size_is_not_truncated)
{
	uint8_t fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	size_t fl = forward_one(fwd, "big.example.com", 1232);
	h_inject(ans, h_build_answer(ans, fwd, fl, &(struct h_answer){.n_a = 40, .edns = 4096}));
	h_poll();
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(out, h_take(out), &pkt, &m, true);
	cr_expect(!(m.flags & WIRE_FLAG_TC));
	cr_expect_eq(m.ancount, 40);
	cr_expect_eq(h_counters().truncations, 0);
}

Test(dp_lcore, answer_from_another_address_is_dropped_as_spoofed)
{
	uint8_t fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	size_t fl = forward_one(fwd, "www.example.com", 0);
	const uint8_t liar[4] = {192, 168, 2, 99};
	h_inject(ans, h_build_answer(ans, fwd, fl, &(struct h_answer){.n_a = 1, .src_ip = liar}));
	h_poll();
	cr_expect_eq(h_take(out), 0);
	cr_expect_eq(h_counters().drops[DP_DROP_SPOOFED], 1);
	/* the real answer still gets through */
	h_inject(ans, h_build_answer(ans, fwd, fl, &(struct h_answer){.n_a = 1}));
	h_poll();
	cr_expect_gt(h_take(out), 0);
}

Test(dp_lcore, answer_with_a_wrong_id_finds_no_flow)
{
	uint8_t fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	size_t fl = forward_one(fwd, "www.example.com", 0);
	h_inject(ans, h_build_answer(ans, fwd, fl, &(struct h_answer){.n_a = 1, .id_delta = 1}));
	h_poll();
	cr_expect_eq(h_take(out), 0);
	cr_expect_eq(h_counters().drops[DP_DROP_NO_FLOW], 1);
}

Test(dp_lcore, timeout_retries_the_other_target_from_the_other_address_then_servfail)
{
	uint8_t first[H_FRAME_MAX], second[H_FRAME_MAX], third[H_FRAME_MAX], out[H_FRAME_MAX];
	struct wire_pkt p1, p2, p3;
	struct wire_dns_msg m1, m2, m3;
	h_parse_sent(first, forward_one(first, "www.example.com", 0), &p1, &m1, false);
	h.now += FLOW_TIMEOUT_MAX_DEFAULT + 10000000ull;
	h_poll();
	h_parse_sent(second, h_take(second), &p2, &m2, false);
	cr_expect(memcmp(p1.dst_addr, p2.dst_addr, 4), "another target");
	cr_expect(memcmp(p1.src_addr, p2.src_addr, 4), "another endpoint address");
	cr_expect(p1.src_port != p2.src_port || m1.id != m2.id, "a fresh (port, ID)");
	cr_expect(
	    wire_dns_same_question(first + p1.payload_off, &m1, second + p2.payload_off, &m2));
	h.now += FLOW_TIMEOUT_MAX_DEFAULT + 10000000ull;
	h_poll();
	h_parse_sent(third, h_take(third), &p3, &m3, false);
	cr_expect(memcmp(p2.src_addr, p3.src_addr, 4), "another endpoint address again");
	h.now += FLOW_TIMEOUT_MAX_DEFAULT + 10000000ull;
	h_poll();
	size_t len = h_take(out);
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(out, len, &pkt, &m, true);
	cr_expect(is_ip(pkt.dst_addr, h_client_ip));
	cr_expect(is_ip(pkt.src_addr, h_resolver_ip));
	cr_expect_eq(pkt.vlan_id, H_VLAN_VPC0);
	cr_expect_eq(m.id, 0x1234);
	cr_expect_eq(WIRE_RCODE(m.flags), WIRE_RCODE_SERVFAIL);
	cr_expect(!(m.flags & WIRE_FLAG_AA));
	cr_expect(!m.has_opt);
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.timeouts, 3);
	cr_expect_eq(c.retries, 2);
	cr_expect_eq(c.servfails, 1);
	/* a late answer to the first try finds nothing */
	uint8_t ans[H_FRAME_MAX];
	h_inject(ans, h_build_answer(ans, first, p1.ip_end + p1.l3_off, &(struct h_answer){0}));
	h_poll();
	cr_expect_eq(h_take(out), 0);
	cr_expect_eq(h_counters().drops[DP_DROP_NO_FLOW], 1);
}

Test(dp_lcore, refused_from_a_target_goes_to_the_next_target)
{
	uint8_t fwd[H_FRAME_MAX], ans[H_FRAME_MAX], next[H_FRAME_MAX], out[H_FRAME_MAX];
	struct wire_pkt p1, p2, pkt;
	struct wire_dns_msg m1, m2, m;
	size_t fl = forward_one(fwd, "www.example.com", 0);
	h_parse_sent(fwd, fl, &p1, &m1, false);
	h_inject(ans,
		 h_build_answer(ans, fwd, fl, &(struct h_answer){.rcode = WIRE_RCODE_REFUSED}));
	h_poll();
	size_t nl = h_take(next);
	h_parse_sent(next, nl, &p2, &m2, false);
	cr_expect(memcmp(p1.dst_addr, p2.dst_addr, 4), "the other target");
	cr_expect_eq(h_take(out), 0, "nothing to the client yet");
	h_inject(ans, h_build_answer(ans, next, nl, &(struct h_answer){.n_a = 1}));
	h_poll();
	h_parse_sent(out, h_take(out), &pkt, &m, true);
	cr_expect_eq(WIRE_RCODE(m.flags), WIRE_RCODE_NOERROR);
	cr_expect_eq(m.id, 0x1234);
	cr_expect_eq(h_counters().retries, 1);
}

Test(dp_lcore, servfail_from_every_target_answers_servfail)
{
	uint8_t fwd[H_FRAME_MAX], ans[H_FRAME_MAX];
	size_t fl = forward_one(fwd, "www.example.com", 1232);
	for (int i = 0; i < 3; i++) {
		h_inject(ans, h_build_answer(ans, fwd, fl,
					     &(struct h_answer){.rcode = WIRE_RCODE_SERVFAIL}));
		h_poll();
		fl = h_take(fwd);
		cr_assert_gt(fl, 0);
	}
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(fwd, fl, &pkt, &m, true);
	cr_expect(is_ip(pkt.dst_addr, h_client_ip));
	cr_expect_eq(WIRE_RCODE(m.flags), WIRE_RCODE_SERVFAIL);
	cr_expect(m.has_opt, "the client sent an OPT");
}

Test(dp_lcore, client_outside_the_cidrs_is_refused)
{
	uint8_t q[H_FRAME_MAX], out[H_FRAME_MAX];
	h_inject(q, h_build_query(q, &(struct h_query){.vlan = H_VLAN_VPC0,
						       .qname = "example.com",
						       .src_ip = h_outsider_ip,
						       .id = 7}));
	h_poll();
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(out, h_take(out), &pkt, &m, true);
	cr_expect_eq(WIRE_RCODE(m.flags), WIRE_RCODE_REFUSED);
	cr_expect(is_ip(pkt.dst_addr, h_outsider_ip));
	cr_expect_eq(h_counters().outsiders, 1);
	cr_expect_eq(m.id, 7);
}

Test(dp_lcore, client_outside_the_cidrs_of_a_drop_vpc_gets_nothing)
{
	uint8_t q[H_FRAME_MAX], out[H_FRAME_MAX];
	h_inject(q, h_build_query(q, &(struct h_query){.vlan = H_VLAN_VPC1,
						       .qname = "example.com",
						       .src_ip = h_outsider_ip}));
	h_poll();
	cr_expect_eq(h_take(out), 0);
	cr_expect_eq(h_counters().drops[DP_DROP_OUTSIDER], 1);
}

static int rcode_of_answer_to(const struct h_query *q, uint8_t *out, struct wire_dns_msg *m)
{
	uint8_t frame[H_FRAME_MAX];
	struct wire_pkt pkt;
	h_inject(frame, h_build_query(frame, q));
	h_poll();
	size_t len = h_take(out);
	if (!len)
		return -1;
	h_parse_sent(out, len, &pkt, m, true);
	return WIRE_RCODE(m->flags) | (m->has_opt ? m->opt.ext_rcode << 4 : 0);
}

Test(dp_lcore, malformed_queries_are_answered_per_wire_err_rcode)
{
	uint8_t out[H_FRAME_MAX];
	struct wire_dns_msg m;
	cr_expect_eq(rcode_of_answer_to(&(struct h_query){.vlan = H_VLAN_VPC0,
							  .qname = "a.example.com",
							  .flags = 2 << 11 | WIRE_FLAG_RD},
					out, &m),
		     WIRE_RCODE_NOTIMP, "opcode STATUS");
	cr_expect_eq(rcode_of_answer_to(&(struct h_query){.vlan = H_VLAN_VPC0,
							  .qname = "a.example.com",
							  .edns = 1232,
							  .edns_version = 1},
					out, &m),
		     WIRE_RCODE_BADVERS, "EDNS version 1");
	char label64[80];
	memset(label64, 'x', 64);
	strcpy(label64 + 64, ".com");
	cr_expect_eq(
	    rcode_of_answer_to(&(struct h_query){.vlan = H_VLAN_VPC0, .qname = label64}, out, &m),
	    WIRE_RCODE_FORMERR, "a 64-octet label");
	cr_expect_eq(rcode_of_answer_to(&(struct h_query){.vlan = H_VLAN_VPC0,
							  .qname = "a.example.com",
							  .flags = WIRE_FLAG_QR},
					out, &m),
		     -1, "a response sent to the resolver is never answered");
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.rejects[WIRE_E_OPCODE], 1);
	cr_expect_eq(c.rejects[WIRE_E_EDNS_VERSION], 1);
	cr_expect_eq(c.rejects[WIRE_E_LABEL_TOO_LONG], 1);
	cr_expect_eq(c.rejects[WIRE_E_QR_RESPONSE], 1);
	cr_expect_eq(c.drops[DP_DROP_WIRE], 1);
}

Test(dp_lcore, same_cidr_on_two_vlans_reaches_two_vpcs)
{
	uint8_t q[H_FRAME_MAX], out[H_FRAME_MAX];
	/* VLAN 20's VPC has example.com as a private zone: the slow path, with its VPC */
	h_inject(q, h_build_query(
			q, &(struct h_query){.vlan = H_VLAN_VPC1, .qname = "www.example.com"}));
	h_poll();
	cr_expect_eq(h_take(out), 0);
	struct rte_mbuf *m = NULL;
	cr_assert_eq(rte_ring_dequeue(dp_slow_ring(h.plane, 0), (void **)&m), 0);
	const struct dp_slow_meta *meta = dp_slow_meta(m);
	cr_expect_eq(meta->vpc, 1);
	cr_expect_eq(meta->kind, MATCH_ZONE);
	cr_expect_eq(meta->match_id, H_ZONE_ID);
	cr_expect_eq(rte_pktmbuf_mtod(m, uint8_t *)[meta->dns_off], 0,
		     "the client's ID, untouched");
	rte_pktmbuf_free(m);
	/* VLAN 10's VPC forwards it */
	forward_one(out, "www.example.com", 0);
	struct dp_entity_counters v0, v1;
	dp_entity_counters_read(h.plane, DP_ENTITY_VPC, 0, &v0);
	dp_entity_counters_read(h.plane, DP_ENTITY_VPC, 1, &v1);
	cr_expect_eq(v0.forwarded, 1);
	cr_expect_eq(v1.forwarded, 0);
	cr_expect_eq(v1.queries, 1);
	cr_expect_eq(h_counters().to_slow, 1);
}

Test(dp_lcore, untagged_or_unknown_vlan_reaches_no_vpc)
{
	uint8_t q[H_FRAME_MAX], out[H_FRAME_MAX];
	h_inject(q, h_build_query(q, &(struct h_query){.vlan = 0, .qname = "www.example.com"}));
	h_inject(q, h_build_query(q, &(struct h_query){.vlan = 30, .qname = "www.example.com"}));
	h_poll();
	cr_expect_eq(h_take(out), 0);
	cr_expect_eq(h_counters().drops[DP_DROP_NO_ADDRESS], 2);
}

Test(dp_lcore, arp_goes_to_the_exception_ring)
{
	uint8_t arp[60] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 5, 0x08, 0x06};
	h_inject(arp, sizeof(arp));
	h_poll();
	struct rte_mbuf *m = NULL;
	cr_assert_eq(rte_ring_dequeue(h.exception[0], (void **)&m), 0);
	cr_expect_eq(rte_pktmbuf_pkt_len(m), sizeof(arp));
	cr_expect(!memcmp(rte_pktmbuf_mtod(m, uint8_t *), arp, sizeof(arp)), "as it came");
	rte_pktmbuf_free(m);
	cr_expect_eq(h_counters().exceptions, 1);
}

/* Defines the gateway anew and lets io give up on it (no replies); io's clock (ms) then. */
static uint64_t gateway_given_up(void)
{
	uint64_t ms = 1;
	struct io_neigh_probe probes[H_NEXTHOP_GATEWAY + 1];
	cr_assert_eq(io_neigh_define(h.neigh, H_NEXTHOP_GATEWAY, &h.gateway, ms), 0);
	for (unsigned i = 0; i <= h_neigh_params.max_probes; i++, ms += h_neigh_params.retrans_ms)
		io_neigh_tick(h.neigh, ms, probes, H_NEXTHOP_GATEWAY + 1);
	cr_assert_eq(io_neigh_state_of(h.neigh, H_NEXTHOP_GATEWAY), IO_NEIGH_FAILED);
	return ms;
}

Test(dp_lcore, unknown_next_hop_asks_io_and_the_timer_retries)
{
	uint8_t q[H_FRAME_MAX], out[H_FRAME_MAX];
	uint64_t ms = gateway_given_up();
	h_inject(q, h_build_query(
			q, &(struct h_query){.vlan = H_VLAN_VPC0, .qname = "www.example.com"}));
	h_poll();
	cr_expect_eq(h_take(out), 0);
	cr_expect_eq(io_neigh_want_calls(h.neigh), 1);
	cr_expect_eq(h_counters().drops[DP_DROP_NO_NEIGH], 1);
	/* the want named the gateway: io resolves it again, and the reply teaches its MAC */
	ms += h_neigh_params.failed_hold_ms;
	struct io_neigh_probe probe;
	cr_expect_eq(io_neigh_tick(h.neigh, ms, &probe, 1), 1);
	cr_expect_eq(probe.nexthop, H_NEXTHOP_GATEWAY);
	cr_expect_eq(io_neigh_count(h.neigh, IO_NEIGH_C_WANTS_TAKEN), 1);
	struct rte_ether_addr mac;
	memcpy(mac.addr_bytes, h_gateway_mac, 6);
	cr_assert_eq(
	    io_neigh_learn(h.neigh, h.port, H_VLAN_ENDPOINT, 4, h_gateway_ip, &mac, true, ms), 1);
	h.now += FLOW_TIMEOUT_MAX_DEFAULT + 10000000ull;
	h_poll();
	cr_expect_gt(h_take(out), 0, "the retry finds the MAC");
}

Test(dp_lcore, counters_print_names_every_nonzero_reason)
{
	uint8_t q[H_FRAME_MAX], out[H_FRAME_MAX];
	h_inject(q, h_build_query(q, &(struct h_query){.vlan = 30, .qname = "x.example.com"}));
	h_poll();
	cr_expect_eq(h_take(out), 0);
	char *text = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&text, &size);
	dp_counters_print(h.plane, f);
	fclose(f);
	cr_expect(strstr(text, "lcore 0: drop no_address 1"), "%s", text);
	cr_expect(strstr(text, "all: rx 1 "), "%s", text);
	free(text);
}

Test(dp_lcore, ipv6_client_is_forwarded_over_ipv4_and_answered_over_ipv6)
{
	uint8_t q[H_FRAME_MAX], fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_inject(q, h_build_query(q, &(struct h_query){.vlan = H_VLAN_VPC0,
						       .v6 = true,
						       .qname = "www.example.com",
						       .id = 0x6666}));
	h_poll();
	size_t fl = h_take(fwd);
	h_parse_sent(fwd, fl, &pkt, &m, false);
	cr_expect_eq(pkt.ip_version, 4, "the endpoint's family");
	cr_expect_eq(pkt.vlan_id, H_VLAN_ENDPOINT);
	h_inject(ans, h_build_answer(ans, fwd, fl, &(struct h_answer){.n_a = 3}));
	h_poll();
	h_parse_sent(out, h_take(out), &pkt, &m, true);
	cr_expect_eq(pkt.ip_version, 6);
	cr_expect_eq(pkt.vlan_id, H_VLAN_VPC0);
	cr_expect(!memcmp(pkt.src_addr, h_resolver_ip6, 16));
	cr_expect(!memcmp(pkt.dst_addr, h_client_ip6, 16));
	cr_expect_eq(pkt.dst_port, H_CLIENT_PORT);
	cr_expect_eq(m.id, 0x6666);
	cr_expect_eq(m.ancount, 3);
}

static void setup3_two_lcores(void)
{
	h_setup(3, 2);
}

TestSuite(dp_two_lcores, .init = setup3_two_lcores, .fini = h_teardown);

Test(dp_two_lcores, answer_on_another_lcores_queue_is_handed_to_the_flows_owner)
{
	uint8_t fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	size_t fl = forward_one(fwd, "www.example.com", 0); /* lcore 0 owns the flow */
	struct wire_pkt fp;
	cr_assert_eq(wire_pkt_parse(fwd, fl, &fp), WIRE_OK);
	uint16_t lo, hi;
	cr_assert(flow_ports_of_lcore(H_PORT_LO, H_PORT_HI, 2, 0, &lo, &hi));
	cr_expect(fp.src_port >= lo && fp.src_port <= hi, "lcore 0's half of the ports");
	h_inject_q(1, ans, h_build_answer(ans, fwd, fl, &(struct h_answer){.n_a = 1}));
	h_poll_lcore(1);
	struct dp_lcore_counters c1;
	dp_lcore_counters_read(h.plane, 1, &c1);
	cr_expect_eq(c1.handed_over, 1);
	cr_expect_eq(h_take_q(1, out), 0);
	h_poll_lcore(0);
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(out, h_take_q(0, out), &pkt, &m, true);
	cr_expect_eq(m.id, 0x1234);
	cr_expect(is_ip(pkt.dst_addr, h_client_ip));
}

Test(dp_lcore, publish_swaps_tables_between_polls)
{
	uint8_t q[H_FRAME_MAX], out[H_FRAME_MAX];
	char err[100];
	struct dp_tables_builder *b = dp_tables_builder_new(&(struct dp_tunables){0});
	cr_assert_eq(dp_publish(h.plane, dp_tables_build(b, err, sizeof(err)), err, sizeof(err)),
		     0);
	h_inject(q, h_build_query(
			q, &(struct h_query){.vlan = H_VLAN_VPC0, .qname = "www.example.com"}));
	h_poll();
	cr_expect_eq(h_take(out), 0, "the empty tables know no resolver address");
	cr_expect_eq(h_counters().drops[DP_DROP_NO_ADDRESS], 1);
}

/* The seed's case: 100 A records (over 1,600 octets) from the target, a client without EDNS. */
Test(dp_lcore, seed_large_answer_to_a_client_without_edns_is_cut_to_the_question_with_tc)
{
	uint8_t dns[H_FRAME_MAX], q[H_FRAME_MAX], fwd[H_FRAME_MAX], ans[H_FRAME_MAX],
	    out[H_FRAME_MAX];
	size_t ql = h_vector("res-large-noedns-tc-retry-udp.query.bin", dns, sizeof(dns));
	h_inject(q, h_wrap_query(q, H_VLAN_VPC0, dns, ql));
	h_poll();
	size_t fl = h_take(fwd);
	cr_assert_gt(fl, 0);
	size_t al = h_vector("res-large-tc-retry-upstream.response.bin", dns, sizeof(dns));
	cr_assert_gt(al, 1600);
	h_inject(ans, h_wrap_answer(ans, fwd, fl, dns, al));
	h_poll();
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(out, h_take(out), &pkt, &m, true);
	cr_expect_eq(m.id, 62647, "the client's ID in the vector");
	cr_expect_eq(m.flags, WIRE_FLAG_QR | WIRE_FLAG_TC | WIRE_FLAG_RD | WIRE_FLAG_RA,
		     "flags %#x", m.flags);
	cr_expect_eq(m.ancount + m.nscount + m.arcount, 0);
	cr_expect_eq(pkt.payload_len, 12 + 18 + 4, "header and question: large.onprem.com A IN");
}

/* dig's query with a cookie, the target's authoritative answer with its own cookie. */
Test(dp_lcore, seed_www_answer_loses_aa_and_the_cookies_of_the_other_hop)
{
	uint8_t dns[H_FRAME_MAX], q[H_FRAME_MAX], fwd[H_FRAME_MAX], ans[H_FRAME_MAX],
	    out[H_FRAME_MAX];
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	size_t ql = h_vector("dig-www-a.query.bin", dns, sizeof(dns));
	h_inject(q, h_wrap_query(q, H_VLAN_VPC0, dns, ql));
	h_poll();
	size_t fl = h_take(fwd);
	h_parse_sent(fwd, fl, &pkt, &m, false);
	cr_expect(m.has_opt);
	cr_expect_eq(m.opt.rdata_len, 0, "the client's cookie stays with the client");
	cr_expect_eq(m.opt.udp_size, 4096);
	size_t al = h_vector("res-www-a-upstream.response.bin", dns, sizeof(dns));
	h_inject(ans, h_wrap_answer(ans, fwd, fl, dns, al));
	h_poll();
	h_parse_sent(out, h_take(out), &pkt, &m, true);
	cr_expect_eq(m.id, 26247);
	cr_expect_eq(m.flags, WIRE_FLAG_QR | WIRE_FLAG_RD | WIRE_FLAG_RA, "flags %#x", m.flags);
	cr_expect_eq(m.ancount, 1);
	cr_expect(m.has_opt);
	cr_expect_eq(m.opt.rdata_len, 0, "the target's cookie stays upstream");
	const uint8_t *a = out + pkt.payload_off + m.msg_end - WIRE_OPT_RR_LEN - 4;
	cr_expect(a[0] == 172 && a[1] == 31, "the A record's address (172.31.x.x) is the last "
					     "before the OPT");
}

static void setup_hyperscan(void)
{
	h_match_engine = MATCH_ENGINE_HYPERSCAN;
	h_setup(3, 1);
}

TestSuite(dp_hyperscan, .init = setup_hyperscan, .fini = h_teardown);

Test(dp_hyperscan, hyperscan_tables_are_looked_up_with_the_lcores_scratch)
{
	uint8_t fwd[H_FRAME_MAX], q[H_FRAME_MAX], out[H_FRAME_MAX];
	forward_one(fwd, "www.example.com", 0);
	h_inject(q, h_build_query(
			q, &(struct h_query){.vlan = H_VLAN_VPC0, .qname = "a.corp.internal"}));
	h_poll();
	cr_expect_eq(h_take(out), 0);
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.forwarded, 1);
	cr_expect_eq(c.to_slow, 1);
	cr_expect_eq(c.drops[DP_DROP_MATCH_FAILED], 0);
}

/* The real thing: the loop on an EAL worker lcore, tables published while it runs, then stopped. */
Test(dp_lcore, run_loop_on_a_worker_forwards_and_survives_a_publish)
{
	uint8_t q[H_FRAME_MAX], out[H_FRAME_MAX];
	char err[200];
	unsigned worker = rte_get_next_lcore(-1, 1, 0);
	cr_assert_lt(worker, RTE_MAX_LCORE, "EAL gave no worker lcore");
	cr_assert_eq(dp_start(h.plane, &worker), 0);
	h_inject(q, h_build_query(
			q, &(struct h_query){.vlan = H_VLAN_VPC0, .qname = "www.example.com"}));
	size_t len = 0;
	for (int ms = 0; ms < 5000 && !len; ms++) {
		rte_delay_ms(1);
		len = h_take(out);
	}
	cr_expect_gt(len, 0, "the running lcore forwarded the query");
	/* an empty set of tables: publish waits for the running lcore's quiescent report */
	struct dp_tables_builder *b = dp_tables_builder_new(&(struct dp_tunables){0});
	cr_assert_eq(dp_publish(h.plane, dp_tables_build(b, err, sizeof(err)), err, sizeof(err)),
		     0);
	h_inject(q, h_build_query(
			q, &(struct h_query){.vlan = H_VLAN_VPC0, .qname = "www.example.com"}));
	for (int ms = 0; ms < 5000 && !h_counters().drops[DP_DROP_NO_ADDRESS]; ms++)
		rte_delay_ms(1);
	dp_stop(h.plane);
	cr_expect_eq(h_counters().drops[DP_DROP_NO_ADDRESS], 1, "the new tables were in use");
	cr_expect_eq(h_take(out), 0);
}

Test(dp_lcore, truncated_answer_from_a_target_goes_to_the_slow_path_for_tcp)
{
	uint8_t fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	size_t fl = forward_one(fwd, "big.example.com", 1232);
	struct wire_pkt fp;
	cr_assert_eq(wire_pkt_parse(fwd, fl, &fp), WIRE_OK);
	h_inject(ans, h_build_answer(ans, fwd, fl, &(struct h_answer){.tc = true, .edns = 4096}));
	h_poll();
	cr_expect_eq(h_take(out), 0, "nothing to the client: the slow path answers it");
	struct rte_mbuf *m = NULL;
	cr_assert_eq(rte_ring_dequeue(dp_slow_ring(h.plane, 0), (void **)&m), 0);
	const struct dp_slow_meta *meta = dp_slow_meta(m);
	cr_expect_eq(meta->reason, DP_SLOW_TCP_FALLBACK);
	cr_expect_eq(meta->vpc, 0);
	cr_expect_eq(meta->match_id, H_RULE_EXAMPLE);
	cr_expect_eq(meta->target, is_ip(fp.dst_addr, h_target_ip[0]) ? 0u : 1u);
	struct wire_pkt pkt;
	struct wire_dns_msg q;
	size_t len = rte_pktmbuf_pkt_len(m);
	memcpy(out, rte_pktmbuf_mtod(m, uint8_t *), len);
	rte_pktmbuf_free(m);
	h_parse_sent(out, len, &pkt, &q, false);
	cr_expect_eq(meta->dns_off, pkt.payload_off);
	cr_expect(is_ip(pkt.src_addr, h_client_ip));
	cr_expect(is_ip(pkt.dst_addr, h_resolver_ip));
	cr_expect_eq(pkt.src_port, H_CLIENT_PORT);
	cr_expect_eq(pkt.vlan_id, H_VLAN_VPC0);
	cr_expect(!memcmp(out + 6, h_client_mac, 6));
	cr_expect_eq(q.id, 0x1234);
	cr_expect(q.has_opt);
	cr_expect_eq(q.opt.udp_size, 1232, "the client's own size");
	struct dp_lcore_counters c = h_counters();
	cr_expect_eq(c.tcp_fallbacks, 1);
}

/* A target's answer to the forwarded query: www.onprem.com-style CNAME to www.xyz.com, and an A
 * record for www.xyz.com when with_a. */
static size_t cname_answer(uint8_t *frame, const uint8_t *fwd, size_t fl, bool with_a)
{
	static const uint8_t target[] = "\3www\3xyz\3com";
	uint8_t dns[512];
	struct wire_pkt fp;
	struct wire_dns_msg q;
	cr_assert_eq(wire_pkt_parse(fwd, fl, &fp), WIRE_OK);
	cr_assert_eq(wire_dns_parse_query(fwd + fp.payload_off, fp.payload_len, &q), WIRE_OK);
	size_t n = q.question_end;
	memcpy(dns, fwd + fp.payload_off, n);
	dns[2] |= 0x80;			/* QR */
	dns[7] = with_a ? 2 : 1;	/* ANCOUNT */
	dns[9] = dns[10] = dns[11] = 0; /* no authority, no OPT */
	const uint8_t cname[] = {0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, sizeof(target)};
	memcpy(dns + n, cname, sizeof(cname));
	n += sizeof(cname);
	memcpy(dns + n, target, sizeof(target));
	n += sizeof(target);
	if (with_a) {
		memcpy(dns + n, target, sizeof(target));
		n += sizeof(target);
		const uint8_t a[] = {0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 198, 51, 100, 10};
		memcpy(dns + n, a, sizeof(a));
		n += sizeof(a);
	}
	return h_wrap_answer(frame, fwd, fl, dns, n);
}

Test(dp_lcore, answer_ending_in_an_unresolved_cname_goes_to_the_slow_path_to_chase)
{
	uint8_t fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	size_t fl = forward_one(fwd, "www.example.com", 0);
	h_inject(ans, cname_answer(ans, fwd, fl, false));
	h_poll();
	cr_expect_eq(h_take(out), 0, "nothing to the client: the slow path completes the chain");
	struct rte_mbuf *m = NULL;
	cr_assert_eq(rte_ring_dequeue(dp_slow_ring(h.plane, 0), (void **)&m), 0);
	cr_expect_eq(dp_slow_meta(m)->reason, DP_SLOW_CNAME);
	cr_expect_eq(dp_slow_meta(m)->match_id, H_RULE_EXAMPLE);
	rte_pktmbuf_free(m);
	cr_expect_eq(h_counters().cname_chases, 1);
}

Test(dp_lcore, answer_with_the_whole_cname_chain_goes_straight_to_the_client)
{
	uint8_t fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	size_t fl = forward_one(fwd, "www.example.com", 0);
	h_inject(ans, cname_answer(ans, fwd, fl, true));
	h_poll();
	struct wire_pkt pkt;
	struct wire_dns_msg a;
	size_t len = h_take(out);
	cr_assert_gt(len, 0);
	h_parse_sent(out, len, &pkt, &a, true);
	cr_expect_eq(a.ancount, 2);
	cr_expect_eq(h_counters().cname_chases, 0);
}

static void setup_offload(void)
{
	h_tx_offload = DP_TX_CKSUM_IPV4 | DP_TX_CKSUM_UDP;
	h_setup(3, 1);
}

TestSuite(dp_offload, .init = setup_offload, .fini = h_teardown);

Test(dp_offload, checksums_are_left_to_a_port_that_computes_them)
{
	uint8_t q[H_FRAME_MAX];
	h_inject(q, h_build_query(
			q, &(struct h_query){.vlan = H_VLAN_VPC0, .qname = "www.example.com"}));
	h_poll();
	struct rte_mbuf *m = NULL;
	cr_assert_eq(rte_ring_dequeue(h.tx[0], (void **)&m), 0);
	uint64_t want = RTE_MBUF_F_TX_IPV4 | RTE_MBUF_F_TX_IP_CKSUM | RTE_MBUF_F_TX_UDP_CKSUM;
	cr_expect_eq(m->ol_flags & want, want);
	cr_expect_eq(m->l2_len, 18, "Ethernet and a VLAN tag");
	cr_expect_eq(m->l3_len, 20);
	const struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 18);
	const struct rte_udp_hdr *udp = rte_pktmbuf_mtod_offset(m, struct rte_udp_hdr *, 38);
	cr_expect_eq(ip->hdr_checksum, 0, "left to the port");
	cr_expect_eq(udp->dgram_cksum, rte_ipv4_phdr_cksum(ip, m->ol_flags),
		     "the pseudo-header sum DPDK asks for");
	rte_pktmbuf_free(m);
}

static void setup_extra_rx(void)
{
	h_rx_queues = 4; /* net_tap's case: more RX queues than data lcores */
	h_setup(3, 2);
}

TestSuite(dp_extra_rx, .init = setup_extra_rx, .fini = h_teardown);

Test(dp_extra_rx, queues_past_the_lcores_are_polled_and_their_answers_handed_over)
{
	uint8_t q[H_FRAME_MAX], fwd[H_FRAME_MAX], ans[H_FRAME_MAX], out[H_FRAME_MAX];
	/* a query on queue 2, which lcore 0 polls (2 = 0 + 2 lcores) */
	h_inject_q(2, q,
		   h_build_query(q, &(struct h_query){.vlan = H_VLAN_VPC0,
						      .qname = "www.example.com",
						      .id = 0x0202}));
	h_poll_lcore(0);
	size_t fl = h_take_q(0, fwd);
	cr_assert_gt(fl, 0, "lcore 0 took the query from queue 2");
	struct wire_pkt fp;
	cr_assert_eq(wire_pkt_parse(fwd, fl, &fp), WIRE_OK);
	uint16_t lo, hi;
	cr_assert(flow_ports_of_lcore(H_PORT_LO, H_PORT_HI, 2, 0, &lo, &hi));
	cr_expect(fp.src_port >= lo && fp.src_port <= hi);
	/* its answer arrives on queue 3, which lcore 1 polls and hands over to lcore 0 */
	h_inject_q(3, ans, h_build_answer(ans, fwd, fl, &(struct h_answer){.n_a = 1}));
	h_poll_lcore(1);
	cr_expect_eq(h_take_q(1, out), 0);
	struct dp_lcore_counters c1;
	dp_lcore_counters_read(h.plane, 1, &c1);
	cr_expect_eq(c1.handed_over, 1);
	h_poll_lcore(0);
	struct wire_pkt pkt;
	struct wire_dns_msg m;
	h_parse_sent(out, h_take_q(0, out), &pkt, &m, true);
	cr_expect_eq(m.id, 0x0202);
}
