/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf/steer: what the XDP program of an interface in XDP mode (steer.bpf.c) and the control core
 * (steer.c) share: the maps' keys and values and the verdict counters. The program sends the DNS
 * flows vpcdns owns to DPDK's AF_XDP sockets and passes all else to the kernel, which shares the
 * NIC: UDP to a resolver address on port 53, UDP to an endpoint address on a flow port, IPv4
 * fragments to an endpoint address (the lcores reassemble targets' answers), and ARP and neighbour
 * discovery about an owned address (io answers them and learns next hops). Only kernel UAPI types
 * here: the BPF side includes it too.
 */
#ifndef VPCDNS_BPF_STEER_H
#define VPCDNS_BPF_STEER_H

#include <linux/types.h>

/* Map names as the program's object names them (at most 15 characters: BPF_OBJ_NAME_LEN). */
#define STEER_MAP_XSKS	"xsks_map" /* DPDK's af_xdp driver fills it (xdp_prog= devarg) */
#define STEER_MAP_ADDRS "steer_addrs"
#define STEER_MAP_PORTS "steer_ports"
#define STEER_MAP_STATS "steer_stats"

#define STEER_MAX_ADDRS	 65536 /* owned (VLAN, address) pairs */
#define STEER_MAX_QUEUES 64    /* RX queues with an AF_XDP socket */

/* steer_addrs' key: an owned address on a VLAN (0: untagged). IPv4 in the first 4 octets, the
 * rest zero. */
struct steer_addr_key {
	__u16 vlan;
	__u8 family; /* 4 or 6 */
	__u8 pad;    /* zero */
	__u8 addr[16];
};

/* steer_addrs' value: what the address is to vpcdns (one address may be both). */
#define STEER_KIND_RESOLVER 1u /* UDP to port 53 is vpcdns's */
#define STEER_KIND_ENDPOINT 2u /* UDP to the flow ports, and IPv4 fragments, are vpcdns's */
#define STEER_KIND_NEIGH    4u /* ARP and ND about it are io's (every owned address has it) */

/* steer_ports' only entry: the endpoint addresses' UDP ports the lcores' flows use (the rest of
 * those addresses' ports are the kernel's). Both 0 until the control core sets them: no flow port
 * is steered. */
struct steer_ports {
	__u16 flow_lo; /* host order, inclusive */
	__u16 flow_hi;
};

/* steer_stats: one per-CPU counter per verdict; each frame counts once under one of these, and
 * a frame steered to a queue without a socket (passed to the kernel) also under NO_SOCKET. */
enum steer_count {
	STEER_TO_DNS,	     /* UDP to a resolver address, port 53 */
	STEER_TO_FLOW,	     /* UDP to an endpoint address, a flow port */
	STEER_TO_FRAGMENT,   /* an IPv4 fragment to an endpoint address */
	STEER_TO_ARP,	     /* ARP whose target is an owned address */
	STEER_TO_ND,	     /* NS for an owned target, NA to an owned address */
	STEER_PASS_NOT_IP,   /* other ethertypes, ARP about other addresses */
	STEER_PASS_NOT_OURS, /* IP to an address vpcdns does not own */
	STEER_PASS_TCP,	     /* TCP to an owned address: the kernel's */
	STEER_PASS_UDP_PORT, /* UDP to an owned address on a port that is the kernel's */
	STEER_PASS_OTHER, /* ICMP, other ICMPv6, IPv6 extension headers, fragments to resolvers */
	STEER_PASS_SHORT, /* truncated headers: the kernel judges them */
	STEER_NO_SOCKET,  /* steered, but no AF_XDP socket on that queue: passed */
	STEER__COUNT
};

#endif
