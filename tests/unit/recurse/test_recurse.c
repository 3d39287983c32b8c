/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Tests of ctl/recurse against a real DNS hierarchy: BIND serving the lab's offline internet (root,
 * com, onprem.com and xyz.com) on loopback in network namespace vpcdns-rtest (hierarchy.sh), built
 * once before all tests and torn down after, even when tests fail. Each test enters the namespace
 * and resolves from the root with its own libunbound context on its own event_base. Needs root;
 * skipped otherwise.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl/recurse/recurse.h"
#include "dp/wire/wire.h"
#include "wire_name.h"

#define NETNS_PATH  "/run/netns/vpcdns-rtest"
#define READY_MARK  STATE_DIR "/ready"
#define ROOT_HINTS  STATE_DIR "/root.hints"
#define SILENT_ADDR "127.53.0.4" /* silent.com's name server: bound, never read */
#define SOURCE_ADDR "127.53.0.100"
#define TYPE_A	    1
#define TYPE_CNAME  5
#define TYPE_AAAA   28
#define MAX_ANSWER  4096
#define MAX_RECORDS 32
#define TIMEOUT_MS  3000

/* --- the hierarchy: up before all tests, down after all (in the runner process) --- */

static int lock_fd = -1;

ReportHook(PRE_ALL)(struct criterion_test_set *set)
{
	(void)set;
	if (getuid() != 0)
		return;
	/* another checkout's test run would build the same namespace */
	lock_fd = open("/tmp/vpcdns-rtest.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0600);
	if (lock_fd >= 0)
		flock(lock_fd, LOCK_EX);
	if (system(HIERARCHY_SH " up " STATE_DIR " >&2") == 0) {
		FILE *f = fopen(READY_MARK, "w");
		if (f)
			fclose(f);
	}
}

ReportHook(POST_ALL)(struct criterion_global_stats *stats)
{
	(void)stats;
	if (getuid() != 0)
		return;
	if (system(HIERARCHY_SH " down " STATE_DIR " >&2") != 0)
		fprintf(stderr, "test_recurse: hierarchy.sh down failed\n");
	if (lock_fd >= 0)
		close(lock_fd);
}

/* --- each test: in the namespace, with its own event loop --- */

static struct event_base *base;
static struct recurse *r;
static unsigned pending; /* done calls still expected before the loop stops */

static void enter_hierarchy(void)
{
	if (getuid() != 0)
		cr_skip_test("needs root: builds network namespace vpcdns-rtest with BIND in it");
	cr_assert(access(READY_MARK, F_OK) == 0,
		  "the hierarchy did not come up (hierarchy.sh up " STATE_DIR " says why)");
	int fd = open(NETNS_PATH, O_RDONLY | O_CLOEXEC);
	cr_assert(fd >= 0 && setns(fd, CLONE_NEWNET) == 0, "cannot enter " NETNS_PATH);
	close(fd);
	struct event_config *cfg = event_config_new();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	cr_assert_not_null(base);
}

static void leave_hierarchy(void)
{
	recurse_destroy(r);
	r = NULL;
	if (base)
		event_base_free(base);
	base = NULL;
}

static struct recurse_params lab_params(void)
{
	return (struct recurse_params){
	    .root_hints = ROOT_HINTS,
	    .cache_max_bytes = 4u << 20,
	    .max_inflight = 64,
	    .timeout_ms = TIMEOUT_MS,
	    .query_localhost = true,
	    .qname_minimisation = true,
	};
}

static void start(const struct recurse_params *p)
{
	char err[256] = "";
	r = recurse_create(base, p, err, sizeof(err));
	cr_assert_not_null(r, "recurse_create: %s", err);
}

struct outcome {
	bool done;
	enum recurse_status status;
	uint8_t answer[MAX_ANSWER];
	size_t len;
	struct timespec at;
};

static void on_done(void *arg, enum recurse_status status, const uint8_t *answer, size_t len)
{
	struct outcome *o = arg;
	o->done = true;
	o->status = status;
	o->len = len < MAX_ANSWER ? len : MAX_ANSWER;
	memcpy(o->answer, answer, o->len);
	clock_gettime(CLOCK_MONOTONIC, &o->at);
	if (pending && --pending == 0)
		event_base_loopbreak(base);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	event_base_loopbreak(base);
}

/* Runs the loop until every expected done has come or ms have passed. */
static void run(unsigned expected, unsigned ms)
{
	pending = expected;
	struct event *deadline = evtimer_new(base, on_deadline, NULL);
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
	evtimer_add(deadline, &tv);
	event_base_dispatch(base);
	event_free(deadline);
}

static struct recurse_query *resolve(const char *name, uint16_t qtype, struct outcome *o)
{
	uint8_t wire[WIRE_NAME_MAX];
	size_t len = to_wire(name, wire);
	struct recurse_query *q = recurse_resolve(r, wire, len, qtype, WIRE_CLASS_IN, on_done, o);
	cr_assert_not_null(q, "recurse_resolve(%s) refused", name);
	return q;
}

struct parsed {
	struct wire_dns_msg m;
	struct wire_rr rrs[MAX_RECORDS];
	size_t count;
};

static void parse(const struct outcome *o, struct parsed *p)
{
	cr_assert(o->done, "no answer came");
	cr_assert_eq(
	    wire_dns_parse_response(o->answer, o->len, &p->m, p->rrs, MAX_RECORDS, &p->count),
	    WIRE_OK, "the answer does not parse");
}

static unsigned answers_of_type(const struct parsed *p, uint16_t type)
{
	unsigned n = 0;
	for (size_t i = 0; i < p->count && i < MAX_RECORDS; i++)
		n += p->rrs[i].section == WIRE_SEC_ANSWER && p->rrs[i].type == type;
	return n;
}

static bool has_address(const struct outcome *o, const struct parsed *p, const char *addr)
{
	uint8_t want[4];
	inet_pton(AF_INET, addr, want);
	for (size_t i = 0; i < p->count && i < MAX_RECORDS; i++) {
		const struct wire_rr *rr = &p->rrs[i];
		if (rr->section == WIRE_SEC_ANSWER && rr->type == TYPE_A && rr->rdata_len == 4 &&
		    memcmp(o->answer + rr->rdata_off, want, 4) == 0)
			return true;
	}
	return false;
}

/* An answer from the iteration, with a resolver's flags and the question asked. */
static void expect_resolved(const struct outcome *o, struct parsed *p, const char *name,
			    uint16_t qtype, int rcode)
{
	parse(o, p);
	uint8_t wire[WIRE_NAME_MAX];
	size_t len = to_wire(name, wire);
	cr_expect_eq(o->status, RECURSE_RESOLVED, "%s: status %d", name, o->status);
	cr_expect_eq(WIRE_RCODE(p->m.flags), rcode, "%s: rcode %d, expected %d", name,
		     WIRE_RCODE(p->m.flags), rcode);
	cr_expect(p->m.flags & WIRE_FLAG_QR);
	cr_expect(p->m.flags & WIRE_FLAG_RA);
	cr_expect_not(p->m.flags & WIRE_FLAG_AD, "%s: AD set, but nothing is validated", name);
	cr_expect_eq(p->m.qtype, qtype);
	cr_expect(p->m.qname_len == len && strncasecmp((const char *)o->answer + WIRE_DNS_HLEN,
						       (const char *)wire, len) == 0,
		  "%s: the question is not the one asked", name);
}

static double seconds_since(const struct timespec *t0, const struct timespec *t1)
{
	return (double)(t1->tv_sec - t0->tv_sec) + (double)(t1->tv_nsec - t0->tv_nsec) / 1e9;
}

/* silent.com's name server: a socket that takes queries and never answers. */
static int open_silent_server(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int one = 1;
	/* tests run side by side, each with its own silent server */
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_port = htons(53)};
	inet_pton(AF_INET, SILENT_ADDR, &sin.sin_addr);
	cr_assert(fd >= 0 && bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0,
		  "cannot bind " SILENT_ADDR ":53");
	return fd;
}

