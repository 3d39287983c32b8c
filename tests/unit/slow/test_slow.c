/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/slow end to end on loopback: a config whose VPC is 127.0.0.0/8, its forward rules' targets
 * two small DNS servers of the test's own (127.0.0.53 and 127.0.0.54, UDP and TCP on one port
 * each, on the same event loop), a private hosted zone, and the real ctl/upstream and ctl/local.
 * The upstream sockets bind to "lo" (SO_BINDTODEVICE needs root: without it the tests skip).
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "../wire/msgbuild.h"
#include "ctl/local/local.h"
#include "ctl/slow/slow.h"
#include "ctl/upstream/upstream.h"
#include "dp/wire/wire.h"

#define N_TARGETS 3 /* the third is the delegated name server, on port 53 as referrals say */

static const char *const target_ip[N_TARGETS] = {"127.0.0.53", "127.0.0.54", "127.0.0.55"};

struct target {
	int udp, listener;
	uint16_t port;
	struct event *udp_ev, *accept_ev;
	unsigned queries_udp, queries_tcp;
};

static struct event_base *base;
static struct target targets[N_TARGETS];
static struct config *cfg;
static struct config_tables *tables;
static struct local *loc;
static struct upstream *up;
static struct slow *sl;
static struct cache *slow_cache; /* the cache suite's */
static bool with_cache;
static char dir[] = "/tmp/vpcdns-slow-XXXXXX";

/* ---- the targets: what each name answers ---- */

/* The question's name as text with the final dot, lower case (the forwarder's may vary case). */
static void qname_text(const uint8_t *msg, char *out)
{
	size_t off = 12, n = 0;
	while (msg[off]) {
		for (uint8_t i = 1; i <= msg[off]; i++) {
			char c = (char)msg[off + i];
			out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		}
		out[n++] = '.';
		off += msg[off] + 1u;
	}
	out[n] = '\0';
}

/* The answer target t gives to query (or 0: silence). */
static size_t respond(unsigned t, const uint8_t *query, size_t qlen, bool over_tcp, uint8_t *out)
{
	struct wire_dns_msg q;
	if (wire_dns_parse_query(query, qlen, &q) != WIRE_OK)
		return 0;
	char name[256];
	qname_text(query, name);
	struct mb m;
	uint16_t flags = 0x8400 | 0x0100; /* QR AA RD: the forwarder must clear AA */
	size_t qend = q.question_end;
#define START(an, rcode)                                                                           \
	do {                                                                                       \
		mb_hdr(&m, q.id, (uint16_t)(flags | (rcode)), 1, (an), 0, 0);                      \
		mb_bytes(&m, query + 12, qend - 12);                                               \
	} while (0)
	if (strcmp(name, "a.onprem.test.") == 0) {
		START(1, 0);
		mb_a(&m, 12, 60, 0xc0000201);
	} else if (strcmp(name, "www.onprem.test.") == 0) {
		START(1, 0);
		mb_ptr(&m, 12);
		mb_rr_fixed(&m, 5, 1, 60, 14);
		mb_name(&m, "www.xyz.test");
	} else if (strcmp(name, "www.xyz.test.") == 0) {
		START(1, 0);
		mb_a(&m, 12, 60, 0xc633640a);
	} else if (strcmp(name, "big.onprem.test.") == 0) {
		if (!over_tcp) {
			START(0, 0);
			m.b[2] |= 0x02; /* TC */
		} else {
			START(100, 0);
			for (uint32_t i = 0; i < 100; i++)
				mb_a(&m, 12, 60, 0xac1f3712 + i);
		}
	} else if (strcmp(name, "refused.onprem.test.") == 0) {
		if (t == 0) {
			START(0, WIRE_RCODE_REFUSED);
		} else {
			START(1, 0);
			mb_a(&m, 12, 60, 0xc0000236);
		}
	} else if (strcmp(name, "loop-a.onprem.test.") == 0 ||
		   strcmp(name, "loop-b.onprem.test.") == 0) {
		START(1, 0);
		mb_ptr(&m, 12);
		mb_rr_fixed(&m, 5, 1, 60, 20);
		mb_name(&m, name[5] == 'a' ? "loop-b.onprem.test" : "loop-a.onprem.test");
	} else if (strcmp(name, "ns.onprem.test.") == 0) {
		START(1, 0);
		mb_a(&m, 12, 60, 0x7f000037);
	} else if (t == 2 && strcmp(name, "host.dept.corp.test.") == 0) {
		START(1, 0);
		mb_a(&m, 12, 60, 0x0a090909);
	} else if (t == 2 && strcmp(name, "x.ext.corp.test.") == 0) {
		START(1, 0);
		mb_a(&m, 12, 60, 0x0a09090a);
	} else if (strcmp(name, "flaky.onprem.test.") == 0) {
		static bool answered_once;
		if (answered_once)
			return 0; /* then silent: the cache's stale answer is all there is */
		answered_once = true;
		START(1, 0);
		mb_a(&m, 12, 60, 0xc0000263);
	} else if (strcmp(name, "nothing.onprem.test.") == 0) {
		START(0, WIRE_RCODE_NXDOMAIN);
	} else {
		return 0; /* silent.onprem.test and the rest: no answer */
	}
#undef START
	memcpy(out, m.b, m.n);
	return m.n;
}

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct target *tg = arg;
	uint8_t q[4096], a[65536];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
	if (n <= 0)
		return;
	tg->queries_udp++;
	size_t len = respond((unsigned)(tg - targets), q, (size_t)n, false, a);
	if (len)
		sendto(fd, a, len, 0, (struct sockaddr *)&from, fl);
}

