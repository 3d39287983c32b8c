/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/pipeline: the forward path and the response path of one data lcore through a real DPDK
 * port (net_memif between two processes), on 10,000 rules and distinct names, beside testpmd's
 * macswap on the same port, memory mode and generator, as a ratio of busy cycles per packet. This
 * process is the generator (memif server, CPU 0) and runs each run's other end as a child: the
 * DUT (this binary with --dut: the real dp plane on CPU 1) or dpdk-testpmd (forwarding on CPU 1),
 * alternating, so both see the same load. The dp DUT runs twice a run: without a cache (every
 * query a miss) and with one, where each batch of names, once resolved, is asked again by other
 * clients and must be answered from the lcore's cache. --huge sets up hugepages for the run and
 * undoes them.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>

#include "bench/pipeline/bench.h"

#define HUGE_PAGES   512
#define OUTPUT_MAX   65536
#define LINK_WAIT_S  15
#define RUNS_MAX     32
#define WARMUP_TRIES 5
#define TESTPMD_PATH "/usr/bin/dpdk-testpmd"

struct opts {
	bool huge, quick, addr_index;
	int nice; /* 0: unchanged; else setpriority for this process and its children */
	unsigned runs, queries, batch;
	unsigned cache_mib; /* the cache DUT's answer cache */
	const char *testpmd;
};

/* One run's figures of one path: busy cycles per packet (the DUT's or testpmd's) and the
 * packet rate the generator saw. */
struct path_run {
	double cycles_per_pkt, observed_mpps;
	double poll_median; /* the DUT's median busy poll, cycles per packet */
};

struct run {
	struct path_run fwd, resp, macswap;
	struct path_run swap; /* the macswap baseline timed in the DUT role, per poll */
	/* the DUT with a cache: the names' first asking (a miss, the answer kept), then the hit */
	struct path_run cache_fwd, cache_resp, hit;
	struct dut_figures cache; /* its figures, the cache's size among them */
	uint64_t tsc_hz;
};

static char self[4096];
static char socket_path[64];
static const char *huge_dir;

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double mpps(uint64_t pkts, uint64_t cycles)
{
	return cycles ? (double)pkts * (double)rte_get_tsc_hz() / (double)cycles / 1e6 : 0;
}

enum drive_mode {
	DRIVE_SWAP,  /* frames come back MAC-swapped (macswap, testpmd) */
	DRIVE_DP,    /* dp: queries forwarded, targets' answers rewritten to the clients */
	DRIVE_CACHE, /* dp with a cache: DRIVE_DP, then the same names asked again, and hit */
};

static bool dut_counters(struct child *c, struct dut_counters *out)
{
	char line[256];
	fprintf(c->in, "counters\n");
	fflush(c->in);
	return fgets(line, sizeof(line), c->out) && dut_counters_parse(line, out);
}

/* A batch resolved (the names' first asking, kept in the cache), then asked again by other
 * clients: every answer must come from the cache, which the lcore's counters confirm (cache_hits
 * up by exactly the batch, nothing forwarded, no refresh, no drop). */
static bool cache_batch(const struct opts *o, struct child *c, struct gen_counts *g)
{
	uint32_t first = gen_next_name();
	struct dut_counters before, after;
	if (!gen_batch(o->batch, true, g) || !dut_counters(c, &before))
		return false;
	bool ok = gen_hits(o->batch, first, g);
	if (!dut_counters(c, &after))
		return false;
	if (after.cache_hits - before.cache_hits != o->batch ||
	    after.forwarded != before.forwarded || after.refreshes != before.refreshes ||
	    after.drops != before.drops) {
		fprintf(stderr,
			"bench_pipeline: a batch of %u cache hits moved cache_hits by %" PRIu64
			", forwarded by %" PRIu64 ", refreshes by %" PRIu64 ", drops by %" PRIu64
			"\n",
			o->batch, after.cache_hits - before.cache_hits,
			after.forwarded - before.forwarded, after.refreshes - before.refreshes,
			after.drops - before.drops);
		return false;
	}
	return ok;
}

static bool one_batch(const struct opts *o, struct child *c, enum drive_mode mode,
		      struct gen_counts *g)
{
	return mode == DRIVE_CACHE ? cache_batch(o, c, g)
				   : gen_batch(o->batch, mode == DRIVE_DP, g);
}

