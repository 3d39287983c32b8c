/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/slow: the slow path's resolution of one client query on the control core. It owns deciding
 * what answers a query the lcores could not (a TCP client's, a private hosted zone's or an
 * auto-defined name's, a delegated or recursive name's, a target's truncated answer), asking it
 * (ctl/local, ctl/upstream from the rule's endpoint addresses through the kernel, ctl/recurse), and
 * turning what came back into the client's answer: the client's ID, QR and RA, RD and CD as asked,
 * never AA or AD, the client's EDNS view, cut to what its transport carries with TC=1. Forward and
 * delegate rules try their targets from their endpoint addresses in turn, as the lcores do (a
 * REFUSED, SERVFAIL or silence moves on to the next), UDP first and TCP when truncated. An answer
 * that ends in a CNAME whose target no record of the answer resolves is completed by resolving
 * that target under its own rule (a chain of at most SLOW_CHAIN_MAX; a loop ends in SERVFAIL).
 * Every query ends in exactly one call of its done, unless cancelled.
 */
#ifndef VPCDNS_CTL_SLOW_H
#define VPCDNS_CTL_SLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl/config/config.h"
#include "ctl/kernel/kernel.h"
#include "ctl/slow/answer.h"
#include "dp/cache/cache.h"
#include "dp/match/match.h"

#define SLOW_CHAIN_MAX	  8	/* CNAMEs followed across rules for one query */
#define SLOW_ANSWER_MAX	  65535 /* the largest message TCP carries */
#define SLOW_DEFAULT_JOBS 16384 /* beyond, slow_start refuses (busy): memory stays bounded */

struct event_base;
struct local;
struct upstream;
struct recurse;
struct slow;
struct slow_job;

/* Matches a name (uncompressed wire form) in VPC vpc's table: match_lookup's status. */
typedef int slow_match_fn(void *ctx, uint32_t vpc, const uint8_t *name, size_t len,
			  struct match_result *out);

struct slow_params {
	struct event_base *base;
	const struct config *cfg;
	slow_match_fn *match; /* the daemon's: dp_match_name on the published tables */
	void *match_ctx;
	const struct local *local;
	struct upstream *upstream;
	struct recurse *recurse; /* NULL: recursive names are answered SERVFAIL (counted) */
	/* the config rule of each dp rule index (the lcores' FORWARD ids), n_dp_rules of them */
	const uint32_t *rule_of_dp;
	size_t n_dp_rules;
	const kernel_ifname *endpoint_link; /* per config endpoint; "" when it has no TAP */
	uint16_t edns_udp_size;		    /* advertised to clients */
	uint16_t upstream_udp_size;	    /* advertised to targets (0: edns_udp_size) */
	unsigned tries;			    /* per query across targets (the config's) */
	unsigned max_jobs;		    /* queries in flight at once; 0: SLOW_DEFAULT_JOBS */
	/* the slow path's own answer cache (a dp/cache of the control core's), or NULL: forward,
	 * delegate and recursive answers are kept there and answer repeats (TCP clients' above
	 * all), and an expired one answers when every try fails (RFC 8767) */
	struct cache *cache;
	uint32_t try_timeout_ms;
};

struct slow *slow_new(const struct slow_params *p, char *err, size_t errlen);
/* Ends every query in flight, calling each one's done with no answer (NULL, 0) so that the caller
 * frees what it tied to it. */
void slow_free(struct slow *sl);

struct slow_request {
	uint32_t vpc;
	const uint8_t *query; /* the client's message; copied */
	size_t len;
	/* the lcore's match of the name; NULL: matched here */
	const struct match_result *match;
	/* a TCP fallback: the config target (index into its rule's targets) that truncated, asked
	 * first and straight over TCP; -1: none */
	int tcp_target;
	/* the most the client's transport carries in one message: its link less headers for UDP
	 * (its EDNS size, or 512, applies too), SLOW_ANSWER_MAX for TCP */
	size_t link;
	bool over_tcp; /* the client asked over TCP: its EDNS size does not limit the answer */
};

/* answer (len octets) is the client's, valid during the call only; NULL from slow_free. */
typedef void slow_done_fn(void *arg, const uint8_t *answer, size_t len);

/* Starts resolving; done is called once, later (never from inside this call). NULL when the query
 * cannot be taken (counted): the caller answers it itself (SERVFAIL) or drops it. */
struct slow_job *slow_start(struct slow *sl, const struct slow_request *r, slow_done_fn *done,
			    void *arg);
/* The client went away: done will not be called. */
void slow_cancel(struct slow *sl, struct slow_job *job);

enum slow_counter {
	SLOW_C_STARTED,
	SLOW_C_LOCAL,	     /* answered from a zone or auto-defined name */
	SLOW_C_FORWARDED,    /* answered by a forward or delegate rule's target */
	SLOW_C_RECURSED,     /* answered by recursion */
	SLOW_C_CHASED,	     /* CNAME targets resolved under their own rules */
	SLOW_C_SERVFAIL,     /* ended in SERVFAIL made here (every try failed, a loop, ...) */
	SLOW_C_TRIES_FAILED, /* tries that timed out, failed or were refused by the target */
	SLOW_C_TRUNCATED,    /* answers cut to the client's size with TC=1 */
	SLOW_C_NO_RECURSION, /* recursive names with no recursion configured */
	SLOW_C_CHAIN_TOO_LONG,
	SLOW_C_LOOP,
	SLOW_C_BAD_QUERY,
	SLOW_C_BUSY, /* refused: max_jobs, upstream or recursion at their limits, out of memory */
	SLOW_C_CANCELLED,
	SLOW_C_CACHE_HITS, /* answered from the slow path's cache, fresh */
	SLOW_C_STALE,	   /* answered from it stale, after every try failed */
	SLOW_C__COUNT
};
const char *slow_counter_name(enum slow_counter c);
uint64_t slow_counter(const struct slow *sl, enum slow_counter c);

#endif
