/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/io exception path: the control core's side of the lcores' exception rings. It answers ARP
 * requests and neighbour solicitations for the addresses vpcdns owns (in the frame received, sent
 * back on the port's control TX queue), learns next hops' MACs from what they send, sends the
 * neighbour table's requests, and hands every other frame to the port's TAP (the kernel) or drops
 * it, each outcome counted. Owned addresses are found by a linear scan: only ARP/ND frames pay
 * for it, on the control core.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_ip_frag.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "dp/io/io.h"
#include "dp/wire/wire.h"

#define EXC_BURST     32
#define PROBE_BURST   32
#define EXC_FRAGS_MAX 48 /* of a 64 KiB datagram at an MTU of 1,500 */
#define EXC_INDIRECT  1024

static struct {
	struct rte_ring *rings[RTE_MAX_LCORE];
	unsigned n_rings;
	struct io_owned_addr *owned;
	size_t n_owned;
	struct io_neigh_table *neigh;
	io_neigh_heard_fn *heard; /* told every sender heard (XDP mode: the kernel's neighbours) */
	void *heard_ctx;
	uint32_t tap_of[RTE_MAX_ETHPORTS]; /* 1 + the TAP port of each port; 0: none */
	struct vlan_tap {
		uint16_t port_id, vlan_id, tap_port_id;
	} vlan_taps[IO_MAX_VLAN_TAPS]; /* VLANs whose frames go to a TAP of their own, untagged */
	unsigned n_vlan_taps;
	uint64_t counts[IO_EXC__COUNT];
	struct rte_mempool *indirect; /* for fragments pointing into a datagram too big for a TAP */
} exc;

static const char *const exc_count_names[IO_EXC__COUNT] = {
    [IO_EXC_ARP_REPLIED] = "arp_replied",
    [IO_EXC_NA_SENT] = "na_sent",
    [IO_EXC_NEIGH_HEARD] = "neigh_heard",
    [IO_EXC_ARP_OTHER] = "arp_other",
    [IO_EXC_ND_OTHER] = "nd_other",
    [IO_EXC_MALFORMED_ARP] = "malformed_arp",
    [IO_EXC_MALFORMED_ND] = "malformed_nd",
    [IO_EXC_TO_TAP] = "to_tap",
    [IO_EXC_NO_TAP] = "no_tap",
    [IO_EXC_TAP_FULL] = "tap_full",
    [IO_EXC_FROM_TAP] = "from_tap",
    [IO_EXC_TX_FULL] = "tx_full",
    [IO_EXC_NO_MBUF] = "no_mbuf",
    [IO_EXC_UNKNOWN_PORT] = "unknown_port",
    [IO_EXC_SPILL_RX] = "spill_rx",
    [IO_EXC_REFRAGMENTED] = "refragmented",
    [IO_EXC_FRAG_FAILED] = "frag_failed",
};

int io_exceptions_init(unsigned n_data_lcores, unsigned ring_size, char *err, size_t errlen)
{
	if (n_data_lcores > RTE_MAX_LCORE) {
		snprintf(err, errlen, "%u lcores: at most %d", n_data_lcores, RTE_MAX_LCORE);
		return -1;
	}
	exc.indirect = rte_pktmbuf_pool_create("io_exc_indirect", EXC_INDIRECT, 32, 0, 0,
					       (int)rte_socket_id());
	if (!exc.indirect) {
		snprintf(err, errlen, "the exception path's indirect mbufs: %s",
			 rte_strerror(rte_errno));
		return -1;
	}
	for (unsigned i = 0; i < n_data_lcores; i++) {
		char name[RTE_RING_NAMESIZE];
		snprintf(name, sizeof(name), "io_exc_%u", i);
		exc.rings[i] = rte_ring_create(name, ring_size, (int)rte_socket_id(),
					       RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
		if (!exc.rings[i]) {
			snprintf(err, errlen, "exception ring %u (%u slots): %s", i, ring_size,
				 rte_strerror(rte_errno));
			return -1;
		}
		exc.n_rings = i + 1;
	}
	return 0;
}

struct rte_ring *io_exception_ring(unsigned lcore_index)
{
	return lcore_index < exc.n_rings ? exc.rings[lcore_index] : NULL;
}

#define MC_FILTER_MAX 128

/*
 * Solicitations for our IPv6 addresses come to their solicited-node groups' MACs, which a NIC
 * out of promiscuous mode filters out unless told: the port's multicast list gets them all, or
 * when the driver has no list (or there are too many), all-multicast.
 */
static void accept_solicitations(uint16_t port_id, const struct io_owned_addr *addrs, size_t n)
{
	struct rte_ether_addr macs[MC_FILTER_MAX];
	uint32_t n_macs = 0;
	bool overflow = false;

	for (size_t i = 0; i < n; i++) {
		uint8_t group[16], mac[RTE_ETHER_ADDR_LEN];
		if (addrs[i].port_id != port_id || addrs[i].family != 6)
			continue;
		wire_nd_solicited_node(addrs[i].addr, group, mac);
		uint32_t j = 0;
		while (j < n_macs && memcmp(macs[j].addr_bytes, mac, RTE_ETHER_ADDR_LEN) != 0)
			j++;
		if (j < n_macs)
			continue;
		if (n_macs == MC_FILTER_MAX) {
			overflow = true;
			break;
		}
		memcpy(macs[n_macs++].addr_bytes, mac, RTE_ETHER_ADDR_LEN);
	}
	if (n_macs == 0)
		return;
	if (overflow || rte_eth_dev_set_mc_addr_list(port_id, macs, n_macs) != 0)
		rte_eth_allmulticast_enable(port_id);
}

int io_set_owned(const struct io_owned_addr *addrs, size_t n)
{
	if (n > IO_MAX_OWNED)
		return -1;
	struct io_owned_addr *copy = n ? malloc(n * sizeof(*copy)) : NULL;
	if (n && !copy)
		return -1;
	if (n)
		memcpy(copy, addrs, n * sizeof(*copy));
	free(exc.owned);
	exc.owned = copy;
	exc.n_owned = n;
	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++)
		if (io_port_get(p))
			accept_solicitations(p, copy, n);
	return 0;
}

void io_set_neigh_table(struct io_neigh_table *t)
{
	exc.neigh = t;
}

void io_set_neigh_heard(io_neigh_heard_fn *fn, void *ctx)
{
	exc.heard = fn;
	exc.heard_ctx = ctx;
}

int io_set_tap(uint16_t port_id, uint16_t tap_port_id)
{
	const struct io_port *port = io_port_get(port_id);
	if (!port || !io_port_get(tap_port_id))
		return -1;
	/* The kernel behind the TAP must take frames sent to the port's MAC as its own. */
	struct rte_ether_addr mac = port->mac;
	rte_eth_dev_default_mac_addr_set(tap_port_id, &mac);
	exc.tap_of[port_id] = (uint32_t)tap_port_id + 1;
	return 0;
}

int io_set_vlan_tap(uint16_t port_id, uint16_t vlan_id, uint16_t tap_port_id)
{
	const struct io_port *port = io_port_get(port_id);
	if (!port || !io_port_get(tap_port_id) || vlan_id == 0 || vlan_id > 4094 ||
	    exc.n_vlan_taps == IO_MAX_VLAN_TAPS)
		return -1;
	struct rte_ether_addr mac = port->mac;
	rte_eth_dev_default_mac_addr_set(tap_port_id, &mac);
	exc.vlan_taps[exc.n_vlan_taps++] = (struct vlan_tap){port_id, vlan_id, tap_port_id};
	return 0;
}

/* The TAP of the frame's VLAN on port_id, if it has one of its own. */
static const struct vlan_tap *vlan_tap_of(uint16_t port_id, const struct rte_mbuf *m)
{
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (exc.n_vlan_taps == 0 || rte_pktmbuf_data_len(m) < sizeof(*eth) + 4 ||
	    eth->ether_type != rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN))
		return NULL;
	uint16_t vlan =
	    rte_be_to_cpu_16(((const struct rte_vlan_hdr *)(eth + 1))->vlan_tci) & 0xfff;
	for (unsigned i = 0; i < exc.n_vlan_taps; i++)
		if (exc.vlan_taps[i].port_id == port_id && exc.vlan_taps[i].vlan_id == vlan)
			return &exc.vlan_taps[i];
	return NULL;
}

