/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/pipeline DUT role: the real data plane (dp over dp/io: io's port setup, pool, exception
 * rings and next-hop table with a static MAC, the workload's 10,000 rules published to a plane) on
 * one lcore (CPU 1) over a memif client port. The lcore repeats dp_lcore_poll_once, as the plane's
 * own loop does, and times each poll; a poll that received packets is busy (testpmd's
 * --record-core-cycles counts the same way) and goes to the forward, the response or the cache-hit
 * path by which of the lcore's counters it moved. With a cache (--cache-mib) the plane has one on
 * the lcore, with the daemon's default lifetimes. The main thread reads commands on stdin
 * ("reset", "counters", "quit") and prints the figures at the end.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>

#include "bench/pipeline/bench.h"
#include "dp/dp.h"
#include "dp/dp_internal.h"
#include "dp/io/io.h"

#define DUT_LCORE      1
#define EXCEPTION_RING 256
#define SOURCE_PORT_LO 1024
#define SOURCE_PORT_HI 65535
#define FLOW_CAPACITY  65536

struct dut {
	struct dp_plane *plane;
	struct io_neigh_table *neigh;
	struct io_port port;
	struct rte_mempool *pool;
	struct dut_figures fig;
	volatile bool stop, reset;
	char err[256];
};

static void put_addr(struct dp_addr *a, const uint8_t v4[4])
{
	memset(a, 0, sizeof(*a));
	a->family = 4;
	memcpy(a->addr, v4, 4);
}

static char device[256];

static bool start_port(struct dut *d, const struct dut_opts *o)
{
	struct io_pool_sizing sizing = {
	    .n_ports = 1,
	    .n_data_lcores = 1,
	    .rx_desc = 1024,
	    .tx_desc = 1024,
	    .exception_ring = EXCEPTION_RING,
	    .burst = DP_BURST,
	    /* the kept queries of the generator's batch, the plane's rings, reassembly */
	    .in_flight_per_lcore = o->in_flight + 2 * DP_RING_DEFAULT + DP_FRAG_MBUFS,
	};
	d->pool = io_pool_get((int)rte_socket_id(), io_pool_mbufs(&sizing), d->err, sizeof(d->err));
	if (!d->pool)
		return false;
	struct io_port_params pp = {
	    .device = device, .n_data_queues = 1, .pool = d->pool, .link_timeout_ms = 5000};
	if (io_port_setup(&pp, &d->port, d->err, sizeof(d->err)) != 0)
		return false;
	return io_exceptions_init(1, EXCEPTION_RING, d->err, sizeof(d->err)) == 0;
}

/* One next hop (the gateway toward every target) with the generator's MAC, as a config's static
 * neighbour: serve does the same for a neighbour the config names. */
static bool start_neigh(struct dut *d)
{
	d->neigh = io_neigh_create(&(struct io_neigh_params){.capacity = 1,
							     .reachable_ms = 30000,
							     .retrans_ms = 1000,
							     .max_probes = 3,
							     .failed_hold_ms = 5000});
	struct io_nexthop nh = {
	    .port_id = d->port.port_id, .vlan_id = WL_UPSTREAM_VLAN, .family = 4};
	memcpy(nh.addr, wl_gateway, 4);
	memcpy(nh.src_addr, wl_endpoint[0], 4);
	struct rte_ether_addr mac;
	memcpy(mac.addr_bytes, wl_gen_mac, 6);
	if (!d->neigh || io_neigh_define_static(d->neigh, 0, &nh, &mac) != 0) {
		snprintf(d->err, sizeof(d->err), "next-hop table");
		return false;
	}
	io_set_neigh_table(d->neigh);
	return true;
}

static struct match_table *rules_table(char *err, size_t errlen)
{
	struct match_builder *mb = match_builder_new(MATCH_ENGINE_SUFFIX);
	if (!mb)
		return NULL;
	for (unsigned r = 0; r < WL_RULES; r++) {
		char domain[96];
		wl_rule_domain(r, domain, sizeof(domain));
		if (match_builder_add(mb, domain, MATCH_FORWARD, r, err, errlen) != 0) {
			match_builder_free(mb);
			return NULL;
		}
	}
	return match_builder_build(mb, err, errlen);
}

static bool add_upstreams(struct dp_tables_builder *b, uint16_t port, char *err, size_t errlen)
{
	struct dp_endpoint_addr ea[2];
	for (int i = 0; i < 2; i++) {
		ea[i] = (struct dp_endpoint_addr){.port = port, .vlan = WL_UPSTREAM_VLAN};
		put_addr(&ea[i].addr, wl_endpoint[i]);
	}
	struct dp_endpoint_spec ep = {.addrs = ea, .n_addrs = 2};
	if (dp_tables_add_endpoint(b, &ep, err, errlen) < 0)
		return false;
	for (unsigned k = 0; k < WL_TARGETS; k++) {
		uint8_t a[4];
		struct dp_target_spec t = {.udp_port = 53, .nexthop = 0};
		wl_target_addr(k, a);
		put_addr(&t.addr, a);
		if (dp_tables_add_target(b, &t, err, errlen) < 0)
			return false;
	}
	for (unsigned r = 0; r < WL_RULES; r++) {
		struct dp_rule_spec rule = {.endpoint = 0,
					    .targets = {r % WL_TARGETS, (r + 5) % WL_TARGETS},
					    .n_targets = 2};
		if (dp_tables_add_rule(b, &rule, err, errlen) < 0)
			return false;
	}
	return true;
}

static struct dp_tables *workload_tables(uint16_t port, char *err, size_t errlen)
{
	/* the daemon's default per-source limit (ctl/config): every query passes it, each from a
	 * source the lcore has not seen, as a flood of distinct clients would */
	struct dp_tables_builder *b =
	    dp_tables_builder_new(&(struct dp_tunables){.rate_limit_pps = 1024});
	struct dp_cidr cidr = {.prefix_len = 8};
	struct dp_addr resolver;
	put_addr(&cidr.base, (const uint8_t[4]){10, 0, 0, 0});
	put_addr(&resolver, wl_resolver);
	struct dp_vpc_spec vpc = {.port = port,
				  .vlan = WL_CLIENT_VLAN,
				  .cidrs = &cidr,
				  .n_cidrs = 1,
				  .resolver_addrs = &resolver,
				  .n_resolver_addrs = 1,
				  .match = rules_table(err, errlen)};
	if (!b || !vpc.match) {
		dp_tables_builder_free(b);
		return NULL;
	}
	if (dp_tables_add_vpc(b, &vpc, err, errlen) < 0) {
		match_table_free(vpc.match);
		dp_tables_builder_free(b);
		return NULL;
	}
	if (!add_upstreams(b, port, err, errlen)) {
		dp_tables_builder_free(b);
		return NULL;
	}
	return dp_tables_build(b, err, errlen);
}

/* The daemon's defaults (ctl/config) but for the size. */
static struct cache_params cache_params(unsigned mib)
{
	return (struct cache_params){.max_bytes = (size_t)mib << 20,
				     .ttl_min_s = 0,
				     .ttl_max_s = 86400,
				     .negative_ttl_max_s = 3600,
				     .servfail_ttl_s = 5,
				     .stale_window_s = 86400,
				     .stale_ttl_s = 30};
}

static bool start_plane(struct dut *d, unsigned cache_mib)
{
	struct dp_plane_params p = {
	    .n_lcores = 1,
	    .ports = {d->port.port_id},
	    .n_ports = 1,
	    .pool = d->pool,
	    .neigh = d->neigh,
	    .flow = {.capacity = FLOW_CAPACITY,
		     .port_lo = SOURCE_PORT_LO,
		     .port_hi = SOURCE_PORT_HI,
		     .tries = 3,
		     /* one minute: a DUT preempted on a shared VM must not see retries */
		     .timeout_initial_ns = FLOW_TIMEOUT_CEILING,
		     .timeout_min_ns = FLOW_TIMEOUT_CEILING,
		     .timeout_max_ns = FLOW_TIMEOUT_CEILING,
		     .n_targets = WL_TARGETS,
		     .seed = {0x5e, 0xed}},
	    .tx_offload = {(uint8_t)((d->port.tx_cksum_ipv4 ? DP_TX_CKSUM_IPV4 : 0) |
				     (d->port.tx_cksum_udp ? DP_TX_CKSUM_UDP : 0))},
	    .rx_queues = {d->port.lcores_poll_extra_rx ? d->port.n_rx_queues : 0},
	    .max_vpcs = 1,
	    .max_rules = WL_RULES,
	    .max_endpoint_addrs = 2,
	    .cache = cache_mib ? cache_params(cache_mib) : (struct cache_params){0},
	};
	struct dp_tables *t = workload_tables(d->port.port_id, d->err, sizeof(d->err));
	if (!t)
		return false;
	d->plane = dp_plane_new(&p, d->err, sizeof(d->err));
	if (!d->plane || dp_publish(d->plane, t, d->err, sizeof(d->err)) != 0) {
		dp_tables_free(t);
		return false;
	}
	return true;
}

/* Each busy poll's cycles per packet, by path: their median shrugs off the polls another
 * process preempted, which the sums (testpmd's way) do not. */
#define POLL_SAMPLES (1u << 16)
static float fwd_samples[POLL_SAMPLES], resp_samples[POLL_SAMPLES], hit_samples[POLL_SAMPLES];

static void sample(float *samples, uint64_t polls, uint64_t cycles, unsigned pkts)
{
	if (polls < POLL_SAMPLES)
		samples[polls] = (float)cycles / (float)pkts;
}

/* A busy poll's cycles go to the path whose counter it moved: a cache hit answers (and moves
 * answered too) without forwarding. */
static void account(struct dut_figures *fig, uint64_t cycles, unsigned pkts, uint64_t fwd_delta,
		    uint64_t ans_delta, uint64_t hit_delta)
{
	if (hit_delta && !fwd_delta && hit_delta == ans_delta) {
		sample(hit_samples, fig->hit_polls, cycles, pkts);
		fig->hit_cycles += cycles;
		fig->hit_pkts += pkts;
		fig->hit_polls++;
	} else if (hit_delta) {
		fig->other_cycles += cycles;
		fig->other_pkts += pkts;
	} else if (fwd_delta && !ans_delta) {
		sample(fwd_samples, fig->fwd_polls, cycles, pkts);
		fig->fwd_cycles += cycles;
		fig->fwd_pkts += pkts;
		fig->fwd_polls++;
	} else if (ans_delta && !fwd_delta) {
		sample(resp_samples, fig->resp_polls, cycles, pkts);
		fig->resp_cycles += cycles;
		fig->resp_pkts += pkts;
		fig->resp_polls++;
	} else {
		fig->other_cycles += cycles;
		fig->other_pkts += pkts;
	}
}

static int lcore_loop(void *arg)
{
	struct dut *d = arg;
	const struct dp_lcore_counters *c = &d->plane->lcores[0].c;
	while (!d->stop) {
		if (d->reset) {
			memset(&d->fig, 0, sizeof(d->fig));
			d->reset = false;
		}
		uint64_t fwd = c->forwarded, ans = c->answered, hits = c->cache_hits;
		uint64_t t0 = rte_rdtsc();
		unsigned n = dp_lcore_poll_once(d->plane, 0);
		uint64_t cycles = rte_rdtsc() - t0;
		if (n)
			account(&d->fig, cycles, n, c->forwarded - fwd, c->answered - ans,
				c->cache_hits - hits);
	}
	return 0;
}

static int cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;
	return (x > y) - (x < y);
}

