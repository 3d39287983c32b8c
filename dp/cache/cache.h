/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/cache: one data lcore's answer cache. Answers are kept in wire form, in a log (a circular
 * byte arena: bounded memory, variable-sized entries, no allocation after creation) indexed by a
 * set-associative hash of (view, name folded to lower case, type, class). A hit is written
 * straight into the outgoing buffer with every TTL aged by the time since the answer came in.
 * Positive answers live by their smallest TTL, negative ones (NXDOMAIN, NODATA) by their SOA
 * (RFC 2308), both within the tunable floor and ceiling; SERVFAILs a few seconds; truncated
 * answers never. Eviction is first in, first out, except that a hit on an entry near the log's
 * tail copies it to the head, so entries in use outlive the ones that are not. Expired answers
 * stay findable as stale within the stale window (RFC 8767). Single-threaded: one per lcore.
 * Uses dp/wire and libc only.
 */
#ifndef VPCDNS_DP_CACHE_H
#define VPCDNS_DP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp/wire/wire.h"

#define CACHE_MIN_BYTES	   (64u << 10)
#define CACHE_MSG_MAX	   4096 /* larger answers are not kept */
#define CACHE_PREFETCH_PCT 10	/* a hit in the last 10% of an entry's life asks for a refresh */

struct cache_params {
	size_t max_bytes; /* the whole cache: index and log; at least CACHE_MIN_BYTES */
	uint32_t ttl_min_s, ttl_max_s;
	uint32_t negative_ttl_max_s;
	uint32_t servfail_ttl_s; /* 0: SERVFAILs are not kept */
	uint32_t stale_window_s; /* how long past expiry an answer may still serve; 0: never */
	uint32_t stale_ttl_s;	 /* the TTL a stale answer carries */
};

/* Whose answer: view keeps tenants apart (two views never share an entry). */
struct cache_key {
	uint64_t view;
	const uint8_t *qname; /* wire form, any case, qname_len octets */
	uint8_t qname_len;
	uint16_t qtype, qclass;
	uint64_t qname_hash; /* wire_name_hash(qname): the parse already computed it */
};

enum cache_state {
	CACHE_MISS = 0,
	CACHE_FRESH,
	CACHE_FRESH_REFRESH, /* fresh, in its last CACHE_PREFETCH_PCT: refresh it (said once) */
	CACHE_STALE,	     /* expired, within the stale window (only when asked for) */
};

struct cache_hit {
	uint32_t off; /* the entry's place in the log */
	enum cache_state state;
};

/* Why an answer was not kept; CACHE_KEPT when it was. */
enum cache_insert {
	CACHE_KEPT = 0,
	CACHE_NOT_TRUNCATED,   /* TC=1: not the whole answer */
	CACHE_NOT_RCODE,       /* an rcode other than NOERROR, NXDOMAIN and SERVFAIL */
	CACHE_NOT_NO_SOA,      /* negative without an SOA to time it (RFC 2308 5) */
	CACHE_NOT_ZERO_TTL,    /* a TTL of 0: use once */
	CACHE_NOT_TOO_BIG,     /* over CACHE_MSG_MAX, or more records than an entry indexes */
	CACHE_NOT_MALFORMED,   /* the message does not parse, or asks another question */
	CACHE_NOT_SERVFAIL_OFF /* a SERVFAIL with servfail_ttl_s 0 */
};
#define CACHE_INSERT__COUNT 8
const char *cache_insert_name(enum cache_insert r);

struct cache_stats {
	uint64_t hits, refreshes, stale_hits, misses;
	uint64_t kept, replaced; /* answers stored; of which over an older one of the same key */
	uint64_t not_kept[CACHE_INSERT__COUNT];
	uint64_t evictions;	 /* unexpired entries pushed out of the log or the index */
	uint64_t expirations;	 /* entries pushed out after their stale window ended */
	uint64_t promotions;	 /* entries in use copied to the log's head */
	uint64_t entries, bytes; /* in the log now (bytes: of entries) */
	uint64_t capacity_bytes; /* the log's size */
	uint64_t index_slots;
};

