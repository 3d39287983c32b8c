/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/serve: the control core's run loop: brings the data plane up from a validated config, polls
 * what only the control core does (io's exception path, the lcores' slow rings), handles signals,
 * and takes everything down in order. See serve.h.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include "ctl/kernel/kernel.h"
#include "ctl/local/local.h"
#include "ctl/serve/serve.h"
#include "dp/dp.h"
#include "dp/io/io.h"

#define SLOW_BURST     32
#define EXCEPTION_RING 1024
/* Endpoint addresses' UDP source ports: the lcores' flows take 1024..60999, split among them; the
 * kernel's sockets on those addresses (behind the TAP) keep 61000..65535, which the lcores pass on.
 */
#define SOURCE_PORT_LO	1024
#define SOURCE_PORT_HI	60999
#define KERNEL_PORT_LO	61000
#define KERNEL_PORT_HI	65535
#define IDLE_SLEEP_NS	200000 /* the control core naps when a poll found nothing */
#define LINK_TIMEOUT_MS 3000

static volatile sig_atomic_t stop_requested, print_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	print_requested = 1;
}

/* Everything the control core holds while the plane runs. */
struct server {
	const struct config *cfg;
	uint16_t *port_of;	/* DPDK port of each config interface */
	struct io_port *ports;	/* as io set them up, per config interface */
	char (*tap_device)[64]; /* the net_tap vdev of each config interface with a kernel_interface
				 */
	struct kernel *kernel;
	kernel_ifname *vpc_link, *endpoint_link; /* kernel interfaces (SO_BINDTODEVICE), "": none */
	struct rte_mempool *pool;
	struct io_nexthop *nexthops;
	size_t n_nexthops, cap_nexthops;
	struct io_neigh_table *neigh;
	uint32_t *dp_endpoint_of; /* dp endpoint of each config endpoint (UINT32_MAX: none) */
	uint32_t *forward_ids;	  /* dp rule of each config rule (forward rules only) */
	size_t n_targets, n_rules, n_endpoint_addrs;
	struct dp_plane *plane;
	uint64_t slow_by_kind[MATCH_KIND_COUNT]; /* answered SERVFAIL: the slow path is not built */
	uint64_t tcp_fallbacks;			 /* truncated by a target: TCP to it is not built */
	uint64_t slow_unanswerable;		 /* could not be turned into an answer: freed */
	struct config_tables *ct; /* the match tables' side data (auto-defined rules) */
	struct local *local;	  /* zones and auto-defined names */
	uint64_t local_answered;
	uint64_t local_failed[LOCAL__STATUS_COUNT]; /* answered SERVFAIL instead, by reason */
	char err[512];
};

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static struct dp_addr dp_addr_of(const struct config_addr *a)
{
	struct dp_addr d = {.family = a->family};
	memcpy(d.addr, a->bytes, a->family == 4 ? 4 : 16);
	return d;
}

/* ---- EAL and ports ---- */

static bool start_eal(struct server *s, const struct serve_options *o)
{
	const struct config *cfg = s->cfg;
	const char *devices[IO_MAX_DEVICES];
	size_t n = 0;
	s->tap_device = calloc(cfg->n_interfaces, sizeof(*s->tap_device));
	if (!s->tap_device)
		return false;
	for (size_t i = 0; i < cfg->n_interfaces; i++) {
		const struct config_interface *itf = &cfg->interfaces[i];
		if (n + 2 > IO_MAX_DEVICES) {
			snprintf(s->err, sizeof(s->err),
				 "%zu interfaces and their TAPs: at most %d devices",
				 cfg->n_interfaces, IO_MAX_DEVICES);
			return false;
		}
		devices[n++] = itf->device;
		if (!itf->kernel_interface)
			continue;
		snprintf(s->tap_device[i], sizeof(s->tap_device[i]), "net_tap_vpcdns%zu,iface=%s",
			 i, itf->kernel_interface);
		devices[n++] = s->tap_device[i];
	}
	struct io_eal_params p = {
	    .devices = devices,
	    .n_devices = n,
	    .n_data_lcores = cfg->tunables.data_lcores,
	    .memory_mb = cfg->tunables.eal_memory_mb,
	    .file_prefix = o->file_prefix,
	    .no_huge = o->no_huge,
	};
	return io_eal_init(&p, s->err, sizeof(s->err)) == 0;
}

/* The TAP that takes what the lcores pass on (TCP, ICMP, the kernel's UDP ports) for the
 * interface's kernel_interface. */
