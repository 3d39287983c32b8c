/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_match: how fast dp/match builds and looks up tables of 10 to 1,000,000 rules, per engine,
 * on one core. It generates realistic rule sets (2 to 5 labels from a vocabulary, a TLD mix, every
 * kind, wildcards) and a stream of distinct query names (hits 0 to 3 labels below a rule, and
 * misses, in 0x20-randomised case), then prints build time, bytes per rule and lookups per second
 * as a table, with the median of several runs. A reversed-label trie prototype (trie_proto.c) runs
 * beside the suffix engine for comparison. See README.md.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dp/match/match.h"
#include "trie_proto.h"

#define RUNS	    5
#define GOAL_RULES  1000000
#define GOAL_BUILD  2.0	  /* seconds */
#define GOAL_BYTES  100.0 /* per rule */
#define GOAL_LOOKUP 100.0 /* ns */
/* Hyperscan took 5.9 s to compile 100,000 domains and 15.6 s for 300,000 here (README.md): bigger
 * tables run only when asked for with --hs-max. */
#define HS_MAX_DEFAULT 100000

enum bench_engine { BENCH_SUFFIX, BENCH_HYPERSCAN, BENCH_TRIE, BENCH_ENGINES };
static const char *const bench_engine_names[BENCH_ENGINES] = {"suffix", "hyperscan",
							      "trie (proto)"};

struct options {
	bool quick;
	bool engines[BENCH_ENGINES];
	size_t sizes[16];
	size_t n_sizes;
	size_t queries;
	size_t hs_max; /* largest table the Hyperscan engine is asked to compile */
};

struct rule {
	char domain[96];
	enum match_kind kind;
};

struct queries {
	uint8_t *wire;
	uint32_t *off;
	uint8_t *len;
	size_t n;
};

