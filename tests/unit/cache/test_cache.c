/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/cache: hits and misses, TTL aging, negative caching by the SOA (RFC 2308), what is never
 * kept, the stale window (RFC 8767), the refresh hint, views kept apart, and eviction under a
 * small bound that keeps the entries in use.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../wire/msgbuild.h"
#include "dp/cache/cache.h"

#define S  1000000000ull
#define T0 (1000 * S)

static struct mb b;
static struct cache *c;
static uint8_t qname[256];
static struct cache_key key;

static const struct cache_params defaults = {
    .max_bytes = 1u << 20,
    .ttl_min_s = 0,
    .ttl_max_s = 86400,
    .negative_ttl_max_s = 3600,
    .servfail_ttl_s = 5,
    .stale_window_s = 86400,
    .stale_ttl_s = 30,
};

static void make(const struct cache_params *p)
{
	char err[100];
	c = cache_new(p, err, sizeof(err));
	cr_assert(c, "%s", err);
}

static void setup(void)
{
	make(&defaults);
}

static void teardown(void)
{
	cache_free(c);
}

TestSuite(cache, .init = setup, .fini = teardown);

/* key for name (presentation form) and type A in view. */
static struct cache_key *key_for(uint64_t view, const char *name)
{
	struct mb n;
	n.n = 0;
	mb_name(&n, name);
	memcpy(qname, n.b, n.n);
	key = (struct cache_key){.view = view,
				 .qname = qname,
				 .qname_len = (uint8_t)n.n,
				 .qtype = 1,
				 .qclass = 1,
				 .qname_hash = wire_name_hash(qname, n.n)};
	return &key;
}

/* An answer to name A: n A records with ttl (the first with ttl_first if not 0), an OPT. */
static void answer(const char *name, unsigned n, uint32_t ttl, uint32_t ttl_first)
{
	mb_hdr(&b, 7, 0x8580, 1, (uint16_t)n, 0, 1);
	mb_question(&b, name, 1, 1);
	for (unsigned i = 0; i < n; i++)
		mb_a(&b, 12, i == 0 && ttl_first ? ttl_first : ttl, 0x0a000001 + i);
	mb_opt(&b, 4096, 0, 0, false, NULL, 0);
}

/* NXDOMAIN (or NODATA) with an SOA of ttl soa_ttl and minimum soa_min in the authority section. */
static void negative(const char *name, uint16_t rcode, uint32_t soa_ttl, uint32_t soa_min)
{
	mb_hdr(&b, 7, (uint16_t)(0x8580 | rcode), 1, 0, 1, 0);
	mb_question(&b, name, 1, 1);
	mb_ptr(&b, 12);
	mb_rr_fixed(&b, 6, 1, soa_ttl, 2 + 2 + 20);
	mb_ptr(&b, 12);
	mb_ptr(&b, 12);
	mb_u32(&b, 1);
	mb_u32(&b, 3600);
	mb_u32(&b, 600);
	mb_u32(&b, 86400);
	mb_u32(&b, soa_min);
}

static enum cache_insert keep(uint64_t view, const char *name, uint64_t now)
{
	return cache_insert(c, key_for(view, name), b.b, b.n, now);
}

/* Looks name up and writes the hit to out; returns the state. */
static enum cache_state hit_of(uint64_t view, const char *name, uint64_t now, bool stale,
			       struct wire_dns_msg *m, uint8_t *out, size_t *len)
{
	struct cache_hit h;
	enum cache_state st = cache_lookup(c, key_for(view, name), now, stale, &h);
	if (st == CACHE_MISS)
		return st;
	/* the asker's query first: its question stays */
	struct mb q;
	mb_query(&q, 1, name, 1, false);
	memcpy(out, q.b, q.n);
	*len = cache_write(c, &h, 0xbeef, out, 4096, now);
	cr_assert_gt(*len, 0);
	size_t count;
	cr_assert_eq(wire_dns_parse_response(out, *len, m, NULL, 0, &count), WIRE_OK);
	return st;
}

