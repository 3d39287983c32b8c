/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/serve slow path: the control core's event loop, TCP clients and the slow rings,
 * through ctl/slow. See internal.h.
 */
#include "ctl/serve/internal.h"

/* ---- the control core's loop ---- */

/* The most one datagram to a client on m's port carries (its interface's MTU; 1500 unless set),
 * less IPv4 and UDP headers: answers past it go out TC=1. */
static size_t client_link(const struct server *s, const struct rte_mbuf *m)
{
	uint32_t mtu = 1500;
	for (size_t i = 0; i < s->cfg->n_interfaces; i++)
		if (s->port_of[i] == m->port && s->cfg->interfaces[i].mtu)
			mtu = s->cfg->interfaces[i].mtu;
	return mtu - 28;
}

/* Answers a slow ring's query frame with rcode, in place, and sends it. */
static void answer_rcode(struct server *s, struct rte_mbuf *m, int rcode)
{
	if (!dp_answer_query(m, rcode, (uint16_t)s->cfg->tunables.edns_udp_size)) {
		s->slow_unanswerable++;
		rte_pktmbuf_free(m);
		return;
	}
	io_ctl_send(m->port, m); /* a failure is counted by io (tx_full) */
}

/* The slow path's answer to a UDP client: written over its query frame, sent back. */
static void udp_answered(void *arg, const uint8_t *answer, size_t len)
{
	struct rte_mbuf *m = arg;
	if (!answer || !dp_answer_message(m, answer, len)) { /* none: the daemon stops */
		rte_pktmbuf_free(m);
		return;
	}
	io_ctl_send(m->port, m);
}

/* The index, among rule's targets, of dp target t (what truncated); -1 if none matches. */
static int config_target_of(const struct server *s, uint32_t rule, uint32_t t)
{
	const struct config_rule *r = &s->cfg->rules[rule];
	for (size_t i = 0; t < s->n_targets && i < r->n_targets; i++)
		if (r->targets[i].addr.family == s->dp_targets[t].addr.family &&
		    memcmp(r->targets[i].addr.bytes, s->dp_targets[t].addr.addr, 16) == 0 &&
		    r->targets[i].port == s->dp_targets[t].udp_port)
			return (int)i;
	return -1;
}

/* One query from a slow ring into the slow path (the mbuf waits for its answer). */
static void to_slow_path(struct server *s, struct rte_mbuf *m, const struct dp_slow_meta *meta)
{
	size_t qlen;
	const uint8_t *query = dp_query_message(m, &qlen);
	struct match_result match = {.kind = (enum match_kind)meta->kind,
				     .id = meta->match_id,
				     .labels = meta->labels,
				     .system_id = meta->system_id};
	struct slow_request req = {
	    .vpc = meta->vpc,
	    .query = query,
	    .len = qlen,
	    .match = &match,
	    .tcp_target = -1,
	    .link = client_link(s, m),
	};
	if (meta->reason == DP_SLOW_TCP_FALLBACK) {
		s->tcp_fallbacks++;
		if (meta->match_id < s->n_rules)
			req.tcp_target =
			    config_target_of(s, s->rule_of_dp[meta->match_id], meta->target);
	} else if (meta->kind < MATCH_KIND_COUNT) {
		s->slow_by_kind[meta->kind]++;
	}
	if (!query || !slow_start(s->slow, &req, udp_answered, m)) {
		s->slow_refused++;
		answer_rcode(s, m, WIRE_RCODE_SERVFAIL);
	}
}

