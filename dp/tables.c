/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/tables: builds the immutable tables the lcores read (VPCs, endpoints, targets, rules) and the
 * address index that maps (port, VLAN, address) to a VPC resolver address or an endpoint address.
 * The index is open addressing (linear probing, load at most 1/2; 1.3 probes on average at 100,000
 * addresses): bench/pipeline measured it against rte_hash with the same 20-octet key, and it was
 * faster at 1,000 and at 100,000 addresses (see bench/pipeline/README.md). The static zone
 * answers' index (see dp.h) is built the same way over a 64-bit hash of (VPC, name, type, class).
 * It needs no EAL. Off the fast path except dp_tables_lookup_addr, dp_static_lookup and
 * dp_vpc_has_client.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_hash_crc.h>

#include "dp/dp_internal.h"

#define ADDR_VALUE_SHIFT 28
#define ADDR_INDEX_MASK	 ((1u << ADDR_VALUE_SHIFT) - 1)

/* A growable array of fixed-size items: the builder's only container. */
struct vec {
	void *items;
	uint32_t n, cap;
	size_t size;
};

struct dp_tables_builder {
	struct dp_tunables tunables;
	struct vec vpcs, cidrs, resolver_keys, endpoints, endpoint_addrs, targets, rules;
	struct vec static_keys; /* struct dp_static_slot: each static answer's hash and offset */
	uint8_t *static_arena;	/* the entries, as the tables will hold them */
	size_t static_len, static_cap;
};

/* A resolver address while building: which VPC claims it. */
struct resolver_key {
	uint8_t key[DP_ADDR_KEY_LEN];
	uint32_t vpc;
};

static void *vec_push(struct vec *v, const void *item)
{
	if (v->n == v->cap) {
		uint32_t cap = v->cap ? v->cap * 2 : 16;
		void *items = realloc(v->items, (size_t)cap * v->size);
		if (!items)
			return NULL;
		v->items = items;
		v->cap = cap;
	}
	void *slot = (uint8_t *)v->items + (size_t)v->n * v->size;
	memcpy(slot, item, v->size);
	v->n++;
	return slot;
}

static void *vec_at(const struct vec *v, uint32_t i)
{
	return (uint8_t *)v->items + (size_t)i * v->size;
}

/* Hands the items over to the tables (NULL when empty) and leaves the vector empty. */
static void *vec_take(struct vec *v)
{
	void *items = v->items;
	v->items = NULL;
	v->n = v->cap = 0;
	return items;
}

static void addr_key(uint8_t key[DP_ADDR_KEY_LEN], uint16_t port, uint16_t vlan, uint8_t family,
		     const uint8_t *addr)
{
	uint16_t tag = (uint16_t)((vlan & 0x0fff) | (family == 6 ? 0x8000 : 0));
	memcpy(key, &port, 2);
	memcpy(key + 2, &tag, 2);
	memset(key + 4, 0, 16);
	memcpy(key + 4, addr, family == 6 ? 16 : 4);
}

struct dp_tables_builder *dp_tables_builder_new(const struct dp_tunables *tunables)
{
	struct dp_tables_builder *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->tunables = *tunables;
	if (!b->tunables.edns_udp_size)
		b->tunables.edns_udp_size = DP_EDNS_DEFAULT;
	b->vpcs.size = sizeof(struct dp_vpc);
	b->cidrs.size = sizeof(struct dp_cidr);
	b->resolver_keys.size = sizeof(struct resolver_key);
	b->endpoints.size = sizeof(struct dp_endpoint);
	b->endpoint_addrs.size = sizeof(struct dp_endpoint_addr);
	b->targets.size = sizeof(struct dp_target);
	b->rules.size = sizeof(struct dp_rule);
	b->static_keys.size = sizeof(struct dp_static_slot);
	return b;
}

