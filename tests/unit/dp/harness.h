/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dp tests' bench: an in-process EAL (no hugepages, no PCI), one ring-backed port polled by
 * one data lcore, a fake clock, io's stand-in neighbour table, a hand-built set of tables (two
 * VPCs sharing 10.0.0.0/16 on VLANs 10 and 20, one endpoint with two addresses on VLAN 100, two
 * targets) and helpers that build client queries and target answers with dp/wire.
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

struct harness {
	struct rte_mempool *pool;
	struct rte_ring *rx, *tx, *exception;
	uint16_t port;
	struct rte_ether_addr port_mac;
	struct io_neigh_entry neigh_entries[4];
	struct io_neigh_table neigh;
	struct dp_plane *plane;
	uint64_t now;
};
extern struct harness h;

/* EAL, port, tables and plane; tries is the flow tables' tries per query. */
void h_setup(unsigned tries);
void h_teardown(void);

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
};
size_t h_build_query(uint8_t *frame, const struct h_query *q);

/* A target's answer to a forwarded frame (addresses and ports swapped, same ID and question). */
struct h_answer {
	uint8_t rcode;
	unsigned n_a; /* A records */
	bool aa;
	uint16_t edns;	       /* 0: no OPT */
	const uint8_t *src_ip; /* default: the forwarded frame's destination */
	int id_delta;	       /* added to the ID (spoofing) */
};
size_t h_build_answer(uint8_t *frame, const uint8_t *fwd, size_t fwd_len, const struct h_answer *a);

void h_inject(const uint8_t *frame, size_t len);
void h_poll(void);
/* The next frame the lcore sent, copied into out; 0 when none. */
size_t h_take(uint8_t *out);
/* Parses a sent frame and its DNS message (a response or a query). */
void h_parse_sent(const uint8_t *frame, size_t len, struct wire_pkt *pkt, struct wire_dns_msg *m,
		  bool response);
struct dp_lcore_counters h_counters(void);

#endif