/* The TTL of the i-th record of a written answer. */
static uint32_t ttl_of(const uint8_t *msg, size_t len, unsigned i)
{
	struct wire_dns_msg m;
	struct wire_rr rrs[16];
	size_t count;
	cr_assert_eq(wire_dns_parse_response(msg, len, &m, rrs, 16, &count), WIRE_OK);
	cr_assert_lt(i, count);
	return wire_rr_ttl(msg, &rrs[i]);
}

Test(cache, a_kept_answer_is_a_hit_with_the_askers_id_and_case_and_no_opt)
{
	answer("www.example.com", 2, 300, 0);
	cr_assert_eq(keep(1, "www.example.com", T0), CACHE_KEPT);
	uint8_t out[4096];
	size_t len;
	struct wire_dns_msg m;
	cr_assert_eq(hit_of(1, "WWW.Example.COM", T0, false, &m, out, &len), CACHE_FRESH);
	cr_expect_eq(m.id, 0xbeef);
	cr_expect_eq(m.ancount, 2);
	cr_expect_not(m.has_opt, "the OPT is per hop: the caller adds the client's");
	cr_expect(!memcmp(out + 12, "\3WWW\7Example\3COM", 17), "the asker's case (0x20)");
	struct cache_stats st;
	cache_stats_read(c, &st);
	cr_expect_eq(st.hits, 1);
	cr_expect_eq(st.kept, 1);
	cr_expect_eq(st.entries, 1);
}

Test(cache, an_opt_before_other_records_is_stripped_and_their_ttls_still_age)
{
	/* www A 300, then in the additional section the OPT and after it an A of TTL 100 */
	mb_hdr(&b, 7, 0x8580, 1, 1, 0, 2);
	mb_question(&b, "www.example.com", 1, 1);
	mb_a(&b, 12, 300, 0x0a000001);
	mb_opt(&b, 4096, 0, 0, false, NULL, 0);
	mb_a(&b, 12, 100, 0x0a000002);
	cr_assert_eq(keep(1, "www.example.com", T0), CACHE_KEPT);
	uint8_t out[4096];
	size_t len;
	struct wire_dns_msg m;
	cr_assert_eq(hit_of(1, "www.example.com", T0 + 10 * S, false, &m, out, &len), CACHE_FRESH);
	cr_expect_not(m.has_opt);
	cr_expect_eq(m.arcount, 1);
	cr_expect_eq(ttl_of(out, len, 0), 290);
	cr_expect_eq(ttl_of(out, len, 1), 90);
	cr_expect_eq(len, b.n - 11);
}

Test(cache, an_unknown_name_type_or_view_is_a_miss)
{
	answer("www.example.com", 1, 300, 0);
	keep(1, "www.example.com", T0);
	struct cache_hit h;
	cr_expect_eq(cache_lookup(c, key_for(1, "ww.example.com"), T0, false, &h), CACHE_MISS);
	cr_expect_eq(cache_lookup(c, key_for(2, "www.example.com"), T0, false, &h), CACHE_MISS,
		     "another tenant's view");
	key_for(1, "www.example.com")->qtype = 28;
	cr_expect_eq(cache_lookup(c, &key, T0, false, &h), CACHE_MISS, "AAAA is not A");
	struct cache_stats st;
	cache_stats_read(c, &st);
	cr_expect_eq(st.misses, 3);
}

Test(cache, ttls_age_with_time_and_the_entry_expires_with_its_smallest_ttl)
{
	answer("www.example.com", 2, 300, 60);
	keep(1, "www.example.com", T0);
	uint8_t out[4096];
	size_t len;
	struct wire_dns_msg m;
	cr_assert_eq(hit_of(1, "www.example.com", T0 + 25 * S, false, &m, out, &len), CACHE_FRESH);
	cr_expect_eq(ttl_of(out, len, 0), 35);
	cr_expect_eq(ttl_of(out, len, 1), 275);
	cr_expect_eq(hit_of(1, "www.example.com", T0 + 60 * S, false, &m, out, &len), CACHE_MISS,
		     "expired at its smallest TTL");
}