/* TCP: one query per connection, answered once it is whole. */
struct tcp_conn {
	struct target *tg;
	struct event *ev;
	uint8_t q[4096];
	size_t got;
};

static void on_tcp_read(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct tcp_conn *c = arg;
	ssize_t n = recv(fd, c->q + c->got, sizeof(c->q) - c->got, 0);
	if (n > 0)
		c->got += (size_t)n;
	bool whole = c->got >= 2 && c->got >= 2u + (size_t)(c->q[0] << 8 | c->q[1]);
	if (n > 0 && !whole)
		return;
	if (whole) {
		static uint8_t a[65538];
		c->tg->queries_tcp++;
		size_t len =
		    respond((unsigned)(c->tg - targets), c->q + 2, c->got - 2, true, a + 2);
		a[0] = (uint8_t)(len >> 8);
		a[1] = (uint8_t)len;
		if (len)
			cr_assert_eq(send(fd, a, len + 2, 0), (ssize_t)(len + 2));
	}
	event_free(c->ev);
	close(fd);
	free(c);
}

static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	int s = accept(fd, NULL, NULL);
	if (s < 0)
		return;
	struct tcp_conn *c = calloc(1, sizeof(*c));
	c->tg = arg;
	c->ev = event_new(base, s, EV_READ | EV_PERSIST, on_tcp_read, c);
	event_add(c->ev, NULL);
}

static void start_target(struct target *tg, const char *ip, uint16_t port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(port)};
	inet_pton(AF_INET, ip, &sa.sin_addr);
	socklen_t sl_len = sizeof(sa);
	tg->udp = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	cr_assert_eq(bind(tg->udp, (struct sockaddr *)&sa, sizeof(sa)), 0);
	getsockname(tg->udp, (struct sockaddr *)&sa, &sl_len);
	tg->port = ntohs(sa.sin_port);
	tg->listener = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	int one = 1;
	setsockopt(tg->listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(tg->listener, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s",
		     strerror(errno));
	cr_assert_eq(listen(tg->listener, 16), 0);
	tg->udp_ev = event_new(base, tg->udp, EV_READ | EV_PERSIST, on_udp, tg);
	tg->accept_ev = event_new(base, tg->listener, EV_READ | EV_PERSIST, on_accept, tg);
	event_add(tg->udp_ev, NULL);
	event_add(tg->accept_ev, NULL);
}

