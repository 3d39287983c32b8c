/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/lcore: the data lcores' poll loop and the plane that holds them. It owns, per lcore, the flow
 * table, the TX buffers, the slow and handover rings and the counters; and for the plane the
 * published tables (RCU) and the lcores' start and stop. Every packet is rewritten in the mbuf it
 * came in (headers rebuilt in front of the DNS message, which is edited in place); the only copies
 * are retries and SERVFAILs, made from the query kept in the flow.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include "dp/dp_internal.h"
#include "dp/io/io.h"

#define BURST	     32
#define EXPIRE_BURST 32
#define PORT_NONE    0xff
#define RING_DEFAULT 1024

struct dp_lcore {
	struct dp_plane *plane;
	const struct dp_tables *t; /* this poll's tables */
	uint64_t now;
	unsigned index;
	struct flow_table *flows;
	struct rte_ring *slow, *handover, *exception;
	struct rte_eth_dev_tx_buffer *tx[DP_PORTS_MAX];
	struct dp_lcore_counters c;
	/* per-entity counters, by dense index; the sink takes indices past the arrays */
	struct dp_entity_counters *vpc_c, *rule_c, *ep_c, *target_c, sink;
} __rte_cache_aligned;

struct dp_plane {
	struct dp_plane_params p;
	struct dp_tables *tables;
	struct rte_rcu_qsbr *qsbr;
	struct dp_lcore *lcores;
	double ns_per_cycle;
	struct rte_ether_addr port_mac[RTE_MAX_ETHPORTS];
	uint8_t port_slot[RTE_MAX_ETHPORTS];
	unsigned lcore_ids[DP_LCORES_MAX];
	bool running;
	volatile bool stop;
};

/* What the rebuilt L2-L4 headers of an outgoing packet say. */
struct out_hdr {
	uint16_t port;
	uint16_t vlan_tci; /* 0: untagged */
	struct rte_ether_addr src_mac, dst_mac;
	uint8_t family;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

static int slow_meta_offset = -1;

static const char *const drop_names[DP__DROP_COUNT] = {
    [DP_DROP_NO_ADDRESS] = "no_address",
    [DP_DROP_NOT_DNS_PORT] = "not_dns_port",
    [DP_DROP_OUTSIDER] = "outsider",
    [DP_DROP_WIRE] = "wire",
    [DP_DROP_FLOW_FULL] = "flow_full",
    [DP_DROP_BAD_RULE] = "bad_rule",
    [DP_DROP_MATCH_FAILED] = "match_failed",
    [DP_DROP_NO_NEIGH] = "no_neigh",
    [DP_DROP_NOT_OUR_PORT] = "not_our_port",
    [DP_DROP_NO_FLOW] = "no_flow",
    [DP_DROP_SPOOFED] = "spoofed",
    [DP_DROP_HANDOVER_FULL] = "handover_full",
    [DP_DROP_EXCEPTION_FULL] = "exception_full",
    [DP_DROP_SLOW_FULL] = "slow_full",
    [DP_DROP_NO_MBUF] = "no_mbuf",
    [DP_DROP_NO_ROOM] = "no_room",
    [DP_DROP_TX_FULL] = "tx_full",
};

const char *dp_drop_name(enum dp_drop d)
{
	return (unsigned)d < DP__DROP_COUNT ? drop_names[d] : "?";
}

/* ---- small helpers ---- */

static inline struct dp_entity_counters *entity(struct dp_lcore *lc, struct dp_entity_counters *a,
						uint32_t n, uint32_t i)
{
	return a && i < n ? &a[i] : &lc->sink;
}

static inline struct dp_entity_counters *vpc_ctr(struct dp_lcore *lc, uint32_t i)
{
	return entity(lc, lc->vpc_c, lc->plane->p.max_vpcs, i);
}

static inline struct dp_entity_counters *rule_ctr(struct dp_lcore *lc, uint32_t i)
{
	return entity(lc, lc->rule_c, lc->plane->p.max_rules, i);
}

static inline struct dp_entity_counters *ep_ctr(struct dp_lcore *lc, uint32_t i)
{
	return entity(lc, lc->ep_c, lc->plane->p.max_endpoint_addrs, i);
}

static inline struct dp_entity_counters *target_ctr(struct dp_lcore *lc, uint32_t i)
{
	return entity(lc, lc->target_c, lc->plane->p.flow.n_targets, i);
}

static inline void drop(struct dp_lcore *lc, struct rte_mbuf *m, enum dp_drop why)
{
	lc->c.drops[why]++;
	rte_pktmbuf_free(m);
}

static inline void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Room for the DNS message at dns_off to grow into: to the end of the mbuf's buffer. */
static inline size_t dns_room(const struct rte_mbuf *m, uint16_t dns_off)
{
	size_t room = (size_t)m->buf_len - m->data_off - dns_off;
	return room > UINT16_MAX ? UINT16_MAX : room;
}

static inline uint64_t clock_now(const struct dp_plane *plane)
{
	if (plane->p.clock_ns)
		return plane->p.clock_ns(plane->p.clock_ctx);
	return (uint64_t)((double)rte_get_tsc_cycles() * plane->ns_per_cycle);
}

/* ---- TX ---- */

/*
 * Replaces whatever precedes the DNS message with fresh Ethernet (+ 802.1Q), IP and UDP headers:
 * one code path whatever the VLAN or the IP family on either side, and a full checksum (no port
 * offloads it here). Single-segment mbufs only (checked on receive).
 */
static bool build_headers(struct rte_mbuf *m, uint16_t dns_off, uint16_t dns_len,
			  const struct out_hdr *h)
{
	bool v4 = h->family == 4;
	uint16_t l3 = (uint16_t)(WIRE_ETH_HLEN + (h->vlan_tci ? WIRE_VLAN_HLEN : 0));
	uint16_t l4 = (uint16_t)(l3 + (v4 ? WIRE_IPV4_HLEN : WIRE_IPV6_HLEN));
	uint16_t udp_len = (uint16_t)(WIRE_UDP_HLEN + dns_len);

	if (!rte_pktmbuf_adj(m, dns_off))
		return false;
	m->data_len = dns_len;
	m->pkt_len = dns_len;
	uint8_t *f = (uint8_t *)rte_pktmbuf_prepend(m, (uint16_t)(l4 + WIRE_UDP_HLEN));
	if (!f)
		return false;
	memcpy(f, &h->dst_mac, 6);
	memcpy(f + 6, &h->src_mac, 6);
	if (h->vlan_tci) {
		put16(f + 12, RTE_ETHER_TYPE_VLAN);
		put16(f + 14, h->vlan_tci);
	}
	put16(f + l3 - 2, v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
	uint8_t *ip = f + l3, *udp = f + l4;
	if (v4) {
		memset(ip, 0, WIRE_IPV4_HLEN);
		ip[0] = 0x45;
		put16(ip + 2, (uint16_t)(WIRE_IPV4_HLEN + udp_len));
		put16(ip + 6, 0x4000); /* DF: a DNS datagram is never fragmented by us */
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, h->src, 4);
		memcpy(ip + 16, h->dst, 4);
		put16(ip + 10, wire_ipv4_hdr_cksum(ip));
	} else {
		memset(ip, 0, 4);
		ip[0] = 0x60;
		put16(ip + 4, udp_len);
		ip[6] = IPPROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, h->src, 16);
		memcpy(ip + 24, h->dst, 16);
	}
	put16(udp, h->sport);
	put16(udp + 2, h->dport);
	put16(udp + 4, udp_len);
	put16(udp + 6, 0);
	put16(udp + 6, wire_udp_cksum_store(wire_udp_cksum(ip, udp, udp_len)));
	return true;
}

