/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/kernel: the kernel interfaces behind the TAPs, set up over rtnetlink. See kernel.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <net/if.h>

#include <libmnl/libmnl.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <sys/socket.h>

#include "ctl/kernel/kernel.h"

/* What was added to a kernel interface vpcdns shares with the host (XDP mode): taken away again by
 * kernel_undo, since the interface outlives the daemon (a TAP takes its own with it). */
#define UNDO_IPV6_OFF 0 /* IPv6 was off on the interface: turned off again */
struct undo {
	uint16_t type; /* RTM_DELADDR, RTM_DELROUTE, UNDO_IPV6_OFF */
	uint8_t family, prefix_len, has_gateway;
	char ifname[KERNEL_IFNAME_MAX];
	uint8_t addr[16], gateway[16];
};

struct kernel {
	struct mnl_socket *nl;
	struct undo *undo;
	size_t n_undo, cap_undo;
	kernel_vlan_tap_fn *vlan_tap; /* without 802.1Q: a TAP per VLAN, or NULL */
	void *vlan_tap_ctx;
	unsigned seq;
	char buf[8192]; /* MNL_SOCKET_BUFFER_SIZE on 4 KiB pages */
};

struct kernel *kernel_open(char *err, size_t errlen)
{
	struct kernel *k = calloc(1, sizeof(*k));
	if (!k) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	k->nl = mnl_socket_open(NETLINK_ROUTE);
	if (!k->nl || mnl_socket_bind(k->nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		snprintf(err, errlen, "rtnetlink: %s", strerror(errno));
		kernel_close(k);
		return NULL;
	}
	k->seq = (unsigned)time(NULL);
	return k;
}

void kernel_set_vlan_tap(struct kernel *k, kernel_vlan_tap_fn *fn, void *ctx)
{
	k->vlan_tap = fn;
	k->vlan_tap_ctx = ctx;
}

void kernel_close(struct kernel *k)
{
	if (!k)
		return;
	if (k->nl)
		mnl_socket_close(k->nl);
	free(k->undo);
	free(k);
}

static struct nlmsghdr *request(struct kernel *k, uint16_t type, uint16_t flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(k->buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++k->seq;
	return nlh;
}

/* Sends the request and reads its acknowledgement: 0, or -1 with errno the kernel's answer. */
static int transact(struct kernel *k, struct nlmsghdr *nlh)
{
	unsigned seq = nlh->nlmsg_seq, portid = mnl_socket_get_portid(k->nl);
	if (mnl_socket_sendto(k->nl, nlh, nlh->nlmsg_len) < 0)
		return -1;
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(k->nl, k->buf, sizeof(k->buf));
		if (n < 0)
			return -1;
		int rc = mnl_cb_run(k->buf, (size_t)n, seq, portid, NULL, NULL);
		if (rc <= MNL_CB_STOP)
			return rc;
	}
}

/* Remembers how to take back an address or route added to a shared interface. */
static void remember(struct kernel *k, const struct undo *u)
{
	for (size_t i = 0; i < k->n_undo; i++)
		if (memcmp(&k->undo[i], u, sizeof(*u)) == 0)
			return;
	if (k->n_undo == k->cap_undo) {
		size_t cap = k->cap_undo ? 2 * k->cap_undo : 16;
		struct undo *v = realloc(k->undo, cap * sizeof(*v));
		if (!v)
			return; /* it then stays on the interface: said by kernel_undo's count */
		k->undo = v;
		k->cap_undo = cap;
	}
	k->undo[k->n_undo++] = *u;
}

static int fail(char *err, size_t errlen, const char *what, const char *ifname)
{
	snprintf(err, errlen, "kernel interface %s: %s: %s", ifname, what, strerror(errno));
	return -1;
}

/* Writes value to /proc/sys/net/<path> for ifname; the sysctl may not exist (no IPv6). */
static void sysctl_if(const char *family, const char *ifname, const char *key, const char *value)
{
	char path[128];
	snprintf(path, sizeof(path), "/proc/sys/net/%s/conf/%s/%s", family, ifname, key);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t w = write(fd, value, strlen(value));
	(void)w; /* best effort: a missing knob leaves the kernel's default */
	close(fd);
}

/* What the kernel must not do on its own: resolve or announce our addresses (io does), probe
 * them (DAD), listen to routers or make link-local addresses of its own. */
static void quiet(const char *ifname)
{
	sysctl_if("ipv4", ifname, "arp_ignore", "8");
	sysctl_if("ipv6", ifname, "addr_gen_mode", "1");
	sysctl_if("ipv6", ifname, "accept_dad", "0");
	sysctl_if("ipv6", ifname, "accept_ra", "0");
	sysctl_if("ipv6", ifname, "disable_ipv6", "0");
}

/* Brings ifname up, with mtu when not 0. */
static int link_up_mtu(struct kernel *k, const char *ifname, uint32_t mtu, char *err, size_t errlen)
{
	struct nlmsghdr *nlh = request(k, RTM_NEWLINK, 0);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	ifm->ifi_index = (int)if_nametoindex(ifname);
	ifm->ifi_flags = IFF_UP;
	ifm->ifi_change = IFF_UP;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (ifm->ifi_index == 0 || transact(k, nlh) != 0)
		return fail(err, errlen, "link up", ifname);
	return 0;
}

static int link_up(struct kernel *k, const char *ifname, char *err, size_t errlen)
{
	return link_up_mtu(k, ifname, 0, err, errlen);
}

static int add_vlan(struct kernel *k, const char *tap, uint16_t vlan, const char *name, char *err,
		    size_t errlen)
{
	struct nlmsghdr *nlh = request(k, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifm));
	ifm->ifi_family = AF_UNSPEC;
	unsigned parent = if_nametoindex(tap);
	if (parent == 0)
		return fail(err, errlen, "no such interface", tap);
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_LINK, parent);
	struct nlattr *info = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "vlan");
	struct nlattr *data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u16(nlh, IFLA_VLAN_ID, vlan);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, info);
	if (transact(k, nlh) == 0 || errno == EEXIST)
		return 0;
	if (errno == EOPNOTSUPP) {
		snprintf(err, errlen,
			 "kernel interface %s: no VLAN sub-interfaces in this kernel (802.1Q)",
			 name);
		return KERNEL_NO_VLANS;
	}
	return fail(err, errlen, "VLAN sub-interface", name);
}

