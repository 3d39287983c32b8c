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

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>

#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mempool.h>

#include "bpf/steer_ctl.h"
#include "ctl/kernel/kernel.h"
#include "ctl/local/local.h"
#include "ctl/recurse/recurse.h"
#include "ctl/slow/slow.h"
#include "ctl/tcpserve/tcpserve.h"
#include "ctl/upstream/upstream.h"
#include "ctl/serve/serve.h"
#include "dp/dp.h"
#include "dp/io/io.h"

#define SLOW_BURST     32
#define EXCEPTION_RING 1024
/* Endpoint addresses' UDP source ports: the lcores' flows take 1024..60999, split among them; the
 * kernel's sockets on those addresses (behind the TAP) keep 61000..65535, which the lcores pass on.
 */
#define SOURCE_PORT_LO 1024
#define SOURCE_PORT_HI 60999
#define KERNEL_PORT_LO 61000
#define KERNEL_PORT_HI 65535
/* What the control core's own queries advertise to targets in XDP mode: answers that fit one
 * frame. There a target's answer in fragments goes to the lcores, which reassemble it but have no
 * TAP to hand it to the kernel by; larger answers come with TC=1 and go over TCP. In full-NIC mode
 * the TAP takes it (cut into fragments again), so the endpoint's own size is advertised. */
#define KERNEL_UDP_SIZE_XDP 1232
#define IDLE_SLEEP_NS	    200000 /* the control core naps when a poll found nothing */
/* XDP mode: a neighbour heard again with the same MAC is not told the kernel again sooner. */
#define HEARD_REFRESH_MS 5000
#define HEARD_SLOTS	 256
#define LINK_TIMEOUT_MS	 3000

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
	char (*xdp_device)[512]; /* XDP mode: the device with its xdp_prog= (else "") */
	struct steer **steer;	 /* XDP mode: the maps of each interface's program (else NULL) */
	/* what the kernel was last told about a neighbour heard (XDP mode), by a hash of it */
	struct heard_slot {
		uint64_t told_ms;
		uint16_t port_id, vlan_id;
		uint8_t family, addr[16], mac[6];
	} * heard;
	uint64_t heard_told, heard_failed;
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
	uint64_t slow_by_kind[MATCH_KIND_COUNT]; /* queries from the slow rings, by kind */
	uint64_t tcp_fallbacks;			 /* of which truncated by a target */
	uint64_t slow_unanswerable;		 /* could not be turned into an answer: freed */
	uint64_t slow_refused;			 /* the slow path could not take them: SERVFAIL */
	struct config_tables *ct;	   /* the match tables' side data (auto-defined rules) */
	struct local *local;		   /* zones and auto-defined names */
	struct dp_target_spec *dp_targets; /* each dp target's address and port */
	uint32_t *rule_of_dp;		   /* the config rule of each dp rule */
	struct event_base *base;	   /* the control core's sockets and timers */
	struct upstream *upstream;
	struct recurse *recurse;
	struct tcpserve *tcp;
	struct slow *slow;
	struct cache *slow_cache; /* the slow path's answers, as one lcore's cache; NULL: none */
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

/* The device string DPDK gets for config interface i. */
static const char *device_of(const struct server *s, size_t i)
{
	return s->xdp_device[i][0] ? s->xdp_device[i] : s->cfg->interfaces[i].device;
}

/* XDP mode: the af_xdp driver loads our program (bpf/steer.bpf.o) instead of libxdp's default,
 * which would take every frame of a NIC the host shares. */
static bool xdp_device(struct server *s, size_t i)
{
	const char *obj = steer_object_path();
	if (!obj) {
		snprintf(s->err, sizeof(s->err),
			 "interface %s: mode xdp: no steer.bpf.o (set VPCDNS_STEER_OBJ, or install "
			 "it)",
			 s->cfg->interfaces[i].name);
		return false;
	}
	if (snprintf(s->xdp_device[i], sizeof(s->xdp_device[i]), "%s,xdp_prog=%s",
		     s->cfg->interfaces[i].device, obj) >= (int)sizeof(s->xdp_device[i])) {
		snprintf(s->err, sizeof(s->err), "interface %s: device string too long",
			 s->cfg->interfaces[i].name);
		return false;
	}
	return true;
}