void dp_tables_builder_free(struct dp_tables_builder *b)
{
	if (!b)
		return;
	for (uint32_t i = 0; i < b->vpcs.n; i++)
		match_table_free(((struct dp_vpc *)vec_at(&b->vpcs, i))->match);
	free(b->vpcs.items);
	free(b->cidrs.items);
	free(b->resolver_keys.items);
	free(b->endpoints.items);
	free(b->endpoint_addrs.items);
	free(b->targets.items);
	free(b->rules.items);
	free(b->static_keys.items);
	free(b->static_arena);
	free(b);
}

static bool family_ok(uint8_t family)
{
	return family == 4 || family == 6;
}

#define FAIL(...)                                                                                  \
	do {                                                                                       \
		snprintf(err, errlen, __VA_ARGS__);                                                \
		return -1;                                                                         \
	} while (0)

int64_t dp_tables_add_vpc(struct dp_tables_builder *b, const struct dp_vpc_spec *spec, char *err,
			  size_t errlen)
{
	if (!spec->match)
		FAIL("a VPC needs its match table");
	if (spec->vlan > 4095)
		FAIL("VLAN %u is not a 12-bit VLAN id", spec->vlan);
	if (!spec->n_resolver_addrs)
		FAIL("a VPC needs at least one resolver address");
	for (unsigned i = 0; i < spec->n_cidrs; i++) {
		const struct dp_cidr *c = &spec->cidrs[i];
		if (!family_ok(c->base.family) || c->prefix_len > (c->base.family == 4 ? 32 : 128))
			FAIL("CIDR %u: bad family or prefix length", i);
	}
	for (unsigned i = 0; i < spec->n_resolver_addrs; i++)
		if (!family_ok(spec->resolver_addrs[i].family))
			FAIL("resolver address %u: family is neither 4 nor 6", i);
	/* all checked: what follows fails only out of memory, which leaves the builder unusable */
	uint32_t index = b->vpcs.n;
	for (unsigned i = 0; i < spec->n_resolver_addrs; i++) {
		struct resolver_key rk = {.vpc = index};
		addr_key(rk.key, spec->port, spec->vlan, spec->resolver_addrs[i].family,
			 spec->resolver_addrs[i].addr);
		if (!vec_push(&b->resolver_keys, &rk))
			FAIL("out of memory");
	}
	struct dp_vpc v = {
	    .port = spec->port,
	    .vlan = spec->vlan,
	    .outsiders = spec->outsiders,
	    .n_cidrs = spec->n_cidrs,
	    /* the index of its first CIDR until dp_tables_build makes it a pointer */
	    .cidrs = (struct dp_cidr *)(uintptr_t)b->cidrs.n,
	    .match = spec->match,
	};
	for (unsigned i = 0; i < spec->n_cidrs; i++)
		if (!vec_push(&b->cidrs, &spec->cidrs[i]))
			FAIL("out of memory");
	if (!vec_push(&b->vpcs, &v))
		FAIL("out of memory");
	return index;
}

int64_t dp_tables_add_endpoint(struct dp_tables_builder *b, const struct dp_endpoint_spec *spec,
			       char *err, size_t errlen)
{
	if (spec->n_addrs < 1 || spec->n_addrs > DP_ENDPOINT_ADDRS)
		FAIL("an endpoint has 1 to %d addresses, not %u", DP_ENDPOINT_ADDRS, spec->n_addrs);
	struct dp_endpoint e = {
	    .first_addr = b->endpoint_addrs.n,
	    .n_addrs = spec->n_addrs,
	    .edns_udp_size = spec->edns_udp_size ? spec->edns_udp_size : b->tunables.edns_udp_size,
	};
	if (e.edns_udp_size < WIRE_UDP_MIN)
		FAIL("EDNS UDP size %u is below 512", e.edns_udp_size);
	for (unsigned i = 0; i < spec->n_addrs; i++) {
		if (!family_ok(spec->addrs[i].addr.family) || spec->addrs[i].vlan > 4095)
			FAIL("endpoint address %u: bad family or VLAN", i);
		if (!vec_push(&b->endpoint_addrs, &spec->addrs[i]))
			FAIL("out of memory");
	}
	uint32_t index = b->endpoints.n;
	if (!vec_push(&b->endpoints, &e))
		FAIL("out of memory");
	return index;
}

