/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bpf/steer: the control core's side of the XDP program (steer.bpf.c). DPDK's af_xdp driver loads
 * and attaches the program (xdp_prog= devarg); this finds its maps through the program attached to
 * the interface and fills them: the owned addresses with their kinds and the flows' port range.
 * It reads the verdict counters back. Control core only (system calls).
 */
#ifndef VPCDNS_BPF_STEER_CTL_H
#define VPCDNS_BPF_STEER_CTL_H

#include <stddef.h>
#include <stdint.h>

#include "bpf/steer.h"

struct steer;

/* The path of the program's object for xdp_prog=: $VPCDNS_STEER_OBJ, else the installed one,
 * else the build tree's. NULL when none exists. */
const char *steer_object_path(void);

/* The maps of the XDP program attached to ifname (any mode). NULL with a sentence in err. */
struct steer *steer_open_interface(const char *ifname, char *err, size_t errlen);
/* The maps of a loaded program (tests load it themselves). */
struct steer *steer_open_program(int prog_fd, char *err, size_t errlen);
void steer_close(struct steer *s);

/* Adds kind (STEER_KIND_*) to (vlan, addr), family 4 or 6. 0, or -1 with err. */
int steer_own(struct steer *s, uint16_t vlan, uint8_t family, const uint8_t *addr, uint32_t kind,
	      char *err, size_t errlen);
/* The endpoint addresses' UDP ports that are the lcores' (inclusive). 0, or -1 with err. */
int steer_set_flow_ports(struct steer *s, uint16_t lo, uint16_t hi, char *err, size_t errlen);

/* Counter c summed over CPUs (0 when it cannot be read). */
uint64_t steer_count(const struct steer *s, enum steer_count c);
const char *steer_count_name(enum steer_count c);

#endif