static bool start_eal(struct server *s, const struct serve_options *o)
{
	const struct config *cfg = s->cfg;
	const char *devices[IO_MAX_DEVICES];
	size_t n = 0;
	s->tap_device = calloc(cfg->n_interfaces, sizeof(*s->tap_device));
	s->xdp_device = calloc(cfg->n_interfaces, sizeof(*s->xdp_device));
	if (!s->tap_device || !s->xdp_device)
		return false;
	for (size_t i = 0; i < cfg->n_interfaces; i++) {
		const struct config_interface *itf = &cfg->interfaces[i];
		if (n + 2 > IO_MAX_DEVICES) {
			snprintf(s->err, sizeof(s->err),
				 "%zu interfaces and their TAPs: at most %d devices",
				 cfg->n_interfaces, IO_MAX_DEVICES);
			return false;
		}
		if (itf->mode == CONFIG_MODE_XDP && !xdp_device(s, i))
			return false;
		devices[n++] = device_of(s, i);
		if (!itf->kernel_interface || itf->mode == CONFIG_MODE_XDP)
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

/* A kernel without 802.1Q sub-interfaces gets a TAP per tagged VLAN instead, plugged in now; io
 * passes it the VLAN's frames untagged and tags what comes back. */
static int make_vlan_tap(void *ctx, size_t itf, uint16_t vlan, const char *name, char *err,
			 size_t errlen)
{
	struct server *s = ctx;
	char device[96], port_name[64];
	snprintf(port_name, sizeof(port_name), "net_tap_vpcdns%zu_%u", itf, vlan);
	snprintf(device, sizeof(device), "%s,iface=%s", port_name, name);
	int rc = rte_dev_probe(device);
	if (rc != 0) {
		snprintf(err, errlen, "TAP %s for VLAN %u: %s", name, vlan, rte_strerror(-rc));
		return -1;
	}
	struct io_port_params pp = {
	    .device = device, .n_data_queues = 0, .pool = s->pool, .rx_desc = 128, .tx_desc = 128};
	struct io_port tap;
	if (io_port_setup(&pp, &tap, err, errlen) != 0)
		return -1;
	if (io_set_vlan_tap(s->port_of[itf], vlan, tap.port_id) != 0) {
		snprintf(err, errlen, "TAP %s: more than %d VLAN TAPs", name, IO_MAX_VLAN_TAPS);
		return -1;
	}
	printf("vpcdnsd: interface %s: VLAN %u: kernel interface %s (a TAP: this kernel has no "
	       "802.1Q sub-interfaces)\n",
	       s->cfg->interfaces[itf].name, vlan, name);
	return 0;
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
	if (s->kernel)
		kernel_set_vlan_tap(s->kernel, make_vlan_tap, s);
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
		    .device = device_of(s, i),
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
		if (cfg->interfaces[i].mode == CONFIG_MODE_XDP)
			printf("vpcdnsd: interface %s: mode xdp: DNS flows to DPDK, the rest to "
			       "kernel "
			       "interface %s\n",
			       cfg->interfaces[i].name, cfg->interfaces[i].kernel_interface);
		else if (cfg->interfaces[i].kernel_interface && !start_tap(s, i))
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

/* ---- XDP mode ---- */

static bool steer_addresses(struct server *s, const struct config_addr *addrs, size_t n, size_t itf,
			    uint16_t vlan, uint32_t kind)
{
	for (size_t a = 0; a < n; a++)
		if (steer_own(s->steer[itf], vlan, addrs[a].family, addrs[a].bytes,
			      kind | STEER_KIND_NEIGH, s->err, sizeof(s->err)) != 0)
			return false;
	return true;
}

/* Fills the maps of the program DPDK attached: the resolver addresses take port 53, outbound
 * endpoint addresses the flows' ports, inbound ones only ARP and ND (their TCP is the kernel's,
 * and the lcores serve no UDP on them). */
static bool start_steering(struct server *s)
{
	const struct config *cfg = s->cfg;
	s->steer = calloc(cfg->n_interfaces, sizeof(*s->steer));
	if (!s->steer)
		return false;
	for (size_t i = 0; i < cfg->n_interfaces; i++) {
		if (cfg->interfaces[i].mode != CONFIG_MODE_XDP)
			continue;
		s->steer[i] = steer_open_interface(cfg->interfaces[i].kernel_interface, s->err,
						   sizeof(s->err));
		if (!s->steer[i] ||
		    steer_set_flow_ports(s->steer[i], SOURCE_PORT_LO, SOURCE_PORT_HI, s->err,
					 sizeof(s->err)) != 0)
			return false;
	}
	for (size_t v = 0; v < cfg->n_vpcs; v++) {
		const struct config_vpc *vpc = &cfg->vpcs[v];
		if (s->steer[vpc->interface.index] &&
		    !steer_addresses(s, vpc->resolver_addresses, vpc->n_resolver_addresses,
				     vpc->interface.index, vpc->vlan, STEER_KIND_RESOLVER))
			return false;
	}
	for (size_t e = 0; e < cfg->n_endpoints; e++) {
		const struct config_endpoint *ep = &cfg->endpoints[e];
		uint32_t kind = ep->direction == CONFIG_OUTBOUND ? STEER_KIND_ENDPOINT : 0;
		if (s->steer[ep->interface.index] &&
		    !steer_addresses(s, ep->addresses, ep->n_addresses, ep->interface.index,
				     ep->vlan, kind))
			return false;
	}
	return true;
}

/* io heard addr at mac on (port, vlan): the kernel behind an XDP-mode NIC never sees ARP or ND
 * for our addresses, so it gets the MAC from here before it sends TCP there. Told again only
 * when the MAC changed or HEARD_REFRESH_MS passed. */
static void on_heard(void *ctx, uint16_t port_id, uint16_t vlan_id, uint8_t family,
		     const uint8_t *addr, const uint8_t *mac)
{
	struct server *s = ctx;
	size_t itf = s->cfg->n_interfaces;
	for (size_t i = 0; i < s->cfg->n_interfaces; i++)
		if (s->port_of[i] == port_id && s->cfg->interfaces[i].mode == CONFIG_MODE_XDP)
			itf = i;
	if (itf == s->cfg->n_interfaces)
		return;
	struct heard_slot key = {.port_id = port_id, .vlan_id = vlan_id, .family = family};
	memcpy(key.addr, addr, family == 4 ? 4 : 16);
	uint32_t h = 2166136261u; /* FNV-1a over the address and where it was heard */
	for (size_t b = 0; b < 16; b++)
		h = (h ^ key.addr[b]) * 16777619u;
	h = (h ^ vlan_id ^ ((uint32_t)port_id << 16)) * 16777619u;
	struct heard_slot *slot = &s->heard[h % HEARD_SLOTS];
	uint64_t now = now_ms();
	if (slot->told_ms && now - slot->told_ms < HEARD_REFRESH_MS && slot->port_id == port_id &&
	    slot->vlan_id == vlan_id && slot->family == family &&
	    memcmp(slot->addr, key.addr, 16) == 0 && memcmp(slot->mac, mac, 6) == 0)
		return;
	char link[KERNEL_IFNAME_MAX], err[256];
	const char *nic = s->cfg->interfaces[itf].kernel_interface;
	if (vlan_id)
		snprintf(link, sizeof(link), "%s.%u", nic, vlan_id);
	else
		snprintf(link, sizeof(link), "%s", nic);
	if (kernel_set_neighbour(s->kernel, link, family, addr, mac, err, sizeof(err)) != 0) {
		s->heard_failed++;
		return;
	}
	s->heard_told++;
	key.told_ms = now;
	memcpy(key.mac, mac, 6);
	*slot = key;
}

static bool start_neighbour_sync(struct server *s)
{
	for (size_t i = 0; i < s->cfg->n_interfaces; i++)
		if (s->cfg->interfaces[i].mode == CONFIG_MODE_XDP) {
			s->heard = calloc(HEARD_SLOTS, sizeof(*s->heard));
			if (!s->heard)
				return false;
			io_set_neigh_heard(on_heard, s);
			return true;
		}
	return true;
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

static struct dp_tables *build_tables(struct server *s)
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

static unsigned drain_slow_ring(struct server *s, unsigned lcore)
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
static bool start_slow_path(struct server *s)
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

static void print_counters(const struct server *s, FILE *out)
{
	dp_counters_print(s->plane, out);
	fprintf(out, "control core: mbufs: %u free of %u\n", rte_mempool_avail_count(s->pool),
		s->pool->size);
	for (size_t i = 0; i < s->cfg->n_interfaces; i++) {
		struct rte_eth_stats st;
		if (rte_eth_stats_get(s->port_of[i], &st) == 0)
			fprintf(out,
				"interface %s: ipackets %" PRIu64 " opackets %" PRIu64
				" imissed %" PRIu64 " ierrors %" PRIu64 " oerrors %" PRIu64
				" rx_nombuf %" PRIu64 "\n",
				s->cfg->interfaces[i].name, st.ipackets, st.opackets, st.imissed,
				st.ierrors, st.oerrors, st.rx_nombuf);
	}
	fprintf(out, "control core: slow rings:");
	for (int k = 0; k < MATCH_KIND_COUNT; k++)
		fprintf(out, " %s %" PRIu64, match_kind_name((enum match_kind)k),
			s->slow_by_kind[k]);
	fprintf(out, " tcp_fallback %" PRIu64 " refused %" PRIu64 " unanswerable %" PRIu64 "\n",
		s->tcp_fallbacks, s->slow_refused, s->slow_unanswerable);
	if (s->slow) {
		fprintf(out, "control core: slow path:");
		for (int c = 0; c < SLOW_C__COUNT; c++)
			fprintf(out, " %s %" PRIu64, slow_counter_name((enum slow_counter)c),
				slow_counter(s->slow, (enum slow_counter)c));
		fprintf(out, "\ncontrol core: upstream:");
		for (int c = 0; c < UPSTREAM_C__COUNT; c++)
			fprintf(out, " %s %" PRIu64,
				upstream_counter_name((enum upstream_counter)c),
				upstream_counter(s->upstream, (enum upstream_counter)c));
		fprintf(out, "\ncontrol core: tcp clients:");
		for (int c = 0; c < TCPSERVE_C__COUNT; c++)
			fprintf(out, " %s %" PRIu64,
				tcpserve_counter_name((enum tcpserve_counter)c),
				tcpserve_counter(s->tcp, (enum tcpserve_counter)c));
		fputc('\n', out);
	}
	if (s->recurse) {
		fprintf(out, "control core: recursion:");
		for (int c = 0; c < RECURSE__COUNTERS; c++)
			fprintf(out, " %s %" PRIu64, recurse_counter_name((enum recurse_counter)c),
				recurse_counter(s->recurse, (enum recurse_counter)c));
		fputc('\n', out);
	}
	fprintf(out, "control core: exception path:");
	for (int c = 0; c < IO_EXC__COUNT; c++)
		if (io_exc_count((enum io_exc_count)c))
			fprintf(out, " %s %" PRIu64, io_exc_count_name((enum io_exc_count)c),
				io_exc_count((enum io_exc_count)c));
	for (size_t i = 0; s->steer && i < s->cfg->n_interfaces; i++) {
		if (!s->steer[i])
			continue;
		fprintf(out, "\nxdp %s:", s->cfg->interfaces[i].name);
		for (int c = 0; c < STEER__COUNT; c++)
			fprintf(out, " %s %" PRIu64, steer_count_name((enum steer_count)c),
				steer_count(s->steer[i], (enum steer_count)c));
		fprintf(out,
			" kernel_neighbours_told %" PRIu64 " kernel_neighbours_failed %" PRIu64,
			s->heard_told, s->heard_failed);
	}
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
			work += drain_slow_ring(s, l);
		event_base_loop(s->base, EVLOOP_NONBLOCK);
		if (print_requested) {
			print_requested = 0;
			print_counters(s, stdout);
		}
		if (run_seconds && now_ms() - started >= run_seconds * 1000ull)
			break;
		if (!work) { /* nap until a socket or timer is due, or the nap is over */
			struct timeval nap = {0, IDLE_SLEEP_NS / 1000};
			event_base_loopexit(s->base, &nap);
			event_base_loop(s->base, EVLOOP_ONCE);
		}
	}
}

static void shut_down(struct server *s)
{
	if (s->plane) {
		dp_stop(s->plane);
		print_counters(s, stdout);
	}
	slow_free(s->slow);
	cache_free(s->slow_cache);
	tcpserve_free(s->tcp);
	if (s->recurse)
		recurse_destroy(s->recurse);
	upstream_free(s->upstream);
	if (s->base)
		event_base_free(s->base);
	dp_plane_free(s->plane); /* after the slow path: its jobs hold mbufs */
	io_exceptions_free();
	io_neigh_free(s->neigh);
	for (size_t i = 0; s->steer && i < s->cfg->n_interfaces; i++)
		steer_close(s->steer[i]);
	io_ports_close(); /* takes our XDP program off the NICs in XDP mode */
	io_eal_cleanup();
	if (s->kernel) {
		size_t left = kernel_undo(s->kernel);
		if (left)
			fprintf(stderr,
				"vpcdnsd: warning: %zu addresses or routes could not be taken off "
				"the shared interfaces\n",
				left);
	}
	kernel_close(s->kernel);
	free(s->vpc_link);
	free(s->endpoint_link);
	free(s->tap_device);
	free(s->xdp_device);
	free(s->steer);
	free(s->heard);
	free(s->port_of);
	free(s->ports);
	free(s->nexthops);
	free(s->dp_endpoint_of);
	free(s->forward_ids);
	free(s->rule_of_dp);
	free(s->dp_targets);
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
		  define_nexthops(&s) && own_addresses(&s) && start_kernel(&s) &&
		  start_steering(&s) && start_neighbour_sync(&s);
	if (ok) {
		ok = start_plane(&s, tables);
		tables = NULL; /* start_plane took them */
		ok = ok && start_slow_path(&s);
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
