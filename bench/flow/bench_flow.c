/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_flow: what dp/flow costs per query on one core with 64k queries in flight: open + find +
 * close (with and without the timer armed by the first pick), find for a spoofed (port, ID), a
 * retry, expiry per expired flow and per empty poll, ChaCha20 per draw, and our timing wheel's
 * arm + cancel against DPDK's rte_timer_reset + rte_timer_stop at the same number pending. Prints
 * the median of several runs as a table. Run: build/bench/flow/bench_flow [--no-dpdk]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_lcore.h>
#include <rte_timer.h>

#include "dp/flow/flow.h"
#include "dp/flow/flow_internal.h"

#define IN_FLIGHT 65536u
#define OPS	  (4u * IN_FLIGHT)
#define RUNS	  7
#define MS	  1000000ull
#define T0	  (1000ull * MS)

static const uint32_t targets[] = {0, 1, 2, 3};

static uint64_t wall_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static struct flow_table *new_table(void)
{
	struct flow_table_params p = {
	    .capacity = IN_FLIGHT,
	    .port_lo = 10000,
	    .port_hi = 10000 + 1023, /* 1,024 ports: an lcore's share of 64k among 64 lcores */
	    .tries = 3,
	    .timeout_initial_ns = FLOW_TIMEOUT_INITIAL_DEFAULT,
	    .timeout_min_ns = FLOW_TIMEOUT_MIN_DEFAULT,
	    .timeout_max_ns = FLOW_TIMEOUT_MAX_DEFAULT,
	    .n_targets = 4,
	};
	enum flow_params_error err;
	struct flow_table *t;

	for (int i = 0; i < FLOW_SEED_BYTES; i++)
		p.seed[i] = (uint8_t)(i * 31 + 7);
	t = flow_table_new(&p, &err);
	if (!t) {
		fprintf(stderr, "flow_table_new: %s\n", flow_params_error_str(err));
		exit(1);
	}
	return t;
}

static struct flow *must_open(struct flow_table *t, uint64_t now)
{
	struct flow *f;
	enum flow_open_result r = flow_open(t, now, &f);

	if (r != FLOW_OPEN_OK) {
		fprintf(stderr, "flow_open: %s\n", flow_open_result_str(r));
		exit(1);
	}
	return f;
}

/* The table holds IN_FLIGHT - 1 flows; each op opens one, finds it, and closes the oldest, so
 * closes touch memory as cold as a real reply's would. ns per op. */
static double open_find_close(bool with_timer)
{
	struct flow_table *t = new_table();
	struct flow **ring = calloc(IN_FLIGHT, sizeof(*ring));
	struct flow_choice c;
	uint64_t now = T0, start, sink = 0;
	uint32_t head = 0;

	for (uint32_t i = 0; i < IN_FLIGHT - 1; i++) {
		ring[i] = must_open(t, now);
		if (with_timer)
			flow_pick_first(t, ring[i], now, targets, 4, 2, &c);
	}
	start = wall_ns();
	for (uint32_t op = 0; op < OPS; op++) {
		uint32_t tail = (head + IN_FLIGHT - 1) & (IN_FLIGHT - 1);
		struct flow *f = must_open(t, now);
		if (with_timer)
			flow_pick_first(t, f, now, targets, 4, 2, &c);
		sink += (uintptr_t)flow_find(t, f->port, f->id);
		ring[tail] = f;
		flow_close(t, ring[head]);
		head = (head + 1) & (IN_FLIGHT - 1);
		now += 1000;
	}
	double ns = (double)(wall_ns() - start) / OPS;
	if (sink == 0)
		puts("");
	free(ring);
	flow_table_free(t);
	return ns;
}

/* A spoofed reply: a (port, ID) in our range that no flow holds. ns per find. */
static double find_miss(void)
{
	struct flow_table *t = new_table();
	struct flow_rng r;
	uint8_t seed[FLOW_SEED_BYTES] = {1};
	uint64_t start, hits = 0;

	for (uint32_t i = 0; i < IN_FLIGHT; i++)
		must_open(t, T0);
	flow_rng_init(&r, seed);
	start = wall_ns();
	for (uint32_t op = 0; op < OPS; op++)
		hits += flow_find(t, (uint16_t)(10000 + (flow_rng_u16(&r) & 1023)),
				  flow_rng_u16(&r)) != NULL;
	double ns = (double)(wall_ns() - start) / OPS;
	if (hits > OPS / 2)
		puts("");
	flow_table_free(t);
	return ns;
}