static double median_sample(float *samples, uint64_t polls)
{
	size_t n = polls < POLL_SAMPLES ? (size_t)polls : POLL_SAMPLES;
	if (!n)
		return 0;
	qsort(samples, n, sizeof(*samples), cmp_float);
	return samples[n / 2];
}

/*
 * The baseline in the same role and port: testpmd's macswap (RX burst, swap the MACs, TX burst),
 * timed per poll as the dp loop is, so its median busy poll compares with dp's under the same
 * preemptions. testpmd itself runs too: this checks against its own figure, not replaces it.
 */
static int macswap_loop(void *arg)
{
	struct dut *d = arg;
	uint16_t port = d->port.port_id;
	struct rte_mbuf *pkts[DP_BURST];
	while (!d->stop) {
		if (d->reset) {
			memset(&d->fig, 0, sizeof(d->fig));
			d->reset = false;
		}
		uint64_t t0 = rte_rdtsc();
		uint16_t n = rte_eth_rx_burst(port, 0, pkts, DP_BURST);
		if (!n)
			continue;
		for (uint16_t i = 0; i < n; i++) {
			struct rte_ether_hdr *eth =
			    rte_pktmbuf_mtod(pkts[i], struct rte_ether_hdr *);
			struct rte_ether_addr tmp = eth->dst_addr;
			eth->dst_addr = eth->src_addr;
			eth->src_addr = tmp;
		}
		uint16_t sent = rte_eth_tx_burst(port, 0, pkts, n);
		if (sent < n)
			rte_pktmbuf_free_bulk(pkts + sent, n - sent);
		account(&d->fig, rte_rdtsc() - t0, n, 1, 0, 0);
	}
	return 0;
}

