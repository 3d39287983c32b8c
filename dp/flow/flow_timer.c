/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/flow timers: one deadline per flow on a hashed timing wheel (one slot per 2^20 ns tick, as
 * many slots as the longest timeout spans) with intrusive doubly linked lists, so arming and
 * cancelling are O(1) and expiry visits only due slots. Not rte_timer: dp/flow stays libc-only, and
 * bench/flow compares the two. Slots and flows share one index space (slot s is node s, flow i is
 * node n_slots + i), so a flow's links fit in 8 bytes of its first cache line.
 */
#include "dp/flow/flow_internal.h"

static inline uint32_t *next_of(struct flow_table *t, uint32_t node)
{
	return node < t->n_slots ? &t->wheel[node].next : &t->flows[node - t->n_slots].wheel_next;
}

static inline uint32_t *prev_of(struct flow_table *t, uint32_t node)
{
	return node < t->n_slots ? &t->wheel[node].prev : &t->flows[node - t->n_slots].wheel_prev;
}

void flow_timer_init(struct flow_table *t)
{
	for (uint32_t s = 0; s < t->n_slots; s++)
		t->wheel[s].next = t->wheel[s].prev = s;
	t->wheel_tick = 0;
}

static void unlink_node(struct flow_table *t, struct flow *f)
{
	*next_of(t, f->wheel_prev) = f->wheel_next;
	*prev_of(t, f->wheel_next) = f->wheel_prev;
	f->wheel_next = f->wheel_prev = FLOW_NIL;
}

void flow_timer_cancel(struct flow_table *t, struct flow *f)
{
	if (f->wheel_next != FLOW_NIL)
		unlink_node(t, f);
}

void flow_timer_arm(struct flow_table *t, struct flow *f, uint64_t deadline_ns)
{
	uint64_t tick = deadline_ns >> FLOW_TICK_SHIFT;
	uint32_t slot, node = t->n_slots + flow_index(t, f);

	flow_timer_cancel(t, f);
	/* A deadline in a tick already expired goes where the next expiry looks first. */
	if (tick < t->wheel_tick)
		tick = t->wheel_tick;
	slot = (uint32_t)(tick & (t->n_slots - 1));
	f->deadline_ns = deadline_ns;
	/* Appended: a slot expires in the order its flows were armed. */
	f->wheel_prev = t->wheel[slot].prev;
	f->wheel_next = slot;
	*next_of(t, f->wheel_prev) = node;
	t->wheel[slot].prev = node;
}

/* Moves the due flows of one slot to out; true when the slot holds no due flow any more. In the
 * current tick (stop_at_undue) it stops at the first flow not yet due, so a poll costs O(1)
 * however many flows the tick holds: one armed later with an earlier deadline waits at most until
 * the tick is over, which is the wheel's resolution. */
static bool expire_slot(struct flow_table *t, uint32_t slot, uint64_t now, bool stop_at_undue,
			struct flow **out, size_t max, size_t *n)
{
	uint32_t node = t->wheel[slot].next;

	while (node != slot) {
		struct flow *f = &t->flows[node - t->n_slots];

		node = f->wheel_next;
		if (f->deadline_ns > now) {
			if (stop_at_undue)
				return true;
			/* A flow armed a whole wheel turn ahead shares the slot but is not due. */
			continue;
		}
		if (*n == max)
			return false;
		unlink_node(t, f);
		flow_target_timed_out(t, f->target);
		t->stats.expired++;
		out[(*n)++] = f;
	}
	return true;
}

size_t flow_expire(struct flow_table *t, uint64_t now, struct flow **out, size_t max)
{
	uint64_t now_tick = now >> FLOW_TICK_SHIFT;
	uint32_t mask = t->n_slots - 1;
	size_t n = 0;

	/* After a stall longer than a turn, one turn visits every slot once. */
	if (now_tick >= t->wheel_tick + t->n_slots)
		t->wheel_tick = now_tick - t->n_slots + 1;
	while (t->wheel_tick < now_tick) {
		if (!expire_slot(t, (uint32_t)(t->wheel_tick & mask), now, false, out, max, &n))
			return n;
		t->wheel_tick++;
	}
	/* The current tick stays current: flows due later in it are found by a later call. */
	expire_slot(t, (uint32_t)(now_tick & mask), now, true, out, max, &n);
	return n;
}
