/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dp tests' bench: an in-process EAL (no hugepages, no PCI), one ring-backed port polled by
 * one data lcore, a fake clock, io's next-hop table and exception rings, a hand-built set of tables
 * (two VPCs sharing 10.0.0.0/16 on VLANs 10 and 20, one endpoint with two addresses on VLAN 100,
 * two targets behind one gateway) and helpers that build client queries and target answers with
 * dp/wire.
 */
#ifndef VPCDNS_TESTS_DP_HARNESS_H
#define VPCDNS_TESTS_DP_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp/dp.h"
#include "dp/io/io.h"

#define H_VLAN_VPC0	10
#define H_VLAN_VPC1	20
#define H_VLAN_ENDPOINT 100
#define H_PORT_LO	10000
#define H_PORT_HI	19999
#define H_CLIENT_PORT	40000
#define H_RULE_EXAMPLE	0
#define H_ZONE_ID	77
#define H_FRAME_MAX	2048

extern const uint8_t h_client_ip[4], h_outsider_ip[4], h_resolver_ip[4];
extern const uint8_t h_endpoint_ip[2][4], h_target_ip[2][4];
extern const uint8_t h_client_mac[6], h_gateway_mac[6];
extern const uint8_t h_gateway_ip[4];
/* The targets' next hop in io's table (made with h_neigh_params): h.gateway, static with
 * h_gateway_mac unless a test defines it again. */
#define H_NEXTHOP_GATEWAY 0
extern const struct io_neigh_params h_neigh_params;
extern const uint8_t h_client_ip6[16], h_resolver_ip6[16];
#define H_LCORES_MAX 2
#define H_QUEUES_MAX 4

struct harness {
	struct rte_mempool *pool;
	unsigned n_lcores;
	struct rte_ring *rx[H_QUEUES_MAX], *tx[H_LCORES_MAX], *exception[H_LCORES_MAX];
	uint16_t port;
	struct rte_ether_addr port_mac;
	struct io_neigh_table *neigh;
	struct io_nexthop gateway; /* on the endpoint's VLAN, asked from its first address */
	struct dp_plane *plane;
	uint64_t now;
};
extern struct harness h;
/* The engine of the VPCs' match tables h_setup builds (the suffix engine unless a test says). */
extern enum match_engine h_match_engine;
/* The port's checksum offloads (DP_TX_CKSUM_*) h_setup tells the plane (none unless a test says).
 */
extern uint8_t h_tx_offload;
/* RX queues of the port (0: one per lcore), as io gives net_tap more than the lcores. */
extern uint16_t h_rx_queues;
/* The tables' tunables (all zero, so no rate limit, unless a test says). */
extern struct dp_tunables h_tunables;
/* Each lcore's cache (max_bytes 0, so none, unless a test says). */
extern struct cache_params h_cache;

/* Adds the tables' static zone answers, VPCs already added (none unless a test says). */
extern void (*h_statics)(struct dp_tables_builder *b);

/* EAL, port, tables and plane; tries is the flow tables' tries per query; lcore i polls queue i. */
void h_setup(unsigned tries, unsigned n_lcores);
void h_teardown(void);
/* The tables h_setup publishes, built anew (to publish again). */
struct dp_tables *h_tables(void);
/* The same tables with the VPCs in the other order: VLAN 20's first (index 0), then VLAN 10's. */
struct dp_tables *h_tables_vpcs_swapped(void);
/* h_tables, NULL with dp_tables_build's sentence in err when it fails. */
struct dp_tables *h_tables_try(char *err, size_t errlen);

/* A client query frame; returns its length. edns 0: no OPT. */
struct h_query {
	uint16_t vlan;
	const uint8_t *src_ip; /* default h_client_ip */
	const uint8_t *dst_ip; /* default h_resolver_ip */
	const char *qname;     /* presentation form */
	uint16_t qtype;
	uint16_t id;
	uint16_t edns;
	uint8_t edns_version;
	uint16_t flags; /* 0: RD */
	bool v6;	/* from h_client_ip6 to h_resolver_ip6 unless src_ip/dst_ip say */
};
size_t h_build_query(uint8_t *frame, const struct h_query *q);

/* A target's answer to a forwarded frame (addresses and ports swapped, same ID and question). */
struct h_answer {
	uint8_t rcode;
	unsigned n_a; /* A records */
	bool aa;
	bool tc;
	uint16_t edns;	       /* 0: no OPT */
	const uint8_t *src_ip; /* default: the forwarded frame's destination */
	int id_delta;	       /* added to the ID (spoofing) */
};
size_t h_build_answer(uint8_t *frame, const uint8_t *fwd, size_t fwd_len, const struct h_answer *a);

/* Onto queue 0's (or queue q's) RX ring. */
/* tests/vectors/NAME (a DNS message) read into buf; its length. */
size_t h_vector(const char *name, uint8_t *buf, size_t cap);
/* A client query frame (IPv4, h_client_ip to h_resolver_ip) around a DNS message. */
size_t h_wrap_query(uint8_t *frame, uint16_t vlan, const uint8_t *dns, size_t len);
/* A target's answer to a forwarded frame around a DNS message, given the forwarded query's ID and
 * question (same name, case as we sent it). */
size_t h_wrap_answer(uint8_t *frame, const uint8_t *fwd, size_t fwd_len, const uint8_t *dns,
		     size_t len);

void h_inject(const uint8_t *frame, size_t len);
void h_inject_q(unsigned q, const uint8_t *frame, size_t len);
/* Polls every lcore once, in order (or lcore i only). */
void h_poll(void);
void h_poll_lcore(unsigned i);
/* The next frame sent on queue 0 (or q), copied into out; 0 when none. */
size_t h_take(uint8_t *out);
size_t h_take_q(unsigned q, uint8_t *out);
/* Parses a sent frame and its DNS message (a response or a query). */
void h_parse_sent(const uint8_t *frame, size_t len, struct wire_pkt *pkt, struct wire_dns_msg *m,
		  bool response);
struct dp_lcore_counters h_counters(void);

#endif
