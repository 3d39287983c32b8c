/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/io: everything between the NIC and the lcores' poll loops. It owns the EAL start (argv built
 * from the config's devices), the ports (queues, RSS, MTU, offloads, link), the mbuf pools, the
 * next-hop MAC table with its ARP/ND resolution and aging, the answers to ARP and neighbour
 * solicitations for the addresses vpcdns owns, and the exception path: frames the lcores do not
 * serve reach the control core through one ring per lcore and go on to a TAP port or are dropped,
 * counted by reason.
 *
 * Threads: io_neigh_lookup and io_neigh_want run on data lcores (no lock, no allocation, no
 * syscall); everything else runs on the control core (the main thread). Port setup comes before
 * the lcores start. io knows nothing of dp/dp.h: the lcore sits above it.
 */
#ifndef VPCDNS_DP_IO_H
#define VPCDNS_DP_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

/* ---- EAL ---- */

#define IO_MAX_DEVICES	  16
#define IO_EAL_ARGV_MAX	  (16 + 2 * IO_MAX_DEVICES)
#define IO_EAL_ARGBUF_LEN 4096
#define IO_PORT_NAME_LEN  64 /* RTE_ETH_NAME_MAX_LEN, without rte_ethdev.h */

struct io_eal_params {
	const char *const *devices; /* DPDK device strings: PCI addresses or vdevs (net_*) */
	size_t n_devices;
	unsigned n_data_lcores;	 /* lcores 1..N; lcore 0 is the control core */
	unsigned memory_mb;	 /* -m when running without hugepages */
	const char *file_prefix; /* NULL: "vpcdns-<pid>", unique per process */
	const char *log_level;	 /* NULL: "notice" */
	bool no_huge;		 /* force --no-huge even when hugepages are free */
};

/* True when /proc/meminfo shows free hugepages and a hugetlbfs is mounted. */
bool io_hugepages_available(void);

/*
 * Builds the EAL argv (argv[0] "vpcdns") into argv (IO_EAL_ARGV_MAX slots) with its strings in
 * buf; the count, or -1 with err set. huge says whether to use hugepages. Vdevs (net_*) become
 * --vdev, PCI addresses -a, and --no-pci is added when there are none; lcore i runs on CPU
 * i mod the CPUs online.
 */
int io_eal_argv(const struct io_eal_params *p, bool huge, char **argv, char *buf, size_t buflen,
		char *err, size_t errlen);

/*
 * Starts the EAL (once per process) with that argv, logs it, and checks every configured device
 * became a port: 0, or -1 with err naming what failed ("probe failed" for a missing device).
 */
int io_eal_init(const struct io_eal_params *p, char *err, size_t errlen);

/* Ends the EAL (rte_eal_cleanup) and, with the default per-process prefix, removes the runtime
 * directory the EAL leaves behind even with --no-shconf. */
void io_eal_cleanup(void);

/* The port name a device string gives (the part before the first ','). */
void io_device_port_name(const char *device, char *name, size_t len);

/* ---- mbuf pools ---- */

struct io_pool_sizing {
	unsigned n_ports;
	unsigned n_data_lcores;
	unsigned rx_desc, tx_desc;    /* per queue */
	unsigned exception_ring;      /* slots per lcore's exception ring */
	unsigned burst;		      /* the lcores' RX/TX burst */
	unsigned in_flight_per_lcore; /* mbufs an lcore may hold beyond its rings and bursts */
};

/*
 * mbufs one NUMA socket's pool needs: ports x (lcores x (rx_desc + tx_desc) + tx_desc) for the
 * rings (the control core's TX queue included) + lcores x (exception_ring + 2 x burst + in_flight
 * + the mempool cache) + the control core's own (one burst per port for ARP/ND and TAP).
 */
unsigned io_pool_mbufs(const struct io_pool_sizing *s);

/* The pool for a socket, made once (n_mbufs the first time) and shared by that socket's ports. */
struct rte_mempool *io_pool_get(int socket, unsigned n_mbufs, char *err, size_t errlen);

/* ---- ports ---- */

struct io_port_params {
	const char *device;	/* the device string (its port found by name) */
	uint16_t n_data_queues; /* RX+TX queue pairs, one per data lcore (0: one RX, for a TAP) */
	uint16_t rx_desc, tx_desc; /* 0: 1024 */
	uint16_t mtu;		   /* 0: the driver's default */
	bool promiscuous;
	bool lcores_poll_extra_rx; /* the lcores drain RX queues past n_data_queues, not io */
	unsigned link_timeout_ms;  /* 0: do not wait */
	struct rte_mempool *pool;
};