static void transmit(struct dp_lcore *lc, uint16_t port, struct rte_mbuf *m)
{
	uint8_t slot = lc->plane->port_slot[port];
	if (slot == PORT_NONE) {
		drop(lc, m, DP_DROP_UNKNOWN_PORT);
		return;
	}
	lc->c.tx++;
	rte_eth_tx_buffer(port, (uint16_t)lc->index, lc->tx[slot], m);
}

/* ---- answers to clients ---- */

/* Sends a DNS message (already the client's view) from the resolver address the client asked. */
static void send_to_client(struct dp_lcore *lc, const struct flow *f, struct rte_mbuf *m,
			   uint16_t dns_off, uint16_t dns_len)
{
	const struct flow_client *cl = &f->client;
	struct out_hdr h = {
	    .port = cl->ingress_port,
	    .vlan_tci = cl->vlan,
	    .src_mac = lc->plane->port_mac[cl->ingress_port],
	    .family = cl->family,
	    .sport = DP_DNS_PORT,
	    .dport = cl->port,
	};
	memcpy(&h.dst_mac, cl->mac, 6);
	memcpy(h.src, cl->resolver_addr, 16);
	memcpy(h.dst, cl->addr, 16);
	if (!build_headers(m, dns_off, dns_len, &h)) {
		drop(lc, m, DP_DROP_NO_ROOM);
		return;
	}
	lc->c.answered++;
	vpc_ctr(lc, f->vpc)->answered++;
	transmit(lc, cl->ingress_port, m);
}

/* Answers a query with rcode straight back to its sender (errors, REFUSED, SERVFAIL). */
static void answer_local(struct dp_lcore *lc, uint16_t port, struct rte_mbuf *m,
			 const struct wire_pkt *pkt, struct wire_dns_msg *msg, int rcode)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *dns = frame + pkt->payload_off;
	size_t len = pkt->payload_len;
	if (wire_dns_make_answer(dns, &len, dns_room(m, pkt->payload_off), msg, rcode,
				 lc->t->tunables.edns_udp_size) != WIRE_OK) {
		drop(lc, m, DP_DROP_NO_ROOM);
		return;
	}
	struct out_hdr h = {
	    .port = port,
	    .vlan_tci = pkt->has_vlan ? pkt->vlan_tci : 0,
	    .family = pkt->ip_version,
	    .sport = pkt->dst_port,
	    .dport = pkt->src_port,
	};
	memcpy(&h.dst_mac, frame + 6, 6);
	memcpy(&h.src_mac, frame, 6);
	memcpy(h.src, pkt->dst_addr, pkt->addr_len);
	memcpy(h.dst, pkt->src_addr, pkt->addr_len);
	if (!build_headers(m, pkt->payload_off, (uint16_t)len, &h)) {
		drop(lc, m, DP_DROP_NO_ROOM);
		return;
	}
	lc->c.answered++;
	transmit(lc, port, m);
}

/* ---- flows: tries, retries, the end ---- */

static void close_flow(struct dp_lcore *lc, struct flow *f)
{
	rte_pktmbuf_free((struct rte_mbuf *)f->pkt);
	f->pkt = NULL;
	flow_close(lc->flows, f);
}

/*
 * Sends one try of f (the query at dns_off in m, ID already set) from the chosen endpoint address
 * to the chosen target. The first try's mbuf becomes the flow's kept query: one more reference
 * before TX, so the NIC frees only its own; retries send copies of it. Nothing ever writes to an
 * mbuf after it went to TX (DMA may still be reading it), hence copies rather than rewrites.
 */
