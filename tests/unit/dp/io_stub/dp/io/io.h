/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A stand-in for dp/io/io.h, backed by a plain array and one ring per lcore that the caller
 * creates. dp's unit tests link the real io now; only bench/pipeline still builds against this,
 * and the directory goes when bench/pipeline does not.
 */
#ifndef VPCDNS_DP_IO_H
#define VPCDNS_DP_IO_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

struct io_neigh_entry {
	bool known;
	struct rte_ether_addr mac;
	uint64_t wanted; /* io_neigh_want calls */
};

struct io_neigh_table {
	uint32_t n;
	struct io_neigh_entry *entries;
};

static inline bool io_neigh_lookup(const struct io_neigh_table *t, uint32_t nexthop,
				   struct rte_ether_addr *mac)
{
	if (nexthop >= t->n || !t->entries[nexthop].known)
		return false;
	*mac = t->entries[nexthop].mac;
	return true;
}

void io_neigh_want(struct io_neigh_table *t, uint32_t nexthop);

struct rte_ring *io_exception_ring(unsigned lcore_index);

/* Test side: the rings io_exception_ring hands out. */
void io_stub_set_exception_ring(unsigned lcore_index, struct rte_ring *r);

#endif
