/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/counters: the lcores' counters as the control core reads them: per lcore, per VPC, rule,
 * endpoint address and target summed over lcores, targets' RTT, and the printout the daemon makes
 * on SIGUSR1 and at exit. Readers take values a moment old, never torn on x86-64.
 */
#include <inttypes.h>
#include <string.h>

#include "dp/dp_internal.h"

static const char *const drop_names[DP__DROP_COUNT] = {
    [DP_DROP_NO_ADDRESS] = "no_address",
    [DP_DROP_NOT_DNS_PORT] = "not_dns_port",
    [DP_DROP_OUTSIDER] = "outsider",
    [DP_DROP_WIRE] = "wire",
    [DP_DROP_FLOW_FULL] = "flow_full",
    [DP_DROP_BAD_RULE] = "bad_rule",
    [DP_DROP_MATCH_FAILED] = "match_failed",
    [DP_DROP_NO_NEIGH] = "no_neigh",
    [DP_DROP_NO_FLOW] = "no_flow",
    [DP_DROP_SPOOFED] = "spoofed",
    [DP_DROP_HANDOVER_FULL] = "handover_full",
    [DP_DROP_EXCEPTION_FULL] = "exception_full",
    [DP_DROP_SLOW_FULL] = "slow_full",
    [DP_DROP_NO_MBUF] = "no_mbuf",
    [DP_DROP_NO_ROOM] = "no_room",
    [DP_DROP_TX_FULL] = "tx_full",
    [DP_DROP_UNKNOWN_PORT] = "unknown_port",
    [DP_DROP_CHAINED] = "chained",
    [DP_DROP_RATE_LIMITED] = "rate_limited",
};

const char *dp_drop_name(enum dp_drop d)
{
	return (unsigned)d < DP__DROP_COUNT ? drop_names[d] : "?";
}

void dp_lcore_counters_read(const struct dp_plane *plane, unsigned lcore,
			    struct dp_lcore_counters *out)
{
	if (lcore < plane->p.n_lcores)
		*out = plane->lcores[lcore].c;
	else
		memset(out, 0, sizeof(*out));
}

bool dp_entity_counters_read(const struct dp_plane *plane, enum dp_entity kind, uint32_t index,
			     struct dp_entity_counters *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < plane->p.n_lcores; i++) {
		const struct dp_lcore *lc = &plane->lcores[i];
		const struct dp_entity_counters *a;
		uint32_t n;
		switch (kind) {
		case DP_ENTITY_VPC:
			a = lc->vpc_c, n = plane->p.max_vpcs;
			break;
		case DP_ENTITY_RULE:
			a = lc->rule_c, n = plane->p.max_rules;
			break;
		case DP_ENTITY_ENDPOINT_ADDR:
			a = lc->ep_c, n = plane->p.max_endpoint_addrs;
			break;
		case DP_ENTITY_TARGET:
			a = lc->target_c, n = plane->p.flow.n_targets;
			break;
		default:
			return false;
		}
		if (index >= n)
			return false;
		out->queries += a[index].queries;
		out->forwarded += a[index].forwarded;
		out->answered += a[index].answered;
		out->timeouts += a[index].timeouts;
		out->retries += a[index].retries;
		out->truncations += a[index].truncations;
		out->cache_hits += a[index].cache_hits;
		out->stale += a[index].stale;
		out->static_answers += a[index].static_answers;
		out->drops += a[index].drops;
	}
	return true;
}

bool dp_target_rtt(const struct dp_plane *plane, uint32_t target, uint64_t *srtt_ns,
		   uint64_t *p90_ns)
{
	uint32_t hist[FLOW_HIST_BUCKETS] = {0};
	uint64_t best_samples = 0;
	*srtt_ns = 0;
	for (unsigned i = 0; i < plane->p.n_lcores; i++) {
		struct flow_target_stats s;
		if (!flow_target_stats(plane->lcores[i].flows, target, &s))
			return false;
		for (unsigned b = 0; b < FLOW_HIST_BUCKETS; b++)
			hist[b] += s.hist[b];
		/* the lcore that sampled it most has the estimate worth quoting */
		if (s.rtt_samples > best_samples) {
			best_samples = s.rtt_samples;
			*srtt_ns = s.srtt_ns;
		}
	}
	*p90_ns = flow_hist_quantile(hist, 0.9);
	return true;
}