static void send_try(struct dp_lcore *lc, struct flow *f, const struct flow_choice *ch,
		     struct rte_mbuf *m, uint16_t dns_off, uint16_t dns_len, bool first)
{
	const struct dp_tables *t = lc->t;
	const struct dp_endpoint *ep = &t->endpoints[t->rules[f->rule].endpoint];
	const struct dp_target *target = &t->targets[ch->target];
	uint32_t ea_i = ep->first_addr + ch->endpoint_slot;
	const struct dp_endpoint_addr *ea = &t->endpoint_addrs[ea_i];

	f->upstream_family = target->addr.family;
	memcpy(f->target_addr, target->addr.addr, 16);
	memcpy(f->endpoint_addr, ea->addr.addr, 16);
	f->target_port = target->udp_port;
	target_ctr(lc, ch->target)->queries++;
	ep_ctr(lc, ea_i)->queries++;
	rule_ctr(lc, f->rule)->queries++;

	struct out_hdr h = {
	    .port = ea->port,
	    .vlan_tci = ea->vlan,
	    .src_mac = lc->plane->port_mac[ea->port],
	    .family = target->addr.family,
	    .sport = f->port,
	    .dport = target->udp_port,
	};
	memcpy(h.src, ea->addr.addr, 16);
	memcpy(h.dst, target->addr.addr, 16);
	if (!build_headers(m, dns_off, dns_len, &h)) {
		drop(lc, m, DP_DROP_NO_ROOM);
		if (first)
			flow_close(lc->flows, f); /* nothing kept to retry from */
		return;
	}
	if (first)
		f->pkt = m;
	if (!io_neigh_lookup(lc->plane->p.neigh, target->nexthop, &h.dst_mac)) {
		/* not sent: the flow's timer makes the next try, by then perhaps resolved */
		io_neigh_want(lc->plane->p.neigh, target->nexthop);
		lc->c.drops[DP_DROP_NO_NEIGH]++;
		if (!first)
			rte_pktmbuf_free(m);
		return;
	}
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), &h.dst_mac, 6);
	if (first)
		rte_mbuf_refcnt_update(m, 1);
	transmit(lc, ea->port, m);
}

/* A copy of the flow's kept query, parsed down to its DNS message; NULL (counted) without mbufs. */
static struct rte_mbuf *copy_kept(struct dp_lcore *lc, const struct flow *f, struct wire_pkt *pkt)
{
	struct rte_mbuf *c = rte_pktmbuf_copy(f->pkt, lc->plane->p.pool, 0, UINT32_MAX);
	if (!c) {
		lc->c.drops[DP_DROP_NO_MBUF]++;
		return NULL;
	}
	if (wire_pkt_parse(rte_pktmbuf_mtod(c, uint8_t *), c->data_len, pkt) != WIRE_OK) {
		drop(lc, c, DP_DROP_NO_ROOM);
		return NULL;
	}
	return c;
}

/* The last try failed: SERVFAIL in the client's EDNS view, from the kept query. */
static void servfail_flow(struct dp_lcore *lc, struct flow *f)
{
	struct wire_pkt pkt;
	struct wire_dns_msg msg;
	struct rte_mbuf *m = copy_kept(lc, f, &pkt);
	lc->c.servfails++;
	if (!m) {
		close_flow(lc, f);
		return;
	}
	uint8_t *dns = rte_pktmbuf_mtod(m, uint8_t *) + pkt.payload_off;
	size_t len = pkt.payload_len;
	bool ok =
	    wire_dns_parse_query(dns, len, &msg) == WIRE_OK &&
	    wire_dns_make_answer(dns, &len, dns_room(m, pkt.payload_off), &msg, WIRE_RCODE_SERVFAIL,
				 lc->t->tunables.edns_udp_size) == WIRE_OK &&
	    (f->client.edns_present || wire_dns_strip_opt(dns, &len, &msg) == WIRE_OK);
	if (!ok) {
		drop(lc, m, DP_DROP_NO_ROOM);
	} else {
		wire_dns_set_id(dns, f->client.id);
		send_to_client(lc, f, m, pkt.payload_off, (uint16_t)len);
	}
	close_flow(lc, f);
}

/* After a timeout, REFUSED or SERVFAIL: the next try, or SERVFAIL once there is none. */
static void try_next(struct dp_lcore *lc, struct flow *f)
{
	const struct dp_tables *t = lc->t;
	if (f->rule >= t->n_rules) {
		servfail_flow(lc, f);
		return;
	}
	const struct dp_rule *rule = &t->rules[f->rule];
	struct flow_choice ch;
	if (flow_retry(lc->flows, f, lc->now, rule->targets, rule->n_targets,
		       t->endpoints[rule->endpoint].n_addrs, &ch) != FLOW_TRY_SENT) {
		servfail_flow(lc, f);
		return;
	}
	lc->c.retries++;
	rule_ctr(lc, f->rule)->retries++;
	target_ctr(lc, ch.target)->retries++;
	struct wire_pkt pkt;
	struct rte_mbuf *m = copy_kept(lc, f, &pkt);
	if (!m)
		return; /* the timer tries again */
	wire_dns_set_id(rte_pktmbuf_mtod(m, uint8_t *) + pkt.payload_off, f->id);
	send_try(lc, f, &ch, m, pkt.payload_off, pkt.payload_len, false);
}

/* The global index of the endpoint address f's current try left from (past the tables: the sink).
 */
static uint32_t flow_endpoint_addr(const struct dp_lcore *lc, const struct flow *f)
{
	const struct dp_tables *t = lc->t;
	if (f->rule >= t->n_rules)
		return UINT32_MAX;
	return t->endpoints[t->rules[f->rule].endpoint].first_addr + f->endpoint_slot;
}

