/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tests/unit/io: the EAL started in process (--no-huge, through io_eal_init) with ring-backed
 * ports (rte_eth_from_rings) set up through io_port_setup. Frames go in through the port's RX ring
 * as a driver would deliver them, an lcore's part (rx burst, enqueue on its exception ring) is
 * played by the test, io_poll_exceptions runs, and what comes out of the control TX queue's ring
 * is checked byte by byte against the Linux kernel's own answers (tests/unit/wire/nd_capture.h).
 * Criterion runs each test in a process of its own, so each starts its own EAL.
 */
#include <criterion/criterion.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_ip.h>

#include "dp/io/io.h"
#include "dp/wire/wire.h"
#include "../wire/nd_capture.h"

#define NOW 1000

static struct rte_ether_addr our_mac; /* the ring driver's, which it will not change */
static const struct rte_ether_addr peer_mac = {{2, 0, 0, 0, 0, 0x0a}};
static const uint8_t our4[4] = {10, 9, 0, 2}, peer4[4] = {10, 9, 0, 1};
static const uint8_t our6[16] = {0xfd, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};
static const uint8_t peer6[16] = {0xfd, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

static struct rte_ring *rx_ring, *tx_rings[2], *tap_rx, *tap_tx;
static struct io_port port, tap;
static struct io_neigh_table *neigh;
static char err[256];

static struct rte_ring *ring(const char *name)
{
	struct rte_ring *r = rte_ring_create(name, 256, 0, RING_F_SP_ENQ | RING_F_SC_DEQ);
	cr_assert_not_null(r, "%s", name);
	return r;
}

/* A ring-backed port set up through io; its TX queues land in tx[]. */
static void ring_port(const char *name, struct rte_ring *rx, struct rte_ring **tx, unsigned ntx,
		      uint16_t data_queues, struct rte_mempool *pool, struct io_port *out)
{
	int id = rte_eth_from_rings(name, &rx, 1, tx, ntx, 0);
	cr_assert_geq(id, 0);
	char port_name[IO_PORT_NAME_LEN];
	cr_assert_eq(rte_eth_dev_get_name_by_port((uint16_t)id, port_name), 0);
	struct io_port_params pp = {.device = port_name,
				    .n_data_queues = data_queues,
				    .rx_desc = 128,
				    .tx_desc = 128,
				    .link_timeout_ms = 100,
				    .pool = pool};
	cr_assert_eq(io_port_setup(&pp, out, err, sizeof(err)), 0, "%s", err);
}

static void setup(void)
{
	struct io_eal_params ep = {
	    .n_data_lcores = 1, .memory_mb = 256, .no_huge = true, .log_level = "error"};
	cr_assert_eq(io_eal_init(&ep, err, sizeof(err)), 0, "%s", err);
	struct io_pool_sizing s = {.n_ports = 2,
				   .n_data_lcores = 1,
				   .rx_desc = 128,
				   .tx_desc = 128,
				   .exception_ring = 256,
				   .burst = 32};
	struct rte_mempool *pool = io_pool_get(0, io_pool_mbufs(&s), err, sizeof(err));
	cr_assert_not_null(pool, "%s", err);

	rx_ring = ring("t_rx");
	tx_rings[0] = ring("t_tx0");
	tx_rings[1] = ring("t_tx1");
	ring_port("io_t0", rx_ring, tx_rings, 2, 1, pool, &port);
	tap_rx = ring("t_tap_rx");
	tap_tx = ring("t_tap_tx");
	ring_port("io_tap0", tap_rx, &tap_tx, 1, 0, pool, &tap);
	our_mac = port.mac;

	cr_assert_eq(io_exceptions_init(1, 256, err, sizeof(err)), 0, "%s", err);
	struct io_owned_addr owned[3] = {
	    {.port_id = port.port_id, .family = 4},
	    {.port_id = port.port_id, .vlan_id = 7, .family = 4},
	    {.port_id = port.port_id, .family = 6},
	};
	memcpy(owned[0].addr, our4, 4);
	memcpy(owned[1].addr, our4, 4);
	memcpy(owned[2].addr, our6, 16);
	cr_assert_eq(io_set_owned(owned, 3), 0);
	struct io_neigh_params np = {.capacity = 8,
				     .reachable_ms = 30000,
				     .retrans_ms = 1000,
				     .max_probes = 3,
				     .failed_hold_ms = 5000};
	neigh = io_neigh_create(&np);
	io_set_neigh_table(neigh);
}

static void teardown(void)
{
	io_exceptions_free();
	io_neigh_free(neigh);
	io_ports_close();
	io_eal_cleanup();
}

TestSuite(io_exception, .init = setup, .fini = teardown, .timeout = 60);

/* Delivers frame to the port's RX ring, and plays the lcore: rx burst, exception enqueue. */
static void arrive(const uint8_t *frame, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(port.pool);
	cr_assert_not_null(m);
	memcpy(rte_pktmbuf_append(m, (uint16_t)len), frame, len);
	m->port = port.port_id; /* what a driver's RX sets; the ring driver leaves it to us */
	cr_assert_eq(rte_ring_enqueue(rx_ring, m), 0);

	struct rte_mbuf *got[4];
	cr_assert_eq(rte_eth_rx_burst(port.port_id, 0, got, 4), 1);
	cr_assert_eq(rte_ring_enqueue(io_exception_ring(0), got[0]), 0);
}

/* The next frame a TX queue sent, copied into out; its length. */
static size_t next_sent(struct rte_ring *r, uint8_t *out, size_t cap)
{
	struct rte_mbuf *m;
	cr_assert_eq(rte_ring_dequeue(r, (void **)&m), 0);
	size_t len = rte_pktmbuf_pkt_len(m);
	cr_assert_leq(len, cap);
	memcpy(out, rte_pktmbuf_mtod(m, uint8_t *), len);
	rte_pktmbuf_free(m);
	return len;
}

/* The one frame a TX queue sent, copied into out; its length. */
static size_t sent_on(struct rte_ring *r, uint8_t *out, size_t cap)
{
	cr_assert_eq(rte_ring_count(r), 1, "frames sent: %u", rte_ring_count(r));
	return next_sent(r, out, cap);
}

/* The kernel's ARP reply, from our MAC instead of 02:00:00:00:00:0b. */
static void expected_arp_reply(uint8_t *out)
{
	memcpy(out, captured_arp_reply, sizeof(captured_arp_reply));
	memcpy(out + 6, our_mac.addr_bytes, 6);
	memcpy(out + 22, our_mac.addr_bytes, 6);
}

/* The kernel's NA, from our MAC, its checksum recomputed by DPDK (not by the code under test). */
static void expected_na(uint8_t *out)
{
	memcpy(out, captured_nd_na, sizeof(captured_nd_na));
	memcpy(out + 6, our_mac.addr_bytes, 6);
	memcpy(out + 80, our_mac.addr_bytes, 6);
	out[56] = out[57] = 0;
	uint16_t ck = rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)(out + 14), out + 54);
	memcpy(out + 56, &ck, 2);
}