TestSuite(recurse, .init = enter_hierarchy, .fini = leave_hierarchy, .timeout = 60);

Test(recurse, resolves_an_address_from_the_root)
{
	struct recurse_params p = lab_params();
	start(&p);
	struct outcome o = {0};
	struct parsed a;
	resolve("acme.onprem.com", TYPE_A, &o);
	run(1, 10000);
	expect_resolved(&o, &a, "acme.onprem.com", TYPE_A, WIRE_RCODE_NOERROR);
	cr_expect(has_address(&o, &a, "198.51.100.80"), "not the public acme.onprem.com");
	cr_expect_eq(recurse_counter(r, RECURSE_STARTED), 1);
	cr_expect_eq(recurse_counter(r, RECURSE_ANSWERED_NOERROR), 1);
	cr_expect_eq(recurse_inflight(r), 0);
}

Test(recurse, follows_cname_chains_within_and_across_zones)
{
	struct recurse_params p = lab_params();
	start(&p);
	struct outcome www = {0}, alias = {0}, alias2 = {0}, across = {0};
	struct parsed a;
	resolve("www.xyz.com", TYPE_A, &www);
	resolve("alias.xyz.com", TYPE_A, &alias);
	resolve("alias2.xyz.com", TYPE_A, &alias2);
	resolve("acme-alias.xyz.com", TYPE_A, &across);
	run(4, 10000);
	expect_resolved(&www, &a, "www.xyz.com", TYPE_A, WIRE_RCODE_NOERROR);
	cr_expect(has_address(&www, &a, "198.51.100.10"));
	cr_expect_eq(answers_of_type(&a, TYPE_CNAME), 0);
	expect_resolved(&alias, &a, "alias.xyz.com", TYPE_A, WIRE_RCODE_NOERROR);
	cr_expect_eq(answers_of_type(&a, TYPE_CNAME), 1);
	cr_expect(has_address(&alias, &a, "198.51.100.10"));
	expect_resolved(&alias2, &a, "alias2.xyz.com", TYPE_A, WIRE_RCODE_NOERROR);
	cr_expect_eq(answers_of_type(&a, TYPE_CNAME), 2);
	cr_expect(has_address(&alias2, &a, "198.51.100.10"));
	expect_resolved(&across, &a, "acme-alias.xyz.com", TYPE_A, WIRE_RCODE_NOERROR);
	cr_expect_eq(answers_of_type(&a, TYPE_CNAME), 1);
	cr_expect(has_address(&across, &a, "198.51.100.80"));
	cr_expect_eq(recurse_counter(r, RECURSE_ANSWERED_NOERROR), 4);
}