/* ---- the config and the slow path over it ---- */

static void write_config(const char *path)
{
	FILE *f = fopen(path, "w");
	cr_assert(f);
	fprintf(
	    f,
	    "region: ap-southeast-2\n"
	    "account_id: \"592752082067\"\n"
	    "interfaces:\n"
	    "  - {name: lo0, device: net_null0, kernel_interface: none}\n"
	    "vpcs:\n"
	    "  - {id: vpc-t, interface: lo0, cidrs: [127.0.0.0/8], hosted_zones: [corp.test]}\n"
	    "endpoints:\n"
	    "  - {id: out, direction: outbound, vpc: vpc-t, addresses: [127.0.0.10, "
	    "127.0.0.11]}\n"
	    "rules:\n"
	    "  - {id: onprem, type: forward, domain: onprem.test, endpoint: out,\n"
	    "     targets: [\"%s:%u\", \"%s:%u\"], vpcs: [vpc-t]}\n"
	    "  - {id: xyz, type: forward, domain: xyz.test, endpoint: out,\n"
	    "     targets: [\"%s:%u\"], vpcs: [vpc-t]}\n"
	    "  - {id: dept, type: delegate, domain: dept.corp.test, endpoint: out, vpcs: "
	    "[vpc-t]}\n"
	    "  - {id: ext, type: delegate, domain: ext.corp.test, endpoint: out, vpcs: [vpc-t]}\n"
	    "hosted_zones:\n"
	    "  - {name: corp.test, file: corp.test.zone}\n"
	    "tunables: {tries: 2}\n",
	    target_ip[0], targets[0].port, target_ip[1], targets[1].port, target_ip[0],
	    targets[0].port);
	fclose(f);
}

static int match_tables(void *ctx, uint32_t vpc, const uint8_t *name, size_t len,
			struct match_result *out)
{
	(void)ctx;
	return match_lookup(tables->vpcs[vpc].table, NULL, name, len, out);
}

static const kernel_ifname links[1] = {"lo"};
static uint32_t identity[8] = {0, 1, 2, 3, 4, 5, 6, 7};

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("SO_BINDTODEVICE needs root");
	base = event_base_new();
	cr_assert(base);
	for (unsigned t = 0; t < N_TARGETS; t++)
		start_target(&targets[t], target_ip[t], t == 2 ? 53 : 0);
	cr_assert(mkdtemp(dir));
	char path[256], zone[256];
	snprintf(path, sizeof(path), "%s/slow.yaml", dir);
	snprintf(zone, sizeof(zone), "%s/corp.test.zone", dir);
	cr_assert_eq(symlink(SLOW_DIR "/corp.test.zone", zone), 0);
	write_config(path);
	struct config_errors errs = {0};
	char err[256];
	cfg = config_load(path, &errs);
	cr_assert(cfg, "%s", errs.count ? errs.list[0].text : "?");
	tables = config_compile(cfg, MATCH_ENGINE_SUFFIX, &errs);
	cr_assert(tables);
	config_errors_free(&errs);
	loc = local_new(cfg, tables, err, sizeof(err));
	cr_assert(loc, "%s", err);
	struct upstream_params upp = {.base = base, .udp_port_lo = 61000, .udp_port_hi = 65535};
	up = upstream_new(&upp, err, sizeof(err));
	cr_assert(up, "%s", err);
	if (with_cache) {
		struct cache_params cp = {.max_bytes = 1 << 20,
					  .ttl_max_s =
					      1, /* so that an entry expires within a test */
					  .stale_window_s = 3600,
					  .stale_ttl_s = 30};
		slow_cache = cache_new(&cp, err, sizeof(err));
		cr_assert(slow_cache, "%s", err);
	}
	struct slow_params p = {
	    .base = base,
	    .cfg = cfg,
	    .match = match_tables,
	    .local = loc,
	    .upstream = up,
	    .rule_of_dp = identity,
	    .n_dp_rules = cfg->n_rules,
	    .endpoint_link = links,
	    .edns_udp_size = 4096,
	    .tries = 2,
	    .try_timeout_ms = 150,
	    .cache = slow_cache,
	};
	sl = slow_new(&p, err, sizeof(err));
	cr_assert(sl, "%s", err);
}

