/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/config: the operator's YAML config, from file to per-VPC match tables. It owns the config
 * model (interfaces, VPCs, endpoints, resolver rules, private hosted zones and their records,
 * tunables), its validation (every error names FILE:LINE, the object and what would be right), and
 * its compilation into one dp/match table per VPC. The schema is documented in
 * ctl/config/README.md.
 *
 * Ids handed to match_builder_add (and so found in match_result.id):
 *   MATCH_FORWARD, MATCH_SYSTEM, MATCH_DELEGATE: index into config.rules
 *   MATCH_ZONE:                                  index into config.zones
 *   MATCH_AUTO:                                  index into that VPC's config_vpc_table.auto_rules
 *   MATCH_RECURSIVE:                             MATCH_ID_NONE (the table's built-in "." rule)
 */
#ifndef VPCDNS_CTL_CONFIG_H
#define VPCDNS_CTL_CONFIG_H

/* Each data lcore's share of cache_max_bytes: dp/cache's bounds (64 KiB, 2 GiB). */
#define CONFIG_CACHE_LCORE_MIN (64u << 10)
#define CONFIG_CACHE_LCORE_MAX (2ull << 30)

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dp/match/match.h"

#define CONFIG_MAX_ERRORS	  50
#define CONFIG_MAX_TARGETS	  6
#define CONFIG_MIN_ENDPOINT_ADDRS 2
#define CONFIG_MAX_ENDPOINT_ADDRS 6
#define CONFIG_INDEX_NONE	  UINT32_MAX

/* --- errors --- */

struct config_error {
	char *file;    /* the config or zone file, as the operator named it */
	unsigned line; /* 1-based; 0 when no line applies (the file cannot be opened) */
	char *text;    /* "CONTEXT: MESSAGE" */
};

struct config_errors {
	struct config_error list[CONFIG_MAX_ERRORS];
	size_t count;
	size_t dropped; /* errors found past the cap */
};

/* Prints each error as "FILE:LINE: CONTEXT: MESSAGE", then how many were left out. */
void config_errors_print(const struct config_errors *errs, FILE *out);
void config_errors_free(struct config_errors *errs);

/* --- the model --- */

struct config_addr {
	uint8_t family; /* 4 or 6 */
	uint8_t bytes[16];
};

struct config_prefix {
	struct config_addr addr;
	uint8_t len;
	unsigned line;
};

/* A reference by name to another object, resolved by validation. */
struct config_ref {
	char *name;
	unsigned line;
	uint32_t index; /* into the referenced array; CONFIG_INDEX_NONE when absent */
};

/* A neighbour whose MAC is configured rather than learnt by ARP or ND. */
struct config_neighbour {
	struct config_addr addr;
	uint8_t mac[6];
	unsigned line;
};

#define CONFIG_KERNEL_IFNAME_MAX 10 /* IFNAMSIZ less a VLAN suffix ".4094" */

/* Who takes the NIC's frames: DPDK all of them (passing what the lcores do not serve to a TAP), or
 * in XDP mode only the DNS flows vpcdns owns, steered by bpf/steer.bpf.c, the rest going straight
 * to the kernel's own interface (a NIC shared with the host). */
enum config_interface_mode { CONFIG_MODE_FULL_NIC, CONFIG_MODE_XDP };

struct config_interface {
	char *name;
	char *device; /* a DPDK device string: PCI address or vdev with ,key=value args */
	unsigned line;
	uint32_t mtu; /* IP packet size on the link; 0: the driver's default */
	/* the kernel interface (a TAP) that takes TCP and the rest the lcores pass on; NULL: none.
	 * In XDP mode the NIC's own kernel interface (the device's iface=). */
	char *kernel_interface;
	enum config_interface_mode mode;
	struct config_neighbour *neighbours;
	size_t n_neighbours;
};

struct config_vpc {
	char *id;
	unsigned line;
	struct config_ref interface;
	uint16_t vlan; /* 0 = untagged */
	struct config_prefix *cidrs;
	size_t n_cidrs;
	bool cidrs_complete; /* every CIDR listed parsed: address containment checks can be trusted
			      */
	struct config_addr *resolver_addresses; /* defaults filled in when not given */
	size_t n_resolver_addresses;
	/* The VPC router: targets outside the VPC's CIDRs are reached through it. The base + 1 of
	 * the first IPv4 CIDR unless given (the address a cloud VPC gives its router). */
	struct config_addr gateway;
	unsigned gateway_line; /* 0 when it is the default */
	bool enable_dns_hostnames;
	bool reverse_auto_rules;
	struct config_ref *zones; /* after validation: every associated zone, from either side */
	size_t n_zones;
};

enum config_direction { CONFIG_INBOUND, CONFIG_OUTBOUND };

struct config_endpoint {
	char *id;
	unsigned line;
	enum config_direction direction;
	struct config_ref vpc;
	struct config_ref interface; /* defaults to the VPC's */
	uint16_t vlan;		     /* defaults to the VPC's */
	struct config_addr addresses[CONFIG_MAX_ENDPOINT_ADDRS];
	unsigned address_lines[CONFIG_MAX_ENDPOINT_ADDRS];
	size_t n_addresses;
};

enum config_rule_type { CONFIG_RULE_FORWARD, CONFIG_RULE_SYSTEM, CONFIG_RULE_DELEGATE };

struct config_target {
	struct config_addr addr;
	uint16_t port;
	unsigned line;
};

struct config_rule {
	char *id;
	char *name;
	unsigned line;
	enum config_rule_type type;
	char *domain;		    /* lower case, no trailing dot; "." for the root */
	struct config_ref endpoint; /* index CONFIG_INDEX_NONE for system rules */
	struct config_target targets[CONFIG_MAX_TARGETS];
	size_t n_targets;
	struct config_ref *vpcs;
	size_t n_vpcs;
};

/* Zone records, packed: owner length (1), owner in wire form, type (2), class (2), TTL (4), rdata
 * length (2), rdata; integers in host order. Walk them with config_zone_next_record. */
struct config_zone_record {
	const uint8_t *owner;
	uint8_t owner_len;
	uint16_t type;
	uint16_t rclass;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdata_len;
};

struct config_zone {
	char *id; /* what VPCs' hosted_zones name; the zone's name unless given; case-insensitive */
	char *name; /* lower case, no trailing dot; tenants may each have a zone of the same name */
	char *file; /* as written in the config */
	char *path; /* resolved against the config file's directory */
	unsigned line;
	unsigned file_line; /* of the 'file' key, where errors about the file point */
	struct config_ref *vpcs;
	size_t n_vpcs;
	uint8_t *records;
	size_t records_len;
	size_t n_records;
	size_t n_delegations; /* distinct owners of NS records below the apex */
};

/* Walks a zone's records: start with *offset = 0; returns false after the last one. */
bool config_zone_next_record(const struct config_zone *zone, size_t *offset,
			     struct config_zone_record *out);

enum config_outside_policy { CONFIG_OUTSIDE_REFUSE, CONFIG_OUTSIDE_DROP };

struct config_tunables {
	uint32_t retry_timeout_initial_ms;
	uint32_t retry_timeout_min_ms;
	uint32_t retry_timeout_max_ms;
	uint32_t tries;
	uint32_t edns_udp_size;
	uint64_t cache_max_bytes; /* split evenly among the data lcores' caches */
	uint32_t cache_ttl_min_s;
	uint32_t cache_ttl_max_s;
	uint32_t negative_ttl_max_s;
	uint32_t servfail_ttl_s;
	uint32_t stale_window_s;
	uint32_t stale_ttl_s;
	uint32_t rate_limit_pps;
	enum config_outside_policy refuse_outside_cidrs;
	uint32_t tcp_idle_timeout_ms;
	uint32_t max_inflight;
	uint32_t data_lcores;		/* poll-mode cores, one RX/TX queue pair each */
	uint32_t eal_memory_mb;		/* DPDK memory without hugepages (EAL -m) */
	uint32_t neighbour_reachable_s; /* a learnt MAC is re-resolved after this */
};

#define CONFIG_MAX_RECURSION_SOURCES 16

/* The `recursion:` section: how ctl/recurse resolves the "." rule and SYSTEM rules itself. */
struct config_recursion {
	bool given; /* the section is in the file (else all below are defaults) */
	unsigned line;
	char *root_hints; /* as written; NULL: the internet's root servers, built into unbound */
	char *root_hints_path; /* resolved against the config file's directory */
	unsigned root_hints_line;
	struct config_addr
	    source_addresses[CONFIG_MAX_RECURSION_SOURCES]; /* none: the kernel picks */
	size_t n_source_addresses;
	uint16_t source_port_min; /* the UDP ports unbound may use; 0, 0: its own default */
	uint16_t source_port_max;
	uint32_t max_inflight;	  /* resolutions at once; more are refused and counted */
	uint32_t timeout_ms;	  /* a resolution not done by then answers SERVFAIL */
	uint64_t cache_max_bytes; /* unbound's message and RRset caches together */
};

struct config {
	char *path; /* as given to config_load */
	char *region;
	char *account_id;
	struct config_interface *interfaces;
	size_t n_interfaces;
	struct config_vpc *vpcs;
	size_t n_vpcs;
	struct config_endpoint *endpoints;
	size_t n_endpoints;
	struct config_rule *rules;
	size_t n_rules;
	struct config_zone *zones;
	size_t n_zones;
	struct config_tunables tunables;
	struct config_recursion recursion;
};

/* The documented defaults (README.md), as config_load applies them. */
void config_tunables_default(struct config_tunables *out);

/* Loads, checks and resolves a config and its zone files. Returns NULL and fills errs (zeroed by
 * the caller) when anything is wrong; every error found is reported, up to CONFIG_MAX_ERRORS. */
struct config *config_load(const char *path, struct config_errors *errs);
void config_free(struct config *cfg);

const char *config_rule_type_name(enum config_rule_type type);
const char *config_direction_name(enum config_direction direction);
/* True when a lies inside one of the VPC's CIDRs. */
bool config_vpc_contains(const struct config_vpc *vpc, const struct config_addr *a);
/* The socket address of a with port (host order). */
struct sockaddr_storage;
void config_addr_sockaddr(const struct config_addr *a, uint16_t port, struct sockaddr_storage *out);
/* "172.31.0.2", "fd00:ec2::253" */
void config_addr_format(const struct config_addr *addr, char *buf, size_t len);

/* --- compilation to match tables --- */

struct config_auto_rule {
	char domain[80]; /* the longest is an ip6.arpa name of 32 nibbles: 73 characters */
	bool reverse;
};

struct config_vpc_table {
	struct match_table *table;
	struct config_auto_rule *auto_rules; /* the MATCH_AUTO ids index this */
	size_t n_auto_rules;
	size_t n_auto_reverse;
};

struct config_tables {
	enum match_engine engine;
	struct config_vpc_table *vpcs; /* parallel to config.vpcs */
	size_t n_vpcs;
	size_t entries;	      /* over all tables */
	size_t bytes;	      /* over all tables */
	double build_seconds; /* wall time of config_compile */
};

/* Builds one table per VPC. NULL with errors in errs (zeroed by the caller) on failure. */
struct config_tables *config_compile(const struct config *cfg, enum match_engine engine,
				     struct config_errors *errs);
/* The same, with the ids of FORWARD entries taken from forward_ids[rule index] (the data plane's
 * own rule indices); other kinds keep the ids above. */
struct config_tables *config_compile_ids(const struct config *cfg, enum match_engine engine,
					 const uint32_t *forward_ids, struct config_errors *errs);
void config_tables_free(struct config_tables *tables);

/* The `vpcdnsd --check` summary: counts of everything, table sizes and build time. */
void config_summary_print(const struct config *cfg, const struct config_tables *tables, FILE *out);

/* One line: which rule, zone, auto-defined rule or "." governs name in VPC vpc_id, and where a
 * forward or delegate rule sends it. -1 (with the reason printed) for an unknown VPC or bad name.
 */
int config_explain(const struct config *cfg, const struct config_tables *tables, const char *vpc_id,
		   const char *name, FILE *out);

#endif