static bool start_tap(struct server *s, size_t i)
{
	struct io_port_params pp = {
	    .device = s->tap_device[i], .n_data_queues = 0, .pool = s->pool};
	struct io_port tap;
	if (io_port_setup(&pp, &tap, s->err, sizeof(s->err)) != 0)
		return false;
	if (io_set_tap(s->port_of[i], tap.port_id) != 0) {
		snprintf(s->err, sizeof(s->err), "interface %s: TAP %s could not be attached",
			 s->cfg->interfaces[i].name, s->cfg->interfaces[i].kernel_interface);
		return false;
	}
	printf("vpcdnsd: interface %s: kernel interface %s (TCP, ICMP)\n",
	       s->cfg->interfaces[i].name, s->cfg->interfaces[i].kernel_interface);
	return true;
}

/* The kernel behind the TAPs gets the addresses and routes it answers TCP with. */
static bool start_kernel(struct server *s)
{
	const struct config *cfg = s->cfg;
	s->vpc_link = calloc(cfg->n_vpcs + 1, sizeof(*s->vpc_link));
	s->endpoint_link = calloc(cfg->n_endpoints + 1, sizeof(*s->endpoint_link));
	if (!s->vpc_link || !s->endpoint_link)
		return false;
	s->kernel = kernel_open(s->err, sizeof(s->err));
	return s->kernel && kernel_set_up(s->kernel, cfg, s->vpc_link, s->endpoint_link, s->err,
					  sizeof(s->err)) == 0;
}

static bool start_ports(struct server *s)
{
	const struct config *cfg = s->cfg;
	struct io_pool_sizing sizing = {
	    .n_ports = (unsigned)(2 * cfg->n_interfaces), /* each with its TAP */
	    .n_data_lcores = cfg->tunables.data_lcores,
	    .rx_desc = 1024,
	    .tx_desc = 1024,
	    .exception_ring = EXCEPTION_RING,
	    .burst = 32,
	    /* every flow keeps its query for a retry; the slow and handover rings and the
	     * reassembly table hold mbufs too */
	    .in_flight_per_lcore = cfg->tunables.max_inflight + 2 * DP_RING_DEFAULT + DP_FRAG_MBUFS,
	};
	s->pool = io_pool_get((int)rte_socket_id(), io_pool_mbufs(&sizing), s->err, sizeof(s->err));
	s->port_of = calloc(cfg->n_interfaces, sizeof(*s->port_of));
	s->ports = calloc(cfg->n_interfaces, sizeof(*s->ports));
	if (!s->pool || !s->port_of || !s->ports)
		return false;
	for (size_t i = 0; i < cfg->n_interfaces; i++) {
		struct io_port_params pp = {
		    .device = cfg->interfaces[i].device,
		    .n_data_queues = (uint16_t)cfg->tunables.data_lcores,
		    .link_timeout_ms = LINK_TIMEOUT_MS,
		    .pool = s->pool,
		    .lcores_poll_extra_rx = true, /* DNS on a driver's extra queues stays fast */
		    .mtu = (uint16_t)cfg->interfaces[i].mtu,
		};
		struct io_port port;
		if (io_port_setup(&pp, &port, s->err, sizeof(s->err)) != 0)
			return false;
		s->ports[i] = port;
		s->port_of[i] = port.port_id;
		printf("vpcdnsd: interface %s: port %u (%s), %s%s\n", cfg->interfaces[i].name,
		       port.port_id, port.name, port.link_up ? "link up" : "link down",
		       port.rss ? ", RSS" : "");
		if (cfg->interfaces[i].kernel_interface && !start_tap(s, i))
			return false;
	}
	return io_exceptions_init(cfg->tunables.data_lcores, EXCEPTION_RING, s->err,
				  sizeof(s->err)) == 0;
}

/* ---- next hops and owned addresses ---- */

/* The dense next-hop index for (port, vlan, addr), defined once. */
static int64_t nexthop_index(struct server *s, uint16_t port, uint16_t vlan,
			     const struct config_addr *addr, const struct config_addr *src)
{
	for (size_t i = 0; i < s->n_nexthops; i++) {
		const struct io_nexthop *nh = &s->nexthops[i];
		if (nh->port_id == port && nh->vlan_id == vlan && nh->family == addr->family &&
		    memcmp(nh->addr, addr->bytes, 16) == 0)
			return (int64_t)i;
	}
	if (s->n_nexthops == s->cap_nexthops) {
		size_t cap = s->cap_nexthops ? 2 * s->cap_nexthops : 16;
		struct io_nexthop *grown = realloc(s->nexthops, cap * sizeof(*grown));
		if (!grown)
			return -1;
		s->nexthops = grown;
		s->cap_nexthops = cap;
	}
	struct io_nexthop *nh = &s->nexthops[s->n_nexthops];
	*nh = (struct io_nexthop){.port_id = port, .vlan_id = vlan, .family = addr->family};
	memcpy(nh->addr, addr->bytes, 16);
	memcpy(nh->src_addr, src->bytes, 16);
	return (int64_t)s->n_nexthops++;
}