/* Two lines: "DUT" with the paths of a miss, "CACHE" with the hit path and the cache's size. */
bool dut_figures_parse(const char *line, struct dut_figures *f)
{
	const char *at = strstr(line, "DUT "), *cache = strstr(line, "CACHE ");
	return at && cache &&
	       sscanf(at,
		      "DUT %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		      " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64
		      " %lf %lf",
		      &f->tsc_hz, &f->fwd_cycles, &f->fwd_pkts, &f->fwd_polls, &f->resp_cycles,
		      &f->resp_pkts, &f->resp_polls, &f->other_cycles, &f->other_pkts,
		      &f->forwarded, &f->answered, &f->drops, &f->fwd_poll_median,
		      &f->resp_poll_median) == 14 &&
	       sscanf(cache,
		      "CACHE %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %lf %" SCNu64
		      " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
		      &f->hit_cycles, &f->hit_pkts, &f->hit_polls, &f->cache_hits,
		      &f->hit_poll_median, &f->cache_entries, &f->cache_bytes, &f->cache_capacity,
		      &f->cache_index_slots, &f->cache_max_bytes) == 10;
}

bool dut_counters_parse(const char *line, struct dut_counters *c)
{
	return sscanf(line, "counters %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64,
		      &c->cache_hits, &c->forwarded, &c->answered, &c->refreshes, &c->drops) == 5;
}