/* ctl_txq when the driver has no TX queue to spare for the control core (net_af_xdp on a
 * one-queue interface): its frames go out through the kernel interface named by the device
 * string's iface=, with an AF_PACKET socket (ctl_fd). */
#define IO_CTL_TXQ_KERNEL UINT16_MAX

struct io_port {
	uint16_t port_id;
	uint16_t n_data_queues;
	uint16_t ctl_txq; /* the control core's TX queue: the last, or IO_CTL_TXQ_KERNEL */
	int ctl_fd;	  /* with IO_CTL_TXQ_KERNEL: an AF_PACKET socket on the driver's iface */
	/* RX queues configured: n_data_queues, or more when the driver fixes the count
	 * (net_af_packet: qpairs, spread by the kernel's fanout hash) or wants as many RX queues
	 * as TX (net_tap). Unless lcores_poll_extra_rx, io_poll_exceptions drains
	 * the queues past the lcores' like an exception ring, so their DNS frames are lost to the
	 * fast path (counted as IO_EXC_SPILL_RX): the lcores may poll them instead. */
	uint16_t n_rx_queues;
	bool lcores_poll_extra_rx;
	int socket;
	struct rte_ether_addr mac;
	bool rss;	    /* RSS spreads RX over the data queues */
	bool tx_cksum_ipv4; /* the driver computes IPv4 header checksums (else software) */
	bool tx_cksum_udp;  /* the driver computes UDP checksums (else software) */
	bool link_up;
	uint32_t link_speed_mbps;
	struct rte_mempool *pool; /* where the control core's own frames come from */
	char name[IO_PORT_NAME_LEN];
};

/* Configures and starts a port; out describes it and the exception path learns it. 0 or -1. */
int io_port_setup(const struct io_port_params *p, struct io_port *out, char *err, size_t errlen);

/* The port io set up with that id, or NULL. */
const struct io_port *io_port_get(uint16_t port_id);

/* Stops and closes every port io set up (so net_pcap writes its file, TAPs go away). */
void io_ports_close(void);

/* ---- next-hop MACs ----
 *
 * Each entry is one 64-bit word the lcores load atomically: the MAC in the low 48 bits and
 * IO_NEIGH_VALID. The control core owns the rest (state, timers) in a separate array, so a
 * lookup touches one cache line and never sees a half-written MAC.
 */

#define IO_NEIGH_VALID (1ull << 63)

struct io_neigh_params {
	uint32_t capacity;
	uint32_t reachable_ms;	 /* re-resolve after this long without an answer (30000) */
	uint32_t retrans_ms;	 /* between requests for one next hop (1000) */
	uint32_t max_probes;	 /* unanswered requests before failed (3) */
	uint32_t failed_hold_ms; /* a failed next hop is tried again no sooner (5000) */
};

enum io_neigh_count {
	IO_NEIGH_C_WANTS_TAKEN, /* next hops taken from the lcores' wants */
	IO_NEIGH_C_PROBES,	/* requests sent (ARP or NS) */
	IO_NEIGH_C_LEARNED,	/* MACs learned or confirmed */
	IO_NEIGH_C_CHANGED,	/* a learned MAC differed from the one held */
	IO_NEIGH_C_FAILED,	/* next hops given up after max_probes */
	IO_NEIGH_C__COUNT
};

struct io_neigh_entry;

/* The fields are io's; lcores only call io_neigh_lookup and io_neigh_want. */
struct io_neigh_table {
	uint32_t capacity;
	uint64_t *mac_words;		/* read by lcores */
	uint64_t *want_bits;		/* set by lcores (lossy), taken by the control core */
	uint64_t *want_calls;		/* per EAL lcore id, a cache line apart */
	struct io_neigh_entry *entries; /* control core only */
	struct io_neigh_params params;
	uint64_t counts[IO_NEIGH_C__COUNT];
};

/* true and *mac filled when the next hop's MAC is known; never blocks, never allocates */
static inline bool io_neigh_lookup(const struct io_neigh_table *t, uint32_t nexthop,
				   struct rte_ether_addr *mac)
{
	if (nexthop >= t->capacity)
		return false;
	uint64_t w = __atomic_load_n(&t->mac_words[nexthop], __ATOMIC_ACQUIRE);
	if (!(w & IO_NEIGH_VALID))
		return false;
	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		mac->addr_bytes[i] = (uint8_t)(w >> (8 * (RTE_ETHER_ADDR_LEN - 1 - i)));
	return true;
}