unsigned drain_slow_ring(struct server *s, unsigned lcore)
{
	struct rte_mbuf *burst[SLOW_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(dp_slow_ring(s->plane, lcore), (void **)burst,
					       SLOW_BURST, NULL);
	for (unsigned i = 0; i < n; i++)
		to_slow_path(s, burst[i], dp_slow_meta(burst[i]));
	return n;
}

/* ---- TCP clients ---- */

struct tcp_wait {
	struct server *s;
	struct tcpserve_handle handle;
};

static void tcp_answered(void *arg, const uint8_t *answer, size_t len)
{
	struct tcp_wait *w = arg;
	if (answer)						   /* none: the daemon stops */
		tcpserve_reply(w->s->tcp, w->handle, answer, len); /* a gone client is counted */
	free(w);
}

static void tcp_query(void *arg, const struct tcpserve_query *q)
{
	struct server *s = arg;
	struct tcp_wait *w = malloc(sizeof(*w));
	struct slow_request req = {.vpc = q->vpc,
				   .query = q->msg,
				   .len = q->len,
				   .tcp_target = -1,
				   .link = SLOW_ANSWER_MAX,
				   .over_tcp = true};
	if (w) {
		*w = (struct tcp_wait){.s = s, .handle = q->handle};
		if (slow_start(s->slow, &req, tcp_answered, w))
			return;
		free(w);
	}
	/* not a query the slow path takes (it counted why): FORMERR or SERVFAIL, as parsed */
	uint8_t out[SLOW_ANSWER_MAX];
	struct wire_dns_msg m;
	size_t len = q->len < sizeof(out) ? q->len : sizeof(out);
	memcpy(out, q->msg, len);
	enum wire_err err = wire_dns_parse_query(out, len, &m);
	int rcode = err == WIRE_OK ? WIRE_RCODE_SERVFAIL : wire_err_rcode(err);
	if (rcode < 0 || wire_dns_make_answer(out, &len, sizeof(out), &m, rcode,
					      (uint16_t)s->cfg->tunables.edns_udp_size) != WIRE_OK)
		tcpserve_drop(s->tcp, q->handle);
	else
		tcpserve_reply(s->tcp, q->handle, out, len);
}

static bool listen_on(struct server *s, const struct config_addr *a, const char *link, uint32_t vpc)
{
	struct tcpserve_listener l = {.device = link, .vpc = vpc};
	config_addr_sockaddr(a, DP_DNS_PORT, &l.addr);
	return tcpserve_listen(s->tcp, &l, s->err, sizeof(s->err)) >= 0;
}

/* TCP on every resolver and inbound endpoint address that has a kernel interface. */
static bool listen_tcp(struct server *s)
{
	const struct config *cfg = s->cfg;
	for (size_t v = 0; v < cfg->n_vpcs; v++)
		for (size_t a = 0; s->vpc_link[v][0] && a < cfg->vpcs[v].n_resolver_addresses; a++)
			if (!listen_on(s, &cfg->vpcs[v].resolver_addresses[a], s->vpc_link[v],
				       (uint32_t)v))
				return false;
	for (size_t e = 0; e < cfg->n_endpoints; e++) {
		const struct config_endpoint *ep = &cfg->endpoints[e];
		if (ep->direction != CONFIG_INBOUND || !s->endpoint_link[e][0])
			continue;
		for (size_t a = 0; a < ep->n_addresses; a++)
			if (!listen_on(s, &ep->addresses[a], s->endpoint_link[e], ep->vpc.index))
				return false;
	}
	return true;
}

/* Recursion for the "." rule and SYSTEM rules (the config's recursion: section). Its UDP ports stay
 * in the kernel's range unless set: its queries may leave from an address the lcores share. */
static bool start_recursion(struct server *s)
{
	const struct config_recursion *rc = &s->cfg->recursion;
	char text[CONFIG_MAX_RECURSION_SOURCES][INET6_ADDRSTRLEN];
	const char *sources[CONFIG_MAX_RECURSION_SOURCES];
	for (size_t i = 0; i < rc->n_source_addresses; i++) {
		const struct config_addr *a = &rc->source_addresses[i];
		inet_ntop(a->family == 4 ? AF_INET : AF_INET6, a->bytes, text[i], sizeof(text[i]));
		sources[i] = text[i];
	}
	struct recurse_params rp = {
	    .root_hints = rc->root_hints_path,
	    .source_addresses = sources,
	    .n_source_addresses = rc->n_source_addresses,
	    .source_port_min = rc->source_port_min ? rc->source_port_min : KERNEL_PORT_LO,
	    .source_port_max = rc->source_port_max ? rc->source_port_max : KERNEL_PORT_HI,
	    .cache_max_bytes = rc->cache_max_bytes,
	    .max_inflight = rc->max_inflight,
	    .timeout_ms = rc->timeout_ms,
	    .qname_minimisation = true,
	};
	s->recurse = recurse_create(s->base, &rp, s->err, sizeof(s->err));
	return s->recurse != NULL;
}

static bool any_xdp(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->n_interfaces; i++)
		if (cfg->interfaces[i].mode == CONFIG_MODE_XDP)
			return true;
	return false;
}