static void teardown(void)
{
	if (!base)
		return;
	slow_free(sl);
	cache_free(slow_cache);
	slow_cache = NULL;
	upstream_free(up);
	local_free(loc);
	config_tables_free(tables);
	config_free(cfg);
	for (unsigned t = 0; t < N_TARGETS; t++) {
		event_free(targets[t].udp_ev);
		event_free(targets[t].accept_ev);
		close(targets[t].udp);
		close(targets[t].listener);
	}
	event_base_free(base);
	char path[300];
	snprintf(path, sizeof(path), "%s/slow.yaml", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/corp.test.zone", dir);
	unlink(path);
	rmdir(dir);
}

TestSuite(slow, .init = setup, .fini = teardown, .timeout = 20);

/* ---- asking ---- */

static uint8_t answer[SLOW_ANSWER_MAX];
static size_t answer_len;
static bool answered;
static struct wire_dns_msg am;
static struct wire_rr rrs[256];
static size_t n_rrs;

static void on_done(void *arg, const uint8_t *msg, size_t len)
{
	(void)arg;
	if (!msg)
		return; /* slow_free ending what was left */
	memcpy(answer, msg, len);
	answer_len = len;
	answered = true;
}

/* Asks name/type as a client over UDP (EDNS size edns, 0: none) or TCP; runs the loop until the
 * answer, which is parsed into am and rrs. */
static void ask(const char *name, uint16_t type, uint16_t edns, bool over_tcp, int tcp_target)
{
	struct mb q;
	mb_query(&q, 0x2468, name, type, edns != 0);
	if (edns) {
		q.b[q.n - 11 + 3] = (uint8_t)(edns >> 8);
		q.b[q.n - 11 + 4] = (uint8_t)edns;
	}
	struct slow_request r = {.vpc = 0,
				 .query = q.b,
				 .len = q.n,
				 .tcp_target = tcp_target,
				 .link = over_tcp ? SLOW_ANSWER_MAX : 1472,
				 .over_tcp = over_tcp};
	answered = false;
	cr_assert(slow_start(sl, &r, on_done, NULL));
	cr_assert_not(answered, "done is never called from inside slow_start");
	for (int i = 0; i < 5000 && !answered; i++)
		event_base_loop(base, EVLOOP_ONCE);
	cr_assert(answered, "an answer came");
	cr_assert_eq(wire_dns_parse_response(answer, answer_len, &am, rrs, 256, &n_rrs), WIRE_OK);
	cr_expect_eq(am.id, 0x2468);
}

static uint32_t a_of(size_t i)
{
	return be32(answer + rrs[i].rdata_off);
}

Test(slow, forwarded_answer_comes_back_as_the_resolvers_without_aa)
{
	ask("a.onprem.test", 1, 1232, false, -1);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NOERROR);
	cr_expect(am.flags & 0x0080, "RA");
	cr_expect(am.flags & WIRE_FLAG_RD, "RD as asked");
	cr_expect_not(am.flags & 0x0400, "never AA");
	cr_expect_eq(am.ancount, 1);
	cr_expect_eq(a_of(0), 0xc0000201);
	cr_expect(am.has_opt);
	cr_expect_eq(am.opt.udp_size, 4096);
	cr_expect_eq(slow_counter(sl, SLOW_C_FORWARDED), 1);
}