Test(cache, a_hit_in_the_last_tenth_asks_for_one_refresh)
{
	answer("www.example.com", 1, 100, 0);
	keep(1, "www.example.com", T0);
	struct cache_hit h;
	cr_expect_eq(cache_lookup(c, key_for(1, "www.example.com"), T0 + 89 * S, false, &h),
		     CACHE_FRESH);
	cr_expect_eq(cache_lookup(c, &key, T0 + 91 * S, false, &h), CACHE_FRESH_REFRESH);
	cr_expect_eq(cache_lookup(c, &key, T0 + 95 * S, false, &h), CACHE_FRESH, "only once");
	answer("www.example.com", 1, 100, 0);
	keep(1, "www.example.com", T0 + 95 * S);
	cr_expect_eq(cache_lookup(c, key_for(1, "www.example.com"), T0 + 150 * S, false, &h),
		     CACHE_FRESH, "the refreshed answer lives on");
	struct cache_stats st;
	cache_stats_read(c, &st);
	cr_expect_eq(st.refreshes, 1);
	cr_expect_eq(st.replaced, 1);
	cr_expect_eq(st.entries, 1);
}

Test(cache, expired_answers_serve_stale_with_ttl_30_within_the_window_only)
{
	answer("www.example.com", 2, 300, 0);
	keep(1, "www.example.com", T0);
	uint8_t out[4096];
	size_t len;
	struct wire_dns_msg m;
	uint64_t later = T0 + 3600 * S;
	cr_expect_eq(hit_of(1, "www.example.com", later, false, &m, out, &len), CACHE_MISS);
	cr_assert_eq(hit_of(1, "www.example.com", later, true, &m, out, &len), CACHE_STALE);
	cr_expect_eq(ttl_of(out, len, 0), 30);
	cr_expect_eq(ttl_of(out, len, 1), 30);
	cr_expect_eq(hit_of(1, "www.example.com", T0 + (300 + 86400) * S, true, &m, out, &len),
		     CACHE_MISS, "past the day's window");
	struct cache_stats st;
	cache_stats_read(c, &st);
	cr_expect_eq(st.stale_hits, 1);
}

Test(cache, nxdomain_lives_by_the_soa_minimum_or_its_ttl_whichever_is_less)
{
	negative("nosuch.example.com", 3, 900, 120);
	cr_assert_eq(keep(1, "nosuch.example.com", T0), CACHE_KEPT);
	uint8_t out[4096];
	size_t len;
	struct wire_dns_msg m;
	cr_assert_eq(hit_of(1, "nosuch.example.com", T0 + 100 * S, false, &m, out, &len),
		     CACHE_FRESH);
	cr_expect_eq(WIRE_RCODE(m.flags), 3);
	cr_expect_eq(m.nscount, 1);
	cr_expect_eq(ttl_of(out, len, 0), 20, "the SOA's TTL is the negative TTL, aged");
	cr_expect_eq(hit_of(1, "nosuch.example.com", T0 + 120 * S, false, &m, out, &len),
		     CACHE_MISS);
	negative("other.example.com", 3, 60, 7200);
	keep(1, "other.example.com", T0);
	cr_expect_eq(hit_of(1, "other.example.com", T0 + 61 * S, false, &m, out, &len), CACHE_MISS,
		     "the SOA's own TTL is the smaller");
}

Test(cache, nodata_is_negative_too_and_capped_by_negative_ttl_max)
{
	cache_free(c);
	struct cache_params p = defaults;
	p.negative_ttl_max_s = 10;
	make(&p);
	negative("www.example.com", 0, 3600, 3600);
	cr_assert_eq(keep(1, "www.example.com", T0), CACHE_KEPT);
	struct cache_hit h;
	cr_expect_eq(cache_lookup(c, key_for(1, "www.example.com"), T0 + 5 * S, false, &h),
		     CACHE_FRESH);
	cr_expect_eq(cache_lookup(c, &key, T0 + 10 * S, false, &h), CACHE_MISS);
}