Test(recurse, nxdomain_and_nodata_come_through_as_such)
{
	struct recurse_params p = lab_params();
	start(&p);
	struct outcome missing = {0}, nodata = {0};
	struct parsed a;
	resolve("nothing.xyz.com", TYPE_A, &missing);
	resolve("www.xyz.com", TYPE_AAAA, &nodata);
	run(2, 10000);
	expect_resolved(&missing, &a, "nothing.xyz.com", TYPE_A, WIRE_RCODE_NXDOMAIN);
	cr_expect_eq(a.m.ancount, 0);
	expect_resolved(&nodata, &a, "www.xyz.com", TYPE_AAAA, WIRE_RCODE_NOERROR);
	cr_expect_eq(a.m.ancount, 0, "NODATA has no answer records");
	cr_expect_eq(recurse_counter(r, RECURSE_ANSWERED_NXDOMAIN), 1);
	cr_expect_eq(recurse_counter(r, RECURSE_ANSWERED_NOERROR), 1);
}

Test(recurse, a_silent_server_ends_in_servfail_within_the_timeout)
{
	int silent = open_silent_server();
	struct recurse_params p = lab_params();
	start(&p);
	struct outcome o = {0};
	struct parsed a;
	struct timespec t0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	resolve("www.silent.com", TYPE_A, &o);
	run(1, TIMEOUT_MS + 5000);
	parse(&o, &a);
	double took = seconds_since(&t0, &o.at);
	cr_expect_eq(WIRE_RCODE(a.m.flags), WIRE_RCODE_SERVFAIL);
	cr_expect(o.status == RECURSE_TIMED_OUT || o.status == RECURSE_RESOLVED, "status %d",
		  o.status);
	cr_expect_leq(took, TIMEOUT_MS / 1000.0 + 0.5, "SERVFAIL took %.2f s", took);
	cr_expect_eq(recurse_counter(r, RECURSE_TIMEOUTS) +
			 recurse_counter(r, RECURSE_ANSWERED_SERVFAIL),
		     1);
	cr_expect_eq(recurse_inflight(r), 0);
	close(silent);
}