/* The generator's side of a run: warm-up until a batch comes back whole, reset (our DUT
 * roles), the timed batches. */
static bool drive(const struct opts *o, struct child *c, enum drive_mode mode, bool reset,
		  struct gen_counts *counts)
{
	char line[256];
	struct gen_counts warm = {0};
	if (!gen_wait_link(LINK_WAIT_S)) {
		fprintf(stderr, "bench_pipeline: memif link did not come up\n");
		return false;
	}
	/* testpmd starts forwarding a moment after its link is up, and empties its RX queue first:
	 * warm up until one batch comes back whole */
	unsigned tries = 0;
	while (!one_batch(o, c, mode, &warm))
		if (++tries == WARMUP_TRIES) {
			fprintf(stderr, "bench_pipeline: warm-up batches keep losing frames\n");
			return false;
		}
	if (reset) {
		fprintf(c->in, "reset\n");
		fflush(c->in);
		if (!fgets(line, sizeof(line), c->out) || strncmp(line, "ok", 2))
			return false;
	}
	bool all = true;
	for (unsigned done = 0; done < o->queries; done += o->batch)
		all &= one_batch(o, c, mode, counts);
	if (!all)
		fprintf(stderr,
			"bench_pipeline: frames lost or wrong: sent %" PRIu64 ", back %" PRIu64
			", good %" PRIu64 ", answers %" PRIu64 "; asked again %" PRIu64
			", answered right %" PRIu64 ", other frames %" PRIu64 "\n",
			counts->sent, counts->fwd_back, counts->fwd_good, counts->answers_good,
			counts->hit_sent, counts->hits_good, counts->hit_wrong);
	return all;
}

/* VPCDNS_BENCH_DUT_PREFIX (say "/usr/bin/valgrind --tool=callgrind") runs the DUT under a tool:
 * how the README's breakdown of the paths' work was made. */
static char *const *with_prefix(char **argv)
{
	static char words[1024];
	static char *out[64];
	const char *prefix = getenv("VPCDNS_BENCH_DUT_PREFIX");
	unsigned n = 0;
	if (!prefix || !*prefix)
		return argv;
	snprintf(words, sizeof(words), "%s", prefix);
	for (char *save, *w = strtok_r(words, " ", &save); w && n < 48;
	     w = strtok_r(NULL, " ", &save))
		out[n++] = w;
	for (unsigned i = 0; argv[i] && n < 63; i++)
		out[n++] = argv[i];
	out[n] = NULL;
	return out;
}

/* Runs this binary as the DUT (dp, dp with a cache, or the macswap baseline) for one run; its
 * figures. */
static bool dut_child(const struct opts *o, enum drive_mode mode, struct dut_figures *f,
		      struct gen_counts *g)
{
	char in_flight[16], cache_mib[16], out[OUTPUT_MAX], line[64];
	bool macswap = mode == DRIVE_SWAP;
	snprintf(in_flight, sizeof(in_flight), "%u", o->batch);
	snprintf(cache_mib, sizeof(cache_mib), "%u", mode == DRIVE_CACHE ? o->cache_mib : 0);
	char *argv[] = {self,
			"--dut",
			"--socket",
			socket_path,
			"--in-flight",
			in_flight,
			"--swap",
			macswap ? "yes" : "no",
			"--cache-mib",
			cache_mib,
			huge_dir ? "--huge-dir" : NULL,
			(char *)huge_dir,
			NULL};
	struct child c;
	if (!child_start(&c, with_prefix(argv), NULL))
		return false;
	if (!fgets(line, sizeof(line), c.out) || strncmp(line, "ready", 5)) {
		fprintf(stderr, "bench_pipeline: the DUT did not start\n");
		child_kill(&c);
		return false;
	}
	bool ok = drive(o, &c, mode, true, g);
	fprintf(c.in, "quit\n");
	if (child_finish(&c, out, sizeof(out)) != 0 || !dut_figures_parse(out, f)) {
		fprintf(stderr, "bench_pipeline: no figures from the DUT:\n%s\n", out);
		return false;
	}
	if (f->drops || f->other_pkts)
		fprintf(stderr,
			"bench_pipeline: DUT drops %" PRIu64 ", packets in mixed polls %" PRIu64
			"\n",
			f->drops, f->other_pkts);
	if (mode == DRIVE_CACHE && f->hit_pkts != g->hit_sent)
		fprintf(stderr,
			"bench_pipeline: %" PRIu64 " cache hits asked, %" PRIu64
			" in polls that only hit\n",
			g->hit_sent, f->hit_pkts);
	return ok && f->fwd_pkts && (macswap || f->resp_pkts) &&
	       (mode != DRIVE_CACHE || f->hit_pkts == g->hit_sent);
}

