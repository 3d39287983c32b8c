/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/flow against a reference model: a long random sequence of opens, replies, retries, closes
 * and clock steps (fixed seed), after each of which the table must agree with a plain list of
 * what is open, under which (port, ID), armed until when. Catches what the example-based tests
 * do not think of: hash runs broken by deletion, timers lost or fired twice across wheel turns.
 */
#include <stdlib.h>

#include "flow_test_util.h"

#define CAPACITY 512
#define STEPS	 200000

struct model_flow {
	struct flow *f;
	uint16_t port, id;
	uint64_t deadline; /* 0: not armed (expired and not yet retried) */
};

struct model {
	struct model_flow open[CAPACITY];
	unsigned n;
};

static uint32_t lcg_next(uint32_t *state)
{
	*state = *state * 1103515245u + 12345u;
	return *state >> 8;
}

static struct model_flow *model_of(struct model *m, const struct flow *f)
{
	for (unsigned i = 0; i < m->n; i++)
		if (m->open[i].f == f)
			return &m->open[i];
	return NULL;
}

static void model_remove(struct model *m, struct model_flow *mf)
{
	*mf = m->open[--m->n];
}

static void track(struct model_flow *mf, const struct flow *f)
{
	mf->port = f->port;
	mf->id = f->id;
	mf->deadline = f->deadline_ns;
}

static void check_agreement(struct flow_table *t, struct model *m)
{
	struct flow_stats s;

	flow_table_stats(t, &s);
	cr_assert_eq(s.in_flight, m->n);
	for (unsigned i = 0; i < m->n; i++)
		cr_assert_eq(flow_find(t, m->open[i].port, m->open[i].id), m->open[i].f);
}

static void expire_and_check(struct flow_table *t, struct model *m, uint64_t now)
{
	struct flow *out[16];
	size_t n;

	while ((n = flow_expire(t, now, out, 16)) > 0)
		for (size_t i = 0; i < n; i++) {
			struct model_flow *mf = model_of(m, out[i]);
			cr_assert_not_null(mf, "expired a flow that is not open");
			cr_assert_neq(mf->deadline, 0, "expired a flow twice");
			cr_assert_leq(mf->deadline, now, "expired before its deadline");
			mf->deadline = 0;
		}
	/* Nothing due a tick ago may still be armed. */
	for (unsigned i = 0; i < m->n; i++)
		cr_assert(m->open[i].deadline == 0 || m->open[i].deadline + FLOW_TICK_NS > now,
			  "a flow due at %lu is still armed at %lu",
			  (unsigned long)m->open[i].deadline, (unsigned long)now);
}

Test(flow_model, random_operations_agree_with_a_reference_model)
{
	static const uint32_t targets[] = {0, 1, 2, 3};
	struct flow_table_params p = test_params(CAPACITY, 6, 4);
	struct flow_table *t = new_table(&p);
	struct model *m = calloc(1, sizeof(*m));
	uint32_t lcg = 2026;
	uint64_t now = T0;

	for (int step = 0; step < STEPS; step++) {
		uint32_t r = lcg_next(&lcg) % 100;
		struct flow_choice c;
		struct flow *f;

		if (r < 40 && m->n < CAPACITY) {
			f = open_flow(t, now);
			assert_sent(flow_pick_first(t, f, now, targets, 4, 3, &c));
			m->open[m->n].f = f;
			track(&m->open[m->n++], f);
		} else if (r < 70 && m->n > 0) {
			struct model_flow *mf = &m->open[lcg_next(&lcg) % m->n];
			flow_record_answer(t, mf->f, now);
			flow_close(t, mf->f);
			cr_assert_null(flow_find(t, mf->port, mf->id));
			model_remove(m, mf);
		} else if (r < 80 && m->n > 0) {
			struct model_flow *mf = &m->open[lcg_next(&lcg) % m->n];
			if (flow_retry(t, mf->f, now, targets, 4, 3, &c) == FLOW_TRY_SENT) {
				cr_assert_null(flow_find(t, mf->port, mf->id),
					       "old (port, ID) found");
				track(mf, mf->f);
			} else {
				flow_close(t, mf->f);
				model_remove(m, mf);
			}
		} else {
			/* Mostly small steps, sometimes a stall past a whole wheel turn. */
			now += r < 99 ? (uint64_t)(lcg_next(&lcg) % 5000) * 1000 * 10
				      : (uint64_t)(lcg_next(&lcg) % 10) * 1000 * MS;
			expire_and_check(t, m, now);
		}
		if (step % 1000 == 0)
			check_agreement(t, m);
	}
	check_agreement(t, m);
	free(m);
	flow_table_free(t);
}
