/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/match builder: validates presentation-form domains, collects entries per distinct domain
 * (rejecting a second custom rule or zone for one domain), resolves the precedence of BEHAVIOUR.md
 * into one stored answer per domain and wildcard, and hands the arena and hash to an immutable
 * table. Runs on the control core only; it allocates freely.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <time.h>

#include "dp/match/match_internal.h"

enum side { SIDE_EXACT = 0, SIDE_WILD = 1 };

/* What was added for one domain on one side (the domain itself, or its wildcard). */
struct side_entries {
	uint32_t custom_id, zone_id, auto_id;
	uint8_t custom_kind;
	bool has_custom, has_zone, has_auto;
};

/* Build-time state of one node, by ordinal. fallback[] is the best zone, auto-defined or "." answer
 * for a query whose most specific match is this node's domain (EXACT) or its wildcard (WILD). */
struct node_info {
	uint32_t node; /* arena offset */
	uint32_t hash;
	struct side_entries side[2];
	struct match_answer fallback[2];
};

struct match_builder {
	enum match_engine engine;
	uint8_t *arena;
	size_t arena_len, arena_cap;
	struct node_info *info;
	size_t nodes, info_cap;
	uint32_t *slots; /* ordinals, MATCH_SLOT_EMPTY when free */
	uint32_t mask;
	size_t entries;
	uint32_t recursive_id;
};

/* A domain parsed from presentation form. */
struct parsed_domain {
	uint8_t wire[MATCH_WIRE_MAX + MATCH_WIRE_SLACK];
	uint8_t offs[MATCH_LABELS_MAX];
	unsigned len, labels;
	bool wildcard;
};

static int fail(char *err, size_t errlen, const char *fmt, const char *domain, ...)
    __attribute__((format(printf, 3, 5)));

static int fail(char *err, size_t errlen, const char *fmt, const char *domain, ...)
{
	if (err && errlen) {
		char tail[160] = "";
		va_list ap;
		va_start(ap, domain);
		vsnprintf(tail, sizeof(tail), fmt, ap);
		va_end(ap);
		snprintf(err, errlen, "The domain \"%.300s\" %s", domain, tail);
	}
	return -1;
}

/* Parses "a.b.c", "a.b.c.", ".", "*.a.b" into folded wire form; "*." marks a wildcard. */
static int parse_domain(const char *domain, struct parsed_domain *d, char *err, size_t errlen)
{
	const char *p = domain;

	memset(d, 0, sizeof(*d));
	if (!*domain)
		return fail(err, errlen, "is empty; the root is written \".\".", domain);
	if (p[0] == '*' && (p[1] == '.' || p[1] == '\0')) {
		d->wildcard = true;
		p += p[1] ? 2 : 1;
	}
	if (strcmp(p, ".") == 0 && !d->wildcard)
		p++;
	while (*p) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (n == 0)
			return fail(err, errlen,
				    "has an empty label (two dots in a row, or a leading dot).",
				    domain);
		if (n > 63)
			return fail(err, errlen,
				    "has a label of %zu octets; a label holds at most 63.", domain,
				    n);
		if (d->len + 1 + n + 1 > MATCH_WIRE_MAX)
			return fail(err, errlen, "is longer than 255 octets in wire form.", domain);
		d->offs[d->labels++] = (uint8_t)d->len;
		d->wire[d->len++] = (uint8_t)n;
		for (size_t i = 0; i < n; i++)
			d->wire[d->len++] = match_fold_table[(uint8_t)p[i]];
		p += n;
		if (*p == '.')
			p++;
	}
	if (d->wildcard && d->len + 3 > MATCH_WIRE_MAX)
		return fail(err, errlen, "is longer than 255 octets in wire form.", domain);
	d->offs[d->labels] = (uint8_t)d->len;
	d->wire[d->len++] = 0;
	return 0;
}

static uint32_t hash_of(const struct parsed_domain *d)
{
	uint32_t hashes[MATCH_LABELS_MAX + 1];
	match_hash_suffixes(d->wire, d->offs, d->labels, hashes);
	return hashes[0];
}

static struct match_node *builder_node(struct match_builder *b, uint32_t ordinal)
{
	return (struct match_node *)(void *)(b->arena + b->info[ordinal].node);
}

/* The ordinal of the node for this folded wire name, or MATCH_SLOT_EMPTY; *slot gets where it is or
 * would go. */
static uint32_t builder_find(const struct match_builder *b, uint32_t hash, const uint8_t *wire,
			     unsigned len, uint32_t *slot)
{
	for (uint32_t i = hash & b->mask;; i = (i + 1) & b->mask) {
		uint32_t ord = b->slots[i];
		*slot = i;
		if (ord == MATCH_SLOT_EMPTY)
			return MATCH_SLOT_EMPTY;
		const struct node_info *info = &b->info[ord];
		const struct match_node *n = match_node_at(b->arena, info->node);
		if (info->hash == hash && n->name_len == len && memcmp(n->name, wire, len) == 0)
			return ord;
	}
}

