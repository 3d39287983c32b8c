/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/config compile: turns a validated config into one dp/match table per VPC: the rules
 * associated with it, its private hosted zones, and its auto-defined rules (BEHAVIOUR.md "Rules");
 * the table adds the "." recursive rule itself. The ids given to match_builder_add are documented
 * in config.h.
 *
 * Reverse auto-defined rules for a VPC CIDR expand the prefix to the next octet (IPv4) or nibble
 * (IPv6) boundary: 10.0.0.0/23 gives 0.0.10.in-addr.arpa and 1.0.10.in-addr.arpa. Prefixes longer
 * than /24 expand the same way, to one in-addr.arpa name per address (at most 128 for a /25), so
 * that the VPC never claims reverse names of addresses outside its CIDRs.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/config/internal.h"

struct auto_list {
	struct config_auto_rule *v;
	size_t n, cap;
};

static void auto_add(struct auto_list *l, bool reverse, const char *domain)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->v[i].domain, domain) == 0)
			return; /* a VPC CIDR inside 172.16.0.0/12 repeats a fixed reverse rule */
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 32;
		struct config_auto_rule *v = realloc(l->v, cap * sizeof(*v));
		if (!v)
			return;
		l->v = v;
		l->cap = cap;
	}
	struct config_auto_rule *r = &l->v[l->n++];
	snprintf(r->domain, sizeof(r->domain), "%s", domain);
	r->reverse = reverse;
}

static void ipv4_reverse(struct auto_list *l, const struct config_prefix *p)
{
	unsigned octets = (p->len + 7u) / 8u;
	unsigned spare = octets * 8u - p->len; /* host bits in the last octet named */
	for (unsigned k = 0; k < (1u << spare); k++) {
		char name[80];
		size_t used = 0;
		for (unsigned i = octets; i-- > 0;) {
			unsigned octet = p->addr.bytes[i] | (i == octets - 1 ? k : 0);
			used += (size_t)snprintf(name + used, sizeof(name) - used, "%u.", octet);
		}
		snprintf(name + used, sizeof(name) - used, "in-addr.arpa");
		auto_add(l, true, name);
	}
}

static void ipv6_reverse(struct auto_list *l, const struct config_prefix *p)
{
	unsigned nibbles = (p->len + 3u) / 4u;
	unsigned spare = nibbles * 4u - p->len;
	for (unsigned k = 0; k < (1u << spare); k++) {
		char name[80];
		size_t used = 0;
		for (unsigned i = nibbles; i-- > 0;) {
			unsigned byte = p->addr.bytes[i / 2];
			unsigned nibble = (i % 2 ? byte : byte >> 4) & 0xf;
			nibble |= i == nibbles - 1 ? k : 0;
			used += (size_t)snprintf(name + used, sizeof(name) - used, "%x.", nibble);
		}
		snprintf(name + used, sizeof(name) - used, "ip6.arpa");
		auto_add(l, true, name);
	}
}

static void fixed_reverse(struct auto_list *l)
{
	char name[80];
	auto_add(l, true, "10.in-addr.arpa");
	for (unsigned octet = 16; octet <= 31; octet++) {
		snprintf(name, sizeof(name), "%u.172.in-addr.arpa", octet);
		auto_add(l, true, name);
	}
	auto_add(l, true, "168.192.in-addr.arpa");
	auto_add(l, true, "254.169.254.169.in-addr.arpa");
	auto_add(l, true, "127.in-addr.arpa");
	/* ::1 and ::, 32 nibbles each */
	size_t used = (size_t)snprintf(name, sizeof(name), "1.");
	for (int i = 1; i < 32; i++)
		used += (size_t)snprintf(name + used, sizeof(name) - used, "0.");
	snprintf(name + used, sizeof(name) - used, "ip6.arpa");
	auto_add(l, true, name);
	name[0] = '0';
	auto_add(l, true, name);
}

static void auto_rules(const struct config *cfg, const struct config_vpc *vpc, struct auto_list *l)
{
	if (!vpc->enable_dns_hostnames)
		return;
	if (strcmp(cfg->region, "us-east-1") == 0) {
		auto_add(l, false, "ec2.internal");
		auto_add(l, false, "compute-1.internal");
	} else {
		char name[80];
		snprintf(name, sizeof(name), "%s.compute.internal", cfg->region);
		auto_add(l, false, name);
	}
	auto_add(l, false, "localhost");
	auto_add(l, false, "localdomain");
	if (!vpc->reverse_auto_rules)
		return;
	fixed_reverse(l);
	for (size_t i = 0; i < vpc->n_cidrs; i++) {
		if (vpc->cidrs[i].addr.family == 4)
			ipv4_reverse(l, &vpc->cidrs[i]);
		else
			ipv6_reverse(l, &vpc->cidrs[i]);
	}
}

static enum match_kind rule_kind(enum config_rule_type type)
{
	return type == CONFIG_RULE_FORWARD  ? MATCH_FORWARD
	       : type == CONFIG_RULE_SYSTEM ? MATCH_SYSTEM
					    : MATCH_DELEGATE;
}

struct compile {
	const struct config *cfg;
	const uint32_t *forward_ids; /* NULL: config.rules indices */
	struct config_errors *errs;
	struct match_builder **builders;
	struct config_tables *tables;
};