/* ---- client queries ---- */

static void fill_client(struct flow *f, uint16_t port, const uint8_t *frame,
			const struct wire_pkt *pkt, const struct wire_dns_msg *msg)
{
	struct flow_client *cl = &f->client;
	memset(cl, 0, sizeof(*cl));
	memcpy(cl->addr, pkt->src_addr, pkt->addr_len);
	memcpy(cl->resolver_addr, pkt->dst_addr, pkt->addr_len);
	memcpy(cl->mac, frame + 6, 6);
	cl->port = pkt->src_port;
	cl->id = msg->id;
	cl->vlan = pkt->has_vlan ? pkt->vlan_tci : 0;
	cl->ingress_port = port;
	cl->edns_udp_size = wire_dns_udp_limit(msg);
	cl->family = pkt->ip_version;
	cl->edns_present = msg->has_opt;
	cl->edns_do = msg->has_opt && msg->opt.do_bit;
	f->question_len = (uint16_t)(msg->question_end - WIRE_DNS_HLEN);
	memcpy(f->question, frame + pkt->payload_off + WIRE_DNS_HLEN, f->question_len);
}

/* FORWARD: open a flow, set our EDNS size and ID, send the first try. */
static void forward(struct dp_lcore *lc, uint16_t port, struct rte_mbuf *m,
		    const struct wire_pkt *pkt, struct wire_dns_msg *msg, uint32_t vpc,
		    uint32_t rule_i)
{
	const struct dp_tables *t = lc->t;
	const struct dp_rule *rule = &t->rules[rule_i];
	const struct dp_endpoint *ep = &t->endpoints[rule->endpoint];
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *dns = frame + pkt->payload_off;
	struct flow *f;

	if (flow_open(lc->flows, lc->now, &f) != FLOW_OPEN_OK) {
		lc->c.drops[DP_DROP_FLOW_FULL]++;
		answer_local(lc, port, m, pkt, msg, WIRE_RCODE_SERVFAIL);
		return;
	}
	fill_client(f, port, frame, pkt, msg);
	f->vpc = vpc;
	f->rule = rule_i;
	f->pkt = NULL;
	size_t len = pkt->payload_len;
	enum wire_err err = msg->has_opt
				? wire_dns_set_opt_udp_size(dns, msg, ep->edns_udp_size)
				: wire_dns_append_opt(dns, &len, dns_room(m, pkt->payload_off), msg,
						      ep->edns_udp_size, false);
	struct flow_choice ch;
	if (err != WIRE_OK) {
		flow_close(lc->flows, f);
		drop(lc, m, DP_DROP_NO_ROOM);
		return;
	}
	if (flow_pick_first(lc->flows, f, lc->now, rule->targets, rule->n_targets, ep->n_addrs,
			    &ch) != FLOW_TRY_SENT) {
		flow_close(lc->flows, f);
		lc->c.drops[DP_DROP_BAD_RULE]++;
		answer_local(lc, port, m, pkt, msg, WIRE_RCODE_SERVFAIL);
		return;
	}
	wire_dns_set_id(dns, f->id);
	lc->c.forwarded++;
	vpc_ctr(lc, vpc)->forwarded++;
	rule_ctr(lc, rule_i)->forwarded++;
	send_try(lc, f, &ch, m, pkt->payload_off, (uint16_t)len, true);
}

static void to_slow(struct dp_lcore *lc, struct rte_mbuf *m, const struct wire_pkt *pkt,
		    uint32_t vpc, const struct match_result *res)
{
	struct dp_slow_meta *meta = RTE_MBUF_DYNFIELD(m, slow_meta_offset, struct dp_slow_meta *);
	*meta = (struct dp_slow_meta){
	    .vpc = vpc,
	    .match_id = res->id,
	    .system_id = res->system_id,
	    .dns_off = pkt->payload_off,
	    .kind = (uint8_t)res->kind,
	    .labels = res->labels,
	};
	if (rte_ring_sp_enqueue(lc->slow, m) != 0) {
		drop(lc, m, DP_DROP_SLOW_FULL);
		return;
	}
	lc->c.to_slow++;
}

static void handle_query(struct dp_lcore *lc, uint16_t port, struct rte_mbuf *m,
			 const struct wire_pkt *pkt, uint32_t vpc_i)
{
	const struct dp_vpc *vpc = &lc->t->vpcs[vpc_i];
	struct dp_entity_counters *vc = vpc_ctr(lc, vpc_i);
	if (pkt->dst_port != DP_DNS_PORT) {
		drop(lc, m, DP_DROP_NOT_DNS_PORT);
		return;
	}
	lc->c.queries++;
	vc->queries++;
	const uint8_t *dns = rte_pktmbuf_mtod(m, uint8_t *) + pkt->payload_off;
	struct wire_dns_msg msg;
	enum wire_err err = wire_dns_parse_query(dns, pkt->payload_len, &msg);
	if (!dp_vpc_has_client(vpc, pkt->ip_version, pkt->src_addr)) {
		if (vpc->outsiders == DP_OUTSIDER_DROP || err != WIRE_OK) {
			vc->drops++;
			drop(lc, m, DP_DROP_OUTSIDER);
		} else {
			answer_local(lc, port, m, pkt, &msg, WIRE_RCODE_REFUSED);
		}
		return;
	}
	if (err != WIRE_OK) {
		int rcode = wire_err_rcode(err);
		lc->c.rejects[err]++;
		if (rcode < 0) {
			vc->drops++;
			drop(lc, m, DP_DROP_WIRE);
		} else {
			answer_local(lc, port, m, pkt, &msg, rcode);
		}
		return;
	}
	struct match_result res;
	if (match_lookup(vpc->match, NULL, dns + WIRE_DNS_HLEN, msg.qname_len, &res) != MATCH_OK) {
		vc->drops++;
		drop(lc, m, DP_DROP_MATCH_FAILED);
		return;
	}
	if (res.kind != MATCH_FORWARD) {
		to_slow(lc, m, pkt, vpc_i, &res);
		return;
	}
	if (res.id >= lc->t->n_rules) {
		lc->c.drops[DP_DROP_BAD_RULE]++;
		answer_local(lc, port, m, pkt, &msg, WIRE_RCODE_SERVFAIL);
		return;
	}
	forward(lc, port, m, pkt, &msg, vpc_i, res.id);
}

