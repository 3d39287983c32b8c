/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tests/fuzz: the libFuzzer target for dp/cache, which keeps what targets send. An input is a run
 * of operations on one small cache: each is a clock step, a view, and a DNS message of some length
 * taken as a target's answer to its own question. Every answer the cache keeps must come back on a
 * lookup, written over the asker's query, as a message that parses with the asker's ID and
 * question; after every operation the log and index must agree with the stats (cache_audit).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dp/cache/cache.h"
#include "dp/wire/wire.h"

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		if (!(cond))                                                                       \
			__builtin_trap();                                                          \
	} while (0)

#define S 1000000000ull

static struct cache *small_cache(void)
{
	static const struct cache_params p = {.max_bytes = CACHE_MIN_BYTES,
					      .ttl_max_s = 86400,
					      .negative_ttl_max_s = 3600,
					      .servfail_ttl_s = 5,
					      .stale_window_s = 3600,
					      .stale_ttl_s = 30};
	struct cache *c = cache_new(&p, NULL, 0);
	CHECK(c);
	return c;
}

/* One operation: insert msg as the answer to its own question in view, then look it up. */
static void insert_and_find(struct cache *c, uint64_t view, uint8_t *msg, size_t len, uint64_t now)
{
	struct wire_dns_msg m;
	size_t count;
	if (wire_dns_parse_response(msg, len, &m, NULL, 0, &count) != WIRE_OK || !m.question_end)
		return;
	struct cache_key k = {.view = view,
			      .qname = msg + WIRE_DNS_HLEN,
			      .qname_len = (uint8_t)m.qname_len,
			      .qtype = m.qtype,
			      .qclass = m.qclass,
			      .qname_hash = wire_name_hash(msg + WIRE_DNS_HLEN, m.qname_len)};
	/* the asker's query: the same question, kept apart from msg (which the insert rewrites) */
	uint8_t query[CACHE_MSG_MAX];
	memcpy(query, msg, m.question_end);
	enum cache_insert kept = cache_insert(c, &k, msg, len, now);
	k.qname = query + WIRE_DNS_HLEN;
	struct cache_hit hit;
	enum cache_state st = cache_lookup(c, &k, now, true, &hit);
	CHECK(kept != CACHE_KEPT || st == CACHE_FRESH || st == CACHE_FRESH_REFRESH);
	if (st == CACHE_MISS)
		return;
	uint8_t out[CACHE_MSG_MAX];
	memcpy(out, query, m.question_end);
	size_t n = cache_write(c, &hit, 0xbeef, out, sizeof(out), now);
	CHECK(n > 0);
	struct wire_dns_msg w;
	CHECK(wire_dns_parse_response(out, n, &w, NULL, 0, &count) == WIRE_OK);
	CHECK(w.id == 0xbeef && !w.has_opt);
	CHECK(w.question_end == m.question_end &&
	      !memcmp(out + WIRE_DNS_HLEN, query + WIRE_DNS_HLEN, m.question_end - WIRE_DNS_HLEN));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct cache *c = small_cache();
	uint64_t now = 1000 * S;
	uint8_t msg[CACHE_MSG_MAX + 16];
	/* each operation: clock step (1), view (1), length (2), message */
	while (size >= 4) {
		now += (uint64_t)data[0] * S / 4;
		uint64_t view = data[1] % 3;
		size_t len = (size_t)(data[2] << 8 | data[3]) % (CACHE_MSG_MAX + 16);
		data += 4, size -= 4;
		if (len > size)
			len = size;
		memcpy(msg, data, len);
		insert_and_find(c, view, msg, len, now);
		data += len, size -= len;
		char why[200];
		CHECK(cache_audit(c, why, sizeof(why)));
	}
	cache_free(c);
	return 0;
}
