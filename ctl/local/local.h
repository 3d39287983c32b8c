/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/local: the answers the resolver gives from what it holds itself, with no upstream: private
 * hosted zones (records, in-zone CNAME chains, wildcards, NXDOMAIN and NODATA with the SOA) for
 * the VPCs they are associated with, and the auto-defined names (ip-a-b-c-d.<region>.compute.
 * internal for addresses in the VPC's CIDRs and their PTRs, localhost, and the RFC 6303 reverse
 * zones, which answer NXDOMAIN). It turns a client's query into a whole answer in a buffer, in the
 * client's EDNS view and cut to its size with TC=1; no DPDK, so unit tests drive it directly.
 */
#ifndef VPCDNS_CTL_LOCAL_H
#define VPCDNS_CTL_LOCAL_H

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
	LOCAL_DELEGATED, /* below a zone cut with no delegate rule: referrals are not followed yet
			  */
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

#endif
