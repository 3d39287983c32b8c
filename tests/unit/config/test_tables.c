/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests of ctl/config's compilation: the per-VPC tables answer lookups as BEHAVIOUR.md "Rules"
 * says, with the ids documented in config.h, on both match engines. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <string.h>

#include "ctl/config/config.h"

struct loaded {
	struct config *cfg;
	struct config_tables *tables;
};

static struct loaded compile(const char *path, enum match_engine engine)
{
	struct config_errors errs = {0};
	struct loaded l = {config_load(path, &errs), NULL};
	if (l.cfg)
		l.tables = config_compile(l.cfg, engine, &errs);
	if (!l.tables)
		config_errors_print(&errs, stderr);
	cr_assert_not_null(l.tables, "%s did not compile", path);
	config_errors_free(&errs);
	return l;
}

static void release(struct loaded *l)
{
	config_tables_free(l->tables);
	config_free(l->cfg);
}

static struct match_result lookup(const struct loaded *l, size_t vpc, const char *name)
{
	struct match_result r;
	cr_assert_eq(match_lookup_text(l->tables->vpcs[vpc].table, name, &r), 0, "lookup of %s",
		     name);
	return r;
}

static void expect_rule(const struct loaded *l, size_t vpc, const char *name, enum match_kind kind,
			const char *rule_name)
{
	struct match_result r = lookup(l, vpc, name);
	cr_expect_eq(r.kind, kind, "%s: kind %s", name, match_kind_name(r.kind));
	cr_assert_lt(r.id, l->cfg->n_rules, "%s: rule id %u", name, r.id);
	cr_expect_str_eq(l->cfg->rules[r.id].name, rule_name, "%s", name);
}

static void expect_auto(const struct loaded *l, size_t vpc, const char *name, const char *domain)
{
	struct match_result r = lookup(l, vpc, name);
	cr_expect_eq(r.kind, MATCH_AUTO, "%s: kind %s", name, match_kind_name(r.kind));
	cr_assert_lt(r.id, l->tables->vpcs[vpc].n_auto_rules, "%s", name);
	cr_expect_str_eq(l->tables->vpcs[vpc].auto_rules[r.id].domain, domain, "%s", name);
}

static void expect_zone(const struct loaded *l, size_t vpc, const char *name, const char *zone_id)
{
	struct match_result r = lookup(l, vpc, name);
	cr_expect_eq(r.kind, MATCH_ZONE, "%s: kind %s", name, match_kind_name(r.kind));
	cr_assert_lt(r.id, l->cfg->n_zones, "%s: zone id %u", name, r.id);
	cr_expect_str_eq(l->cfg->zones[r.id].id, zone_id, "%s", name);
}

static void expect_kind(const struct loaded *l, size_t vpc, const char *name, enum match_kind kind)
{
	struct match_result r = lookup(l, vpc, name);
	cr_expect_eq(r.kind, kind, "%s: kind %s, expected %s", name, match_kind_name(r.kind),
		     match_kind_name(kind));
}

ParameterizedTestParameters(config_tables, answers_the_seed_lookups)
{
	static enum match_engine engines[] = {MATCH_ENGINE_SUFFIX, MATCH_ENGINE_HYPERSCAN};
	return cr_make_param_array(enum match_engine, engines, 2);
}