static void add_entry(struct compile *c, size_t vpc, const char *domain, enum match_kind kind,
		      uint32_t id, unsigned line, const char *ctx)
{
	char err[256];
	if (c->builders[vpc] &&
	    match_builder_add(c->builders[vpc], domain, kind, id, err, sizeof(err)))
		config_error_add(c->errs, c->cfg->path, line, ctx, "in the table of vpc '%s': %s",
				 c->cfg->vpcs[vpc].id, err);
}

static void add_rules(struct compile *c)
{
	for (size_t r = 0; r < c->cfg->n_rules; r++) {
		const struct config_rule *rule = &c->cfg->rules[r];
		char ctx[300];
		config_rule_label(rule, ctx, sizeof(ctx));
		uint32_t id = rule->type == CONFIG_RULE_FORWARD && c->forward_ids
				  ? c->forward_ids[r]
				  : (uint32_t)r;
		for (size_t i = 0; i < rule->n_vpcs; i++)
			add_entry(c, rule->vpcs[i].index, rule->domain, rule_kind(rule->type), id,
				  rule->vpcs[i].line, ctx);
	}
}

static void add_zones_and_auto(struct compile *c, size_t v)
{
	const struct config_vpc *vpc = &c->cfg->vpcs[v];
	struct config_vpc_table *vt = &c->tables->vpcs[v];
	char ctx[300];
	snprintf(ctx, sizeof(ctx), "vpc '%s'", vpc->id);
	for (size_t i = 0; i < vpc->n_zones; i++)
		add_entry(c, v, c->cfg->zones[vpc->zones[i].index].name, MATCH_ZONE,
			  vpc->zones[i].index, vpc->zones[i].line, ctx);
	struct auto_list l = {0};
	auto_rules(c->cfg, vpc, &l);
	vt->auto_rules = l.v;
	vt->n_auto_rules = l.n;
	for (size_t i = 0; i < l.n; i++) {
		vt->n_auto_reverse += l.v[i].reverse;
		add_entry(c, v, l.v[i].domain, MATCH_AUTO, (uint32_t)i, vpc->line, ctx);
	}
}

static void build_tables(struct compile *c)
{
	struct config_tables *t = c->tables;
	for (size_t v = 0; v < t->n_vpcs; v++) {
		char err[256];
		struct match_stats stats;
		if (!c->builders[v])
			continue;
		t->vpcs[v].table = match_builder_build(c->builders[v], err, sizeof(err));
		c->builders[v] = NULL;
		if (!t->vpcs[v].table) {
			char ctx[300];
			snprintf(ctx, sizeof(ctx), "vpc '%s'", c->cfg->vpcs[v].id);
			config_error_add(c->errs, c->cfg->path, c->cfg->vpcs[v].line, ctx,
					 "building its match table failed: %s", err);
			continue;
		}
		match_table_stats(t->vpcs[v].table, &stats);
		t->entries += stats.entries;
		t->bytes += stats.bytes;
	}
}

static double seconds_since(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) + (double)(now.tv_nsec - start->tv_nsec) * 1e-9;
}

struct config_tables *config_compile(const struct config *cfg, enum match_engine engine,
				     struct config_errors *errs)
{
	return config_compile_ids(cfg, engine, NULL, errs);
}

struct config_tables *config_compile_ids(const struct config *cfg, enum match_engine engine,
					 const uint32_t *forward_ids, struct config_errors *errs)
{
	struct timespec start;
	clock_gettime(CLOCK_MONOTONIC, &start);
	struct config_tables *t = calloc(1, sizeof(*t));
	struct compile c = {.cfg = cfg, .forward_ids = forward_ids, .errs = errs, .tables = t};
	c.builders = calloc(cfg->n_vpcs ? cfg->n_vpcs : 1, sizeof(*c.builders));
	if (t)
		t->vpcs = calloc(cfg->n_vpcs ? cfg->n_vpcs : 1, sizeof(*t->vpcs));
	if (!t || !t->vpcs || !c.builders) {
		config_error_add(errs, cfg->path, 0, NULL, "out of memory compiling the tables");
		free(c.builders);
		config_tables_free(t);
		return NULL;
	}
	t->engine = engine;
	t->n_vpcs = cfg->n_vpcs;
	for (size_t v = 0; v < cfg->n_vpcs; v++)
		if (!(c.builders[v] = match_builder_new(engine)))
			config_error_add(errs, cfg->path, cfg->vpcs[v].line, NULL,
					 "out of memory starting the table of vpc '%s'",
					 cfg->vpcs[v].id);
	add_rules(&c);
	for (size_t v = 0; v < cfg->n_vpcs; v++)
		add_zones_and_auto(&c, v);
	build_tables(&c);
	for (size_t v = 0; v < cfg->n_vpcs; v++)
		if (c.builders[v]) /* only those left unbuilt */
			match_builder_free(c.builders[v]);
	free(c.builders);
	t->build_seconds = seconds_since(&start);
	if (errs->count || errs->dropped) {
		config_tables_free(t);
		return NULL;
	}
	return t;
}

void config_tables_free(struct config_tables *t)
{
	if (!t)
		return;
	for (size_t v = 0; t->vpcs && v < t->n_vpcs; v++) {
		if (t->vpcs[v].table)
			match_table_free(t->vpcs[v].table);
		free(t->vpcs[v].auto_rules);
	}
	free(t->vpcs);
	free(t);
}