static bool owned(uint16_t port_id, uint16_t vlan_id, uint8_t family, const uint8_t *addr)
{
	size_t alen = family == 4 ? 4 : 16;
	for (size_t i = 0; i < exc.n_owned; i++) {
		const struct io_owned_addr *o = &exc.owned[i];
		if (o->port_id == port_id && o->vlan_id == vlan_id && o->family == family &&
		    memcmp(o->addr, addr, alen) == 0)
			return true;
	}
	return false;
}

static void count(enum io_exc_count c)
{
	exc.counts[c]++;
}

/* The control core may make system calls: one send per frame, which are few. */
static void send_kernel(const struct io_port *port, struct rte_mbuf *m)
{
	ssize_t sent = -1;

	if (m->nb_segs == 1)
		sent = send(port->ctl_fd, rte_pktmbuf_mtod(m, const void *),
			    rte_pktmbuf_data_len(m), MSG_DONTWAIT);
	if (sent < 0)
		count(IO_EXC_TX_FULL);
	rte_pktmbuf_free(m);
}

static void send_ctl(const struct io_port *port, struct rte_mbuf *m)
{
	if (port->ctl_txq == IO_CTL_TXQ_KERNEL) {
		send_kernel(port, m);
		return;
	}
	m->ol_flags = 0;
	if (rte_eth_tx_burst(port->port_id, port->ctl_txq, &m, 1) == 0) {
		rte_pktmbuf_free(m);
		count(IO_EXC_TX_FULL);
	}
}