static int grow_slots(struct match_builder *b)
{
	uint32_t cap = (b->mask + 1) * 2;
	uint32_t *slots = malloc(sizeof(*slots) * cap);

	if (!slots)
		return -1;
	memset(slots, 0xff, sizeof(*slots) * cap);
	for (size_t ord = 0; ord < b->nodes; ord++) {
		uint32_t i = b->info[ord].hash & (cap - 1);
		while (slots[i] != MATCH_SLOT_EMPTY)
			i = (i + 1) & (cap - 1);
		slots[i] = (uint32_t)ord;
	}
	free(b->slots);
	b->slots = slots;
	b->mask = cap - 1;
	return 0;
}

static void *grow(void *p, size_t *cap, size_t need, size_t unit)
{
	if (need <= *cap)
		return p;
	size_t n = *cap ? *cap : 64;
	while (n < need)
		n *= 2;
	void *q = realloc(p, n * unit);
	if (q)
		*cap = n;
	return q;
}

static uint32_t add_node(struct match_builder *b, const struct parsed_domain *d, uint32_t hash)
{
	size_t size = match_node_size(d->len);
	uint8_t *arena = grow(b->arena, &b->arena_cap, b->arena_len + size + MATCH_WIRE_SLACK, 1);
	struct node_info *info =
	    arena ? grow(b->info, &b->info_cap, b->nodes + 1, sizeof(*info)) : NULL;

	if (arena)
		b->arena = arena;
	if (info)
		b->info = info;
	if (!arena || !info || b->arena_len + size > UINT32_MAX)
		return MATCH_SLOT_EMPTY;
	struct match_node *n = (struct match_node *)(void *)(b->arena + b->arena_len);
	memset(n, 0, size);
	n->labels = (uint8_t)d->labels;
	n->name_len = (uint8_t)d->len;
	memcpy(n->name, d->wire, d->len);
	uint32_t ord = (uint32_t)b->nodes++;
	memset(&b->info[ord], 0, sizeof(b->info[ord]));
	b->info[ord].node = (uint32_t)b->arena_len;
	b->info[ord].hash = hash;
	b->arena_len += size;
	return ord;
}

/* The node for d, made if new. MATCH_SLOT_EMPTY when out of memory. */
static uint32_t node_for(struct match_builder *b, const struct parsed_domain *d)
{
	uint32_t hash = hash_of(d), slot;
	uint32_t ord = builder_find(b, hash, d->wire, d->len, &slot);

	if (ord != MATCH_SLOT_EMPTY)
		return ord;
	if ((b->nodes + 1) * 2 > b->mask + 1) {
		if (grow_slots(b) < 0)
			return MATCH_SLOT_EMPTY;
		builder_find(b, hash, d->wire, d->len, &slot);
	}
	ord = add_node(b, d, hash);
	if (ord != MATCH_SLOT_EMPTY)
		b->slots[slot] = ord;
	return ord;
}

struct match_builder *match_builder_new(enum match_engine engine)
{
	struct match_builder *b = calloc(1, sizeof(*b));
	struct parsed_domain root;

	if (!b || engine >= MATCH_ENGINE_COUNT)
		goto fail;
	b->engine = engine;
	b->recursive_id = MATCH_ID_NONE;
	b->mask = 63;
	b->slots = malloc(sizeof(*b->slots) * (b->mask + 1));
	if (!b->slots)
		goto fail;
	memset(b->slots, 0xff, sizeof(*b->slots) * (b->mask + 1));
	if (parse_domain(".", &root, NULL, 0) < 0 || node_for(b, &root) != 0)
		goto fail;
	b->entries = 1; /* the built-in "." rule */
	return b;
fail:
	match_builder_free(b);
	return NULL;
}

void match_builder_free(struct match_builder *b)
{
	if (!b)
		return;
	free(b->arena);
	free(b->info);
	free(b->slots);
	free(b);
}

static bool is_custom(enum match_kind kind)
{
	return kind == MATCH_FORWARD || kind == MATCH_SYSTEM || kind == MATCH_DELEGATE;
}