int64_t dp_tables_add_target(struct dp_tables_builder *b, const struct dp_target_spec *spec,
			     char *err, size_t errlen)
{
	if (!family_ok(spec->addr.family))
		FAIL("target family is neither 4 nor 6");
	struct dp_target t = {
	    .addr = spec->addr,
	    .udp_port = spec->udp_port ? spec->udp_port : DP_DNS_PORT,
	    .nexthop = spec->nexthop,
	};
	uint32_t index = b->targets.n;
	if (!vec_push(&b->targets, &t))
		FAIL("out of memory");
	return index;
}

int64_t dp_tables_add_rule(struct dp_tables_builder *b, const struct dp_rule_spec *spec, char *err,
			   size_t errlen)
{
	if (spec->endpoint >= b->endpoints.n)
		FAIL("rule names endpoint %u, which was not added", spec->endpoint);
	if (spec->n_targets < 1 || spec->n_targets > DP_RULE_TARGETS_MAX)
		FAIL("a rule has 1 to %d targets, not %u", DP_RULE_TARGETS_MAX, spec->n_targets);
	const struct dp_endpoint *e = vec_at(&b->endpoints, spec->endpoint);
	for (unsigned i = 0; i < spec->n_targets; i++) {
		if (spec->targets[i] >= b->targets.n)
			FAIL("rule names target %u, which was not added", spec->targets[i]);
		const struct dp_target *t = vec_at(&b->targets, spec->targets[i]);
		const struct dp_endpoint_addr *a = vec_at(&b->endpoint_addrs, e->first_addr);
		for (unsigned k = 0; k < e->n_addrs; k++)
			if (a[k].addr.family != t->addr.family)
				FAIL("target %u and endpoint address %u differ in family: every "
				     "address of the endpoint must reach every target",
				     spec->targets[i], k);
	}
	struct dp_rule r = {.endpoint = spec->endpoint, .n_targets = spec->n_targets};
	memcpy(r.targets, spec->targets, sizeof(r.targets[0]) * spec->n_targets);
	uint32_t index = b->rules.n;
	if (!vec_push(&b->rules, &r))
		FAIL("out of memory");
	return index;
}

/* ---- static zone answers ---- */

#define STATIC_ALIGN 8

static inline uint8_t fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

static inline uint64_t static_hash(uint32_t vpc, uint64_t qname_hash, uint16_t qtype,
				   uint16_t qclass)
{
	uint64_t h = qname_hash ^
		     ((uint64_t)vpc << 32 | (uint32_t)qtype << 16 | qclass) * 0x9e3779b97f4a7c15ull;
	return h ^ (h >> 31);
}

/* Room for n more octets in the builder's arena; NULL out of memory. */
static uint8_t *static_reserve(struct dp_tables_builder *b, size_t n)
{
	if (b->static_len + n > b->static_cap) {
		size_t cap = b->static_cap ? b->static_cap : 4096;
		while (cap < b->static_len + n)
			cap *= 2;
		uint8_t *arena = realloc(b->static_arena, cap);
		if (!arena)
			return NULL;
		b->static_arena = arena;
		b->static_cap = cap;
	}
	return b->static_arena + b->static_len;
}