bool io_ctl_send(uint16_t port_id, struct rte_mbuf *m)
{
	const struct io_port *port = io_port_get(port_id);
	if (!port) {
		count(IO_EXC_UNKNOWN_PORT);
		rte_pktmbuf_free(m);
		return false;
	}
	uint64_t before = exc.counts[IO_EXC_TX_FULL];
	send_ctl(port, m);
	return exc.counts[IO_EXC_TX_FULL] == before;
}

/*
 * A datagram too big for the TAP (an lcore reassembled a target's answer to the kernel's own query)
 * goes to the kernel cut into IPv4 fragments again, for it to reassemble: net_tap passes no frame
 * over its MTU, and that cannot be raised. m is taken either way.
 */
static void send_fragments(uint16_t tap, struct rte_mbuf *m, uint16_t mtu)
{
	struct rte_mbuf *frags[EXC_FRAGS_MAX];
	uint8_t l2[RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN];
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	size_t l2_len = eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN)
			    ? RTE_ETHER_HDR_LEN + RTE_VLAN_HLEN
			    : RTE_ETHER_HDR_LEN;
	const uint16_t *type = rte_pktmbuf_mtod_offset(m, const uint16_t *, l2_len - 2);
	int n = -1;
	if (*type == rte_cpu_to_be_16(RTE_ETHER_TYPE_IPV4) && m->data_len > l2_len) {
		memcpy(l2, eth, l2_len);
		rte_pktmbuf_adj(m, (uint16_t)l2_len);
		n = rte_ipv4_fragment_packet(m, frags, EXC_FRAGS_MAX, mtu, m->pool, exc.indirect);
	}
	rte_pktmbuf_free(m);
	if (n <= 0) {
		count(IO_EXC_FRAG_FAILED);
		return;
	}
	count(IO_EXC_REFRAGMENTED);
	for (int i = 0; i < n; i++) {
		uint8_t *h = (uint8_t *)rte_pktmbuf_prepend(frags[i], (uint16_t)l2_len);
		if (!h) {
			rte_pktmbuf_free(frags[i]);
			count(IO_EXC_FRAG_FAILED);
			continue;
		}
		memcpy(h, l2, l2_len);
		struct rte_ipv4_hdr *ip = (struct rte_ipv4_hdr *)(h + l2_len);
		ip->hdr_checksum = 0; /* the fragmenter leaves it to the sender */
		ip->hdr_checksum = rte_ipv4_cksum(ip);
		frags[i]->ol_flags = 0;
		if (rte_eth_tx_burst(tap, 0, &frags[i], 1) == 0) {
			rte_pktmbuf_free(frags[i]);
			count(IO_EXC_TAP_FULL);
			continue;
		}
		count(IO_EXC_TO_TAP);
	}
}

