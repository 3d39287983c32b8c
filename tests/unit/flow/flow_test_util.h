/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tests/unit/flow helpers: tables with a fixed seed (no test depends on luck that changes between
 * runs) and a fake clock in nanoseconds.
 */
#ifndef VPCDNS_TESTS_FLOW_UTIL_H
#define VPCDNS_TESTS_FLOW_UTIL_H

#include <criterion/criterion.h>
#include <string.h>

#include "dp/flow/flow.h"
#include "dp/flow/flow_internal.h"

#define MS	     1000000ull
#define T0	     (1000ull * MS) /* the fake clock starts at 1 s */
#define TEST_PORT_LO 20000
#define TEST_PORT_HI 20099

static inline struct flow_table_params test_params(uint32_t capacity, uint8_t tries,
						   uint32_t n_targets)
{
	struct flow_table_params p = {
	    .capacity = capacity,
	    .port_lo = TEST_PORT_LO,
	    .port_hi = TEST_PORT_HI,
	    .tries = tries,
	    .timeout_initial_ns = 200 * MS,
	    .timeout_min_ns = 20 * MS,
	    .timeout_max_ns = 2000 * MS,
	    .n_targets = n_targets,
	};
	for (int i = 0; i < FLOW_SEED_BYTES; i++)
		p.seed[i] = (uint8_t)(i * 7 + 1);
	return p;
}

static inline struct flow_table *new_table(const struct flow_table_params *p)
{
	enum flow_params_error err;
	struct flow_table *t = flow_table_new(p, &err);

	cr_assert_not_null(t, "flow_table_new: %s", flow_params_error_str(err));
	return t;
}

#define assert_sent(try_expr)                                                                      \
	do {                                                                                       \
		enum flow_try_result try_result_ = (try_expr);                                     \
		cr_assert_eq(try_result_, FLOW_TRY_SENT, "%s", flow_try_result_str(try_result_));  \
	} while (0)

static inline struct flow *open_flow(struct flow_table *t, uint64_t now)
{
	struct flow *f = NULL;
	enum flow_open_result r = flow_open(t, now, &f);

	cr_assert_eq(r, FLOW_OPEN_OK, "flow_open: %s", flow_open_result_str(r));
	return f;
}

#endif
