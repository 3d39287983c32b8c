/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/io ports and pools: one mbuf pool per NUMA socket sized from the config, and each port set up
 * with one RX+TX queue pair per data lcore plus the control core's TX queue, RSS and checksum
 * offloads only where the driver reports them, and a bounded wait for the link.
 */
#include <errno.h>
#include <stdarg.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/if_packet.h>

#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>

#include "dp/io/io.h"

#define DEFAULT_DESC 1024
#define POOL_CACHE   256
#define LINK_POLL_MS 10
#define MAX_SOCKETS  RTE_MAX_NUMA_NODES

static struct rte_mempool *pools[MAX_SOCKETS];
static struct io_port io_ports[RTE_MAX_ETHPORTS];
static bool io_port_ready[RTE_MAX_ETHPORTS];

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

unsigned io_pool_mbufs(const struct io_pool_sizing *s)
{
	unsigned rings = s->n_ports * (s->n_data_lcores * (s->rx_desc + s->tx_desc) + s->tx_desc);
	unsigned lcores = s->n_data_lcores *
			  (s->exception_ring + 2 * s->burst + s->in_flight_per_lcore + POOL_CACHE);
	unsigned control = s->n_ports * s->burst + POOL_CACHE;
	return rings + lcores + control;
}

struct rte_mempool *io_pool_get(int socket, unsigned n_mbufs, char *err, size_t errlen)
{
	unsigned slot = socket < 0 ? 0 : (unsigned)socket;
	char name[RTE_MEMPOOL_NAMESIZE];

	if (slot >= MAX_SOCKETS) {
		set_err(err, errlen, "socket %d out of range", socket);
		return NULL;
	}
	if (pools[slot])
		return pools[slot];
	snprintf(name, sizeof(name), "io_pool_%u", slot);
	pools[slot] = rte_pktmbuf_pool_create(name, n_mbufs, POOL_CACHE, 0,
					      RTE_MBUF_DEFAULT_BUF_SIZE, socket);
	if (!pools[slot])
		set_err(err, errlen, "mbuf pool of %u on socket %d: %s", n_mbufs, socket,
			rte_strerror(rte_errno));
	return pools[slot];
}

static void choose_offloads(const struct rte_eth_dev_info *info, uint16_t n_rxq,
			    struct rte_eth_conf *conf, struct io_port *out)
{
	uint64_t rss_hf = info->flow_type_rss_offloads & (RTE_ETH_RSS_IP | RTE_ETH_RSS_UDP);

	out->rss = n_rxq > 1 && rss_hf != 0;
	if (out->rss) {
		conf->rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf->rx_adv_conf.rss_conf.rss_hf = rss_hf;
	}
	out->tx_cksum_ipv4 = (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_IPV4_CKSUM) != 0;
	out->tx_cksum_udp = (info->tx_offload_capa & RTE_ETH_TX_OFFLOAD_UDP_CKSUM) != 0;
	if (out->tx_cksum_ipv4)
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_IPV4_CKSUM;
	if (out->tx_cksum_udp)
		conf->txmode.offloads |= RTE_ETH_TX_OFFLOAD_UDP_CKSUM;
}

static int setup_queues(const struct io_port_params *p, uint16_t port, uint16_t n_rxq,
			uint16_t n_txq, int socket, char *err, size_t errlen)
{
	uint16_t rx_desc = p->rx_desc ? p->rx_desc : DEFAULT_DESC;
	uint16_t tx_desc = p->tx_desc ? p->tx_desc : DEFAULT_DESC;
	int rc = rte_eth_dev_adjust_nb_rx_tx_desc(port, &rx_desc, &tx_desc);

	if (rc != 0) {
		set_err(err, errlen, "%s: descriptors: %s", p->device, rte_strerror(-rc));
		return -1;
	}
	for (uint16_t q = 0; q < n_rxq; q++) {
		rc = rte_eth_rx_queue_setup(port, q, rx_desc, (unsigned)socket, NULL, p->pool);
		if (rc != 0) {
			set_err(err, errlen, "%s: RX queue %u: %s", p->device, q,
				rte_strerror(-rc));
			return -1;
		}
	}
	for (uint16_t q = 0; q < n_txq; q++) {
		rc = rte_eth_tx_queue_setup(port, q, tx_desc, (unsigned)socket, NULL);
		if (rc != 0) {
			set_err(err, errlen, "%s: TX queue %u: %s", p->device, q,
				rte_strerror(-rc));
			return -1;
		}
	}
	return 0;
}

