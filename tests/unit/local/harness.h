/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The local tests' bench: a config loaded and compiled, ctl/local over it, and queries asked as
 * the VPC's client would (matched by the VPC's own table). Each test file includes it once.
 */
#ifndef VPCDNS_TESTS_LOCAL_HARNESS_H
#define VPCDNS_TESTS_LOCAL_HARNESS_H

#include <criterion/criterion.h>
#include <string.h>

#include "../wire/msgbuild.h"
#include "ctl/local/local.h"
#include "dp/wire/wire.h"

static struct config *cfg;
static struct config_tables *tables;
static struct local *loc;

static void local_setup(const char *path)
{
	struct config_errors errs = {0};
	char err[200];
	cfg = config_load(path, &errs);
	cr_assert(cfg, "%s", errs.count ? errs.list[0].text : "?");
	tables = config_compile(cfg, MATCH_ENGINE_SUFFIX, &errs);
	cr_assert(tables);
	loc = local_new(cfg, tables, err, sizeof(err));
	cr_assert(loc, "%s", err);
	config_errors_free(&errs);
}

static void teardown(void)
{
	local_free(loc);
	config_tables_free(tables);
	config_free(cfg);
}

static uint8_t out[4096];
static size_t out_len;
static struct wire_dns_msg am;
static struct wire_rr rrs[32];
static size_t n_rrs;

/* Asks name/type as the VPC's client would (EDNS when edns), matched by the VPC's table; the
 * answer lands in out, parsed into am and rrs. */
static inline enum local_status ask_link(const char *name, uint16_t type, bool edns, size_t link)
{
	struct mb q;
	mb_query(&q, 0x4321, name, type, edns);
	struct match_result res;
	cr_assert_eq(match_lookup(tables->vpcs[0].table, NULL, q.b + 12,
				  q.n - 12 - 4 - (edns ? 11 : 0), &res),
		     MATCH_OK);
	enum local_status st = local_answer(loc, 0, res.kind, res.id, q.b, q.n, out, sizeof(out),
					    4096, link, &out_len);
	if (st == LOCAL_OK)
		cr_assert_eq(wire_dns_parse_response(out, out_len, &am, rrs, 32, &n_rrs), WIRE_OK);
	return st;
}

static inline enum local_status ask(const char *name, uint16_t type)
{
	return ask_link(name, type, false, 1472);
}

#endif
