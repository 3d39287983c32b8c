/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/tcpserve with real clients on loopback: pipelined queries answered out of order, many
 * connections at once, the idle timeout, a client that does not read, the outstanding limit and
 * its resumption, replies to connections that are gone, framing errors, the connection limit
 * (evicting the idle, refusing when none is), and the listener's tags. The server and the clients
 * share one thread: clients are non-blocking and the test turns the event loop while it waits.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../wire/msgbuild.h"
#include "ctl/tcpserve/tcpserve.h"

#define MAX_HELD 1024

enum reply_mode {
	REPLY_ECHO, /* at once, from inside the handler: the query with QR set */
	REPLY_HOLD, /* later: the test replies through the handles it kept */
	REPLY_BIG,  /* at once, 60,000 octets */
};

static struct event_base *base;
static struct tcpserve *ts;
static struct sockaddr_storage listen_addr;
static enum reply_mode mode;
static unsigned handled;
static struct tcpserve_handle held[MAX_HELD];
static struct mb held_msg[8];
static struct tcpserve_query last;
static struct sockaddr_storage last_client, last_local;

struct client {
	int fd;
	uint8_t buf[140000];
	size_t have;
};

/* ---- the server's side ---- */

static void handler(void *arg, const struct tcpserve_query *q)
{
	(void)arg;
	cr_assert_geq(q->len, 12);
	last = *q;
	last_client = *q->client;
	last_local = *q->local;
	if (handled < 8) {
		memcpy(held_msg[handled].b, q->msg, q->len);
		held_msg[handled].n = q->len;
	}
	if (mode == REPLY_HOLD) {
		cr_assert_lt(handled, MAX_HELD);
		held[handled] = q->handle;
	} else if (mode == REPLY_ECHO) {
		uint8_t r[65535];
		memcpy(r, q->msg, q->len);
		r[2] |= 0x80;
		cr_assert_eq(tcpserve_reply(ts, q->handle, r, q->len), 0);
	} else {
		static uint8_t big[60000];
		memcpy(big, q->msg, 12);
		cr_assert_geq(tcpserve_reply(ts, q->handle, big, sizeof(big)), 0);
	}
	handled++;
}

static void sa_set(struct sockaddr_storage *ss, int family, const char *addr, uint16_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *s = (struct sockaddr_in *)ss;
		s->sin_family = AF_INET;
		s->sin_port = htons(port);
		inet_pton(AF_INET, addr, &s->sin_addr);
	} else {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)ss;
		s->sin6_family = AF_INET6;
		s->sin6_port = htons(port);
		inet_pton(AF_INET6, addr, &s->sin6_addr);
	}
}

static socklen_t sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void start(struct tcpserve_params p)
{
	struct event_config *cfg = event_config_new();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	p.base = base;
	p.handler = handler;
	char err[200];
	ts = tcpserve_new(&p, err, sizeof(err));
	cr_assert(ts, "%s", err);
	struct tcpserve_listener l = {.vpc = 7};
	sa_set(&l.addr, AF_INET, "127.0.0.4", 0);
	int idx = tcpserve_listen(ts, &l, err, sizeof(err));
	cr_assert_eq(idx, 0, "%s", err);
	cr_assert(tcpserve_listener_addr(ts, idx, &listen_addr));
	mode = REPLY_ECHO;
	handled = 0;
}

static void teardown(void)
{
	tcpserve_free(ts);
	event_base_free(base);
}

TestSuite(tcpserve, .fini = teardown, .timeout = 30);

static uint64_t counter(enum tcpserve_counter c)
{
	return tcpserve_counter(ts, c);
}

/* ---- the loop and the clients ---- */

