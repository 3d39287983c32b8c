/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/cache: the log (entries one after another, wrapping; the oldest reclaimed to make room), the
 * index (8-way buckets of hash tags and log offsets), and the TTL rules. See cache.h.
 */
#include "dp/cache/cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAYS		8
#define AVG_ENTRY	64 /* octets per index slot: the log runs out before the index does */
#define ALIGN		8
#define TTLS_MAX	(CACHE_RRS_MAX - 1)
#define TYPE_SOA	6
#define NS_PER_S	1000000000ull
#define F_REFRESH_ASKED 0x1
#define F_USED		0x2 /* hit since it came or moved */

struct bucket {
	uint32_t tag[WAYS]; /* the hash's upper half */
	uint32_t off[WAYS]; /* log offset + 1; 0: empty */
};

/* An entry in the log; its TTL offsets and the message follow. size 0 marks a wrap. */
struct entry {
	uint32_t size; /* octets the entry takes, header included, ALIGN-rounded */
	uint16_t msg_len, qtype, qclass;
	uint8_t qname_len, n_ttls, flags, rcode;
	uint64_t view, hash;
	uint64_t born_ns;    /* when the answer came: TTLs age from here */
	uint64_t expires_ns; /* born + its life */
	uint16_t ttl_off[];  /* then the message, from msg_start */
};

struct cache {
	struct cache_params p;
	uint8_t *log;
	uint32_t log_size;
	uint32_t head, tail; /* write here; reclaim from there */
	uint64_t used;	     /* octets between tail and head, wrap waste included */
	struct bucket *buckets;
	uint32_t bucket_mask;
	struct cache_stats st;
};

static const char *const insert_names[CACHE_INSERT__COUNT] = {
    [CACHE_KEPT] = "kept",
    [CACHE_NOT_TRUNCATED] = "truncated",
    [CACHE_NOT_RCODE] = "rcode",
    [CACHE_NOT_NO_SOA] = "no_soa",
    [CACHE_NOT_ZERO_TTL] = "zero_ttl",
    [CACHE_NOT_TOO_BIG] = "too_big",
    [CACHE_NOT_MALFORMED] = "malformed",
    [CACHE_NOT_SERVFAIL_OFF] = "servfail_off",
};

const char *cache_insert_name(enum cache_insert r)
{
	return (unsigned)r < CACHE_INSERT__COUNT ? insert_names[r] : "?";
}

static inline uint32_t round_up(uint32_t n)
{
	return (n + ALIGN - 1) & ~(uint32_t)(ALIGN - 1);
}

static inline uint8_t fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

static inline struct entry *entry_at(const struct cache *c, uint32_t off)
{
	return (struct entry *)(c->log + off);
}

static inline uint8_t *entry_msg(const struct entry *e)
{
	return (uint8_t *)e + round_up((uint32_t)(sizeof(*e) + 2u * e->n_ttls));
}

static uint64_t key_hash(const struct cache_key *k)
{
	uint64_t h = k->qname_hash ^ (k->view * 0x9e3779b97f4a7c15ull);
	h ^= ((uint64_t)k->qtype << 16 | k->qclass) * 0xc2b2ae3d27d4eb4full;
	return h ^ (h >> 29);
}

/* ---- creation ---- */

static bool params_ok(const struct cache_params *p, char *err, size_t errlen)
{
	const char *why = NULL;
	if (p->max_bytes < CACHE_MIN_BYTES)
		why = "max_bytes is below 64 KiB";
	else if (p->max_bytes > (2ull << 30))
		why = "max_bytes over 2 GiB for one lcore";
	else if (p->ttl_min_s > p->ttl_max_s)
		why = "ttl_min_s is above ttl_max_s";
	else if (p->stale_ttl_s == 0 && p->stale_window_s)
		why = "stale_ttl_s is 0";
	if (why && err)
		snprintf(err, errlen, "cache: %s", why);
	return !why;
}

