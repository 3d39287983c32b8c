// SPDX-License-Identifier: BSD-3-Clause
/*
 * bpf/steer.bpf.c: the XDP program of an interface in XDP mode (see steer.h for what it steers
 * and why). DPDK's af_xdp driver loads it (xdp_prog= devarg) and puts its sockets into xsks_map;
 * the control core fills steer_addrs and steer_ports once the program is attached (bpf/steer.c).
 * Until then, and on a queue without a socket, everything goes to the kernel.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/udp.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "steer.h"

#define VLAN_VID_MASK 0x0fff
#define IP_FRAGMENT   0x3fff /* MF and the offset: a fragment when any is set */
#define DNS_PORT      53
#define ICMPV6_NS     135
#define ICMPV6_NA     136
#define ARP_HW_ETHER  1 /* ARPHRD_ETHER: linux/if_arp.h pulls in libc headers */

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, STEER_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks_map SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STEER_MAX_ADDRS);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* a few hundred kept entries, not 65536 up front */
	__type(key, struct steer_addr_key);
	__type(value, __u32);
} steer_addrs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct steer_ports);
} steer_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STEER__COUNT);
	__type(key, __u32);
	__type(value, __u64);
} steer_stats SEC(".maps");

/* The frame past its Ethernet header (and 802.1Q tag). */
struct frame {
	void *l3;
	void *end;
	__u16 proto; /* ethertype, host order */
	__u16 vlan;
};

struct arp_ipv4 {
	__be16 hw_type;
	__be16 proto;
	__u8 hw_len;
	__u8 proto_len;
	__be16 op;
	__u8 sender_mac[ETH_ALEN];
	__u8 sender_ip[4];
	__u8 target_mac[ETH_ALEN];
	__u8 target_ip[4];
} __attribute__((packed));

struct nd_msg {
	__u8 type;
	__u8 code;
	__u16 checksum;
	__u32 reserved;
	__u8 target[16];
};

static __always_inline void count(enum steer_count c)
{
	__u32 key = c;
	__u64 *v = bpf_map_lookup_elem(&steer_stats, &key);
	if (v)
		(*v)++;
}

static __always_inline int pass(enum steer_count c)
{
	count(c);
	return XDP_PASS;
}

static __always_inline int steer(struct xdp_md *ctx, enum steer_count c)
{
	count(c);
	int verdict = bpf_redirect_map(&xsks_map, ctx->rx_queue_index, XDP_PASS);
	if (verdict != XDP_REDIRECT)
		count(STEER_NO_SOCKET);
	return verdict;
}

/* What (vlan, addr) is to vpcdns: STEER_KIND_* bits, 0 when not owned. */
static __always_inline __u32 kind_of(__u16 vlan, __u8 family, const void *addr)
{
	struct steer_addr_key key = {.vlan = vlan, .family = family};
	__builtin_memcpy(key.addr, addr, family == 4 ? 4 : 16);
	__u32 *kind = bpf_map_lookup_elem(&steer_addrs, &key);
	return kind ? *kind : 0;
}

static __always_inline int udp_verdict(struct xdp_md *ctx, const struct frame *f, void *l4,
				       __u32 kind)
{
	struct udphdr *udp = l4;
	if ((void *)(udp + 1) > f->end)
		return pass(STEER_PASS_SHORT);
	__u16 port = bpf_ntohs(udp->dest);
	if ((kind & STEER_KIND_RESOLVER) && port == DNS_PORT)
		return steer(ctx, STEER_TO_DNS);
	if (kind & STEER_KIND_ENDPOINT) {
		__u32 zero = 0;
		struct steer_ports *ports = bpf_map_lookup_elem(&steer_ports, &zero);
		if (ports && port >= ports->flow_lo && port <= ports->flow_hi && ports->flow_hi)
			return steer(ctx, STEER_TO_FLOW);
	}
	return pass(STEER_PASS_UDP_PORT);
}