Test(recurse, a_cancelled_resolution_never_calls_done)
{
	int silent = open_silent_server();
	struct recurse_params p = lab_params();
	p.timeout_ms = 500; /* were the cancel to leave the deadline armed, it would fire below */
	start(&p);
	struct outcome now = {0}, later = {0};
	struct recurse_query *q1 = resolve("www.silent.com", TYPE_A, &now);
	recurse_cancel(r, q1); /* before the loop ever ran */
	struct recurse_query *q2 = resolve("ftp.silent.com", TYPE_A, &later);
	run(0, 200);
	recurse_cancel(r, q2); /* its queries are out, awaiting the silent server */
	run(0, 1000);
	cr_expect_not(now.done);
	cr_expect_not(later.done);
	cr_expect_eq(recurse_counter(r, RECURSE_CANCELLED), 2);
	cr_expect_eq(recurse_counter(r, RECURSE_TIMEOUTS), 0);
	cr_expect_eq(recurse_inflight(r), 0);
	close(silent);
}

Test(recurse, refuses_past_max_inflight_and_counts_it)
{
	int silent = open_silent_server();
	struct recurse_params p = lab_params();
	p.max_inflight = 2;
	start(&p);
	struct outcome o[3] = {0};
	uint8_t wire[WIRE_NAME_MAX];
	size_t len = to_wire("third.silent.com", wire);
	struct recurse_query *q0 = resolve("first.silent.com", TYPE_A, &o[0]);
	resolve("second.silent.com", TYPE_A, &o[1]);
	cr_expect_null(recurse_resolve(r, wire, len, TYPE_A, WIRE_CLASS_IN, on_done, &o[2]));
	cr_expect_eq(recurse_counter(r, RECURSE_REFUSED_LIMIT), 1);
	cr_expect_eq(recurse_inflight(r), 2);
	recurse_cancel(r, q0);
	resolve("third.silent.com", TYPE_A, &o[2]); /* room again */
	cr_expect_eq(recurse_counter(r, RECURSE_STARTED), 3);
	cr_expect_eq(recurse_counter(r, RECURSE_REFUSED_LIMIT), 1);
	close(silent);
}

Test(recurse, an_answer_from_the_cache_still_comes_from_the_loop)
{
	struct recurse_params p = lab_params();
	start(&p);
	struct outcome first = {0}, again = {0};
	struct parsed a;
	resolve("www.xyz.com", TYPE_A, &first);
	run(1, 10000);
	cr_assert(first.done);
	resolve("www.xyz.com", TYPE_A, &again);
	cr_expect_not(again.done, "done ran inside recurse_resolve");
	run(1, 1000);
	expect_resolved(&again, &a, "www.xyz.com", TYPE_A, WIRE_RCODE_NOERROR);
	cr_expect(has_address(&again, &a, "198.51.100.10"));
	cr_expect_eq(recurse_counter(r, RECURSE_ANSWERED_NOERROR), 2);
}

Test(recurse, refuses_what_is_not_a_wire_name)
{
	struct recurse_params p = lab_params();
	start(&p);
	struct outcome o = {0};
	static const uint8_t pointer[] = {3, 'w', 'w', 'w', 0xc0, 12};
	static const uint8_t too_long_label[] = {64, 'a', 0};
	static const uint8_t trailing[] = {3, 'c', 'o', 'm', 0, 0};
	cr_expect_null(recurse_resolve(r, pointer, sizeof(pointer), TYPE_A, 1, on_done, &o));
	cr_expect_null(
	    recurse_resolve(r, too_long_label, sizeof(too_long_label), TYPE_A, 1, on_done, &o));
	cr_expect_null(recurse_resolve(r, trailing, sizeof(trailing), TYPE_A, 1, on_done, &o));
	cr_expect_eq(recurse_counter(r, RECURSE_REFUSED_NAME), 3);
	cr_expect_eq(recurse_counter(r, RECURSE_STARTED), 0);
	run(0, 100);
	cr_expect_not(o.done);
}

