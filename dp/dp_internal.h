/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp internals shared by tables.c (which builds them) and lcore.c (which reads them): the layout of
 * the immutable tables and the address index. Not part of dp's public face (dp.h).
 */
#ifndef VPCDNS_DP_INTERNAL_H
#define VPCDNS_DP_INTERNAL_H

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

struct dp_tables {
	struct dp_tunables tunables;
	uint32_t n_vpcs, n_endpoints, n_endpoint_addrs, n_targets, n_rules;
	struct dp_vpc *vpcs;
	struct dp_endpoint *endpoints;
	struct dp_endpoint_addr *endpoint_addrs;
	struct dp_target *targets;
	struct dp_rule *rules;
	uint32_t addr_mask; /* slots - 1 */
	struct dp_addr_slot *addr_slots;
};

/* True when addr (family 4 or 6) lies inside one of the VPC's CIDRs. */
bool dp_vpc_has_client(const struct dp_vpc *v, uint8_t family, const uint8_t *addr);

#endif