Test(slow, cname_leaving_the_rule_is_chased_under_its_own_rule)
{
	ask("www.onprem.test", 1, 1232, false, -1);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NOERROR);
	cr_assert_eq(am.ancount, 2, "the CNAME and the A of its target");
	cr_expect_eq(rrs[0].type, 5);
	cr_expect_eq(rrs[1].type, 1);
	cr_expect_eq(a_of(1), 0xc633640a);
	cr_expect_eq(slow_counter(sl, SLOW_C_CHASED), 1);
}

Test(slow, cname_leaving_a_private_zone_is_chased)
{
	ask("www.corp.test", 1, 0, false, -1);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NOERROR);
	cr_assert_eq(am.ancount, 2);
	cr_expect_eq(rrs[0].type, 5);
	cr_expect_eq(a_of(1), 0xc633640a);
	cr_expect_eq(slow_counter(sl, SLOW_C_LOCAL), 1);
	cr_expect_eq(slow_counter(sl, SLOW_C_FORWARDED), 1);
}

Test(slow, cname_loop_ends_in_servfail)
{
	ask("loop-a.onprem.test", 1, 1232, false, -1);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_SERVFAIL);
	cr_expect_eq(am.ancount, 0);
	cr_expect_eq(slow_counter(sl, SLOW_C_LOOP), 1);
}

Test(slow, truncated_udp_answer_is_asked_again_over_tcp_and_sent_whole_over_tcp)
{
	ask("big.onprem.test", 1, 1232, true, -1);
	cr_expect_eq(am.ancount, 100);
	cr_expect_not(am.flags & WIRE_FLAG_TC);
	cr_expect_eq(a_of(99), 0xac1f3712 + 99);
	cr_expect_eq(upstream_counter(up, UPSTREAM_C_TRUNCATED_TO_TCP), 1);
	cr_expect_eq(answer_len, 12 + 21 + 100 * 16 + 11,
		     "owners compressed to the question's name");
}

Test(slow, answer_too_big_for_a_udp_client_is_cut_with_tc)
{
	ask("big.onprem.test", 1, 1232, false, -1);
	cr_expect(am.flags & WIRE_FLAG_TC);
	cr_expect_eq(am.ancount, 0);
	cr_expect(am.has_opt, "the client's OPT stays");
	cr_expect_eq(slow_counter(sl, SLOW_C_TRUNCATED), 1);
}

Test(slow, tcp_fallback_asks_the_target_that_truncated_straight_over_tcp)
{
	ask("big.onprem.test", 1, 0, true, 1);
	cr_expect_eq(am.ancount, 100);
	cr_expect_eq(targets[1].queries_tcp, 1);
	cr_expect_eq(targets[0].queries_udp + targets[1].queries_udp, 0, "no UDP try first");
}

Test(slow, refused_by_one_target_is_answered_by_the_other)
{
	for (int i = 0; i < 4; i++) {
		ask("refused.onprem.test", 1, 1232, false, -1);
		cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NOERROR);
		cr_expect_eq(a_of(0), 0xc0000236);
	}
}

Test(slow, silence_from_every_target_ends_in_servfail_after_the_tries)
{
	ask("silent.onprem.test", 1, 1232, false, -1);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_SERVFAIL);
	cr_expect_eq(slow_counter(sl, SLOW_C_TRIES_FAILED), 2);
	cr_expect_eq(targets[0].queries_udp + targets[1].queries_udp, 2);
}

Test(slow, nxdomain_from_the_target_is_passed_on)
{
	ask("nothing.onprem.test", 1, 0, false, -1);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NXDOMAIN);
	cr_expect_not(am.has_opt, "no OPT for a client that sent none");
}

Test(slow, zone_answer_comes_from_the_zone)
{
	ask("api.corp.test", 1, 1232, true, -1);
	cr_expect_eq(am.ancount, 1);
	cr_expect_eq(a_of(0), 0x0a010101);
	cr_expect_eq(slow_counter(sl, SLOW_C_FORWARDED), 0);
}

