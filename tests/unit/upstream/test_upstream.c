/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/upstream against a responder in the test on loopback: a target (127.0.0.2) that answers UDP
 * with TC=1 (header and question) and TCP in full, one that answers wrongly first (another ID,
 * another port, another question), one that never answers, TCP targets that refuse, close, or
 * answer with another ID. The source is 127.0.0.3 with ports in a fixed range. One event_base, run
 * by the test until the query ends.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../wire/msgbuild.h"
#include "ctl/upstream/upstream.h"

#define PORT_LO	     47000
#define PORT_HI	     47999
#define CALLER_ID    0xbeef
#define ANSWER_COUNT 100 /* the seed's big answer: 100 A records */
#define TIMEOUT_MS   300

enum udp_mode {
	UDP_TRUNCATE, /* header and question, TC=1 */
	UDP_FULL,
	UDP_WRONG_FIRST, /* another ID, another port, another question, then the answer */
	UDP_SILENT,
	UDP_GARBAGE_FIRST, /* a short message and a query (QR=0), then the answer */
};

enum tcp_mode {
	TCP_FULL,
	TCP_WRONG_ID,
	TCP_CLOSE,	  /* reads the query and closes */
	TCP_SILENT,	  /* reads the query and says nothing */
	TCP_SHORT_LENGTH, /* a length prefix below a DNS header */
};

static struct event_base *base;
static struct upstream *up;
static int udp_fd = -1, udp_other_fd = -1, tcp_lfd = -1;
static struct event *udp_ev, *tcp_lev;
static struct sockaddr_storage target, source;
static enum udp_mode udp_mode;
static enum tcp_mode tcp_mode;
static unsigned udp_seen, tcp_seen;
static uint16_t udp_seen_id, tcp_seen_id, udp_seen_port, tcp_seen_port;

struct result {
	bool called;
	enum upstream_status st;
	uint8_t answer[70000];
	size_t len;
	bool via_tcp;
	unsigned calls;
};

/* ---- the responder ---- */

static void sa4(struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *s = (struct sockaddr_in *)ss;
	s->sin_family = AF_INET;
	s->sin_port = htons(port);
	inet_pton(AF_INET, addr, &s->sin_addr);
}

static void sa6(struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
	s->sin6_family = AF_INET6;
	s->sin6_port = htons(port);
	inet_pton(AF_INET6, addr, &s->sin6_addr);
}

static void sa_at(struct sockaddr_storage *ss, int family, const char *addr)
{
	if (family == AF_INET6)
		sa6(ss, addr, 0);
	else
		sa4(ss, addr, 0);
}

static socklen_t sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static uint16_t port_of(const struct sockaddr_storage *ss)
{
	if (ss->ss_family == AF_INET6)
		return ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	return ntohs(((const struct sockaddr_in *)ss)->sin_port);
}

static size_t question_end(const uint8_t *q)
{
	size_t off = 12;
	while (q[off])
		off += q[off] + 1u;
	return off + 5;
}

/* The answer to query q: its header and question, then count A records (or none, with TC). */
static void build_answer(struct mb *m, const uint8_t *q, uint16_t id, unsigned count, bool tc)
{
	size_t qend = question_end(q);
	mb_hdr(m, id, (uint16_t)(0x8180 | (tc ? 0x0200 : 0)), 1, (uint16_t)count, 0, 0);
	mb_bytes(m, q + 12, qend - 12);
	for (unsigned i = 0; i < count; i++)
		mb_a(m, 12, 60, 0x0a000000u + i);
}

static void udp_answer(int fd, const uint8_t *q, const struct sockaddr_storage *to, socklen_t tl)
{
	struct mb m;
	uint16_t id = be16(q);
	if (udp_mode == UDP_WRONG_FIRST) {
		build_answer(&m, q, (uint16_t)(id + 1), 1, false);
		sendto(fd, m.b, m.n, 0, (const struct sockaddr *)to, tl);
		build_answer(&m, q, id, 1, false);
		sendto(udp_other_fd, m.b, m.n, 0, (const struct sockaddr *)to, tl);
		struct mb other;
		mb_query(&other, id, "www.example.org", 1, false);
		build_answer(&m, other.b, id, 1, false);
		sendto(fd, m.b, m.n, 0, (const struct sockaddr *)to, tl);
	}
	if (udp_mode == UDP_GARBAGE_FIRST) {
		sendto(fd, q, 5, 0, (const struct sockaddr *)to, tl);
		sendto(fd, q, question_end(q), 0, (const struct sockaddr *)to, tl);
	}
	build_answer(&m, q, id, udp_mode == UDP_TRUNCATE ? 0 : 3, udp_mode == UDP_TRUNCATE);
	if (udp_mode == UDP_WRONG_FIRST)
		m.b[13] ^= 0x20; /* the question's name in another case: still the same name */
	sendto(fd, m.b, m.n, 0, (const struct sockaddr *)to, tl);
}