/* ---- target responses ---- */

/* An accepted answer: the client's ID, flags and EDNS view, truncated to its size. */
static void answer_from_target(struct dp_lcore *lc, struct flow *f, struct rte_mbuf *m,
			       const struct wire_pkt *pkt, struct wire_dns_msg *msg)
{
	uint8_t *dns = rte_pktmbuf_mtod(m, uint8_t *) + pkt->payload_off;
	const uint8_t *kept = rte_pktmbuf_mtod((struct rte_mbuf *)f->pkt, uint8_t *);
	struct wire_pkt kept_pkt;
	size_t len = pkt->payload_len;
	enum wire_err err = wire_pkt_parse(kept, ((struct rte_mbuf *)f->pkt)->data_len, &kept_pkt);
	if (err == WIRE_OK) {
		wire_dns_set_id(dns, f->client.id);
		wire_dns_set_resolver_flags(dns, get16(kept + kept_pkt.payload_off + 2));
		uint16_t size = lc->t->tunables.edns_udp_size;
		if (f->client.edns_present)
			err = msg->has_opt
				  ? wire_dns_set_opt_udp_size(dns, msg, size)
				  : wire_dns_append_opt(dns, &len, dns_room(m, pkt->payload_off),
							msg, size, f->client.edns_do);
		else if (msg->has_opt)
			err = wire_dns_strip_opt(dns, &len, msg);
	}
	if (err == WIRE_OK && len > f->client.edns_udp_size) {
		err = wire_dns_truncate(dns, &len, msg, f->client.edns_present);
		lc->c.truncations++;
		vpc_ctr(lc, f->vpc)->truncations++;
		rule_ctr(lc, f->rule)->truncations++;
	}
	if (err != WIRE_OK)
		drop(lc, m, DP_DROP_NO_ROOM);
	else
		send_to_client(lc, f, m, pkt->payload_off, (uint16_t)len);
	close_flow(lc, f);
}

static void accept_response(struct dp_lcore *lc, struct rte_mbuf *m, const struct wire_pkt *pkt)
{
	const uint8_t *dns = rte_pktmbuf_mtod(m, uint8_t *) + pkt->payload_off;
	struct wire_dns_msg msg;
	size_t count;
	enum wire_err err = wire_dns_parse_response(dns, pkt->payload_len, &msg, NULL, 0, &count);
	if (err != WIRE_OK) {
		lc->c.rejects[err]++;
		drop(lc, m, DP_DROP_WIRE);
		return;
	}
	struct flow *f = flow_find(lc->flows, pkt->dst_port, msg.id);
	if (!f) {
		drop(lc, m, DP_DROP_NO_FLOW);
		return;
	}
	uint8_t src[16] = {0}, dst[16] = {0};
	memcpy(src, pkt->src_addr, pkt->addr_len);
	memcpy(dst, pkt->dst_addr, pkt->addr_len);
	if (pkt->ip_version != f->upstream_family || !msg.question_end ||
	    flow_check_reply(f, src, pkt->src_port, dst, dns + WIRE_DNS_HLEN,
			     msg.question_end - WIRE_DNS_HLEN) != FLOW_REPLY_OK) {
		target_ctr(lc, f->target)->drops++;
		drop(lc, m, DP_DROP_SPOOFED);
		return;
	}
	flow_record_answer(lc->flows, f, lc->now);
	lc->c.responses++;
	target_ctr(lc, f->target)->answered++;
	ep_ctr(lc, flow_endpoint_addr(lc, f))->answered++;
	unsigned rcode = WIRE_RCODE(msg.flags);
	if (rcode == WIRE_RCODE_REFUSED || rcode == WIRE_RCODE_SERVFAIL) {
		rte_pktmbuf_free(m);
		try_next(lc, f);
		return;
	}
	answer_from_target(lc, f, m, pkt, &msg);
}

static void handle_response(struct dp_lcore *lc, struct rte_mbuf *m, const struct wire_pkt *pkt)
{
	const struct dp_plane *plane = lc->plane;
	unsigned owner = flow_port_owner(plane->p.flow.port_lo, plane->p.flow.port_hi,
					 plane->p.n_lcores, pkt->dst_port);
	if (owner >= plane->p.n_lcores) {
		drop(lc, m, DP_DROP_NOT_OUR_PORT);
		return;
	}
	if (owner != lc->index) {
		if (rte_ring_mp_enqueue(plane->lcores[owner].handover, m) != 0) {
			drop(lc, m, DP_DROP_HANDOVER_FULL);
			return;
		}
		lc->c.handed_over++;
		return;
	}
	accept_response(lc, m, pkt);
}

/* ---- the poll ---- */

static void to_exception(struct dp_lcore *lc, struct rte_mbuf *m)
{
	if (!lc->exception || rte_ring_sp_enqueue(lc->exception, m) != 0) {
		drop(lc, m, DP_DROP_EXCEPTION_FULL);
		return;
	}
	lc->c.exceptions++;
}