/* 64k in flight, sent over 200 ms; the clock then moves 100 us per poll and each poll expires
 * up to a burst of 32 and retries each (a new (port, ID), timer re-armed). ns per expired flow
 * (expire + retry), and ns per empty poll (nothing due). */
static void expire_and_retry(double *per_expired, double *per_empty_poll)
{
	struct flow_table *t = new_table();
	struct flow *out[32];
	struct flow_choice c;
	uint64_t now, expired = 0, spent = 0, start;

	for (uint32_t i = 0; i < IN_FLIGHT; i++) {
		struct flow *f = must_open(t, T0);
		flow_pick_first(t, f, T0 + (uint64_t)i * 200 * MS / IN_FLIGHT, targets, 4, 2, &c);
	}
	flow_expire(t, T0, out, 32);
	for (now = T0 + 200 * MS; now < T0 + 420 * MS; now += 100000) {
		size_t n;
		start = wall_ns();
		while ((n = flow_expire(t, now, out, 32)) > 0) {
			for (size_t i = 0; i < n; i++)
				if (flow_retry(t, out[i], now, targets, 4, 2, &c) != FLOW_TRY_SENT)
					flow_close(t, out[i]);
			expired += n;
		}
		spent += wall_ns() - start;
	}
	*per_expired = (double)spent / (double)expired;

	/* Every flow is now armed 20 ms to 2 s ahead: polls find nothing. */
	start = wall_ns();
	for (uint32_t op = 0; op < OPS; op++)
		expired += flow_expire(t, now, out, 32);
	*per_empty_poll = (double)(wall_ns() - start) / OPS;
	flow_table_free(t);
}

/* A reply for an open flow, at random among 64k. ns per find. */
static double find_hit(void)
{
	struct flow_table *t = new_table();
	struct flow_rng r;
	uint8_t seed[FLOW_SEED_BYTES] = {4};
	uint32_t *keys = calloc(IN_FLIGHT, sizeof(*keys));
	uint64_t start, hits = 0;

	for (uint32_t i = 0; i < IN_FLIGHT; i++) {
		struct flow *f = must_open(t, T0);
		keys[i] = (uint32_t)f->port << 16 | f->id;
	}
	flow_rng_init(&r, seed);
	start = wall_ns();
	for (uint32_t op = 0; op < OPS; op++) {
		uint32_t key = keys[flow_rng_u16(&r)];
		hits += flow_find(t, (uint16_t)(key >> 16), (uint16_t)key) != NULL;
	}
	double ns = (double)(wall_ns() - start) / OPS;
	if (hits != OPS)
		puts("find_hit: a flow went missing");
	free(keys);
	flow_table_free(t);
	return ns;
}

/*
 * The alternative the brief named: chained hashing with the chain link and key in each flow's
 * first cache line and a bucket array of heads (load 1/2). Same keys, same lookups.
 */
struct chained_flow {
	uint32_t key, next;
	uint8_t rest_of_line[56];
};

struct chained {
	uint32_t *heads;
	struct chained_flow *flows;
	uint32_t bits;
};

static struct chained_flow *chained_find(const struct chained *c, uint32_t key)
{
	uint32_t i = c->heads[(uint32_t)(key * 0x9e3779b1u) >> (32 - c->bits)];

	while (i != FLOW_NIL && c->flows[i].key != key)
		i = c->flows[i].next;
	return i == FLOW_NIL ? NULL : &c->flows[i];
}

static void chained_find_hit_miss(double *hit, double *miss)
{
	struct chained c = {.bits = 17};
	struct flow_rng r;
	uint8_t seed[FLOW_SEED_BYTES] = {4};
	uint64_t start, found = 0;

	c.heads = malloc(sizeof(*c.heads) << c.bits);
	c.flows = aligned_alloc(64, IN_FLIGHT * sizeof(*c.flows));
	memset(c.heads, 0xff, sizeof(*c.heads) << c.bits);
	flow_rng_init(&r, seed);
	for (uint32_t i = 0; i < IN_FLIGHT; i++) {
		uint32_t key;
		do
			key = (10000u + (flow_rng_u16(&r) & 1023)) << 16 | flow_rng_u16(&r);
		while (chained_find(&c, key));
		uint32_t *head = &c.heads[(uint32_t)(key * 0x9e3779b1u) >> (32 - c.bits)];
		c.flows[i].key = key;
		c.flows[i].next = *head;
		*head = i;
	}
	start = wall_ns();
	for (uint32_t op = 0; op < OPS; op++)
		found += chained_find(&c, c.flows[flow_rng_u16(&r)].key) != NULL;
	*hit = (double)(wall_ns() - start) / OPS;
	start = wall_ns();
	for (uint32_t op = 0; op < OPS; op++)
		found += chained_find(&c, (10000u + (flow_rng_u16(&r) & 1023)) << 16 |
					      flow_rng_u16(&r)) != NULL;
	*miss = (double)(wall_ns() - start) / OPS;
	if (found < OPS)
		puts("chained: a flow went missing");
	free(c.heads);
	free(c.flows);
}

