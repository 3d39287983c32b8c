/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/lcore: the data lcores' poll loop: a packet's way from RX to TX (or to a ring, or a counted
 * drop), flows' tries, retries and SERVFAILs, and the counting as it goes. Every packet is
 * rewritten in the mbuf it came in (headers rebuilt in front of the DNS message, which is edited
 * in place); the only copies are retries and SERVFAILs, made from the query kept in the flow.
 */
/* rte_ip_frag_table_del_expired_entries is still experimental in DPDK 22.11; without it an
 * incomplete datagram holds its mbufs until its bucket is touched again */
#define ALLOW_EXPERIMENTAL_API
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf_dyn.h>
#include <rte_prefetch.h>
#include <rte_rcu_qsbr.h>

#include "dp/dp_internal.h"
#include "dp/io/io.h"

#define EXPIRE_BURST 32

/* What the rebuilt L2-L4 headers of an outgoing packet say. */
struct out_hdr {
	uint16_t port;
	uint16_t vlan_tci; /* 0: untagged */
	struct rte_ether_addr src_mac, dst_mac;
	uint8_t family;
	uint8_t src[16], dst[16];
	uint16_t sport, dport;
};

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

/* Room for the DNS message at dns_off to grow into: to the end of the mbuf's buffer. */
static inline size_t dns_room(const struct rte_mbuf *m, uint16_t dns_off)
{
	size_t room = (size_t)m->buf_len - m->data_off - dns_off;
	return room > UINT16_MAX ? UINT16_MAX : room;
}

/* The largest DNS answer the client takes: its EDNS size (512 without), and no more than its link
 * carries in one IP packet (we send with DF and do not fragment), as a resolver's max-udp-size. */
static size_t answer_limit(const struct dp_lcore *lc, uint8_t family, uint16_t port,
			   uint16_t udp_size)
{
	size_t ip_udp = (family == 4 ? WIRE_IPV4_HLEN : WIRE_IPV6_HLEN) + WIRE_UDP_HLEN;
	size_t link = lc->plane->port_mtu[port] - ip_udp;
	return RTE_MIN((size_t)udp_size, link);
}

static size_t client_limit(const struct dp_lcore *lc, const struct flow *f)
{
	return answer_limit(lc, f->client.family, f->client.ingress_port, f->client.edns_udp_size);
}

static inline uint64_t clock_now(const struct dp_plane *plane)
{
	if (plane->p.clock_ns)
		return plane->p.clock_ns(plane->p.clock_ctx);
	return (uint64_t)((double)rte_get_tsc_cycles() * plane->ns_per_cycle);
}

/* ---- TX ---- */

/*
 * The IPv4 header and UDP checksums of a frame build_headers wrote: by the port when io says it
 * offloads them (the mbuf's TX flags, and the pseudo-header sum in the UDP field as DPDK asks),
 * else in software. RX flags are dropped; an indirect or external buffer's flags stay.
 */
static void set_cksums(struct rte_mbuf *m, uint8_t offload, bool v4, uint16_t l3, uint8_t *ip,
		       uint8_t *udp, uint16_t udp_len)
{
	uint64_t flags = v4 ? RTE_MBUF_F_TX_IPV4 : RTE_MBUF_F_TX_IPV6;
	if (v4 && (offload & DP_TX_CKSUM_IPV4))
		flags |= RTE_MBUF_F_TX_IP_CKSUM;
	else if (v4)
		wire_put16(ip + 10, wire_ipv4_hdr_cksum(ip));
	if (offload & DP_TX_CKSUM_UDP)
		flags |= RTE_MBUF_F_TX_UDP_CKSUM;
	m->ol_flags = (m->ol_flags & (RTE_MBUF_F_INDIRECT | RTE_MBUF_F_EXTERNAL)) | flags;
	m->l2_len = l3;
	m->l3_len = v4 ? WIRE_IPV4_HLEN : WIRE_IPV6_HLEN;
	if (!(offload & DP_TX_CKSUM_UDP)) {
		wire_put16(udp + 6, wire_udp_cksum_store(wire_udp_cksum(ip, udp, udp_len)));
		return;
	}
	uint16_t phdr = v4 ? rte_ipv4_phdr_cksum((const struct rte_ipv4_hdr *)ip, flags)
			   : rte_ipv6_phdr_cksum((const struct rte_ipv6_hdr *)ip, flags);
	memcpy(udp + 6, &phdr, 2); /* DPDK's sum is already in network order */
}

/*
 * Replaces whatever precedes the DNS message with fresh Ethernet (+ 802.1Q), IP and UDP headers:
 * one code path whatever the VLAN or the IP family on either side. Single-segment mbufs only
 * (checked on receive).
 */
static bool build_headers(const struct dp_plane *plane, struct rte_mbuf *m, uint16_t dns_off,
			  uint16_t dns_len, const struct out_hdr *h)
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
		wire_put16(f + 12, RTE_ETHER_TYPE_VLAN);
		wire_put16(f + 14, h->vlan_tci);
	}
	wire_put16(f + l3 - 2, v4 ? RTE_ETHER_TYPE_IPV4 : RTE_ETHER_TYPE_IPV6);
	uint8_t *ip = f + l3, *udp = f + l4;
	if (v4) {
		memset(ip, 0, WIRE_IPV4_HLEN);
		ip[0] = 0x45;
		wire_put16(ip + 2, (uint16_t)(WIRE_IPV4_HLEN + udp_len));
		wire_put16(ip + 6, 0x4000); /* DF: a DNS datagram is never fragmented by us */
		ip[8] = 64;
		ip[9] = IPPROTO_UDP;
		memcpy(ip + 12, h->src, 4);
		memcpy(ip + 16, h->dst, 4);
	} else {
		memset(ip, 0, 4);
		ip[0] = 0x60;
		wire_put16(ip + 4, udp_len);
		ip[6] = IPPROTO_UDP;
		ip[7] = 64;
		memcpy(ip + 8, h->src, 16);
		memcpy(ip + 24, h->dst, 16);
	}
	wire_put16(udp, h->sport);
	wire_put16(udp + 2, h->dport);
	wire_put16(udp + 4, udp_len);
	wire_put16(udp + 6, 0);
	set_cksums(m, plane->port_offload[h->port], v4, l3, ip, udp, udp_len);
	return true;
}