static int add_to_side(struct side_entries *s, const char *domain, enum match_kind kind,
		       uint32_t id, char *err, size_t errlen)
{
	if (is_custom(kind)) {
		if (s->has_custom)
			return fail(
			    err, errlen,
			    "already has a %s rule (id %u); a second custom rule (%s, id %u) "
			    "for the same domain is not allowed.",
			    domain, match_kind_name(s->custom_kind), s->custom_id,
			    match_kind_name(kind), id);
		s->has_custom = true;
		s->custom_kind = (uint8_t)kind;
		s->custom_id = id;
	} else if (kind == MATCH_ZONE) {
		if (s->has_zone)
			return fail(err, errlen,
				    "already has a private hosted zone (id %u); a second zone (id "
				    "%u) for the "
				    "same domain is not allowed.",
				    domain, s->zone_id, id);
		s->has_zone = true;
		s->zone_id = id;
	} else if (!s->has_auto) {
		s->has_auto = true;
		s->auto_id = id;
	} else {
		return 1; /* a repeated auto-defined entry: ignored */
	}
	return 0;
}

int match_builder_add(struct match_builder *b, const char *domain, enum match_kind kind,
		      uint32_t id, char *err, size_t errlen)
{
	struct parsed_domain d;

	if (!b)
		return -1;
	if (!domain)
		domain = ""; /* parse_domain refuses it with a sentence */
	if ((unsigned)kind >= MATCH_KIND_COUNT)
		return fail(err, errlen, "was given an unknown rule kind %d.", domain, (int)kind);
	if (parse_domain(domain, &d, err, errlen) < 0)
		return -1;
	if (kind == MATCH_RECURSIVE) {
		if (d.labels || d.wildcard)
			return fail(err, errlen,
				    "cannot have a RECURSIVE rule; only \".\" has one, built in.",
				    domain);
		b->recursive_id = id;
		return 0;
	}
	uint32_t ord = node_for(b, &d);
	if (ord == MATCH_SLOT_EMPTY)
		return fail(err, errlen, "could not be added: out of memory.", domain);
	struct side_entries *s = &b->info[ord].side[d.wildcard ? SIDE_WILD : SIDE_EXACT];
	int rc = add_to_side(s, domain, kind, id, err, errlen);
	if (rc < 0)
		return -1;
	if (rc == 0)
		b->entries++;
	builder_node(b, ord)->flags |= d.wildcard ? MATCH_NODE_WILD : MATCH_NODE_EXACT;
	return 0;
}

static struct match_answer answer(enum match_kind kind, uint32_t id, unsigned labels)
{
	return (struct match_answer){
	    .id = id, .system_id = MATCH_ID_NONE, .kind = (uint8_t)kind, .labels = (uint8_t)labels};
}

/* The best zone or auto-defined entry on one side, else the fallback below it. */
static struct match_answer best_non_custom(const struct side_entries *s, unsigned labels,
					   struct match_answer below)
{
	if (s->has_zone)
		return answer(MATCH_ZONE, s->zone_id, labels);
	if (s->has_auto)
		return answer(MATCH_AUTO, s->auto_id, labels);
	return below;
}

/* What a query gets when this side is its most specific match. */
static struct match_answer resolve_side(const struct side_entries *s, struct match_answer fallback,
					unsigned labels)
{
	if (s->has_custom && s->custom_kind != MATCH_SYSTEM)
		return answer((enum match_kind)s->custom_kind, s->custom_id, labels);
	if (s->has_custom)
		fallback.system_id = s->custom_id;
	return fallback;
}

/* The ordinal of the nearest proper ancestor that has a node (the root at worst). */
static uint32_t nearest_ancestor(const struct match_builder *b, const struct match_node *n)
{
	uint8_t wire[MATCH_WIRE_MAX + MATCH_WIRE_SLACK] = {0};
	uint8_t offs[MATCH_LABELS_MAX];
	uint32_t hashes[MATCH_LABELS_MAX + 1];
	unsigned labels = 0;

	memcpy(wire, n->name, n->name_len);
	for (unsigned off = 0; wire[off]; off += wire[off] + 1u)
		offs[labels++] = (uint8_t)off;
	offs[labels] = (uint8_t)(n->name_len - 1);
	match_hash_suffixes(wire, offs, labels, hashes);
	for (unsigned i = 1; i <= labels; i++) {
		uint32_t slot;
		uint32_t ord =
		    builder_find(b, hashes[i], wire + offs[i], n->name_len - offs[i], &slot);
		if (ord != MATCH_SLOT_EMPTY)
			return ord;
	}
	return 0;
}