struct cache;

/* NULL when the params are out of range (err says which) or memory is short. */
struct cache *cache_new(const struct cache_params *p, char *err, size_t errlen);
void cache_free(struct cache *c);

/*
 * Looks k up at now_ns. Fresh entries (and, with allow_stale, stale ones) are hits; hit->state
 * says which. A hit marks the entry in use (it may move to the log's head).
 */
enum cache_state cache_lookup(struct cache *c, const struct cache_key *k, uint64_t now_ns,
			      bool allow_stale, struct cache_hit *hit);

/*
 * A stored answer in wire form, as the cache keeps its entries and dp's static zone answers are
 * kept: the whole message with no OPT, its question as asked (qname_len octets of name), and the
 * TTL fields cache_answer_write rewrites: each lowered by age_s, or set to stale_ttl_s when stale.
 * With no TTL fields (n_ttls 0) the TTLs go out as stored: a static answer never ages.
 */
struct cache_answer {
	const uint8_t *msg;
	const uint16_t *ttl_off; /* offsets of the TTL fields in msg */
	uint16_t msg_len, n_ttls;
	uint8_t qname_len;
	bool stale;
	uint32_t age_s, stale_ttl_s;
};

/*
 * The one writer of stored answers: writes a into buf (cap octets), which holds the asker's
 * query: its header and question are overwritten by the answer's except the question's name, type
 * and class, which stay as the asker wrote them (0x20 case), and the ID, which becomes id. No OPT:
 * the caller adds the client's. Returns the length, or 0 when cap is too small.
 */
size_t cache_answer_write(const struct cache_answer *a, uint16_t id, uint8_t *buf, size_t cap);

/* A hit's entry as a stored answer, its TTLs aged to now (or the stale TTL for a stale hit). */
void cache_hit_answer(const struct cache *c, const struct cache_hit *hit, uint64_t now_ns,
		      struct cache_answer *out);

/* cache_answer_write of a hit's answer (cache_hit_answer at now_ns). */
size_t cache_write(const struct cache *c, const struct cache_hit *hit, uint16_t id, uint8_t *buf,
		   size_t cap, uint64_t now_ns);

/* The rcode of a hit's answer (for counters and logs). */
unsigned cache_hit_rcode(const struct cache *c, const struct cache_hit *hit);

/* The length cache_write would write: the room the buffer needs. */
size_t cache_hit_len(const struct cache *c, const struct cache_hit *hit);

/*
 * Keeps a target's answer msg (len octets, as received: the OPT is dropped from the kept copy) to
 * the question of k, if it may be kept, in place of any entry of the same key. The TTLs the entry
 * ages from (the floor and ceiling applied; a negative answer's capped by its negative TTL) are
 * written into msg as well, so the client that waited sees what the next one will, aged.
 */
enum cache_insert cache_insert(struct cache *c, const struct cache_key *k, uint8_t *msg, size_t len,
			       uint64_t now_ns);

/*
 * The same for an answer the caller already parsed with wire_dns_parse_response into parsed and
 * rrs (rrs of CACHE_RRS_MAX, n the count it gave): the parse is not made again. rrs may be
 * rewritten (it is the caller's scratch); parsed is not.
 */
#define CACHE_RRS_MAX 256
enum cache_insert cache_insert_parsed(struct cache *c, const struct cache_key *k, uint8_t *msg,
				      size_t len, const struct wire_dns_msg *parsed,
				      struct wire_rr *rrs, size_t n, uint64_t now_ns);

void cache_stats_read(const struct cache *c, struct cache_stats *out);

/*
 * Walks the whole log and index and checks they agree: the log's entries follow one another from
 * tail to head and add up to what it counts as used, every index slot points at the start of one
 * of them (one slot per entry, one entry per key) in the bucket its hash names, and the stats'
 * entries and bytes are what the index holds. False, with why, at the first disagreement. For
 * tests and the control core's checks: it allocates, and takes time in the cache's size.
 */
bool cache_audit(const struct cache *c, char *why, size_t whylen);

#endif