static void print_counters(FILE *out, const char *who, const struct dp_lcore_counters *c)
{
	fprintf(out,
		"%s: rx %" PRIu64 " tx %" PRIu64 " queries %" PRIu64 " outsiders %" PRIu64
		" forwarded %" PRIu64 " responses %" PRIu64 " answered %" PRIu64
		" servfails %" PRIu64 " timeouts %" PRIu64 " retries %" PRIu64
		" truncations %" PRIu64 " to_slow %" PRIu64 " exceptions %" PRIu64
		" handed_over %" PRIu64 " tcp_fallbacks %" PRIu64 " cname_chases %" PRIu64
		" fragments %" PRIu64 " reassembled %" PRIu64 " oversized %" PRIu64
		" rate_forgotten %" PRIu64 " cache_hits %" PRIu64 " stale %" PRIu64
		" refreshes %" PRIu64 " refreshed %" PRIu64 " static_answers %" PRIu64 "\n",
		who, c->rx, c->tx, c->queries, c->outsiders, c->forwarded, c->responses,
		c->answered, c->servfails, c->timeouts, c->retries, c->truncations, c->to_slow,
		c->exceptions, c->handed_over, c->tcp_fallbacks, c->cname_chases, c->fragments,
		c->reassembled, c->oversized, c->rate_forgotten, c->cache_hits, c->stale,
		c->refreshes, c->refreshed, c->static_answers);
	for (unsigned e = 0; e < WIRE_E__COUNT; e++)
		if (c->rejects[e])
			fprintf(out, "%s: reject %s %" PRIu64 "\n", who,
				wire_err_name((enum wire_err)e), c->rejects[e]);
	for (unsigned d = 0; d < DP__DROP_COUNT; d++)
		if (c->drops[d])
			fprintf(out, "%s: drop %s %" PRIu64 "\n", who, dp_drop_name(d),
				c->drops[d]);
}

bool dp_cache_stats_read(const struct dp_plane *plane, unsigned lcore, struct cache_stats *out)
{
	if (lcore >= plane->p.n_lcores || !plane->lcores[lcore].cache)
		return false;
	cache_stats_read(plane->lcores[lcore].cache, out);
	return true;
}

static void print_cache(FILE *out, const char *who, const struct cache_stats *st)
{
	fprintf(out,
		"%s: cache hits %" PRIu64 " misses %" PRIu64 " stale_hits %" PRIu64
		" refreshes %" PRIu64 " kept %" PRIu64 " replaced %" PRIu64 " evictions %" PRIu64
		" expirations %" PRIu64 " promotions %" PRIu64 " entries %" PRIu64 " bytes %" PRIu64
		" capacity %" PRIu64 "\n",
		who, st->hits, st->misses, st->stale_hits, st->refreshes, st->kept, st->replaced,
		st->evictions, st->expirations, st->promotions, st->entries, st->bytes,
		st->capacity_bytes);
	for (unsigned r = 1; r < CACHE_INSERT__COUNT; r++)
		if (st->not_kept[r])
			fprintf(out, "%s: cache not_kept %s %" PRIu64 "\n", who,
				cache_insert_name((enum cache_insert)r), st->not_kept[r]);
}

void dp_counters_print(const struct dp_plane *plane, FILE *out)
{
	struct dp_lcore_counters sum = {0};
	for (unsigned i = 0; i < plane->p.n_lcores; i++) {
		const struct dp_lcore_counters *c = &plane->lcores[i].c;
		char who[32];
		snprintf(who, sizeof(who), "lcore %u", i);
		print_counters(out, who, c);
		struct cache_stats st;
		if (dp_cache_stats_read(plane, i, &st))
			print_cache(out, who, &st);
		const uint64_t *src = (const uint64_t *)c;
		uint64_t *dst = (uint64_t *)&sum;
		for (size_t k = 0; k < sizeof(sum) / sizeof(uint64_t); k++)
			dst[k] += src[k];
	}
	print_counters(out, "all", &sum);
}
