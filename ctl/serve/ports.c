/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/serve bring-up: the EAL, ports and TAPs, the kernel behind them, next hops, owned
 * addresses and XDP mode. See internal.h.
 */
#include "ctl/serve/internal.h"

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

bool start_eal(struct server *s, const struct serve_options *o)
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
bool start_kernel(struct server *s)
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

bool start_ports(struct server *s)
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
int64_t target_nexthop(struct server *s, const struct config_endpoint *ep,
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

bool define_nexthops(struct server *s)
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
bool own_addresses(struct server *s)
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
bool start_steering(struct server *s)
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

bool start_neighbour_sync(struct server *s)
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