static uint64_t now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static void pump(unsigned ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void pump_once(void)
{
	pump(2);
}

static struct client *client_new_at(const struct sockaddr_storage *to, int rcvbuf)
{
	struct client *c = calloc(1, sizeof(*c));
	c->fd = socket(to->ss_family, SOCK_STREAM, 0);
	cr_assert_geq(c->fd, 0);
	if (rcvbuf)
		setsockopt(c->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	/* a loopback handshake completes in the kernel, before the server accepts */
	cr_assert_eq(connect(c->fd, (const struct sockaddr *)to, sa_len(to)), 0, "%s",
		     strerror(errno));
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	return c;
}

/* A client leaving from device dev with source address src (the two-VPCs case). */
static struct client *client_new_from(const struct sockaddr_storage *to, const char *dev,
				      const char *src)
{
	struct client *c = calloc(1, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(setsockopt(c->fd, SOL_SOCKET, SO_BINDTODEVICE, dev, (socklen_t)strlen(dev)),
		     0);
	struct sockaddr_storage from;
	sa_set(&from, AF_INET, src, 0);
	cr_assert_eq(bind(c->fd, (struct sockaddr *)&from, sizeof(struct sockaddr_in)), 0);
	cr_assert_eq(connect(c->fd, (const struct sockaddr *)to, sa_len(to)), 0, "%s",
		     strerror(errno));
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	return c;
}

static struct client *client_new(void)
{
	return client_new_at(&listen_addr, 0);
}

static void client_free(struct client *c)
{
	if (c->fd >= 0)
		close(c->fd);
	free(c);
}

static void client_send(struct client *c, const void *data, size_t len)
{
	const uint8_t *p = data;
	uint64_t end = now_ms() + 5000;
	while (len) {
		ssize_t n = write(c->fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
		} else {
			cr_assert(n < 0 && errno == EAGAIN, "write: %s", strerror(errno));
			cr_assert_lt(now_ms(), end, "the server never read");
			pump_once();
		}
	}
}

/* A query with ID id, length-prefixed, appended to m. */
static void frame_query(struct mb *out, uint16_t id)
{
	struct mb q;
	mb_query(&q, id, "www.example.com", 1, false);
	mb_u16(out, (uint16_t)q.n);
	mb_bytes(out, q.b, q.n);
}

static void client_query(struct client *c, uint16_t id)
{
	struct mb m = {.n = 0};
	frame_query(&m, id);
	client_send(c, m.b, m.n);
}

/* Reads what is there: >0 octets read, 0 at the end (EOF or reset), -1 when nothing yet. */
static int client_pull(struct client *c)
{
	ssize_t n = read(c->fd, c->buf + c->have, sizeof(c->buf) - c->have);
	if (n > 0) {
		c->have += (size_t)n;
		return 1;
	}
	if (n == 0 || errno == ECONNRESET)
		return 0;
	cr_assert_eq(errno, EAGAIN, "read: %s", strerror(errno));
	return -1;
}

/* The next whole reply (into out, its length returned), turning the loop while it comes. */
static size_t client_reply(struct client *c, uint8_t *out)
{
	uint64_t end = now_ms() + 5000;
	for (;;) {
		if (c->have >= 2 && c->have >= 2u + be16(c->buf)) {
			size_t len = be16(c->buf);
			memcpy(out, c->buf + 2, len);
			memmove(c->buf, c->buf + 2 + len, c->have - 2 - len);
			c->have -= 2 + len;
			return len;
		}
		cr_assert_lt(now_ms(), end, "no reply came");
		if (client_pull(c) < 0)
			pump_once();
		else
			cr_assert(c->have, "the server closed before replying");
	}
}

/* True once the server closed the client's connection (read until EOF or reset). */
static bool client_closed_within(struct client *c, unsigned ms)
{
	uint64_t end = now_ms() + ms;
	while (now_ms() < end) {
		int r = client_pull(c);
		if (r == 0)
			return true;
		if (r < 0)
			pump_once();
		else
			c->have = 0;
	}
	return false;
}

static bool pump_until_handled(unsigned n, unsigned ms)
{
	uint64_t end = now_ms() + ms;
	while (handled < n && now_ms() < end)
		pump_once();
	return handled >= n;
}

static void reply_echo(unsigned i, const uint8_t *query, size_t len)
{
	uint8_t r[512];
	memcpy(r, query, len);
	r[2] |= 0x80;
	cr_assert_eq(tcpserve_reply(ts, held[i], r, len), 0);
}

/* ---- tests ---- */

Test(tcpserve, pipelined_queries_answered_in_reverse_order)
{
	start((struct tcpserve_params){.max_outstanding = 256});
	mode = REPLY_HOLD;
	struct client *c = client_new();
	static struct mb all;
	all.n = 0;
	for (uint16_t id = 0; id < 200; id++)
		frame_query(&all, id);
	client_send(c, all.b, all.n);
	cr_assert(pump_until_handled(200, 5000), "handled %u", handled);
	cr_assert_eq(counter(TCPSERVE_C_READ_PAUSED), 0);
	/* the handler saw each message whole, as sent */
	struct mb q0;
	mb_query(&q0, 0, "www.example.com", 1, false);
	cr_assert_eq(held_msg[0].n, q0.n);
	cr_assert_arr_eq(held_msg[0].b, q0.b, q0.n);
	for (int i = 199; i >= 0; i--) {
		struct mb q;
		mb_query(&q, (uint16_t)i, "www.example.com", 1, false);
		reply_echo((unsigned)i, q.b, q.n);
	}
	for (int i = 199; i >= 0; i--) {
		uint8_t r[65535];
		size_t len = client_reply(c, r);
		struct mb q;
		mb_query(&q, (uint16_t)i, "www.example.com", 1, false);
		q.b[2] |= 0x80;
		cr_assert_eq(len, q.n);
		cr_assert_arr_eq(r, q.b, q.n, "reply %d out of order", 199 - i);
	}
	cr_assert_eq(counter(TCPSERVE_C_QUERIES), 200);
	cr_assert_eq(counter(TCPSERVE_C_REPLIES), 200);
	cr_assert_eq(counter(TCPSERVE_C_REPLIES_DROPPED), 0);
	cr_assert_eq(tcpserve_conns(ts), 1);
	client_free(c);
}

Test(tcpserve, many_connections_at_once)
{
	start((struct tcpserve_params){0});
	enum { N = 200 };
	static struct client *cs[N];
	for (int i = 0; i < N; i++)
		cs[i] = client_new();
	for (int i = 0; i < N; i++)
		client_query(cs[i], (uint16_t)(1000 + i));
	for (int i = 0; i < N; i++) {
		uint8_t r[65535];
		size_t len = client_reply(cs[i], r);
		cr_assert_eq(len, 33);
		cr_assert_eq(be16(r), 1000 + i, "connection %d got another's reply", i);
		cr_assert(r[2] & 0x80);
	}
	cr_assert_eq(tcpserve_conns(ts), N);
	cr_assert_eq(counter(TCPSERVE_C_ACCEPTED), N);
	cr_assert_eq(counter(TCPSERVE_C_QUERIES), N);
	cr_assert_eq(counter(TCPSERVE_C_REPLIES), N);
	for (int i = 0; i < N; i++)
		client_free(cs[i]);
	uint64_t end = now_ms() + 5000;
	while (tcpserve_conns(ts) && now_ms() < end)
		pump_once();
	cr_assert_eq(tcpserve_conns(ts), 0);
	cr_assert_eq(counter(TCPSERVE_C_CLOSED_BY_CLIENT), N);
}

Test(tcpserve, idle_connection_is_closed_but_not_one_waiting_for_a_reply)
{
	start((struct tcpserve_params){.idle_timeout_ms = 100});
	mode = REPLY_HOLD;
	struct client *idle = client_new();
	struct client *waiting = client_new();
	pump(20);
	client_query(waiting, 1);
	cr_assert(pump_until_handled(1, 2000));
	uint64_t t0 = now_ms();
	cr_assert(client_closed_within(idle, 1000));
	cr_assert_geq(now_ms() - t0, 60); /* 100 ms after it connected, ~20 of them gone */
	cr_assert_eq(counter(TCPSERVE_C_CLOSED_IDLE), 1);
	/* the one with a query in flight stays, however long the answer takes */
	pump(300);
	cr_assert_eq(tcpserve_conns(ts), 1);
	struct mb q;
	mb_query(&q, 1, "www.example.com", 1, false);
	reply_echo(0, q.b, q.n);
	uint8_t r[512];
	cr_assert_eq(client_reply(waiting, r), q.n);
	/* and once answered, it is idle again */
	cr_assert(client_closed_within(waiting, 1000));
	cr_assert_eq(counter(TCPSERVE_C_CLOSED_IDLE), 2);
	cr_assert_eq(tcpserve_conns(ts), 0);
	client_free(idle);
	client_free(waiting);
}

Test(tcpserve, a_query_trickled_in_does_not_hold_the_connection)
{
	start((struct tcpserve_params){.idle_timeout_ms = 100});
	struct client *c = client_new();
	struct mb m = {.n = 0};
	frame_query(&m, 1);
	uint64_t t0 = now_ms();
	size_t sent = 0;
	bool closed = false;
	while (!closed && sent < m.n && now_ms() - t0 < 1000) {
		client_send(c, m.b + sent++, 1);
		closed = client_closed_within(c, 30);
	}
	cr_assert(closed || client_closed_within(c, 1000));
	cr_assert_lt(now_ms() - t0, 300);
	cr_assert_lt(sent, m.n, "the whole query went in before the timeout");
	cr_assert_eq(counter(TCPSERVE_C_CLOSED_IDLE), 1);
	cr_assert_eq(handled, 0);
	client_free(c);
}

Test(tcpserve, client_that_does_not_read_is_closed_at_the_output_bound)
{
	start((struct tcpserve_params){.sndbuf = 4096, .max_output = 2 * 65537});
	mode = REPLY_BIG;
	struct client *c = client_new_at(&listen_addr, 4096);
	static struct mb all;
	all.n = 0;
	for (uint16_t id = 0; id < 64; id++)
		frame_query(&all, id);
	client_send(c, all.b, all.n);
	uint64_t end = now_ms() + 5000;
	while (!counter(TCPSERVE_C_CLOSED_OUTPUT) && now_ms() < end)
		pump_once();
	cr_assert_eq(counter(TCPSERVE_C_CLOSED_OUTPUT), 1);
	cr_assert_eq(tcpserve_conns(ts), 0);
	/* far fewer than 64 replies fit before it was closed */
	cr_assert_lt(handled, 20, "handled %u", handled);
	client_free(c);
}

Test(tcpserve, outstanding_limit_stops_reading_then_resumes)
{
	start((struct tcpserve_params){.max_outstanding = 4});
	mode = REPLY_HOLD;
	struct client *c = client_new();
	struct mb all = {.n = 0};
	for (uint16_t id = 0; id < 10; id++)
		frame_query(&all, id);
	client_send(c, all.b, all.n);
	pump(100);
	cr_assert_eq(handled, 4);
	cr_assert_eq(counter(TCPSERVE_C_READ_PAUSED), 1);
	/* one reply lets one more query in, no more */
	struct mb q;
	mb_query(&q, 0, "www.example.com", 1, false);
	reply_echo(0, q.b, q.n);
	pump(100);
	cr_assert_eq(handled, 5);
	cr_assert_eq(counter(TCPSERVE_C_READ_PAUSED), 2);
	for (unsigned i = 1; i < 10; i++) {
		cr_assert(pump_until_handled(i + 1 < 5 ? 5 : i + 1, 2000));
		mb_query(&q, (uint16_t)i, "www.example.com", 1, false);
		reply_echo(i, q.b, q.n);
	}
	cr_assert(pump_until_handled(10, 2000));
	for (uint16_t id = 0; id < 10; id++) {
		uint8_t r[512];
		client_reply(c, r);
		cr_assert_eq(be16(r), id);
	}
	cr_assert_eq(counter(TCPSERVE_C_QUERIES), 10);
	cr_assert_eq(counter(TCPSERVE_C_REPLIES), 10);
	client_free(c);
}

Test(tcpserve, reply_after_the_client_reset_is_dropped_and_counted)
{
	start((struct tcpserve_params){0});
	mode = REPLY_HOLD;
	struct client *c = client_new();
	client_query(c, 5);
	cr_assert(pump_until_handled(1, 2000));
	struct linger lg = {.l_onoff = 1, .l_linger = 0}; /* close with a reset */
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
	close(c->fd);
	c->fd = -1;
	uint64_t end = now_ms() + 2000;
	while (tcpserve_conns(ts) && now_ms() < end)
		pump_once();
	cr_assert_eq(tcpserve_conns(ts), 0);
	cr_assert_eq(counter(TCPSERVE_C_CLOSED_ERROR), 1);
	/* a new connection takes the slot: the old handle must not reach it */
	struct client *other = client_new();
	client_query(other, 6);
	cr_assert(pump_until_handled(2, 2000));
	cr_assert_eq(held[1].conn, held[0].conn, "the slot was not reused: the test proves less");
	uint8_t r[64] = {0};
	cr_assert_eq(tcpserve_reply(ts, held[0], r, 12), 1);
	cr_assert_eq(counter(TCPSERVE_C_REPLIES_DROPPED), 1);
	cr_assert_eq(counter(TCPSERVE_C_REPLIES), 0);
	struct mb q;
	mb_query(&q, 6, "www.example.com", 1, false);
	reply_echo(1, q.b, q.n);
	cr_assert_eq(client_reply(other, r), q.n);
	cr_assert_eq(be16(r), 6);
	/* a second reply to the same query is dropped too */
	cr_assert_eq(tcpserve_reply(ts, held[1], r, 12), 1);
	cr_assert_eq(counter(TCPSERVE_C_REPLIES_DROPPED), 2);
	client_free(c);
	client_free(other);
}

Test(tcpserve, half_closed_client_still_gets_its_replies)
{
	start((struct tcpserve_params){0});
	mode = REPLY_HOLD;
	struct client *c = client_new();
	client_query(c, 1);
	client_query(c, 2);
	shutdown(c->fd, SHUT_WR);
	cr_assert(pump_until_handled(2, 2000));
	pump(50);
	cr_assert_eq(tcpserve_conns(ts), 1);
	struct mb q;
	mb_query(&q, 2, "www.example.com", 1, false);
	reply_echo(1, q.b, q.n);
	mb_query(&q, 1, "www.example.com", 1, false);
	reply_echo(0, q.b, q.n);
	uint8_t r[512];
	cr_assert_eq(client_reply(c, r), q.n);
	cr_assert_eq(be16(r), 2);
	cr_assert_eq(client_reply(c, r), q.n);
	cr_assert_eq(be16(r), 1);
	cr_assert(client_closed_within(c, 1000));
	cr_assert_eq(counter(TCPSERVE_C_CLOSED_BY_CLIENT), 1);
	client_free(c);
}

Test(tcpserve, length_below_a_header_closes)
{
	start((struct tcpserve_params){0});
	struct client *c = client_new();
	client_query(c, 1);
	uint8_t r[512];
	cr_assert_eq(client_reply(c, r), 33);
	/* a broken client loses what it had not read yet: the connection closes at once */
	uint8_t bad[13] = {0, 11};
	client_send(c, bad, sizeof(bad));
	cr_assert(client_closed_within(c, 1000));
	cr_assert_eq(counter(TCPSERVE_C_CLOSED_FRAMING), 1);
	cr_assert_eq(handled, 1);
	client_free(c);
}

Test(tcpserve, at_the_connection_limit_the_idle_longest_goes)
{
	start((struct tcpserve_params){.max_conns = 2});
	mode = REPLY_HOLD;
	struct client *first = client_new();
	pump(20);
	struct client *second = client_new();
	pump(20);
	struct client *third = client_new();
	cr_assert(client_closed_within(first, 1000));
	cr_assert_eq(counter(TCPSERVE_C_CLOSED_EVICTED), 1);
	cr_assert_eq(tcpserve_conns(ts), 2);
	/* with a query in flight on each, there is none to evict: a fourth is refused */
	client_query(second, 2);
	client_query(third, 3);
	cr_assert(pump_until_handled(2, 2000));
	struct client *fourth = client_new();
	cr_assert(client_closed_within(fourth, 1000));
	cr_assert_eq(counter(TCPSERVE_C_REFUSED), 1);
	cr_assert_eq(counter(TCPSERVE_C_ACCEPTED), 3);
	cr_assert_eq(tcpserve_conns(ts), 2);
	client_free(first);
	client_free(second);
	client_free(third);
	client_free(fourth);
}

Test(tcpserve, drop_releases_the_query_without_a_reply)
{
	start((struct tcpserve_params){.max_outstanding = 1});
	mode = REPLY_HOLD;
	struct client *c = client_new();
	client_query(c, 1);
	client_query(c, 2);
	cr_assert(pump_until_handled(1, 2000));
	pump(50);
	cr_assert_eq(handled, 1);
	cr_assert_eq(tcpserve_drop(ts, held[0]), 0);
	cr_assert(pump_until_handled(2, 2000));
	cr_assert_eq(tcpserve_drop(ts, held[0]), 1);
	cr_assert_eq(counter(TCPSERVE_C_QUERIES_DROPPED), 1);
	cr_assert_eq(counter(TCPSERVE_C_REPLIES_DROPPED), 1);
	uint8_t big[65536] = {0};
	cr_assert_eq(tcpserve_reply(ts, held[1], big, sizeof(big)), -1);
	struct mb q;
	mb_query(&q, 2, "www.example.com", 1, false);
	reply_echo(1, q.b, q.n);
	uint8_t r[512];
	cr_assert_eq(client_reply(c, r), q.n);
	cr_assert_eq(be16(r), 2);
	client_free(c);
}

Test(tcpserve, listeners_carry_their_tags_and_addresses)
{
	start((struct tcpserve_params){0});
	char err[200];
	static int cookie_v6;
	struct tcpserve_listener l6 = {.vpc = 9, .cookie = &cookie_v6};
	sa_set(&l6.addr, AF_INET6, "::1", 0);
	int idx = tcpserve_listen(ts, &l6, err, sizeof(err));
	cr_assert_eq(idx, 1, "%s", err);
	struct sockaddr_storage a6;
	cr_assert(tcpserve_listener_addr(ts, idx, &a6));
	struct sockaddr_storage none;
	cr_assert_not(tcpserve_listener_addr(ts, 2, &none));

	struct client *c4 = client_new();
	client_query(c4, 1);
	cr_assert(pump_until_handled(1, 2000));
	cr_assert_eq(last.vpc, 7);
	cr_assert_null(last.cookie);
	struct sockaddr_storage mine;
	socklen_t sl = sizeof(mine);
	getsockname(c4->fd, (struct sockaddr *)&mine, &sl);
	cr_assert_eq(memcmp(&last_client, &mine, sizeof(struct sockaddr_in)), 0);
	cr_assert_eq(memcmp(&last_local, &listen_addr, sizeof(struct sockaddr_in)), 0);

	struct client *c6 = client_new_at(&a6, 0);
	client_query(c6, 2);
	cr_assert(pump_until_handled(2, 2000));
	cr_assert_eq(last.vpc, 9);
	cr_assert_eq(last.cookie, &cookie_v6);
	cr_assert_eq(last_local.ss_family, AF_INET6);
	uint8_t r[512];
	cr_assert_eq(client_reply(c6, r), 33);
	cr_assert_eq(be16(r), 2);
	client_free(c4);
	client_free(c6);
}

Test(tcpserve, unlisten_keeps_the_connections_it_accepted)
{
	start((struct tcpserve_params){0});
	struct client *c = client_new();
	pump(20);
	cr_assert(tcpserve_unlisten(ts, 0));
	cr_assert_not(tcpserve_unlisten(ts, 0));
	struct sockaddr_storage gone;
	cr_assert_not(tcpserve_listener_addr(ts, 0, &gone));
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_neq(connect(fd, (struct sockaddr *)&listen_addr, sa_len(&listen_addr)), 0);
	cr_assert_eq(errno, ECONNREFUSED);
	close(fd);
	/* the one it accepted is still served, with the listener's tags */
	client_query(c, 3);
	uint8_t r[512];
	cr_assert_eq(client_reply(c, r), 33);
	cr_assert_eq(be16(r), 3);
	cr_assert_eq(last.vpc, 7);
	/* and the address can be listened on again */
	char err[200];
	struct tcpserve_listener l = {.addr = listen_addr, .vpc = 8};
	cr_assert_eq(tcpserve_listen(ts, &l, err, sizeof(err)), 1, "%s", err);
	struct client *again = client_new();
	client_query(again, 4);
	cr_assert_eq(client_reply(again, r), 33);
	cr_assert_eq(last.vpc, 8);
	client_free(c);
	client_free(again);
}

/*
 * Two VPCs with the same resolver address on two interfaces, each with its own listener. In a
 * network namespace of the test's own (Criterion runs each test in its own process): two veth
 * pairs, 10.9.0.2 on both server ends, a client on each client end.
 */
Test(tcpserve, same_address_on_two_devices_two_listeners)
{
	if (geteuid() != 0 || unshare(CLONE_NEWNET) != 0)
		cr_skip_test("needs root for a network namespace of its own");
	const char *net =
	    "ip link set lo up && "
	    "ip link add sA type veth peer name cA && "
	    "ip link add sB type veth peer name cB && "
	    "ip addr add 10.9.0.2/24 dev sA && ip addr add 10.9.0.2/24 dev sB && "
	    "ip addr add 10.9.0.5/24 dev cA && ip addr add 10.9.0.6/24 dev cB && "
	    "for i in sA sB cA cB; do ip link set $i up; done && "
	    /* the clients' addresses are local too: let them arrive from the wire */
	    "for i in all sA sB cA cB; do "
	    "sysctl -qw net.ipv4.conf.$i.accept_local=1 net.ipv4.conf.$i.rp_filter=0; "
	    "done";
	if (system(net) != 0)
		cr_skip_test("no veth in this kernel (ip link add type veth failed)");
	start((struct tcpserve_params){0});
	char err[200];
	struct tcpserve_listener a = {.device = "sA", .vpc = 1}, b = {.device = "sB", .vpc = 2};
	sa_set(&a.addr, AF_INET, "10.9.0.2", 5353);
	sa_set(&b.addr, AF_INET, "10.9.0.2", 5353);
	cr_assert_eq(tcpserve_listen(ts, &a, err, sizeof(err)), 1, "%s", err);
	cr_assert_eq(tcpserve_listen(ts, &b, err, sizeof(err)), 2, "%s", err);
	struct client *ca = client_new_from(&a.addr, "cA", "10.9.0.5");
	struct client *cb = client_new_from(&b.addr, "cB", "10.9.0.6");
	uint8_t r[512];
	client_query(cb, 2);
	cr_assert_eq(client_reply(cb, r), 33);
	cr_assert_eq(last.vpc, 2);
	client_query(ca, 1);
	cr_assert_eq(client_reply(ca, r), 33);
	cr_assert_eq(last.vpc, 1);
	cr_assert_eq(be16(r), 1);
	client_free(ca);
	client_free(cb);
}

Test(tcpserve, a_taken_address_is_an_error)
{
	start((struct tcpserve_params){0});
	char err[200];
	struct tcpserve_listener l = {.addr = listen_addr};
	cr_assert_eq(tcpserve_listen(ts, &l, err, sizeof(err)), -1);
	cr_assert(strstr(err, "bind"), "%s", err);
	struct tcpserve_listener dev = {.device = "no-such-device0"};
	sa_set(&dev.addr, AF_INET, "127.0.0.4", 0);
	cr_assert_eq(tcpserve_listen(ts, &dev, err, sizeof(err)), -1);
	cr_assert(strstr(err, "SO_BINDTODEVICE"), "%s", err);
}
