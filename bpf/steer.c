/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf/steer.c: finds the maps of the XDP program DPDK attached and fills them. See steer_ctl.h.
 * The maps are found by name through the program's own map ids, not pinned: they live as long
 * as the program DPDK attached, and nothing is left in bpffs when the daemon goes.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <net/if.h>

#include "bpf/steer_ctl.h"

struct steer {
	int addrs_fd, ports_fd, stats_fd;
};

static const char *const count_names[STEER__COUNT] = {
    [STEER_TO_DNS] = "to_dns",
    [STEER_TO_FLOW] = "to_flow",
    [STEER_TO_FRAGMENT] = "to_fragment",
    [STEER_TO_ARP] = "to_arp",
    [STEER_TO_ND] = "to_nd",
    [STEER_PASS_NOT_IP] = "pass_not_ip",
    [STEER_PASS_NOT_OURS] = "pass_not_ours",
    [STEER_PASS_TCP] = "pass_tcp",
    [STEER_PASS_UDP_PORT] = "pass_udp_port",
    [STEER_PASS_OTHER] = "pass_other",
    [STEER_PASS_SHORT] = "pass_short",
    [STEER_NO_SOCKET] = "no_socket",
};

const char *steer_count_name(enum steer_count c)
{
	return c < STEER__COUNT ? count_names[c] : "?";
}

static bool readable(const char *path)
{
	return path && path[0] && access(path, R_OK) == 0;
}

const char *steer_object_path(void)
{
	const char *env = getenv("VPCDNS_STEER_OBJ");
	if (env)
		return readable(env) ? env : NULL;
	if (readable(VPCDNS_STEER_INSTALLED))
		return VPCDNS_STEER_INSTALLED;
	return readable(VPCDNS_STEER_BUILT) ? VPCDNS_STEER_BUILT : NULL;
}

void steer_close(struct steer *s)
{
	if (!s)
		return;
	int fds[] = {s->addrs_fd, s->ports_fd, s->stats_fd};
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(s);
}

/* Keeps map id's fd in s when its name is one of ours; closes it otherwise. */
static void take_map(struct steer *s, uint32_t id)
{
	int fd = bpf_map_get_fd_by_id(id);
	if (fd < 0)
		return;
	struct bpf_map_info info = {0};
	uint32_t len = sizeof(info);
	int *slot = NULL;
	if (bpf_obj_get_info_by_fd(fd, &info, &len) == 0) {
		if (strcmp(info.name, STEER_MAP_ADDRS) == 0)
			slot = &s->addrs_fd;
		else if (strcmp(info.name, STEER_MAP_PORTS) == 0)
			slot = &s->ports_fd;
		else if (strcmp(info.name, STEER_MAP_STATS) == 0)
			slot = &s->stats_fd;
	}
	if (slot && *slot < 0)
		*slot = fd;
	else
		close(fd);
}

struct steer *steer_open_program(int prog_fd, char *err, size_t errlen)
{
	uint32_t ids[16];
	struct bpf_prog_info info = {.nr_map_ids = 16, .map_ids = (uint64_t)(uintptr_t)ids};
	uint32_t len = sizeof(info);
	if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) {
		snprintf(err, errlen, "XDP program: %s", strerror(errno));
		return NULL;
	}
	struct steer *s = malloc(sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	*s = (struct steer){-1, -1, -1};
	for (uint32_t i = 0; i < info.nr_map_ids && i < 16; i++)
		take_map(s, ids[i]);
	if (s->addrs_fd < 0 || s->ports_fd < 0 || s->stats_fd < 0) {
		snprintf(err, errlen,
			 "XDP program '%s' has no maps " STEER_MAP_ADDRS ", " STEER_MAP_PORTS
			 ", " STEER_MAP_STATS ": not vpcdns's steer.bpf.o",
			 info.name);
		steer_close(s);
		return NULL;
	}
	return s;
}

struct steer *steer_open_interface(const char *ifname, char *err, size_t errlen)
{
	int ifindex = (int)if_nametoindex(ifname);
	uint32_t prog_id = 0;
	if (ifindex == 0) {
		snprintf(err, errlen, "interface %s: %s", ifname, strerror(errno));
		return NULL;
	}
	if (bpf_xdp_query_id(ifindex, 0, &prog_id) != 0 || prog_id == 0) {
		snprintf(err, errlen, "interface %s: no XDP program attached", ifname);
		return NULL;
	}
	int prog_fd = bpf_prog_get_fd_by_id(prog_id);
	if (prog_fd < 0) {
		snprintf(err, errlen, "interface %s: XDP program %u: %s", ifname, prog_id,
			 strerror(errno));
		return NULL;
	}
	struct steer *s = steer_open_program(prog_fd, err, errlen);
	close(prog_fd);
	return s;
}

int steer_own(struct steer *s, uint16_t vlan, uint8_t family, const uint8_t *addr, uint32_t kind,
	      char *err, size_t errlen)
{
	struct steer_addr_key key = {.vlan = vlan, .family = family};
	uint32_t kinds = 0;
	memcpy(key.addr, addr, family == 4 ? 4 : 16);
	if (bpf_map_lookup_elem(s->addrs_fd, &key, &kinds) != 0)
		kinds = 0;
	kinds |= kind;
	if (bpf_map_update_elem(s->addrs_fd, &key, &kinds, BPF_ANY) != 0) {
		snprintf(err, errlen, "XDP map " STEER_MAP_ADDRS ": %s", strerror(errno));
		return -1;
	}
	return 0;
}

int steer_set_flow_ports(struct steer *s, uint16_t lo, uint16_t hi, char *err, size_t errlen)
{
	uint32_t zero = 0;
	struct steer_ports ports = {.flow_lo = lo, .flow_hi = hi};
	if (bpf_map_update_elem(s->ports_fd, &zero, &ports, BPF_ANY) != 0) {
		snprintf(err, errlen, "XDP map " STEER_MAP_PORTS ": %s", strerror(errno));
		return -1;
	}
	return 0;
}

uint64_t steer_count(const struct steer *s, enum steer_count c)
{
	int cpus = libbpf_num_possible_cpus();
	if (cpus <= 0)
		return 0;
	uint64_t *per_cpu = calloc((size_t)cpus, sizeof(*per_cpu));
	uint32_t key = c;
	uint64_t sum = 0;
	if (per_cpu && bpf_map_lookup_elem(s->stats_fd, &key, per_cpu) == 0)
		for (int i = 0; i < cpus; i++)
			sum += per_cpu[i];
	free(per_cpu);
	return sum;
}
