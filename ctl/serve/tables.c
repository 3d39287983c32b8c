/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/serve tables: the config compiled into dp tables (forward rules, VPCs, static zone
 * answers) and the plane that runs them. See internal.h.
 */
#include "ctl/serve/internal.h"

/* ---- dp tables ---- */

static bool add_endpoints(struct server *s, struct dp_tables_builder *b)
{
	const struct config *cfg = s->cfg;
	s->dp_endpoint_of = malloc((cfg->n_endpoints ? cfg->n_endpoints : 1) * sizeof(uint32_t));
	if (!s->dp_endpoint_of)
		return false;
	for (size_t e = 0; e < cfg->n_endpoints; e++) {
		const struct config_endpoint *ep = &cfg->endpoints[e];
		s->dp_endpoint_of[e] = UINT32_MAX;
		if (ep->direction != CONFIG_OUTBOUND)
			continue;
		struct dp_endpoint_addr addrs[DP_ENDPOINT_ADDRS];
		for (size_t a = 0; a < ep->n_addresses; a++)
			addrs[a] = (struct dp_endpoint_addr){
			    .port = s->port_of[ep->interface.index],
			    .vlan = ep->vlan,
			    .addr = dp_addr_of(&ep->addresses[a]),
			};
		struct dp_endpoint_spec spec = {.addrs = addrs,
						.n_addrs = (unsigned)ep->n_addresses};
		int64_t idx = dp_tables_add_endpoint(b, &spec, s->err, sizeof(s->err));
		if (idx < 0)
			return false;
		s->dp_endpoint_of[e] = (uint32_t)idx;
		s->n_endpoint_addrs += ep->n_addresses;
	}
	return true;
}

/* Targets repeated across rules are one dp target, so they share one RTT estimate. */
static int64_t add_target(struct server *s, struct dp_tables_builder *b,
			  struct dp_target_spec *seen, const struct dp_target_spec *t)
{
	for (size_t i = 0; i < s->n_targets; i++)
		if (memcmp(&seen[i], t, sizeof(*t)) == 0)
			return (int64_t)i;
	int64_t idx = dp_tables_add_target(b, t, s->err, sizeof(s->err));
	if (idx >= 0)
		seen[s->n_targets++] = *t;
	return idx;
}

static bool add_forward_rule(struct server *s, struct dp_tables_builder *b,
			     struct dp_target_spec *seen, size_t r)
{
	const struct config_rule *rule = &s->cfg->rules[r];
	const struct config_endpoint *ep = &s->cfg->endpoints[rule->endpoint.index];
	struct dp_rule_spec spec = {.endpoint = s->dp_endpoint_of[rule->endpoint.index],
				    .n_targets = (unsigned)rule->n_targets};
	for (size_t t = 0; t < rule->n_targets; t++) {
		int64_t hop = target_nexthop(s, ep, &rule->targets[t]);
		if (hop < 0) {
			snprintf(s->err, sizeof(s->err),
				 "rule '%s': no next hop for target %zu (no endpoint address or "
				 "gateway of its family)",
				 rule->name, t + 1);
			return false;
		}
		struct dp_target_spec ts;
		memset(&ts, 0, sizeof(ts)); /* compared whole in add_target */
		ts.addr = dp_addr_of(&rule->targets[t].addr);
		ts.udp_port = rule->targets[t].port;
		ts.nexthop = (uint32_t)hop;
		int64_t idx = add_target(s, b, seen, &ts);
		if (idx < 0)
			return false;
		spec.targets[t] = (uint32_t)idx;
	}
	int64_t idx = dp_tables_add_rule(b, &spec, s->err, sizeof(s->err));
	if (idx < 0)
		return false;
	s->forward_ids[r] = (uint32_t)idx;
	s->n_rules++;
	return true;
}

static bool add_rules(struct server *s, struct dp_tables_builder *b)
{
	const struct config *cfg = s->cfg;
	size_t max_targets = cfg->n_rules * CONFIG_MAX_TARGETS + 1;
	struct dp_target_spec *seen = calloc(max_targets, sizeof(*seen));
	s->forward_ids = calloc(cfg->n_rules + 1, sizeof(*s->forward_ids));
	s->rule_of_dp = calloc(cfg->n_rules + 1, sizeof(*s->rule_of_dp));
	bool ok = seen && s->forward_ids && s->rule_of_dp;
	for (size_t r = 0; ok && r < cfg->n_rules; r++)
		if (cfg->rules[r].type == CONFIG_RULE_FORWARD)
			ok = add_forward_rule(s, b, seen, r);
	for (size_t r = 0; ok && r < cfg->n_rules; r++)
		if (cfg->rules[r].type == CONFIG_RULE_FORWARD)
			s->rule_of_dp[s->forward_ids[r]] = (uint32_t)r;
	s->dp_targets = seen; /* a TCP fallback names its target by dp index */
	return ok;
}