static void on_udp(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	(void)arg;
	uint8_t q[65536];
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	ssize_t n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
	if (n < 12)
		return;
	udp_seen++;
	udp_seen_id = be16(q);
	udp_seen_port = port_of(&from);
	if (udp_mode != UDP_SILENT)
		udp_answer(fd, q, &from, fl);
}

struct tcp_peer {
	struct tcp_peer *next, **prev; /* the open ones, for teardown */
	int fd;
	struct event *ev;
	uint8_t buf[70000];
	size_t have;
};

static struct tcp_peer *tcp_peers;

static void tcp_peer_free(struct tcp_peer *p)
{
	*p->prev = p->next;
	if (p->next)
		p->next->prev = p->prev;
	event_free(p->ev);
	close(p->fd);
	free(p);
}

static void tcp_reply(struct tcp_peer *p)
{
	const uint8_t *q = p->buf + 2;
	struct mb m;
	tcp_seen++;
	tcp_seen_id = be16(q);
	uint16_t id = tcp_mode == TCP_WRONG_ID ? (uint16_t)(tcp_seen_id + 1) : tcp_seen_id;
	build_answer(&m, q, id, ANSWER_COUNT, false);
	uint8_t frame[70000];
	size_t flen = 2 + m.n;
	if (tcp_mode == TCP_SHORT_LENGTH) {
		frame[0] = 0;
		frame[1] = 11;
		flen = 2;
	} else {
		frame[0] = (uint8_t)(m.n >> 8);
		frame[1] = (uint8_t)m.n;
		memcpy(frame + 2, m.b, m.n);
	}
	/* in two writes, so the reader sees the answer arrive in pieces */
	cr_assert_eq(write(p->fd, frame, 7 < flen ? 7 : flen), (ssize_t)(7 < flen ? 7 : flen));
	if (flen > 7)
		cr_assert_eq(write(p->fd, frame + 7, flen - 7), (ssize_t)(flen - 7));
}

static void on_tcp_peer(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct tcp_peer *p = arg;
	ssize_t n = read(fd, p->buf + p->have, sizeof(p->buf) - p->have);
	if (n <= 0) {
		tcp_peer_free(p);
		return;
	}
	p->have += (size_t)n;
	if (p->have < 2 || p->have < 2u + be16(p->buf))
		return;
	if (tcp_mode == TCP_CLOSE) {
		tcp_seen++;
		tcp_peer_free(p);
		return;
	}
	if (tcp_mode == TCP_SILENT)
		tcp_seen++;
	else
		tcp_reply(p);
	p->have = 0;
}

static void on_tcp_accept(evutil_socket_t lfd, short what, void *arg)
{
	(void)what;
	(void)arg;
	struct sockaddr_storage from;
	socklen_t fl = sizeof(from);
	int fd = accept(lfd, (struct sockaddr *)&from, &fl);
	if (fd < 0)
		return;
	tcp_seen_port = port_of(&from);
	struct tcp_peer *p = calloc(1, sizeof(*p));
	p->fd = fd;
	p->next = tcp_peers;
	p->prev = &tcp_peers;
	if (tcp_peers)
		tcp_peers->prev = &p->next;
	tcp_peers = p;
	p->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_tcp_peer, p);
	event_add(p->ev, NULL);
}

