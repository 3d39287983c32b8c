/* SPDX-License-Identifier: BSD-3-Clause */
/* The test stand-in for dp/io's neighbour table and exception rings (see io_stub/dp/io/io.h). */
#include "dp/io/io.h"

#define IO_STUB_LCORES 64

static struct rte_ring *exception_rings[IO_STUB_LCORES];

void io_neigh_want(struct io_neigh_table *t, uint32_t nexthop)
{
	if (nexthop < t->n)
		t->entries[nexthop].wanted++;
}

struct rte_ring *io_exception_ring(unsigned lcore_index)
{
	return lcore_index < IO_STUB_LCORES ? exception_rings[lcore_index] : NULL;
}

void io_stub_set_exception_ring(unsigned lcore_index, struct rte_ring *r)
{
	if (lcore_index < IO_STUB_LCORES)
		exception_rings[lcore_index] = r;
}