int64_t dp_tables_add_static(struct dp_tables_builder *b, const struct dp_static_spec *spec,
			     char *err, size_t errlen)
{
	struct wire_dns_msg m;
	size_t count;
	if (spec->vpc >= b->vpcs.n)
		FAIL("static answer for VPC %u, which was not added", spec->vpc);
	if (spec->len > DP_STATIC_MSG_MAX)
		FAIL("static answer of %zu octets: at most %d", spec->len, DP_STATIC_MSG_MAX);
	if (wire_dns_parse_response(spec->msg, spec->len, &m, NULL, 0, &count) != WIRE_OK ||
	    !(m.flags & WIRE_FLAG_QR) || m.qdcount != 1 || !m.question_end)
		FAIL("static answer: not a response with one question");
	if (m.has_opt)
		FAIL("static answer: it carries an OPT (the lcore adds the client's own)");
	if (b->static_keys.n >= UINT32_MAX / 2)
		FAIL("too many static answers");
	size_t size = (sizeof(struct dp_static_entry) + spec->len + STATIC_ALIGN - 1) &
		      ~(size_t)(STATIC_ALIGN - 1);
	uint8_t *at = static_reserve(b, size);
	if (!at || b->static_len + size > UINT32_MAX - 1)
		FAIL("out of memory");
	struct dp_static_entry *e = (struct dp_static_entry *)at;
	memset(e, 0, size);
	e->vpc = spec->vpc;
	e->zone = spec->zone;
	e->qtype = m.qtype;
	e->qclass = m.qclass;
	e->msg_len = (uint16_t)spec->len;
	e->qname_len = (uint8_t)m.qname_len;
	memcpy(e->msg, spec->msg, spec->len);
	for (size_t i = 0; i < m.qname_len; i++)
		e->msg[WIRE_DNS_HLEN + i] = fold(e->msg[WIRE_DNS_HLEN + i]);
	struct dp_static_slot key = {
	    .hash = static_hash(spec->vpc, wire_name_hash(e->msg + WIRE_DNS_HLEN, m.qname_len),
				m.qtype, m.qclass),
	    .off = (uint32_t)b->static_len + 1,
	};
	if (!vec_push(&b->static_keys, &key))
		FAIL("out of memory");
	b->static_len += size;
	return (int64_t)b->static_keys.n - 1;
}

static const struct dp_static_entry *static_at(const uint8_t *arena, uint32_t off)
{
	return (const struct dp_static_entry *)(arena + off - 1);
}

static bool static_same_key(const struct dp_static_entry *e, uint32_t vpc, const uint8_t *qname,
			    uint8_t qname_len, uint16_t qtype, uint16_t qclass)
{
	if (e->vpc != vpc || e->qtype != qtype || e->qclass != qclass || e->qname_len != qname_len)
		return false;
	const uint8_t *stored = e->msg + WIRE_DNS_HLEN;
	for (unsigned i = 0; i < qname_len; i++)
		if (fold(qname[i]) != stored[i])
			return false;
	return true;
}

static bool build_static_index(struct dp_tables *t, struct dp_tables_builder *b, char *err,
			       size_t errlen)
{
	uint32_t n = b->static_keys.n, slots = 16;
	while (slots < 2 * n)
		slots *= 2;
	t->static_slots = calloc(slots, sizeof(*t->static_slots));
	if (!t->static_slots) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	t->static_mask = slots - 1;
	t->static_arena = b->static_arena;
	b->static_arena = NULL;
	for (uint32_t k = 0; k < n; k++) {
		const struct dp_static_slot *key = vec_at(&b->static_keys, k);
		const struct dp_static_entry *e = static_at(t->static_arena, key->off);
		uint32_t i = (uint32_t)key->hash & t->static_mask;
		for (; t->static_slots[i].off; i = (i + 1) & t->static_mask) {
			const struct dp_static_slot *s = &t->static_slots[i];
			if (s->hash == key->hash &&
			    static_same_key(static_at(t->static_arena, s->off), e->vpc,
					    e->msg + WIRE_DNS_HLEN, e->qname_len, e->qtype,
					    e->qclass)) {
				snprintf(err, errlen,
					 "VPC %u: a static answer's name, type and class given "
					 "twice",
					 e->vpc);
				return false;
			}
		}
		t->static_slots[i] = *key;
	}
	t->n_static = n;
	return true;
}

