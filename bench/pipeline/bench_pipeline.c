/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/pipeline: what one data lcore costs per forwarded query, in process on a ring-backed port:
 * client queries through dp_lcore_poll_once (parse, VPC, CIDR, match, flow, rewrite, TX) and the
 * targets' answers back (flow check, rewrite to the client, TX), against a plain RX-to-TX loop of
 * the same frames on the same port (DPDK's io-forwarding, the floor). Only the polls are timed;
 * making the frames is not. Also the address index: ours (open addressing) against rte_hash.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_hash.h>
#include <rte_ethdev.h>
#include <rte_hash_crc.h>
#include <rte_random.h>

#include "dp/dp.h"
#include "dp/dp_internal.h"
#include "dp/io/io.h"

#define RUNS	   5
#define BATCH	   256
#define QUERIES	   (1u << 20)
#define FRAME_MAX  512
#define CLIENT_LEN 16

static struct rte_mempool *pool;
static struct rte_ring *rx, *tx;
static uint16_t port;
static struct rte_ether_addr port_mac;

static struct dp_plane *the_plane;

static void die(const char *what)
{
	if (the_plane)
		dp_counters_print(the_plane, stderr);
	fprintf(stderr, "bench_pipeline: %s\n", what);
	exit(1);
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return v[n / 2];
}

static double cycles_to_ns(uint64_t cycles, uint64_t n)
{
	return (double)cycles * 1e9 / (double)rte_get_tsc_hz() / (double)n;
}

/* ---- frames ---- */

/* A client query (VLAN 10, 10.0.x.y:port -> 10.0.0.2:53, www.example.com A, EDNS 1232). */
static size_t client_query(uint8_t *f, uint32_t i)
{
	static const uint8_t hdr[] = {
	    0, 0, 0, 0,	 0,  0, 2, 0,  0, 0, 0, 5,  0x81, 0, 0, 10, 0x08, 0, 0x45, 0, 0, 0, 0,
	    0, 0, 0, 64, 17, 0, 0, 10, 0, 1, 5, 10, 0,	  0, 2, 0,  0,	  0, 53,   0, 0, 0, 0,
	};
	static const uint8_t dns[] = {0,   0,	1,   0,	  0,	1,   0,	  0,   0,   0,	 0,
				      1,   3,	'w', 'w', 'w',	7,   'e', 'x', 'a', 'm', 'p',
				      'l', 'e', 3,   'c', 'o',	'm', 0,	  0,   1,   0,	 1,
				      0,   0,	41,  4,	  0xd0, 0,   0,	  0,   0,   0,	 0};
	memcpy(f, hdr, sizeof(hdr));
	memcpy(f, port_mac.addr_bytes, 6);
	f[32] = (uint8_t)(i >> 8);
	f[33] = (uint8_t)(i | 1);
	put16(f + 38, (uint16_t)(1024 + i % 60000));
	memcpy(f + sizeof(hdr), dns, sizeof(dns));
	put16(f + sizeof(hdr), (uint16_t)i);
	struct wire_pkt pkt;
	size_t len = sizeof(hdr) + sizeof(dns);
	put16(f + 18 + 2, (uint16_t)(len - 18));
	put16(f + 18 + 20 + 4, (uint16_t)(len - 18 - 20));
	if (wire_pkt_parse(f, len, &pkt) != WIRE_OK)
		die("client frame");
	wire_pkt_set_cksums(f, &pkt);
	return len;
}

/* Turns a forwarded query, in its mbuf, into the target's answer: addresses and ports swapped,
 * QR and AA set, one A record before the OPT. */
static void target_answer(struct rte_mbuf *m)
{
	uint8_t *f = rte_pktmbuf_mtod(m, uint8_t *), tmp[16];
	struct wire_pkt pkt;
	struct wire_dns_msg msg;
	if (wire_pkt_parse(f, m->data_len, &pkt) != WIRE_OK)
		die("forwarded frame");
	memcpy(tmp, f, 6);
	memcpy(f, f + 6, 6);
	memcpy(f + 6, tmp, 6);
	memcpy(tmp, f + pkt.src_addr_off, 4);
	memcpy(f + pkt.src_addr_off, f + pkt.dst_addr_off, 4);
	memcpy(f + pkt.dst_addr_off, tmp, 4);
	put16(f + pkt.l4_off, pkt.dst_port);
	put16(f + pkt.l4_off + 2, pkt.src_port);
	uint8_t *dns = f + pkt.payload_off;
	enum wire_err err = wire_dns_parse_query(dns, pkt.payload_len, &msg);
	if (err != WIRE_OK) {
		fprintf(stderr, "rcode %u flags %#x src port %u dst port %u\n", dns[3] & 15,
			dns[2] << 8 | dns[3], pkt.src_port, pkt.dst_port);
		die(wire_err_name(err));
	}
	static const uint8_t a[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 172, 31, 55, 18};
	uint8_t *opt = dns + msg.question_end;
	memmove(opt + sizeof(a), opt, WIRE_OPT_RR_LEN);
	memcpy(opt, a, sizeof(a));
	put16(dns + 2, WIRE_FLAG_QR | WIRE_FLAG_AA | WIRE_FLAG_RD);
	put16(dns + 6, 1);
	uint16_t len = (uint16_t)(msg.question_end + sizeof(a) + WIRE_OPT_RR_LEN);
	rte_pktmbuf_append(m, (uint16_t)(pkt.payload_off + len - m->data_len));
	wire_pkt_set_payload_len(f, &pkt, len);
	wire_pkt_set_cksums(f, &pkt);
}

/* ---- setup ---- */

static void port_up(void)
{
	rx = rte_ring_create("b_rx", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	tx = rte_ring_create("b_tx", 4096, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	int p = rte_eth_from_rings("net_ring_bench", &rx, 1, &tx, 1, SOCKET_ID_ANY);
	if (!rx || !tx || p < 0)
		die("ring port");
	port = (uint16_t)p;
	struct rte_eth_conf conf = {0};
	if (rte_eth_dev_configure(port, 1, 1, &conf) ||
	    rte_eth_rx_queue_setup(port, 0, 1024, SOCKET_ID_ANY, NULL, pool) ||
	    rte_eth_tx_queue_setup(port, 0, 1024, SOCKET_ID_ANY, NULL) || rte_eth_dev_start(port))
		die("port start");
	rte_eth_macaddr_get(port, &port_mac);
	io_stub_set_exception_ring(0, rte_ring_create("b_exc", 64, SOCKET_ID_ANY, 0));
}

static struct dp_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (struct dp_addr){.family = 4, .addr = {a, b, c, d}};
}

static struct dp_tables *tables(void)
{
	char err[200];
	struct dp_tables_builder *b = dp_tables_builder_new(&(struct dp_tunables){0});
	struct match_builder *mb = match_builder_new(MATCH_ENGINE_SUFFIX);
	if (match_builder_add(mb, "example.com", MATCH_FORWARD, 0, err, sizeof(err)))
		die(err);
	struct dp_cidr cidr = {.base = v4(10, 0, 0, 0), .prefix_len = 16};
	struct dp_addr resolver = v4(10, 0, 0, 2);
	struct dp_vpc_spec vpc = {.port = port,
				  .vlan = 10,
				  .cidrs = &cidr,
				  .n_cidrs = 1,
				  .resolver_addrs = &resolver,
				  .n_resolver_addrs = 1,
				  .match = match_builder_build(mb, err, sizeof(err))};
	struct dp_endpoint_addr ea[2] = {{.port = port, .vlan = 100, .addr = v4(192, 168, 1, 10)},
					 {.port = port, .vlan = 100, .addr = v4(192, 168, 1, 11)}};
	struct dp_target_spec t0 = {.addr = v4(192, 168, 2, 53)},
			      t1 = {.addr = v4(192, 168, 2, 54)};
	struct dp_rule_spec rule = {.endpoint = 0, .targets = {0, 1}, .n_targets = 2};
	if (!vpc.match || dp_tables_add_vpc(b, &vpc, err, sizeof(err)) < 0 ||
	    dp_tables_add_endpoint(b, &(struct dp_endpoint_spec){.addrs = ea, .n_addrs = 2}, err,
				   sizeof(err)) < 0 ||
	    dp_tables_add_target(b, &t0, err, sizeof(err)) < 0 ||
	    dp_tables_add_target(b, &t1, err, sizeof(err)) < 0 ||
	    dp_tables_add_rule(b, &rule, err, sizeof(err)) < 0)
		die(err);
	struct dp_tables *t = dp_tables_build(b, err, sizeof(err));
	if (!t)
		die(err);
	return t;
}

static struct dp_plane *plane_up(struct io_neigh_table *neigh)
{
	char err[200];
	struct dp_plane_params p = {
	    .n_lcores = 1,
	    .ports = {port},
	    .n_ports = 1,
	    .pool = pool,
	    .neigh = neigh,
	    .flow = {.capacity = 65536,
		     .port_lo = 1024,
		     .port_hi = 65535,
		     .tries = 3,
		     /* one minute: a bench preempted on a shared VM must not see retries */
		     .timeout_initial_ns = FLOW_TIMEOUT_CEILING,
		     .timeout_min_ns = FLOW_TIMEOUT_CEILING,
		     .timeout_max_ns = FLOW_TIMEOUT_CEILING,
		     .n_targets = 2,
		     .seed = {42}},
	    .max_vpcs = 1,
	    .max_rules = 1,
	    .max_endpoint_addrs = 2,
	};
	struct dp_plane *plane = dp_plane_new(&p, err, sizeof(err));
	if (!plane)
		die(err);
	if (dp_publish(plane, tables(), err, sizeof(err)))
		die(err);
	return plane;
}

/* ---- the runs ---- */

static uint8_t frames[BATCH][FRAME_MAX];
static size_t frame_len[BATCH];

static void inject(unsigned n, uint32_t base)
{
	struct rte_mbuf *m[BATCH];
	if (rte_pktmbuf_alloc_bulk(pool, m, n))
		die("mbufs");
	for (unsigned i = 0; i < n; i++) {
		frame_len[i] = client_query(frames[i], base + i);
		memcpy(rte_pktmbuf_append(m[i], (uint16_t)frame_len[i]), frames[i], frame_len[i]);
	}
	if (rte_ring_enqueue_bulk(rx, (void **)m, n, NULL) != n)
		die("rx ring full");
}

/* Polls until the RX ring is empty; the cycles the polls took. */
static uint64_t timed_polls(struct dp_plane *plane)
{
	uint64_t cycles = 0;
	while (rte_ring_count(rx)) {
		uint64_t t0 = rte_rdtsc_precise();
		dp_lcore_poll_once(plane, 0);
		cycles += rte_rdtsc_precise() - t0;
	}
	return cycles;
}

static void pipeline_run(struct dp_plane *plane, double *query_ns, double *answer_ns)
{
	uint64_t q_cycles = 0, a_cycles = 0;
	struct rte_mbuf *out[BATCH];
	for (uint32_t done = 0; done < QUERIES; done += BATCH) {
		inject(BATCH, done);
		q_cycles += timed_polls(plane);
		unsigned n = rte_ring_dequeue_burst(tx, (void **)out, BATCH, NULL);
		if (n != BATCH)
			die("queries not forwarded");
		for (unsigned i = 0; i < n; i++)
			target_answer(out[i]);
		rte_ring_enqueue_bulk(rx, (void **)out, n, NULL);
		a_cycles += timed_polls(plane);
		n = rte_ring_dequeue_burst(tx, (void **)out, BATCH, NULL);
		if (n != BATCH)
			die("answers not sent back");
		rte_pktmbuf_free_bulk(out, n);
	}
	*query_ns = cycles_to_ns(q_cycles, QUERIES);
	*answer_ns = cycles_to_ns(a_cycles, QUERIES);
}

/* The floor: the same frames through rx_burst and tx_burst on the same port, untouched. */
static double io_forward_run(void)
{
	uint64_t cycles = 0;
	struct rte_mbuf *m[32], *out[BATCH];
	for (uint32_t done = 0; done < QUERIES; done += BATCH) {
		inject(BATCH, done);
		uint64_t t0 = rte_rdtsc_precise();
		uint16_t n;
		while ((n = rte_eth_rx_burst(port, 0, m, 32)) > 0)
			rte_eth_tx_burst(port, 0, m, n);
		cycles += rte_rdtsc_precise() - t0;
		unsigned k = rte_ring_dequeue_burst(tx, (void **)out, BATCH, NULL);
		rte_pktmbuf_free_bulk(out, k);
	}
	return cycles_to_ns(cycles, QUERIES);
}

/* ---- the address index ---- */

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

int main(int argc, char **argv)
{
	bool huge = argc > 1 && !strcmp(argv[1], "--huge");
	char *eal_nohuge[] = {"bench_pipeline", "--no-huge", "-m", "512",	  "--no-pci",
			      "--no-shconf",	"-l",	     "0",  "--log-level", "error"};
	char *eal_huge[] = {"bench_pipeline", "-m",   "512", "--no-pci", "--no-shconf", "-l", "0",
			    "--log-level",    "error"};
	if (huge ? rte_eal_init(9, eal_huge) < 0 : rte_eal_init(10, eal_nohuge) < 0)
		die("EAL");
	pool = rte_pktmbuf_pool_create("b_pool", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
				       SOCKET_ID_ANY);
	if (!pool)
		die("mempool");
	port_up();
	struct io_neigh_entry neigh_entry = {.known = true, .mac = {{2, 0, 0, 0, 0, 1}}};
	struct io_neigh_table neigh = {.n = 1, .entries = &neigh_entry};
	struct dp_plane *plane = plane_up(&neigh);
	the_plane = plane;

	double q[RUNS], a[RUNS], io[RUNS];
	for (int r = 0; r < RUNS; r++) {
		pipeline_run(plane, &q[r], &a[r]);
		io[r] = io_forward_run();
	}
	printf("bench/pipeline: one lcore, ring port, %s, %u queries per run, median of %d runs\n",
	       huge ? "hugepages" : "no hugepages", QUERIES, RUNS);
	printf("  client query -> forwarded to a target   %6.1f ns/pkt\n", median(q, RUNS));
	printf("  target answer -> rewritten to the client %6.1f ns/pkt\n", median(a, RUNS));
	printf("  io-forward floor (rx_burst + tx_burst)    %6.1f ns/pkt\n", median(io, RUNS));
	struct dp_lcore_counters c;
	dp_lcore_counters_read(plane, 0, &c);
	printf("  counters: forwarded %" PRIu64 " answered %" PRIu64 " drops no_flow %" PRIu64
	       " flow_full %" PRIu64 "\n",
	       c.forwarded, c.answered, c.drops[DP_DROP_NO_FLOW], c.drops[DP_DROP_FLOW_FULL]);

	printf("address index, random hits, %u lookups:\n", ADDR_LOOKUPS);
	const uint32_t sizes[] = {1000, 100000};
	for (unsigned s = 0; s < 2; s++) {
		double ours[RUNS], rte[RUNS];
		for (int r = 0; r < RUNS; r++)
			addr_index_run(sizes[s], &ours[r], &rte[r]);
		printf("  %6u addresses: dp_tables_lookup_addr (open addressing) %5.1f ns, "
		       "rte_hash %5.1f ns\n",
		       sizes[s], median(ours, RUNS), median(rte, RUNS));
	}
	dp_plane_free(plane);
	rte_eal_cleanup();
	return 0;
}
