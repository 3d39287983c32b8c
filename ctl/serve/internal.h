/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/serve internals shared by its files: what the control core holds while the plane runs
 * (struct server), and the steps of bringing it up: ports.c (EAL, ports, TAPs, the kernel's side,
 * next hops, owned addresses, XDP mode), tables.c (dp tables and the plane), slowpath.c (the event
 * loop, TCP clients, the slow rings into ctl/slow). serve.c runs the loop and takes it all down.
 */
#ifndef VPCDNS_CTL_SERVE_INTERNAL_H
#define VPCDNS_CTL_SERVE_INTERNAL_H

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

static inline uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline struct dp_addr dp_addr_of(const struct config_addr *a)
{
	struct dp_addr d = {.family = a->family};
	memcpy(d.addr, a->bytes, a->family == 4 ? 4 : 16);
	return d;
}

/* ports.c */
bool start_eal(struct server *s, const struct serve_options *o);
bool start_ports(struct server *s);
bool start_kernel(struct server *s);
int64_t target_nexthop(struct server *s, const struct config_endpoint *ep,
		       const struct config_target *t);
bool define_nexthops(struct server *s);
bool own_addresses(struct server *s);
bool start_steering(struct server *s);
bool start_neighbour_sync(struct server *s);

/* tables.c */
struct dp_tables *build_tables(struct server *s);
bool start_plane(struct server *s, struct dp_tables *tables);

/* slowpath.c */
bool start_slow_path(struct server *s);
unsigned drain_slow_ring(struct server *s, unsigned lcore);

#endif