struct cache *cache_new(const struct cache_params *p, char *err, size_t errlen)
{
	if (!params_ok(p, err, errlen))
		return NULL;
	struct cache *c = calloc(1, sizeof(*c));
	if (!c)
		goto oom;
	c->p = *p;
	uint64_t buckets = 1;
	while (buckets * WAYS * AVG_ENTRY < p->max_bytes)
		buckets <<= 1;
	size_t index_bytes = buckets * sizeof(struct bucket);
	if (index_bytes * 2 > p->max_bytes)
		index_bytes = (buckets >>= 1) * sizeof(struct bucket);
	c->bucket_mask = (uint32_t)(buckets - 1);
	/* a whole number of cache lines: aligned_alloc wants the size a multiple of the alignment
	 */
	c->log_size = (uint32_t)((p->max_bytes - index_bytes) & ~(uint64_t)63);
	c->buckets = aligned_alloc(64, index_bytes);
	c->log = aligned_alloc(64, c->log_size);
	if (!c->buckets || !c->log)
		goto oom;
	memset(c->buckets, 0, index_bytes);
	c->st.capacity_bytes = c->log_size;
	c->st.index_slots = buckets * WAYS;
	return c;
oom:
	cache_free(c);
	if (err)
		snprintf(err, errlen, "cache: out of memory for %zu octets", p->max_bytes);
	return NULL;
}

void cache_free(struct cache *c)
{
	if (!c)
		return;
	free(c->buckets);
	free(c->log);
	free(c);
}

/* ---- the index ---- */

static struct bucket *bucket_of(const struct cache *c, uint64_t hash)
{
	return &c->buckets[hash & c->bucket_mask];
}

/* The way of bucket b that points at log offset off, or -1. */
static int way_of(const struct bucket *b, uint32_t tag, uint32_t off)
{
	for (int w = 0; w < WAYS; w++)
		if (b->off[w] == off + 1 && b->tag[w] == tag)
			return w;
	return -1;
}

static bool same_name(const uint8_t *a, const uint8_t *b, unsigned len)
{
	for (unsigned i = 0; i < len; i++)
		if (fold(a[i]) != fold(b[i]))
			return false;
	return true;
}

static bool same_key(const struct entry *e, const struct cache_key *k, uint64_t hash)
{
	return e->hash == hash && e->view == k->view && e->qtype == k->qtype &&
	       e->qclass == k->qclass && e->qname_len == k->qname_len &&
	       same_name(entry_msg(e) + WIRE_DNS_HLEN, k->qname, k->qname_len);
}

/* The way holding k's entry, or -1. */
static int find(const struct cache *c, const struct bucket *b, const struct cache_key *k,
		uint64_t hash)
{
	uint32_t tag = (uint32_t)(hash >> 32);
	for (int w = 0; w < WAYS; w++)
		if (b->off[w] && b->tag[w] == tag && same_key(entry_at(c, b->off[w] - 1), k, hash))
			return w;
	return -1;
}

/* How far behind the head an offset lies: the larger, the sooner the log reclaims it. */
static uint32_t age_in_log(const struct cache *c, uint32_t off)
{
	return off < c->head ? c->head - off : c->log_size - off + c->head;
}

static bool expired_for_good(const struct cache *c, const struct entry *e, uint64_t now_ns)
{
	return now_ns >= e->expires_ns + (uint64_t)c->p.stale_window_s * NS_PER_S;
}

/* ---- the log ---- */

/* Frees the oldest entry (or the wrap waste at the tail), and its index slot if it has one. */
static void reclaim_tail(struct cache *c, uint64_t now_ns)
{
	if (c->tail + sizeof(struct entry) > c->log_size || entry_at(c, c->tail)->size == 0) {
		c->used -= c->log_size - c->tail;
		c->tail = 0;
		return;
	}
	struct entry *e = entry_at(c, c->tail);
	struct bucket *b = bucket_of(c, e->hash);
	int w = way_of(b, (uint32_t)(e->hash >> 32), c->tail);
	if (w >= 0) {
		b->off[w] = 0;
		if (expired_for_good(c, e, now_ns))
			c->st.expirations++;
		else
			c->st.evictions++;
		c->st.entries--;
		c->st.bytes -= e->size;
	}
	c->used -= e->size;
	c->tail += e->size;
	if (c->tail == c->log_size)
		c->tail = 0;
}