/* What compile_statics passes each static answer with. */
struct static_ctx {
	struct server *s;
	struct dp_tables_builder *b;
	const struct match_table *match; /* the VPC's */
	uint32_t vpc;
	long added;
	bool failed;
};

/* Adds a zone's static answer to the tables if the VPC's match gives its name to that zone (not
 * to a more specific zone or rule): the lcore answers it only under such a match. */
static bool add_static(void *arg, const struct local_static *a)
{
	struct static_ctx *c = arg;
	struct match_result res;
	if (match_lookup(c->match, NULL, a->qname, a->qname_len, &res) != MATCH_OK ||
	    res.kind != MATCH_ZONE || res.id != a->zone)
		return true;
	struct dp_static_spec spec = {.vpc = c->vpc, .zone = a->zone, .msg = a->msg, .len = a->len};
	if (dp_tables_add_static(c->b, &spec, c->s->err, sizeof(c->s->err)) < 0) {
		c->failed = true;
		return false;
	}
	c->added++;
	return true;
}

/* VPC v's static zone answers into the tables (see dp.h); how many, or -1 with s->err. */
static long compile_statics(struct server *s, struct dp_tables_builder *b,
			    const struct match_table *match, size_t v)
{
	struct static_ctx c = {.s = s, .b = b, .match = match, .vpc = (uint32_t)v};
	local_static_answers(s->local, (uint32_t)v, add_static, &c);
	return c.failed ? -1 : c.added;
}

static bool add_vpc(struct server *s, struct dp_tables_builder *b, struct config_tables *ct,
		    size_t v)
{
	const struct config_vpc *vpc = &s->cfg->vpcs[v];
	struct dp_cidr cidrs[vpc->n_cidrs + 1];
	struct dp_addr resolvers[vpc->n_resolver_addresses + 1];
	for (size_t i = 0; i < vpc->n_cidrs; i++)
		cidrs[i] = (struct dp_cidr){dp_addr_of(&vpc->cidrs[i].addr), vpc->cidrs[i].len};
	for (size_t i = 0; i < vpc->n_resolver_addresses; i++)
		resolvers[i] = dp_addr_of(&vpc->resolver_addresses[i]);
	struct dp_vpc_spec spec = {
	    .port = s->port_of[vpc->interface.index],
	    .vlan = vpc->vlan,
	    .cidrs = cidrs,
	    .n_cidrs = (unsigned)vpc->n_cidrs,
	    .resolver_addrs = resolvers,
	    .n_resolver_addrs = (unsigned)vpc->n_resolver_addresses,
	    .outsiders = s->cfg->tunables.refuse_outside_cidrs == CONFIG_OUTSIDE_DROP
			     ? DP_OUTSIDER_DROP
			     : DP_OUTSIDER_REFUSE,
	    .match = ct->vpcs[v].table,
	};
	if (dp_tables_add_vpc(b, &spec, s->err, sizeof(s->err)) < 0)
		return false;
	ct->vpcs[v].table = NULL; /* the dp tables own it now */
	return true;
}