/* Frames we do not consume go to the kernel when the port has a TAP. */
static void pass_on(uint16_t port_id, struct rte_mbuf *m, enum io_exc_count if_no_tap)
{
	uint32_t tap_plus_one = exc.tap_of[port_id];
	const struct vlan_tap *vt = vlan_tap_of(port_id, m);
	if (vt) { /* the kernel behind a VLAN's own TAP takes its frames untagged */
		rte_vlan_strip(m);
		tap_plus_one = (uint32_t)vt->tap_port_id + 1;
	}

	if (tap_plus_one == 0) {
		count(if_no_tap);
		rte_pktmbuf_free(m);
		return;
	}
	m->ol_flags = 0;
	uint16_t tap = (uint16_t)(tap_plus_one - 1), mtu = RTE_ETHER_MTU;
	rte_eth_dev_get_mtu(tap, &mtu);
	const struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	bool tagged = eth->ether_type == rte_cpu_to_be_16(RTE_ETHER_TYPE_VLAN);
	if (m->pkt_len > (uint32_t)mtu + RTE_ETHER_HDR_LEN + (tagged ? RTE_VLAN_HLEN : 0)) {
		send_fragments(tap, m, mtu);
		return;
	}
	if (rte_eth_tx_burst(tap, 0, &m, 1) == 0) {
		rte_pktmbuf_free(m);
		count(IO_EXC_TAP_FULL);
		return;
	}
	count(IO_EXC_TO_TAP);
}

static void learn(uint16_t port_id, uint16_t vlan_id, uint8_t family, const uint8_t *addr,
		  const uint8_t *mac, bool confirmed, uint64_t now_ms)
{
	struct rte_ether_addr ea;

	if (exc.heard)
		exc.heard(exc.heard_ctx, port_id, vlan_id, family, addr, mac);
	if (!exc.neigh)
		return;
	memcpy(ea.addr_bytes, mac, RTE_ETHER_ADDR_LEN);
	if (io_neigh_learn(exc.neigh, port_id, vlan_id, family, addr, &ea, confirmed, now_ms))
		count(IO_EXC_NEIGH_HEARD);
}

static void handle_arp(const struct io_port *port, struct rte_mbuf *m, const struct wire_arp *arp,
		       uint64_t now_ms)
{
	static const uint8_t any[4];
	bool for_us = owned(port->port_id, arp->vlan_id, 4, arp->target_ip);

	/* RFC 826: update the sender of any ARP packet we hold; a probe (sender 0.0.0.0) has none.
	 */
	if (memcmp(arp->sender_ip, any, 4) != 0)
		learn(port->port_id, arp->vlan_id, 4, arp->sender_ip, arp->sender_mac,
		      arp->op == WIRE_ARP_OP_REPLY && for_us, now_ms);
	if (arp->op == WIRE_ARP_OP_REQUEST && for_us) {
		wire_arp_make_reply(rte_pktmbuf_mtod(m, uint8_t *), arp, port->mac.addr_bytes);
		count(IO_EXC_ARP_REPLIED);
		send_ctl(port, m);
		return;
	}
	pass_on(port->port_id, m, IO_EXC_ARP_OTHER);
}

static void answer_ns(const struct io_port *port, struct rte_mbuf *m, const struct wire_nd *nd)
{
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	size_t len = rte_pktmbuf_data_len(m);
	size_t cap = len + rte_pktmbuf_tailroom(m);

	if (wire_nd_make_na(frame, cap, &len, nd, port->mac.addr_bytes) != WIRE_OK) {
		count(IO_EXC_MALFORMED_ND);
		rte_pktmbuf_free(m);
		return;
	}
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	count(IO_EXC_NA_SENT);
	send_ctl(port, m);
}