/* Every query of one resolution, as the three servers logged it, came from the given address and
 * from a port in the given range. */
static unsigned check_query_log(const char *server, unsigned lo, unsigned hi)
{
	char path[512], line[1024];
	snprintf(path, sizeof(path), STATE_DIR "/%s/query.log", server);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "cannot read %s", path);
	unsigned seen = 0;
	while (fgets(line, sizeof(line), f)) {
		const char *at = strstr(line, " " SOURCE_ADDR "#");
		if (!at)
			continue;
		unsigned port = (unsigned)strtoul(at + strlen(" " SOURCE_ADDR "#"), NULL, 10);
		cr_expect(port >= lo && port <= hi, "%s: a query from port %u: %s", server, port,
			  line);
		seen++;
	}
	fclose(f);
	return seen;
}

Test(recurse, leaves_from_the_given_source_address_and_ports)
{
	static const char *const source[] = {SOURCE_ADDR};
	struct recurse_params p = lab_params();
	p.source_addresses = source;
	p.n_source_addresses = 1;
	p.source_port_min = 55000;
	p.source_port_max = 55009;
	start(&p);
	struct outcome o = {0};
	struct parsed a;
	resolve("www.onprem.com", TYPE_A, &o);
	run(1, 10000);
	expect_resolved(&o, &a, "www.onprem.com", TYPE_A, WIRE_RCODE_NOERROR);
	cr_expect(has_address(&o, &a, "198.51.100.1"), "not the public www.onprem.com");
	unsigned queries = check_query_log("root", 55000, 55009) +
			   check_query_log("tld", 55000, 55009) +
			   check_query_log("auth", 55000, 55009);
	cr_expect_geq(queries, 3, "the servers logged %u queries from " SOURCE_ADDR, queries);
}

Test(recurse_names, counters_have_distinct_names)
{
	for (int i = 0; i < RECURSE__COUNTERS; i++) {
		cr_expect_str_neq(recurse_counter_name(i), "?");
		for (int j = 0; j < i; j++)
			cr_expect_str_neq(recurse_counter_name(i), recurse_counter_name(j));
	}
	cr_expect_str_eq(recurse_counter_name(RECURSE__COUNTERS), "?");
}

Test(recurse, root_hints_unbound_cannot_read_give_servfail_from_the_loop)
{
	struct recurse_params p = lab_params();
	p.root_hints = STATE_DIR "/no-such.hints";
	start(&p);
	struct outcome o = {0};
	struct parsed a;
	resolve("www.xyz.com", TYPE_A, &o);
	cr_expect_not(o.done, "done ran inside recurse_resolve");
	run(1, 1000);
	parse(&o, &a);
	cr_expect_eq(o.status, RECURSE_FAILED);
	cr_expect_eq(WIRE_RCODE(a.m.flags), WIRE_RCODE_SERVFAIL);
	cr_expect_eq(a.m.qtype, TYPE_A);
	cr_expect_eq(recurse_counter(r, RECURSE_FAILED_UNBOUND), 1);
	cr_expect_eq(recurse_inflight(r), 0);
}

Test(recurse, a_label_with_dots_and_binary_octets_is_asked_as_it_is)
{
	struct recurse_params p = lab_params();
	start(&p);
	/* one label "a.b c\001\\" under xyz.com: a presentation-form slip would ask another name */
	static const uint8_t name[] = {7,   'a', '.', 'b', ' ', 'c', 1,	  '\\', 3,
				       'x', 'y', 'z', 3,   'c', 'o', 'm', 0};
	struct outcome o = {0};
	struct parsed a;
	cr_assert_not_null(recurse_resolve(r, name, sizeof(name), TYPE_A, 1, on_done, &o));
	run(1, 10000);
	parse(&o, &a);
	cr_expect_eq(o.status, RECURSE_RESOLVED);
	cr_expect_eq(WIRE_RCODE(a.m.flags), WIRE_RCODE_NXDOMAIN);
	cr_assert_eq(a.m.qname_len, sizeof(name));
	cr_expect_eq(memcmp(o.answer + WIRE_DNS_HLEN, name, sizeof(name)), 0,
		     "the answer's question is not the name asked");
}