Test(cache, what_is_never_kept)
{
	mb_hdr(&b, 7, 0x8580, 1, 0, 0, 0);
	mb_question(&b, "www.example.com", 1, 1);
	cr_expect_eq(keep(1, "www.example.com", T0), CACHE_NOT_NO_SOA, "negative without SOA");
	answer("www.example.com", 1, 300, 0);
	b.b[2] |= 0x02; /* TC */
	cr_expect_eq(keep(1, "www.example.com", T0), CACHE_NOT_TRUNCATED);
	answer("www.example.com", 1, 300, 0);
	b.b[3] = (uint8_t)((b.b[3] & 0xf0) | 5);
	cr_expect_eq(keep(1, "www.example.com", T0), CACHE_NOT_RCODE, "REFUSED");
	answer("www.example.com", 1, 0, 0);
	cr_expect_eq(keep(1, "www.example.com", T0), CACHE_NOT_ZERO_TTL);
	answer("www.example.com", 1, 300, 0);
	cr_expect_eq(keep(1, "www.example.org", T0), CACHE_NOT_MALFORMED, "another question");
	cr_expect_eq(cache_insert(c, key_for(1, "www.example.com"), b.b, 5, T0),
		     CACHE_NOT_MALFORMED);
	struct cache_stats st;
	cache_stats_read(c, &st);
	cr_expect_eq(st.entries, 0);
	cr_expect_eq(st.not_kept[CACHE_NOT_TRUNCATED], 1);
}

Test(cache, servfail_is_kept_only_seconds)
{
	mb_hdr(&b, 7, 0x8182, 1, 0, 0, 0);
	mb_question(&b, "www.example.com", 1, 1);
	cr_assert_eq(keep(1, "www.example.com", T0), CACHE_KEPT);
	struct cache_hit h;
	cr_expect_eq(cache_lookup(c, key_for(1, "www.example.com"), T0 + 4 * S, false, &h),
		     CACHE_FRESH);
	cr_expect_eq(cache_hit_rcode(c, &h), 2);
	cr_expect_eq(cache_lookup(c, &key, T0 + 5 * S, false, &h), CACHE_MISS);
}

Test(cache, ttls_are_raised_to_the_floor_and_lowered_to_the_ceiling)
{
	cache_free(c);
	struct cache_params p = defaults;
	p.ttl_min_s = 60;
	p.ttl_max_s = 600;
	make(&p);
	answer("www.example.com", 2, 86400, 5);
	keep(1, "www.example.com", T0);
	cr_expect_eq(ttl_of(b.b, b.n, 0), 60, "the answer given is clamped too");
	cr_expect_eq(ttl_of(b.b, b.n, 1), 600);
	cr_expect_eq(be16(b.b + b.n - 11 + 3), 4096, "the OPT is left alone");
	uint8_t out[4096];
	size_t len;
	struct wire_dns_msg m;
	cr_assert_eq(hit_of(1, "www.example.com", T0, false, &m, out, &len), CACHE_FRESH);
	cr_expect_eq(ttl_of(out, len, 0), 60);
	cr_expect_eq(ttl_of(out, len, 1), 600);
}

Test(cache, bad_params_are_refused_with_a_reason)
{
	char err[100];
	struct cache_params p = defaults;
	p.max_bytes = 1000;
	cr_expect_null(cache_new(&p, err, sizeof(err)));
	cr_expect_str_eq(err, "cache: max_bytes is below 64 KiB");
	p = defaults;
	p.ttl_min_s = 10, p.ttl_max_s = 5;
	cr_expect_null(cache_new(&p, err, sizeof(err)));
	cr_expect_str_eq(err, "cache: ttl_min_s is above ttl_max_s");
}

/* ---- a small bound ---- */

static void name_i(char *buf, unsigned i)
{
	snprintf(buf, 64, "host%u.example.com", i);
}