static void handle_packet(struct dp_lcore *lc, uint16_t port, struct rte_mbuf *m)
{
	struct wire_pkt pkt;
	lc->c.rx++;
	if (m->nb_segs != 1) {
		drop(lc, m, DP_DROP_NO_ROOM);
		return;
	}
	enum wire_err err = wire_pkt_parse(rte_pktmbuf_mtod(m, uint8_t *), m->data_len, &pkt);
	if (err != WIRE_OK) {
		if (wire_err_not_ours(err)) {
			to_exception(lc, m);
			return;
		}
		lc->c.rejects[err]++;
		drop(lc, m, DP_DROP_WIRE);
		return;
	}
	struct dp_addr_hit hit = {.kind = DP_ADDR_NONE};
	if (lc->t)
		hit = dp_tables_lookup_addr(lc->t, port, pkt.vlan_id, pkt.ip_version, pkt.dst_addr);
	if (hit.kind == DP_ADDR_RESOLVER)
		handle_query(lc, port, m, &pkt, hit.index);
	else if (hit.kind == DP_ADDR_ENDPOINT)
		handle_response(lc, m, &pkt);
	else
		drop(lc, m, DP_DROP_NO_ADDRESS);
}

static void handle_burst(struct dp_lcore *lc, uint16_t port, struct rte_mbuf **pkts, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		handle_packet(lc, port, pkts[i]);
	}
}

static void drain_handover(struct dp_lcore *lc)
{
	struct rte_mbuf *pkts[BURST];
	unsigned n = rte_ring_sc_dequeue_burst(lc->handover, (void **)pkts, BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct wire_pkt pkt;
		/* parsed once already by the lcore that handed it over */
		wire_pkt_parse(rte_pktmbuf_mtod(pkts[i], uint8_t *), pkts[i]->data_len, &pkt);
		accept_response(lc, pkts[i], &pkt);
	}
}

static void expire_flows(struct dp_lcore *lc)
{
	struct flow *due[EXPIRE_BURST];
	size_t n = flow_expire(lc->flows, lc->now, due, EXPIRE_BURST);
	for (size_t i = 0; i < n; i++) {
		struct flow *f = due[i];
		lc->c.timeouts++;
		target_ctr(lc, f->target)->timeouts++;
		rule_ctr(lc, f->rule)->timeouts++;
		ep_ctr(lc, flow_endpoint_addr(lc, f))->timeouts++;
		try_next(lc, f);
	}
}

unsigned dp_lcore_poll_once(struct dp_plane *plane, unsigned index)
{
	struct dp_lcore *lc = &plane->lcores[index];
	struct rte_mbuf *pkts[BURST];
	unsigned received = 0;
	lc->t = __atomic_load_n(&plane->tables, __ATOMIC_ACQUIRE);
	lc->now = clock_now(plane);
	for (unsigned s = 0; s < plane->p.n_ports; s++) {
		uint16_t port = plane->p.ports[s];
		uint16_t n = rte_eth_rx_burst(port, (uint16_t)index, pkts, BURST);
		received += n;
		handle_burst(lc, port, pkts, n);
	}
	if (lc->t) {
		drain_handover(lc);
		expire_flows(lc);
	}
	for (unsigned s = 0; s < plane->p.n_ports; s++)
		rte_eth_tx_buffer_flush(plane->p.ports[s], (uint16_t)index, lc->tx[s]);
	lc->t = NULL;
	rte_rcu_qsbr_quiescent(plane->qsbr, index);
	return received;
}

/* ---- the plane ---- */

static int lcore_main(void *arg)
{
	struct dp_lcore *lc = arg;
	rte_rcu_qsbr_thread_online(lc->plane->qsbr, lc->index);
	while (!lc->plane->stop)
		dp_lcore_poll_once(lc->plane, lc->index);
	rte_rcu_qsbr_thread_offline(lc->plane->qsbr, lc->index);
	return 0;
}

int dp_start(struct dp_plane *plane, const unsigned *lcore_ids)
{
	plane->stop = false;
	for (unsigned i = 0; i < plane->p.n_lcores; i++) {
		plane->lcore_ids[i] = lcore_ids[i];
		int rc = rte_eal_remote_launch(lcore_main, &plane->lcores[i], lcore_ids[i]);
		if (rc) {
			plane->stop = true;
			for (unsigned k = 0; k < i; k++)
				rte_eal_wait_lcore(plane->lcore_ids[k]);
			return rc;
		}
	}
	plane->running = true;
	return 0;
}

void dp_stop(struct dp_plane *plane)
{
	if (!plane->running)
		return;
	plane->stop = true;
	for (unsigned i = 0; i < plane->p.n_lcores; i++)
		rte_eal_wait_lcore(plane->lcore_ids[i]);
	plane->running = false;
}

void dp_publish(struct dp_plane *plane, struct dp_tables *tables)
{
	struct dp_tables *old = __atomic_exchange_n(&plane->tables, tables, __ATOMIC_ACQ_REL);
	rte_rcu_qsbr_synchronize(plane->qsbr, RTE_QSBR_THRID_INVALID);
	dp_tables_free(old);
}

struct rte_ring *dp_slow_ring(struct dp_plane *plane, unsigned lcore)
{
	return lcore < plane->p.n_lcores ? plane->lcores[lcore].slow : NULL;
}

const struct dp_slow_meta *dp_slow_meta(const struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, slow_meta_offset, const struct dp_slow_meta *);
}