static bool run_dut(const struct opts *o, struct run *r)
{
	struct dut_figures f;
	struct gen_counts g = {0};
	if (!dut_child(o, DRIVE_DP, &f, &g))
		return false;
	r->tsc_hz = f.tsc_hz;
	r->fwd.cycles_per_pkt = (double)f.fwd_cycles / (double)f.fwd_pkts;
	r->resp.cycles_per_pkt = (double)f.resp_cycles / (double)f.resp_pkts;
	r->fwd.poll_median = f.fwd_poll_median;
	r->resp.poll_median = f.resp_poll_median;
	r->fwd.observed_mpps = mpps(g.sent, g.fwd_cycles);
	r->resp.observed_mpps = mpps(g.resp_sent, g.resp_cycles);
	printf("  dp:      forward %7.1f cycles/pkt (median poll %7.1f), response %7.1f "
	       "(median poll %7.1f); %" PRIu64 " + %" PRIu64 " pkts in %" PRIu64 " + %" PRIu64
	       " busy polls; answers right %" PRIu64 "/%" PRIu64 "\n",
	       r->fwd.cycles_per_pkt, f.fwd_poll_median, r->resp.cycles_per_pkt, f.resp_poll_median,
	       f.fwd_pkts, f.resp_pkts, f.fwd_polls, f.resp_polls, g.answers_good, g.sent);
	return true;
}

static bool run_cache(const struct opts *o, struct run *r)
{
	struct dut_figures f;
	struct gen_counts g = {0};
	if (!dut_child(o, DRIVE_CACHE, &f, &g))
		return false;
	r->cache = f;
	r->cache_fwd.cycles_per_pkt = (double)f.fwd_cycles / (double)f.fwd_pkts;
	r->cache_resp.cycles_per_pkt = (double)f.resp_cycles / (double)f.resp_pkts;
	r->hit.cycles_per_pkt = (double)f.hit_cycles / (double)f.hit_pkts;
	r->cache_fwd.poll_median = f.fwd_poll_median;
	r->cache_resp.poll_median = f.resp_poll_median;
	r->hit.poll_median = f.hit_poll_median;
	r->cache_fwd.observed_mpps = mpps(g.sent, g.fwd_cycles);
	r->cache_resp.observed_mpps = mpps(g.resp_sent, g.resp_cycles);
	r->hit.observed_mpps = mpps(g.hit_sent, g.hit_cycles);
	printf("  cache:   hit %7.1f cycles/pkt (median poll %7.1f) in %" PRIu64
	       " busy polls, answers right %" PRIu64 "/%" PRIu64 ", cache_hits %" PRIu64
	       "; first asking: forward %7.1f (median poll %7.1f), response %7.1f (median poll "
	       "%7.1f), answers right %" PRIu64 "/%" PRIu64 "\n",
	       r->hit.cycles_per_pkt, f.hit_poll_median, f.hit_polls, g.hits_good, g.hit_sent,
	       f.cache_hits, r->cache_fwd.cycles_per_pkt, f.fwd_poll_median,
	       r->cache_resp.cycles_per_pkt, f.resp_poll_median, g.answers_good, g.sent);
	return true;
}

static bool run_swap(const struct opts *o, struct run *r)
{
	struct dut_figures f;
	struct gen_counts g = {0};
	if (!dut_child(o, DRIVE_SWAP, &f, &g))
		return false;
	r->swap.cycles_per_pkt = (double)f.fwd_cycles / (double)f.fwd_pkts;
	r->swap.poll_median = f.fwd_poll_median;
	r->swap.observed_mpps = mpps(g.sent, g.fwd_cycles);
	printf("  swap:    macswap timed as dp %7.1f cycles/pkt (median poll %7.1f); frames right "
	       "%" PRIu64 "/%" PRIu64 "\n",
	       r->swap.cycles_per_pkt, f.fwd_poll_median, g.fwd_good, g.sent);
	return true;
}