static void transmit(struct dp_lcore *lc, uint16_t port, struct rte_mbuf *m)
{
	uint8_t slot = lc->plane->port_slot[port];
	if (slot == DP_PORT_NONE) {
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
	if (!build_headers(lc->plane, m, dns_off, dns_len, &h)) {
		drop(lc, m, DP_DROP_NO_ROOM);
		return;
	}
	lc->c.answered++;
	vpc_ctr(lc, f->vpc)->answered++;
	transmit(lc, cl->ingress_port, m);
}

/* Sends the DNS message now at pkt's payload (len octets) back to the query's sender. */
static void reply_to_sender(struct dp_lcore *lc, uint16_t port, struct rte_mbuf *m,
			    const struct wire_pkt *pkt, size_t len)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
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
	if (!build_headers(lc->plane, m, pkt->payload_off, (uint16_t)len, &h)) {
		drop(lc, m, DP_DROP_NO_ROOM);
		return;
	}
	lc->c.answered++;
	transmit(lc, port, m);
}

/* Answers a query with rcode straight back to its sender (errors, REFUSED, SERVFAIL). */
static void answer_local(struct dp_lcore *lc, uint16_t port, struct rte_mbuf *m,
			 const struct wire_pkt *pkt, struct wire_dns_msg *msg, int rcode)
{
	uint8_t *dns = rte_pktmbuf_mtod(m, uint8_t *) + pkt->payload_off;
	size_t len = pkt->payload_len;
	if (wire_dns_make_answer(dns, &len, dns_room(m, pkt->payload_off), msg, rcode,
				 lc->t->tunables.edns_udp_size) != WIRE_OK) {
		drop(lc, m, DP_DROP_NO_ROOM);
		return;
	}
	reply_to_sender(lc, port, m, pkt, len);
}

/* ---- the cache's keys ---- */

/* The view: the VPC in the tables of that generation (a publish starts every VPC afresh, and may
 * give its index to another tenant). */
static inline uint64_t cache_view(uint32_t generation, uint32_t vpc)
{
	return (uint64_t)generation << 32 | vpc;
}

static struct cache_key query_key(const struct dp_lcore *lc, uint32_t vpc, const uint8_t *dns,
				  const struct wire_dns_msg *msg)
{
	return (struct cache_key){.view = cache_view(lc->t->generation, vpc),
				  .qname = dns + WIRE_DNS_HLEN,
				  .qname_len = (uint8_t)msg->qname_len,
				  .qtype = msg->qtype,
				  .qclass = msg->qclass,
				  .qname_hash = msg->qname_hash};
}

/* The key of a flow's question (as sent: wire name, type, class), in the view of the tables it was
 * opened under: an answer to a query from older tables is kept where no newer query looks. */
static struct cache_key flow_key(const struct flow *f)
{
	uint8_t name_len = (uint8_t)(f->question_len - 4);
	const uint8_t *tc = f->question + name_len;
	return (struct cache_key){.view = cache_view(f->generation, f->vpc),
				  .qname = f->question,
				  .qname_len = name_len,
				  .qtype = wire_get16(tc),
				  .qclass = wire_get16(tc + 2),
				  .qname_hash = wire_name_hash(f->question, name_len)};
}

/* ---- flows: tries, retries, the end ---- */

static void close_flow(struct dp_lcore *lc, struct flow *f)
{
	rte_pktmbuf_free((struct rte_mbuf *)f->pkt);
	f->pkt = NULL;
	flow_close(lc->flows, f);
}

/*
 * A copy of m in the plane's pool, for an mbuf that outlives the burst (a flow's kept query, one on
 * its way to the control core) but came from a driver's own buffers: net_af_xdp receives into its
 * UMEM, a few thousand frames, and stops receiving for good once they are all held (its fill ring
 * is only refilled as frames come back). NULL without mbufs.
 */
static struct rte_mbuf *own_copy(struct dp_lcore *lc, const struct rte_mbuf *m)
{
	return rte_pktmbuf_copy(m, lc->plane->p.pool, 0, UINT32_MAX);
}

/* m, or its copy in the plane's pool when it came from a driver's own buffers (see own_copy); m is
 * taken either way. NULL (counted) without mbufs. */