static int match_published(void *plane, uint32_t vpc, const uint8_t *name, size_t len,
			   struct match_result *out)
{
	return dp_match_name(plane, vpc, name, len, out);
}

/* The control core's event loop and what runs on it: upstream queries, recursion, TCP clients,
 * the slow path. */
bool start_slow_path(struct server *s)
{
	const struct config *cfg = s->cfg;
	const struct config_tunables *tun = &cfg->tunables;
	struct event_config *ec = event_config_new();
	if (ec) {
		event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
		s->base = event_base_new_with_config(ec);
		event_config_free(ec);
	}
	if (!s->base) {
		snprintf(s->err, sizeof(s->err), "libevent: no event base");
		return false;
	}
	struct upstream_params up = {.base = s->base,
				     .udp_port_lo = KERNEL_PORT_LO,
				     .udp_port_hi = KERNEL_PORT_HI,
				     .tcp_idle_ms = tun->tcp_idle_timeout_ms};
	s->upstream = upstream_new(&up, s->err, sizeof(s->err));
	if (!s->upstream || !start_recursion(s))
		return false;
	struct tcpserve_params tp = {.base = s->base,
				     .handler = tcp_query,
				     .arg = s,
				     .idle_timeout_ms = tun->tcp_idle_timeout_ms};
	s->tcp = tcpserve_new(&tp, s->err, sizeof(s->err));
	if (tun->cache_max_bytes) { /* as big as one lcore's share */
		struct cache_params cp = {
		    .max_bytes = tun->cache_max_bytes / tun->data_lcores,
		    .ttl_min_s = tun->cache_ttl_min_s,
		    .ttl_max_s = tun->cache_ttl_max_s,
		    .negative_ttl_max_s = tun->negative_ttl_max_s,
		    .servfail_ttl_s = 0, /* a SERVFAIL made here is not remembered */
		    .stale_window_s = tun->stale_window_s,
		    .stale_ttl_s = tun->stale_ttl_s,
		};
		s->slow_cache = cache_new(&cp, s->err, sizeof(s->err));
		if (!s->slow_cache)
			return false;
	}
	struct slow_params sp = {
	    .base = s->base,
	    .cfg = cfg,
	    .match = match_published,
	    .match_ctx = s->plane,
	    .local = s->local,
	    .upstream = s->upstream,
	    .recurse = s->recurse,
	    .rule_of_dp = s->rule_of_dp,
	    .n_dp_rules = s->n_rules,
	    .endpoint_link = (const kernel_ifname *)s->endpoint_link,
	    .edns_udp_size = (uint16_t)tun->edns_udp_size,
	    .upstream_udp_size = any_xdp(cfg) ? KERNEL_UDP_SIZE_XDP : (uint16_t)tun->edns_udp_size,
	    .tries = tun->tries,
	    .try_timeout_ms = tun->retry_timeout_initial_ms,
	    .cache = s->slow_cache,
	};
	return s->tcp && (s->slow = slow_new(&sp, s->err, sizeof(s->err))) && listen_tcp(s);
}