Test(cache, a_full_cache_stays_within_its_bound_and_keeps_the_entries_in_use)
{
	cache_free(c);
	struct cache_params p = defaults;
	p.max_bytes = CACHE_MIN_BYTES;
	make(&p);
	char name[64];
	struct cache_hit h;
	/* 10 hot names, asked between every insert of 5,000 cold ones */
	for (unsigned i = 0; i < 5000; i++) {
		name_i(name, i);
		answer(name, 1, 3600, 0);
		cr_assert_eq(keep(1, name, T0), CACHE_KEPT);
		for (unsigned hot = 0; hot < 10 && i >= 10; hot++) {
			name_i(name, hot);
			cr_assert_neq(cache_lookup(c, key_for(1, name), T0, false, &h), CACHE_MISS,
				      "hot name %u lost at insert %u", hot, i);
		}
	}
	struct cache_stats st;
	cache_stats_read(c, &st);
	cr_expect_leq(st.bytes, st.capacity_bytes);
	cr_expect_gt(st.evictions, 4000, "most cold names were pushed out (%lu)",
		     (unsigned long)st.evictions);
	cr_expect_gt(st.promotions, 0);
	cr_expect_lt(st.entries, 1000);
	name_i(name, 20);
	cr_expect_eq(cache_lookup(c, key_for(1, name), T0, false, &h), CACHE_MISS,
		     "an early cold name is gone");
	name_i(name, 4999);
	cr_expect_eq(cache_lookup(c, key_for(1, name), T0, false, &h), CACHE_FRESH,
		     "the last one is there");
}

Test(cache, the_log_wraps_many_times_without_losing_count)
{
	cache_free(c);
	struct cache_params p = defaults;
	p.max_bytes = CACHE_MIN_BYTES;
	make(&p);
	char name[64];
	for (unsigned i = 0; i < 50000; i++) {
		name_i(name, i % 3000);
		answer(name, 1 + i % 7, 3600, 0);
		cr_assert_eq(keep(1, name, T0 + i), CACHE_KEPT);
	}
	struct cache_stats st;
	cache_stats_read(c, &st);
	/* every entry the index points at is counted once, in a log that holds them */
	cr_expect_leq(st.bytes, st.capacity_bytes);
	cr_expect_gt(st.entries, 100);
	struct cache_hit h;
	unsigned found = 0;
	for (unsigned i = 0; i < 3000; i++) {
		name_i(name, i);
		found += cache_lookup(c, key_for(1, name), T0 + 50000, false, &h) != CACHE_MISS;
	}
	cr_expect_eq(found, st.entries, "found %u, counted %lu", found, (unsigned long)st.entries);
}

/* ---- against a model ---- */

/*
 * Random inserts, lookups and time steps on a small cache, against a model that remembers each
 * key's last kept answer. The cache may forget an answer (pushed out), but never bring one back,
 * never answer with an older one or another key's, never call a stale answer fresh or serve one
 * past its window; every hit's records and aged TTLs are the model's; and after every step the log,
 * the index and the stats agree (cache_audit).
 */
#define MODEL_NAMES  400
#define MODEL_KEYS   (MODEL_NAMES * 2) /* two views */
#define MODEL_RR_MAX 200
#define MODEL_WINDOW 20
#define MODEL_HOT    16

struct model_entry {
	bool kept;	   /* the cache may still answer it */
	bool refresh_said; /* CACHE_FRESH_REFRESH came once */
	uint32_t serial;   /* the insert that made it: in every record's address */
	unsigned n;
	uint32_t ttl[MODEL_RR_MAX];
	uint64_t born, expires;
};

static struct model_entry model[MODEL_KEYS];
static uint64_t rng_state;

static uint32_t rnd(uint32_t below)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % below);
}

static void model_name(char *buf, unsigned key, bool mixed_case)
{
	snprintf(buf, 64, "key%u.stress.test", key / 2);
	for (char *p = buf; mixed_case && *p; p++)
		if (*p >= 'a' && *p <= 'z' && rnd(2))
			*p = (char)(*p - 'a' + 'A');
}

static void model_insert(unsigned key, uint32_t serial, uint64_t now)
{
	char name[64];
	struct model_entry *me = &model[key];
	unsigned n = rnd(10) ? 1 + rnd(8) : 40 + rnd(MODEL_RR_MAX - 40 + 1);
	uint32_t life = UINT32_MAX, ttl[MODEL_RR_MAX];
	model_name(name, key, true);
	mb_hdr(&b, 7, 0x8580, 1, (uint16_t)n, 0, 1);
	mb_question(&b, name, 1, 1);
	for (unsigned r = 0; r < n; r++) {
		ttl[r] = 1 + rnd(key < MODEL_HOT ? 600 : 40);
		life = ttl[r] < life ? ttl[r] : life;
		mb_a(&b, 12, ttl[r], serial << 8 | r);
	}
	mb_opt(&b, 4096, 0, 0, false, NULL, 0);
	model_name(name, key, false);
	cr_assert_eq(keep(1 + key % 2, name, now), CACHE_KEPT, "insert %u", serial);
	*me = (struct model_entry){
	    .kept = true, .serial = serial, .n = n, .born = now, .expires = now + life * S};
	memcpy(me->ttl, ttl, n * sizeof(ttl[0]));
}

