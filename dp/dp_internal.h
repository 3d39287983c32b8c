/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp internals shared by its files: the layout of the immutable tables and the address index
 * (tables.c builds them, lcore.c reads them), and of the lcores and the plane (plane.c makes them,
 * lcore.c runs them, counters.c reads them). Not part of dp's public face (dp.h).
 */
#ifndef VPCDNS_DP_INTERNAL_H
#define VPCDNS_DP_INTERNAL_H

#include <rte_ip_frag.h>
#include <rte_ethdev.h>
#include <rte_rcu_qsbr.h>

#include "dp/dp.h"

struct dp_vpc {
	uint16_t port, vlan;
	enum dp_outsider_policy outsiders;
	uint32_t n_cidrs;
	struct dp_cidr *cidrs;
	struct match_table *match;
};

struct dp_endpoint {
	uint32_t first_addr; /* into dp_tables.endpoint_addrs */
	uint32_t n_addrs;
	uint16_t edns_udp_size;
};

struct dp_target {
	struct dp_addr addr;
	uint16_t udp_port;
	uint32_t nexthop;
};

struct dp_rule {
	uint32_t endpoint;
	uint32_t n_targets;
	uint32_t targets[DP_RULE_TARGETS_MAX];
};

/* The address index: open addressing, linear probing, load at most 1/2. The key is 20 octets:
 * port, VLAN id with bit 15 set for IPv6, the address padded to 16. */
#define DP_ADDR_KEY_LEN 20
struct dp_addr_slot {
	uint8_t key[DP_ADDR_KEY_LEN];
	uint32_t value; /* 0: empty; else kind << 28 | index */
};

/* A static answer's slot: 0 in off for an empty one. */
struct dp_static_slot {
	uint64_t hash;
	uint32_t off; /* the entry's offset in the arena + 1 */
};

/* A static answer in the arena (8-octet aligned): its key, its zone, the message (its question's
 * name in lower case). */
struct dp_static_entry {
	uint32_t vpc, zone;
	uint16_t qtype, qclass, msg_len;
	uint8_t qname_len;
	uint8_t msg[];
};

struct dp_tables {
	struct dp_tunables tunables;
	uint32_t n_vpcs, n_endpoints, n_endpoint_addrs, n_targets, n_rules;
	struct dp_vpc *vpcs;
	struct dp_endpoint *endpoints;
	struct dp_endpoint_addr *endpoint_addrs;
	struct dp_target *targets;
	struct dp_rule *rules;
	uint32_t addr_mask; /* slots - 1 */
	/* one per lcore, fitted to every VPC's match table by dp_publish */
	struct match_scratch **scratch;
	uint32_t n_scratch;
	struct dp_addr_slot *addr_slots;
	uint32_t generation; /* set by dp_publish: the cache's views of older tables go unseen */
	/* static zone answers (see dp.h) */
	uint32_t n_static, static_mask; /* mask: slots - 1 */
	struct dp_static_slot *static_slots;
	uint8_t *static_arena;
};

/* The static answer for a parsed query (name at qname, its wire_name_hash) in VPC vpc, if the
 * tables hold one; NULL otherwise. The caller checks the entry's zone against its match. */
const struct dp_static_entry *dp_static_lookup(const struct dp_tables *t, uint32_t vpc,
					       const uint8_t *qname, uint8_t qname_len,
					       uint16_t qtype, uint16_t qclass,
					       uint64_t qname_hash);

/* True when addr (family 4 or 6) lies inside one of the VPC's CIDRs. */
bool dp_vpc_has_client(const struct dp_vpc *v, uint8_t family, const uint8_t *addr);

/* Per-source rate limit (ratelimit.c): sets x ways sources remembered per lcore (32 octets each).
 */
#define DP_RATELIMIT_SETS 4096 /* a power of two */
#define DP_RATELIMIT_WAYS 4
enum dp_ratelimit_verdict {
	DP_RATE_PASS = 0,
	DP_RATE_LIMITED,
	DP_RATE_PASS_FORGOT, /* passed, and another source still owing was forgotten for room */
};
struct dp_ratelimit;
struct dp_ratelimit *dp_ratelimit_new(int socket);
void dp_ratelimit_free(struct dp_ratelimit *r);
/* One packet from addr (4 or 16 octets by family) in VPC vpc at now (ns) against pps per second
 * split over n_lcores; pps 0 lets everything pass. */
enum dp_ratelimit_verdict dp_ratelimit_check(struct dp_ratelimit *r, uint32_t pps,
					     unsigned n_lcores, uint32_t vpc, uint8_t family,
					     const uint8_t *addr, uint64_t now);

#define DP_PORT_NONE 0xff /* dp_plane.port_slot of a port the plane does not poll */
#define DP_BURST     32	  /* RX, TX-buffer and ring bursts */

struct dp_lcore {
	struct dp_plane *plane;
	const struct dp_tables *t; /* this poll's tables */
	uint64_t now;
	unsigned index;
	struct flow_table *flows;
	struct rte_ring *slow, *handover, *exception;
	struct rte_eth_dev_tx_buffer *tx[DP_PORTS_MAX];
	struct dp_lcore_counters c;
	/* IPv4 reassembly: a target's answer over the link MTU arrives in fragments */
	struct rte_ip_frag_tbl *frags;
	struct rte_ip_frag_death_row death_row;
	struct dp_ratelimit *ratelimit;
	struct cache *cache; /* NULL: no caching */
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
	uint8_t port_offload[RTE_MAX_ETHPORTS]; /* DP_TX_CKSUM_* */
	uint16_t port_mtu[RTE_MAX_ETHPORTS];	/* IP packet size the link carries */
	uint16_t rx_queues[DP_PORTS_MAX];	/* by slot: RX queues the lcores poll */
	unsigned lcore_ids[DP_LCORES_MAX];
	uint32_t generation; /* tables published */
	bool running;
	volatile bool stop;
};

/* One poll of an lcore that is online for RCU (the run loop's; dp_lcore_poll_once wraps it). */
unsigned dp_lcore_poll(struct dp_plane *plane, unsigned index);

/* Where struct dp_slow_meta lives in an mbuf (registered by the first dp_plane_new). */
extern int dp_slow_meta_offset;

#endif