static void handle_nd(const struct io_port *port, struct rte_mbuf *m, const struct wire_nd *nd,
		      uint64_t now_ms)
{
	if (nd->type == WIRE_ND_NA && nd->has_lladdr)
		learn(port->port_id, nd->vlan_id, 6, nd->target, nd->lladdr,
		      (nd->na_flags & WIRE_ND_NA_SOLICITED) != 0, now_ms);
	if (nd->type == WIRE_ND_NS && nd->has_lladdr)
		learn(port->port_id, nd->vlan_id, 6, nd->src_ip, nd->lladdr, false, now_ms);
	if (nd->type == WIRE_ND_NS && owned(port->port_id, nd->vlan_id, 6, nd->target)) {
		answer_ns(port, m, nd);
		return;
	}
	pass_on(port->port_id, m, IO_EXC_ND_OTHER);
}

static void handle_frame(struct rte_mbuf *m, uint64_t now_ms)
{
	const struct io_port *port = io_port_get(m->port);
	const uint8_t *frame = rte_pktmbuf_mtod(m, const uint8_t *);
	size_t len = rte_pktmbuf_data_len(m);
	struct wire_arp arp;
	struct wire_nd nd;

	if (!port) {
		count(IO_EXC_UNKNOWN_PORT);
		rte_pktmbuf_free(m);
		return;
	}
	enum wire_err err = wire_arp_parse(frame, len, &arp);
	if (err == WIRE_OK) {
		handle_arp(port, m, &arp, now_ms);
		return;
	}
	if (err != WIRE_E_ETHERTYPE) {
		count(IO_EXC_MALFORMED_ARP);
		rte_pktmbuf_free(m);
		return;
	}
	err = wire_nd_parse(frame, len, &nd);
	if (err == WIRE_OK) {
		handle_nd(port, m, &nd, now_ms);
		return;
	}
	/* Not NS/NA at all (IPv4, TCP, other ICMPv6...): the kernel's business. */
	if (err == WIRE_E_ETHERTYPE || err == WIRE_E_ND_NOT_ICMPV6 || err == WIRE_E_ND_TYPE) {
		pass_on(port->port_id, m, IO_EXC_NO_TAP);
		return;
	}
	count(IO_EXC_MALFORMED_ND);
	rte_pktmbuf_free(m);
}

static unsigned drain_rings(uint64_t now_ms)
{
	struct rte_mbuf *burst[EXC_BURST];
	unsigned handled = 0;

	for (unsigned r = 0; r < exc.n_rings; r++) {
		unsigned n =
		    rte_ring_sc_dequeue_burst(exc.rings[r], (void **)burst, EXC_BURST, NULL);
		for (unsigned i = 0; i < n; i++)
			handle_frame(burst[i], now_ms);
		handled += n;
	}
	return handled;
}

/* RX queues no lcore polls (net_af_packet's extra fanout sockets) are drained here. */
static unsigned drain_spill_queues(uint64_t now_ms)
{
	struct rte_mbuf *burst[EXC_BURST];
	unsigned handled = 0;

	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++) {
		const struct io_port *port = io_port_get(p);
		if (!port || port->lcores_poll_extra_rx)
			continue;
		for (uint16_t q = port->n_data_queues; q < port->n_rx_queues; q++) {
			if (port->n_data_queues == 0)
				break; /* a TAP: its queue 0 is forward_from_taps' */
			uint16_t n = rte_eth_rx_burst(p, q, burst, EXC_BURST);
			for (uint16_t i = 0; i < n; i++) {
				count(IO_EXC_SPILL_RX);
				handle_frame(burst[i], now_ms);
			}
			handled += n;
		}
	}
	return handled;
}

/* What the kernel sends on a VLAN's own TAP leaves the port tagged with that VLAN. */
static unsigned forward_from_vlan_taps(void)
{
	struct rte_mbuf *burst[EXC_BURST];
	unsigned handled = 0;
	for (unsigned t = 0; t < exc.n_vlan_taps; t++) {
		const struct vlan_tap *vt = &exc.vlan_taps[t];
		const struct io_port *port = io_port_get(vt->port_id);
		uint16_t n = rte_eth_rx_burst(vt->tap_port_id, 0, burst, EXC_BURST);
		for (uint16_t i = 0; i < n; i++) {
			count(IO_EXC_FROM_TAP);
			burst[i]->vlan_tci = vt->vlan_id;
			if (!port || rte_vlan_insert(&burst[i]) != 0) {
				count(IO_EXC_NO_MBUF);
				rte_pktmbuf_free(burst[i]);
				continue;
			}
			send_ctl(port, burst[i]);
		}
		handled += n;
	}
	return handled;
}