static void define_peer(uint32_t index, uint8_t family, uint16_t vlan)
{
	struct io_nexthop nh = {.port_id = port.port_id, .vlan_id = vlan, .family = family};
	memcpy(nh.addr, family == 4 ? peer4 : peer6, family == 4 ? 4 : 16);
	memcpy(nh.src_addr, family == 4 ? our4 : our6, family == 4 ? 4 : 16);
	cr_assert_eq(io_neigh_define(neigh, index, &nh, NOW), 0);
}

Test(io_exception, port_has_a_control_queue_after_the_data_queues)
{
	cr_assert_eq(port.n_data_queues, 1);
	cr_assert_eq(port.ctl_txq, 1);
	cr_assert(port.link_up);
	cr_assert_not(port.rss, "the ring driver has no RSS");
	cr_assert_eq(tap.ctl_txq, 0);
	cr_assert_not_null(io_exception_ring(0));
	cr_assert_null(io_exception_ring(1));
}

Test(io_exception, control_core_frames_leave_on_the_control_queue)
{
	static const uint8_t frame[60] = {2, 0, 0, 0, 0, 0x0a, 2, 0, 0, 0, 0, 0x0b, 0x08, 0x00};
	struct rte_mbuf *m = rte_pktmbuf_alloc(port.pool);
	cr_assert_not_null(m);
	memcpy(rte_pktmbuf_append(m, sizeof(frame)), frame, sizeof(frame));
	cr_assert(io_ctl_send(port.port_id, m));
	uint8_t out[64];
	cr_assert_eq(sent_on(tx_rings[1], out, sizeof(out)), sizeof(frame));
	cr_assert_arr_eq(out, frame, sizeof(frame));
	cr_assert_eq(rte_ring_count(tx_rings[0]), 0, "never on an lcore's queue");

	uint64_t unknown = io_exc_count(IO_EXC_UNKNOWN_PORT);
	m = rte_pktmbuf_alloc(port.pool);
	cr_assert_not(io_ctl_send(RTE_MAX_ETHPORTS - 1, m), "no such port: freed, not sent");
	cr_assert_eq(io_exc_count(IO_EXC_UNKNOWN_PORT), unknown + 1);
}