/* The target: UDP and TCP on one port of addr; and a second UDP port there to spoof from. */
static void responder_start(int family, const char *addr)
{
	for (int attempt = 0; attempt < 20; attempt++) {
		udp_fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK, 0);
		sa_at(&target, family, addr);
		cr_assert_eq(bind(udp_fd, (struct sockaddr *)&target, sa_len(&target)), 0);
		socklen_t sl = sizeof(target);
		getsockname(udp_fd, (struct sockaddr *)&target, &sl);
		tcp_lfd = socket(family, SOCK_STREAM | SOCK_NONBLOCK, 0);
		int one = 1;
		setsockopt(tcp_lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(tcp_lfd, (struct sockaddr *)&target, sa_len(&target)) == 0)
			break;
		close(udp_fd);
		close(tcp_lfd);
		tcp_lfd = -1;
	}
	cr_assert_geq(tcp_lfd, 0);
	cr_assert_eq(listen(tcp_lfd, 16), 0);
	struct sockaddr_storage other;
	sa_at(&other, family, addr);
	udp_other_fd = socket(family, SOCK_DGRAM, 0);
	cr_assert_eq(bind(udp_other_fd, (struct sockaddr *)&other, sa_len(&other)), 0);
	udp_ev = event_new(base, udp_fd, EV_READ | EV_PERSIST, on_udp, NULL);
	tcp_lev = event_new(base, tcp_lfd, EV_READ | EV_PERSIST, on_tcp_accept, NULL);
	event_add(udp_ev, NULL);
	event_add(tcp_lev, NULL);
}

static void responder_stop(void)
{
	while (tcp_peers)
		tcp_peer_free(tcp_peers);
	event_free(udp_ev);
	event_free(tcp_lev);
	close(udp_fd);
	close(udp_other_fd);
	close(tcp_lfd);
}

/* ---- the harness ---- */

static struct upstream *make_upstream(unsigned max_inflight, uint16_t lo, uint16_t hi)
{
	struct upstream_params p = {.base = base,
				    .udp_port_lo = lo,
				    .udp_port_hi = hi,
				    .max_inflight = max_inflight,
				    .tcp_idle_ms = 1000};
	char err[200];
	struct upstream *u = upstream_new(&p, err, sizeof(err));
	cr_assert(u, "%s", err);
	return u;
}

static void setup(void)
{
	struct event_config *cfg = event_config_new();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	cr_assert(base);
	responder_start(AF_INET, "127.0.0.2");
	sa4(&source, "127.0.0.3", 0);
	up = make_upstream(8, PORT_LO, PORT_HI);
	udp_mode = UDP_TRUNCATE;
	tcp_mode = TCP_FULL;
	udp_seen = tcp_seen = 0;
}

static void teardown(void)
{
	upstream_free(up);
	responder_stop();
	event_base_free(base);
}

TestSuite(upstream, .init = setup, .fini = teardown, .timeout = 20);

static void on_done(void *arg, enum upstream_status st, const uint8_t *answer, size_t len,
		    bool via_tcp)
{
	struct result *r = arg;
	r->called = true;
	r->calls++;
	r->st = st;
	r->via_tcp = via_tcp;
	r->len = len;
	cr_assert_eq(answer == NULL, st != UPSTREAM_OK);
	if (answer)
		memcpy(r->answer, answer, len);
}

static struct mb query;

static struct upstream_req request(bool tcp_only)
{
	mb_query(&query, CALLER_ID, "www.example.com", 1, true);
	return (struct upstream_req){.src = source,
				     .dst = target,
				     .query = query.b,
				     .len = query.n,
				     .timeout_ms = TIMEOUT_MS,
				     .tcp_only = tcp_only};
}

static uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void run_until(const struct result *r)
{
	uint64_t end = now_ms() + 5000;
	while (!r->called && now_ms() < end)
		event_base_loop(base, EVLOOP_ONCE);
	cr_assert(r->called, "the query never ended");
}