static bool register_slow_meta(char *err, size_t errlen)
{
	static const struct rte_mbuf_dynfield desc = {
	    .name = "vpcdns_dp_slow_meta",
	    .size = sizeof(struct dp_slow_meta),
	    .align = __alignof__(struct dp_slow_meta),
	};
	slow_meta_offset = rte_mbuf_dynfield_register(&desc);
	if (slow_meta_offset < 0)
		snprintf(err, errlen, "cannot register the slow path's mbuf field: %s",
			 rte_strerror(rte_errno));
	return slow_meta_offset >= 0;
}

static struct rte_ring *make_ring(const char *what, unsigned i, unsigned size, unsigned flags)
{
	char name[RTE_RING_NAMESIZE];
	static unsigned plane_serial;
	snprintf(name, sizeof(name), "dp_%s_%u_%u", what, i, plane_serial++);
	return rte_ring_create(name, size ? size : RING_DEFAULT, SOCKET_ID_ANY, flags);
}

static bool lcore_init(struct dp_plane *plane, unsigned i, char *err, size_t errlen)
{
	struct dp_lcore *lc = &plane->lcores[i];
	const struct dp_plane_params *p = &plane->p;
	struct flow_table_params fp = p->flow;
	enum flow_params_error fe;
	lc->plane = plane;
	lc->index = i;
	if (!flow_ports_of_lcore(p->flow.port_lo, p->flow.port_hi, p->n_lcores, i, &fp.port_lo,
				 &fp.port_hi)) {
		snprintf(err, errlen, "lcore %u gets no source port", i);
		return false;
	}
	/* one ChaCha20 key per lcore, so no two lcores draw the same (port, ID) stream */
	fp.seed[FLOW_SEED_BYTES - 1] ^= (uint8_t)i;
	fp.seed[FLOW_SEED_BYTES - 2] ^= (uint8_t)(i >> 8);
	lc->flows = flow_table_new(&fp, &fe);
	if (!lc->flows) {
		snprintf(err, errlen, "lcore %u flow table: %s", i, flow_params_error_str(fe));
		return false;
	}
	lc->slow = make_ring("slow", i, p->slow_ring_size, RING_F_SP_ENQ | RING_F_SC_DEQ);
	lc->handover = make_ring("handover", i, p->handover_ring_size, RING_F_SC_DEQ);
	lc->exception = io_exception_ring(i);
	lc->vpc_c = rte_zmalloc(NULL, sizeof(*lc->vpc_c) * (p->max_vpcs + 1), 0);
	lc->rule_c = rte_zmalloc(NULL, sizeof(*lc->rule_c) * (p->max_rules + 1), 0);
	lc->ep_c = rte_zmalloc(NULL, sizeof(*lc->ep_c) * (p->max_endpoint_addrs + 1), 0);
	lc->target_c = rte_zmalloc(NULL, sizeof(*lc->target_c) * (p->flow.n_targets + 1), 0);
	if (!lc->slow || !lc->handover || !lc->vpc_c || !lc->rule_c || !lc->ep_c || !lc->target_c) {
		snprintf(err, errlen, "lcore %u: out of memory for rings or counters", i);
		return false;
	}
	for (unsigned s = 0; s < p->n_ports; s++) {
		lc->tx[s] = rte_zmalloc(NULL, RTE_ETH_TX_BUFFER_SIZE(BURST), 0);
		if (!lc->tx[s] || rte_eth_tx_buffer_init(lc->tx[s], BURST) ||
		    rte_eth_tx_buffer_set_err_callback(lc->tx[s], rte_eth_tx_buffer_count_callback,
						       &lc->c.drops[DP_DROP_TX_FULL])) {
			snprintf(err, errlen, "lcore %u: TX buffer", i);
			return false;
		}
	}
	if (rte_rcu_qsbr_thread_register(plane->qsbr, i)) {
		snprintf(err, errlen, "lcore %u: RCU registration", i);
		return false;
	}
	return true;
}

static bool plane_init(struct dp_plane *plane, char *err, size_t errlen)
{
	const struct dp_plane_params *p = &plane->p;
	if (!p->n_lcores || p->n_lcores > DP_LCORES_MAX || !p->n_ports ||
	    p->n_ports > DP_PORTS_MAX || !p->pool || !p->neigh) {
		snprintf(err, errlen,
			 "need 1..%d lcores, 1..%d ports, a mempool and io's neighbours",
			 DP_LCORES_MAX, DP_PORTS_MAX);
		return false;
	}
	if (slow_meta_offset < 0 && !register_slow_meta(err, errlen))
		return false;
	memset(plane->port_slot, PORT_NONE, sizeof(plane->port_slot));
	for (unsigned s = 0; s < p->n_ports; s++) {
		if (!rte_eth_dev_is_valid_port(p->ports[s]) ||
		    rte_eth_macaddr_get(p->ports[s], &plane->port_mac[p->ports[s]])) {
			snprintf(err, errlen, "port %u is not a valid ethdev port", p->ports[s]);
			return false;
		}
		plane->port_slot[p->ports[s]] = (uint8_t)s;
	}
	plane->ns_per_cycle = 1e9 / (double)rte_get_tsc_hz();
	size_t qsz = rte_rcu_qsbr_get_memsize(p->n_lcores);
	plane->qsbr = rte_zmalloc(NULL, qsz, RTE_CACHE_LINE_SIZE);
	plane->lcores =
	    rte_zmalloc(NULL, sizeof(*plane->lcores) * p->n_lcores, RTE_CACHE_LINE_SIZE);
	if (!plane->qsbr || !plane->lcores || rte_rcu_qsbr_init(plane->qsbr, p->n_lcores)) {
		snprintf(err, errlen, "out of memory for the lcores");
		return false;
	}
	for (unsigned i = 0; i < p->n_lcores; i++)
		if (!lcore_init(plane, i, err, errlen))
			return false;
	return true;
}