/* tells the control core a next hop was needed but unknown (it sends ARP/ND); cheap, lossy, counted
 */
void io_neigh_want(struct io_neigh_table *t, uint32_t nexthop);

enum io_neigh_state {
	IO_NEIGH_UNUSED = 0,
	IO_NEIGH_INCOMPLETE, /* requests out, no answer yet */
	IO_NEIGH_REACHABLE,  /* answered within the reachable time */
	IO_NEIGH_STALE,	     /* past the reachable time: still used, being re-resolved */
	IO_NEIGH_FAILED,     /* max_probes unanswered: not used until wanted again */
	IO_NEIGH_STATIC,     /* from the config; never probed, never aged */
};

/* The address a next hop answers for, and where and how to ask it. */
struct io_nexthop {
	uint16_t port_id;
	uint16_t vlan_id; /* 0: untagged */
	uint8_t family;	  /* 4 or 6 */
	uint8_t addr[16];
	uint8_t src_addr[16]; /* an address of ours on that link, for the requests */
};

/* A request the control core must send now: unicast to the MAC held (a stale entry) or not. */
struct io_neigh_probe {
	uint32_t nexthop;
	bool unicast;
	struct rte_ether_addr mac;
};

/* Made with calloc (control core, before lcores start); NULL if out of memory or bad params. */
struct io_neigh_table *io_neigh_create(const struct io_neigh_params *p);
void io_neigh_free(struct io_neigh_table *t);

/* Defines next hop index (dense, < capacity) and starts resolving it at now_ms. 0 or -1. */
int io_neigh_define(struct io_neigh_table *t, uint32_t nexthop, const struct io_nexthop *nh,
		    uint64_t now_ms);
/* Defines a static next hop (config): its MAC never ages. 0 or -1. */
int io_neigh_define_static(struct io_neigh_table *t, uint32_t nexthop, const struct io_nexthop *nh,
			   const struct rte_ether_addr *mac);

/*
 * Learns addr's MAC from an ARP packet or NA/NS heard on (port, vlan): updates the next hops with
 * that address there (RFC 826 merge: only known ones, never creating). confirmed (an ARP reply or
 * solicited NA) makes them reachable; otherwise a new MAC is held as stale. The count updated.
 */
unsigned io_neigh_learn(struct io_neigh_table *t, uint16_t port_id, uint16_t vlan_id,
			uint8_t family, const uint8_t *addr, const struct rte_ether_addr *mac,
			bool confirmed, uint64_t now_ms);

/*
 * Advances the state machine to now_ms: takes the lcores' wants, ages reachable entries to stale,
 * gives up on unanswered ones, and fills up to max requests due (rate-limited per next hop by
 * retrans_ms). Returns how many.
 */
unsigned io_neigh_tick(struct io_neigh_table *t, uint64_t now_ms, struct io_neigh_probe *out,
		       unsigned max);

enum io_neigh_state io_neigh_state_of(const struct io_neigh_table *t, uint32_t nexthop);
const struct io_nexthop *io_neigh_nexthop(const struct io_neigh_table *t, uint32_t nexthop);
uint64_t io_neigh_count(const struct io_neigh_table *t, enum io_neigh_count c);
/* io_neigh_want calls, summed over lcores */
uint64_t io_neigh_want_calls(const struct io_neigh_table *t);
const char *io_neigh_count_name(enum io_neigh_count c);

/* ---- owned addresses and the exception path ---- */

/* An address vpcdns answers ARP/ND for (a resolver or endpoint address). */
struct io_owned_addr {
	uint16_t port_id;
	uint16_t vlan_id; /* 0: untagged */
	uint8_t family;	  /* 4 or 6 */
	uint8_t addr[16];
};

/* Creates one exception ring of ring_size slots (any count) per data lcore (SP/SC). 0 or -1. */
int io_exceptions_init(unsigned n_data_lcores, unsigned ring_size, char *err, size_t errlen);

/* One exception ring per data lcore (single producer: the lcore; single consumer: the control
 * core). The lcore enqueues frames it does not serve (ARP, ND and other ICMPv6, ICMP, TCP,
 * fragments, IPv6 extension headers: wire_err_not_ours) as they are; when the ring is full it frees
 * the mbuf and counts the drop. */
