/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/pipeline: the forward path and the response path of one data lcore through a real DPDK
 * port (net_memif between two processes), on 10,000 rules and distinct names, beside testpmd's
 * macswap on the same port, memory mode and generator, as a ratio of busy cycles per packet. This
 * process is the generator (memif server, CPU 0) and runs each run's other end as a child: the
 * DUT (this binary with --dut: the real dp plane on CPU 1) or dpdk-testpmd (forwarding on CPU 1),
 * alternating, so both see the same load. --huge sets up hugepages for the run and undoes them.
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

/* The generator's side of a run: warm-up until a batch comes back whole, reset (our DUT
 * roles), the timed batches. answers: the other end is dp (targets answer its forwarded queries).
 */
static bool drive(const struct opts *o, struct child *c, bool answers, bool reset,
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
	while (!gen_batch(o->batch, answers, &warm))
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
		all &= gen_batch(o->batch, answers, counts);
	if (!all)
		fprintf(stderr,
			"bench_pipeline: frames lost: sent %" PRIu64 ", back %" PRIu64
			", good %" PRIu64 ", answers %" PRIu64 "\n",
			counts->sent, counts->fwd_back, counts->fwd_good, counts->answers_good);
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

/* Runs this binary as the DUT (dp, or the macswap baseline) for one run; its figures. */
static bool dut_child(const struct opts *o, bool macswap, struct dut_figures *f,
		      struct gen_counts *g)
{
	char in_flight[16], out[OUTPUT_MAX], line[64];
	snprintf(in_flight, sizeof(in_flight), "%u", o->batch);
	char *argv[] = {self,
			"--dut",
			"--socket",
			socket_path,
			"--in-flight",
			in_flight,
			"--swap",
			macswap ? "yes" : "no",
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
	bool ok = drive(o, &c, !macswap, true, g);
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
	return ok && f->fwd_pkts && (macswap || f->resp_pkts);
}

static bool run_dut(const struct opts *o, struct run *r)
{
	struct dut_figures f;
	struct gen_counts g = {0};
	if (!dut_child(o, false, &f, &g))
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

static bool run_swap(const struct opts *o, struct run *r)
{
	struct dut_figures f;
	struct gen_counts g = {0};
	if (!dut_child(o, true, &f, &g))
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
	if (huge_dir) {
		argv[argc++] = "--huge-dir";
		argv[argc++] = (char *)huge_dir;
		argv[argc++] = "-m";
		argv[argc++] = "256";
	} else {
		argv[argc++] = "--no-huge";
		argv[argc++] = "--no-shconf";
		argv[argc++] = "-m";
		argv[argc++] = "512";
	}
	char *tail[] = {"--", "--forward-mode=macswap", "--record-core-cycles", "--nb-cores=1",
			"--total-num-mbufs=16384", "--burst=32",
			/* the DUT's queues (io adds the control core's TX queue): one stream */
			"--rxq=1", "--txq=2", NULL};
	memcpy(argv + argc, tail, sizeof(tail));
	struct child c;
	struct gen_counts g = {0};
	if (!child_start(&c, argv, NULL))
		return false;
	bool ok = drive(o, &c, false, false, &g);
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
	printf("  %-34s %7.1f %7.1f %9.2f %9.2f %8.2f %8.2f%s\n", name, med, best, hz / med / 1e6,
	       median(o, n), r, lowest(mac, n) / best, r >= 1.0 / 3 ? "" : "  < 1/3");
}

/* The per-path series of one estimator over the runs. */
struct series {
	double fwd[RUNS_MAX], resp[RUNS_MAX], rt[RUNS_MAX], swap[RUNS_MAX];
	double fwd_o[RUNS_MAX], resp_o[RUNS_MAX], rt_o[RUNS_MAX], swap_o[RUNS_MAX];
};

static void table(const char *title, const char *swap_name, const struct series *v, unsigned n,
		  double hz)
{
	printf("  %-34s %7s %7s %9s %9s %8s %8s\n", title, "median", "best", "Mpps/core",
	       "Mpps seen", "vs swap", "best vs");
	print_path("client query -> target", v->fwd, v->fwd_o, v->swap, n, hz);
	print_path("target answer -> client", v->resp, v->resp_o, v->swap, n, hz);
	print_path("round trip, per query", v->rt, v->rt_o, v->swap, n, hz);
	print_path(swap_name, v->swap, v->swap_o, v->swap, n, hz);
}

static void summary(const struct opts *o, const struct run *runs, unsigned n)
{
	struct series poll, sum;
	for (unsigned i = 0; i < n; i++) {
		const struct run *r = &runs[i];
		sum.fwd_o[i] = poll.fwd_o[i] = r->fwd.observed_mpps;
		sum.resp_o[i] = poll.resp_o[i] = r->resp.observed_mpps;
		sum.rt_o[i] = poll.rt_o[i] =
		    1 / (1 / r->fwd.observed_mpps + 1 / r->resp.observed_mpps);
		poll.swap_o[i] = r->swap.observed_mpps;
		sum.swap_o[i] = r->macswap.observed_mpps;
		poll.fwd[i] = r->fwd.poll_median;
		poll.resp[i] = r->resp.poll_median;
		poll.rt[i] = poll.fwd[i] + poll.resp[i];
		poll.swap[i] = r->swap.poll_median;
		sum.fwd[i] = r->fwd.cycles_per_pkt;
		sum.resp[i] = r->resp.cycles_per_pkt;
		sum.rt[i] = sum.fwd[i] + sum.resp[i];
		sum.swap[i] = r->macswap.cycles_per_pkt;
	}
	double hz = (double)runs[0].tsc_hz;
	printf("\nbench/pipeline: net_memif, %s, one lcore, %u rules, %u queries per run (every "
	       "name and client distinct), batches of %u, %u runs, nice %d\n",
	       huge_dir ? "hugepages (2 MiB)" : "no hugepages (--no-huge)", WL_RULES, o->queries,
	       o->batch, n, o->nice);
	table("cycles/pkt of the median busy poll", "macswap, same role and timing", &poll, n, hz);
	table("cycles/pkt, all busy polls summed", "testpmd macswap (its own figure)", &sum, n, hz);
	printf(
	    "  (median busy poll: robust to preemption, the figure to quote; sums: testpmd's way, "
	    "which a preempted poll inflates. Mpps/core: TSC %.0f MHz / median cycles; Mpps "
	    "seen: the generator's rate over the phases; vs swap: median over runs of macswap "
	    "cycles / path cycles in the same run, the goal >= 0.33; best vs: best over best)\n",
	    hz / 1e6);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench_pipeline [--huge] [--quick] [--runs N] [--queries N] [--batch N] "
		"[--addr-index] [--nice N] [--testpmd PATH]\n");
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
	if (!o->runs || o->runs > RUNS_MAX || !o->batch || o->batch > 8192 || o->queries < o->batch)
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
	}
	return d.socket ? dut_main(&d) : 2;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--dut"))
		return dut_role(argc, argv);
	struct opts o = {.runs = 9, .queries = 65536, .batch = 4096, .testpmd = TESTPMD_PATH};
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
		if (!run_dut(&o, &runs[done]) || !run_swap(&o, &runs[done]) ||
		    !run_testpmd(&o, &runs[done]))
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