ParameterizedTest(enum match_engine *engine, config_tables, answers_the_seed_lookups)
{
	struct loaded l = compile(EXAMPLES_DIR "/seed.yaml", *engine);
	expect_rule(&l, 0, "www.onprem.com", MATCH_FORWARD, "onprem");
	expect_rule(&l, 0, "onprem.com.", MATCH_FORWARD, "onprem");
	expect_rule(&l, 0, "t1.onprem.central.com", MATCH_DELEGATE, "onprem-central");
	expect_auto(&l, 0, "ip-172-31-2-118.ap-southeast-2.compute.internal",
		    "ap-southeast-2.compute.internal");
	expect_auto(&l, 0, "5.2.31.172.in-addr.arpa", "31.172.in-addr.arpa");
	expect_auto(&l, 0, "localhost", "localhost");

	struct match_result r = lookup(&l, 0, "x.acme.onprem.com");
	cr_expect_eq(r.kind, MATCH_RECURSIVE,
		     "below the system rule, past the forward rule to \".\"");
	cr_assert_lt(r.system_id, l.cfg->n_rules);
	cr_expect_str_eq(l.cfg->rules[r.system_id].name, "acme");

	r = lookup(&l, 0, "www.central.com");
	cr_expect_eq(r.kind, MATCH_ZONE);
	cr_expect_str_eq(l.cfg->zones[r.id].name, "central.com");

	r = lookup(&l, 0, "example.org");
	cr_expect_eq(r.kind, MATCH_RECURSIVE);
	cr_expect_eq(r.id, MATCH_ID_NONE);
	release(&l);
}

Test(config_tables, gives_the_seed_vpc_its_auto_defined_rules)
{
	struct loaded l = compile(EXAMPLES_DIR "/seed.yaml", MATCH_ENGINE_SUFFIX);
	const struct config_vpc_table *t = &l.tables->vpcs[0];
	/* forward: ap-southeast-2.compute.internal, localhost, localdomain; reverse:
	 * 10, 16..31.172, 168.192, 254.169.254.169, 127, ::1, :: (the VPC's 172.31.0.0/16 is 31.172
	 * again) */
	cr_expect_eq(t->n_auto_rules, 25);
	cr_expect_eq(t->n_auto_reverse, 22);
	expect_auto(&l, 0,
		    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa",
		    "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa");
	expect_auto(&l, 0, "1.0.0.127.in-addr.arpa", "127.in-addr.arpa");
	expect_kind(&l, 0, "4.3.2.1.in-addr.arpa", MATCH_RECURSIVE);
	release(&l);
}

Test(config_tables, keeps_two_tenants_with_one_cidr_apart)
{
	struct loaded l = compile(EXAMPLES_DIR "/multi-vpc.yaml", MATCH_ENGINE_SUFFIX);
	/* tenant A: its rules and zone, us-east-1 auto-defined names, reverse zones of both CIDRs
	 */
	expect_rule(&l, 0, "build.corp.internal", MATCH_FORWARD, "tenant-a-onprem");
	expect_kind(&l, 0, "www.corp.internal", MATCH_RECURSIVE);
	expect_zone(&l, 0, "db.corp.example", "z0a11corpexample");
	expect_kind(&l, 0, "example.org", MATCH_RECURSIVE);
	expect_auto(&l, 0, "ip-10-0-0-5.ec2.internal", "ec2.internal");
	expect_auto(&l, 0, "x.compute-1.internal", "compute-1.internal");
	expect_auto(&l, 0, "5.0.0.10.in-addr.arpa", "0.10.in-addr.arpa");
	expect_auto(&l, 0,
		    "7.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.1.0.a.a.a.a.8.1.f.1.0.0.6.2.ip6.arpa",
		    "1.0.a.a.a.a.8.1.f.1.0.0.6.2.ip6.arpa");
	/* tenant B: its own zone of the same name; "." forwards everything the zone and the
	 * auto-defined rules do not take; no reverse rules */
	expect_rule(&l, 1, "example.org", MATCH_FORWARD, "tenant-b-everything");
	expect_zone(&l, 1, "db.corp.example", "z0b22corpexample");
	expect_rule(&l, 1, "build.corp.internal", MATCH_FORWARD, "tenant-b-everything");
	expect_rule(&l, 1, "5.0.0.10.in-addr.arpa", MATCH_FORWARD, "tenant-b-everything");
	expect_auto(&l, 1, "ip-10-0-0-5.ec2.internal", "ec2.internal");
	cr_expect_eq(l.tables->vpcs[1].n_auto_reverse, 0);
	release(&l);
}