/* Room for size octets at the head, reclaiming the oldest entries; returns its offset. */
static uint32_t log_alloc(struct cache *c, uint32_t size, uint64_t now_ns)
{
	if (c->used == 0)
		c->head = c->tail = 0;
	if (c->head + size > c->log_size) {
		/* no room before the end: everything from the head on is given up, the head wraps
		 */
		while (c->used && c->tail >= c->head)
			reclaim_tail(c, now_ns);
		if (c->head + sizeof(uint32_t) <= c->log_size)
			entry_at(c, c->head)->size = 0;
		c->used += c->log_size - c->head;
		c->head = 0;
	}
	while (c->used && c->tail >= c->head && c->tail < c->head + size)
		reclaim_tail(c, now_ns);
	while (c->used + size > c->log_size)
		reclaim_tail(c, now_ns);
	uint32_t off = c->head;
	c->head += size;
	if (c->head == c->log_size)
		c->head = 0;
	c->used += size;
	return off;
}

/* A free way, else one past its stale window (of use to no one), else the one the log would
 * reclaim first among those not in use, else among all. */
static int way_to_reuse(const struct cache *c, const struct bucket *b, uint64_t now_ns)
{
	int oldest = 0, oldest_unused = -1;
	uint32_t age_max = 0, age_unused_max = 0;
	for (int i = 0; i < WAYS; i++) {
		if (!b->off[i])
			return i;
		const struct entry *e = entry_at(c, b->off[i] - 1);
		if (expired_for_good(c, e, now_ns))
			return i;
		uint32_t age = age_in_log(c, b->off[i] - 1);
		if (age >= age_max)
			age_max = age, oldest = i;
		if (!(e->flags & F_USED) && age >= age_unused_max)
			age_unused_max = age, oldest_unused = i;
	}
	return oldest_unused >= 0 ? oldest_unused : oldest;
}

/* Empties the way of k's older entry, if any: the new one replaces it, even if the log reclaims it
 * to make room for the new one. */
static void index_forget(struct cache *c, const struct cache_key *k, uint64_t hash)
{
	struct bucket *b = bucket_of(c, hash);
	int w = find(c, b, k, hash);
	if (w < 0)
		return;
	c->st.replaced++;
	c->st.entries--;
	c->st.bytes -= entry_at(c, b->off[w] - 1)->size;
	b->off[w] = 0;
}

/* Points a way of hash's bucket at off (k's older entry, if any, already forgotten): a free way,
 * or the one way_to_reuse gives up. */
static void index_put(struct cache *c, uint64_t hash, uint32_t off, uint64_t now_ns)
{
	struct bucket *b = bucket_of(c, hash);
	int w = way_to_reuse(c, b, now_ns);
	if (b->off[w]) {
		struct entry *old = entry_at(c, b->off[w] - 1);
		if (expired_for_good(c, old, now_ns))
			c->st.expirations++;
		else
			c->st.evictions++;
		c->st.entries--;
		c->st.bytes -= old->size;
	}
	b->tag[w] = (uint32_t)(hash >> 32);
	b->off[w] = off + 1;
	c->st.entries++;
	c->st.bytes += entry_at(c, off)->size;
}

/* ---- what may be kept, and for how long ---- */

static uint32_t clamp_ttl(const struct cache_params *p, uint32_t ttl)
{
	return ttl < p->ttl_min_s ? p->ttl_min_s : ttl > p->ttl_max_s ? p->ttl_max_s : ttl;
}