/* The written hit is exactly the model's answer, aged (or stale). */
static void model_check_answer(unsigned key, const uint8_t *out, size_t len, const char *asked,
			       uint64_t now, bool stale)
{
	const struct model_entry *me = &model[key];
	struct wire_dns_msg m;
	static struct wire_rr rrs[MODEL_RR_MAX + 1];
	size_t count;
	cr_assert_eq(wire_dns_parse_response(out, len, &m, rrs, MODEL_RR_MAX + 1, &count), WIRE_OK);
	cr_assert_eq(m.id, 0xbeef);
	cr_assert_eq(m.flags, 0x8580);
	cr_assert_eq(m.ancount, me->n, "key %u: %u records, the model's answer %u has %u", key,
		     m.ancount, me->serial, me->n);
	cr_assert_eq(m.arcount, 0, "no OPT kept");
	struct mb q;
	q.n = 0;
	mb_name(&q, asked);
	cr_assert(!memcmp(out + WIRE_DNS_HLEN, q.b, q.n), "the asker's name and case");
	uint32_t aged = (uint32_t)((now - me->born) / S);
	for (unsigned r = 0; r < me->n; r++) {
		uint32_t want = stale ? 30 : me->ttl[r] > aged ? me->ttl[r] - aged : 0;
		cr_assert_eq(be32(out + rrs[r].rdata_off), me->serial << 8 | r,
			     "key %u record %u: from insert %u, the model's is %u", key, r,
			     be32(out + rrs[r].rdata_off) >> 8, me->serial);
		cr_assert_eq(wire_rr_ttl(out, &rrs[r]), want, "key %u record %u TTL", key, r);
	}
}

static void model_lookup(unsigned key, uint64_t now)
{
	struct model_entry *me = &model[key];
	bool allow_stale = rnd(2);
	char asked[64];
	model_name(asked, key, true);
	struct cache_hit h;
	enum cache_state st = cache_lookup(c, key_for(1 + key % 2, asked), now, allow_stale, &h);
	bool gone = now >= me->expires + MODEL_WINDOW * S;
	bool fresh = now < me->expires;
	if (!me->kept || gone || (!fresh && !allow_stale)) {
		cr_assert_eq(st, CACHE_MISS, "key %u: a hit on nothing, or past its time", key);
		return;
	}
	if (st == CACHE_MISS) {
		me->kept = false; /* pushed out: it must never come back */
		return;
	}
	if (fresh) {
		cr_assert(st == CACHE_FRESH || st == CACHE_FRESH_REFRESH, "key %u state %d", key,
			  st);
		bool late = (me->expires - now) * 100 <= (me->expires - me->born) * 10;
		cr_assert_eq(st == CACHE_FRESH_REFRESH, late && !me->refresh_said, "key %u refresh",
			     key);
		me->refresh_said |= st == CACHE_FRESH_REFRESH;
	} else {
		cr_assert_eq(st, CACHE_STALE, "key %u", key);
	}
	static uint8_t out[8192];
	struct mb q;
	mb_query(&q, 1, asked, 1, false);
	memcpy(out, q.b, q.n);
	size_t len = cache_write(c, &h, 0xbeef, out, sizeof(out), now);
	cr_assert_gt(len, 0);
	model_check_answer(key, out, len, asked, now, st == CACHE_STALE);
}