static void wait_link(uint16_t port, unsigned timeout_ms, struct io_port *out)
{
	struct rte_eth_link link;

	for (unsigned waited = 0;; waited += LINK_POLL_MS) {
		memset(&link, 0, sizeof(link));
		if (rte_eth_link_get_nowait(port, &link) == 0 && link.link_status)
			break;
		if (waited >= timeout_ms)
			break;
		rte_delay_ms(LINK_POLL_MS);
	}
	out->link_up = link.link_status != 0;
	out->link_speed_mbps = link.link_speed;
}

/* The kernel interface a device string names (",iface=NAME"); false if none. */
static bool device_iface(const char *device, char *iface, size_t len)
{
	const char *at = strstr(device, ",iface=");
	if (!at || len == 0)
		return false;
	at += strlen(",iface=");
	size_t n = strcspn(at, ",");
	if (n == 0 || n >= len)
		return false;
	memcpy(iface, at, n);
	iface[n] = '\0';
	return true;
}

/* An AF_PACKET socket that sends (and, protocol 0, receives nothing) on iface. */
static int open_kernel_tx(const char *iface, const char *device, char *err, size_t errlen)
{
	struct sockaddr_ll sll = {.sll_family = AF_PACKET,
				  .sll_ifindex = (int)if_nametoindex(iface)};
	int fd = sll.sll_ifindex ? socket(AF_PACKET, SOCK_RAW, 0) : -1;

	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		set_err(err, errlen, "%s: control frames through %s: %s", device, iface,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

static int find_port(const char *device, uint16_t *port, char *name, char *err, size_t errlen)
{
	io_device_port_name(device, name, IO_PORT_NAME_LEN);
	if (rte_eth_dev_get_port_by_name(name, port) != 0) {
		set_err(err, errlen, "device %s: no port named %s (probe failed?)", device, name);
		return -1;
	}
	return 0;
}

/* How many queues a port gets, and whether the control core sends through the kernel. */
struct queue_plan {
	uint16_t n_rxq, n_txq;
	bool kernel_tx;
	char iface[IF_NAMESIZE];
};

static int plan_queues(const struct io_port_params *p, const struct rte_eth_dev_info *info,
		       struct queue_plan *q, char *err, size_t errlen)
{
	q->n_rxq = p->n_data_queues ? p->n_data_queues : 1;
	q->n_txq = (uint16_t)(p->n_data_queues + 1);
	/* No TX queue to spare (af_xdp on a one-queue veth or NIC) but a kernel interface under
	 * the driver: the control core's few frames go out through the kernel instead. */
	q->kernel_tx = q->n_txq > info->max_tx_queues && p->n_data_queues > 0 &&
		       p->n_data_queues <= info->max_tx_queues &&
		       device_iface(p->device, q->iface, sizeof(q->iface));
	if (q->kernel_tx)
		q->n_txq = p->n_data_queues;
	if (q->n_rxq > info->max_rx_queues || q->n_txq > info->max_tx_queues) {
		/* af_packet, af_xdp and pcap take their queue counts from the device string. */
		set_err(
		    err, errlen,
		    "%s: needs %u RX and %u TX queues, driver has %u and %u (net_af_packet: "
		    "qpairs=%u; net_af_xdp: queue_count=%u; net_pcap: one rx_pcap/tx_pcap each)",
		    p->device, q->n_rxq, q->n_txq, info->max_rx_queues, info->max_tx_queues,
		    q->n_txq, q->n_txq);
		return -1;
	}
	/* net_af_packet opens qpairs sockets in one fanout group: the kernel spreads frames over
	 * all of them, so every one must be an RX queue somebody drains. */
	if (strcmp(info->driver_name, "net_af_packet") == 0)
		q->n_rxq = info->max_rx_queues;
	return 0;
}

static int configure_queues(uint16_t port, const struct rte_eth_dev_info *info,
			    struct queue_plan *q, struct io_port *out)
{
	struct rte_eth_conf conf;

	memset(&conf, 0, sizeof(conf));
	choose_offloads(info, q->n_rxq, &conf, out);
	int rc = rte_eth_dev_configure(port, q->n_rxq, q->n_txq, &conf);
	/* Some drivers (net_tap) want as many RX queues as TX: the extra one is drained like
	 * af_packet's. */
	if (rc != 0 && q->n_rxq < q->n_txq && q->n_txq <= info->max_rx_queues) {
		q->n_rxq = q->n_txq;
		memset(&conf, 0, sizeof(conf));
		choose_offloads(info, q->n_rxq, &conf, out);
		rc = rte_eth_dev_configure(port, q->n_rxq, q->n_txq, &conf);
	}
	return rc;
}

static int configure(const struct io_port_params *p, struct io_port *out, char *err, size_t errlen)
{
	struct rte_eth_dev_info info;
	struct queue_plan q;
	uint16_t port = out->port_id;
	int rc = rte_eth_dev_info_get(port, &info);

	if (rc != 0) {
		set_err(err, errlen, "%s: device info: %s", p->device, rte_strerror(-rc));
		return -1;
	}
	if (plan_queues(p, &info, &q, err, errlen) != 0)
		return -1;
	if ((rc = configure_queues(port, &info, &q, out)) != 0) {
		set_err(err, errlen, "%s: configure %u RX and %u TX queues: %s", p->device, q.n_rxq,
			q.n_txq, rte_strerror(-rc));
		return -1;
	}
	/* Drivers without an MTU setting (ring, null) keep theirs: -ENOTSUP is not an error. */
	if (p->mtu && (rc = rte_eth_dev_set_mtu(port, p->mtu)) != 0 && rc != -ENOTSUP) {
		set_err(err, errlen, "%s: MTU %u: %s", p->device, p->mtu, rte_strerror(-rc));
		return -1;
	}
	out->n_data_queues = p->n_data_queues;
	out->n_rx_queues = q.n_rxq;
	out->lcores_poll_extra_rx = p->lcores_poll_extra_rx;
	out->ctl_txq = q.kernel_tx ? IO_CTL_TXQ_KERNEL : p->n_data_queues;
	if (q.kernel_tx && (out->ctl_fd = open_kernel_tx(q.iface, p->device, err, errlen)) < 0)
		return -1;
	return setup_queues(p, port, q.n_rxq, q.n_txq, out->socket, err, errlen);
}

int io_port_setup(const struct io_port_params *p, struct io_port *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	out->ctl_fd = -1;
	if (!p->pool) {
		set_err(err, errlen, "%s: no mbuf pool", p->device);
		return -1;
	}
	if (find_port(p->device, &out->port_id, out->name, err, errlen) != 0)
		return -1;
	out->pool = p->pool;
	out->socket = rte_eth_dev_socket_id(out->port_id);
	if (out->socket < 0)
		out->socket = (int)rte_socket_id();
	if (configure(p, out, err, errlen) != 0)
		return -1;
	int rc = rte_eth_dev_start(out->port_id);
	if (rc != 0) {
		set_err(err, errlen, "%s: start: %s", p->device, rte_strerror(-rc));
		return -1;
	}
	/* Promiscuous only on request: we own our MAC, and drivers may not support the change. */
	if (p->promiscuous) {
		rte_eth_promiscuous_enable(out->port_id);
	} else {
		rte_eth_promiscuous_disable(out->port_id);
		/* io_set_owned turns it on again where IPv6 solicitations need it. */
		rte_eth_allmulticast_disable(out->port_id);
	}
	rte_eth_macaddr_get(out->port_id, &out->mac);
	wait_link(out->port_id, p->link_timeout_ms, out);
	io_ports[out->port_id] = *out;
	io_port_ready[out->port_id] = true;
	return 0;
}

const struct io_port *io_port_get(uint16_t port_id)
{
	return port_id < RTE_MAX_ETHPORTS && io_port_ready[port_id] ? &io_ports[port_id] : NULL;
}

void io_ports_close(void)
{
	for (uint16_t i = 0; i < RTE_MAX_ETHPORTS; i++) {
		if (!io_port_ready[i])
			continue;
		rte_eth_dev_stop(i);
		rte_eth_dev_close(i);
		if (io_ports[i].ctl_fd >= 0)
			close(io_ports[i].ctl_fd);
		io_port_ready[i] = false;
	}
}