/* ns per 16-bit draw (a ChaCha20 block every 32 draws). */
static double rng_draw(void)
{
	struct flow_rng r;
	uint8_t seed[FLOW_SEED_BYTES] = {2};
	uint32_t acc = 0;
	uint64_t start;

	flow_rng_init(&r, seed);
	start = wall_ns();
	for (uint32_t op = 0; op < 8 * OPS; op++)
		acc += flow_rng_u16(&r);
	double ns = (double)(wall_ns() - start) / (8.0 * OPS);
	if (acc == 1)
		puts("");
	return ns;
}

/* Our wheel at 64k pending: cancel one timer and arm it again 20 ms to 2 s ahead. */
static double wheel_arm_cancel(void)
{
	struct flow_table *t = new_table();
	struct flow_rng r;
	uint8_t seed[FLOW_SEED_BYTES] = {3};
	uint64_t start;

	flow_rng_init(&r, seed);
	for (uint32_t i = 0; i < IN_FLIGHT; i++)
		flow_timer_arm(t, must_open(t, T0), T0 + 20 * MS + flow_rng_below(&r, 1980) * MS);
	start = wall_ns();
	for (uint32_t op = 0; op < OPS; op++) {
		struct flow *f = &t->flows[op & (IN_FLIGHT - 1)];
		flow_timer_cancel(t, f);
		flow_timer_arm(t, f, T0 + 20 * MS + flow_rng_below(&r, 1980) * MS);
	}
	double ns = (double)(wall_ns() - start) / OPS;
	flow_table_free(t);
	return ns;
}

static void timer_fired(struct rte_timer *tim, void *arg)
{
	(void)tim;
	(void)arg;
}

/* rte_timer at 64k pending: rte_timer_stop then rte_timer_reset 20 ms to 2 s ahead. */
static double rte_timer_stop_reset(double *per_empty_manage)
{
	struct rte_timer *tims = calloc(IN_FLIGHT, sizeof(*tims));
	struct flow_rng r;
	uint8_t seed[FLOW_SEED_BYTES] = {3};
	uint64_t hz_ms = rte_get_timer_hz() / 1000, start;
	unsigned lcore = rte_lcore_id(), failed = 0;

	flow_rng_init(&r, seed);
	for (uint32_t i = 0; i < IN_FLIGHT; i++) {
		rte_timer_init(&tims[i]);
		rte_timer_reset(&tims[i], (20 + flow_rng_below(&r, 1980)) * hz_ms, SINGLE, lcore,
				timer_fired, NULL);
	}
	start = wall_ns();
	for (uint32_t op = 0; op < OPS; op++) {
		struct rte_timer *tim = &tims[op & (IN_FLIGHT - 1)];
		failed += rte_timer_stop(tim) != 0;
		failed += rte_timer_reset(tim, (20 + flow_rng_below(&r, 1980)) * hz_ms, SINGLE,
					  lcore, timer_fired, NULL) != 0;
	}
	double ns = (double)(wall_ns() - start) / OPS;
	if (failed)
		fprintf(stderr, "rte_timer: %u calls failed\n", failed);
	start = wall_ns();
	for (uint32_t op = 0; op < OPS; op++)
		rte_timer_manage();
	*per_empty_manage = (double)(wall_ns() - start) / OPS;
	for (uint32_t i = 0; i < IN_FLIGHT; i++)
		rte_timer_stop(&tims[i]);
	free(tims);
	return ns;
}

/*
 * Failover, simulated on the fake clock (no wall time): a rule with two targets, each with its own
 * behaviour (answer time, silent from some instant on, a share of queries lost), 10,000 queries a
 * second for 10 s, driven through flow_open, flow_pick_first, flow_find, flow_record_answer,
 * flow_expire and flow_retry as the lcore would. Reports the client's wait (query in to answer or
 * SERVFAIL).
 */
#define SIM_TARGETS 2
#define NEVER	    UINT64_MAX

struct sim_target {
	uint64_t rtt_ns;
	uint64_t silent_from; /* NEVER: always answers */
	unsigned loss_per_mille;
};