Test(config_tables, expands_reverse_zones_to_the_next_octet_or_nibble)
{
	struct loaded l = compile("good/reverse.yaml", MATCH_ENGINE_SUFFIX);
	expect_auto(&l, 0, "9.0.0.10.in-addr.arpa", "0.0.10.in-addr.arpa");
	expect_auto(&l, 0, "9.1.0.10.in-addr.arpa", "1.0.10.in-addr.arpa");
	expect_auto(&l, 0, "10.in-addr.arpa", "10.in-addr.arpa");
	/* a /28 gives one name per address and claims none outside it */
	expect_auto(&l, 0, "16.2.0.192.in-addr.arpa", "16.2.0.192.in-addr.arpa");
	expect_auto(&l, 0, "31.2.0.192.in-addr.arpa", "31.2.0.192.in-addr.arpa");
	expect_kind(&l, 0, "32.2.0.192.in-addr.arpa", MATCH_RECURSIVE);
	expect_kind(&l, 0, "15.2.0.192.in-addr.arpa", MATCH_RECURSIVE);
	/* a /57 gives the 8 nibble values 8..f of its 15th nibble */
	expect_auto(&l, 0, "1.8.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
		    "8.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	expect_auto(&l, 0, "f.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa",
		    "f.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa");
	expect_kind(&l, 0, "7.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa", MATCH_RECURSIVE);
	cr_expect_eq(l.tables->vpcs[0].n_auto_reverse, 22 + 2 + 16 + 8);
	/* vpc-b: no auto-defined rules at all, but the zone from the zone's side */
	cr_expect_eq(l.tables->vpcs[1].n_auto_rules, 0);
	expect_kind(&l, 1, "9.0.0.10.in-addr.arpa", MATCH_RECURSIVE);
	expect_kind(&l, 1, "www.central.com", MATCH_ZONE);
	release(&l);
}

Test(config_tables, sums_sizes_over_the_vpc_tables)
{
	struct loaded l = compile(EXAMPLES_DIR "/multi-vpc.yaml", MATCH_ENGINE_SUFFIX);
	size_t entries = 0;
	for (size_t v = 0; v < l.tables->n_vpcs; v++) {
		struct match_stats s;
		match_table_stats(l.tables->vpcs[v].table, &s);
		entries += s.entries;
	}
	/* A: 2 rules + 1 zone + 4 + 24 auto + "."; B: 1 rule + 1 zone + 4 auto + "." */
	cr_expect_eq(entries, 32 + 7);
	cr_expect_eq(l.tables->entries, entries);
	cr_expect_gt(l.tables->bytes, 0);
	cr_expect_gt(l.tables->build_seconds, 0.0);
	release(&l);
}

Test(config_tables, forward_entries_carry_the_ids_given_for_the_data_plane)
{
	struct config_errors errs = {0};
	struct config *cfg = config_load(EXAMPLES_DIR "/seed.yaml", &errs);
	cr_assert_not_null(cfg);
	uint32_t ids[8];
	cr_assert_leq(cfg->n_rules, 8);
	for (size_t r = 0; r < cfg->n_rules; r++)
		ids[r] = (uint32_t)(100 + r);
	struct config_tables *t = config_compile_ids(cfg, MATCH_ENGINE_SUFFIX, ids, &errs);
	cr_assert_not_null(t);
	struct match_result fwd, del;
	cr_assert_eq(match_lookup_text(t->vpcs[0].table, "www.onprem.com", &fwd), 0);
	cr_expect_eq(fwd.kind, MATCH_FORWARD);
	cr_expect_geq(fwd.id, 100, "the given id, not the rule index");
	cr_expect_str_eq(cfg->rules[fwd.id - 100].name, "onprem");
	cr_assert_eq(match_lookup_text(t->vpcs[0].table, "t1.onprem.central.com", &del), 0);
	cr_expect_eq(del.kind, MATCH_DELEGATE);
	cr_expect_lt(del.id, cfg->n_rules, "other kinds keep the rule index");
	config_tables_free(t);
	config_free(cfg);
	config_errors_free(&errs);
}