/* testpmd's line: "CPU cycles/packet=X (busy cycles=B / total RX packets=N) at M MHz Clock". */
static bool testpmd_cycles(const char *out, double *cycles_per_pkt)
{
	const char *at = strstr(out, "CPU cycles/packet=");
	return at && sscanf(at, "CPU cycles/packet=%lf", cycles_per_pkt) == 1;
}

static bool run_testpmd(const struct opts *o, struct run *r)
{
	char prefix[64], vdev[256], out[OUTPUT_MAX];
	snprintf(prefix, sizeof(prefix), "--file-prefix=vpcdns-bench-tpmd-%d", (int)getpid());
	snprintf(vdev, sizeof(vdev), "net_memif0,role=client,id=0,socket=%s,mac=%s", socket_path,
		 WL_DUT_MAC);
	char *argv[32] = {(char *)o->testpmd,	 "--lcores=0@0,1@1", prefix, "--no-pci",
			  "--log-level=warning", "--vdev",	     vdev};
	int argc = 7;
	argc = huge_eal_args(argv, argc, huge_dir);
	char *tail[] = {"--", "--forward-mode=macswap", "--record-core-cycles", "--nb-cores=1",
			"--total-num-mbufs=16384", "--burst=32",
			/* the DUT's queues (io adds the control core's TX queue): one stream */
			"--rxq=1", "--txq=2", NULL};
	memcpy(argv + argc, tail, sizeof(tail));
	struct child c;
	struct gen_counts g = {0};
	if (!child_start(&c, argv, NULL))
		return false;
	bool ok = drive(o, &c, DRIVE_SWAP, false, &g);
	/* testpmd without -i forwards until a line (or EOF) on stdin, then prints its stats */
	int rc = child_finish(&c, out, sizeof(out));
	if (rc != 0 || !testpmd_cycles(out, &r->macswap.cycles_per_pkt)) {
		fprintf(stderr, "bench_pipeline: no figures from testpmd (exit %d):\n%s\n", rc,
			out);
		return false;
	}
	r->macswap.observed_mpps = mpps(g.sent, g.fwd_cycles);
	printf("  testpmd: macswap %7.1f cycles/pkt; frames right %" PRIu64 "/%" PRIu64 "\n",
	       r->macswap.cycles_per_pkt, g.fwd_good, g.sent);
	return ok;
}

static double lowest(const double *v, unsigned n)
{
	double low = v[0];
	for (unsigned i = 1; i < n; i++)
		low = v[i] < low ? v[i] : low;
	return low;
}

/* A path's line: median and best busy cycles per packet over the runs, the rate one busy core
 * would sustain at the median, the rate the generator saw, and macswap's cycles over the path's,
 * per run (paired: the two ran back to back) then their median, and best over best. */
static void print_path(const char *name, const double *cycles, const double *seen,
		       const double *mac, unsigned n, double hz)
{
	double ratio[RUNS_MAX], c[RUNS_MAX], o[RUNS_MAX];
	for (unsigned i = 0; i < n; i++) {
		ratio[i] = mac[i] / cycles[i];
		c[i] = cycles[i];
		o[i] = seen[i];
	}
	double med = median(c, n), r = median(ratio, n), best = lowest(cycles, n);
	printf("  %-38s %7.1f %7.1f %9.2f %9.2f %8.2f %8.2f%s\n", name, med, best, hz / med / 1e6,
	       median(o, n), r, lowest(mac, n) / best, r >= 1.0 / 3 ? "" : "  < 1/3");
}

/* The rows of a table: the paths, each a series over the runs of one estimator. */
enum row {
	ROW_FWD,
	ROW_RESP,
	ROW_ROUND_TRIP,
	ROW_HIT,
	ROW_CACHE_FWD,
	ROW_CACHE_RESP,
	ROW_SWAP,
	ROWS
};
static const char *const row_names[ROWS] = {
    [ROW_FWD] = "client query -> target",
    [ROW_RESP] = "target answer -> client",
    [ROW_ROUND_TRIP] = "round trip, per query",
    [ROW_HIT] = "cache hit: query -> cached answer",
    [ROW_CACHE_FWD] = "cache on, miss: query -> target",
    [ROW_CACHE_RESP] = "cache on: answer -> client, kept",
};