Test(slow, cancelled_query_never_calls_done)
{
	struct mb q;
	mb_query(&q, 1, "silent.onprem.test", 1, false);
	struct slow_request r = {.query = q.b, .len = q.n, .tcp_target = -1, .link = 512};
	answered = false;
	struct slow_job *j = slow_start(sl, &r, on_done, NULL);
	cr_assert(j);
	event_base_loop(base, EVLOOP_NONBLOCK);
	slow_cancel(sl, j);
	for (int i = 0; i < 20; i++)
		event_base_loop(base, EVLOOP_NONBLOCK);
	usleep(300000);
	event_base_loop(base, EVLOOP_NONBLOCK);
	cr_expect_not(answered);
	cr_expect_eq(slow_counter(sl, SLOW_C_CANCELLED), 1);
	cr_expect_eq(upstream_inflight(up), 0);
}

Test(slow, delegation_follows_the_zones_referral_to_its_glue)
{
	ask("host.dept.corp.test", 1, 1232, false, -1);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NOERROR);
	cr_assert_eq(am.ancount, 1);
	cr_expect_eq(a_of(0), 0x0a090909);
	cr_expect_not(am.flags & 0x0400, "never AA, though the delegated server is authoritative");
	cr_expect_eq(targets[2].queries_udp, 1);
}

Test(slow, delegation_to_an_outside_name_server_resolves_its_address_by_the_rules)
{
	ask("x.ext.corp.test", 1, 1232, false, -1);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NOERROR);
	cr_assert_eq(am.ancount, 1);
	cr_expect_eq(a_of(0), 0x0a09090a);
	cr_expect_eq(targets[0].queries_udp + targets[1].queries_udp, 1, "ns.onprem.test's A");
	cr_expect_eq(targets[2].queries_udp, 1);
}

static void setup_cache(void)
{
	with_cache = true;
	setup();
}

TestSuite(slow_cache, .init = setup_cache, .fini = teardown, .timeout = 20);

Test(slow_cache, a_repeat_is_answered_from_the_cache_with_its_own_id)
{
	ask("a.onprem.test", 1, 1232, false, -1);
	ask("A.OnPrem.Test", 1, 0, true, -1); /* over TCP, another case, no EDNS */
	cr_expect_eq(a_of(0), 0xc0000201);
	cr_expect_eq(am.id, 0x2468);
	cr_expect(am.flags & 0x0080, "RA");
	cr_expect_not(am.has_opt, "the asker's EDNS view: none");
	cr_expect_eq(targets[0].queries_udp + targets[1].queries_udp, 1, "one query upstream");
	cr_expect_eq(slow_counter(sl, SLOW_C_CACHE_HITS), 1);
}

Test(slow_cache, a_large_cached_answer_is_whole_over_tcp_and_cut_for_a_small_udp_client)
{
	ask("big.onprem.test", 1, 0, true, -1);
	ask("big.onprem.test", 1, 0, true, -1);
	cr_expect_eq(am.ancount, 100);
	cr_expect_eq(slow_counter(sl, SLOW_C_CACHE_HITS), 1);
	ask("big.onprem.test", 1, 1232, false, -1);
	cr_expect(am.flags & WIRE_FLAG_TC);
	cr_expect_eq(am.ancount, 0);
	cr_expect_eq(slow_counter(sl, SLOW_C_CACHE_HITS), 2);
}

Test(slow_cache, an_expired_answer_is_served_stale_when_every_try_fails)
{
	ask("flaky.onprem.test", 1, 1232, false, -1);
	cr_assert_eq(a_of(0), 0xc0000263);
	usleep(1200 * 1000); /* past the 1 s ceiling */
	ask("flaky.onprem.test", 1, 1232, false, -1);
	cr_expect_eq(WIRE_RCODE(am.flags), WIRE_RCODE_NOERROR);
	cr_assert_eq(am.ancount, 1);
	cr_expect_eq(a_of(0), 0xc0000263);
	cr_expect_eq(be32(answer + rrs[0].ttl_off), 30, "RFC 8767: TTL 30");
	cr_expect_eq(slow_counter(sl, SLOW_C_STALE), 1);
}