static void model_run(size_t max_bytes, uint64_t seed, unsigned steps)
{
	cache_free(c);
	struct cache_params p = defaults;
	p.max_bytes = max_bytes;
	p.stale_window_s = MODEL_WINDOW;
	make(&p);
	memset(model, 0, sizeof(model));
	rng_state = seed;
	uint64_t now = T0;
	uint32_t serial = 0;
	char why[200];
	for (unsigned step = 0; step < steps; step++) {
		/* hot keys: asked often, kept seldom (the log's turn comes to them), living long */
		unsigned op = rnd(10);
		if (op < 4)
			model_insert(rnd(20) ? rnd(MODEL_KEYS) : rnd(MODEL_HOT), ++serial, now);
		else if (op < 9)
			model_lookup(rnd(2) ? rnd(MODEL_HOT) : rnd(MODEL_KEYS), now);
		else
			now += rnd(2000) * (S / 1000);
		cr_assert(cache_audit(c, why, sizeof(why)), "seed %lu step %u: %s",
			  (unsigned long)seed, step, why);
	}
	struct cache_stats st;
	cache_stats_read(c, &st);
	cr_expect_eq(st.kept, serial);
	cr_expect_leq(st.bytes, st.capacity_bytes);
	cr_expect_gt(st.evictions + st.expirations, 0, "the log filled");
	cr_expect_gt(st.promotions, 0);
	cr_expect_gt(st.stale_hits, 0);
}

Test(cache, a_small_cache_agrees_with_a_model_of_the_last_kept_answers, .timeout = 60)
{
	for (uint64_t seed = 1; seed <= 4; seed++)
		model_run(CACHE_MIN_BYTES, seed * 0x9e3779b97f4a7c15ull, 50000);
	model_run(CACHE_MIN_BYTES * 3 + 8 * 1000 + 8, 77, 50000);
}

/* ---- one bucket ---- */

/* The cache's key hash (cache.c's key_hash), to find names that share a bucket. */
static uint64_t bucket_hash(uint64_t view, const char *name)
{
	struct cache_key *k = key_for(view, name);
	uint64_t h = k->qname_hash ^ (k->view * 0x9e3779b97f4a7c15ull);
	h ^= ((uint64_t)k->qtype << 16 | k->qclass) * 0xc2b2ae3d27d4eb4full;
	return h ^ (h >> 29);
}

/* n names of view 1 in one bucket of c, into names[i] (64 octets each). */
static void names_in_one_bucket(char (*names)[64], unsigned n)
{
	struct cache_stats st;
	cache_stats_read(c, &st);
	uint64_t mask = st.index_slots / 8 - 1, bucket = 0;
	unsigned found = 0;
	for (unsigned i = 0; found < n; i++) {
		char name[64];
		name_i(name, i);
		uint64_t h = bucket_hash(1, name);
		if (found == 0)
			bucket = h & mask;
		if ((h & mask) == bucket)
			strcpy(names[found++], name);
	}
}

/*
 * A full bucket makes room for a new key by giving up a way: one whose entry is past its stale
 * window is of no use to anyone, and goes before a live one, used or not.
 */
Test(cache, a_full_bucket_gives_up_a_dead_entry_before_a_live_one)
{
	cache_free(c);
	struct cache_params p = defaults;
	p.max_bytes = CACHE_MIN_BYTES;
	p.stale_window_s = 10;
	make(&p);
	char names[10][64];
	names_in_one_bucket(names, 10);
	struct cache_hit h;
	/* eight short-lived entries, each asked once (in use), then dead */
	for (unsigned i = 0; i < 8; i++) {
		answer(names[i], 1, 5, 0);
		cr_assert_eq(keep(1, names[i], T0), CACHE_KEPT);
		cr_assert_eq(cache_lookup(c, key_for(1, names[i]), T0, false, &h), CACHE_FRESH);
	}
	uint64_t later = T0 + 60 * S;
	struct cache_stats st;
	cache_stats_read(c, &st);
	cr_assert_eq(st.evictions, 0, "the bucket holds eight");
	answer(names[8], 1, 3600, 0);
	cr_assert_eq(keep(1, names[8], later), CACHE_KEPT);
	answer(names[9], 1, 3600, 0);
	cr_assert_eq(keep(1, names[9], later), CACHE_KEPT);
	cr_expect_eq(cache_lookup(c, key_for(1, names[8]), later, false, &h), CACHE_FRESH,
		     "a live answer went while dead ones stayed");
	cr_expect_eq(cache_lookup(c, key_for(1, names[9]), later, false, &h), CACHE_FRESH);
	cache_stats_read(c, &st);
	cr_expect_eq(st.evictions, 0, "nothing unexpired was pushed out (%lu)",
		     (unsigned long)st.evictions);
	cr_expect_eq(st.expirations, 2, "two dead entries gave up their ways (%lu)",
		     (unsigned long)st.expirations);
	char why[200];
	cr_expect(cache_audit(c, why, sizeof(why)), "%s", why);
}