/* Runs the loop a while longer, for what must not happen. */
static void run_for(unsigned ms)
{
	struct timeval tv = {.tv_sec = 0, .tv_usec = ms * 1000};
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void send_ok(const struct upstream_req *req, struct result *r)
{
	cr_assert_eq(upstream_send(up, req, on_done, r, NULL), UPSTREAM_OK);
}

static uint64_t counter(enum upstream_counter c)
{
	return upstream_counter(up, c);
}

/* IP_LOCAL_PORT_RANGE (Linux 6.3+) keeps TCP source ports in the range too; older kernels do not.
 */
static bool kernel_has_port_range(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	uint32_t range = (uint32_t)PORT_HI << 16 | PORT_LO;
	bool has =
	    setsockopt(fd, IPPROTO_IP, 51 /* IP_LOCAL_PORT_RANGE */, &range, sizeof(range)) == 0;
	close(fd);
	return has;
}

/* ---- tests ---- */

Test(upstream, truncated_udp_answer_goes_over_tcp)
{
	struct upstream_req req = request(false);
	static struct result r;
	send_ok(&req, &r);
	run_until(&r);
	cr_assert_eq(r.st, UPSTREAM_OK, "%s", upstream_status_name(r.st));
	cr_assert(r.via_tcp);
	cr_assert_eq(udp_seen, 1);
	cr_assert_eq(tcp_seen, 1);
	cr_assert(udp_seen_port >= PORT_LO && udp_seen_port <= PORT_HI, "port %u", udp_seen_port);
	if (kernel_has_port_range())
		cr_assert(tcp_seen_port >= PORT_LO && tcp_seen_port <= PORT_HI, "TCP port %u",
			  tcp_seen_port);
	/* the whole answer, byte for byte, with the caller's ID back */
	struct mb want;
	build_answer(&want, query.b, CALLER_ID, ANSWER_COUNT, false);
	cr_assert_eq(r.len, want.n);
	cr_assert_arr_eq(r.answer, want.b, want.n);
	cr_assert_eq(counter(UPSTREAM_C_SENT_UDP), 1);
	cr_assert_eq(counter(UPSTREAM_C_SENT_TCP), 1);
	cr_assert_eq(counter(UPSTREAM_C_TRUNCATED_TO_TCP), 1);
	cr_assert_eq(counter(UPSTREAM_C_ANSWERS), 1);
	cr_assert_eq(counter(UPSTREAM_C_MISMATCHED), 0);
	cr_assert_eq(upstream_inflight(up), 0);
}

Test(upstream, udp_answer_is_handed_back_with_the_callers_id)
{
	udp_mode = UDP_FULL;
	struct upstream_req req = request(false);
	static struct result r;
	send_ok(&req, &r);
	run_until(&r);
	cr_assert_eq(r.st, UPSTREAM_OK);
	cr_assert_not(r.via_tcp);
	struct mb want;
	build_answer(&want, query.b, CALLER_ID, 3, false);
	cr_assert_eq(r.len, want.n);
	cr_assert_arr_eq(r.answer, want.b, want.n);
	cr_assert_eq(tcp_seen, 0);
	cr_assert_eq(counter(UPSTREAM_C_SENT_TCP), 0);
	cr_assert_eq(counter(UPSTREAM_C_ANSWERS), 1);
}

Test(upstream, each_try_has_a_fresh_random_id)
{
	udp_mode = UDP_FULL;
	struct upstream_req req = request(false);
	uint16_t ids[20];
	bool all_same = true;
	for (int i = 0; i < 20; i++) {
		static struct result r;
		memset(&r, 0, sizeof(r));
		send_ok(&req, &r);
		run_until(&r);
		cr_assert_eq(r.st, UPSTREAM_OK);
		cr_assert_eq(be16(r.answer), CALLER_ID);
		ids[i] = udp_seen_id;
		if (i && ids[i] != ids[0])
			all_same = false;
	}
	cr_assert_not(all_same, "20 tries sent one ID");
	/* the UDP try and the TCP try of one query differ too (1 in 65536 they may not) */
	udp_mode = UDP_TRUNCATE;
	static struct result r;
	memset(&r, 0, sizeof(r));
	send_ok(&req, &r);
	run_until(&r);
	cr_assert_eq(r.st, UPSTREAM_OK);
	cr_assert_eq(be16(r.answer), CALLER_ID);
	cr_assert(udp_seen_id != tcp_seen_id || udp_seen_id == 0, "UDP and TCP shared ID %u",
		  udp_seen_id);
}

Test(upstream, wrong_id_other_port_other_question_are_counted_and_ignored)
{
	udp_mode = UDP_WRONG_FIRST;
	struct upstream_req req = request(false);
	static struct result r;
	send_ok(&req, &r);
	run_until(&r);
	cr_assert_eq(r.st, UPSTREAM_OK);
	cr_assert_not(r.via_tcp);
	cr_assert_eq(be16(r.answer), CALLER_ID);
	/* the one taken is the right one: the question in another case, 3 records */
	cr_assert_eq(be16(r.answer + 6), 3);
	cr_assert_eq(counter(UPSTREAM_C_MISMATCHED), 3);
	cr_assert_eq(counter(UPSTREAM_C_ANSWERS), 1);
}

Test(upstream, garbage_from_the_target_is_counted_and_ignored)
{
	udp_mode = UDP_GARBAGE_FIRST;
	struct upstream_req req = request(false);
	static struct result r;
	send_ok(&req, &r);
	run_until(&r);
	cr_assert_eq(r.st, UPSTREAM_OK);
	cr_assert_eq(be16(r.answer + 6), 3);
	cr_assert_eq(counter(UPSTREAM_C_BAD_ANSWERS), 2);
}

Test(upstream, silent_target_times_out_after_the_timeout)
{
	udp_mode = UDP_SILENT;
	struct upstream_req req = request(false);
	static struct result r;
	uint64_t t0 = now_ms();
	send_ok(&req, &r);
	run_until(&r);
	uint64_t took = now_ms() - t0;
	cr_assert_eq(r.st, UPSTREAM_TIMEOUT);
	cr_assert_not(r.via_tcp);
	cr_assert_geq(took, TIMEOUT_MS - 1);
	cr_assert_lt(took, TIMEOUT_MS + 200, "took %lu ms", (unsigned long)took);
	cr_assert_eq(counter(UPSTREAM_C_TIMEOUTS), 1);
	cr_assert_eq(upstream_inflight(up), 0);
}

Test(upstream, unreachable_udp_target_fails_at_once)
{
	/* a port nobody listens on: the kernel answers ICMP port unreachable */
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_storage closed;
	sa4(&closed, "127.0.0.2", 0);
	cr_assert_eq(bind(fd, (struct sockaddr *)&closed, sizeof(struct sockaddr_in)), 0);
	socklen_t sl = sizeof(closed);
	getsockname(fd, (struct sockaddr *)&closed, &sl);
	close(fd);
	struct upstream_req req = request(false);
	req.dst = closed;
	static struct result r;
	uint64_t t0 = now_ms();
	send_ok(&req, &r);
	run_until(&r);
	cr_assert_eq(r.st, UPSTREAM_UNREACHABLE, "%s", upstream_status_name(r.st));
	cr_assert_not(r.via_tcp);
	cr_assert_lt(now_ms() - t0, TIMEOUT_MS / 2);
	cr_assert_eq(counter(UPSTREAM_C_UNREACHABLE), 1);
	cr_assert_eq(counter(UPSTREAM_C_TIMEOUTS), 0);
}

Test(upstream, ipv6_udp_then_tcp)
{
	responder_stop();
	responder_start(AF_INET6, "::1");
	sa6(&source, "::1", 0);
	struct upstream_req req = request(false);
	static struct result r;
	send_ok(&req, &r);
	run_until(&r);
	cr_assert_eq(r.st, UPSTREAM_OK, "%s", upstream_status_name(r.st));
	cr_assert(r.via_tcp);
	cr_assert_eq(udp_seen, 1);
	cr_assert_eq(tcp_seen, 1);
	cr_assert(udp_seen_port >= PORT_LO && udp_seen_port <= PORT_HI, "port %u", udp_seen_port);
	if (kernel_has_port_range())
		cr_assert(tcp_seen_port >= PORT_LO && tcp_seen_port <= PORT_HI, "TCP port %u",
			  tcp_seen_port);
	cr_assert_eq(be16(r.answer), CALLER_ID);
	cr_assert_eq(be16(r.answer + 6), ANSWER_COUNT);
	/* a source of one family and a target of the other is not a request */
	sa4(&source, "127.0.0.3", 0);
	req = request(false);
	cr_assert_eq(upstream_send(up, &req, on_done, &r, NULL), UPSTREAM_BAD_QUERY);
}

Test(upstream, bound_to_a_device)
{
	udp_mode = UDP_FULL;
	struct upstream_req req = request(false);
	req.device = "lo";
	static struct result r;
	send_ok(&req, &r);
	run_until(&r);
	cr_assert_eq(r.st, UPSTREAM_OK);
	req.device = "no-such-dev0";
	cr_assert_eq(upstream_send(up, &req, on_done, &r, NULL), UPSTREAM_SOCKET_FAILED);
	cr_assert_eq(counter(UPSTREAM_C_SOCKET_FAILED), 1);
	cr_assert_eq(upstream_inflight(up), 0);
}

Test(upstream, tcp_only_goes_straight_to_tcp)
{
	struct upstream_req req = request(true);
	static struct result r;
	send_ok(&req, &r);
	run_until(&r);
	cr_assert_eq(r.st, UPSTREAM_OK);
	cr_assert(r.via_tcp);
	cr_assert_eq(udp_seen, 0);
	cr_assert_eq(tcp_seen, 1);
	cr_assert_eq(be16(r.answer), CALLER_ID);
	cr_assert_eq(be16(r.answer + 6), ANSWER_COUNT);
	cr_assert_eq(counter(UPSTREAM_C_SENT_UDP), 0);
	cr_assert_eq(counter(UPSTREAM_C_SENT_TCP), 1);
}

Test(upstream, tcp_answer_with_another_id_fails_the_try)
{
	tcp_mode = TCP_WRONG_ID;
	struct upstream_req req = request(false);
	static struct result r;
	send_ok(&req, &r);
	run_until(&r);
	cr_assert_eq(r.st, UPSTREAM_BAD_ANSWER);
	cr_assert(r.via_tcp);
	cr_assert_eq(counter(UPSTREAM_C_MISMATCHED), 1);
	cr_assert_eq(counter(UPSTREAM_C_ANSWERS), 0);
}

Test(upstream, tcp_length_below_a_header_fails_the_try)
{
	tcp_mode = TCP_SHORT_LENGTH;
	struct upstream_req req = request(true);
	static struct result r;
	send_ok(&req, &r);
	run_until(&r);
	cr_assert_eq(r.st, UPSTREAM_BAD_ANSWER);
	cr_assert_eq(counter(UPSTREAM_C_BAD_ANSWERS), 1);
}

Test(upstream, tcp_closed_before_the_answer)
{
	tcp_mode = TCP_CLOSE;
	struct upstream_req req = request(false);
	static struct result r;
	send_ok(&req, &r);
	run_until(&r);
	cr_assert_eq(r.st, UPSTREAM_TCP_FAILED);
	cr_assert(r.via_tcp);
	cr_assert_eq(counter(UPSTREAM_C_TCP_FAILED), 1);
}

Test(upstream, tcp_silent_times_out)
{
	tcp_mode = TCP_SILENT;
	struct upstream_req req = request(true);
	static struct result r;
	uint64_t t0 = now_ms();
	send_ok(&req, &r);
	run_until(&r);
	uint64_t took = now_ms() - t0;
	cr_assert_eq(r.st, UPSTREAM_TIMEOUT);
	cr_assert(r.via_tcp);
	cr_assert_geq(took, TIMEOUT_MS - 1);
	cr_assert_lt(took, TIMEOUT_MS + 200, "took %lu ms", (unsigned long)took);
	cr_assert_eq(counter(UPSTREAM_C_TIMEOUTS), 1);
}

Test(upstream, tcp_refused_is_a_connect_failure)
{
	/* nothing listens on TCP here: the port of the spoofing UDP socket */
	struct upstream_req req = request(true);
	struct sockaddr_storage other;
	socklen_t sl = sizeof(other);
	getsockname(udp_other_fd, (struct sockaddr *)&other, &sl);
	req.dst = other;
	static struct result r;
	send_ok(&req, &r);
	cr_assert_not(r.called, "done ran inside upstream_send");
	run_until(&r);
	cr_assert_eq(r.st, UPSTREAM_CONNECT_FAILED);
	cr_assert(r.via_tcp);
	cr_assert_eq(counter(UPSTREAM_C_CONNECT_FAILED), 1);
	cr_assert_eq(upstream_inflight(up), 0);
}

Test(upstream, cancel_drops_the_query_and_its_callback)
{
	udp_mode = UDP_SILENT;
	struct upstream_req req = request(false);
	static struct result r;
	struct upstream_handle h;
	cr_assert_eq(upstream_send(up, &req, on_done, &r, &h), UPSTREAM_OK);
	run_for(20);
	cr_assert(upstream_cancel(up, h));
	cr_assert_not(upstream_cancel(up, h), "a second cancel found the query again");
	cr_assert_eq(upstream_inflight(up), 0);
	run_for(TIMEOUT_MS + 100);
	cr_assert_not(r.called);
	cr_assert_eq(counter(UPSTREAM_C_CANCELLED), 1);
	cr_assert_eq(counter(UPSTREAM_C_TIMEOUTS), 0);
	/* a handle of a query that ended is stale, even once its slot is reused */
	udp_mode = UDP_FULL;
	static struct result r2;
	struct upstream_handle h2;
	cr_assert_eq(upstream_send(up, &req, on_done, &r2, &h2), UPSTREAM_OK);
	run_until(&r2);
	cr_assert_not(upstream_cancel(up, h2));
	cr_assert_not(upstream_cancel(up, h));
}

Test(upstream, max_inflight_refuses_more)
{
	udp_mode = UDP_SILENT;
	struct upstream_req req = request(false);
	static struct result r[9];
	for (int i = 0; i < 8; i++)
		send_ok(&req, &r[i]);
	cr_assert_eq(upstream_send(up, &req, on_done, &r[8], NULL), UPSTREAM_BUSY);
	cr_assert_eq(counter(UPSTREAM_C_BUSY), 1);
	cr_assert_eq(upstream_inflight(up), 8);
	run_until(&r[7]);
	for (int i = 0; i < 8; i++)
		cr_assert_eq(r[i].st, UPSTREAM_TIMEOUT);
	cr_assert_not(r[8].called);
	cr_assert_eq(upstream_inflight(up), 0);
}

Test(upstream, not_a_query_is_refused)
{
	struct upstream_req req = request(false);
	query.b[2] |= 0x80; /* QR: a response */
	static struct result r;
	cr_assert_eq(upstream_send(up, &req, on_done, &r, NULL), UPSTREAM_BAD_QUERY);
	req = request(false);
	req.len = 11;
	cr_assert_eq(upstream_send(up, &req, on_done, &r, NULL), UPSTREAM_BAD_QUERY);
	req = request(false);
	req.timeout_ms = 0;
	cr_assert_eq(upstream_send(up, &req, on_done, &r, NULL), UPSTREAM_BAD_QUERY);
	cr_assert_eq(counter(UPSTREAM_C_BAD_QUERIES), 3);
	cr_assert_eq(upstream_inflight(up), 0);
}

Test(upstream, no_free_port_in_the_range)
{
	struct sockaddr_storage hold;
	int fd = -1;
	uint16_t port = PORT_HI;
	/* a one-port range whose port someone else holds on the source address */
	for (; port > PORT_LO; port--) {
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		sa4(&hold, "127.0.0.3", port);
		if (bind(fd, (struct sockaddr *)&hold, sizeof(struct sockaddr_in)) == 0)
			break;
		close(fd);
	}
	upstream_free(up);
	up = make_upstream(8, port, port);
	struct upstream_req req = request(false);
	static struct result r;
	cr_assert_eq(upstream_send(up, &req, on_done, &r, NULL), UPSTREAM_NO_PORT);
	cr_assert_eq(counter(UPSTREAM_C_NO_PORT), 1);
	close(fd);
	/* free again: the range works */
	udp_mode = UDP_FULL;
	send_ok(&req, &r);
	run_until(&r);
	cr_assert_eq(r.st, UPSTREAM_OK);
	cr_assert_eq(udp_seen_port, port);
}

struct chain {
	struct result r;
	unsigned left;
	struct upstream_req req;
};

static void on_done_send_again(void *arg, enum upstream_status st, const uint8_t *answer,
			       size_t len, bool via_tcp)
{
	struct chain *c = arg;
	on_done(&c->r, st, answer, len, via_tcp);
	if (--c->left) {
		c->r.called = false;
		cr_assert_eq(upstream_send(up, &c->req, on_done_send_again, c, NULL), UPSTREAM_OK);
	}
}

Test(upstream, done_may_send_again_at_max_inflight)
{
	upstream_free(up);
	up = make_upstream(1, PORT_LO, PORT_HI);
	static struct chain c;
	c.req = request(false);
	c.left = 3;
	cr_assert_eq(upstream_send(up, &c.req, on_done_send_again, &c, NULL), UPSTREAM_OK);
	uint64_t end = now_ms() + 5000;
	while (c.left && now_ms() < end)
		event_base_loop(base, EVLOOP_ONCE);
	cr_assert_eq(c.left, 0);
	cr_assert_eq(c.r.calls, 3);
	cr_assert_eq(c.r.st, UPSTREAM_OK);
	cr_assert_eq(counter(UPSTREAM_C_ANSWERS), 3);
	cr_assert_eq(counter(UPSTREAM_C_TRUNCATED_TO_TCP), 3);
}

Test(upstream, counter_names_are_all_set)
{
	for (int c = 0; c < UPSTREAM_C__COUNT; c++)
		cr_assert(upstream_counter_name(c) && strcmp(upstream_counter_name(c), "?") != 0);
	for (int s = 0; s < UPSTREAM__STATUS_COUNT; s++)
		cr_assert(strcmp(upstream_status_name(s), "?") != 0);
}
