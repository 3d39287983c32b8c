/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/config summary: what `vpcdnsd --check` prints about a loaded and compiled config, so an
 * operator sees at a glance that the file says what they meant (counts of every object, the
 * auto-defined rules the VPCs get, and what the tables cost to hold and to build).
 */
#include "ctl/config/internal.h"

static const char *plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static void print_endpoints(const struct config *cfg, FILE *out)
{
	size_t inbound = 0, addresses = 0;
	for (size_t i = 0; i < cfg->n_endpoints; i++) {
		inbound += cfg->endpoints[i].direction == CONFIG_INBOUND;
		addresses += cfg->endpoints[i].n_addresses;
	}
	fprintf(out,
		"  interfaces %zu, VPCs %zu, endpoints %zu (%zu inbound, %zu outbound, %zu %s)\n",
		cfg->n_interfaces, cfg->n_vpcs, cfg->n_endpoints, inbound,
		cfg->n_endpoints - inbound, addresses, plural(addresses, "address", "addresses"));
}

static void print_rules(const struct config *cfg, FILE *out)
{
	size_t by_type[3] = {0}, associations = 0;
	for (size_t i = 0; i < cfg->n_rules; i++) {
		by_type[cfg->rules[i].type]++;
		associations += cfg->rules[i].n_vpcs;
	}
	fprintf(out, "  rules %zu: forward %zu, system %zu, delegate %zu; associations %zu\n",
		cfg->n_rules, by_type[CONFIG_RULE_FORWARD], by_type[CONFIG_RULE_SYSTEM],
		by_type[CONFIG_RULE_DELEGATE], associations);
}

static void print_zones(const struct config *cfg, FILE *out)
{
	size_t records = 0, delegations = 0, associations = 0;
	for (size_t i = 0; i < cfg->n_zones; i++) {
		records += cfg->zones[i].n_records;
		delegations += cfg->zones[i].n_delegations;
	}
	for (size_t i = 0; i < cfg->n_vpcs; i++)
		associations += cfg->vpcs[i].n_zones;
	fprintf(out, "  hosted zones %zu (%zu %s, %zu %s); associations %zu\n", cfg->n_zones,
		records, plural(records, "record", "records"), delegations,
		plural(delegations, "delegation", "delegations"), associations);
}

/* Where recursion starts and leaves from: a wrong root or source is the mistake worth seeing. */
static void print_recursion(const struct config_recursion *rc, FILE *out)
{
	fprintf(out, "  recursion: root %s, from ",
		rc->root_hints_path ? rc->root_hints_path
				    : "the internet's (unbound's built-in hints)");
	for (size_t i = 0; i < rc->n_source_addresses; i++) {
		char addr[64];
		config_addr_format(&rc->source_addresses[i], addr, sizeof(addr));
		fprintf(out, "%s%s", i ? " " : "", addr);
	}
	if (!rc->n_source_addresses)
		fprintf(out, "the kernel's choice of address");
	if (rc->source_port_min)
		fprintf(out, " ports %u-%u", rc->source_port_min, rc->source_port_max);
	fprintf(out, "; %u in flight, cache %.1f MiB, timeout %u ms\n", rc->max_inflight,
		(double)rc->cache_max_bytes / (1 << 20), rc->timeout_ms);
}

static void print_tables(const struct config_tables *t, FILE *out)
{
	size_t automatic = 0, reverse = 0;
	for (size_t i = 0; i < t->n_vpcs; i++) {
		automatic += t->vpcs[i].n_auto_rules;
		reverse += t->vpcs[i].n_auto_reverse;
	}
	fprintf(out, "  auto-defined rules %zu (forward %zu, reverse %zu)\n", automatic,
		automatic - reverse, reverse);
	fprintf(out, "  tables: %zu %s, %zu entries, %.1f KiB, built in %.2f ms (%s engine)\n",
		t->n_vpcs, plural(t->n_vpcs, "VPC", "VPCs"), t->entries, (double)t->bytes / 1024.0,
		t->build_seconds * 1e3, match_engine_name(t->engine));
}

void config_summary_print(const struct config *cfg, const struct config_tables *tables, FILE *out)
{
	fprintf(out, "%s: OK\n", cfg->path);
	fprintf(out, "  region %s, account %s\n", cfg->region, cfg->account_id);
	print_endpoints(cfg, out);
	print_rules(cfg, out);
	print_zones(cfg, out);
	print_recursion(&cfg->recursion, out);
	if (tables)
		print_tables(tables, out);
}