static struct rte_mbuf *to_hold(struct dp_lcore *lc, struct rte_mbuf *m)
{
	if (m->pool == lc->plane->p.pool)
		return m;
	struct rte_mbuf *c = own_copy(lc, m);
	if (!c)
		drop(lc, m, DP_DROP_NO_MBUF);
	else
		rte_pktmbuf_free(m);
	return c;
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
	if (!build_headers(lc->plane, m, dns_off, dns_len, &h)) {
		drop(lc, m, DP_DROP_NO_ROOM);
		if (first)
			flow_close(lc->flows, f); /* nothing kept to retry from */
		return;
	}
	bool kept_itself = false;
	if (first) {
		kept_itself = m->pool == lc->plane->p.pool;
		f->pkt = kept_itself ? m : own_copy(lc, m);
		if (!f->pkt) {
			drop(lc, m, DP_DROP_NO_MBUF);
			flow_close(lc->flows, f);
			return;
		}
	}
	if (!io_neigh_lookup(lc->plane->p.neigh, target->nexthop, &h.dst_mac)) {
		/* not sent: the flow's timer makes the next try, by then perhaps resolved */
		io_neigh_want(lc->plane->p.neigh, target->nexthop);
		lc->c.drops[DP_DROP_NO_NEIGH]++;
		if (!kept_itself)
			rte_pktmbuf_free(m);
		return;
	}
	memcpy(rte_pktmbuf_mtod(m, uint8_t *), &h.dst_mac, 6);
	if (kept_itself)
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

static void answer_from_target(struct dp_lcore *lc, struct flow *f, struct rte_mbuf *m,
			       const struct wire_pkt *pkt, struct wire_dns_msg *msg, bool cut);

/*
 * A stored answer (a cache hit's or a static one) written over the query at off in m, with ID id,
 * and its view in msg: the header and question only, as the writers need, since the answer's
 * records were walked when it was stored and it holds no OPT. query: the parse of the query it was
 * written over, whose question cache_answer_write left in place (so only the header is read
 * anew), or NULL to parse the question again. Its length, or 0 when it does not fit.
 */
static size_t write_stored(const struct cache_answer *a, uint16_t id, struct rte_mbuf *m,
			   uint16_t off, const struct wire_dns_msg *query, struct wire_dns_msg *msg)
{
	uint8_t *dns = rte_pktmbuf_mtod(m, uint8_t *) + off;
	size_t len = cache_answer_write(a, id, dns, dns_room(m, off));
	if (!len)
		return 0;
	if (!query) {
		if (wire_dns_parse_response_head(dns, len, msg) != WIRE_OK)
			return 0;
	} else {
		*msg = *query;
		msg->id = id;
		msg->flags = wire_get16(dns + 2);
		msg->qdcount = wire_get16(dns + 4);
		msg->ancount = wire_get16(dns + 6);
		msg->nscount = wire_get16(dns + 8);
		msg->arcount = wire_get16(dns + 10);
		msg->has_opt = false;
		msg->opt_index = 0;
		memset(&msg->opt, 0, sizeof(msg->opt));
	}
	msg->msg_end = (uint16_t)len;
	return len;
}

/*
 * Every try failed: the cache's answer if it has one, expired within the stale window (RFC 8767:
 * TTL 30) or fresh from a flow that fared better, written over the kept query's copy m and sent
 * like a target's. False, with m untouched, when it has none.
 */
static bool answer_stale(struct dp_lcore *lc, struct flow *f, struct rte_mbuf *m,
			 struct wire_pkt *pkt)
{
	struct cache_key k = flow_key(f);
	struct cache_hit hit;
	if (!lc->cache || cache_lookup(lc->cache, &k, lc->now, true, &hit) == CACHE_MISS ||
	    cache_hit_len(lc->cache, &hit) > dns_room(m, pkt->payload_off))
		return false;
	struct wire_dns_msg msg;
	struct cache_answer stored;
	cache_hit_answer(lc->cache, &hit, lc->now, &stored);
	size_t len = write_stored(&stored, f->client.id, m, pkt->payload_off, NULL, &msg);
	if (!len) {
		drop(lc, m, DP_DROP_NO_ROOM);
		close_flow(lc, f);
		return true;
	}
	if (hit.state == CACHE_STALE) {
		lc->c.stale++;
		vpc_ctr(lc, f->vpc)->stale++;
	}
	pkt->payload_len = (uint16_t)len;
	answer_from_target(lc, f, m, pkt, &msg, false);
	return true;
}

/* The last try failed: a stale answer, else SERVFAIL in the client's EDNS view, from the kept
 * query. A refresh ends quietly. */
static void servfail_flow(struct dp_lcore *lc, struct flow *f)
{
	struct wire_pkt pkt;
	struct wire_dns_msg msg;
	if (f->client.refresh) {
		close_flow(lc, f); /* the entry stays as it is, stale when it ends */
		return;
	}
	struct rte_mbuf *m = copy_kept(lc, f, &pkt);
	if (m && answer_stale(lc, f, m, &pkt))
		return;
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

/*
 * EDNS is per hop: whatever OPT the message carries (with the other side's options: cookies,
 * client subnet, padding; and its DO bit, which the resolver ignores) is replaced by one of ours
 * with only the UDP size (and, toward the client, its own DO echoed).
 */
static enum wire_err fresh_opt(uint8_t *dns, size_t *len, size_t cap, struct wire_dns_msg *msg,
			       uint16_t udp_size, bool do_bit)
{
	if (msg->has_opt) {
		enum wire_err err = wire_dns_strip_opt(dns, len, msg);
		if (err != WIRE_OK)
			return err;
	}
	return wire_dns_append_opt(dns, len, cap, msg, udp_size, do_bit);
}

/* A query that cannot go upstream: SERVFAIL to its client, or nothing for a refresh (the client
 * already had its answer from the cache). */
static void fail_query(struct dp_lcore *lc, uint16_t port, struct rte_mbuf *m,
		       const struct wire_pkt *pkt, struct wire_dns_msg *msg, bool refresh)
{
	if (refresh)
		rte_pktmbuf_free(m);
	else
		answer_local(lc, port, m, pkt, msg, WIRE_RCODE_SERVFAIL);
}

/* FORWARD: open a flow, set our EDNS size and ID, send the first try. refresh: no client waits
 * (a cache entry near its end is asked for again). */
static void forward(struct dp_lcore *lc, uint16_t port, struct rte_mbuf *m,
		    const struct wire_pkt *pkt, struct wire_dns_msg *msg, uint32_t vpc,
		    uint32_t rule_i, bool refresh)
{
	const struct dp_tables *t = lc->t;
	const struct dp_rule *rule = &t->rules[rule_i];
	const struct dp_endpoint *ep = &t->endpoints[rule->endpoint];
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint8_t *dns = frame + pkt->payload_off;
	struct flow *f;

	if (flow_open(lc->flows, lc->now, &f) != FLOW_OPEN_OK) {
		lc->c.drops[DP_DROP_FLOW_FULL]++;
		fail_query(lc, port, m, pkt, msg, refresh);
		return;
	}
	fill_client(f, port, frame, pkt, msg);
	f->client.refresh = refresh;
	f->vpc = vpc;
	f->rule = rule_i;
	f->generation = t->generation;
	f->pkt = NULL;
	struct flow_choice ch;
	if (flow_pick_first(lc->flows, f, lc->now, rule->targets, rule->n_targets, ep->n_addrs,
			    &ch) != FLOW_TRY_SENT) {
		flow_close(lc->flows, f);
		lc->c.drops[DP_DROP_BAD_RULE]++;
		fail_query(lc, port, m, pkt, msg, refresh);
		return;
	}
	/* the query is the client's until here: the SERVFAIL above answers it in its own EDNS */
	size_t len = pkt->payload_len;
	if (fresh_opt(dns, &len, dns_room(m, pkt->payload_off), msg, ep->edns_udp_size, false) !=
	    WIRE_OK) {
		flow_close(lc->flows, f);
		drop(lc, m, DP_DROP_NO_ROOM);
		return;
	}
	wire_dns_set_id(dns, f->id);
	lc->c.forwarded++;
	lc->c.refreshes += refresh;
	vpc_ctr(lc, vpc)->forwarded++;
	rule_ctr(lc, rule_i)->forwarded++;
	send_try(lc, f, &ch, m, pkt->payload_off, (uint16_t)len, true);
}

static void to_slow(struct dp_lcore *lc, struct rte_mbuf *m, const struct wire_pkt *pkt,
		    uint32_t vpc, const struct match_result *res)
{
	if (!(m = to_hold(lc, m))) /* the control core may hold it for seconds (recursion) */
		return;
	struct dp_slow_meta *meta =
	    RTE_MBUF_DYNFIELD(m, dp_slow_meta_offset, struct dp_slow_meta *);
	*meta = (struct dp_slow_meta){
	    .vpc = vpc,
	    .match_id = res->id,
	    .system_id = res->system_id,
	    .dns_off = pkt->payload_off,
	    .kind = (uint8_t)res->kind,
	    .labels = res->labels,
	    .reason = DP_SLOW_MATCH,
	};
	if (rte_ring_sp_enqueue(lc->slow, m) != 0) {
		drop(lc, m, DP_DROP_SLOW_FULL);
		return;
	}
	lc->c.to_slow++;
}

/* The target's answer needs the slow path (reason: TC=1, for TCP to that target; a dangling
 * CNAME, to chase): the client's query, rebuilt from the kept one, goes there; the flow ends. */
static void hand_to_slow(struct dp_lcore *lc, struct flow *f, enum dp_slow_reason reason)
{
	const struct flow_client *cl = &f->client;
	struct wire_pkt pkt;
	struct wire_dns_msg msg;
	if (cl->refresh) {
		close_flow(lc, f); /* such answers are not cached: nothing to refresh */
		return;
	}
	struct rte_mbuf *m = copy_kept(lc, f, &pkt);
	if (!m) {
		close_flow(lc, f);
		return;
	}
	uint8_t *dns = rte_pktmbuf_mtod(m, uint8_t *) + pkt.payload_off;
	size_t len = pkt.payload_len;
	bool ok = wire_dns_parse_query(dns, len, &msg) == WIRE_OK &&
		  (cl->edns_present ? wire_dns_set_opt_udp_size(dns, &msg, cl->edns_udp_size)
				    : wire_dns_strip_opt(dns, &len, &msg)) == WIRE_OK;
	struct out_hdr h = {.port = cl->ingress_port,
			    .vlan_tci = cl->vlan,
			    .dst_mac = lc->plane->port_mac[cl->ingress_port],
			    .family = cl->family,
			    .sport = cl->port,
			    .dport = DP_DNS_PORT};
	memcpy(&h.src_mac, cl->mac, 6);
	memcpy(h.src, cl->addr, 16);
	memcpy(h.dst, cl->resolver_addr, 16);
	wire_dns_set_id(dns, cl->id);
	if (!ok || !build_headers(lc->plane, m, pkt.payload_off, (uint16_t)len, &h)) {
		drop(lc, m, DP_DROP_NO_ROOM);
		close_flow(lc, f);
		return;
	}
	struct dp_slow_meta *meta =
	    RTE_MBUF_DYNFIELD(m, dp_slow_meta_offset, struct dp_slow_meta *);
	*meta = (struct dp_slow_meta){
	    .vpc = f->vpc,
	    .match_id = f->rule,
	    .system_id = MATCH_ID_NONE,
	    .target = f->target,
	    .dns_off = (uint16_t)(m->data_len - len),
	    .kind = MATCH_FORWARD,
	    .reason = (uint8_t)reason,
	};
	close_flow(lc, f);
	if (rte_ring_sp_enqueue(lc->slow, m) != 0) {
		drop(lc, m, DP_DROP_SLOW_FULL);
		return;
	}
	if (reason == DP_SLOW_TCP_FALLBACK)
		lc->c.tcp_fallbacks++;
	else
		lc->c.cname_chases++;
}

/*
 * True for an answer that ends in a CNAME (or DNAME) the target did not resolve: NOERROR, asking
 * for neither CNAME nor ANY, with an alias in the answer section and no record of the asked type.
 * The chain's target is the slow path's to resolve under its own rule (BEHAVIOUR.md "CNAMEs").
 */
static bool dangling_alias(const struct wire_dns_msg *msg, const struct wire_rr *rrs, size_t n)
{
	if (WIRE_RCODE(msg->flags) != WIRE_RCODE_NOERROR || msg->qtype == 5 || msg->qtype == 255)
		return false;
	bool alias = false;
	for (size_t i = 0; i < n && rrs[i].section == WIRE_SEC_ANSWER; i++) {
		if (rrs[i].type == msg->qtype)
			return false;
		alias |= rrs[i].type == 5 || rrs[i].type == 39;
	}
	return alias;
}

/* A client query admitted (port, rate, CIDRs, parse), waiting for its burst's match. */
struct pending_query {
	struct rte_mbuf *m;
	uint16_t port;
	bool refresh; /* a copy of an answered query, to refresh its cache entry */
	uint32_t vpc;
	struct wire_pkt pkt;
	struct wire_dns_msg msg;
};

/* One packet from pkt's source to VPC vpc's resolver against the source's rate: true when over it
 * (m dropped and counted, for the lcore and the VPC). */
static bool rate_limited(struct dp_lcore *lc, uint32_t vpc, const struct wire_pkt *pkt,
			 struct rte_mbuf *m)
{
	enum dp_ratelimit_verdict rate =
	    dp_ratelimit_check(lc->ratelimit, lc->t->tunables.rate_limit_pps, lc->plane->p.n_lcores,
			       vpc, pkt->ip_version, pkt->src_addr, lc->now);
	lc->c.rate_forgotten += rate == DP_RATE_PASS_FORGOT;
	if (rate != DP_RATE_LIMITED)
		return false;
	vpc_ctr(lc, vpc)->drops++;
	drop(lc, m, DP_DROP_RATE_LIMITED);
	return true;
}

/*
 * Everything a query to a resolver address goes through before its name is matched: the DNS port,
 * the source's rate, the VPC's CIDRs, the parse. True when q is ready for the match; otherwise the
 * query was answered (REFUSED, FORMERR...) or dropped, and counted.
 */
static bool admit_query(struct dp_lcore *lc, struct pending_query *q)
{
	const struct dp_vpc *vpc = &lc->t->vpcs[q->vpc];
	const struct wire_pkt *pkt = &q->pkt;
	struct dp_entity_counters *vc = vpc_ctr(lc, q->vpc);
	if (pkt->dst_port != DP_DNS_PORT) {
		vc->drops++;
		drop(lc, q->m, DP_DROP_NOT_DNS_PORT);
		return false;
	}
	if (rate_limited(lc, q->vpc, pkt, q->m))
		return false;
	lc->c.queries++;
	vc->queries++;
	const uint8_t *dns = rte_pktmbuf_mtod(q->m, uint8_t *) + pkt->payload_off;
	enum wire_err err = wire_dns_parse_query(dns, pkt->payload_len, &q->msg);
	if (!dp_vpc_has_client(vpc, pkt->ip_version, pkt->src_addr)) {
		lc->c.outsiders++;
		if (vpc->outsiders == DP_OUTSIDER_DROP || err != WIRE_OK) {
			vc->drops++;
			drop(lc, q->m, DP_DROP_OUTSIDER);
		} else {
			answer_local(lc, q->port, q->m, pkt, &q->msg, WIRE_RCODE_REFUSED);
		}
		return false;
	}
	if (err != WIRE_OK) {
		int rcode = wire_err_rcode(err);
		lc->c.rejects[err]++;
		if (rcode < 0) {
			vc->drops++;
			drop(lc, q->m, DP_DROP_WIRE);
		} else {
			answer_local(lc, q->port, q->m, pkt, &q->msg, rcode);
		}
		return false;
	}
	return true;
}

static bool answer_static(struct dp_lcore *lc, struct pending_query *q, uint32_t zone);

/* What the rule that governs a query's name says: forward it, answer it from its zone's static
 * answers, or hand it to the control core. */
static void follow_match(struct dp_lcore *lc, struct pending_query *q,
			 const struct match_result *res)
{
	if (q->refresh && res->kind != MATCH_FORWARD) {
		rte_pktmbuf_free(q->m); /* only forwarded answers are cached, so refreshed */
		return;
	}
	if (res->kind == MATCH_ZONE && answer_static(lc, q, res->id))
		return;
	if (res->kind != MATCH_FORWARD) {
		to_slow(lc, q->m, &q->pkt, q->vpc, res);
		return;
	}
	if (res->id >= lc->t->n_rules) {
		lc->c.drops[DP_DROP_BAD_RULE]++;
		fail_query(lc, q->port, q->m, &q->pkt, &q->msg, q->refresh);
		return;
	}
	forward(lc, q->port, q->m, &q->pkt, &q->msg, q->vpc, res->id, q->refresh);
}

/*
 * A stored answer (a fresh cache hit's, or a static one) written over q's query in place: the
 * stored message with the client's ID and question, the resolver's flags with its RD and CD, its
 * EDNS view, cut to what it takes. Its length, or 0 when it did not fit (m dropped and counted).
 */
static size_t write_answer(struct dp_lcore *lc, struct pending_query *q,
			   const struct cache_answer *a)
{
	struct rte_mbuf *m = q->m;
	uint16_t off = q->pkt.payload_off;
	uint8_t *dns = rte_pktmbuf_mtod(m, uint8_t *) + off;
	uint16_t query_flags = wire_get16(dns + 2), udp_limit = wire_dns_udp_limit(&q->msg);
	bool edns = q->msg.has_opt, do_bit = edns && q->msg.opt.do_bit;
	struct wire_dns_msg msg;
	size_t len = write_stored(a, q->msg.id, m, off, &q->msg, &msg);
	enum wire_err err = len ? WIRE_OK : WIRE_E_NO_ROOM;
	wire_dns_set_resolver_flags(dns, query_flags);
	if (err == WIRE_OK && edns)
		err = wire_dns_append_opt(dns, &len, dns_room(m, off), &msg,
					  lc->t->tunables.edns_udp_size, do_bit);
	if (err == WIRE_OK && len > answer_limit(lc, q->pkt.ip_version, q->port, udp_limit)) {
		err = wire_dns_truncate(dns, &len, &msg, edns);
		lc->c.truncations++;
		vpc_ctr(lc, q->vpc)->truncations++;
	}
	if (err != WIRE_OK) {
		drop(lc, m, DP_DROP_NO_ROOM);
		return 0;
	}
	return len;
}

/* A fresh cached answer for q, sent in its query's place. */
static void answer_cached(struct dp_lcore *lc, struct pending_query *q, const struct cache_hit *hit)
{
	struct cache_answer a;
	cache_hit_answer(lc->cache, hit, lc->now, &a);
	size_t len = write_answer(lc, q, &a);
	if (!len)
		return;
	lc->c.cache_hits++;
	vpc_ctr(lc, q->vpc)->cache_hits++;
	vpc_ctr(lc, q->vpc)->answered++;
	reply_to_sender(lc, q->port, q->m, &q->pkt, len);
}

/*
 * A query its VPC's match gave to zone: answered here when the tables hold its static answer from
 * that zone (true), else left for the slow path. An answer bigger than the query's mbuf can take
 * goes there too, as the control core builds answers in buffers of its own.
 */
static bool answer_static(struct dp_lcore *lc, struct pending_query *q, uint32_t zone)
{
	const uint8_t *dns = rte_pktmbuf_mtod(q->m, uint8_t *) + q->pkt.payload_off;
	const struct dp_static_entry *e =
	    dp_static_lookup(lc->t, q->vpc, dns + WIRE_DNS_HLEN, (uint8_t)q->msg.qname_len,
			     q->msg.qtype, q->msg.qclass, q->msg.qname_hash);
	if (!e || e->zone != zone || e->msg_len > dns_room(q->m, q->pkt.payload_off))
		return false;
	struct cache_answer a = {.msg = e->msg, .msg_len = e->msg_len, .qname_len = e->qname_len};
	size_t len = write_answer(lc, q, &a);
	if (!len)
		return true;
	lc->c.static_answers++;
	vpc_ctr(lc, q->vpc)->static_answers++;
	vpc_ctr(lc, q->vpc)->answered++;
	reply_to_sender(lc, q->port, q->m, &q->pkt, len);
	return true;
}

/* A copy of q's query to send upstream for a refresh; false (counted) without an mbuf. */
static bool refresh_copy(struct dp_lcore *lc, struct pending_query *q, struct pending_query *out)
{
	struct rte_mbuf *c = rte_pktmbuf_copy(q->m, lc->plane->p.pool, 0, UINT32_MAX);
	if (!c) {
		lc->c.drops[DP_DROP_NO_MBUF]++;
		return false;
	}
	*out = (struct pending_query){.m = c, .port = q->port, .refresh = true, .vpc = q->vpc};
	uint8_t *frame = rte_pktmbuf_mtod(c, uint8_t *);
	if (wire_pkt_parse(frame, c->data_len, &out->pkt) != WIRE_OK ||
	    wire_dns_parse_query(frame + out->pkt.payload_off, out->pkt.payload_len, &out->msg) !=
		WIRE_OK) {
		drop(lc, c, DP_DROP_NO_ROOM);
		return false;
	}
	/* the resolver's own query, not the client's: it asks for checking, or its answer would not
	 * be kept (see accept_response) */
	uint8_t *dns = frame + out->pkt.payload_off;
	out->msg.flags &= (uint16_t)~WIRE_FLAG_CD;
	wire_dns_set_flags(dns, out->msg.flags);
	return true;
}

/*
 * Answers a burst's admitted queries the cache has fresh answers for; returns them as a mask.
 * A hit late in its entry's life also sends a copy of the query on, in the answered one's place,
 * to refresh the entry.
 */
static uint32_t serve_from_cache(struct dp_lcore *lc, struct pending_query *q, unsigned n)
{
	uint32_t answered = 0;
	if (!lc->cache)
		return 0;
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *dns = rte_pktmbuf_mtod(q[i].m, uint8_t *) + q[i].pkt.payload_off;
		struct cache_key k = query_key(lc, q[i].vpc, dns, &q[i].msg);
		struct cache_hit hit;
		enum cache_state st = cache_lookup(lc->cache, &k, lc->now, false, &hit);
		/* an answer bigger than this query's mbuf can take (its headers may be longer than
		 * the target's answer's were) goes upstream, as if not kept */
		if (st == CACHE_MISS ||
		    cache_hit_len(lc->cache, &hit) > dns_room(q[i].m, q[i].pkt.payload_off))
			continue;
		struct pending_query refresh;
		bool refreshing = st == CACHE_FRESH_REFRESH && refresh_copy(lc, &q[i], &refresh);
		answer_cached(lc, &q[i], &hit);
		if (refreshing)
			q[i] = refresh;
		else
			answered |= 1u << i;
	}
	return answered;
}

_Static_assert(DP_BURST <= MATCH_BURST_MAX, "one RX burst's queries fit one match burst");
_Static_assert(DP_BURST <= 32, "a burst's queries are tracked in a 32-bit mask");

/*
 * Matches a burst's admitted queries, one match_lookup_burst per VPC table among them (usually
 * one), so the table's memory loads for all the names overlap.
 */
static void match_queries(struct dp_lcore *lc, struct pending_query *q, unsigned n,
			  uint32_t answered)
{
	uint32_t matched = answered;
	for (unsigned i = 0; i < n; i++) {
		if (matched >> i & 1)
			continue;
		const struct match_table *table = lc->t->vpcs[q[i].vpc].match;
		const uint8_t *names[DP_BURST];
		size_t lens[DP_BURST];
		unsigned which[DP_BURST], k = 0;
		for (unsigned j = i; j < n; j++) {
			if ((matched >> j & 1) || lc->t->vpcs[q[j].vpc].match != table)
				continue;
			matched |= 1u << j;
			which[k] = j;
			names[k] = rte_pktmbuf_mtod(q[j].m, uint8_t *) + q[j].pkt.payload_off +
				   WIRE_DNS_HLEN;
			lens[k++] = q[j].msg.qname_len;
		}
		struct match_result res[DP_BURST];
		uint64_t failed =
		    match_lookup_burst(table, lc->t->scratch[lc->index], names, lens, k, res);
		for (unsigned x = 0; x < k; x++) {
			struct pending_query *p = &q[which[x]];
			if (failed >> x & 1) {
				vpc_ctr(lc, p->vpc)->drops++;
				drop(lc, p->m, DP_DROP_MATCH_FAILED);
				continue;
			}
			follow_match(lc, p, &res[x]);
		}
	}
}

/* ---- target responses ---- */

/* The client's header flags (RD, CD), from the kept query, whose headers build_headers wrote: no
 * parse needed to find its DNS message. */
static uint16_t kept_query_flags(const struct flow *f)
{
	const uint8_t *kept = rte_pktmbuf_mtod((const struct rte_mbuf *)f->pkt, const uint8_t *);
	unsigned off = WIRE_ETH_HLEN +
		       (wire_get16(kept + 12) == RTE_ETHER_TYPE_VLAN ? WIRE_VLAN_HLEN : 0) +
		       (f->upstream_family == 4 ? WIRE_IPV4_HLEN : WIRE_IPV6_HLEN) + WIRE_UDP_HLEN;
	return wire_get16(kept + off + 2);
}

/* cut: only the header and question are here (an oversized answer): the client gets them, TC=1 */
static void answer_from_target(struct dp_lcore *lc, struct flow *f, struct rte_mbuf *m,
			       const struct wire_pkt *pkt, struct wire_dns_msg *msg, bool cut)
{
	uint8_t *dns = rte_pktmbuf_mtod(m, uint8_t *) + pkt->payload_off;
	size_t len = cut ? msg->msg_end : pkt->payload_len;
	enum wire_err err = WIRE_OK;
	wire_dns_set_id(dns, f->client.id);
	wire_dns_set_resolver_flags(dns, kept_query_flags(f));
	if (f->client.edns_present)
		err = fresh_opt(dns, &len, dns_room(m, pkt->payload_off), msg,
				lc->t->tunables.edns_udp_size, f->client.edns_do);
	else if (msg->has_opt)
		err = wire_dns_strip_opt(dns, &len, msg);
	if (err == WIRE_OK && (cut || len > client_limit(lc, f))) {
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

/* ep_addr: the endpoint address (port, VLAN, destination) the answer came to, so that a host on
 * another segment reusing the same addresses can never answer this segment's flows. cut: the
 * answer was too big for one mbuf and only its start is here (see cut_to_first_segment). */
static void accept_response(struct dp_lcore *lc, struct rte_mbuf *m, const struct wire_pkt *pkt,
			    uint32_t ep_addr, bool cut)
{
	uint8_t *dns = rte_pktmbuf_mtod(m, uint8_t *) + pkt->payload_off;
	struct wire_dns_msg msg;
	/* the cache keeps what this parse finds: the records are walked once */
	struct wire_rr rrs[CACHE_RRS_MAX];
	bool keep = lc->cache && !cut;
	size_t count = 0;
	enum wire_err err =
	    cut ? wire_dns_parse_response_head(dns, pkt->payload_len, &msg)
		: wire_dns_parse_response(dns, pkt->payload_len, &msg, rrs, CACHE_RRS_MAX, &count);
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
	    ep_addr != flow_endpoint_addr(lc, f) ||
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
	if (msg.flags & WIRE_FLAG_TC) {
		rte_pktmbuf_free(m);
		hand_to_slow(lc, f, DP_SLOW_TCP_FALLBACK);
		return;
	}
	if (!cut && dangling_alias(&msg, rrs, count < CACHE_RRS_MAX ? count : CACHE_RRS_MAX)) {
		rte_pktmbuf_free(m);
		hand_to_slow(lc, f, DP_SLOW_CNAME);
		return;
	}
	/* CD=1 asked the target not to validate: its answer is no answer for a CD=0 query (RFC
	 * 4035 4.7), and the cache's key does not tell them apart */
	if (keep && !(kept_query_flags(f) & WIRE_FLAG_CD)) {
		struct cache_key k = flow_key(f);
		cache_insert_parsed(lc->cache, &k, dns, pkt->payload_len, &msg, rrs, count,
				    lc->now);
	}
	if (f->client.refresh) {
		lc->c.refreshed++;
		rte_pktmbuf_free(m);
		close_flow(lc, f);
		return;
	}
	answer_from_target(lc, f, m, pkt, &msg, cut);
}

static void to_exception(struct dp_lcore *lc, struct rte_mbuf *m)
{
	if (!(m = to_hold(lc, m)))
		return;
	if (!lc->exception || rte_ring_sp_enqueue(lc->exception, m) != 0) {
		drop(lc, m, DP_DROP_EXCEPTION_FULL);
		return;
	}
	lc->c.exceptions++;
}

/* What a handed-over mbuf carries in hash.usr: the endpoint address index, and the cut bit. */
#define HANDOVER_CUT (1u << 31)

static void handle_response(struct dp_lcore *lc, struct rte_mbuf *m, const struct wire_pkt *pkt,
			    uint32_t ep_addr, bool cut)
{
	const struct dp_plane *plane = lc->plane;
	unsigned owner = flow_port_owner(plane->p.flow.port_lo, plane->p.flow.port_hi,
					 plane->p.n_lcores, pkt->dst_port);
	if (owner >= plane->p.n_lcores) {
		/* outside the flows' ports: the kernel's own sockets (TCP fallback, recursion) */
		to_exception(lc, m);
		return;
	}
	if (owner != lc->index) {
		/* the RSS hash is spent: carry what the owner must check */
		m->hash.usr = ep_addr | (cut ? HANDOVER_CUT : 0);
		if (rte_ring_mp_enqueue(plane->lcores[owner].handover, m) != 0) {
			drop(lc, m, DP_DROP_HANDOVER_FULL);
			return;
		}
		lc->c.handed_over++;
		return;
	}
	accept_response(lc, m, pkt, ep_addr, cut);
}

/* ---- the poll ---- */

/*
 * Keeps only the first segment of a reassembled datagram too big for one mbuf, with IP and UDP
 * lengths that say so: the headers, the DNS header and the question (a first fragment carries far
 * more than those), which is all the client can get of it over UDP anyway: the answer is sent
 * cut to them with TC=1, and the client asks again over TCP.
 */
static void cut_to_first_segment(struct rte_mbuf *m)
{
	rte_pktmbuf_free(m->next);
	m->next = NULL;
	m->nb_segs = 1;
	m->pkt_len = m->data_len;
	uint8_t *ip = rte_pktmbuf_mtod(m, uint8_t *) + m->l2_len;
	wire_put16(ip + 2, (uint16_t)(m->data_len - m->l2_len));
	wire_put16(ip + m->l3_len + 4, (uint16_t)(m->data_len - m->l2_len - m->l3_len));
}

/* True for a reassembled UDP datagram to a port of the kernel's (outside the flows'): an answer to
 * the control core's own query, which goes to the kernel as it is. */
static bool for_the_kernel(const struct dp_lcore *lc, const struct rte_mbuf *whole,
			   const struct rte_ipv4_hdr *ip)
{
	size_t udp_off = (size_t)whole->l2_len + rte_ipv4_hdr_len(ip);
	if (ip->next_proto_id != IPPROTO_UDP || whole->data_len < udp_off + 4)
		return false;
	const uint8_t *udp = rte_pktmbuf_mtod(whole, const uint8_t *) + udp_off;
	uint16_t dport = (uint16_t)(udp[2] << 8 | udp[3]);
	const struct dp_plane *plane = lc->plane;
	return flow_port_owner(plane->p.flow.port_lo, plane->p.flow.port_hi, plane->p.n_lcores,
			       dport) >= plane->p.n_lcores;
}

/*
 * Takes an IPv4 fragment into the lcore's reassembly table (DPDK's rte_ip_frag): the datagram when
 * this fragment completes it (linearized: rewriting in place needs one segment; or, too big for
 * one mbuf, cut to its first segment and *cut set), else NULL (held, or freed through the death
 * row). Not an IPv4 fragment: m as it is.
 */
static struct rte_mbuf *reassemble(struct dp_lcore *lc, uint16_t port, struct rte_mbuf *m,
				   const struct wire_pkt *pkt, bool *cut)
{
	if (pkt->ip_version != 4)
		return m; /* an IPv6 fragment (or a header cut short): the exception path */
	uint16_t l2 = pkt->l3_off;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(rte_pktmbuf_mtod(m, uint8_t *) + l2);
	/* only targets' answers to our endpoint addresses: nobody else may fill the table */
	struct dp_addr_hit hit = {.kind = DP_ADDR_NONE};
	if (lc->t)
		hit = dp_tables_lookup_addr(lc->t, port, pkt->vlan_id, 4, pkt->dst_addr);
	if (hit.kind != DP_ADDR_ENDPOINT) {
		drop(lc, m, DP_DROP_NO_ADDRESS);
		return NULL;
	}
	/* DPDK keys a datagram by (source, destination, IP ID), blind to the port and VLAN: in the
	 * destination's place goes the endpoint address's index, unique per (port, VLAN, address),
	 * so two tenants' endpoints with one address never mix fragments; it goes back after */
	ip->dst_addr = rte_cpu_to_be_32(hit.index);
	m->l2_len = l2;
	m->l3_len = rte_ipv4_hdr_len(ip);
	lc->c.fragments++;
	struct rte_mbuf *whole =
	    rte_ipv4_frag_reassemble_packet(lc->frags, &lc->death_row, m, rte_rdtsc(), ip);
	if (!whole)
		return NULL;
	ip = rte_pktmbuf_mtod_offset(whole, struct rte_ipv4_hdr *, whole->l2_len);
	uint32_t ep = rte_be_to_cpu_32(ip->dst_addr);
	if (ep >= lc->t->n_endpoint_addrs) {
		drop(lc, whole, DP_DROP_NO_ADDRESS); /* tables published since: its flow retries */
		return NULL;
	}
	memcpy(&ip->dst_addr, lc->t->endpoint_addrs[ep].addr.addr, 4);
	lc->c.reassembled++;
	if (for_the_kernel(lc, whole, ip)) {
		to_exception(lc,
			     whole); /* whole, in segments: the exception path fragments it again */
		return NULL;
	}
	if (whole->nb_segs > 1 && rte_pktmbuf_linearize(whole) != 0) {
		cut_to_first_segment(whole);
		lc->c.oversized++;
		*cut = true;
	}
	return whole;
}

/*
 * BEHAVIOUR.md: a client may send 1,024 packets a second to its resolver, whatever they carry: TCP
 * and ICMP to a resolver address count against the same allowance as its UDP queries. True when
 * this one is over it (dropped and counted); false: on to the kernel.
 */
static bool over_rate_to_resolver(struct dp_lcore *lc, uint16_t port, struct rte_mbuf *m,
				  const struct wire_pkt *pkt)
{
	if (!lc->t || !pkt->addr_len)
		return false;
	struct dp_addr_hit hit =
	    dp_tables_lookup_addr(lc->t, port, pkt->vlan_id, pkt->ip_version, pkt->dst_addr);
	return hit.kind == DP_ADDR_RESOLVER && rate_limited(lc, hit.index, pkt, m);
}

/*
 * A packet's way up to its name's match: a client query comes back admitted in q (true); anything
 * else (a target's answer, a frame for the kernel, a reject) is dealt with here.
 */
static bool handle_packet(struct dp_lcore *lc, uint16_t port, struct rte_mbuf *m,
			  struct pending_query *q)
{
	struct wire_pkt *pkt = &q->pkt;
	bool cut = false;
	lc->c.rx++;
	if (m->nb_segs != 1) {
		drop(lc, m, DP_DROP_CHAINED);
		return false;
	}
	enum wire_err err = wire_pkt_parse(rte_pktmbuf_mtod(m, uint8_t *), m->data_len, pkt);
	if (err == WIRE_E_IP_FRAGMENT) {
		struct rte_mbuf *whole = reassemble(lc, port, m, pkt, &cut);
		if (!whole)
			return false;
		m = whole;
		err = wire_pkt_parse(rte_pktmbuf_mtod(m, uint8_t *), m->data_len, pkt);
	}
	if (err != WIRE_OK) {
		if (wire_err_not_ours(err)) {
			if (!(err == WIRE_E_NOT_UDP && over_rate_to_resolver(lc, port, m, pkt)))
				to_exception(lc, m);
			return false;
		}
		lc->c.rejects[err]++;
		drop(lc, m, DP_DROP_WIRE);
		return false;
	}
	struct dp_addr_hit hit = {.kind = DP_ADDR_NONE};
	if (lc->t)
		hit = dp_tables_lookup_addr(lc->t, port, pkt->vlan_id, pkt->ip_version,
					    pkt->dst_addr);
	if (hit.kind == DP_ADDR_RESOLVER) {
		q->m = m;
		q->port = port;
		q->refresh = false;
		q->vpc = hit.index;
		return admit_query(lc, q);
	}
	if (hit.kind == DP_ADDR_ENDPOINT)
		handle_response(lc, m, pkt, hit.index, cut);
	else
		drop(lc, m, DP_DROP_NO_ADDRESS);
	return false;
}

static void handle_burst(struct dp_lcore *lc, uint16_t port, struct rte_mbuf **pkts, unsigned n)
{
	struct pending_query queries[DP_BURST];
	unsigned n_queries = 0;
	for (unsigned i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		n_queries += handle_packet(lc, port, pkts[i], &queries[n_queries]);
	}
	if (n_queries)
		match_queries(lc, queries, n_queries, serve_from_cache(lc, queries, n_queries));
}

static void drain_handover(struct dp_lcore *lc)
{
	struct rte_mbuf *pkts[DP_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(lc->handover, (void **)pkts, DP_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct wire_pkt pkt;
		/* parsed, and its endpoint address found (in hash.usr), by the lcore that handed it
		 * over */
		wire_pkt_parse(rte_pktmbuf_mtod(pkts[i], uint8_t *), pkts[i]->data_len, &pkt);
		uint32_t usr = pkts[i]->hash.usr;
		accept_response(lc, pkts[i], &pkt, usr & ~HANDOVER_CUT, usr & HANDOVER_CUT);
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
	/* online only for the poll: a publish between two calls must not wait for the next one */
	rte_rcu_qsbr_thread_online(plane->qsbr, index);
	unsigned n = dp_lcore_poll(plane, index);
	rte_rcu_qsbr_thread_offline(plane->qsbr, index);
	return n;
}

unsigned dp_lcore_poll(struct dp_plane *plane, unsigned index)
{
	struct dp_lcore *lc = &plane->lcores[index];
	struct rte_mbuf *pkts[DP_BURST];
	unsigned received = 0;
	lc->t = __atomic_load_n(&plane->tables, __ATOMIC_ACQUIRE);
	lc->now = clock_now(plane);
	for (unsigned s = 0; s < plane->p.n_ports; s++) {
		uint16_t port = plane->p.ports[s];
		/* its own queue, and every n_lcores-th past the lcores' (io_port.n_rx_queues) */
		for (unsigned q = index; q < plane->rx_queues[s]; q += plane->p.n_lcores) {
			uint16_t n = rte_eth_rx_burst(port, (uint16_t)q, pkts, DP_BURST);
			received += n;
			handle_burst(lc, port, pkts, n);
			/* the death row holds one burst's worth: empty it after each */
			rte_ip_frag_free_death_row(&lc->death_row, 3);
		}
	}
	if (lc->t) {
		drain_handover(lc);
		expire_flows(lc);
	}
	rte_ip_frag_table_del_expired_entries(lc->frags, &lc->death_row, rte_rdtsc());
	rte_ip_frag_free_death_row(&lc->death_row, 3);
	for (unsigned s = 0; s < plane->p.n_ports; s++)
		rte_eth_tx_buffer_flush(plane->p.ports[s], (uint16_t)index, lc->tx[s]);
	lc->t = NULL;
	rte_rcu_qsbr_quiescent(plane->qsbr, index);
	return received;
}