const struct dp_static_entry *dp_static_lookup(const struct dp_tables *t, uint32_t vpc,
					       const uint8_t *qname, uint8_t qname_len,
					       uint16_t qtype, uint16_t qclass, uint64_t qname_hash)
{
	if (!t->n_static)
		return NULL;
	uint64_t hash = static_hash(vpc, qname_hash, qtype, qclass);
	for (uint32_t i = (uint32_t)hash & t->static_mask;; i = (i + 1) & t->static_mask) {
		const struct dp_static_slot *s = &t->static_slots[i];
		if (!s->off)
			return NULL;
		if (s->hash != hash)
			continue;
		const struct dp_static_entry *e = static_at(t->static_arena, s->off);
		if (static_same_key(e, vpc, qname, qname_len, qtype, qclass))
			return e;
	}
}

uint32_t dp_tables_static_count(const struct dp_tables *t)
{
	return t->n_static;
}

/* ---- the address index ---- */

/* CRC32 is linear: addresses that differ only in their last octets hash to runs of nearby values,
 * which linear probing would turn into clusters. A multiply spreads them over the high bits. */
static uint32_t addr_hash(const uint8_t key[DP_ADDR_KEY_LEN])
{
	uint64_t crc = rte_hash_crc(key, DP_ADDR_KEY_LEN, 0);
	return (uint32_t)((crc * 0x9e3779b97f4a7c15ull) >> 32);
}

/* memcmp of a 20-octet key as three loads a side: libc's memcmp is a call, and a third of a lookup
 */
static inline bool key_equal(const uint8_t *a, const uint8_t *b)
{
	uint64_t a0, a1, b0, b1;
	uint32_t a2, b2;
	memcpy(&a0, a, 8);
	memcpy(&a1, a + 8, 8);
	memcpy(&a2, a + 16, 4);
	memcpy(&b0, b, 8);
	memcpy(&b1, b + 8, 8);
	memcpy(&b2, b + 16, 4);
	return !((a0 ^ b0) | (a1 ^ b1) | (a2 ^ b2));
}

/* Inserts key; false when it is there already (an address claimed twice). */
static bool addr_insert(struct dp_tables *t, const uint8_t key[DP_ADDR_KEY_LEN], uint32_t value)
{
	for (uint32_t i = addr_hash(key) & t->addr_mask;; i = (i + 1) & t->addr_mask) {
		struct dp_addr_slot *s = &t->addr_slots[i];
		if (!s->value) {
			memcpy(s->key, key, DP_ADDR_KEY_LEN);
			s->value = value;
			return true;
		}
		if (key_equal(s->key, key))
			return false;
	}
}

static bool build_addr_index(struct dp_tables *t, const struct dp_tables_builder *b, char *err,
			     size_t errlen)
{
	uint32_t n = b->resolver_keys.n + t->n_endpoint_addrs, slots = 16;
	while (slots < 2 * n)
		slots *= 2;
	t->addr_slots = calloc(slots, sizeof(*t->addr_slots));
	if (!t->addr_slots) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	t->addr_mask = slots - 1;
	for (uint32_t i = 0; i < b->resolver_keys.n; i++) {
		const struct resolver_key *rk = vec_at(&b->resolver_keys, i);
		if (!addr_insert(t, rk->key,
				 (uint32_t)DP_ADDR_RESOLVER << ADDR_VALUE_SHIFT | rk->vpc)) {
			snprintf(err, errlen,
				 "VPC %u: a resolver address already taken on its port and VLAN",
				 rk->vpc);
			return false;
		}
	}
	for (uint32_t i = 0; i < t->n_endpoint_addrs; i++) {
		const struct dp_endpoint_addr *a = &t->endpoint_addrs[i];
		uint8_t key[DP_ADDR_KEY_LEN];
		addr_key(key, a->port, a->vlan, a->addr.family, a->addr.addr);
		if (!addr_insert(t, key, (uint32_t)DP_ADDR_ENDPOINT << ADDR_VALUE_SHIFT | i)) {
			snprintf(err, errlen,
				 "endpoint address %u: already taken on its port and VLAN", i);
			return false;
		}
	}
	return true;
}

