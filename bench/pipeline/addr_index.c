/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/pipeline address index: dp_tables_lookup_addr (open addressing, linear probing) against
 * rte_hash holding the same 20-octet keys behind the same kind of function call, random hits, each
 * measured twice with the order alternated so neither gets the warm caches. In process: no port.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_random.h>

#include "bench/pipeline/bench.h"
#include "dp/dp.h"
#include "dp/dp_internal.h"

static void die(const char *what)
{
	fprintf(stderr, "bench_pipeline: %s\n", what);
	exit(1);
}

static struct dp_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (struct dp_addr){.family = 4, .addr = {a, b, c, d}};
}

static double cycles_to_ns(uint64_t cycles, uint64_t n)
{
	return (double)cycles * 1e9 / (double)rte_get_tsc_hz() / (double)n;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

#define ADDR_LOOKUPS (1u << 22)

/* The alternative dp/tables was measured against: rte_hash with the same 20-octet key, built the
 * same way, behind a function call like dp_tables_lookup_addr. */
static __attribute__((noinline)) uint32_t
rte_hash_lookup_addr(const struct rte_hash *h, uint16_t port, uint16_t vlan, const uint8_t *addr)
{
	uint8_t key[DP_ADDR_KEY_LEN] = {0};
	void *data;
	memcpy(key, &port, 2);
	memcpy(key + 2, &vlan, 2);
	memcpy(key + 4, addr, 4);
	return rte_hash_lookup_data(h, key, &data) < 0 ? 0 : (uint32_t)(uintptr_t)data;
}

static void addr_index_run(uint32_t n_vpcs, double *ours_ns, double *rte_ns)
{
	char err[200];
	struct dp_tables_builder *b = dp_tables_builder_new(&(struct dp_tunables){0});
	static unsigned serial;
	char name[RTE_HASH_NAMESIZE];
	snprintf(name, sizeof(name), "b_addr%u", serial++);
	struct rte_hash_parameters hp = {.name = name,
					 .entries = 2 * n_vpcs,
					 .key_len = DP_ADDR_KEY_LEN,
					 .hash_func = rte_hash_crc,
					 .socket_id = SOCKET_ID_ANY};
	struct rte_hash *h = rte_hash_create(&hp);
	uint8_t(*keys)[DP_ADDR_KEY_LEN] = calloc(n_vpcs, DP_ADDR_KEY_LEN);
	if (!h || !keys)
		die("out of memory");
	for (uint32_t v = 0; v < n_vpcs; v++) {
		struct match_builder *mb = match_builder_new(MATCH_ENGINE_SUFFIX);
		struct dp_addr r = v4(10, (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v);
		struct dp_vpc_spec vpc = {.port = 0,
					  .vlan = (uint16_t)(v % 4000),
					  .resolver_addrs = &r,
					  .n_resolver_addrs = 1,
					  .match = match_builder_build(mb, err, sizeof(err))};
		if (dp_tables_add_vpc(b, &vpc, err, sizeof(err)) < 0)
			die(err);
		memcpy(keys[v] + 2, &vpc.vlan, 2);
		memcpy(keys[v] + 4, r.addr, 4);
		rte_hash_add_key_data(h, keys[v], (void *)(uintptr_t)(v + 1));
	}
	struct dp_tables *t = dp_tables_build(b, err, sizeof(err));
	if (!t)
		die(err);
	uint32_t *order = malloc(ADDR_LOOKUPS * sizeof(*order));
	for (uint32_t i = 0; i < ADDR_LOOKUPS; i++)
		order[i] = (uint32_t)(rte_rand() % n_vpcs);
	uint64_t sum = 0;
	for (int pass = 0; pass < 2; pass++) { /* alternate which goes first: warm caches */
		for (int which = 0; which < 2; which++) {
			bool dp = (which ^ pass) != 0;
			uint64_t t0 = rte_rdtsc_precise();
			for (uint32_t i = 0; i < ADDR_LOOKUPS; i++) {
				const uint8_t *k = keys[order[i]];
				uint16_t vlan;
				memcpy(&vlan, k + 2, 2);
				sum += dp ? dp_tables_lookup_addr(t, 0, vlan, 4, k + 4).index
					  : rte_hash_lookup_addr(h, 0, vlan, k + 4);
			}
			double ns = cycles_to_ns(rte_rdtsc_precise() - t0, ADDR_LOOKUPS);
			if (pass == 1)
				*(dp ? ours_ns : rte_ns) = ns;
		}
	}
	if (sum == 0)
		die("no hits");
	free(order);
	free(keys);
	rte_hash_free(h);
	dp_tables_free(t);
}

void addr_index_bench(unsigned runs)
{
	double ours[runs], rte[runs];
	printf("address index, random hits, %u lookups, median of %u runs:\n", ADDR_LOOKUPS, runs);
	const uint32_t sizes[] = {1000, 100000};
	for (unsigned s = 0; s < 2; s++) {
		for (unsigned r = 0; r < runs; r++)
			addr_index_run(sizes[s], &ours[r], &rte[r]);
		qsort(ours, runs, sizeof(double), cmp_double);
		qsort(rte, runs, sizeof(double), cmp_double);
		printf("  %6u addresses: dp_tables_lookup_addr (open addressing) %5.1f ns, "
		       "rte_hash %5.1f ns\n",
		       sizes[s], ours[runs / 2], rte[runs / 2]);
	}
}