Test(io_exception, port_takes_solicited_node_multicast_for_owned_ipv6)
{
	/* The ring driver keeps no multicast list, so io falls back to all-multicast. */
	cr_assert_eq(rte_eth_allmulticast_get(port.port_id), 1);
	cr_assert_eq(rte_eth_allmulticast_get(tap.port_id), 0, "the TAP owns no address");
}

Test(io_exception, answers_arp_for_an_owned_address_like_the_kernel)
{
	uint8_t out[256];
	arrive(captured_arp_request, sizeof(captured_arp_request));
	cr_assert_eq(io_poll_exceptions(NOW), 1);
	cr_assert_eq(rte_ring_count(tx_rings[0]), 0, "nothing on the data queue");
	size_t len = sent_on(tx_rings[1], out, sizeof(out));
	uint8_t want[sizeof(captured_arp_reply)];
	expected_arp_reply(want);
	cr_assert_eq(len, sizeof(want));
	cr_assert_arr_eq(out, want, len);
	cr_assert_eq(io_exc_count(IO_EXC_ARP_REPLIED), 1);
}

Test(io_exception, answers_vlan_tagged_arp_keeping_the_tag)
{
	uint8_t in[64], out[256];
	memcpy(in, captured_arp_request, 12);
	memcpy(in + 12, "\x81\x00\x00\x07", 4);
	memcpy(in + 16, captured_arp_request + 12, sizeof(captured_arp_request) - 12);
	arrive(in, sizeof(captured_arp_request) + 4);
	io_poll_exceptions(NOW);
	size_t len = sent_on(tx_rings[1], out, sizeof(out));
	uint8_t want[sizeof(captured_arp_reply)];
	expected_arp_reply(want);
	cr_assert_eq(len, sizeof(want) + 4);
	cr_assert_arr_eq(out, want, 12);
	cr_assert_arr_eq(out + 12, "\x81\x00\x00\x07", 4);
	cr_assert_arr_eq(out + 16, want + 12, sizeof(want) - 12);
}

Test(io_exception, answers_a_neighbour_solicitation_like_the_kernel)
{
	uint8_t out[256];
	arrive(captured_nd_ns, sizeof(captured_nd_ns));
	cr_assert_eq(io_poll_exceptions(NOW), 1);
	size_t len = sent_on(tx_rings[1], out, sizeof(out));
	uint8_t want[sizeof(captured_nd_na)];
	expected_na(want);
	cr_assert_eq(len, sizeof(want));
	cr_assert_arr_eq(out, want, len);
	cr_assert_eq(io_exc_count(IO_EXC_NA_SENT), 1);
}

Test(io_exception, arp_for_an_address_not_ours_is_dropped_without_a_tap)
{
	uint8_t in[64];
	memcpy(in, captured_arp_request, sizeof(captured_arp_request));
	in[41] = 99; /* who has 10.9.0.99 */
	arrive(in, sizeof(captured_arp_request));
	io_poll_exceptions(NOW);
	cr_assert_eq(rte_ring_count(tx_rings[1]), 0);
	cr_assert_eq(io_exc_count(IO_EXC_ARP_OTHER), 1);
}

Test(io_exception, learns_a_next_hop_from_its_arp_reply)
{
	uint8_t probe[256];
	define_peer(2, 4, 0);
	io_poll_exceptions(NOW);
	/* The request went out first: broadcast, from our MAC and address, for the peer. */
	size_t len = sent_on(tx_rings[1], probe, sizeof(probe));
	struct wire_arp arp;
	cr_assert_eq(wire_arp_parse(probe, len, &arp), WIRE_OK);
	cr_assert_eq(arp.op, WIRE_ARP_OP_REQUEST);
	cr_assert_arr_eq(probe, "\xff\xff\xff\xff\xff\xff", 6);
	cr_assert_arr_eq(arp.sender_mac, our_mac.addr_bytes, 6);
	cr_assert_arr_eq(arp.target_ip, peer4, 4);

	/* The peer answers: the kernel's reply with the two sides swapped. */
	uint8_t as_peer[60] = {0};
	memcpy(as_peer, captured_arp_reply, sizeof(captured_arp_reply));
	memcpy(as_peer, our_mac.addr_bytes, 6);
	memcpy(as_peer + 6, peer_mac.addr_bytes, 6);
	memcpy(as_peer + 22, peer_mac.addr_bytes, 6);
	memcpy(as_peer + 28, peer4, 4);
	memcpy(as_peer + 32, our_mac.addr_bytes, 6);
	memcpy(as_peer + 38, our4, 4);
	arrive(as_peer, sizeof(as_peer));
	io_poll_exceptions(NOW + 5);

	struct rte_ether_addr mac;
	cr_assert(io_neigh_lookup(neigh, 2, &mac));
	cr_assert_arr_eq(mac.addr_bytes, peer_mac.addr_bytes, 6);
	cr_assert_eq(io_neigh_state_of(neigh, 2), IO_NEIGH_REACHABLE);
	cr_assert_eq(io_exc_count(IO_EXC_NEIGH_HEARD), 1);
}