static unsigned forward_from_taps(void)
{
	struct rte_mbuf *burst[EXC_BURST];
	unsigned handled = forward_from_vlan_taps();

	for (uint16_t p = 0; p < RTE_MAX_ETHPORTS; p++) {
		const struct io_port *port = exc.tap_of[p] ? io_port_get(p) : NULL;
		if (!port)
			continue;
		uint16_t tap = (uint16_t)(exc.tap_of[p] - 1);
		uint16_t n = rte_eth_rx_burst(tap, 0, burst, EXC_BURST);
		for (uint16_t i = 0; i < n; i++) {
			count(IO_EXC_FROM_TAP);
			send_ctl(port, burst[i]);
		}
		handled += n;
	}
	return handled;
}

/* Builds a probe's ARP request or NS in an mbuf of the port's pool. */
static struct rte_mbuf *build_probe(const struct io_port *port, const struct io_nexthop *nh,
				    const struct io_neigh_probe *probe)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(port->pool);
	struct wire_l2 l2 = {.vlan_tagged = nh->vlan_id != 0, .vlan_tci = nh->vlan_id};
	size_t len;

	if (!m)
		return NULL;
	memcpy(l2.src, port->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	memcpy(l2.dst, probe->mac.addr_bytes, RTE_ETHER_ADDR_LEN);
	uint8_t *buf = rte_pktmbuf_mtod(m, uint8_t *);
	size_t cap = rte_pktmbuf_tailroom(m);
	if (nh->family == 4)
		len = wire_arp_build_request(buf, cap, &l2, nh->src_addr, nh->addr);
	else
		len = wire_nd_build_ns(buf, cap, &l2, probe->unicast, nh->src_addr, nh->addr);
	m->data_len = (uint16_t)len;
	m->pkt_len = (uint32_t)len;
	return m;
}

static void send_probes(uint64_t now_ms)
{
	struct io_neigh_probe probes[PROBE_BURST];

	if (!exc.neigh)
		return;
	unsigned n = io_neigh_tick(exc.neigh, now_ms, probes, PROBE_BURST);
	for (unsigned i = 0; i < n; i++) {
		const struct io_nexthop *nh = io_neigh_nexthop(exc.neigh, probes[i].nexthop);
		const struct io_port *port = nh ? io_port_get(nh->port_id) : NULL;
		if (!port) {
			count(IO_EXC_UNKNOWN_PORT);
			continue;
		}
		struct rte_mbuf *m = build_probe(port, nh, &probes[i]);
		if (!m) {
			count(IO_EXC_NO_MBUF);
			continue;
		}
		send_ctl(port, m);
	}
}

unsigned io_poll_exceptions(uint64_t now_ms)
{
	unsigned handled = drain_rings(now_ms);
	handled += drain_spill_queues(now_ms);
	handled += forward_from_taps();
	send_probes(now_ms);
	return handled;
}

uint64_t io_exc_count(enum io_exc_count c)
{
	return (unsigned)c < IO_EXC__COUNT ? exc.counts[c] : 0;
}

const char *io_exc_count_name(enum io_exc_count c)
{
	return (unsigned)c < IO_EXC__COUNT ? exc_count_names[c] : "unknown";
}

void io_exceptions_free(void)
{
	for (unsigned i = 0; i < exc.n_rings; i++) {
		struct rte_mbuf *m;
		while (rte_ring_sc_dequeue(exc.rings[i], (void **)&m) == 0)
			rte_pktmbuf_free(m);
		rte_ring_free(exc.rings[i]);
		exc.rings[i] = NULL;
	}
	exc.n_rings = 0;
	rte_mempool_free(exc.indirect);
	exc.indirect = NULL;
	free(exc.owned);
	exc.owned = NULL;
	exc.n_owned = 0;
	exc.neigh = NULL;
	exc.heard = NULL;
	memset(exc.tap_of, 0, sizeof(exc.tap_of));
	exc.n_vlan_taps = 0;
	memset(exc.counts, 0, sizeof(exc.counts));
}