struct series {
	double cycles[ROWS][RUNS_MAX], seen[ROWS][RUNS_MAX];
};

static void table(const char *title, const char *swap_name, const struct series *v, unsigned n,
		  double hz)
{
	printf("  %-38s %7s %7s %9s %9s %8s %8s\n", title, "median", "best", "Mpps/core",
	       "Mpps seen", "vs swap", "best vs");
	for (int row = 0; row < ROWS; row++)
		print_path(row == ROW_SWAP ? swap_name : row_names[row], v->cycles[row],
			   v->seen[row], v->cycles[ROW_SWAP], n, hz);
}

static void fill(struct series *v, unsigned i, enum row row, const struct path_run *p,
		 bool poll_median)
{
	v->cycles[row][i] = poll_median ? p->poll_median : p->cycles_per_pkt;
	v->seen[row][i] = p->observed_mpps;
}

/* The cache's memory for the bench's answers (each one A record, asked with EDNS: the OPT is
 * not kept), from the last run's dp_cache_stats_read. */
static void print_cache_memory(const struct dut_figures *f)
{
	if (!f->cache_entries || !f->cache_index_slots)
		return;
	double per_entry = (double)f->cache_bytes / (double)f->cache_entries;
	uint64_t index_bytes = f->cache_max_bytes - f->cache_capacity;
	double per_slot = (double)index_bytes / (double)f->cache_index_slots;
	double full = (double)f->cache_capacity / per_entry;
	printf("\ncache memory, one lcore (%" PRIu64 " MiB): %" PRIu64 " entries of one A record "
	       "each take %" PRIu64
	       " octets of log: %.1f octets per entry; the log is %.1f MiB, the "
	       "index %" PRIu64 " slots in %.1f MiB (%.1f octets per slot). Full, the log holds "
	       "%.0f such entries (%.0f%% of the index's slots): %.1f octets of the cache per "
	       "entry, index share included\n",
	       f->cache_max_bytes >> 20, f->cache_entries, f->cache_bytes, per_entry,
	       (double)f->cache_capacity / (1 << 20), f->cache_index_slots,
	       (double)index_bytes / (1 << 20), per_slot, full,
	       100.0 * full / (double)f->cache_index_slots, (double)f->cache_max_bytes / full);
}

static void summary(const struct opts *o, const struct run *runs, unsigned n)
{
	struct series poll, sum;
	for (unsigned i = 0; i < n; i++) {
		const struct run *r = &runs[i];
		const struct path_run *paths[ROWS] = {[ROW_FWD] = &r->fwd,
						      [ROW_RESP] = &r->resp,
						      [ROW_HIT] = &r->hit,
						      [ROW_CACHE_FWD] = &r->cache_fwd,
						      [ROW_CACHE_RESP] = &r->cache_resp,
						      [ROW_SWAP] = &r->swap};
		for (int row = 0; row < ROWS; row++)
			if (paths[row]) {
				fill(&poll, i, (enum row)row, paths[row], true);
				fill(&sum, i, (enum row)row, paths[row], false);
			}
		fill(&sum, i, ROW_SWAP, &r->macswap, false);
		poll.cycles[ROW_ROUND_TRIP][i] = poll.cycles[ROW_FWD][i] + poll.cycles[ROW_RESP][i];
		sum.cycles[ROW_ROUND_TRIP][i] = sum.cycles[ROW_FWD][i] + sum.cycles[ROW_RESP][i];
		sum.seen[ROW_ROUND_TRIP][i] = poll.seen[ROW_ROUND_TRIP][i] =
		    1 / (1 / r->fwd.observed_mpps + 1 / r->resp.observed_mpps);
	}
	double hz = (double)runs[0].tsc_hz;
	printf("\nbench/pipeline: net_memif, %s, one lcore, %u rules, %u queries per run (every "
	       "name and client distinct; the cache DUT (%u MiB) asks each name again from another "
	       "client), batches of %u, %u runs, nice %d\n",
	       huge_dir ? "hugepages (2 MiB)" : "no hugepages (--no-huge)", WL_RULES, o->queries,
	       o->cache_mib, o->batch, n, o->nice);
	table("cycles/pkt of the median busy poll", "macswap, same role and timing", &poll, n, hz);
	table("cycles/pkt, all busy polls summed", "testpmd macswap (its own figure)", &sum, n, hz);
	printf(
	    "  (median busy poll: robust to preemption, the figure to quote; sums: testpmd's way, "
	    "which a preempted poll inflates. Mpps/core: TSC %.0f MHz / median cycles; Mpps "
	    "seen: the generator's rate over the phases; vs swap: median over runs of macswap "
	    "cycles / path cycles in the same run, the goal >= 0.33; best vs: best over best)\n",
	    hz / 1e6);
	print_cache_memory(&runs[n - 1].cache);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_pipeline [--huge] [--quick] [--runs N] [--queries N] [--batch N] "
		"[--cache-mib N] [--addr-index] [--nice N] [--testpmd PATH]\n");
	exit(2);
}