Test(io_exception, requests_for_a_tagged_next_hop_carry_its_vlan_and_stop_when_it_fails)
{
	uint8_t out[256];
	struct wire_arp arp;
	define_peer(1, 4, 7);
	for (uint64_t t = 0; t < 3; t++) {
		io_poll_exceptions(NOW + t * 1000);
		size_t len = sent_on(tx_rings[1], out, sizeof(out));
		cr_assert_eq(wire_arp_parse(out, len, &arp), WIRE_OK);
		cr_assert(arp.has_vlan);
		cr_assert_eq(arp.vlan_id, 7);
	}
	io_poll_exceptions(NOW + 3000);
	cr_assert_eq(rte_ring_count(tx_rings[1]), 0);
	cr_assert_eq(io_neigh_state_of(neigh, 1), IO_NEIGH_FAILED);
}

Test(io_exception, learns_a_next_hop_from_its_solicitation_and_answers_it)
{
	uint8_t out[256];
	define_peer(0, 6, 0);
	io_poll_exceptions(NOW); /* our NS goes out */
	size_t len = sent_on(tx_rings[1], out, sizeof(out));
	struct wire_nd nd;
	cr_assert_eq(wire_nd_parse(out, len, &nd), WIRE_OK);
	cr_assert_eq(nd.type, WIRE_ND_NS);
	cr_assert_arr_eq(nd.target, peer6, 16);
	cr_assert_arr_eq(out, "\x33\x33\xff\x00\x00\x01", 6);

	/* The kernel's NS from the peer carries its MAC: learned as stale, answered, and the
	 * stale entry checked at once with a unicast NS. */
	arrive(captured_nd_ns, sizeof(captured_nd_ns));
	io_poll_exceptions(NOW + 1);
	struct rte_ether_addr mac;
	cr_assert(io_neigh_lookup(neigh, 0, &mac));
	cr_assert_arr_eq(mac.addr_bytes, peer_mac.addr_bytes, 6);
	cr_assert_eq(io_neigh_state_of(neigh, 0), IO_NEIGH_STALE);
	cr_assert_eq(rte_ring_count(tx_rings[1]), 2);
	len = next_sent(tx_rings[1], out, sizeof(out));
	uint8_t want[sizeof(captured_nd_na)];
	expected_na(want);
	cr_assert_eq(len, sizeof(want));
	cr_assert_arr_eq(out, want, len);
	len = next_sent(tx_rings[1], out, sizeof(out));
	cr_assert_eq(wire_nd_parse(out, len, &nd), WIRE_OK);
	cr_assert_eq(nd.type, WIRE_ND_NS);
	cr_assert_arr_eq(out, peer_mac.addr_bytes, 6);
	cr_assert_arr_eq(nd.dst_ip, peer6, 16);
}

Test(io_exception, other_frames_go_to_the_tap_and_back_from_it)
{
	uint8_t out[256];
	cr_assert_eq(io_set_tap(port.port_id, tap.port_id), 0);
	/* An IPv6 destination unreachable: ICMPv6, but not ND. */
	uint8_t icmp[86];
	memcpy(icmp, captured_nd_na, sizeof(icmp));
	icmp[54] = 1;
	arrive(icmp, sizeof(icmp));
	io_poll_exceptions(NOW);
	size_t len = sent_on(tap_tx, out, sizeof(out));
	cr_assert_arr_eq(out, icmp, len);
	cr_assert_eq(io_exc_count(IO_EXC_TO_TAP), 1);

	/* What the kernel sends on the TAP leaves through the port's control queue. */
	struct rte_mbuf *m = rte_pktmbuf_alloc(port.pool);
	memcpy(rte_pktmbuf_append(m, sizeof(captured_arp_request)), captured_arp_request,
	       sizeof(captured_arp_request));
	rte_ring_enqueue(tap_rx, m);
	io_poll_exceptions(NOW);
	len = sent_on(tx_rings[1], out, sizeof(out));
	cr_assert_arr_eq(out, captured_arp_request, len);
	cr_assert_eq(io_exc_count(IO_EXC_FROM_TAP), 1);
}

