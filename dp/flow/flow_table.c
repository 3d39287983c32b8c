/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/flow table: creation (the module's only allocation), flow slots, and the (port, ID) -> flow
 * hash that flow_find probes. The hash is open addressing with linear probing at a load of at most
 * one quarter (8 bytes per entry: 32 per flow, against the flow's own 448), deleted by backward
 * shift (no tombstones, so probes stay short however long the lcore runs). bench/flow measured a
 * load of one half 1.5 to 1.8 times slower for open + close and for spoofed lookups, and chaining
 * through the flows themselves no faster (README.md there). Keys are drawn at random by us, so a
 * multiplicative hash spreads them; a spoofer chooses only the keys it looks up, never the ones
 * stored.
 */
#include <stdlib.h>
#include <string.h>

#include "dp/flow/flow_internal.h"

static bool params_valid(const struct flow_table_params *p, enum flow_params_error *err)
{
	uint64_t n_ports = (uint64_t)p->port_hi - p->port_lo + 1;

	if (p->capacity == 0 || p->capacity > FLOW_CAPACITY_MAX)
		*err = FLOW_PARAMS_NO_CAPACITY;
	else if (p->port_lo == 0 || p->port_lo > p->port_hi)
		*err = FLOW_PARAMS_PORT_RANGE;
	else if (n_ports * 65536 < 4ull * p->capacity)
		*err = FLOW_PARAMS_TOO_FEW_KEYS;
	else if (p->tries < 1 || p->tries > FLOW_TRIES_MAX)
		*err = FLOW_PARAMS_TRIES;
	else if (p->timeout_min_ns == 0 || p->timeout_min_ns > p->timeout_initial_ns ||
		 p->timeout_initial_ns > p->timeout_max_ns ||
		 p->timeout_max_ns > FLOW_TIMEOUT_CEILING)
		*err = FLOW_PARAMS_TIMEOUTS;
	else if (p->n_targets == 0)
		*err = FLOW_PARAMS_NO_TARGETS;
	else
		*err = FLOW_PARAMS_OK;
	return *err == FLOW_PARAMS_OK;
}

static uint32_t log2_ceil(uint64_t n)
{
	uint32_t bits = 0;

	while ((1ull << bits) < n)
		bits++;
	return bits;
}

static bool allocate(struct flow_table *t, const struct flow_table_params *p)
{
	size_t flows_bytes = ((size_t)p->capacity * sizeof(struct flow) + 63) & ~(size_t)63;

	t->key_bits = log2_ceil(4ull * p->capacity);
	if (t->key_bits < 4)
		t->key_bits = 4;
	t->key_mask = (1u << t->key_bits) - 1;
	t->n_slots = 1u << log2_ceil((p->timeout_max_ns >> FLOW_TICK_SHIFT) + 2);
	if (t->n_slots < 256)
		t->n_slots = 256;

	t->flows = aligned_alloc(64, flows_bytes);
	t->free_stack = calloc(p->capacity, sizeof(*t->free_stack));
	t->keys = calloc((size_t)t->key_mask + 1, sizeof(*t->keys));
	t->wheel = calloc(t->n_slots, sizeof(*t->wheel));
	t->targets = calloc(p->n_targets, sizeof(*t->targets));
	t->hists = calloc(p->n_targets, sizeof(*t->hists));
	return t->flows && t->free_stack && t->keys && t->wheel && t->targets && t->hists;
}

struct flow_table *flow_table_new(const struct flow_table_params *p, enum flow_params_error *err)
{
	enum flow_params_error ignored;
	struct flow_table *t;

	if (!err)
		err = &ignored;
	if (!params_valid(p, err))
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t || !allocate(t, p)) {
		flow_table_free(t);
		*err = FLOW_PARAMS_OUT_OF_MEMORY;
		return NULL;
	}
	t->capacity = p->capacity;
	t->port_lo = p->port_lo;
	t->n_ports = (uint32_t)p->port_hi - p->port_lo + 1;
	t->tries = p->tries;
	t->timeout_initial_ns = p->timeout_initial_ns;
	t->timeout_min_ns = p->timeout_min_ns;
	t->timeout_max_ns = p->timeout_max_ns;
	t->n_targets = p->n_targets;

	memset(t->flows, 0, (size_t)p->capacity * sizeof(struct flow));
	/* Pushed in reverse so the first flows handed out are the lowest slots. */
	for (uint32_t i = 0; i < p->capacity; i++) {
		t->free_stack[i] = p->capacity - 1 - i;
		t->flows[i].wheel_next = t->flows[i].wheel_prev = FLOW_NIL;
	}
	t->n_free = p->capacity;
	for (uint32_t i = 0; i <= t->key_mask; i++)
		t->keys[i].index = FLOW_NIL;
	flow_timer_init(t);
	flow_targets_init(t);
	flow_rng_init(&t->rng, p->seed);
	return t;
}

void flow_table_free(struct flow_table *t)
{
	if (!t)
		return;
	free(t->flows);
	free(t->free_stack);
	free(t->keys);
	free(t->wheel);
	free(t->targets);
	free(t->hists);
	free(t);
}

static inline uint32_t key_of(uint16_t port, uint16_t id)
{
	return (uint32_t)port << 16 | id;
}

static inline uint32_t key_home(const struct flow_table *t, uint32_t key)
{
	return (uint32_t)(key * 0x9e3779b1u) >> (32 - t->key_bits);
}

/* The entry holding key, or the empty entry where it would go. */
static inline uint32_t key_probe(const struct flow_table *t, uint32_t key)
{
	uint32_t i = key_home(t, key);

	while (t->keys[i].index != FLOW_NIL && t->keys[i].key != key)
		i = (i + 1) & t->key_mask;
	return i;
}

static void key_insert(struct flow_table *t, uint32_t at, uint32_t key, uint32_t index)
{
	t->keys[at].key = key;
	t->keys[at].index = index;
}

/* Backward-shift deletion: pull later entries of the probe run into the hole when their home
 * slot allows, so every run stays unbroken without tombstones. */
static void key_remove(struct flow_table *t, uint32_t key)
{
	uint32_t hole = key_probe(t, key);
	uint32_t j = hole;

	if (t->keys[hole].index == FLOW_NIL)
		return;
	for (;;) {
		j = (j + 1) & t->key_mask;
		if (t->keys[j].index == FLOW_NIL)
			break;
		uint32_t home = key_home(t, t->keys[j].key);
		/* The entry at j may fill the hole unless its home lies cyclically in (hole, j]. */
		bool home_after_hole = ((j - home) & t->key_mask) < ((j - hole) & t->key_mask);
		if (!home_after_hole) {
			t->keys[hole] = t->keys[j];
			hole = j;
		}
	}
	t->keys[hole].index = FLOW_NIL;
}

/* Draws a (port, ID) no open flow holds and files f under it. */
static bool key_draw(struct flow_table *t, struct flow *f)
{
	for (int draw = 0; draw < FLOW_KEY_DRAWS; draw++) {
		uint16_t port = (uint16_t)(t->port_lo + flow_rng_below16(&t->rng, t->n_ports));
		uint16_t id = flow_rng_u16(&t->rng);
		uint32_t key = key_of(port, id);
		uint32_t at = key_probe(t, key);

		if (t->keys[at].index == FLOW_NIL) {
			key_insert(t, at, key, flow_index(t, f));
			f->port = port;
			f->id = id;
			return true;
		}
	}
	return false;
}

bool flow_key_redraw(struct flow_table *t, struct flow *f)
{
	key_remove(t, key_of(f->port, f->id));
	if (key_draw(t, f))
		return true;
	/* Keep the flow findable under its old key so the lcore can still close it. */
	key_insert(t, key_probe(t, key_of(f->port, f->id)), key_of(f->port, f->id),
		   flow_index(t, f));
	t->stats.no_key++;
	return false;
}

enum flow_open_result flow_open(struct flow_table *t, uint64_t now, struct flow **out)
{
	struct flow *f;

	if (t->n_free == 0) {
		t->stats.full++;
		return FLOW_OPEN_FULL;
	}
	f = &t->flows[t->free_stack[t->n_free - 1]];
	if (!key_draw(t, f)) {
		t->stats.no_key++;
		return FLOW_OPEN_NO_KEY;
	}
	t->n_free--;
	f->state = FLOW_STATE_OPEN;
	f->tries = 0;
	f->tried_mask = 0;
	f->pkt = NULL;
	f->opened_ns = now;
	t->stats.opened++;
	*out = f;
	return FLOW_OPEN_OK;
}

struct flow *flow_find(const struct flow_table *t, uint16_t port, uint16_t id)
{
	uint32_t at = key_probe(t, key_of(port, id));
	uint32_t index = t->keys[at].index;

	return index == FLOW_NIL ? NULL : &t->flows[index];
}

void flow_close(struct flow_table *t, struct flow *f)
{
	if (f->state != FLOW_STATE_OPEN)
		return;
	key_remove(t, key_of(f->port, f->id));
	flow_timer_cancel(t, f);
	f->state = FLOW_STATE_FREE;
	t->free_stack[t->n_free++] = flow_index(t, f);
	t->stats.closed++;
}

struct flow *flow_next_open(struct flow_table *t, struct flow *prev)
{
	for (uint32_t i = prev ? flow_index(t, prev) + 1 : 0; i < t->capacity; i++)
		if (t->flows[i].state == FLOW_STATE_OPEN)
			return &t->flows[i];
	return NULL;
}

enum flow_reply_verdict flow_check_reply(const struct flow *f, const uint8_t src_addr[16],
					 uint16_t src_port, const uint8_t dst_addr[16],
					 const uint8_t *question, size_t question_len)
{
	size_t addr_len = f->upstream_family == 6 ? 16 : 4;

	if (src_port != f->target_port || memcmp(src_addr, f->target_addr, addr_len) != 0)
		return FLOW_REPLY_WRONG_TARGET;
	if (memcmp(dst_addr, f->endpoint_addr, addr_len) != 0)
		return FLOW_REPLY_WRONG_ENDPOINT;
	if (question_len != f->question_len || memcmp(question, f->question, question_len) != 0)
		return FLOW_REPLY_WRONG_QUESTION;
	return FLOW_REPLY_OK;
}

void flow_table_stats(const struct flow_table *t, struct flow_stats *out)
{
	*out = t->stats;
	out->in_flight = t->capacity - t->n_free;
}

const char *flow_params_error_str(enum flow_params_error e)
{
	switch (e) {
	case FLOW_PARAMS_OK:
		return "ok";
	case FLOW_PARAMS_NO_CAPACITY:
		return "capacity must be 1 to 16,777,216 flows";
	case FLOW_PARAMS_PORT_RANGE:
		return "source port range must be non-empty and exclude port 0";
	case FLOW_PARAMS_TOO_FEW_KEYS:
		return "source ports x 65,536 DNS IDs must be at least 4 x capacity";
	case FLOW_PARAMS_TRIES:
		return "tries must be 1 to 6";
	case FLOW_PARAMS_TIMEOUTS:
		return "timeouts must satisfy 0 < min <= initial <= max <= 60 s";
	case FLOW_PARAMS_NO_TARGETS:
		return "the target count must be at least 1";
	case FLOW_PARAMS_OUT_OF_MEMORY:
		return "out of memory";
	}
	return "unknown";
}

const char *flow_open_result_str(enum flow_open_result r)
{
	switch (r) {
	case FLOW_OPEN_OK:
		return "ok";
	case FLOW_OPEN_FULL:
		return "flow table full";
	case FLOW_OPEN_NO_KEY:
		return "no free (source port, DNS ID) pair found";
	}
	return "unknown";
}

const char *flow_reply_verdict_str(enum flow_reply_verdict v)
{
	switch (v) {
	case FLOW_REPLY_OK:
		return "ok";
	case FLOW_REPLY_WRONG_TARGET:
		return "reply not from the target asked";
	case FLOW_REPLY_WRONG_ENDPOINT:
		return "reply not to the endpoint address used";
	case FLOW_REPLY_WRONG_QUESTION:
		return "reply's question differs from the one sent";
	}
	return "unknown";
}

const char *flow_try_result_str(enum flow_try_result r)
{
	switch (r) {
	case FLOW_TRY_SENT:
		return "sent";
	case FLOW_TRY_EXHAUSTED:
		return "tries used up";
	case FLOW_TRY_NO_KEY:
		return "no free (source port, DNS ID) pair found";
	case FLOW_TRY_BAD_RULE:
		return "rule has no usable targets or endpoint addresses";
	}
	return "unknown";
}