static void parse(int argc, char **argv, struct opts *o)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		bool has_value = i + 1 < argc;
		if (!strcmp(a, "--huge"))
			o->huge = true;
		else if (!strcmp(a, "--quick"))
			o->quick = true;
		else if (!strcmp(a, "--addr-index"))
			o->addr_index = true;
		else if (!strcmp(a, "--runs") && has_value)
			o->runs = (unsigned)atoi(argv[++i]);
		else if (!strcmp(a, "--queries") && has_value)
			o->queries = (unsigned)atoi(argv[++i]);
		else if (!strcmp(a, "--batch") && has_value)
			o->batch = (unsigned)atoi(argv[++i]);
		else if (!strcmp(a, "--cache-mib") && has_value)
			o->cache_mib = (unsigned)atoi(argv[++i]);
		else if (!strcmp(a, "--nice") && has_value)
			o->nice = atoi(argv[++i]);
		else if (!strcmp(a, "--testpmd") && has_value)
			o->testpmd = argv[++i];
		else
			usage();
	}
	if (o->quick) {
		o->runs = 1;
		o->queries = 16384;
		o->batch = 1024;
	}
	if (!o->runs || o->runs > RUNS_MAX || !o->batch || o->batch > 8192 ||
	    o->queries < o->batch || o->cache_mib < 1 || o->cache_mib > 2048)
		usage();
}

/* --dut --socket PATH --in-flight N [--huge-dir DIR]: the DUT role. */
static int dut_role(int argc, char **argv)
{
	struct dut_opts d = {0};
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--socket"))
			d.socket = argv[i + 1];
		else if (!strcmp(argv[i], "--in-flight"))
			d.in_flight = (unsigned)atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--huge-dir"))
			d.huge_dir = argv[i + 1];
		else if (!strcmp(argv[i], "--swap"))
			d.macswap = !strcmp(argv[i + 1], "yes");
		else if (!strcmp(argv[i], "--cache-mib"))
			d.cache_mib = (unsigned)atoi(argv[i + 1]);
	}
	return d.socket ? dut_main(&d) : 2;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--dut"))
		return dut_role(argc, argv);
	struct opts o = {
	    .runs = 9, .queries = 65536, .batch = 4096, .cache_mib = 64, .testpmd = TESTPMD_PATH};
	parse(argc, argv, &o);
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0)
		return 1;
	self[n] = '\0';
	snprintf(socket_path, sizeof(socket_path), "/run/vpcdns-bench-%d.sock", (int)getpid());
	if (o.huge && !(huge_dir = huge_setup(HUGE_PAGES)))
		return 1;
	/* on a shared machine other processes preempt the timed polls: a lower nice value (root)
	 * makes that rarer for the generator, the DUT and testpmd alike */
	if (o.nice && setpriority(PRIO_PROCESS, 0, o.nice) != 0) {
		perror("bench_pipeline: setpriority");
		return 1;
	}
	if (!gen_start(socket_path, huge_dir, o.batch))
		return 1;
	struct run runs[RUNS_MAX];
	unsigned done = 0;
	for (unsigned i = 0; i < o.runs; i++) {
		printf("run %u:\n", i + 1);
		fflush(stdout);
		if (!run_dut(&o, &runs[done]) || !run_cache(&o, &runs[done]) ||
		    !run_swap(&o, &runs[done]) || !run_testpmd(&o, &runs[done]))
			continue;
		done++;
	}
	if (done)
		summary(&o, runs, done);
	if (o.addr_index)
		addr_index_bench(o.quick ? 1 : 5);
	gen_stop();
	return done == o.runs ? 0 : 1;
}
