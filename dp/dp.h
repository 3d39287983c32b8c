/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp: the data plane's face to the control core. It owns the tables the control core builds and
 * publishes (VPCs, rules, endpoints, targets, tunables, and the address index that tells which
 * VPC resolver address or endpoint address a packet was sent to), their RCU swap, the data lcores
 * (start, stop, one poll for tests and benches), the rings that hand the control core what the
 * lcores do not serve, and the per-lcore counters.
 *
 * An lcore's poll: RX burst on every port (queue = its index) -> wire_pkt_parse -> address index by
 * (port, VLAN, destination address): a VPC resolver address (a client query) or an endpoint address
 * (a target's response) -> query: client inside the VPC's CIDRs (else REFUSED or drop), DNS parse
 * (errors answered per wire_err_rcode), the cache, match_lookup -> FORWARD: rewrite in place to an
 * endpoint address and a target, record the flow, send; ZONE: its static answer if the tables have
 * one, written over the query and sent; anything else (a ZONE miss too): the slow ring. Response:
 * the flow by (port, ID), checked against target, endpoint and question, rewritten back to the
 * client. Every poll also expires flows (retry on another target from another endpoint address,
 * else SERVFAIL).
 *
 * Fast path: no system call, lock, allocation or print; every packet not forwarded or answered is
 * counted under a named reason (enum dp_drop, or its wire_err).
 */
#ifndef VPCDNS_DP_DP_H
#define VPCDNS_DP_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp/cache/cache.h"
#include "dp/flow/flow.h"
#include "dp/match/match.h"
#include "dp/wire/wire.h"

#define DP_DNS_PORT	    53
#define DP_EDNS_DEFAULT	    4096
#define DP_NEXTHOP_NONE	    UINT32_MAX
#define DP_LCORES_MAX	    64
#define DP_PORTS_MAX	    16
#define DP_ENDPOINT_ADDRS   6 /* BEHAVIOUR.md: 2 to 6 source addresses */
#define DP_RULE_TARGETS_MAX 6 /* BEHAVIOUR.md: 1 to 6 targets */
/* IPv4 reassembly per lcore: answers in fragments at once, and the mbufs they may hold (the
 * control core sizes the pool with it) */
#define DP_RING_DEFAULT	  1024 /* slow and handover rings' slots when the params say 0 */
#define DP_FRAG_BUCKETS	  128
#define DP_FRAG_DATAGRAMS 512
#define DP_FRAG_MBUFS	  (DP_FRAG_DATAGRAMS * RTE_LIBRTE_IP_FRAG_MAX_FRAG)

/* ---- tables: plain specs in, one immutable struct dp_tables out ---- */

struct dp_addr {
	uint8_t family;	  /* 4 or 6 */
	uint8_t addr[16]; /* IPv4 in the first 4 octets, the rest zero */
};

struct dp_cidr {
	struct dp_addr base;
	uint8_t prefix_len;
};

/* What a VPC does with a query from outside its CIDRs (counted either way). */
enum dp_outsider_policy { DP_OUTSIDER_REFUSE = 0, DP_OUTSIDER_DROP };

struct dp_vpc_spec {
	uint16_t port; /* DPDK port id */
	uint16_t vlan; /* VLAN id, 0 for untagged */
	const struct dp_cidr *cidrs;
	unsigned n_cidrs;
	const struct dp_addr *resolver_addrs; /* the ".2", 169.254.169.253, fd00:ec2::253 */
	unsigned n_resolver_addrs;
	enum dp_outsider_policy outsiders;
	/* Its rules: a FORWARD entry's id is a rule index returned by dp_tables_add_rule; other
	 * kinds' ids are the control core's own and travel to it in struct dp_slow_meta. Once
	 * dp_tables_add_vpc succeeds the tables own it (freed with them, or by
	 * dp_tables_builder_free); on failure the caller still does. */
	struct match_table *match;
};

/* One source address of an outbound endpoint, on the link it leaves by. */
struct dp_endpoint_addr {
	uint16_t port, vlan;
	struct dp_addr addr;
};

struct dp_endpoint_spec {
	const struct dp_endpoint_addr *addrs; /* 1..DP_ENDPOINT_ADDRS */
	unsigned n_addrs;
	uint16_t edns_udp_size; /* advertised to targets; 0 means the tables' default */
};

struct dp_target_spec {
	struct dp_addr addr;
	uint16_t udp_port; /* 0 means 53 */
	/* io's next hop (io_neigh_lookup) toward it from the endpoint addresses' link */
	uint32_t nexthop;
	/* Its index is its dense flow target index (flow_table_params.n_targets covers them). */
};

struct dp_rule_spec {
	uint32_t endpoint;		       /* from dp_tables_add_endpoint */
	uint32_t targets[DP_RULE_TARGETS_MAX]; /* from dp_tables_add_target */
	unsigned n_targets;		       /* 1..DP_RULE_TARGETS_MAX */
};

struct dp_tunables {
	uint16_t edns_udp_size; /* endpoint default and the size the resolver tells clients */
	/* packets per second one client source address may send to a VPC's resolver addresses
	 * (BEHAVIOUR.md: 1,024); the plane's lcores each allow their share; 0: no limit */
	uint32_t rate_limit_pps;
};

struct dp_tables_builder;
struct dp_tables;

struct dp_tables_builder *dp_tables_builder_new(const struct dp_tunables *tunables);
/* Frees a builder not built, with the match tables given to it. */
void dp_tables_builder_free(struct dp_tables_builder *b);

/* Each returns the new object's dense index, or -1 with a sentence in err. */
int64_t dp_tables_add_vpc(struct dp_tables_builder *b, const struct dp_vpc_spec *spec, char *err,
			  size_t errlen);
int64_t dp_tables_add_endpoint(struct dp_tables_builder *b, const struct dp_endpoint_spec *spec,
			       char *err, size_t errlen);
int64_t dp_tables_add_target(struct dp_tables_builder *b, const struct dp_target_spec *spec,
			     char *err, size_t errlen);
int64_t dp_tables_add_rule(struct dp_tables_builder *b, const struct dp_rule_spec *spec, char *err,
			   size_t errlen);

/*
 * Static zone answers: a private hosted zone's answers that depend on nothing in a query but its
 * (name, type, class), compiled by the control core for each VPC associated with the zone, so that
 * the lcore answers them itself instead of handing the query to the slow ring. One table for all
 * VPCs: open addressing (linear probing, load at most 1/2) over slots of (hash, offset), keyed by
 * (VPC, name folded to lower case, type, class); the entries (the zone and the answer) lie one
 * after another in one arena. Immutable once built: a lookup allocates nothing and takes no lock.
 * The lcore looks a query up only when the VPC's match says MATCH_ZONE, and answers only when the
 * entry's zone is that match's id; it writes the answer over the query with dp/cache's writer
 * (the client's ID, case, RD and CD, EDNS view and size). Its TTLs are as compiled: they never age.
 */
#define DP_STATIC_MSG_MAX 4096
struct dp_static_spec {
	uint32_t vpc;  /* from dp_tables_add_vpc */
	uint32_t zone; /* the MATCH_ZONE id the VPC's match table gives the name */
	/* The answer: header, one question (its name, type and class are the key; any case), the
	 * records; no OPT. At most DP_STATIC_MSG_MAX octets. Copied. */
	const uint8_t *msg;
	size_t len;
};
/* Its index among the static answers, or -1 with a sentence in err (not a response with one
 * question, an OPT, too big, an unknown VPC). A key given twice fails dp_tables_build. */
int64_t dp_tables_add_static(struct dp_tables_builder *b, const struct dp_static_spec *spec,
			     char *err, size_t errlen);

/*
 * Consumes the builder; NULL with a sentence in err (an address claimed twice on the same (port,
 * VLAN), a static answer's key given twice, a rule naming an unknown endpoint or target, out of
 * memory). Plain heap memory: building needs no EAL.
 */
struct dp_tables *dp_tables_build(struct dp_tables_builder *b, char *err, size_t errlen);
void dp_tables_free(struct dp_tables *t);

/* What the address index holds for (port, VLAN, address). */
enum dp_addr_kind { DP_ADDR_NONE = 0, DP_ADDR_RESOLVER, DP_ADDR_ENDPOINT };
struct dp_addr_hit {
	enum dp_addr_kind kind;
	uint32_t index; /* the VPC (resolver) or the global endpoint address index */
};
/* Static answers in the tables (every VPC's). */
uint32_t dp_tables_static_count(const struct dp_tables *t);

/* The address index lookup (fast path; also for tests). addr is 4 or 16 octets by family. */
struct dp_addr_hit dp_tables_lookup_addr(const struct dp_tables *t, uint16_t port, uint16_t vlan,
					 uint8_t family, const uint8_t *addr);

/* ---- counters ---- */

/* The lcore's own drop reasons (a malformed packet is counted by its wire_err instead). */
enum dp_drop {
	DP_DROP_NO_ADDRESS = 0, /* UDP to an address of no VPC or endpoint on that (port, VLAN) */
	DP_DROP_NOT_DNS_PORT,	/* to a resolver address, not port 53 */
	DP_DROP_OUTSIDER,	/* client outside the VPC's CIDRs, policy drop */
	DP_DROP_WIRE,		/* a wire_err that wire_err_rcode says to drop (see rejects) */
	DP_DROP_FLOW_FULL,	/* flow_open failed: answered SERVFAIL */
	DP_DROP_BAD_RULE,	/* a FORWARD match naming a rule or target the tables lack */
	DP_DROP_MATCH_FAILED,	/* match_lookup failed: not a wire name (a parse would not pass) */
	DP_DROP_NO_NEIGH,	/* target's next-hop MAC unknown: not sent, the timer retries */
	DP_DROP_NO_FLOW,	/* response with no open flow for (port, ID): late or spoofed */
	DP_DROP_SPOOFED,	/* response whose target, endpoint or question differ */
	DP_DROP_HANDOVER_FULL,	/* the owning lcore's handover ring was full */
	DP_DROP_EXCEPTION_FULL, /* io's exception ring was full */
	DP_DROP_SLOW_FULL,	/* the slow ring was full */
	DP_DROP_NO_MBUF,	/* no mbuf for a retry or a SERVFAIL copy */
	DP_DROP_NO_ROOM,	/* a rewrite needed room the mbuf lacks */
	DP_DROP_TX_FULL,	/* the TX queue refused the burst */
	DP_DROP_UNKNOWN_PORT,	/* to send on a port the plane does not poll (tables vs. ports) */
	DP_DROP_CHAINED,	/* a frame in chained mbufs: rewriting in place needs one segment */
	DP_DROP_RATE_LIMITED,	/* a client over its rate_limit_pps (not answered, not a query) */
	DP__DROP_COUNT
};
const char *dp_drop_name(enum dp_drop d);

/* What one VPC, rule, endpoint address or target saw on one lcore. */
struct dp_entity_counters {
	uint64_t queries;	 /* client queries (VPC), tries sent (rule, endpoint, target) */
	uint64_t forwarded;	 /* queries sent upstream (first tries) */
	uint64_t answered;	 /* answers sent to clients (VPC), accepted from targets (others) */
	uint64_t timeouts;	 /* tries that timed out */
	uint64_t retries;	 /* tries after the first */
	uint64_t truncations;	 /* answers cut to the client's size with TC=1 */
	uint64_t drops;		 /* packets dropped, any reason */
	uint64_t cache_hits;	 /* answered from the cache, fresh (VPC) */
	uint64_t stale;		 /* answered stale after every try failed (VPC) */
	uint64_t static_answers; /* answered from the static zone answers (VPC) */
};

struct dp_lcore_counters {
	uint64_t rx, tx;
	uint64_t queries;   /* client queries to a resolver address */
	uint64_t outsiders; /* of which from outside the VPC's CIDRs (refused or dropped) */
	uint64_t forwarded; /* first tries sent upstream */
	uint64_t responses; /* target responses accepted */
	uint64_t answered;  /* answers to clients, any rcode, local ones included */
	uint64_t servfails; /* SERVFAIL after the last try or all targets failed */
	uint64_t timeouts;
	uint64_t retries;
	uint64_t truncations;
	uint64_t to_slow;	/* handed to the control core's slow path */
	uint64_t exceptions;	/* handed to io's exception ring */
	uint64_t handed_over;	/* responses passed to their owning lcore */
	uint64_t tcp_fallbacks; /* truncated answers from targets handed to the slow path */
	uint64_t cname_chases;	/* answers ending in an unresolved CNAME handed to it */
	uint64_t fragments;	/* IPv4 fragments taken for reassembly */
	uint64_t reassembled;	/* datagrams made whole from them (the rest wait, or expire) */
	/* answers too big for one mbuf once reassembled: cut to header and question, sent TC=1 */
	uint64_t oversized;
	uint64_t rate_forgotten; /* sources still owing forgotten for room in the rate table */
	uint64_t cache_hits;	 /* client queries answered from the cache (fresh) */
	uint64_t stale;		 /* answered from expired cache entries after every try failed */
	uint64_t refreshes;	 /* queries sent upstream to refresh an entry near its end */
	uint64_t refreshed;	 /* of which answered (and kept) */
	uint64_t static_answers; /* zone queries answered from the static zone answers */
	uint64_t rejects[WIRE_E__COUNT]; /* every wire_err, answered or dropped */
	uint64_t drops[DP__DROP_COUNT];
};

/* ---- the slow ring: what the control core must handle ----
 *
 * One ring per data lcore (single producer: the lcore; single consumer: the control core), lossy
 * (full: freed, DP_DROP_SLOW_FULL). It carries a client's query with struct dp_slow_meta in an mbuf
 * dynamic field, for one of three reasons:
 * - DP_SLOW_MATCH: the query as received (not rewritten), the VPC and the match result (a ZONE,
 *   AUTO, SYSTEM, DELEGATE or RECURSIVE entry; the id is the control core's);
 * - DP_SLOW_TCP_FALLBACK: a forwarded query whose target answered with TC=1, to ask that target
 *   again over TCP (BEHAVIOUR.md); DP_SLOW_CNAME: one whose answer ended in a CNAME the target did
 *   not resolve, to be resolved again and chased under the rules (neither is cached). The frame is
 * rebuilt as the client sent it (its addresses, ports, VLAN, ID, flags and question; its OPT with
 * its UDP size, or none; its EDNS options and DO are not kept); match_id is the rule, target the
 * dense target index that truncated.
 */
enum dp_slow_reason { DP_SLOW_MATCH = 0, DP_SLOW_TCP_FALLBACK, DP_SLOW_CNAME };
struct dp_slow_meta {
	uint32_t vpc;
	uint32_t match_id;
	uint32_t system_id; /* DP_SLOW_MATCH */
	uint32_t target;    /* DP_SLOW_TCP_FALLBACK, DP_SLOW_CNAME */
	uint16_t dns_off;   /* the DNS message's offset in the frame */
	uint8_t kind;	    /* enum match_kind (MATCH_FORWARD for a TCP fallback) */
	uint8_t labels;
	uint8_t reason; /* enum dp_slow_reason */
};
/* The meta of an mbuf taken from a slow ring. */
const struct dp_slow_meta *dp_slow_meta(const struct rte_mbuf *m);

/*
 * Turns a client's query frame (as a slow ring carries it) into an answer with rcode, in place and
 * addressed back to its sender (MACs, addresses and ports swapped, lengths and checksums fixed),
 * ready to send on m->port: the control core's way to answer what it cannot serve. False (m left
 * for the caller to free) when the frame is not a parsable UDP query or has no room.
 */
bool dp_answer_query(struct rte_mbuf *m, int rcode, uint16_t udp_size);
/* The same with a whole DNS message of len octets (built by the control core) as the answer. */
bool dp_answer_message(struct rte_mbuf *m, const uint8_t *msg, size_t len);
/* The DNS message of a query frame from a slow ring (*len octets), NULL if it does not parse. */
const uint8_t *dp_query_message(struct rte_mbuf *m, size_t *len);

/* ---- the plane: lcores, rings, RCU ---- */

struct io_neigh_table;
struct dp_plane;

#define DP_TX_CKSUM_IPV4 0x1
#define DP_TX_CKSUM_UDP	 0x2

struct dp_plane_params {
	unsigned n_lcores;	      /* data lcores; lcore i polls queue i of every port */
	uint16_t ports[DP_PORTS_MAX]; /* DPDK ports polled and sent on */
	unsigned n_ports;
	struct rte_mempool *pool;     /* for retry and SERVFAIL copies */
	struct io_neigh_table *neigh; /* io's next-hop MACs */
	/* Every lcore's flow table: port_lo/port_hi are the whole range, split among lcores with
	 * flow_ports_of_lcore; tries and timeouts are fixed for the plane's life; each lcore keys
	 * its ChaCha20 with seed, its index mixed into the last two octets. */
	struct flow_table_params flow;
	/* per port (as in ports[]): the checksums its driver computes, DP_TX_CKSUM_* (io_port's
	 * tx_cksum_ipv4 and tx_cksum_udp); software for the rest */
	uint8_t tx_offload[DP_PORTS_MAX];
	/* per port: RX queues to poll (io_port.n_rx_queues when io_port.lcores_poll_extra_rx; 0:
	 * n_lcores). Lcore i polls queues i, i + n_lcores, ...; a response found on a queue past
	 * the lcores' is handed to its flow's owner like any other. */
	uint16_t rx_queues[DP_PORTS_MAX];
	unsigned slow_ring_size, handover_ring_size; /* powers of two; 0: 1024 */
	/* each lcore's answer cache (so the host's is n_lcores x cache.max_bytes); max_bytes 0:
	 * none. Hits are keyed by VPC and by the tables' publication: a publish starts afresh. */
	struct cache_params cache;
	unsigned max_vpcs, max_rules, max_endpoint_addrs; /* per-entity counters' size */
	/* The clock (ns, monotonic); NULL: the TSC. Tests give a fake one. */
	uint64_t (*clock_ns)(void *ctx);
	void *clock_ctx;
};

/* Allocates everything (flow tables, rings, counters, TX buffers, RCU); EAL must be up, ports
 * configured by io. NULL with a sentence in err. */
struct dp_plane *dp_plane_new(const struct dp_plane_params *p, char *err, size_t errlen);
/* Stops the lcores if running, frees the flows' kept mbufs, the tables and everything else. */
void dp_plane_free(struct dp_plane *plane);

/*
 * Publishes new tables: lcores see them at their next poll; the old ones are freed once every
 * running lcore has reported quiescent (rte_rcu_qsbr_synchronize: blocks the control core, never
 * an lcore). Flows opened under the old tables keep their rule and target indices: keep indices
 * stable across a swap (append, do not renumber). The first call may come before dp_start.
 * Before publishing, it gives the tables one match_scratch per lcore fitted to every VPC's match
 * table (Hyperscan tables need one; the lcores never share or refit them). 0, or -1 with a
 * sentence in err and nothing published (the tables stay the caller's).
 */
int dp_publish(struct dp_plane *plane, struct dp_tables *tables, char *err, size_t errlen);

/* Launches lcore i of the plane on EAL worker lcore_ids[i] (rte_eal_remote_launch). */
int dp_start(struct dp_plane *plane, const unsigned *lcore_ids);
/* Asks every lcore to stop and waits for them (rte_eal_wait_lcore). */
void dp_stop(struct dp_plane *plane);

/* One poll of lcore i (RX and handover bursts, expiry, TX flush, quiescent report): what the run
 * loop repeats; tests and benches call it from one thread, and the lcore is online for RCU only
 * during the call, so dp_publish between calls does not wait. Returns the packets received. */
unsigned dp_lcore_poll_once(struct dp_plane *plane, unsigned lcore);

/* The control core's lookup of a query name (uncompressed wire form) in VPC vpc's table, as the
 * lcores see it after the last dp_publish: for queries that reach the control core another way
 * (TCP, a CNAME's target). match_lookup's status; MATCH_BAD_NAME for an unknown VPC too. */
int dp_match_name(struct dp_plane *plane, uint32_t vpc, const uint8_t *name, size_t len,
		  struct match_result *out);

/* Rings of lcore i for the control core to drain. */
struct rte_ring *dp_slow_ring(struct dp_plane *plane, unsigned lcore);

/* Counters (read from any core, a moment old). Entity counters sum over lcores; false when the
 * index is out of range. */
void dp_lcore_counters_read(const struct dp_plane *plane, unsigned lcore,
			    struct dp_lcore_counters *out);
enum dp_entity { DP_ENTITY_VPC = 0, DP_ENTITY_RULE, DP_ENTITY_ENDPOINT_ADDR, DP_ENTITY_TARGET };
bool dp_entity_counters_read(const struct dp_plane *plane, enum dp_entity kind, uint32_t index,
			     struct dp_entity_counters *out);
/* A target's RTT statistics summed over lcores (P90 from the merged histogram), in ns. */
/* Lcore i's cache statistics; false when it has no cache. */
bool dp_cache_stats_read(const struct dp_plane *plane, unsigned lcore, struct cache_stats *out);
bool dp_target_rtt(const struct dp_plane *plane, uint32_t target, uint64_t *srtt_ns,
		   uint64_t *p90_ns);
/* Prints every non-zero counter, per lcore and summed (the daemon calls it on SIGUSR1, at exit). */
void dp_counters_print(const struct dp_plane *plane, FILE *out);

#endif
