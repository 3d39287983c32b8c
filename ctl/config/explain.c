/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/config explain: answers an operator's "what will this VPC do with this name?" from the
 * compiled tables, the way a route lookup answers for an address: which rule, zone, auto-defined
 * rule or "." governs the name, and where a forward or delegate rule would send it. `vpcdnsd
 * --check --lookup` prints it; the data plane makes the same decision from the same tables.
 */
#include <string.h>

#include "ctl/config/internal.h"

static void print_targets(const struct config *cfg, const struct config_rule *rule, FILE *out)
{
	char addr[64];
	fprintf(out, " ->");
	for (size_t i = 0; i < rule->n_targets; i++) {
		config_addr_format(&rule->targets[i].addr, addr, sizeof(addr));
		fprintf(out, "%s %s%s%s:%u", i ? "," : "",
			rule->targets[i].addr.family == 6 ? "[" : "", addr,
			rule->targets[i].addr.family == 6 ? "]" : "", rule->targets[i].port);
	}
	if (rule->endpoint.index != CONFIG_INDEX_NONE)
		fprintf(out, " via %s", cfg->endpoints[rule->endpoint.index].id);
}

static void print_governor(const struct config *cfg, const struct config_vpc_table *vt,
			   const struct match_result *r, FILE *out)
{
	const struct config_rule *rule;
	switch (r->kind) {
	case MATCH_FORWARD:
	case MATCH_SYSTEM:
	case MATCH_DELEGATE:
		rule = &cfg->rules[r->id];
		fprintf(out, "%s rule %s '%s' (%s)", match_kind_name(r->kind), rule->id, rule->name,
			rule->domain);
		if (r->kind != MATCH_SYSTEM)
			print_targets(cfg, rule, out);
		break;
	case MATCH_ZONE:
		fprintf(out, "private hosted zone %s (answered from %s)", cfg->zones[r->id].name,
			cfg->zones[r->id].file);
		break;
	case MATCH_AUTO:
		fprintf(out, "auto-defined %s rule %s",
			vt->auto_rules[r->id].reverse ? "reverse" : "forward",
			vt->auto_rules[r->id].domain);
		break;
	case MATCH_RECURSIVE:
	case MATCH_KIND_COUNT:
		fprintf(out, "the \".\" rule (resolved recursively)");
		break;
	}
}

int config_explain(const struct config *cfg, const struct config_tables *tables, const char *vpc_id,
		   const char *name, FILE *out)
{
	size_t v = 0;
	while (v < cfg->n_vpcs && strcmp(cfg->vpcs[v].id, vpc_id) != 0)
		v++;
	if (v == cfg->n_vpcs) {
		fprintf(out, "%s: no VPC '%s' in %s\n", name, vpc_id, cfg->path);
		return -1;
	}
	const struct config_vpc_table *vt = &tables->vpcs[v];
	struct match_result r;
	if (match_lookup_text(vt->table, name, &r) != MATCH_OK) {
		fprintf(out, "%s: not a valid domain name\n", name);
		return -1;
	}
	fprintf(out, "%-48s ", name);
	print_governor(cfg, vt, &r, out);
	if (r.system_id != MATCH_ID_NONE)
		fprintf(out, "; system rule %s (%s) took it back from the custom rules",
			cfg->rules[r.system_id].id, cfg->rules[r.system_id].domain);
	fputc('\n', out);
	return 0;
}
