/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/flow table: parameters, open/find/close, (port, ID) uniqueness at capacity, ports in range,
 * the full table's named reason, and the reply check.
 */
#include <stdlib.h>

#include "flow_test_util.h"

Test(flow_table, opened_flow_is_found_by_its_port_and_id)
{
	struct flow_table_params p = test_params(16, 3, 4);
	struct flow_table *t = new_table(&p);
	struct flow *f = open_flow(t, T0);

	cr_assert_eq(f->state, FLOW_STATE_OPEN);
	cr_assert_eq(f->opened_ns, T0);
	cr_assert_eq(flow_find(t, f->port, f->id), f);
	cr_assert_null(flow_find(t, f->port, (uint16_t)(f->id + 1)));
	flow_table_free(t);
}

Test(flow_table, find_after_close_fails_and_slot_is_reused)
{
	struct flow_table_params p = test_params(4, 3, 4);
	struct flow_table *t = new_table(&p);
	struct flow *f = open_flow(t, T0);
	uint16_t port = f->port, id = f->id;
	struct flow_stats s;

	flow_close(t, f);
	cr_assert_null(flow_find(t, port, id));
	cr_assert_eq(f->state, FLOW_STATE_FREE);
	cr_assert_eq(open_flow(t, T0), f, "the freed slot is handed out first");
	flow_table_stats(t, &s);
	cr_assert_eq(s.opened, 2);
	cr_assert_eq(s.closed, 1);
	cr_assert_eq(s.in_flight, 1);
	flow_table_free(t);
}

