/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/kernel: the kernel's side of the exception path. Each DPDK port may have a TAP (a net_tap
 * port) through which the lcores pass what they do not serve (TCP, ICMP, UDP to ports the flows do
 * not own); this module gives the kernel interface behind it what the kernel needs to answer as
 * vpcdns: the link up, one VLAN sub-interface per tagged VLAN, the resolver and endpoint addresses
 * (no DAD, no ARP of its own: io answers ARP and ND for them), and on-link routes to the VPCs'
 * CIDRs plus host routes through the VPC router to targets outside them. Routes carry a high
 * metric, and the control core's sockets bind to the interface (SO_BINDTODEVICE), so the host's
 * own routing is left alone and two VPCs with the same addresses on two VLANs stay apart.
 * Everything goes through rtnetlink (libmnl) and /proc/sys; the kernel drops it all with the TAP.
 * In XDP mode (config mode: xdp) there is no TAP: the NIC's own kernel interface, shared with the
 * host, takes the addresses and routes; kernel_undo takes them back. The XDP program steers ARP
 * and ND for our addresses to io, so the kernel learns the MACs it sends TCP to from
 * kernel_set_neighbour (the control core passes on what io hears).
 */
#ifndef VPCDNS_CTL_KERNEL_H
#define VPCDNS_CTL_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define KERNEL_IFNAME_MAX   16	 /* IFNAMSIZ */
#define KERNEL_ROUTE_METRIC 4000 /* below every route a host is likely to have */

#include "ctl/config/config.h"

struct kernel;

/* Makes a TAP named name that carries VLAN vlan of config interface itf untagged (the daemon's
 * io_set_vlan_tap): kernel_set_up's way to serve a tagged VLAN in a kernel without 802.1Q. 0, or
 * -1 with err. */
typedef int kernel_vlan_tap_fn(void *ctx, size_t itf, uint16_t vlan, const char *name, char *err,
			       size_t errlen);

/* Opens the rtnetlink socket. NULL with a sentence in err. */
struct kernel *kernel_open(char *err, size_t errlen);
void kernel_close(struct kernel *k);
/* Sets the fallback for VLANs the kernel cannot make sub-interfaces for (without one, such a
 * VLAN's VPCs and endpoints go without the kernel path, with a warning). */
void kernel_set_vlan_tap(struct kernel *k, kernel_vlan_tap_fn *fn, void *ctx);

/* The interface that carries VLAN vlan of TAP tap (the TAP itself for 0): made and brought up on
 * first use; its name in name (KERNEL_IFNAME_MAX). 0, KERNEL_NO_VLANS when the kernel has no
 * 802.1Q sub-interfaces (no 8021q module), or -1; err says why. */
#define KERNEL_NO_VLANS 1
int kernel_link(struct kernel *k, const char *tap, uint16_t vlan, char *name, char *err,
		size_t errlen);

/* Adds addr (4 or 16 octets by family) as a host address of ifname. Adding it twice is no error. */
int kernel_add_address(struct kernel *k, const char *ifname, uint8_t family, const uint8_t *addr,
		       char *err, size_t errlen);

/* A route to dst/prefix_len out of ifname: on-link when gateway is NULL, else through it.
 * Adding it twice is no error. */
int kernel_add_route(struct kernel *k, const char *ifname, uint8_t family, const uint8_t *dst,
		     uint8_t prefix_len, const uint8_t *gateway, char *err, size_t errlen);

/* Sets addr's MAC on ifname in the kernel's neighbour table (reachable, so it ages as if the
 * kernel had learnt it). 0, or -1 with err. */
int kernel_set_neighbour(struct kernel *k, const char *ifname, uint8_t family, const uint8_t *addr,
			 const uint8_t mac[6], char *err, size_t errlen);

/* Takes away what kernel_set_up added to interfaces shared with the host (XDP mode). Returns how
 * many addresses and routes could not be removed. */
size_t kernel_undo(struct kernel *k);

/*
 * Sets up the kernel side of every interface of cfg that has a kernel_interface (its TAP must
 * exist): per VPC and per endpoint, the link of its (interface, VLAN) with its resolver or endpoint
 * addresses and on-link routes to its VPC's CIDRs; per forward and delegate rule, a route through
 * the VPC router to each target outside those CIDRs. vpc_link[v] and endpoint_link[e]
 * (cfg->n_vpcs and cfg->n_endpoints entries) get each one's link name, "" without a TAP or when
 * the kernel cannot carry its VLAN and no fallback is set (a warning on stderr says so). 0, or -1
 * with err.
 */
typedef char kernel_ifname[KERNEL_IFNAME_MAX];
int kernel_set_up(struct kernel *k, const struct config *cfg, kernel_ifname *vpc_link,
		  kernel_ifname *endpoint_link, char *err, size_t errlen);

#endif