struct sim_scenario {
	const char *name;
	struct sim_target targets[SIM_TARGETS];
};

struct sim_answer {
	struct flow *f;
	uint16_t port, id;
	uint64_t due;
};

/* One FIFO of answers per target: each target answers in a constant time, so each is in order. */
struct sim_queue {
	struct sim_answer *ring;
	uint32_t head, tail;
};

struct sim_result {
	double p50_ms, p99_ms, p999_ms, max_ms;
	uint64_t slow;	   /* waited over 100 ms */
	uint64_t servfail; /* tries used up */
	uint64_t queries;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void sim_send(const struct sim_scenario *sc, struct sim_queue *q, uint32_t *lcg,
		     struct flow *f, uint64_t now)
{
	const struct sim_target *tg = &sc->targets[f->target];

	*lcg = *lcg * 1103515245u + 12345u;
	if (now >= tg->silent_from || (*lcg >> 8) % 1000 < tg->loss_per_mille)
		return;
	q = &q[f->target];
	q->ring[q->tail++ & (IN_FLIGHT - 1)] =
	    (struct sim_answer){f, f->port, f->id, now + tg->rtt_ns};
}

static void sim_finish(struct flow_table *t, struct sim_result *res, uint64_t *waits,
		       struct flow *f, uint64_t now)
{
	waits[res->queries++] = now - f->opened_ns;
	flow_close(t, f);
}

static void sim_deliver(struct flow_table *t, struct sim_queue *q, struct sim_result *res,
			uint64_t *waits, uint64_t now)
{
	for (; q->head != q->tail && q->ring[q->head & (IN_FLIGHT - 1)].due <= now; q->head++) {
		struct sim_answer *a = &q->ring[q->head & (IN_FLIGHT - 1)];
		if (flow_find(t, a->port, a->id) != a->f)
			continue; /* an answer to a try already retried: late */
		flow_record_answer(t, a->f, now);
		sim_finish(t, res, waits, a->f, now);
	}
}

static void simulate(const struct sim_scenario *sc, struct sim_result *res)
{
	const uint64_t step = 100000, end = T0 + 10000 * MS; /* one query per 100 us */
	struct flow_table *t = new_table();
	struct sim_queue q[SIM_TARGETS];
	uint64_t *waits = calloc((end - T0) / step + 1, sizeof(*waits));
	struct flow *out[64];
	struct flow_choice c;
	uint32_t lcg = 7;
	size_t n;

	memset(res, 0, sizeof(*res));
	for (int i = 0; i < SIM_TARGETS; i++)
		q[i] = (struct sim_queue){calloc(IN_FLIGHT, sizeof(struct sim_answer)), 0, 0};
	for (uint64_t now = T0; now < end; now += step) {
		for (int i = 0; i < SIM_TARGETS; i++)
			sim_deliver(t, &q[i], res, waits, now);
		while ((n = flow_expire(t, now, out, 64)) > 0)
			for (size_t i = 0; i < n; i++) {
				if (flow_retry(t, out[i], now, targets, SIM_TARGETS, 2, &c) ==
				    FLOW_TRY_SENT) {
					sim_send(sc, q, &lcg, out[i], now);
					continue;
				}
				res->servfail++;
				sim_finish(t, res, waits, out[i], now);
			}
		struct flow *f = must_open(t, now);
		flow_pick_first(t, f, now, targets, SIM_TARGETS, 2, &c);
		sim_send(sc, q, &lcg, f, now);
	}
	qsort(waits, res->queries, sizeof(*waits), cmp_u64);
	for (uint64_t i = 0; i < res->queries; i++)
		res->slow += waits[i] > 100 * MS;
	res->p50_ms = (double)waits[res->queries / 2] / MS;
	res->p99_ms = (double)waits[res->queries * 99 / 100] / MS;
	res->p999_ms = (double)waits[res->queries * 999 / 1000] / MS;
	res->max_ms = (double)waits[res->queries - 1] / MS;
	free(waits);
	for (int i = 0; i < SIM_TARGETS; i++)
		free(q[i].ring);
	flow_table_free(t);
}

static void print_failover(void)
{
	static const struct sim_scenario scenarios[] = {
	    {"1 ms + silent from the start", {{MS, NEVER, 0}, {MS, 0, 0}}},
	    {"1 ms + 1 ms silent from 5 s on", {{MS, NEVER, 0}, {MS, T0 + 5000 * MS, 0}}},
	    {"1 ms + 1 ms, 1% lost", {{MS, NEVER, 10}, {MS, NEVER, 10}}},
	    {"1 ms + 30 ms", {{MS, NEVER, 0}, {30 * MS, NEVER, 0}}},
	    {"300 ms + 300 ms", {{300 * MS, NEVER, 0}, {300 * MS, NEVER, 0}}},
	};
	struct sim_result r;

	printf(
	    "\nfailover, simulated clock: a rule of 2 targets, 10,000 queries/s for 10 s, 3 tries, "
	    "default timeouts\n");
	printf("%-32s %7s %7s %8s %7s %8s %8s\n", "targets", "p50 ms", "p99 ms", "p99.9 ms",
	       "max ms", ">100 ms", "SERVFAIL");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		simulate(&scenarios[i], &r);
		printf("%-32s %7.1f %7.1f %8.1f %7.1f %8lu %8lu\n", scenarios[i].name, r.p50_ms,
		       r.p99_ms, r.p999_ms, r.max_ms, (unsigned long)r.slow,
		       (unsigned long)r.servfail);
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v)
{
	qsort(v, RUNS, sizeof(*v), cmp_double);
	return v[RUNS / 2];
}

enum row {
	ROW_OFC,
	ROW_OFC_TIMER,
	ROW_FIND_HIT,
	ROW_FIND_MISS,
	ROW_CHAINED_HIT,
	ROW_CHAINED_MISS,
	ROW_EXPIRE,
	ROW_EMPTY_POLL,
	ROW_RNG,
	ROW_WHEEL,
	ROW_RTE_TIMER,
	ROW_RTE_MANAGE,
	ROWS
};

static const char *const row_names[ROWS] = {
    [ROW_OFC] = "open + find + close",
    [ROW_OFC_TIMER] = "open + pick (timer) + find + close",
    [ROW_FIND_HIT] = "find, open flow (open addressing)",
    [ROW_FIND_MISS] = "find, spoofed (port, ID) (open addressing)",
    [ROW_CHAINED_HIT] = "find, open flow (chained, proto)",
    [ROW_CHAINED_MISS] = "find, spoofed (port, ID) (chained, proto)",
    [ROW_EXPIRE] = "expire + retry, per expired flow",
    [ROW_EMPTY_POLL] = "expire, empty poll",
    [ROW_RNG] = "ChaCha20, per 16-bit draw",
    [ROW_WHEEL] = "wheel: cancel + arm",
    [ROW_RTE_TIMER] = "rte_timer: stop + reset",
    [ROW_RTE_MANAGE] = "rte_timer_manage, empty poll",
};

static bool use_dpdk(int argc, char **argv)
{
	char *eal_argv[] = {
	    argv[0], "--no-huge",	  "-m", "256", "--no-pci", "--no-shconf", "-l",
	    "0",     "--log-level=error", NULL};

	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--no-dpdk") == 0)
			return false;
	if (rte_eal_init(9, eal_argv) < 0 || rte_timer_subsystem_init() < 0) {
		fprintf(stderr, "EAL or rte_timer init failed: rte_timer rows skipped\n");
		return false;
	}
	return true;
}

int main(int argc, char **argv)
{
	double v[ROWS][RUNS];
	bool dpdk = use_dpdk(argc, argv);

	for (int run = 0; run < RUNS; run++) {
		v[ROW_OFC][run] = open_find_close(false);
		v[ROW_OFC_TIMER][run] = open_find_close(true);
		v[ROW_FIND_HIT][run] = find_hit();
		v[ROW_FIND_MISS][run] = find_miss();
		chained_find_hit_miss(&v[ROW_CHAINED_HIT][run], &v[ROW_CHAINED_MISS][run]);
		expire_and_retry(&v[ROW_EXPIRE][run], &v[ROW_EMPTY_POLL][run]);
		v[ROW_RNG][run] = rng_draw();
		v[ROW_WHEEL][run] = wheel_arm_cancel();
		if (dpdk)
			v[ROW_RTE_TIMER][run] = rte_timer_stop_reset(&v[ROW_RTE_MANAGE][run]);
	}
	printf("dp/flow, one core, %u flows in flight, median of %d runs\n", IN_FLIGHT, RUNS);
	printf("%-44s %8s\n", "operation", "ns");
	for (int row = 0; row < ROWS; row++) {
		if (!dpdk && (row == ROW_RTE_TIMER || row == ROW_RTE_MANAGE))
			continue;
		printf("%-44s %8.1f\n", row_names[row], median(v[row]));
	}
	print_failover();
	if (dpdk)
		rte_eal_cleanup();
	return 0;
}