Test(flow_table, next_open_visits_every_open_flow_once)
{
	struct flow_table_params p = test_params(64, 3, 4);
	struct flow_table *t = new_table(&p);
	struct flow *flows[40];
	int seen = 0;

	for (int i = 0; i < 40; i++)
		flows[i] = open_flow(t, T0);
	for (int i = 0; i < 40; i += 3)
		flow_close(t, flows[i]);
	for (struct flow *f = flow_next_open(t, NULL); f; f = flow_next_open(t, f)) {
		cr_assert_eq(f->state, FLOW_STATE_OPEN);
		seen++;
	}
	cr_assert_eq(seen, 40 - 14);
	flow_table_free(t);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

Test(flow_table, filled_to_capacity_every_port_id_pair_is_unique_and_in_range)
{
	const uint32_t capacity = 65536;
	struct flow_table_params p = test_params(capacity, 3, 4);
	struct flow_table *t;
	struct flow **flows = calloc(capacity, sizeof(*flows));
	uint32_t *keys = calloc(capacity, sizeof(*keys));

	p.port_lo = 1024;
	p.port_hi = 1024 + 3; /* 4 ports x 65,536 IDs: exactly 4 x capacity, the tightest allowed */
	t = new_table(&p);
	for (uint32_t i = 0; i < capacity; i++) {
		flows[i] = open_flow(t, T0);
		cr_assert(flows[i]->port >= p.port_lo && flows[i]->port <= p.port_hi,
			  "port %u out of range", flows[i]->port);
		keys[i] = (uint32_t)flows[i]->port << 16 | flows[i]->id;
	}
	qsort(keys, capacity, sizeof(*keys), cmp_u32);
	for (uint32_t i = 1; i < capacity; i++)
		cr_assert_neq(keys[i], keys[i - 1], "(port, id) %08x drawn twice", keys[i]);
	for (uint32_t i = 0; i < capacity; i++)
		cr_assert_eq(flow_find(t, flows[i]->port, flows[i]->id), flows[i]);
	free(keys);
	free(flows);
	flow_table_free(t);
}

Test(flow_table, full_table_fails_with_the_named_reason_and_counts_it)
{
	struct flow_table_params p = test_params(8, 3, 4);
	struct flow_table *t = new_table(&p);
	struct flow *f = NULL;
	struct flow_stats s;

	for (int i = 0; i < 8; i++)
		open_flow(t, T0);
	cr_assert_eq(flow_open(t, T0, &f), FLOW_OPEN_FULL);
	cr_assert_eq(flow_open(t, T0, &f), FLOW_OPEN_FULL);
	cr_assert_null(f);
	flow_table_stats(t, &s);
	cr_assert_eq(s.full, 2);
	cr_assert_eq(s.in_flight, 8);
	cr_assert_str_eq(flow_open_result_str(FLOW_OPEN_FULL), "flow table full");
	flow_table_free(t);
}

Test(flow_table, churn_keeps_every_open_flow_findable)
{
	/* Many opens and closes in random order exercise backward-shift deletion in the hash. */
	const uint32_t capacity = 4096;
	struct flow_table_params p = test_params(capacity, 3, 4);
	struct flow_table *t = new_table(&p);
	struct flow **open = calloc(capacity, sizeof(*open));
	uint32_t n_open = 0, lcg = 12345;

	for (int step = 0; step < 200000; step++) {
		lcg = lcg * 1103515245u + 12345u;
		if (n_open < capacity && (n_open == 0 || (lcg >> 16) % 3 != 0)) {
			open[n_open++] = open_flow(t, T0);
		} else {
			uint32_t victim = (lcg >> 8) % n_open;
			uint16_t port = open[victim]->port, id = open[victim]->id;
			flow_close(t, open[victim]);
			cr_assert_null(flow_find(t, port, id));
			open[victim] = open[--n_open];
		}
	}
	for (uint32_t i = 0; i < n_open; i++)
		cr_assert_eq(flow_find(t, open[i]->port, open[i]->id), open[i]);
	free(open);
	flow_table_free(t);
}

Test(flow_table, refuses_parameters_with_a_named_reason)
{
	struct flow_table_params p;
	enum flow_params_error err;

	p = test_params(0, 3, 4);
	cr_assert_null(flow_table_new(&p, &err));
	cr_assert_eq(err, FLOW_PARAMS_NO_CAPACITY);

	p = test_params(16, 3, 4);
	p.port_lo = 2000;
	p.port_hi = 1999;
	cr_assert_null(flow_table_new(&p, &err));
	cr_assert_eq(err, FLOW_PARAMS_PORT_RANGE);

	p = test_params(65536, 3, 4);
	p.port_hi = p.port_lo + 2; /* 3 x 65,536 < 4 x capacity */
	cr_assert_null(flow_table_new(&p, &err));
	cr_assert_eq(err, FLOW_PARAMS_TOO_FEW_KEYS);

	p = test_params(16, 7, 4);
	cr_assert_null(flow_table_new(&p, &err));
	cr_assert_eq(err, FLOW_PARAMS_TRIES);

	p = test_params(16, 3, 4);
	p.timeout_min_ns = p.timeout_initial_ns + 1;
	cr_assert_null(flow_table_new(&p, &err));
	cr_assert_eq(err, FLOW_PARAMS_TIMEOUTS);

	p = test_params(16, 3, 0);
	cr_assert_null(flow_table_new(&p, &err));
	cr_assert_eq(err, FLOW_PARAMS_NO_TARGETS);
	cr_assert_str_eq(flow_params_error_str(err), "the target count must be at least 1");
}

static struct flow *flow_with_upstream(struct flow_table *t)
{
	static const uint8_t question[] = {3, 'w', 'W', 'w', 4, 'a', 'C', 'm', 'E', 0, 0, 1, 0, 1};
	struct flow *f = open_flow(t, T0);

	f->upstream_family = 4;
	memcpy(f->target_addr, (uint8_t[]){10, 0, 1, 53}, 4);
	memcpy(f->endpoint_addr, (uint8_t[]){10, 0, 2, 7}, 4);
	f->target_port = 53;
	memcpy(f->question, question, sizeof(question));
	f->question_len = sizeof(question);
	return f;
}

Test(flow_reply, reply_matching_target_endpoint_and_question_is_accepted)
{
	struct flow_table_params p = test_params(4, 3, 4);
	struct flow_table *t = new_table(&p);
	struct flow *f = flow_with_upstream(t);
	uint8_t target[16] = {10, 0, 1, 53}, endpoint[16] = {10, 0, 2, 7};

	cr_assert_eq(flow_check_reply(f, target, 53, endpoint, f->question, f->question_len),
		     FLOW_REPLY_OK);
	flow_table_free(t);
}

Test(flow_reply, reply_from_another_address_or_port_or_to_another_endpoint_is_rejected)
{
	struct flow_table_params p = test_params(4, 3, 4);
	struct flow_table *t = new_table(&p);
	struct flow *f = flow_with_upstream(t);
	uint8_t target[16] = {10, 0, 1, 53}, other[16] = {10, 0, 1, 54};
	uint8_t endpoint[16] = {10, 0, 2, 7}, other_endpoint[16] = {10, 0, 2, 8};

	cr_assert_eq(flow_check_reply(f, other, 53, endpoint, f->question, f->question_len),
		     FLOW_REPLY_WRONG_TARGET);
	cr_assert_eq(flow_check_reply(f, target, 5353, endpoint, f->question, f->question_len),
		     FLOW_REPLY_WRONG_TARGET);
	cr_assert_eq(flow_check_reply(f, target, 53, other_endpoint, f->question, f->question_len),
		     FLOW_REPLY_WRONG_ENDPOINT);
	flow_table_free(t);
}

Test(flow_reply, reply_whose_question_differs_in_case_or_length_is_rejected)
{
	struct flow_table_params p = test_params(4, 3, 4);
	struct flow_table *t = new_table(&p);
	struct flow *f = flow_with_upstream(t);
	uint8_t target[16] = {10, 0, 1, 53}, endpoint[16] = {10, 0, 2, 7};
	uint8_t q[FLOW_QUESTION_MAX];

	memcpy(q, f->question, f->question_len);
	q[2] = 'w'; /* we sent "wWw": 0x20 case is part of the check */
	cr_assert_eq(flow_check_reply(f, target, 53, endpoint, q, f->question_len),
		     FLOW_REPLY_WRONG_QUESTION);
	cr_assert_eq(flow_check_reply(f, target, 53, endpoint, f->question, f->question_len - 1),
		     FLOW_REPLY_WRONG_QUESTION);
	flow_table_free(t);
}

Test(flow_reply, ipv6_upstream_compares_all_sixteen_octets)
{
	struct flow_table_params p = test_params(4, 3, 4);
	struct flow_table *t = new_table(&p);
	struct flow *f = flow_with_upstream(t);
	uint8_t target[16], endpoint[16];

	f->upstream_family = 6;
	for (int i = 0; i < 16; i++) {
		f->target_addr[i] = target[i] = (uint8_t)(0xf0 + i);
		f->endpoint_addr[i] = endpoint[i] = (uint8_t)(0x10 + i);
	}
	cr_assert_eq(flow_check_reply(f, target, 53, endpoint, f->question, f->question_len),
		     FLOW_REPLY_OK);
	target[15] ^= 1;
	cr_assert_eq(flow_check_reply(f, target, 53, endpoint, f->question, f->question_len),
		     FLOW_REPLY_WRONG_TARGET);
	flow_table_free(t);
}

Test(flow_layout, what_find_and_the_timers_touch_is_in_the_first_cache_line)
{
	cr_assert_eq(offsetof(struct flow, sent_ns), 64);
	cr_assert_eq(sizeof(struct flow) % 64, 0);
}

static void expect_partition(uint16_t lo, uint16_t hi, unsigned n)
{
	uint32_t next = lo, shortest = UINT32_MAX, longest = 0;

	for (unsigned i = 0; i < n; i++) {
		uint16_t a, b;
		if (!flow_ports_of_lcore(lo, hi, n, i, &a, &b)) {
			cr_assert_lt((uint32_t)hi - lo + 1, n, "lcore %u of %u got no port", i, n);
			continue;
		}
		cr_assert_eq(a, next, "ranges of %u lcores are not contiguous at %u", n, i);
		cr_assert_leq(a, b);
		next = (uint32_t)b + 1;
		shortest = (uint32_t)(b - a + 1) < shortest ? (uint32_t)(b - a + 1) : shortest;
		longest = (uint32_t)(b - a + 1) > longest ? (uint32_t)(b - a + 1) : longest;
		for (uint32_t port = a; port <= b; port++)
			cr_assert_eq(flow_port_owner(lo, hi, n, (uint16_t)port), i);
	}
	cr_assert_eq(next, (uint32_t)hi + 1, "%u lcores do not cover the range", n);
	cr_assert_leq(longest - shortest, 1);
}

Test(flow_ports, lcores_get_contiguous_disjoint_ranges_and_each_port_one_owner)
{
	for (unsigned n = 1; n <= 9; n++)
		expect_partition(1024, 65535, n);
	expect_partition(40000, 40009, 3);
	expect_partition(40000, 40009, 10);
	expect_partition(1, 65535, 64);
}

Test(flow_ports, port_outside_the_range_has_no_owner)
{
	uint16_t a, b;

	cr_assert_eq(flow_port_owner(1024, 2047, 4, 1023), 4);
	cr_assert_eq(flow_port_owner(1024, 2047, 4, 2048), 4);
	cr_assert_not(flow_ports_of_lcore(1024, 1025, 4, 3, &a, &b), "more lcores than ports");
	cr_assert_not(flow_ports_of_lcore(1024, 2047, 4, 4, &a, &b));
}