struct rte_ring *io_exception_ring(unsigned lcore_index);

/* Replaces the owned addresses (copied; control core only), after the ports are set up: each
 * port's multicast filter takes the IPv6 addresses' solicited-node MACs (or all-multicast when
 * the driver has no list). 0 or -1 (too many: IO_MAX_OWNED). */
#define IO_MAX_OWNED 4096
int io_set_owned(const struct io_owned_addr *addrs, size_t n);

/* The neighbour table the exception path learns into and sends requests for (NULL: none). */
void io_set_neigh_table(struct io_neigh_table *t);

/* Told the sender's address and MAC of every ARP packet and NS/NA io hears on (port, vlan), next
 * hop or not (it only learns next hops): in XDP mode the kernel, which never sees those, gets
 * them in its neighbour table this way. Runs in io_poll_exceptions. NULL: nobody. */
typedef void io_neigh_heard_fn(void *ctx, uint16_t port_id, uint16_t vlan_id, uint8_t family,
			       const uint8_t *addr, const uint8_t *mac);
void io_set_neigh_heard(io_neigh_heard_fn *fn, void *ctx);

/* Sends port's frames nobody else serves to tap_port (a net_tap port set up with 0 data queues),
 * and what the kernel sends on it out of port. 0 or -1 when either is not set up. */
int io_set_tap(uint16_t port_id, uint16_t tap_port_id);

/* Sends port's frames of VLAN vlan_id that nobody else serves to a TAP of their own, untagged (for
 * a kernel without 802.1Q sub-interfaces), and what the kernel sends on it out of port tagged.
 * 0, or -1 (a port not set up, a VLAN out of range, IO_MAX_VLAN_TAPS already). */
#define IO_MAX_VLAN_TAPS 64
int io_set_vlan_tap(uint16_t port_id, uint16_t vlan_id, uint16_t tap_port_id);

enum io_exc_count {
	IO_EXC_ARP_REPLIED,   /* ARP requests for owned addresses answered */
	IO_EXC_NA_SENT,	      /* neighbour solicitations for owned addresses answered */
	IO_EXC_NEIGH_HEARD,   /* ARP/ND from next hops learned from */
	IO_EXC_ARP_OTHER,     /* ARP we did not answer (learned from or not), no TAP */
	IO_EXC_ND_OTHER,      /* NS/NA we did not answer (learned from or not), no TAP */
	IO_EXC_MALFORMED_ARP, /* ARP wire_arp_parse rejected */
	IO_EXC_MALFORMED_ND,  /* NS/NA wire_nd_parse rejected */
	IO_EXC_TO_TAP,	      /* frames given to the kernel */
	IO_EXC_NO_TAP,	      /* other frames dropped: no TAP on that port */
	IO_EXC_TAP_FULL,      /* frames dropped: the TAP did not take them */
	IO_EXC_FROM_TAP,      /* kernel frames sent out of the port */
	IO_EXC_TX_FULL,	      /* our frames dropped: the control TX queue was full */
	IO_EXC_NO_MBUF,	      /* requests not sent: the pool was empty */
	IO_EXC_UNKNOWN_PORT,  /* frames from a port io did not set up */
	IO_EXC_SPILL_RX,      /* frames drained from RX queues past the lcores' (then handled) */
	IO_EXC_REFRAGMENTED,  /* datagrams over the TAP's MTU (reassembled by an lcore) cut again */
	IO_EXC_FRAG_FAILED,   /* such datagrams lost: not IPv4, or no mbufs to fragment them */
	IO_EXC__COUNT
};

/*
 * The control core's exception work, called from its loop: drains every lcore's ring (a bounded
 * burst each), answers ARP/NS for owned addresses, learns next hops, passes the rest to the TAP or
 * drops it, forwards what the TAPs send, and sends the neighbour requests due at now_ms. Returns
 * the frames handled.
 */
unsigned io_poll_exceptions(uint64_t now_ms);

/* Sends one frame of the control core's own out of port_id (its TX queue, or the kernel socket of
 * IO_CTL_TXQ_KERNEL). Takes m either way; false (counted) when it was not sent. Control core only.
 */
bool io_ctl_send(uint16_t port_id, struct rte_mbuf *m);

uint64_t io_exc_count(enum io_exc_count c);
const char *io_exc_count_name(enum io_exc_count c);

/* Frees the rings and the owned addresses (after the lcores stopped). */
void io_exceptions_free(void);

#endif