/* RFC 2308 5: a negative answer lives by min(SOA TTL, SOA MINIMUM), capped; 0 without an SOA. */
static uint32_t negative_ttl(const struct cache_params *p, const uint8_t *msg,
			     const struct wire_rr *rrs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (rrs[i].section != WIRE_SEC_AUTHORITY || rrs[i].type != TYPE_SOA ||
		    rrs[i].rdata_len < 20)
			continue;
		uint32_t ttl = wire_rr_ttl(msg, &rrs[i]);
		uint32_t minimum = wire_get32(msg + rrs[i].rdata_off + rrs[i].rdata_len - 4);
		ttl = ttl < minimum ? ttl : minimum;
		return ttl < p->negative_ttl_max_s ? ttl : p->negative_ttl_max_s;
	}
	return 0;
}

/* Decides the entry's life (s) and writes the TTLs it will age from into msg (the OPT's TTL
 * field is its flags: left alone). */
static enum cache_insert decide_life(const struct cache_params *p, uint8_t *msg,
				     const struct wire_dns_msg *m, const struct wire_rr *rrs,
				     size_t n, uint32_t *life)
{
	unsigned rcode = WIRE_RCODE(m->flags);
	if (m->flags & WIRE_FLAG_TC)
		return CACHE_NOT_TRUNCATED;
	if (rcode == WIRE_RCODE_SERVFAIL) {
		*life = p->servfail_ttl_s;
		return *life ? CACHE_KEPT : CACHE_NOT_SERVFAIL_OFF;
	}
	if (rcode != WIRE_RCODE_NOERROR && rcode != WIRE_RCODE_NXDOMAIN)
		return CACHE_NOT_RCODE;
	bool negative = rcode == WIRE_RCODE_NXDOMAIN || m->ancount == 0;
	uint32_t negative_s = negative ? negative_ttl(p, msg, rrs, n) : UINT32_MAX;
	if (negative && negative_s == 0)
		return CACHE_NOT_NO_SOA;
	uint32_t ttl = negative_s;
	for (size_t i = 0; i < n; i++) {
		if (rrs[i].type == WIRE_TYPE_OPT)
			continue;
		/* a negative answer's records (a CNAME before an NXDOMAIN, the SOA...) live no
		 * longer than the negative TTL, nor than their own */
		uint32_t t = clamp_ttl(p, wire_rr_ttl(msg, &rrs[i]));
		if (t > negative_s)
			t = negative_s;
		wire_rr_set_ttl(msg, &rrs[i], t);
		if (t < ttl)
			ttl = t;
	}
	if (ttl == 0)
		return CACHE_NOT_ZERO_TTL;
	*life = ttl;
	return CACHE_KEPT;
}

/* Whether a parsed answer (n records described) may be kept for k at all. */
static enum cache_insert check_parsed(const struct cache_key *k, const uint8_t *msg, size_t len,
				      const struct wire_dns_msg *m, size_t n)
{
	if (len > CACHE_MSG_MAX)
		return CACHE_NOT_TOO_BIG;
	if (!m->question_end || m->qname_len != k->qname_len || m->qtype != k->qtype ||
	    m->qclass != k->qclass || !same_name(msg + WIRE_DNS_HLEN, k->qname, k->qname_len))
		return CACHE_NOT_MALFORMED;
	return n > TTLS_MAX ? CACHE_NOT_TOO_BIG : CACHE_KEPT;
}

/*
 * msg copied to copy without its OPT. An OPT at the end (where servers put it) is cut off and the
 * other records' descriptions stay true; one elsewhere is stripped and the records described anew
 * (its going moved what followed it).
 */
