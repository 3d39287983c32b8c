/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/recurse: iterative resolution from the root for the "." rule and SYSTEM rules, by libunbound
 * running on the control core's libevent loop (no thread, never blocking). It owns the unbound
 * context and its options (root hints, source addresses and ports, cache bound, no DNSSEC, no
 * EDNS Client Subnet), the resolutions in flight (bounded: past the bound a query is refused), a
 * deadline per resolution, and the counters of what came of them. Its queries go out through the
 * kernel's sockets, never through the data plane.
 */
#ifndef VPCDNS_CTL_RECURSE_H
#define VPCDNS_CTL_RECURSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;
struct recurse;
struct recurse_query;

struct recurse_params {
	const char *root_hints; /* a root hints file; NULL: unbound's built-in internet root */
	const char *const *source_addresses; /* addresses queries leave from; none: the kernel's */
	size_t n_source_addresses;
	uint16_t source_port_min; /* UDP source ports unbound may use; 0, 0: unbound's default */
	uint16_t source_port_max;
	uint64_t cache_max_bytes; /* message and RRset caches together */
	uint32_t max_inflight;	  /* resolutions at once; recurse_resolve refuses more */
	uint32_t timeout_ms;	 /* a resolution still running then ends in SERVFAIL; 0: no limit */
	bool query_localhost;	 /* ask name servers on 127.0.0.0/8 and ::1 (tests on loopback) */
	bool qname_minimisation; /* RFC 9156: each server sees only the labels it needs */
};

/* Every outcome hands done a whole DNS message (ID 0, QR RD RA, the question as asked): the
 * caller sets its client's ID and sends it on. */
enum recurse_status {
	RECURSE_RESOLVED, /* the iteration's answer: its rcode is NOERROR, NXDOMAIN, SERVFAIL ... */
	RECURSE_FAILED,	  /* unbound gave no answer: a SERVFAIL made here */
	RECURSE_TIMED_OUT, /* timeout_ms passed first: a SERVFAIL made here */
};

/* answer is valid only during the call. */
typedef void (*recurse_done_fn)(void *arg, enum recurse_status status, const uint8_t *answer,
				size_t len);

/* Fills err and returns NULL when unbound refuses an option. base must outlive the result. */
struct recurse *recurse_create(struct event_base *base, const struct recurse_params *params,
			       char *err, size_t errlen);
/* Ends every resolution in flight without calling their done. Not from inside a done. */
void recurse_destroy(struct recurse *r);

/* Starts resolving (qname: uncompressed wire form, qname_len octets with the root label). done is
 * called exactly once, later, from the event loop, never from inside this call; after it returns
 * the handle is gone. NULL, with no call to done, when max_inflight resolutions are running or
 * the name is not a wire name (both counted). */
struct recurse_query *recurse_resolve(struct recurse *r, const uint8_t *qname, size_t qname_len,
				      uint16_t qtype, uint16_t qclass, recurse_done_fn done,
				      void *arg);
/* For a caller whose client went away: done will not be called. Only before done has run. */
void recurse_cancel(struct recurse *r, struct recurse_query *q);

enum recurse_counter {
	RECURSE_STARTED,
	RECURSE_ANSWERED_NOERROR,
	RECURSE_ANSWERED_NXDOMAIN,
	RECURSE_ANSWERED_SERVFAIL, /* SERVFAIL from the iteration (targets failed, lame, ...) */
	RECURSE_ANSWERED_OTHER,	   /* REFUSED, FORMERR, NOTIMP ... */
	RECURSE_FAILED_UNBOUND,	   /* unbound refused to start one or gave no answer */
	RECURSE_TIMEOUTS,
	RECURSE_REFUSED_LIMIT, /* max_inflight reached */
	RECURSE_REFUSED_NAME,  /* not a wire name */
	RECURSE_CANCELLED,
	RECURSE__COUNTERS
};
const char *recurse_counter_name(enum recurse_counter c);
uint64_t recurse_counter(const struct recurse *r, enum recurse_counter c);
uint32_t recurse_inflight(const struct recurse *r);

#endif