struct dp_tables *build_tables(struct server *s)
{
	struct dp_tunables tun = {.edns_udp_size = (uint16_t)s->cfg->tunables.edns_udp_size,
				  .rate_limit_pps = s->cfg->tunables.rate_limit_pps};
	struct dp_tables_builder *b = dp_tables_builder_new(&tun);
	struct config_tables *ct = NULL;
	struct dp_tables *t = NULL;
	struct config_errors errs = {0};
	size_t vpcs_static = 0;
	if (!b || !add_endpoints(s, b) || !add_rules(s, b))
		goto out;
	ct = config_compile_ids(s->cfg, MATCH_ENGINE_SUFFIX, s->forward_ids, &errs);
	if (!ct) {
		snprintf(s->err, sizeof(s->err), "%s",
			 errs.count ? errs.list[0].text : "the match tables did not build");
		goto out;
	}
	/* the zones' index first: the static answers come from it */
	s->local = local_new(s->cfg, ct, s->err, sizeof(s->err));
	if (!s->local)
		goto out;
	for (size_t v = 0; v < s->cfg->n_vpcs; v++) {
		const struct match_table *match =
		    ct->vpcs[v].table; /* the builder's after add_vpc */
		if (!add_vpc(s, b, ct, v))
			goto out;
		long n = compile_statics(s, b, match, v);
		if (n < 0)
			goto out;
		vpcs_static += n > 0;
	}
	t = dp_tables_build(b, s->err, sizeof(s->err));
	b = NULL; /* consumed */
out:
	dp_tables_builder_free(b);
	if (t) {
		s->ct =
		    ct; /* the tables moved to dp; the auto-defined rules stay for local answers */
		printf("vpcdnsd: %u static zone answers in %zu VPCs\n", dp_tables_static_count(t),
		       vpcs_static);
	} else {
		local_free(s->local);
		s->local = NULL;
		config_tables_free(ct);
	}
	config_errors_free(&errs);
	return t;
}

/* ---- the plane ---- */

/* Takes tables: published to the plane, or freed. */
bool start_plane(struct server *s, struct dp_tables *tables)
{
	const struct config_tunables *tun = &s->cfg->tunables;
	struct dp_plane_params p = {
	    .n_lcores = tun->data_lcores,
	    .n_ports = (unsigned)s->cfg->n_interfaces,
	    .pool = s->pool,
	    .neigh = s->neigh,
	    .flow =
		{
		    .capacity = tun->max_inflight,
		    .port_lo = SOURCE_PORT_LO,
		    .port_hi = SOURCE_PORT_HI,
		    .tries = (uint8_t)tun->tries,
		    .timeout_initial_ns = (uint64_t)tun->retry_timeout_initial_ms * 1000000u,
		    .timeout_min_ns = (uint64_t)tun->retry_timeout_min_ms * 1000000u,
		    .timeout_max_ns = (uint64_t)tun->retry_timeout_max_ms * 1000000u,
		    .n_targets = (uint32_t)(s->n_targets ? s->n_targets : 1),
		},
	    .max_vpcs = (unsigned)s->cfg->n_vpcs,
	    .max_rules = (unsigned)(s->n_rules ? s->n_rules : 1),
	    .max_endpoint_addrs = (unsigned)(s->n_endpoint_addrs ? s->n_endpoint_addrs : 1),
	    .cache =
		{
		    .max_bytes = tun->cache_max_bytes / tun->data_lcores,
		    .ttl_min_s = tun->cache_ttl_min_s,
		    .ttl_max_s = tun->cache_ttl_max_s,
		    .negative_ttl_max_s = tun->negative_ttl_max_s,
		    .servfail_ttl_s = tun->servfail_ttl_s,
		    .stale_window_s = tun->stale_window_s,
		    .stale_ttl_s = tun->stale_ttl_s,
		},
	};
	for (size_t i = 0; i < s->cfg->n_interfaces; i++) {
		const struct io_port *port = &s->ports[i];
		p.ports[i] = port->port_id;
		p.tx_offload[i] = (uint8_t)((port->tx_cksum_ipv4 ? DP_TX_CKSUM_IPV4 : 0) |
					    (port->tx_cksum_udp ? DP_TX_CKSUM_UDP : 0));
		p.rx_queues[i] = port->lcores_poll_extra_rx ? port->n_rx_queues : 0;
	}
	if (getrandom(p.flow.seed, sizeof(p.flow.seed), 0) != (ssize_t)sizeof(p.flow.seed)) {
		snprintf(s->err, sizeof(s->err), "getrandom: %s", strerror(errno));
		dp_tables_free(tables);
		return false;
	}
	s->plane = dp_plane_new(&p, s->err, sizeof(s->err));
	if (!s->plane || dp_publish(s->plane, tables, s->err, sizeof(s->err)) != 0) {
		dp_tables_free(tables);
		return false;
	}
	unsigned ids[DP_LCORES_MAX], n = 0, id;
	RTE_LCORE_FOREACH_WORKER(id)
	{
		if (n < tun->data_lcores)
			ids[n++] = id;
	}
	if (n < tun->data_lcores) {
		snprintf(s->err, sizeof(s->err), "%u data lcores configured, the EAL gave %u",
			 tun->data_lcores, n);
		return false;
	}
	return dp_start(s->plane, ids) == 0;
}