static enum cache_insert copy_without_opt(const uint8_t *msg, size_t *len, uint8_t *copy,
					  struct wire_dns_msg *m, struct wire_rr *rrs, size_t *n)
{
	if (!m->has_opt) {
		memcpy(copy, msg, *len);
		return CACHE_KEPT;
	}
	if (m->opt_index + 1u == *n && m->opt.off + m->opt.len == *len) {
		*len = m->opt.off;
		memcpy(copy, msg, *len);
		m->arcount--;
		copy[10] = (uint8_t)(m->arcount >> 8);
		copy[11] = (uint8_t)m->arcount;
		m->has_opt = false;
		(*n)--;
		return CACHE_KEPT;
	}
	memcpy(copy, msg, *len);
	if (wire_dns_strip_opt(copy, len, m) != WIRE_OK)
		return CACHE_NOT_MALFORMED;
	if (wire_dns_parse_response(copy, *len, m, rrs, TTLS_MAX + 1, n) != WIRE_OK)
		return CACHE_NOT_MALFORMED;
	return CACHE_KEPT;
}

enum cache_insert cache_insert(struct cache *c, const struct cache_key *k, uint8_t *msg, size_t len,
			       uint64_t now_ns)
{
	struct wire_rr rrs[CACHE_RRS_MAX];
	struct wire_dns_msg m;
	size_t n = 0;
	if (len > CACHE_MSG_MAX || wire_dns_parse_response(msg, len, &m, rrs, CACHE_RRS_MAX, &n)) {
		enum cache_insert why =
		    len > CACHE_MSG_MAX ? CACHE_NOT_TOO_BIG : CACHE_NOT_MALFORMED;
		c->st.not_kept[why]++;
		return why;
	}
	return cache_insert_parsed(c, k, msg, len, &m, rrs, n, now_ns);
}

enum cache_insert cache_insert_parsed(struct cache *c, const struct cache_key *k, uint8_t *msg,
				      size_t len, const struct wire_dns_msg *parsed,
				      struct wire_rr *rrs, size_t n, uint64_t now_ns)
{
	uint8_t copy[CACHE_MSG_MAX];
	struct wire_dns_msg m = *parsed;
	uint32_t life = 0;
	enum cache_insert why = check_parsed(k, msg, len, &m, n);
	if (why == CACHE_KEPT)
		why = decide_life(&c->p, msg, &m, rrs, n, &life);
	if (why == CACHE_KEPT)
		why = copy_without_opt(msg, &len, copy, &m, rrs, &n);
	if (why != CACHE_KEPT) {
		c->st.not_kept[why]++;
		return why;
	}
	uint32_t head = round_up((uint32_t)(sizeof(struct entry) + 2 * n));
	uint32_t size = round_up(head + (uint32_t)len);
	if (size > c->log_size / 4) {
		c->st.not_kept[CACHE_NOT_TOO_BIG]++;
		return CACHE_NOT_TOO_BIG;
	}
	uint64_t hash = key_hash(k);
	index_forget(c, k, hash);
	uint32_t off = log_alloc(c, size, now_ns);
	struct entry *e = entry_at(c, off);
	*e = (struct entry){.size = size,
			    .msg_len = (uint16_t)len,
			    .qtype = k->qtype,
			    .qclass = k->qclass,
			    .qname_len = k->qname_len,
			    .n_ttls = (uint8_t)n,
			    .rcode = (uint8_t)WIRE_RCODE(m.flags),
			    .view = k->view,
			    .hash = hash,
			    .born_ns = now_ns,
			    .expires_ns = now_ns + (uint64_t)life * NS_PER_S};
	for (size_t i = 0; i < n; i++)
		e->ttl_off[i] = rrs[i].ttl_off;
	memcpy(entry_msg(e), copy, len);
	index_put(c, hash, off, now_ns);
	c->st.kept++;
	return CACHE_KEPT;
}

/* ---- hits ---- */