struct row {
	size_t rules, domains;
	double add_s, build_s, bytes_per_rule, ns, ns_burst, mlps;
	bool ok;
	char note[96];
};

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t rnd64(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static uint32_t rnd(uint32_t bound)
{
	return (uint32_t)(rnd64() % bound);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* --- realistic names --- */

static const char *const syllables[] = {
    "ac",   "me",  "ex",   "am",   "ple", "cor",  "in",	 "ter",	 "nal",	 "db",	 "web",	 "api",
    "prod", "dev", "east", "west", "us",  "eu",	  "svc", "k8s",	 "data", "lake", "net",	 "app",
    "shop", "pay", "auth", "id",   "ops", "mail", "vpn", "edge", "core", "log",	 "mon",	 "git",
    "ci",   "ml",  "bi",   "hr",   "crm", "erp",  "on",	 "prem", "hub",	 "ad",	 "ldap", "dc",
    "fs",   "s3",  "q",	   "x",	   "z",	  "lab",  "qa",	 "uat"};
#define SYLLABLES (sizeof(syllables) / sizeof(syllables[0]))

struct tld {
	const char *name;
	unsigned weight;
};
static const struct tld tlds[] = {
    {"com", 40},  {"net", 10},	  {"org", 8},	{"io", 6},    {"internal", 10},	  {"corp", 6},
    {"local", 4}, {"example", 4}, {"cloud", 4}, {"co.uk", 4}, {"in-addr.arpa", 4}};

static void random_word(char *out)
{
	unsigned n = 1 + rnd(3);
	out[0] = '\0';
	for (unsigned i = 0; i < n; i++)
		strcat(out, syllables[rnd(SYLLABLES)]);
	if (rnd(4) == 0)
		sprintf(out + strlen(out), "%u", rnd(100));
}

static const char *random_tld(void)
{
	unsigned total = 0, pick;
	for (size_t i = 0; i < sizeof(tlds) / sizeof(tlds[0]); i++)
		total += tlds[i].weight;
	pick = rnd(total);
	for (size_t i = 0;; i++) {
		if (pick < tlds[i].weight)
			return tlds[i].name;
		pick -= tlds[i].weight;
	}
}

/* A domain of 2 to 5 labels: words, then a TLD (which may itself have two labels). */
static void random_domain(char *out)
{
	const char *tld = random_tld();
	unsigned labels = 2 + rnd(4) - (strchr(tld, '.') ? 1 : 0);
	char word[32];
	out[0] = '\0';
	for (unsigned i = 1; i < labels; i++) {
		random_word(word);
		strcat(out, word);
		strcat(out, ".");
	}
	strcat(out, tld);
}

static enum match_kind random_kind(void)
{
	unsigned r = rnd(100);
	return r < 50	? MATCH_FORWARD
	       : r < 55 ? MATCH_SYSTEM
	       : r < 60 ? MATCH_DELEGATE
	       : r < 90 ? MATCH_ZONE
			: MATCH_AUTO;
}

static int kind_class(enum match_kind k)
{
	return k == MATCH_ZONE ? 1 : k == MATCH_AUTO ? 2 : 0;
}

/* 64-bit fingerprints of (domain, kind class), so that every generated rule is accepted. */
struct seen {
	uint64_t *keys;
	size_t mask;
};

static bool seen_insert(struct seen *set, const char *domain, int class)
{
	uint64_t h = 0xcbf29ce484222325ULL ^ (uint64_t) class;
	for (const char *p = domain; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ULL;
	h |= 1;
	for (size_t i = h & set->mask;; i = (i + 1) & set->mask) {
		if (set->keys[i] == h)
			return false;
		if (!set->keys[i]) {
			set->keys[i] = h;
			return true;
		}
	}
}

/* n distinct (domain, kind class) rules; a tenth are wildcards, a few are TLDs or the root. */
static struct rule *make_rules(size_t n)
{
	struct rule *rules = malloc(sizeof(*rules) * n);
	struct seen set = {.mask = 1023};
	while (set.mask < n * 2)
		set.mask = set.mask * 2 + 1;
	set.keys = calloc(set.mask + 1, sizeof(*set.keys));
	for (size_t i = 0; i < n;) {
		struct rule *r = &rules[i];
		r->kind = random_kind();
		if (i == 0) {
			strcpy(r->domain, ".");
			r->kind = MATCH_FORWARD;
		} else if (i < 3) {
			strcpy(r->domain, i == 1 ? "internal" : "arpa");
		} else if (rnd(10) == 0) {
			strcpy(r->domain, "*.");
			random_domain(r->domain + 2);
		} else {
			random_domain(r->domain);
		}
		i += seen_insert(&set, r->domain, kind_class(r->kind));
	}
	free(set.keys);
	return rules;
}

/* Writes a presentation name as wire form with 0x20-randomised case; returns its length. */
static size_t to_wire(const char *text, uint8_t *out)
{
	size_t at = 0;
	while (*text) {
		const char *dot = strchr(text, '.');
		size_t n = dot ? (size_t)(dot - text) : strlen(text);
		out[at++] = (uint8_t)n;
		for (size_t i = 0; i < n; i++) {
			char c = text[i];
			out[at++] = (uint8_t)((c >= 'a' && c <= 'z' && (rnd64() & 1)) ? c - 32 : c);
		}
		text += n + (dot != NULL);
	}
	out[at++] = 0;
	return at;
}

/* Three quarters hit a rule 0 to 3 labels below it; the rest are random names, mostly misses. */
static struct queries make_queries(const struct rule *rules, size_t n_rules, size_t n)
{
	struct queries q = {
	    .wire = malloc(n * 160), .off = malloc(n * 4), .len = malloc(n), .n = n};
	size_t at = 0;
	char name[256], word[32];

	for (size_t i = 0; i < n; i++) {
		name[0] = '\0';
		if (rnd(4)) {
			const char *d = rules[rnd((uint32_t)n_rules)].domain;
			unsigned below = rnd(4);
			if (d[0] == '*')
				d += 2, below = below ? below : 1;
			for (unsigned k = 0; k < below; k++) {
				random_word(word);
				strcat(name, word);
				strcat(name, ".");
			}
			strcat(name, strcmp(d, ".") ? d : "com");
		} else {
			random_word(word);
			strcat(name, word);
			strcat(name, ".");
			random_domain(name + strlen(name));
		}
		q.off[i] = (uint32_t)at;
		q.len[i] = (uint8_t)to_wire(name, q.wire + at);
		at += q.len[i];
	}
	return q;
}

static void free_queries(struct queries *q)
{
	free(q->wire);
	free(q->off);
	free(q->len);
}

/* --- measurement --- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static volatile uint64_t sink; /* keeps the lookups from being optimised away */

/* Sum of results for lookups [from, to) of the stream, one by one or in bursts. */
static uint64_t run_lookups(const struct match_table *t, const struct trie_proto *trie,
			    struct match_scratch *s, const struct queries *q, size_t count,
			    bool burst)
{
	uint64_t sum = 0;
	struct match_result r;

	if (trie) {
		for (size_t i = 0; i < count; i++)
			sum += trie_proto_lookup(trie, q->wire + q->off[i], q->len[i]);
		return sum;
	}
	if (!burst) {
		for (size_t i = 0; i < count; i++)
			if (match_lookup(t, s, q->wire + q->off[i], q->len[i], &r) == 0)
				sum += r.id ^ r.kind;
		return sum;
	}
	for (size_t i = 0; i < count; i += MATCH_BURST_MAX) {
		const uint8_t *names[MATCH_BURST_MAX];
		size_t lens[MATCH_BURST_MAX];
		struct match_result rs[MATCH_BURST_MAX];
		unsigned n = count - i < MATCH_BURST_MAX ? (unsigned)(count - i) : MATCH_BURST_MAX;
		for (unsigned k = 0; k < n; k++) {
			names[k] = q->wire + q->off[i + k];
			lens[k] = q->len[i + k];
		}
		uint64_t failed = match_lookup_burst(t, s, names, lens, n, rs);
		for (unsigned k = 0; k < n; k++)
			sum += (failed >> k) & 1 ? 0 : rs[k].id ^ rs[k].kind;
	}
	return sum;
}

/*
 * Median over RUNS of ns per lookup for one pass over the query stream. A slow engine gets a
 * shorter pass (at least 10,000 names, about half a second), so that the bench ends.
 */
static double time_lookups(const struct match_table *t, const struct trie_proto *trie,
			   struct match_scratch *s, const struct queries *q, bool burst)
{
	double ns[RUNS], t0 = now();
	size_t count = q->n < 1000 ? q->n : 1000;

	sink += run_lookups(t, trie, s, q, count, burst);
	double per = (now() - t0) / (double)count;
	count = q->n;
	if (per * (double)count > 0.5)
		count = (size_t)(0.5 / per) > 10000 ? (size_t)(0.5 / per) : 10000;
	if (count > q->n)
		count = q->n;
	for (int run = 0; run < RUNS; run++) {
		t0 = now();
		sink += run_lookups(t, trie, s, q, count, burst);
		ns[run] = (now() - t0) * 1e9 / (double)count;
	}
	qsort(ns, RUNS, sizeof(ns[0]), cmp_double);
	return ns[RUNS / 2];
}

static struct match_table *build_table(enum match_engine engine, const struct rule *rules, size_t n,
				       struct row *row)
{
	char err[256];
	double t0 = now();
	struct match_builder *b = match_builder_new(engine);
	size_t kept = 0;

	for (size_t i = 0; i < n; i++)
		kept += match_builder_add(b, rules[i].domain, rules[i].kind, (uint32_t)i, err,
					  sizeof(err)) == 0;
	row->add_s = now() - t0;
	struct match_table *t = match_builder_build(b, err, sizeof(err));
	row->build_s = now() - t0 - row->add_s;
	if (!t) {
		snprintf(row->note, sizeof(row->note), "build failed: %.80s", err);
		return NULL;
	}
	struct match_stats st;
	match_table_stats(t, &st);
	row->rules = kept;
	row->domains = st.domains;
	row->bytes_per_rule = (double)st.bytes / (double)kept;
	return t;
}

static struct trie_proto *build_trie(const struct rule *rules, size_t n, struct row *row)
{
	double t0 = now();
	struct trie_proto *trie = trie_proto_new(n);
	for (size_t i = 0; i < n; i++)
		if (!trie_proto_add(trie, rules[i].domain)) {
			snprintf(row->note, sizeof(row->note), "trie prototype out of room");
			trie_proto_free(trie);
			return NULL;
		}
	row->add_s = now() - t0;
	row->rules = n;
	row->domains = trie_proto_nodes(trie);
	row->bytes_per_rule = (double)trie_proto_bytes(trie) / (double)n;
	return trie;
}

/* Counts queries where the trie and the suffix engine disagree on the matched domain's labels. */
static size_t trie_disagreements(const struct trie_proto *trie, const struct match_table *suffix,
				 const struct queries *q)
{
	size_t bad = 0;
	for (size_t i = 0; i < q->n && i < 100000; i++) {
		struct match_result r;
		unsigned rank = trie_proto_lookup(trie, q->wire + q->off[i], q->len[i]);
		if (match_lookup(suffix, NULL, q->wire + q->off[i], q->len[i], &r) != 0)
			bad++;
		else if (r.system_id == MATCH_ID_NONE && r.labels != rank / 2)
			bad++;
	}
	return bad;
}

static void measure(enum bench_engine e, const struct rule *rules, size_t n,
		    const struct queries *q, struct row *row)
{
	memset(row, 0, sizeof(*row));
	if (e == BENCH_TRIE) {
		struct trie_proto *trie = build_trie(rules, n, row);
		if (!trie)
			return;
		struct row ref = {0};
		struct match_table *suffix = build_table(MATCH_ENGINE_SUFFIX, rules, n, &ref);
		size_t bad = suffix ? trie_disagreements(trie, suffix, q) : q->n;
		match_table_free(suffix);
		if (bad)
			snprintf(row->note, sizeof(row->note), "disagrees with suffix on %zu names",
				 bad);
		row->ns = time_lookups(NULL, trie, NULL, q, false);
		row->ns_burst = 0;
		row->mlps = 1e3 / row->ns;
		row->ok = bad == 0;
		trie_proto_free(trie);
		return;
	}
	enum match_engine engine = e == BENCH_SUFFIX ? MATCH_ENGINE_SUFFIX : MATCH_ENGINE_HYPERSCAN;
	struct match_table *t = build_table(engine, rules, n, row);
	if (!t)
		return;
	struct match_scratch *s = match_scratch_new();
	char err[256];
	if (match_scratch_fit(s, t, err, sizeof(err)) < 0) {
		snprintf(row->note, sizeof(row->note), "%.90s", err);
	} else {
		row->ns = time_lookups(t, NULL, s, q, false);
		row->ns_burst = time_lookups(t, NULL, s, q, true);
		row->mlps = 1e3 / row->ns_burst;
		row->ok = true;
	}
	match_scratch_free(s);
	match_table_free(t);
}

/* --- output --- */

static void print_machine(void)
{
	char line[256], model[128] = "unknown CPU";
	FILE *f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');
		if (strncmp(line, "model name", 10) == 0 && colon) {
			snprintf(model, sizeof(model), "%s", colon + 2);
			model[strcspn(model, "\n")] = '\0';
			break;
		}
	}
	if (f)
		fclose(f);
	printf("bench_match on %s, one core, median of %d runs over each query stream\n", model,
	       RUNS);
}

static void print_header(void)
{
	printf("%-13s %9s %9s %8s %8s %10s %9s %9s %10s  %s\n", "engine", "rules", "domains",
	       "add s", "build s", "bytes/rule", "ns single", "ns burst", "Mlookup/s", "note");
}

static void print_row(enum bench_engine e, const struct row *r)
{
	char burst[16] = "-";
	if (r->ns_burst > 0)
		snprintf(burst, sizeof(burst), "%.1f", r->ns_burst);
	printf("%-13s %9zu %9zu %8.3f %8.3f %10.1f %9.1f %9s %10.2f  %s\n", bench_engine_names[e],
	       r->rules, r->domains, r->add_s, r->build_s, r->bytes_per_rule, r->ns, burst, r->mlps,
	       r->note);
	fflush(stdout);
}

static void print_goals(enum bench_engine e, const struct row *r)
{
	double total = r->add_s + r->build_s;
	double ns = r->ns_burst > 0 && r->ns_burst < r->ns ? r->ns_burst : r->ns;
	printf(
	    "goals for %s at %zu rules: build %.2f s (< %.0f s: %s), %.1f bytes/rule (< %.0f: %s), "
	    "%.1f ns/lookup in bursts of %d, %.1f one by one (< %.0f: %s)\n",
	    bench_engine_names[e], r->rules, total, GOAL_BUILD,
	    total < GOAL_BUILD ? "met" : "NOT met", r->bytes_per_rule, GOAL_BYTES,
	    r->bytes_per_rule < GOAL_BYTES ? "met" : "NOT met", r->ns_burst, MATCH_BURST_MAX, r->ns,
	    GOAL_LOOKUP, r->ok && ns < GOAL_LOOKUP ? "met" : "NOT met");
}

static void usage(FILE *out)
{
	fprintf(out, "usage: bench_match [--quick] [--engine suffix|hyperscan|trie|all] "
		     "[--sizes 10,1000,...] [--queries N] [--hs-max N]\n");
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
	    {"quick", no_argument, NULL, 'q'},	     {"engine", required_argument, NULL, 'e'},
	    {"sizes", required_argument, NULL, 's'}, {"queries", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},	     {NULL, 0, NULL, 0}};
	const char *engine = "all", *sizes = NULL;
	int c;

	memset(o, 0, sizeof(*o));
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'q':
			o->quick = true;
			break;
		case 'e':
			engine = optarg;
			break;
		case 's':
			sizes = optarg;
			break;
		case 'n':
			o->queries = strtoull(optarg, NULL, 10);
			break;
		case 'm':
			o->hs_max = strtoull(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	bool all = strcmp(engine, "all") == 0;
	o->engines[BENCH_SUFFIX] = all || strcmp(engine, "suffix") == 0;
	o->engines[BENCH_HYPERSCAN] = all || strcmp(engine, "hyperscan") == 0;
	o->engines[BENCH_TRIE] = all || strcmp(engine, "trie") == 0;
	if (!o->engines[BENCH_SUFFIX] && !o->engines[BENCH_HYPERSCAN] && !o->engines[BENCH_TRIE]) {
		fprintf(stderr, "bench_match: unknown engine \"%s\"\n", engine);
		return -1;
	}
	if (!sizes)
		sizes = o->quick ? "10,1000,20000" : "10,1000,100000,1000000";
	for (const char *p = sizes; *p && o->n_sizes < 16; p += strspn(p, ","))
		o->sizes[o->n_sizes++] = strtoull(p, (char **)&p, 10);
	if (!o->queries)
		o->queries = o->quick ? 100000 : 1000000;
	if (!o->hs_max)
		o->hs_max = HS_MAX_DEFAULT;
	return 0;
}

int main(int argc, char **argv)
{
	struct options o;
	struct row last[BENCH_ENGINES] = {0};

	if (parse_options(argc, argv, &o) < 0)
		return 2;
	print_machine();
	printf("%zu distinct query names per size (3/4 hits 0-3 labels below a rule, 1/4 random), "
	       "0x20 case\n",
	       o.queries);
	printf(
	    "(domains: distinct names in the table; for the trie, its nodes, intermediate labels "
	    "included)\n");
	print_header();
	for (size_t i = 0; i < o.n_sizes; i++) {
		size_t n = o.sizes[i] ? o.sizes[i] : 1;
		struct rule *rules = make_rules(n);
		struct queries q = make_queries(rules, n, o.queries);
		for (int e = 0; e < BENCH_ENGINES; e++) {
			if (!o.engines[e])
				continue;
			if (e == BENCH_HYPERSCAN && n > o.hs_max) {
				printf(
				    "%-13s %9zu  not run: above --hs-max %zu (compile time grows "
				    "superlinearly; see README.md)\n",
				    bench_engine_names[e], n, o.hs_max);
				continue;
			}
			measure((enum bench_engine)e, rules, n, &q, &last[e]);
			print_row((enum bench_engine)e, &last[e]);
		}
		free_queries(&q);
		free(rules);
	}
	for (int e = 0; e < BENCH_ENGINES; e++)
		if (o.engines[e] && e != BENCH_TRIE)
			print_goals((enum bench_engine)e, &last[e]);
	if (o.sizes[o.n_sizes - 1] < GOAL_RULES)
		printf("(the goals are for %d rules; this run stopped at %zu)\n", GOAL_RULES,
		       o.sizes[o.n_sizes - 1]);
	return 0;
}