struct dp_tables *dp_tables_build(struct dp_tables_builder *b, char *err, size_t errlen)
{
	struct dp_tables *t = calloc(1, sizeof(*t));
	if (!t || b->vpcs.n > ADDR_INDEX_MASK || b->endpoint_addrs.n > ADDR_INDEX_MASK) {
		snprintf(err, errlen, t ? "too many VPCs or endpoint addresses" : "out of memory");
		free(t);
		dp_tables_builder_free(b);
		return NULL;
	}
	t->tunables = b->tunables;
	t->n_vpcs = b->vpcs.n;
	t->n_endpoints = b->endpoints.n;
	t->n_endpoint_addrs = b->endpoint_addrs.n;
	t->n_targets = b->targets.n;
	t->n_rules = b->rules.n;
	struct dp_cidr *cidrs = vec_take(&b->cidrs);
	t->vpcs = vec_take(&b->vpcs);
	for (uint32_t i = 0; i < t->n_vpcs; i++)
		t->vpcs[i].cidrs = cidrs + (uintptr_t)t->vpcs[i].cidrs;
	t->endpoints = vec_take(&b->endpoints);
	t->endpoint_addrs = vec_take(&b->endpoint_addrs);
	t->targets = vec_take(&b->targets);
	t->rules = vec_take(&b->rules);
	bool ok = build_addr_index(t, b, err, errlen) && build_static_index(t, b, err, errlen);
	if (t->n_vpcs == 0)
		free(cidrs);
	dp_tables_builder_free(b);
	if (!ok) {
		dp_tables_free(t);
		return NULL;
	}
	return t;
}

void dp_tables_free(struct dp_tables *t)
{
	if (!t)
		return;
	for (uint32_t i = 0; i < t->n_vpcs; i++)
		match_table_free(t->vpcs[i].match);
	/* every VPC's CIDRs live in one array, starting at the first VPC's */
	if (t->n_vpcs)
		free(t->vpcs[0].cidrs);
	free(t->vpcs);
	free(t->endpoints);
	free(t->endpoint_addrs);
	free(t->targets);
	free(t->rules);
	free(t->addr_slots);
	free(t->static_slots);
	free(t->static_arena);
	for (uint32_t i = 0; i < t->n_scratch; i++)
		match_scratch_free(t->scratch[i]);
	free(t->scratch);
	free(t);
}

struct dp_addr_hit dp_tables_lookup_addr(const struct dp_tables *t, uint16_t port, uint16_t vlan,
					 uint8_t family, const uint8_t *addr)
{
	uint8_t key[DP_ADDR_KEY_LEN];
	addr_key(key, port, vlan, family, addr);
	for (uint32_t i = addr_hash(key) & t->addr_mask;; i = (i + 1) & t->addr_mask) {
		const struct dp_addr_slot *s = &t->addr_slots[i];
		if (!s->value)
			return (struct dp_addr_hit){.kind = DP_ADDR_NONE};
		if (key_equal(s->key, key))
			return (struct dp_addr_hit){.kind = s->value >> ADDR_VALUE_SHIFT,
						    .index = s->value & ADDR_INDEX_MASK};
	}
}

static bool prefix_equal(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, whole))
		return false;
	if (!rest)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

bool dp_vpc_has_client(const struct dp_vpc *v, uint8_t family, const uint8_t *addr)
{
	for (uint32_t i = 0; i < v->n_cidrs; i++)
		if (v->cidrs[i].base.family == family &&
		    prefix_equal(v->cidrs[i].base.addr, addr, v->cidrs[i].prefix_len))
			return true;
	return false;
}