/* A hit on an entry the log will soon reclaim moves it to the head: entries in use stay. */
static uint32_t promote(struct cache *c, struct bucket *b, int w, uint64_t now_ns)
{
	uint32_t off = b->off[w] - 1;
	struct entry *e = entry_at(c, off);
	if (age_in_log(c, off) < c->log_size / 4 * 3)
		return off;
	uint8_t copy[sizeof(struct entry) + 2 * (TTLS_MAX + 1) + CACHE_MSG_MAX];
	uint32_t size = e->size, tag = b->tag[w];
	memcpy(copy, e, size);
	b->off[w] = 0; /* the reclaim below must not count it */
	c->st.entries--;
	c->st.bytes -= size;
	uint32_t to = log_alloc(c, size, now_ns);
	memcpy(entry_at(c, to), copy, size);
	entry_at(c, to)->flags &= (uint8_t)~F_USED; /* to earn its next move */
	/* the reclaim only empties ways: w is still free for it */
	b->tag[w] = tag;
	b->off[w] = to + 1;
	c->st.entries++;
	c->st.bytes += size;
	c->st.promotions++;
	return to;
}

enum cache_state cache_lookup(struct cache *c, const struct cache_key *k, uint64_t now_ns,
			      bool allow_stale, struct cache_hit *hit)
{
	uint64_t hash = key_hash(k);
	struct bucket *b = bucket_of(c, hash);
	int w = find(c, b, k, hash);
	hit->state = CACHE_MISS;
	if (w < 0) {
		c->st.misses++;
		return CACHE_MISS;
	}
	struct entry *e = entry_at(c, b->off[w] - 1);
	if (now_ns >= e->expires_ns) {
		if (!allow_stale || expired_for_good(c, e, now_ns)) {
			c->st.misses++;
			return CACHE_MISS;
		}
		hit->state = CACHE_STALE;
		c->st.stale_hits++;
	} else {
		uint64_t life = e->expires_ns - e->born_ns;
		bool late = (e->expires_ns - now_ns) * 100 <= life * CACHE_PREFETCH_PCT;
		hit->state = CACHE_FRESH;
		c->st.hits++;
		if (late && !(e->flags & F_REFRESH_ASKED)) {
			e->flags |= F_REFRESH_ASKED;
			hit->state = CACHE_FRESH_REFRESH;
			c->st.refreshes++;
		}
	}
	e->flags |= F_USED;
	hit->off = promote(c, b, w, now_ns);
	return hit->state;
}

size_t cache_answer_write(const struct cache_answer *a, uint16_t id, uint8_t *buf, size_t cap)
{
	size_t question_end = WIRE_DNS_HLEN + a->qname_len + 4u;
	if (a->msg_len > cap || a->msg_len < question_end)
		return 0;
	memcpy(buf, a->msg, WIRE_DNS_HLEN);
	memcpy(buf + question_end, a->msg + question_end, a->msg_len - question_end);
	wire_put16(buf, id);
	for (unsigned i = 0; i < a->n_ttls; i++) {
		uint8_t *ttl = buf + a->ttl_off[i];
		uint32_t t = wire_get32(ttl);
		if (a->stale)
			t = a->stale_ttl_s;
		else
			t = t > a->age_s ? t - a->age_s : 0;
		wire_put32(ttl, t);
	}
	return a->msg_len;
}

void cache_hit_answer(const struct cache *c, const struct cache_hit *hit, uint64_t now_ns,
		      struct cache_answer *out)
{
	const struct entry *e = entry_at(c, hit->off);
	*out = (struct cache_answer){
	    .msg = entry_msg(e),
	    .ttl_off = e->ttl_off,
	    .msg_len = e->msg_len,
	    .n_ttls = e->n_ttls,
	    .qname_len = e->qname_len,
	    .stale = hit->state == CACHE_STALE,
	    .age_s = (uint32_t)((now_ns - e->born_ns) / NS_PER_S),
	    .stale_ttl_s = c->p.stale_ttl_s,
	};
}

size_t cache_write(const struct cache *c, const struct cache_hit *hit, uint16_t id, uint8_t *buf,
		   size_t cap, uint64_t now_ns)
{
	struct cache_answer a;
	cache_hit_answer(c, hit, now_ns, &a);
	return cache_answer_write(&a, id, buf, cap);
}