int kernel_link(struct kernel *k, const char *tap, uint16_t vlan, char *name, char *err,
		size_t errlen)
{
	if (vlan == 0) {
		snprintf(name, KERNEL_IFNAME_MAX, "%s", tap);
	} else if (snprintf(name, KERNEL_IFNAME_MAX, "%s.%u", tap, vlan) >= KERNEL_IFNAME_MAX) {
		snprintf(err, errlen, "kernel interface %s: name too long for VLAN %u", tap, vlan);
		return -1;
	}
	if (vlan != 0) {
		if (link_up(k, tap, err, errlen) != 0)
			return -1;
		int rc = add_vlan(k, tap, vlan, name, err, errlen);
		if (rc != 0)
			return rc;
	}
	quiet(name);
	return link_up(k, name, err, errlen);
}

static int add_address(struct kernel *k, const char *ifname, uint8_t family, const uint8_t *addr,
		       bool shared, char *err, size_t errlen)
{
	struct nlmsghdr *nlh = request(k, RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	size_t alen = family == 4 ? 4 : 16;
	ifa->ifa_family = family == 4 ? AF_INET : AF_INET6;
	ifa->ifa_prefixlen = (uint8_t)(alen * 8); /* a host address: no subnet route of its own */
	ifa->ifa_flags = family == 6 ? IFA_F_NODAD : 0;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = if_nametoindex(ifname);
	mnl_attr_put(nlh, IFA_LOCAL, alen, addr);
	mnl_attr_put(nlh, IFA_ADDRESS, alen, addr);
	if (ifa->ifa_index == 0 || transact(k, nlh) != 0)
		return fail(err, errlen, "address", ifname);
	if (shared) {
		struct undo u = {.type = RTM_DELADDR, .family = family};
		snprintf(u.ifname, sizeof(u.ifname), "%s", ifname);
		memcpy(u.addr, addr, alen);
		remember(k, &u);
	}
	return 0;
}

int kernel_add_address(struct kernel *k, const char *ifname, uint8_t family, const uint8_t *addr,
		       char *err, size_t errlen)
{
	return add_address(k, ifname, family, addr, false, err, errlen);
}

/* An RTM_NEWROUTE or RTM_DELROUTE for dst/prefix_len out of ifname (through gateway unless NULL).
 */
static struct nlmsghdr *route_request(struct kernel *k, uint16_t type, const char *ifname,
				      uint8_t family, const uint8_t *dst, uint8_t prefix_len,
				      const uint8_t *gateway)
{
	struct nlmsghdr *nlh =
	    request(k, type, type == RTM_NEWROUTE ? NLM_F_CREATE | NLM_F_REPLACE : 0);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	size_t alen = family == 4 ? 4 : 16;
	uint32_t oif = if_nametoindex(ifname);
	rtm->rtm_family = family == 4 ? AF_INET : AF_INET6;
	rtm->rtm_dst_len = prefix_len;
	rtm->rtm_table = RT_TABLE_MAIN;
	rtm->rtm_protocol = RTPROT_STATIC;
	rtm->rtm_scope = gateway ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK;
	rtm->rtm_type = RTN_UNICAST;
	mnl_attr_put(nlh, RTA_DST, alen, dst);
	mnl_attr_put_u32(nlh, RTA_OIF, oif);
	/* one metric per interface: the same CIDR on two VLANs makes two routes, not a clash */
	mnl_attr_put_u32(nlh, RTA_PRIORITY, KERNEL_ROUTE_METRIC + oif);
	if (gateway)
		mnl_attr_put(nlh, RTA_GATEWAY, alen, gateway);
	return oif ? nlh : NULL;
}

static int add_route(struct kernel *k, const char *ifname, uint8_t family, const uint8_t *dst,
		     uint8_t prefix_len, const uint8_t *gateway, bool shared, char *err,
		     size_t errlen)
{
	struct nlmsghdr *nlh =
	    route_request(k, RTM_NEWROUTE, ifname, family, dst, prefix_len, gateway);
	if (!nlh || transact(k, nlh) != 0)
		return fail(err, errlen, "route", ifname);
	if (shared) {
		struct undo u = {.type = RTM_DELROUTE,
				 .family = family,
				 .prefix_len = prefix_len,
				 .has_gateway = gateway != NULL};
		snprintf(u.ifname, sizeof(u.ifname), "%s", ifname);
		memcpy(u.addr, dst, family == 4 ? 4 : 16);
		if (gateway)
			memcpy(u.gateway, gateway, family == 4 ? 4 : 16);
		remember(k, &u);
	}
	return 0;
}

int kernel_add_route(struct kernel *k, const char *ifname, uint8_t family, const uint8_t *dst,
		     uint8_t prefix_len, const uint8_t *gateway, char *err, size_t errlen)
{
	return add_route(k, ifname, family, dst, prefix_len, gateway, false, err, errlen);
}

int kernel_set_neighbour(struct kernel *k, const char *ifname, uint8_t family, const uint8_t *addr,
			 const uint8_t mac[6], char *err, size_t errlen)
{
	struct nlmsghdr *nlh = request(k, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof(*ndm));
	ndm->ndm_family = family == 4 ? AF_INET : AF_INET6;
	ndm->ndm_ifindex = (int)if_nametoindex(ifname);
	/* reachable, not permanent: it goes stale and the kernel's own re-check (whose answer
	 * io hears in turn) keeps it true */
	ndm->ndm_state = NUD_REACHABLE;
	mnl_attr_put(nlh, NDA_DST, family == 4 ? 4 : 16, addr);
	mnl_attr_put(nlh, NDA_LLADDR, 6, mac);
	if (ndm->ndm_ifindex == 0 || transact(k, nlh) != 0)
		return fail(err, errlen, "neighbour", ifname);
	return 0;
}

size_t kernel_undo(struct kernel *k)
{
	size_t left = 0;
	while (k->n_undo > 0) {
		const struct undo *u = &k->undo[--k->n_undo];
		struct nlmsghdr *nlh;
		if (u->type == UNDO_IPV6_OFF) {
			sysctl_if("ipv6", u->ifname, "disable_ipv6", "1");
			continue;
		}
		if (u->type == RTM_DELROUTE) {
			nlh = route_request(k, RTM_DELROUTE, u->ifname, u->family, u->addr,
					    u->prefix_len, u->has_gateway ? u->gateway : NULL);
		} else {
			nlh = request(k, RTM_DELADDR, 0);
			struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
			size_t alen = u->family == 4 ? 4 : 16;
			ifa->ifa_family = u->family == 4 ? AF_INET : AF_INET6;
			ifa->ifa_prefixlen = (uint8_t)(alen * 8);
			ifa->ifa_index = if_nametoindex(u->ifname);
			mnl_attr_put(nlh, IFA_LOCAL, alen, u->addr);
			if (ifa->ifa_index == 0)
				nlh = NULL;
		}
		/* gone already (the interface with it) is as good as taken away */
		if (nlh && transact(k, nlh) != 0 && errno != ENOENT && errno != ESRCH &&
		    errno != EADDRNOTAVAIL && errno != ENODEV)
			left++;
	}
	return left;
}

/* A tagged VLAN the kernel cannot carry: its VPC or endpoint goes without the kernel path (no TCP,
 * no TCP fallback), said once on stderr, and the daemon serves the rest. */
static int no_kernel_path(char *link, const char *why, const char *kind, const char *id)
{
	link[0] = '\0';
	fprintf(stderr, "vpcdnsd: warning: %s; %s '%s' has no kernel path (no TCP)\n", why, kind,
		id);
	return 0;
}

static int add_cidr_routes(struct kernel *k, const char *link, const struct config_vpc *vpc,
			   bool shared, char *err, size_t errlen)
{
	for (size_t c = 0; c < vpc->n_cidrs; c++)
		if (add_route(k, link, vpc->cidrs[c].addr.family, vpc->cidrs[c].addr.bytes,
			      vpc->cidrs[c].len, NULL, shared, err, errlen) != 0)
			return -1;
	return 0;
}

/* IPv6 on ifname, for the resolver's IPv6 addresses (the kernel refuses them with EACCES
 * otherwise), and off again by kernel_undo when it was off. */
static void ipv6_on(struct kernel *k, const char *ifname)
{
	char path[128], was = '0';
	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return; /* no IPv6 in this kernel: the addresses will say so */
	ssize_t r = read(fd, &was, 1);
	close(fd);
	if (r != 1 || was != '1')
		return;
	sysctl_if("ipv6", ifname, "disable_ipv6", "0");
	struct undo u = {.type = UNDO_IPV6_OFF};
	snprintf(u.ifname, sizeof(u.ifname), "%s", ifname);
	remember(k, &u);
}

/* The NIC's own kernel interface in XDP mode, or its VLAN sub-interface. Left as the host has it
 * (no sysctls, no MTU): ARP and ND for our addresses never reach it (the XDP program steers them
 * to io), and the host may use it for its own. Without 802.1Q there is no TAP to fall back on, as
 * the kernel takes the VLAN's frames straight off the NIC: refused. */
static int shared_link(struct kernel *k, const struct config_interface *itf, uint16_t vlan,
		       char *link, char *err, size_t errlen)
{
	const char *nic = itf->kernel_interface;
	if (vlan == 0) {
		snprintf(link, KERNEL_IFNAME_MAX, "%s", nic);
		if (if_nametoindex(nic) == 0)
			return fail(err, errlen, "no such interface", nic);
		ipv6_on(k, nic);
		return 0;
	}
	if (snprintf(link, KERNEL_IFNAME_MAX, "%s.%u", nic, vlan) >= KERNEL_IFNAME_MAX) {
		snprintf(err, errlen, "kernel interface %s: name too long for VLAN %u", nic, vlan);
		return -1;
	}
	int rc = add_vlan(k, nic, vlan, link, err, errlen);
	if (rc == KERNEL_NO_VLANS) {
		snprintf(err, errlen,
			 "interface %s: VLAN %u in mode xdp needs the kernel's 802.1Q "
			 "sub-interfaces (%s), which this kernel lacks (no 8021q module); load "
			 "8021q, or use mode full_nic (a TAP per VLAN)",
			 itf->name, vlan, link);
		return -1;
	}
	return rc == 0 ? link_up(k, link, err, errlen) : -1;
}

/* The kernel link of (interface itf, vlan) for a VPC or endpoint (kind, id): a VLAN sub-interface,
 * or without 802.1Q a TAP of the VLAN's own (made once, by the fallback), or none (a warning). */
static int open_link(struct kernel *k, const struct config *cfg, size_t itf, uint16_t vlan,
		     char *link, const char *kind, const char *id, char *err, size_t errlen)
{
	const char *tap = cfg->interfaces[itf].kernel_interface;
	link[0] = '\0';
	if (!tap)
		return 0;
	if (cfg->interfaces[itf].mode == CONFIG_MODE_XDP)
		return shared_link(k, &cfg->interfaces[itf], vlan, link, err, errlen);
	int rc = kernel_link(k, tap, vlan, link, err, errlen);
	if (rc != KERNEL_NO_VLANS)
		return rc;
	if (!k->vlan_tap)
		return no_kernel_path(link, err, kind, id);
	if (if_nametoindex(link) == 0 && k->vlan_tap(k->vlan_tap_ctx, itf, vlan, link, err, errlen))
		return -1;
	quiet(link);
	uint32_t mtu = cfg->interfaces[itf].mtu ? cfg->interfaces[itf].mtu : 1500;
	return link_up_mtu(k, link, mtu, err, errlen);
}

static int set_up_vpc(struct kernel *k, const struct config *cfg, size_t v, char *link, char *err,
		      size_t errlen)
{
	const struct config_vpc *vpc = &cfg->vpcs[v];
	if (open_link(k, cfg, vpc->interface.index, vpc->vlan, link, "vpc", vpc->id, err, errlen))
		return -1;
	if (!link[0])
		return 0;
	bool shared = cfg->interfaces[vpc->interface.index].mode == CONFIG_MODE_XDP;
	for (size_t a = 0; a < vpc->n_resolver_addresses; a++)
		if (add_address(k, link, vpc->resolver_addresses[a].family,
				vpc->resolver_addresses[a].bytes, shared, err, errlen) != 0)
			return -1;
	return add_cidr_routes(k, link, vpc, shared, err, errlen);
}

static int set_up_endpoint(struct kernel *k, const struct config *cfg, size_t e, char *link,
			   char *err, size_t errlen)
{
	const struct config_endpoint *ep = &cfg->endpoints[e];
	if (open_link(k, cfg, ep->interface.index, ep->vlan, link, "endpoint", ep->id, err, errlen))
		return -1;
	if (!link[0])
		return 0;
	bool shared = cfg->interfaces[ep->interface.index].mode == CONFIG_MODE_XDP;
	for (size_t a = 0; a < ep->n_addresses; a++)
		if (add_address(k, link, ep->addresses[a].family, ep->addresses[a].bytes, shared,
				err, errlen) != 0)
			return -1;
	return add_cidr_routes(k, link, &cfg->vpcs[ep->vpc.index], shared, err, errlen);
}

/* Targets outside the endpoint's VPC are reached through its router, as the lcores reach them. */
static int route_targets(struct kernel *k, const struct config *cfg, const struct config_rule *r,
			 const char *link, char *err, size_t errlen)
{
	const struct config_endpoint *ep = &cfg->endpoints[r->endpoint.index];
	const struct config_vpc *vpc = &cfg->vpcs[ep->vpc.index];
	bool shared = cfg->interfaces[ep->interface.index].mode == CONFIG_MODE_XDP;
	for (size_t t = 0; t < r->n_targets; t++) {
		const struct config_addr *a = &r->targets[t].addr;
		if (config_vpc_contains(vpc, a) || vpc->gateway.family != a->family)
			continue;
		if (add_route(k, link, a->family, a->bytes, a->family == 4 ? 32 : 128,
			      vpc->gateway.bytes, shared, err, errlen) != 0)
			return -1;
	}
	return 0;
}

int kernel_set_up(struct kernel *k, const struct config *cfg, kernel_ifname *vpc_link,
		  kernel_ifname *endpoint_link, char *err, size_t errlen)
{
	/* the kernel sends at the link's MTU (its TCP segments go out on the wire as they are) */
	for (size_t i = 0; i < cfg->n_interfaces; i++) {
		const struct config_interface *itf = &cfg->interfaces[i];
		if (itf->kernel_interface && itf->mode != CONFIG_MODE_XDP &&
		    link_up_mtu(k, itf->kernel_interface, itf->mtu ? itf->mtu : 1500, err,
				errlen) != 0)
			return -1;
	}
	for (size_t v = 0; v < cfg->n_vpcs; v++)
		if (set_up_vpc(k, cfg, v, vpc_link[v], err, errlen) != 0)
			return -1;
	for (size_t e = 0; e < cfg->n_endpoints; e++)
		if (set_up_endpoint(k, cfg, e, endpoint_link[e], err, errlen) != 0)
			return -1;
	for (size_t r = 0; r < cfg->n_rules; r++) {
		const struct config_rule *rule = &cfg->rules[r];
		if (rule->type == CONFIG_RULE_SYSTEM || !endpoint_link[rule->endpoint.index][0])
			continue;
		if (route_targets(k, cfg, rule, endpoint_link[rule->endpoint.index], err, errlen) !=
		    0)
			return -1;
	}
	return 0;
}
