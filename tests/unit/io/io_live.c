/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tests/unit/io: a live check against a real kernel, run by hand in a network namespace (it needs
 * root and a veth, so meson does not run it). It starts io on one DPDK device, plays the lcore
 * (every frame goes to the exception ring, as the lcore does for what it does not serve), owns one
 * IPv4 and one IPv6 address, resolves one IPv4 and one IPv6 next hop, and after the given seconds
 * prints what it learned and io's counters.
 *
 *   io_live DEVICE OWN4 OWN6 PEER4 PEER6 SECONDS [TAP_DEVICE]
 *
 * With TAP_DEVICE (net_tap0,iface=NAME) every frame io does not consume goes to that kernel
 * interface and what the kernel sends there leaves through DEVICE: the full-NIC exception path.
 * It runs with --no-huge unless IO_LIVE_HUGE is set (then hugepages when free).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>

#include "dp/io/io.h"

static uint64_t now_ms(void)
{
	return rte_get_timer_cycles() * 1000 / rte_get_timer_hz();
}

static int parse_addrs(char **argv, struct io_owned_addr *owned, struct io_nexthop *nh)
{
	for (int i = 0; i < 2; i++) {
		int af = i == 0 ? AF_INET : AF_INET6;
		owned[i].family = nh[i].family = i == 0 ? 4 : 6;
		if (inet_pton(af, argv[2 + i], owned[i].addr) != 1 ||
		    inet_pton(af, argv[4 + i], nh[i].addr) != 1)
			return -1;
		memcpy(nh[i].src_addr, owned[i].addr, 16);
	}
	return 0;
}

static void play_lcore(uint16_t port)
{
	struct rte_mbuf *burst[32];
	uint16_t n = rte_eth_rx_burst(port, 0, burst, 32);
	for (uint16_t i = 0; i < n; i++)
		if (rte_ring_enqueue(io_exception_ring(0), burst[i]) != 0)
			rte_pktmbuf_free(burst[i]);
}

static void report(struct io_neigh_table *t)
{
	for (uint32_t i = 0; i < 2; i++) {
		struct rte_ether_addr mac;
		char text[RTE_ETHER_ADDR_FMT_SIZE] = "-";
		if (io_neigh_lookup(t, i, &mac))
			rte_ether_format_addr(text, sizeof(text), &mac);
		printf("nexthop %u: state %d mac %s\n", i, io_neigh_state_of(t, i), text);
	}
	for (int c = 0; c < IO_EXC__COUNT; c++)
		printf("%s %lu\n", io_exc_count_name(c), (unsigned long)io_exc_count(c));
	for (int c = 0; c < IO_NEIGH_C__COUNT; c++)
		printf("neigh_%s %lu\n", io_neigh_count_name(c),
		       (unsigned long)io_neigh_count(t, c));
}

static int set_up_tap(const char *device, struct rte_mempool *pool, uint16_t port_id)
{
	struct io_port tap;
	char err[256];
	struct io_port_params p = {.device = device, .n_data_queues = 0, .pool = pool};

	if (io_port_setup(&p, &tap, err, sizeof(err)) != 0 ||
	    io_set_tap(port_id, tap.port_id) != 0) {
		fprintf(stderr, "io_live: TAP %s: %s\n", device, err);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct io_owned_addr owned[2] = {{0}};
	struct io_nexthop nh[2] = {{0}};
	char err[256];

	if ((argc != 7 && argc != 8) || parse_addrs(argv, owned, nh) != 0) {
		fprintf(stderr,
			"usage: io_live DEVICE OWN4 OWN6 PEER4 PEER6 SECONDS [TAP_DEVICE]\n");
		return 2;
	}
	const char *devs[] = {argv[1], argc == 8 ? argv[7] : NULL};
	struct io_eal_params ep = {.devices = devs,
				   .n_devices = argc == 8 ? 2 : 1,
				   .n_data_lcores = 1,
				   .memory_mb = 256,
				   .no_huge = getenv("IO_LIVE_HUGE") == NULL};
	struct io_pool_sizing s = {.n_ports = 1,
				   .n_data_lcores = 1,
				   .rx_desc = 512,
				   .tx_desc = 512,
				   .exception_ring = 256,
				   .burst = 32};
	struct io_port port;
	struct rte_mempool *pool;
	if (io_eal_init(&ep, err, sizeof(err)) != 0 ||
	    !(pool = io_pool_get(0, io_pool_mbufs(&s), err, sizeof(err))) ||
	    io_port_setup(&(struct io_port_params){.device = argv[1],
						   .n_data_queues = 1,
						   .rx_desc = 512,
						   .tx_desc = 512,
						   .link_timeout_ms = 1000,
						   .pool = pool},
			  &port, err, sizeof(err)) != 0 ||
	    io_exceptions_init(1, 256, err, sizeof(err)) != 0) {
		fprintf(stderr, "io_live: %s\n", err);
		io_eal_cleanup(); /* also after a failed init: the runtime directory exists */
		return 1;
	}
	char mac[RTE_ETHER_ADDR_FMT_SIZE];
	rte_ether_format_addr(mac, sizeof(mac), &port.mac);
	printf("port %u mac %s link %s rss %d tx_cksum ipv4 %d udp %d\n", port.port_id, mac,
	       port.link_up ? "up" : "down", port.rss, port.tx_cksum_ipv4, port.tx_cksum_udp);
	fflush(stdout);

	if (argc == 8 && set_up_tap(argv[7], pool, port.port_id) != 0) {
		io_ports_close();
		io_eal_cleanup();
		return 1;
	}
	for (int i = 0; i < 2; i++)
		owned[i].port_id = nh[i].port_id = port.port_id;
	io_set_owned(owned, 2);
	struct io_neigh_table *t =
	    io_neigh_create(&(struct io_neigh_params){.capacity = 2,
						      .reachable_ms = 30000,
						      .retrans_ms = 1000,
						      .max_probes = 3,
						      .failed_hold_ms = 5000});
	io_set_neigh_table(t);
	for (uint32_t i = 0; i < 2; i++)
		io_neigh_define(t, i, &nh[i], now_ms());

	uint64_t end = now_ms() + 1000 * strtoull(argv[6], NULL, 10);
	while (now_ms() < end) {
		play_lcore(port.port_id);
		io_poll_exceptions(now_ms());
	}
	report(t);
	io_exceptions_free();
	io_neigh_free(t);
	io_ports_close();
	io_eal_cleanup();
	return 0;
}
