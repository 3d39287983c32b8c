/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/config model: config_load's order of stages (YAML walk, zone files, validation), the model's
 * lifetime, the documented tunable defaults and the names the model's enums print as.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl/config/internal.h"

void config_tunables_default(struct config_tunables *t)
{
	*t = (struct config_tunables){
	    .retry_timeout_initial_ms = 200,
	    .retry_timeout_min_ms = 30,
	    .retry_timeout_max_ms = 1000,
	    .tries = 3,
	    .edns_udp_size = 4096,
	    .cache_max_bytes = 256ULL << 20,
	    .cache_ttl_min_s = 0,
	    .cache_ttl_max_s = 86400,
	    .negative_ttl_max_s = 3600,
	    .servfail_ttl_s = 5,
	    .stale_window_s = 86400,
	    .stale_ttl_s = 30,
	    .rate_limit_pps = 1024,
	    .refuse_outside_cidrs = CONFIG_OUTSIDE_REFUSE,
	    .tcp_idle_timeout_ms = 10000,
	    .max_inflight = 65536,
	    .data_lcores = 1,
	    .eal_memory_mb = 512,
	    .neighbour_reachable_s = 30,
	};
}

struct config *config_load(const char *path, struct config_errors *errs)
{
	struct config *cfg = calloc(1, sizeof(*cfg));
	if (!cfg || !(cfg->path = strdup(path))) {
		config_error_add(errs, path, 0, NULL, "out of memory");
		free(cfg);
		return NULL;
	}
	config_tunables_default(&cfg->tunables);
	cfg->recursion.max_inflight = 1024;
	cfg->recursion.timeout_ms = 4000;
	cfg->recursion.cache_max_bytes = 64ULL << 20;
	if (config_read_yaml(cfg, errs)) {
		config_load_zones(cfg, errs);
		config_validate(cfg, errs);
	}
	if (errs->count || errs->dropped) {
		config_free(cfg);
		return NULL;
	}
	return cfg;
}

static void free_refs(struct config_ref *refs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(refs[i].name);
	free(refs);
}

static void free_vpc(struct config_vpc *vpc)
{
	free(vpc->id);
	free(vpc->interface.name);
	free(vpc->cidrs);
	free(vpc->resolver_addresses);
	free_refs(vpc->zones, vpc->n_zones);
}

static void free_rule(struct config_rule *r)
{
	free(r->id);
	free(r->name);
	free(r->domain);
	free(r->endpoint.name);
	free_refs(r->vpcs, r->n_vpcs);
}

static void free_zone(struct config_zone *z)
{
	free(z->id);
	free(z->name);
	free(z->file);
	free(z->path);
	free(z->records);
	free_refs(z->vpcs, z->n_vpcs);
}

void config_free(struct config *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->n_interfaces; i++) {
		free(cfg->interfaces[i].name);
		free(cfg->interfaces[i].device);
		free(cfg->interfaces[i].kernel_interface);
		free(cfg->interfaces[i].neighbours);
	}
	for (size_t i = 0; i < cfg->n_vpcs; i++)
		free_vpc(&cfg->vpcs[i]);
	for (size_t i = 0; i < cfg->n_endpoints; i++) {
		free(cfg->endpoints[i].id);
		free(cfg->endpoints[i].vpc.name);
		free(cfg->endpoints[i].interface.name);
	}
	for (size_t i = 0; i < cfg->n_rules; i++)
		free_rule(&cfg->rules[i]);
	for (size_t i = 0; i < cfg->n_zones; i++)
		free_zone(&cfg->zones[i]);
	free(cfg->interfaces);
	free(cfg->vpcs);
	free(cfg->endpoints);
	free(cfg->rules);
	free(cfg->zones);
	free(cfg->recursion.root_hints);
	free(cfg->recursion.root_hints_path);
	free(cfg->region);
	free(cfg->account_id);
	free(cfg->path);
	free(cfg);
}

const char *config_rule_type_name(enum config_rule_type type)
{
	static const char *const names[] = {"forward", "system", "delegate"};
	return type <= CONFIG_RULE_DELEGATE ? names[type] : "?";
}

const char *config_direction_name(enum config_direction direction)
{
	return direction == CONFIG_INBOUND ? "inbound" : "outbound";
}

void config_rule_label(const struct config_rule *r, char *buf, size_t len)
{
	snprintf(buf, len, "rule '%s'", r->name ? r->name : r->id ? r->id : "?");
}