Test(io_exception, other_frames_without_a_tap_are_dropped_and_counted)
{
	uint8_t icmp[86];
	memcpy(icmp, captured_nd_na, sizeof(icmp));
	icmp[54] = 1;
	arrive(icmp, sizeof(icmp));
	io_poll_exceptions(NOW);
	cr_assert_eq(rte_ring_count(tx_rings[1]), 0);
	cr_assert_eq(io_exc_count(IO_EXC_NO_TAP), 1);
}

Test(io_exception, malformed_neighbour_discovery_is_dropped_and_counted)
{
	uint8_t bad[86];
	memcpy(bad, captured_nd_ns, sizeof(bad));
	bad[57] ^= 1; /* checksum */
	arrive(bad, sizeof(bad));
	io_poll_exceptions(NOW);
	cr_assert_eq(rte_ring_count(tx_rings[1]), 0);
	cr_assert_eq(io_exc_count(IO_EXC_MALFORMED_ND), 1);
	cr_assert_str_eq(io_exc_count_name(IO_EXC_MALFORMED_ND), "malformed_nd");
}

/* No fixture: this process's EAL starts with a device that cannot probe. */
Test(io_eal, names_a_device_that_failed_to_probe)
{
	const char *devs[] = {"net_null0", "net_af_packet0,iface=vpcdns-iotest-none"};
	struct io_eal_params ep = {.devices = devs,
				   .n_devices = 2,
				   .n_data_lcores = 1,
				   .memory_mb = 256,
				   .no_huge = true,
				   .log_level = "emerg"};
	cr_assert_eq(io_eal_init(&ep, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "net_af_packet0,iface=vpcdns-iotest-none: probe failed"),
			   "%s", err);
	uint16_t id;
	cr_assert_eq(rte_eth_dev_get_port_by_name("net_null0", &id), 0, "the other device probed");
	io_eal_cleanup();
}

/* What io_set_neigh_heard's function was told. */
static struct heard_log {
	unsigned calls;
	uint16_t port_id, vlan_id;
	uint8_t family, addr[16], mac[6];
} heard_log;

static void record_heard(void *ctx, uint16_t port_id, uint16_t vlan_id, uint8_t family,
			 const uint8_t *addr, const uint8_t *mac)
{
	struct heard_log *h = ctx;
	h->calls++;
	h->port_id = port_id;
	h->vlan_id = vlan_id;
	h->family = family;
	memcpy(h->addr, addr, family == 4 ? 4 : 16);
	memcpy(h->mac, mac, 6);
}

Test(io_exception, tells_who_it_heard_even_when_not_a_next_hop)
{
	io_set_neigh_heard(record_heard, &heard_log);
	/* the peer asks for our address: no next hop of ours, but the kernel will want its MAC */
	arrive(captured_arp_request, sizeof(captured_arp_request));
	io_poll_exceptions(NOW);
	cr_assert_eq(heard_log.calls, 1);
	cr_assert_eq(heard_log.port_id, port.port_id);
	cr_assert_eq(heard_log.vlan_id, 0);
	cr_assert_eq(heard_log.family, 4);
	cr_assert_arr_eq(heard_log.addr, peer4, 4);
	cr_assert_arr_eq(heard_log.mac, peer_mac.addr_bytes, 6);
	cr_assert_eq(io_exc_count(IO_EXC_NEIGH_HEARD), 0, "not a next hop: nothing learnt");
	cr_assert_eq(io_exc_count(IO_EXC_ARP_REPLIED), 1);

	arrive(captured_nd_ns, sizeof(captured_nd_ns));
	io_poll_exceptions(NOW + 1);
	cr_assert_eq(heard_log.calls, 2);
	cr_assert_eq(heard_log.family, 6);
	cr_assert_arr_eq(heard_log.addr, peer6, 16);
	cr_assert_arr_eq(heard_log.mac, peer_mac.addr_bytes, 6);
}