/* A target inside the endpoint's VPC is on its link; any other is reached through the VPC router.
 */
static int64_t target_nexthop(struct server *s, const struct config_endpoint *ep,
			      const struct config_target *t)
{
	const struct config_vpc *vpc = &s->cfg->vpcs[ep->vpc.index];
	const struct config_addr *src = NULL;
	for (size_t i = 0; i < ep->n_addresses && !src; i++)
		if (ep->addresses[i].family == t->addr.family)
			src = &ep->addresses[i];
	if (!src)
		return -1; /* validation refuses a family the endpoint cannot send from */
	const struct config_addr *hop =
	    config_vpc_contains(vpc, &t->addr) ? &t->addr : &vpc->gateway;
	if (hop->family != t->addr.family)
		return -1;
	return nexthop_index(s, s->port_of[ep->interface.index], ep->vlan, hop, src);
}

static const struct config_neighbour *static_neighbour(const struct server *s,
						       const struct io_nexthop *nh)
{
	for (size_t i = 0; i < s->cfg->n_interfaces; i++) {
		const struct config_interface *itf = &s->cfg->interfaces[i];
		if (s->port_of[i] != nh->port_id)
			continue;
		for (size_t n = 0; n < itf->n_neighbours; n++)
			if (itf->neighbours[n].addr.family == nh->family &&
			    memcmp(itf->neighbours[n].addr.bytes, nh->addr, 16) == 0)
				return &itf->neighbours[n];
	}
	return NULL;
}

static bool define_nexthops(struct server *s)
{
	struct io_neigh_params p = {
	    .capacity = (uint32_t)(s->n_nexthops ? s->n_nexthops : 1),
	    .reachable_ms = s->cfg->tunables.neighbour_reachable_s * 1000u,
	    .retrans_ms = 1000,
	    .max_probes = 3,
	    .failed_hold_ms = 5000,
	};
	s->neigh = io_neigh_create(&p);
	if (!s->neigh) {
		snprintf(s->err, sizeof(s->err), "out of memory for %zu next hops", s->n_nexthops);
		return false;
	}
	uint64_t now = now_ms();
	for (size_t i = 0; i < s->n_nexthops; i++) {
		const struct config_neighbour *nb = static_neighbour(s, &s->nexthops[i]);
		struct rte_ether_addr mac;
		int rc;
		if (nb) {
			memcpy(mac.addr_bytes, nb->mac, 6);
			rc = io_neigh_define_static(s->neigh, (uint32_t)i, &s->nexthops[i], &mac);
		} else {
			rc = io_neigh_define(s->neigh, (uint32_t)i, &s->nexthops[i], now);
		}
		if (rc != 0) {
			snprintf(s->err, sizeof(s->err), "next hop %zu could not be defined", i);
			return false;
		}
	}
	io_set_neigh_table(s->neigh);
	return true;
}

static bool own(struct io_owned_addr *v, size_t *n, uint16_t port, uint16_t vlan,
		const struct config_addr *a)
{
	if (*n >= IO_MAX_OWNED)
		return false;
	v[*n] = (struct io_owned_addr){.port_id = port, .vlan_id = vlan, .family = a->family};
	memcpy(v[*n].addr, a->bytes, 16);
	(*n)++;
	return true;
}

/* ARP and ND are answered for every resolver and endpoint address, and for nothing else. */
static bool own_addresses(struct server *s)
{
	const struct config *cfg = s->cfg;
	struct io_owned_addr *v = calloc(IO_MAX_OWNED, sizeof(*v));
	size_t n = 0;
	bool fits = true;
	if (!v)
		return false;
	for (size_t i = 0; i < cfg->n_vpcs; i++) {
		const struct config_vpc *vpc = &cfg->vpcs[i];
		for (size_t a = 0; a < vpc->n_resolver_addresses; a++)
			fits &= own(v, &n, s->port_of[vpc->interface.index], vpc->vlan,
				    &vpc->resolver_addresses[a]);
	}
	for (size_t e = 0; e < cfg->n_endpoints; e++) {
		const struct config_endpoint *ep = &cfg->endpoints[e];
		for (size_t a = 0; a < ep->n_addresses; a++)
			fits &= own(v, &n, s->port_of[ep->interface.index], ep->vlan,
				    &ep->addresses[a]);
	}
	int rc = fits ? io_set_owned(v, n) : -1;
	free(v);
	if (rc != 0)
		snprintf(s->err, sizeof(s->err), "too many owned addresses (at most %d)",
			 IO_MAX_OWNED);
	return rc == 0;
}

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
	bool ok = seen && s->forward_ids;
	for (size_t r = 0; ok && r < cfg->n_rules; r++)
		if (cfg->rules[r].type == CONFIG_RULE_FORWARD)
			ok = add_forward_rule(s, b, seen, r);
	free(seen);
	return ok;
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

