/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/flow ports: how the endpoints' source ports are split among data lcores, one contiguous
 * range each, so that the owner of a reply's flow follows from its destination port alone.
 */
#include "dp/flow/flow.h"

/* Range i has `base` ports, plus one for the first `longer` ranges. */
struct port_split {
	uint32_t base, longer;
};

static struct port_split split_of(uint16_t lo, uint16_t hi, unsigned n_lcores)
{
	uint32_t total = (uint32_t)hi - lo + 1;

	return (struct port_split){total / n_lcores, total % n_lcores};
}

bool flow_ports_of_lcore(uint16_t lo, uint16_t hi, unsigned n_lcores, unsigned lcore,
			 uint16_t *lcore_lo, uint16_t *lcore_hi)
{
	struct port_split s;
	uint32_t start, len;

	if (lo > hi || n_lcores == 0 || lcore >= n_lcores)
		return false;
	s = split_of(lo, hi, n_lcores);
	len = s.base + (lcore < s.longer);
	if (len == 0)
		return false;
	start = lo + lcore * s.base + (lcore < s.longer ? lcore : s.longer);
	*lcore_lo = (uint16_t)start;
	*lcore_hi = (uint16_t)(start + len - 1);
	return true;
}

unsigned flow_port_owner(uint16_t lo, uint16_t hi, unsigned n_lcores, uint16_t port)
{
	struct port_split s;
	uint32_t offset, in_longer;

	if (n_lcores == 0 || port < lo || port > hi)
		return n_lcores;
	s = split_of(lo, hi, n_lcores);
	offset = (uint32_t)port - lo;
	in_longer = s.longer * (s.base + 1);
	if (offset < in_longer)
		return offset / (s.base + 1);
	return s.longer + (offset - in_longer) / s.base;
}