static __always_inline int ipv4_verdict(struct xdp_md *ctx, const struct frame *f)
{
	struct iphdr *ip = f->l3;
	if ((void *)(ip + 1) > f->end || ip->ihl < 5)
		return pass(STEER_PASS_SHORT);
	__u32 kind = kind_of(f->vlan, 4, &ip->daddr) & (STEER_KIND_RESOLVER | STEER_KIND_ENDPOINT);
	if (!kind)
		return pass(STEER_PASS_NOT_OURS);
	if (ip->frag_off & bpf_htons(IP_FRAGMENT))
		return (kind & STEER_KIND_ENDPOINT) ? steer(ctx, STEER_TO_FRAGMENT)
						    : pass(STEER_PASS_OTHER);
	if (ip->protocol == IPPROTO_TCP)
		return pass(STEER_PASS_TCP);
	if (ip->protocol != IPPROTO_UDP)
		return pass(STEER_PASS_OTHER);
	return udp_verdict(ctx, f, (void *)ip + ip->ihl * 4, kind);
}

/* NS about an owned target (io answers it); NA to an owned address (the answer to io's NS, or to
 * the kernel's, whose MAC the control core gives the kernel). */
static __always_inline int nd_verdict(struct xdp_md *ctx, const struct frame *f,
				      const struct ipv6hdr *ip6)
{
	struct nd_msg *nd = (void *)(ip6 + 1);
	if ((void *)(nd + 1) > f->end)
		return pass(STEER_PASS_SHORT);
	if (nd->type == ICMPV6_NS && (kind_of(f->vlan, 6, nd->target) & STEER_KIND_NEIGH))
		return steer(ctx, STEER_TO_ND);
	if (nd->type == ICMPV6_NA && (kind_of(f->vlan, 6, &ip6->daddr) & STEER_KIND_NEIGH))
		return steer(ctx, STEER_TO_ND);
	return pass(STEER_PASS_OTHER);
}

static __always_inline int ipv6_verdict(struct xdp_md *ctx, const struct frame *f)
{
	struct ipv6hdr *ip6 = f->l3;
	if ((void *)(ip6 + 1) > f->end)
		return pass(STEER_PASS_SHORT);
	if (ip6->nexthdr == IPPROTO_ICMPV6)
		return nd_verdict(ctx, f, ip6);
	__u32 kind = kind_of(f->vlan, 6, &ip6->daddr) & (STEER_KIND_RESOLVER | STEER_KIND_ENDPOINT);
	if (!kind)
		return pass(STEER_PASS_NOT_OURS);
	if (ip6->nexthdr == IPPROTO_TCP)
		return pass(STEER_PASS_TCP);
	if (ip6->nexthdr != IPPROTO_UDP)
		return pass(STEER_PASS_OTHER);
	return udp_verdict(ctx, f, ip6 + 1, kind);
}

static __always_inline int arp_verdict(struct xdp_md *ctx, const struct frame *f)
{
	struct arp_ipv4 *arp = f->l3;
	if ((void *)(arp + 1) > f->end)
		return pass(STEER_PASS_SHORT);
	if (arp->hw_type != bpf_htons(ARP_HW_ETHER) || arp->proto != bpf_htons(ETH_P_IP) ||
	    arp->hw_len != ETH_ALEN || arp->proto_len != 4)
		return pass(STEER_PASS_NOT_IP);
	/* the host's own addresses on a shared NIC stay the kernel's to resolve */
	if (!(kind_of(f->vlan, 4, arp->target_ip) & STEER_KIND_NEIGH))
		return pass(STEER_PASS_NOT_IP);
	return steer(ctx, STEER_TO_ARP);
}

SEC("xdp")
int steer_dns(struct xdp_md *ctx)
{
	struct frame f = {.end = (void *)(long)ctx->data_end};
	struct ethhdr *eth = (void *)(long)ctx->data;
	if ((void *)(eth + 1) > f.end)
		return pass(STEER_PASS_SHORT);
	f.proto = bpf_ntohs(eth->h_proto);
	f.l3 = eth + 1;
	if (f.proto == ETH_P_8021Q) {
		__be16 *tag = f.l3;
		if ((void *)(tag + 2) > f.end)
			return pass(STEER_PASS_SHORT);
		f.vlan = bpf_ntohs(tag[0]) & VLAN_VID_MASK;
		f.proto = bpf_ntohs(tag[1]);
		f.l3 = tag + 2;
	}
	switch (f.proto) {
	case ETH_P_IP:
		return ipv4_verdict(ctx, &f);
	case ETH_P_IPV6:
		return ipv6_verdict(ctx, &f);
	case ETH_P_ARP:
		return arp_verdict(ctx, &f);
	default:
		return pass(STEER_PASS_NOT_IP);
	}
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