/* A frame in two segments, as an lcore hands over a reassembled datagram: Ethernet, IPv4 from peer4
 * to our4, UDP to port 61000 (a kernel port), payload_len octets of payload. */
static struct rte_mbuf *reassembled_udp(size_t payload_len)
{
	struct rte_mbuf *head = rte_pktmbuf_alloc(port.pool), *tail = rte_pktmbuf_alloc(port.pool);
	cr_assert(head && tail);
	size_t first = 1000, hdrs = RTE_ETHER_HDR_LEN + 20 + 8;
	uint8_t *p = (uint8_t *)rte_pktmbuf_append(head, (uint16_t)(hdrs + first));
	memcpy(p, our_mac.addr_bytes, 6);
	memcpy(p + 6, peer_mac.addr_bytes, 6);
	p[12] = 0x08, p[13] = 0x00;
	struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(p + RTE_ETHER_HDR_LEN);
	memset(ip, 0, 20);
	ip->version_ihl = 0x45;
	ip->total_length = rte_cpu_to_be_16((uint16_t)(20 + 8 + payload_len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	memcpy(&ip->src_addr, peer4, 4);
	memcpy(&ip->dst_addr, our4, 4);
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	uint8_t *udp = p + RTE_ETHER_HDR_LEN + 20;
	udp[0] = 0, udp[1] = 53, udp[2] = 0xee, udp[3] = 0x48; /* 53 -> 61000 */
	udp[4] = (uint8_t)((8 + payload_len) >> 8), udp[5] = (uint8_t)(8 + payload_len);
	udp[6] = udp[7] = 0;
	for (size_t i = 0; i < first; i++)
		udp[8 + i] = (uint8_t)i;
	uint8_t *q = (uint8_t *)rte_pktmbuf_append(tail, (uint16_t)(payload_len - first));
	for (size_t i = first; i < payload_len; i++)
		q[i - first] = (uint8_t)i;
	cr_assert_eq(rte_pktmbuf_chain(head, tail), 0);
	head->port = port.port_id;
	return head;
}

Test(io_exception, a_datagram_over_the_taps_mtu_goes_to_it_in_fragments_again)
{
	cr_assert_eq(io_set_tap(port.port_id, tap.port_id), 0);
	size_t payload = 3000;
	cr_assert_eq(rte_ring_enqueue(io_exception_ring(0), reassembled_udp(payload)), 0);
	io_poll_exceptions(NOW);
	cr_assert_eq(io_exc_count(IO_EXC_REFRAGMENTED), 1);
	unsigned n = rte_ring_count(tap_tx);
	cr_assert_eq(n, 3, "3,028 octets of IPv4 payload at an MTU of 1,500: 1,480 + 1,480 + 68");
	uint8_t frame[1600], whole[4000];
	size_t covered = 0;
	for (unsigned i = 0; i < n; i++) {
		struct rte_mbuf *m;
		cr_assert_eq(rte_ring_dequeue(tap_tx, (void **)&m), 0);
		size_t len = rte_pktmbuf_pkt_len(m);
		cr_assert_leq(len, RTE_ETHER_HDR_LEN + 1500u);
		const uint8_t *f = rte_pktmbuf_read(m, 0, (uint32_t)len, frame);
		cr_assert_arr_eq(f + 6, peer_mac.addr_bytes, 6, "the frame's own Ethernet header");
		const struct rte_ipv4_hdr *ip =
		    (const struct rte_ipv4_hdr *)(f + RTE_ETHER_HDR_LEN);
		struct rte_ipv4_hdr copy = *ip;
		copy.hdr_checksum = 0;
		cr_assert_eq(ip->hdr_checksum, rte_ipv4_cksum(&copy), "a valid header checksum");
		uint16_t frag = rte_be_to_cpu_16(ip->fragment_offset);
		size_t off = (size_t)(frag & RTE_IPV4_HDR_OFFSET_MASK) * 8;
		size_t plen = rte_be_to_cpu_16(ip->total_length) - 20u;
		cr_assert_eq(off, covered, "fragments in order, none missing");
		cr_assert_eq((frag & RTE_IPV4_HDR_MF_FLAG) != 0, i + 1 < n);
		memcpy(whole + off, f + RTE_ETHER_HDR_LEN + 20, plen);
		covered += plen;
		rte_pktmbuf_free(m);
	}
	cr_assert_eq(covered, 8 + payload);
	for (size_t i = 0; i < payload; i++)
		cr_assert_eq(whole[8 + i], (uint8_t)i);
}