unsigned cache_hit_rcode(const struct cache *c, const struct cache_hit *hit)
{
	return entry_at(c, hit->off)->rcode;
}

size_t cache_hit_len(const struct cache *c, const struct cache_hit *hit)
{
	return entry_at(c, hit->off)->msg_len;
}

void cache_stats_read(const struct cache *c, struct cache_stats *out)
{
	*out = c->st;
}

/* ---- the audit ---- */

#define AUDIT_FAIL(...)                                                                            \
	do {                                                                                       \
		if (why)                                                                           \
			snprintf(why, whylen, __VA_ARGS__);                                        \
		free(starts);                                                                      \
		return false;                                                                      \
	} while (0)

bool cache_audit(const struct cache *c, char *why, size_t whylen)
{
	/* one bit per ALIGN octets: set where a live entry starts, then cleared as a slot claims it
	 */
	uint8_t *starts = calloc(c->log_size / ALIGN / 8 + 1, 1);
	if (!starts)
		AUDIT_FAIL("audit: out of memory");
	uint64_t walked = 0;
	uint32_t at = c->tail;
	while (walked < c->used) {
		if (at + sizeof(struct entry) > c->log_size || entry_at(c, at)->size == 0) {
			walked += c->log_size - at;
			at = 0;
			continue;
		}
		uint32_t size = entry_at(c, at)->size;
		if (size % ALIGN || size < sizeof(struct entry) || at + size > c->log_size)
			AUDIT_FAIL("audit: entry at %u has size %u", at, size);
		starts[at / ALIGN / 8] |= (uint8_t)(1u << (at / ALIGN % 8));
		walked += size;
		at += size;
		if (at == c->log_size)
			at = 0;
	}
	if (walked != c->used || at != c->head)
		AUDIT_FAIL("audit: the walk from the tail (%u) covered %lu octets to %u; used %lu, "
			   "head %u",
			   c->tail, (unsigned long)walked, at, (unsigned long)c->used, c->head);
	uint64_t entries = 0, bytes = 0;
	for (uint32_t i = 0; i <= c->bucket_mask; i++) {
		const struct bucket *b = &c->buckets[i];
		for (int w = 0; w < WAYS; w++) {
			if (!b->off[w])
				continue;
			uint32_t off = b->off[w] - 1;
			uint8_t bit = (uint8_t)(1u << (off / ALIGN % 8));
			if (off >= c->log_size || off % ALIGN || !(starts[off / ALIGN / 8] & bit))
				AUDIT_FAIL(
				    "audit: bucket %u way %d points at %u: no live entry (or "
				    "another slot's)",
				    i, w, off);
			starts[off / ALIGN / 8] &= (uint8_t)~bit;
			const struct entry *e = entry_at(c, off);
			if ((e->hash & c->bucket_mask) != i ||
			    (uint32_t)(e->hash >> 32) != b->tag[w])
				AUDIT_FAIL("audit: bucket %u way %d: entry at %u hashes elsewhere",
					   i, w, off);
			for (int v = 0; v < w; v++) {
				const struct entry *o =
				    b->off[v] ? entry_at(c, b->off[v] - 1) : NULL;
				if (o && o->hash == e->hash && o->view == e->view &&
				    o->qtype == e->qtype && o->qclass == e->qclass &&
				    o->qname_len == e->qname_len &&
				    same_name(entry_msg(o) + WIRE_DNS_HLEN,
					      entry_msg(e) + WIRE_DNS_HLEN, e->qname_len))
					AUDIT_FAIL("audit: bucket %u ways %d and %d hold one key",
						   i, v, w);
			}
			entries++;
			bytes += e->size;
		}
	}
	if (entries != c->st.entries || bytes != c->st.bytes)
		AUDIT_FAIL("audit: the index holds %lu entries of %lu octets; stats say %lu of %lu",
			   (unsigned long)entries, (unsigned long)bytes,
			   (unsigned long)c->st.entries, (unsigned long)c->st.bytes);
	free(starts);
	return true;
}