/* Fills every node's answers, parents before children (node ordinals sorted by label count). */
static int resolve_answers(struct match_builder *b)
{
	size_t count[MATCH_LABELS_MAX + 1] = {0};
	uint32_t *order = malloc(sizeof(*order) * b->nodes);

	if (!order)
		return -1;
	for (size_t ord = 0; ord < b->nodes; ord++)
		count[builder_node(b, (uint32_t)ord)->labels]++;
	for (size_t l = 0, at = 0; l <= MATCH_LABELS_MAX; l++) {
		size_t c = count[l];
		count[l] = at;
		at += c;
	}
	for (size_t ord = 0; ord < b->nodes; ord++)
		order[count[builder_node(b, (uint32_t)ord)->labels]++] = (uint32_t)ord;

	for (size_t k = 0; k < b->nodes; k++) {
		struct node_info *info = &b->info[order[k]];
		struct match_node *n = builder_node(b, order[k]);
		struct match_answer below = answer(MATCH_RECURSIVE, b->recursive_id, 0);
		if (n->labels)
			below = b->info[nearest_ancestor(b, n)].fallback[SIDE_WILD];
		info->fallback[SIDE_EXACT] =
		    best_non_custom(&info->side[SIDE_EXACT], n->labels, below);
		info->fallback[SIDE_WILD] = best_non_custom(&info->side[SIDE_WILD], n->labels + 1u,
							    info->fallback[SIDE_EXACT]);
		n->exact =
		    resolve_side(&info->side[SIDE_EXACT], info->fallback[SIDE_EXACT], n->labels);
		n->wild =
		    resolve_side(&info->side[SIDE_WILD], info->fallback[SIDE_WILD], n->labels + 1u);
	}
	builder_node(b, 0)->flags |= MATCH_NODE_EXACT; /* the built-in "." answers the root */
	free(order);
	return 0;
}

/* Big tables are read at random: transparent huge pages spare most TLB misses. */
static void *table_alloc(size_t size)
{
	const size_t huge = (size_t)2 << 20;
	size_t rounded = (size + huge - 1) & ~(huge - 1);
	void *p;

	if (size < huge)
		return malloc(size);
	p = aligned_alloc(huge, rounded);
	if (p)
		madvise(p, rounded, MADV_HUGEPAGE);
	return p;
}

static struct match_table *table_from(struct match_builder *b)
{
	struct match_table *t = calloc(1, sizeof(*t));
	size_t nslots = (size_t)b->mask + 1;

	if (!t)
		return NULL;
	size_t words = match_filter_words(b->nodes);

	t->slots = table_alloc(sizeof(*t->slots) * nslots);
	t->arena = table_alloc(b->arena_len + MATCH_WIRE_SLACK);
	t->filter = table_alloc(sizeof(*t->filter) * words);
	if (!t->slots || !t->arena || !t->filter) {
		free(t->slots);
		free(t->arena);
		free(t->filter);
		free(t);
		return NULL;
	}
	for (size_t i = 0; i < nslots; i++) {
		uint32_t ord = b->slots[i];
		t->slots[i].node = ord == MATCH_SLOT_EMPTY ? MATCH_SLOT_EMPTY : b->info[ord].node;
		t->slots[i].hash = ord == MATCH_SLOT_EMPTY ? 0 : b->info[ord].hash;
	}
	memset(t->filter, 0, sizeof(*t->filter) * words);
	t->filter_shift = 32 - (unsigned)__builtin_ctzll(words);
	t->engine = b->engine;
	t->mask = b->mask;
	t->arena_len = b->arena_len;
	memcpy(t->arena, b->arena, b->arena_len);
	memset(t->arena + t->arena_len, 0, MATCH_WIRE_SLACK);
	for (size_t ord = 0; ord < b->nodes; ord++) {
		unsigned depth = match_node_at(t->arena, b->info[ord].node)->labels;
		t->max_depth = depth > t->max_depth ? depth : t->max_depth;
		t->filter[b->info[ord].hash >> t->filter_shift] |=
		    match_filter_bits(b->info[ord].hash);
	}
	t->root = b->info[0].node;
	t->entries = b->entries;
	t->domains = b->nodes;
	return t;
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) * 1e-9;
}

struct match_table *match_builder_build(struct match_builder *b, char *err, size_t errlen)
{
	struct timespec start;
	struct match_table *t = NULL;

	clock_gettime(CLOCK_MONOTONIC, &start);
	if (!b) {
		if (err && errlen)
			snprintf(err, errlen, "No builder was given (match_builder_new failed?).");
		return NULL;
	}
	if (resolve_answers(b) < 0 || !(t = table_from(b))) {
		snprintf(err, errlen, "Out of memory while building a table of %zu entries.",
			 b->entries);
		match_builder_free(b);
		return NULL;
	}
	match_builder_free(b);
	if (t->engine == MATCH_ENGINE_HYPERSCAN) {
		if (match_hs_compile(t, err, errlen) < 0) {
			match_table_free(t);
			return NULL;
		}
		free(t->slots); /* Hyperscan answers from the arena alone */
		t->slots = NULL;
		free(t->filter);
		t->filter = NULL;
	}
	t->build_seconds = seconds_since(&start);
	return t;
}