static uint64_t drops_of(const struct dp_lcore_counters *c)
{
	uint64_t drops = 0;
	for (int i = 0; i < DP__DROP_COUNT; i++)
		drops += c->drops[i];
	return drops;
}

static void print_counters(const struct dut *d)
{
	struct dp_lcore_counters c = {0};
	if (d->plane)
		dp_lcore_counters_read(d->plane, 0, &c);
	printf("counters %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 "\n",
	       c.cache_hits, c.forwarded, c.answered, c.refreshes, drops_of(&c));
	fflush(stdout);
}

static void print_figures(struct dut *d, size_t cache_max_bytes)
{
	struct dp_lcore_counters c = {0};
	struct cache_stats st = {0};
	if (d->plane) {
		dp_lcore_counters_read(d->plane, 0, &c);
		dp_cache_stats_read(d->plane, 0, &st);
	}
	uint64_t drops = drops_of(&c);
	struct dut_figures *f = &d->fig;
	printf("DUT %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
	       " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
	       " %.1f %.1f\n",
	       rte_get_tsc_hz(), f->fwd_cycles, f->fwd_pkts, f->fwd_polls, f->resp_cycles,
	       f->resp_pkts, f->resp_polls, f->other_cycles, f->other_pkts, c.forwarded, c.answered,
	       drops, median_sample(fwd_samples, f->fwd_polls),
	       median_sample(resp_samples, f->resp_polls));
	printf("CACHE %" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " %.1f %" PRIu64 " %" PRIu64
	       " %" PRIu64 " %" PRIu64 " %zu\n",
	       f->hit_cycles, f->hit_pkts, f->hit_polls, c.cache_hits,
	       median_sample(hit_samples, f->hit_polls), st.entries, st.bytes, st.capacity_bytes,
	       st.index_slots, st.entries ? cache_max_bytes : 0);
	fflush(stdout);
	if (drops)
		dp_counters_print(d->plane, stderr);
}

/* EAL on lcores 0 (CPU 0: this thread, which only reads stdin) and 1 (CPU 1: the data lcore). */
static bool start_eal(const struct dut_opts *o)
{
	char prefix[64];
	snprintf(prefix, sizeof(prefix), "--file-prefix=vpcdns-bench-dut-%d", (int)getpid());
	snprintf(device, sizeof(device), "net_memif0,role=client,id=0,socket=%s,mac=%s", o->socket,
		 WL_DUT_MAC);
	char *argv[16] = {"bench_pipeline-dut",	 "--lcores=0@0,1@1", prefix, "--no-pci",
			  "--log-level=warning", "--vdev",	     device};
	int argc = 7;
	argc = huge_eal_args(argv, argc, o->huge_dir);
	return rte_eal_init(argc, argv) >= 0;
}

int dut_main(const struct dut_opts *o)
{
	static struct dut d;
	if (!start_eal(o)) {
		fprintf(stderr, "dut: EAL failed\n");
		return 1;
	}
	if (!start_port(&d, o) ||
	    (!o->macswap && (!start_neigh(&d) || !start_plane(&d, o->cache_mib)))) {
		fprintf(stderr, "dut: %s\n", d.err);
		return 1;
	}
	if (rte_eal_remote_launch(o->macswap ? macswap_loop : lcore_loop, &d, DUT_LCORE) != 0) {
		fprintf(stderr, "dut: cannot launch lcore %d\n", DUT_LCORE);
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	char line[64];
	while (fgets(line, sizeof(line), stdin) && strncmp(line, "quit", 4) != 0) {
		if (strncmp(line, "reset", 5) == 0) {
			/* acknowledged once the lcore has zeroed its figures, so the generator's
			 * next packets count */
			for (d.reset = true; d.reset;)
				usleep(100);
			printf("ok\n");
			fflush(stdout);
		} else if (strncmp(line, "counters", 8) == 0) {
			print_counters(&d);
		}
	}
	d.stop = true;
	rte_eal_wait_lcore(DUT_LCORE);
	print_figures(&d, (size_t)o->cache_mib << 20);
	dp_plane_free(d.plane);
	io_ports_close();
	io_exceptions_free();
	io_neigh_free(d.neigh);
	rte_eal_cleanup();
	return 0;
}