/* An answer kept in place of its key's older one is a replacement, even when the older one is the
 * very entry the log reclaims to make room for it. */
Test(cache, a_new_answer_over_one_at_the_logs_tail_is_a_replacement_not_an_eviction)
{
	cache_free(c);
	struct cache_params p = defaults;
	p.max_bytes = CACHE_MIN_BYTES;
	make(&p);
	char name[64];
	struct cache_stats st;
	answer("www.example.com", 1, 3600, 0);
	cr_assert_eq(keep(1, "www.example.com", T0), CACHE_KEPT);
	cache_stats_read(c, &st);
	uint64_t size = st.bytes, used = size;
	/* fillers of the same size (names as long) until the next entry needs the tail's room */
	for (unsigned i = 0; used + size <= st.capacity_bytes; i++, used += size) {
		snprintf(name, sizeof(name), "www.e%06u.com", i);
		answer(name, 1, 3600, 0);
		cr_assert_eq(keep(1, name, T0), CACHE_KEPT);
	}
	cache_stats_read(c, &st);
	uint64_t evictions = st.evictions; /* by the index: full buckets */
	answer("www.example.com", 1, 3600, 0);
	cr_assert_eq(keep(1, "www.example.com", T0 + S), CACHE_KEPT);
	cache_stats_read(c, &st);
	cr_expect_eq(st.replaced, 1);
	cr_expect_eq(st.evictions, evictions, "the older answer was replaced, not pushed out");
	struct cache_hit h;
	cr_expect_eq(cache_lookup(c, key_for(1, "www.example.com"), T0 + S, false, &h),
		     CACHE_FRESH);
	char why[200];
	cr_expect(cache_audit(c, why, sizeof(why)), "%s", why);
}

/*
 * NXDOMAIN at the end of a CNAME: the SOA times the negative part (RFC 2308 5), but the CNAME is
 * still a record with its own TTL, which the cache may not stretch.
 */
Test(cache, an_nxdomain_behind_a_cname_lives_no_longer_than_the_cname)
{
	mb_hdr(&b, 7, 0x8583, 1, 1, 1, 0);
	mb_question(&b, "www.example.com", 1, 1);
	mb_ptr(&b, 12);
	mb_rr_fixed(&b, 5, 1, 5, 18);
	mb_name(&b, "gone.example.com");
	mb_ptr(&b, 12);
	mb_rr_fixed(&b, 6, 1, 900, 2 + 2 + 20);
	mb_ptr(&b, 12);
	mb_ptr(&b, 12);
	mb_u32(&b, 1);
	mb_u32(&b, 3600);
	mb_u32(&b, 600);
	mb_u32(&b, 86400);
	mb_u32(&b, 120);
	cr_assert_eq(keep(1, "www.example.com", T0), CACHE_KEPT);
	cr_expect_eq(ttl_of(b.b, b.n, 0), 5, "the CNAME's TTL, as the waiting client sees it");
	cr_expect_eq(ttl_of(b.b, b.n, 1), 120, "the SOA's: the negative TTL");
	uint8_t out[4096];
	size_t len;
	struct wire_dns_msg m;
	cr_assert_eq(hit_of(1, "www.example.com", T0 + 2 * S, false, &m, out, &len), CACHE_FRESH);
	cr_expect_eq(ttl_of(out, len, 0), 3);
	cr_expect_eq(hit_of(1, "www.example.com", T0 + 10 * S, false, &m, out, &len), CACHE_MISS,
		     "the CNAME expired at 5 s");
}