static struct dp_tables *build_tables(struct server *s)
{
	struct dp_tunables tun = {.edns_udp_size = (uint16_t)s->cfg->tunables.edns_udp_size,
				  .rate_limit_pps = s->cfg->tunables.rate_limit_pps};
	struct dp_tables_builder *b = dp_tables_builder_new(&tun);
	struct config_tables *ct = NULL;
	struct dp_tables *t = NULL;
	struct config_errors errs = {0};
	if (!b || !add_endpoints(s, b) || !add_rules(s, b))
		goto out;
	ct = config_compile_ids(s->cfg, MATCH_ENGINE_SUFFIX, s->forward_ids, &errs);
	if (!ct) {
		snprintf(s->err, sizeof(s->err), "%s",
			 errs.count ? errs.list[0].text : "the match tables did not build");
		goto out;
	}
	for (size_t v = 0; v < s->cfg->n_vpcs; v++)
		if (!add_vpc(s, b, ct, v))
			goto out;
	t = dp_tables_build(b, s->err, sizeof(s->err));
	b = NULL; /* consumed */
out:
	dp_tables_builder_free(b);
	if (t) {
		s->ct =
		    ct; /* the tables moved to dp; the auto-defined rules stay for local answers */
		s->local = local_new(s->cfg, ct, s->err, sizeof(s->err));
		if (!s->local) {
			dp_tables_free(t);
			t = NULL;
		}
	} else {
		config_tables_free(ct);
	}
	config_errors_free(&errs);
	return t;
}

/* ---- the plane ---- */

/* Takes tables: published to the plane, or freed. */
static bool start_plane(struct server *s, struct dp_tables *tables)
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

/* ---- the control core's loop ---- */

/* The most one datagram to a client on m's port carries (its interface's MTU; 1500 unless set),
 * less IPv4 and UDP headers: local answers past it go out TC=1. */
static size_t client_link(const struct server *s, const struct rte_mbuf *m)
{
	uint32_t mtu = 1500;
	for (size_t i = 0; i < s->cfg->n_interfaces; i++)
		if (s->port_of[i] == m->port && s->cfg->interfaces[i].mtu)
			mtu = s->cfg->interfaces[i].mtu;
	return mtu - 28;
}

/* A private hosted zone's or an auto-defined name's answer, in place of the query; false when
 * ctl/local cannot make one (counted by reason), for the caller to answer SERVFAIL. */
static bool answer_locally(struct server *s, struct rte_mbuf *m, const struct dp_slow_meta *meta)
{
	uint8_t out[LOCAL_ANSWER_MAX];
	size_t qlen, len;
	const uint8_t *query = dp_query_message(m, &qlen);
	enum local_status st =
	    query ? local_answer(s->local, meta->vpc, (enum match_kind)meta->kind, meta->match_id,
				 query, qlen, out, sizeof(out),
				 (uint16_t)s->cfg->tunables.edns_udp_size, client_link(s, m), &len)
		  : LOCAL_BAD_QUERY;
	if (st == LOCAL_OK && !dp_answer_message(m, out, len))
		st = LOCAL_NO_ROOM;
	if (st != LOCAL_OK) {
		s->local_failed[st]++;
		return false;
	}
	s->local_answered++;
	io_ctl_send(m->port, m); /* a failure is counted by io (tx_full) */
	return true;
}

static unsigned answer_slow(struct server *s, unsigned lcore)
{
	struct rte_mbuf *burst[SLOW_BURST];
	unsigned n = rte_ring_sc_dequeue_burst(dp_slow_ring(s->plane, lcore), (void **)burst,
					       SLOW_BURST, NULL);
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m = burst[i];
		const struct dp_slow_meta *meta = dp_slow_meta(m);
		bool local = meta->reason == DP_SLOW_MATCH &&
			     (meta->kind == MATCH_ZONE || meta->kind == MATCH_AUTO);
		if (local && answer_locally(s, m, meta))
			continue;
		if (meta->reason == DP_SLOW_TCP_FALLBACK)
			s->tcp_fallbacks++;
		else if (meta->kind < MATCH_KIND_COUNT)
			s->slow_by_kind[meta->kind]++;
		if (!dp_answer_query(m, WIRE_RCODE_SERVFAIL,
				     (uint16_t)s->cfg->tunables.edns_udp_size)) {
			s->slow_unanswerable++;
			rte_pktmbuf_free(m);
			continue;
		}
		io_ctl_send(m->port, m); /* a failure is counted by io (tx_full) */
	}
	return n;
}