struct dp_plane *dp_plane_new(const struct dp_plane_params *p, char *err, size_t errlen)
{
	struct dp_plane *plane = calloc(1, sizeof(*plane));
	if (!plane) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	plane->p = *p;
	if (!plane_init(plane, err, errlen)) {
		dp_plane_free(plane);
		return NULL;
	}
	return plane;
}

static void lcore_free(struct dp_lcore *lc)
{
	if (lc->flows) {
		for (struct flow *f = flow_next_open(lc->flows, NULL); f;
		     f = flow_next_open(lc->flows, f))
			rte_pktmbuf_free((struct rte_mbuf *)f->pkt);
		flow_table_free(lc->flows);
	}
	rte_ring_free(lc->slow);
	rte_ring_free(lc->handover);
	for (unsigned s = 0; s < DP_PORTS_MAX; s++)
		rte_free(lc->tx[s]);
	rte_free(lc->vpc_c);
	rte_free(lc->rule_c);
	rte_free(lc->ep_c);
	rte_free(lc->target_c);
}

void dp_plane_free(struct dp_plane *plane)
{
	if (!plane)
		return;
	dp_stop(plane);
	if (plane->lcores)
		for (unsigned i = 0; i < plane->p.n_lcores; i++)
			lcore_free(&plane->lcores[i]);
	dp_tables_free(plane->tables);
	rte_free(plane->lcores);
	rte_free(plane->qsbr);
	free(plane);
}

/* ---- counters ---- */

void dp_lcore_counters_read(const struct dp_plane *plane, unsigned lcore,
			    struct dp_lcore_counters *out)
{
	if (lcore < plane->p.n_lcores)
		*out = plane->lcores[lcore].c;
	else
		memset(out, 0, sizeof(*out));
}

bool dp_entity_counters_read(const struct dp_plane *plane, enum dp_entity kind, uint32_t index,
			     struct dp_entity_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < plane->p.n_lcores; i++) {
		const struct dp_lcore *lc = &plane->lcores[i];
		const struct dp_entity_counters *a;
		uint32_t n;
		switch (kind) {
		case DP_ENTITY_VPC:
			a = lc->vpc_c, n = plane->p.max_vpcs;
			break;
		case DP_ENTITY_RULE:
			a = lc->rule_c, n = plane->p.max_rules;
			break;
		case DP_ENTITY_ENDPOINT_ADDR:
			a = lc->ep_c, n = plane->p.max_endpoint_addrs;
			break;
		case DP_ENTITY_TARGET:
			a = lc->target_c, n = plane->p.flow.n_targets;
			break;
		default:
			return false;
		}
		if (index >= n)
			return false;
		out->queries += a[index].queries;
		out->forwarded += a[index].forwarded;
		out->answered += a[index].answered;
		out->timeouts += a[index].timeouts;
		out->retries += a[index].retries;
		out->truncations += a[index].truncations;
		out->drops += a[index].drops;
	}
	return true;
}

bool dp_target_rtt(const struct dp_plane *plane, uint32_t target, uint64_t *srtt_ns,
		   uint64_t *p90_ns)
{
	static __thread uint32_t hist[FLOW_HIST_BUCKETS];
	uint64_t best_samples = 0;
	memset(hist, 0, sizeof(hist));
	*srtt_ns = 0;
	for (unsigned i = 0; i < plane->p.n_lcores; i++) {
		struct flow_target_stats s;
		if (!flow_target_stats(plane->lcores[i].flows, target, &s))
			return false;
		for (unsigned b = 0; b < FLOW_HIST_BUCKETS; b++)
			hist[b] += s.hist[b];
		/* the lcore that sampled it most has the estimate worth quoting */
		if (s.rtt_samples > best_samples) {
			best_samples = s.rtt_samples;
			*srtt_ns = s.srtt_ns;
		}
	}
	*p90_ns = flow_hist_quantile(hist, 0.9);
	return true;
}

static void print_counters(FILE *out, const char *who, const struct dp_lcore_counters *c)
{
	fprintf(out,
		"%s: rx %" PRIu64 " tx %" PRIu64 " queries %" PRIu64 " forwarded %" PRIu64
		" responses %" PRIu64 " answered %" PRIu64 " servfails %" PRIu64
		" timeouts %" PRIu64 " retries %" PRIu64 " truncations %" PRIu64 " to_slow %" PRIu64
		" exceptions %" PRIu64 " handed_over %" PRIu64 "\n",
		who, c->rx, c->tx, c->queries, c->forwarded, c->responses, c->answered,
		c->servfails, c->timeouts, c->retries, c->truncations, c->to_slow, c->exceptions,
		c->handed_over);
	for (unsigned e = 0; e < WIRE_E__COUNT; e++)
		if (c->rejects[e])
			fprintf(out, "%s: reject %s %" PRIu64 "\n", who,
				wire_err_name((enum wire_err)e), c->rejects[e]);
	for (unsigned d = 0; d < DP__DROP_COUNT; d++)
		if (c->drops[d])
			fprintf(out, "%s: drop %s %" PRIu64 "\n", who, dp_drop_name(d),
				c->drops[d]);
}

void dp_counters_print(const struct dp_plane *plane, FILE *out)
{
	struct dp_lcore_counters sum = {0};
	for (unsigned i = 0; i < plane->p.n_lcores; i++) {
		const struct dp_lcore_counters *c = &plane->lcores[i].c;
		char who[32];
		snprintf(who, sizeof(who), "lcore %u", i);
		print_counters(out, who, c);
		const uint64_t *src = (const uint64_t *)c;
		uint64_t *dst = (uint64_t *)&sum;
		for (size_t k = 0; k < sizeof(sum) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
	print_counters(out, "all", &sum);
}
