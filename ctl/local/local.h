/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/local: the answers the resolver gives from what it holds itself, with no upstream: private
 * hosted zones (records, in-zone CNAME chains, wildcards, NXDOMAIN and NODATA with the SOA) for
 * the VPCs they are associated with, and the auto-defined names (ip-a-b-c-d.<region>.compute.
 * internal for addresses in the VPC's CIDRs and their PTRs, localhost, and the RFC 6303 reverse
 * zones, which answer NXDOMAIN). It turns a client's query into a whole answer in a buffer, in the
 * client's EDNS view and cut to its size with TC=1; and it lists the zone answers that depend on
 * nothing but the question, for the lcores to answer themselves. No DPDK, so unit tests drive it
 * directly.
 */
#ifndef VPCDNS_CTL_LOCAL_H
#define VPCDNS_CTL_LOCAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl/config/config.h"
#include "dp/match/match.h"

#define LOCAL_CHAIN_MAX	 8    /* CNAMEs followed inside a zone */
#define LOCAL_ANSWER_MAX 4096 /* past it an answer goes out TC=1 (the client retries over TCP) */

struct local;

/* Indexes every zone's records. cfg and tables must outlive it. NULL with err on failure. */
struct local *local_new(const struct config *cfg, const struct config_tables *tables, char *err,
			size_t errlen);
void local_free(struct local *l);

/* Why an answer could not be made (the caller answers SERVFAIL and counts the reason). */
enum local_status {
	LOCAL_OK = 0,
	LOCAL_NOT_LOCAL, /* not a zone or auto-defined name (a rule's, "."...) */
	LOCAL_DELEGATED, /* below a zone cut with no delegate rule (a delegate rule's names go to
			  * ctl/slow, which follows the referral: local_delegation) */
	LOCAL_BAD_QUERY, /* the query does not parse */
	LOCAL_NO_ROOM,	 /* out is too small */
	LOCAL__STATUS_COUNT
};
const char *local_status_name(enum local_status s);

/*
 * Answers query (qlen octets) in VPC vpc (an index into cfg->vpcs), governed by the match result
 * (kind, id) as the lcore found it, into out (cap octets). edns_size: the size the resolver
 * advertises in its OPT (added only if the query had one); link: the most the client's link
 * carries in one datagram (its EDNS size, or 512 without, applies too). *len gets the length.
 */
enum local_status local_answer(const struct local *l, uint32_t vpc, enum match_kind kind,
			       uint32_t id, const uint8_t *query, size_t qlen, uint8_t *out,
			       size_t cap, uint16_t edns_size, size_t link, size_t *len);

/*
 * A static answer: one that depends on nothing in a query but its (name, type, class), so the
 * data plane may keep it and answer it on the lcore. msg is local_answer's answer to a query with
 * ID 0 and RD, without an OPT (none in the answer) and never truncated; valid during the call.
 */
struct local_static {
	uint32_t zone;	      /* the zone's index in the config: the MATCH_ZONE id */
	const uint8_t *qname; /* wire form, lower case */
	size_t qname_len;
	uint16_t qtype, qclass;
	const uint8_t *msg;
	size_t len;
};
/* Takes one static answer; false to stop the enumeration (out of memory). */
typedef bool (*local_static_fn)(void *ctx, const struct local_static *a);

/*
 * Gives fn the static answers of every private hosted zone associated with VPC vpc, class IN:
 * for each owner in the zone, its own types, A and AAAA (NODATA where it owns none of them), and
 * for an alias every type owned along its in-zone chain (the chain and its end). Left out, for the
 * slow path: wildcards (the lcore would need the closest encloser), names at or below a zone cut,
 * answers that end in a CNAME leaving the zone, CNAME loops, answers over LOCAL_ANSWER_MAX. The
 * caller checks that the VPC's match gives each name to that zone (a more specific zone or rule
 * may take it). Returns how many fn took, or -1 when it said stop.
 */
long local_static_answers(const struct local *l, uint32_t vpc, local_static_fn fn, void *ctx);

/* A name server of a delegation out of a private hosted zone, with the zone's glue for it. */
#define LOCAL_GLUE_MAX 4
#define LOCAL_NS_MAX   8
struct local_ns {
	uint8_t name[255]; /* wire form, lower case */
	uint8_t name_len;
	uint8_t n_glue;
	struct config_addr glue[LOCAL_GLUE_MAX];
};

/*
 * The referral a private hosted zone of VPC vpc makes for name (wire form): the NS records at the
 * deepest zone cut at or above name, in the most specific zone associated with the VPC that holds
 * it, each with its A and AAAA glue from that zone (none for a name server outside it). Fills at
 * most cap entries of out; returns how many (0: no zone cut above name).
 */
size_t local_delegation(const struct local *l, uint32_t vpc, const uint8_t *name, size_t len,
			struct local_ns *out, size_t cap);

#endif