static void print_counters(const struct server *s, FILE *out)
{
	dp_counters_print(s->plane, out);
	fprintf(out, "control core: local answers %" PRIu64 "; not made, answered SERVFAIL:",
		s->local_answered);
	for (int st = 1; st < LOCAL__STATUS_COUNT; st++)
		fprintf(out, " %s %" PRIu64, local_status_name((enum local_status)st),
			s->local_failed[st]);
	fprintf(out, "\n");
	fprintf(out, "control core: slow path not built yet, answered SERVFAIL:");
	for (int k = 0; k < MATCH_KIND_COUNT; k++)
		fprintf(out, " %s %" PRIu64, match_kind_name((enum match_kind)k),
			s->slow_by_kind[k]);
	fprintf(out, "; tcp_fallback %" PRIu64 "; unanswerable %" PRIu64 "\n", s->tcp_fallbacks,
		s->slow_unanswerable);
	fprintf(out, "control core: exception path:");
	for (int c = 0; c < IO_EXC__COUNT; c++)
		if (io_exc_count((enum io_exc_count)c))
			fprintf(out, " %s %" PRIu64, io_exc_count_name((enum io_exc_count)c),
				io_exc_count((enum io_exc_count)c));
	fprintf(out, "\ncontrol core: neighbours:");
	for (int c = 0; c < IO_NEIGH_C__COUNT; c++)
		fprintf(out, " %s %" PRIu64, io_neigh_count_name((enum io_neigh_count)c),
			io_neigh_count(s->neigh, (enum io_neigh_count)c));
	fputc('\n', out);
	fflush(out);
}

static void control_loop(struct server *s, unsigned run_seconds)
{
	uint64_t started = now_ms();
	while (!stop_requested) {
		unsigned work = io_poll_exceptions(now_ms());
		for (unsigned l = 0; l < s->cfg->tunables.data_lcores; l++)
			work += answer_slow(s, l);
		if (print_requested) {
			print_requested = 0;
			print_counters(s, stdout);
		}
		if (run_seconds && now_ms() - started >= run_seconds * 1000ull)
			break;
		if (!work) {
			struct timespec nap = {0, IDLE_SLEEP_NS};
			nanosleep(&nap, NULL);
		}
	}
}

static void shut_down(struct server *s)
{
	if (s->plane) {
		dp_stop(s->plane);
		print_counters(s, stdout);
		dp_plane_free(s->plane);
	}
	io_exceptions_free();
	io_neigh_free(s->neigh);
	io_ports_close();
	io_eal_cleanup();
	kernel_close(s->kernel);
	free(s->vpc_link);
	free(s->endpoint_link);
	free(s->tap_device);
	free(s->port_of);
	free(s->ports);
	free(s->nexthops);
	free(s->dp_endpoint_of);
	free(s->forward_ids);
	local_free(s->local);
	config_tables_free(s->ct);
}

int serve_run(const struct config *cfg, const struct serve_options *opts)
{
	struct server s = {.cfg = cfg};
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGUSR1, on_usr1);
	bool eal = start_eal(&s, opts);
	struct dp_tables *tables = NULL;
	bool ok = eal && start_ports(&s) && (tables = build_tables(&s)) != NULL &&
		  define_nexthops(&s) && own_addresses(&s) && start_kernel(&s);
	if (ok) {
		ok = start_plane(&s, tables);
		tables = NULL; /* start_plane took them */
	}
	if (!ok) {
		fprintf(stderr, "vpcdnsd: cannot start the data plane: %s\n",
			s.err[0] ? s.err : "out of memory");
		dp_tables_free(tables);
		if (eal)
			shut_down(&s);
		return 1;
	}
	printf("vpcdnsd: serving %zu VPCs with %u data lcores; SIGUSR1 prints counters, "
	       "SIGINT or SIGTERM stops\n",
	       cfg->n_vpcs, cfg->tunables.data_lcores);
	fflush(stdout);
	control_loop(&s, opts->run_seconds);
	shut_down(&s);
	return 0;
}
