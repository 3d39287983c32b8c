/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/upstream: a slot per query in flight (preallocated, max_inflight of them, handles checked by
 * generation), one non-blocking socket per try, one timer per query. See upstream.h.
 */
#include "ctl/upstream/upstream.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <event2/event.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "dp/wire/wire.h"

#define TCP_ANSWER_MAX	  65535
#define UDP_ANSWER_MAX	  65536 /* a datagram over 65507 cannot arrive; one more octet shows it */
#define UDP_READS_PER_CB  32	/* datagrams read per wake-up, so a flood cannot starve the loop */
#define PORT_RANDOM_TRIES 16

#ifndef IP_LOCAL_PORT_RANGE
#define IP_LOCAL_PORT_RANGE 51 /* linux/in.h, Linux 6.3; glibc's headers lack it */
#endif

enum try_state {
	TRY_UDP,
	TRY_TCP_CONNECTING,
	TRY_TCP_WRITING,
	TRY_TCP_READING,
};

struct query {
	struct upstream *u;
	uint32_t gen; /* bumped when the query ends: a handle names one query */
	bool busy;
	uint32_t next_free;

	upstream_done_fn *done;
	void *arg;

	uint8_t *wire;		    /* 2-octet TCP length, then the query; our try's ID is in it */
	uint8_t *msg;		    /* wire + 2 */
	size_t len;		    /* of msg */
	struct wire_dns_msg parsed; /* the query's question, to check answers against */
	uint16_t caller_id, try_id;

	struct sockaddr_storage src, dst;
	char device[IF_NAMESIZE];
	uint32_t timeout_ms;

	enum try_state state;
	enum upstream_status
	    pending; /* a failure found outside the loop, reported from the timer */
	int fd;
	struct event *io, *timer;
	size_t sent;	      /* TCP: octets of wire written */
	uint8_t *answer;      /* TCP: the length and the answer as they arrive */
	size_t have;	      /* TCP: octets of answer read */
	uint64_t deadline_ns; /* TCP: the try's end, whatever progress it makes */
};

struct upstream {
	struct event_base *base;
	uint16_t port_lo, port_hi;
	uint32_t tcp_idle_ms;
	unsigned max_inflight, inflight;
	struct query *slots;
	uint32_t free_head; /* UINT32_MAX: none */
	uint64_t rng;
	uint64_t counters[UPSTREAM_C__COUNT];
	uint8_t scratch[UDP_ANSWER_MAX];
};

static const char *const status_names[UPSTREAM__STATUS_COUNT] = {
    [UPSTREAM_OK] = "ok",
    [UPSTREAM_TIMEOUT] = "timeout",
    [UPSTREAM_CONNECT_FAILED] = "connect_failed",
    [UPSTREAM_TCP_FAILED] = "tcp_failed",
    [UPSTREAM_UNREACHABLE] = "unreachable",
    [UPSTREAM_BAD_ANSWER] = "bad_answer",
    [UPSTREAM_BUSY] = "busy",
    [UPSTREAM_BAD_QUERY] = "bad_query",
    [UPSTREAM_NO_PORT] = "no_port",
    [UPSTREAM_SOCKET_FAILED] = "socket_failed",
};

static const char *const counter_names[UPSTREAM_C__COUNT] = {
    [UPSTREAM_C_SENT_UDP] = "sent_udp",
    [UPSTREAM_C_SENT_TCP] = "sent_tcp",
    [UPSTREAM_C_ANSWERS] = "answers",
    [UPSTREAM_C_TRUNCATED_TO_TCP] = "truncated_to_tcp",
    [UPSTREAM_C_TIMEOUTS] = "timeouts",
    [UPSTREAM_C_CONNECT_FAILED] = "connect_failed",
    [UPSTREAM_C_UNREACHABLE] = "unreachable",
    [UPSTREAM_C_TCP_FAILED] = "tcp_failed",
    [UPSTREAM_C_MISMATCHED] = "mismatched",
    [UPSTREAM_C_BAD_ANSWERS] = "bad_answers",
    [UPSTREAM_C_BUSY] = "busy",
    [UPSTREAM_C_BAD_QUERIES] = "bad_queries",
    [UPSTREAM_C_NO_PORT] = "no_port",
    [UPSTREAM_C_SOCKET_FAILED] = "socket_failed",
    [UPSTREAM_C_CANCELLED] = "cancelled",
};

const char *upstream_status_name(enum upstream_status st)
{
	return (unsigned)st < UPSTREAM__STATUS_COUNT ? status_names[st] : "?";
}

const char *upstream_counter_name(enum upstream_counter c)
{
	return (unsigned)c < UPSTREAM_C__COUNT ? counter_names[c] : "?";
}

uint64_t upstream_counter(const struct upstream *u, enum upstream_counter c)
{
	return (unsigned)c < UPSTREAM_C__COUNT ? u->counters[c] : 0;
}

unsigned upstream_inflight(const struct upstream *u)
{
	return u->inflight;
}

static void count(struct upstream *u, enum upstream_counter c)
{
	u->counters[c]++;
}

/* ---- randomness: DNS IDs and source ports an off-path attacker cannot guess ---- */

static uint64_t rng_next(struct upstream *u)
{
	/* splitmix64: seeded from getrandom, so the sequence is not predictable from outside */
	uint64_t z = (u->rng += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* ---- addresses ---- */

static socklen_t sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void sa_set_port(struct sockaddr_storage *ss, uint16_t port)
{
	if (ss->ss_family == AF_INET6)
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
	else
		((struct sockaddr_in *)ss)->sin_port = htons(port);
}

static bool sa_same(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
	if (a->ss_family != b->ss_family)
		return false;
	if (a->ss_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof(x->sin6_addr)) == 0;
}

/* ---- slots ---- */

struct upstream *upstream_new(const struct upstream_params *p, char *err, size_t errlen)
{
	if (!p->base || p->udp_port_lo == 0 || p->udp_port_hi < p->udp_port_lo) {
		snprintf(err, errlen,
			 "upstream: an event base and a UDP port range [lo, hi] with "
			 "0 < lo <= hi are needed");
		return NULL;
	}
	struct upstream *u = calloc(1, sizeof(*u));
	unsigned n = p->max_inflight ? p->max_inflight : UPSTREAM_DEFAULT_INFLIGHT;
	if (u)
		u->slots = calloc(n, sizeof(*u->slots));
	if (!u || !u->slots || getrandom(&u->rng, sizeof(u->rng), 0) != (ssize_t)sizeof(u->rng)) {
		snprintf(err, errlen, "upstream: %s", strerror(errno ? errno : ENOMEM));
		if (u)
			free(u->slots);
		free(u);
		return NULL;
	}
	u->base = p->base;
	u->port_lo = p->udp_port_lo;
	u->port_hi = p->udp_port_hi;
	u->tcp_idle_ms = p->tcp_idle_ms ? p->tcp_idle_ms : UPSTREAM_DEFAULT_TCP_IDLE;
	u->max_inflight = n;
	for (unsigned i = 0; i < n; i++) {
		u->slots[i].u = u;
		u->slots[i].fd = -1;
		u->slots[i].gen = 1;
		u->slots[i].next_free = i + 1 < n ? i + 1 : UINT32_MAX;
	}
	u->free_head = 0;
	return u;
}

static void close_try(struct query *q)
{
	if (q->io) {
		event_free(q->io);
		q->io = NULL;
	}
	if (q->fd >= 0) {
		close(q->fd);
		q->fd = -1;
	}
}

/* Ends the query and puts its slot back; the caller has what it needs of it. */
static void release(struct query *q)
{
	struct upstream *u = q->u;
	close_try(q);
	if (q->timer) {
		event_free(q->timer);
		q->timer = NULL;
	}
	free(q->wire);
	free(q->answer);
	q->wire = q->msg = q->answer = NULL;
	q->busy = false;
	q->gen++;
	q->next_free = u->free_head;
	u->free_head = (uint32_t)(q - u->slots);
	u->inflight--;
}

/*
 * Reports the end of a query. The slot goes back before done runs, so done may send again; a TCP
 * answer lives in the query's buffer, which is kept until done returns.
 */
static void finish(struct query *q, enum upstream_status st, uint8_t *answer, size_t len,
		   bool via_tcp)
{
	upstream_done_fn *done = q->done;
	void *arg = q->arg;
	uint8_t *keep = q->answer;
	q->answer = NULL;
	if (st == UPSTREAM_OK) {
		put_be16(answer, q->caller_id);
		count(q->u, UPSTREAM_C_ANSWERS);
	}
	release(q);
	done(arg, st, st == UPSTREAM_OK ? answer : NULL, st == UPSTREAM_OK ? len : 0, via_tcp);
	free(keep);
}

static void fail(struct query *q, enum upstream_status st, enum upstream_counter c)
{
	count(q->u, c);
	finish(q, st, NULL, 0, q->state != TRY_UDP);
}

void upstream_free(struct upstream *u)
{
	if (!u)
		return;
	for (unsigned i = 0; i < u->max_inflight; i++)
		if (u->slots[i].busy)
			release(&u->slots[i]);
	free(u->slots);
	free(u);
}

bool upstream_cancel(struct upstream *u, struct upstream_handle h)
{
	if (h.slot >= u->max_inflight)
		return false;
	struct query *q = &u->slots[h.slot];
	if (!q->busy || q->gen != h.gen)
		return false;
	count(u, UPSTREAM_C_CANCELLED);
	release(q);
	return true;
}

/* ---- answers ---- */

/*
 * Why an answer that reached the try is not the answer, as the counter to count it under;
 * UPSTREAM_C__COUNT if it is the answer. The ID is checked before anything is parsed, so a blind
 * flood costs a compare.
 */
static enum upstream_counter check_answer(struct query *q, const uint8_t *a, size_t len,
					  bool *truncated)
{
	struct wire_dns_msg m;
	size_t records;
	if (len < WIRE_DNS_HLEN)
		return UPSTREAM_C_BAD_ANSWERS;
	if (be16(a) != q->try_id)
		return UPSTREAM_C_MISMATCHED;
	*truncated = (be16(a + 2) & WIRE_FLAG_TC) != 0;
	/* a truncated answer may be cut anywhere after its question: only that much must parse */
	enum wire_err e = *truncated ? wire_dns_parse_response_head(a, len, &m)
				     : wire_dns_parse_response(a, len, &m, NULL, 0, &records);
	if (e != WIRE_OK)
		return UPSTREAM_C_BAD_ANSWERS;
	if (!wire_dns_same_question(q->msg, &q->parsed, a, &m))
		return UPSTREAM_C_MISMATCHED;
	return UPSTREAM_C__COUNT;
}

static void new_try_id(struct query *q)
{
	q->try_id = (uint16_t)rng_next(q->u);
	put_be16(q->msg, q->try_id);
}

static void arm_timer(struct query *q, uint64_t ns)
{
	struct timeval tv = {.tv_sec = (time_t)(ns / 1000000000ull),
			     .tv_usec = (suseconds_t)(ns % 1000000000ull / 1000)};
	event_add(q->timer, &tv);
}

static bool watch(struct query *q, short what, event_callback_fn cb)
{
	if (q->io)
		event_free(q->io);
	q->io = event_new(q->u->base, q->fd, what | EV_PERSIST, cb, q);
	return q->io && event_add(q->io, NULL) == 0;
}

/* A socket for a try: non-blocking, on the device, allowed to bind the source before it is up. */
static int open_socket(struct query *q, int type)
{
	int fd = socket(q->src.ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	int one = 1;
	/* the endpoint addresses live on the daemon's interface, which may come up after us */
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (q->device[0] &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, q->device, strlen(q->device)) != 0) {
		int saved = errno;
		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

/* ---- TCP ---- */

static void tcp_event(evutil_socket_t fd, short what, void *arg);

static void tcp_progress(struct query *q)
{
	uint64_t now = now_ns();
	uint64_t idle = (uint64_t)q->u->tcp_idle_ms * 1000000ull;
	uint64_t left = q->deadline_ns > now ? q->deadline_ns - now : 0;
	arm_timer(q, left < idle ? left : idle);
}

/* The failure to report when a TCP try cannot start. */
static enum upstream_status tcp_start(struct query *q)
{
	struct upstream *u = q->u;
	close_try(q);
	q->state = TRY_TCP_CONNECTING;
	q->sent = q->have = 0;
	new_try_id(q);
	count(u, UPSTREAM_C_SENT_TCP);
	q->fd = open_socket(q, SOCK_STREAM);
	if (q->fd < 0)
		return UPSTREAM_SOCKET_FAILED;
	int one = 1;
	/* the kernel picks the port at connect time, so the 4-tuple alone must be unique */
	setsockopt(q->fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof(one));
	uint32_t range = (uint32_t)u->port_hi << 16 | u->port_lo;
	/* keeps TCP out of the data plane's ports too where the kernel can (6.3+; else ignored) */
	setsockopt(q->fd, IPPROTO_IP, IP_LOCAL_PORT_RANGE, &range, sizeof(range));
	struct sockaddr_storage src = q->src;
	sa_set_port(&src, 0);
	if (bind(q->fd, (struct sockaddr *)&src, sa_len(&src)) != 0)
		return UPSTREAM_SOCKET_FAILED;
	if (connect(q->fd, (struct sockaddr *)&q->dst, sa_len(&q->dst)) != 0 &&
	    errno != EINPROGRESS)
		return UPSTREAM_CONNECT_FAILED;
	if (!watch(q, EV_WRITE, tcp_event))
		return UPSTREAM_SOCKET_FAILED;
	q->deadline_ns = now_ns() + (uint64_t)q->timeout_ms * 1000000ull;
	tcp_progress(q);
	return UPSTREAM_OK;
}

static enum upstream_counter failure_counter(enum upstream_status st)
{
	switch (st) {
	case UPSTREAM_CONNECT_FAILED:
		return UPSTREAM_C_CONNECT_FAILED;
	case UPSTREAM_TCP_FAILED:
		return UPSTREAM_C_TCP_FAILED;
	case UPSTREAM_TIMEOUT:
		return UPSTREAM_C_TIMEOUTS;
	default:
		return UPSTREAM_C_SOCKET_FAILED;
	}
}

static void tcp_write(struct query *q)
{
	if (q->state == TRY_TCP_CONNECTING) {
		int soerr = 0;
		socklen_t sl = sizeof(soerr);
		if (getsockopt(q->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr != 0) {
			fail(q, UPSTREAM_CONNECT_FAILED, UPSTREAM_C_CONNECT_FAILED);
			return;
		}
		q->state = TRY_TCP_WRITING;
	}
	while (q->sent < q->len + 2) {
		ssize_t n = send(q->fd, q->wire + q->sent, q->len + 2 - q->sent, MSG_NOSIGNAL);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n < 0) {
			fail(q, UPSTREAM_TCP_FAILED, UPSTREAM_C_TCP_FAILED);
			return;
		}
		q->sent += (size_t)n;
	}
	if (q->sent == q->len + 2) {
		q->state = TRY_TCP_READING;
		q->answer = malloc(TCP_ANSWER_MAX + 2);
		if (!q->answer || !watch(q, EV_READ, tcp_event)) {
			fail(q, UPSTREAM_TCP_FAILED, UPSTREAM_C_SOCKET_FAILED);
			return;
		}
	}
	tcp_progress(q);
}

static void tcp_answer(struct query *q)
{
	size_t len = q->have - 2;
	bool truncated = false;
	enum upstream_counter why = check_answer(q, q->answer + 2, len, &truncated);
	if (why != UPSTREAM_C__COUNT) {
		/* on a connection of our own, a wrong answer means the try is lost */
		fail(q, UPSTREAM_BAD_ANSWER, why);
		return;
	}
	finish(q, UPSTREAM_OK, q->answer + 2, len, true);
}

static void tcp_read(struct query *q)
{
	for (;;) {
		size_t want = q->have < 2 ? 2 : 2 + (size_t)be16(q->answer);
		if (q->have == want && want > 2) {
			tcp_answer(q);
			return;
		}
		ssize_t n = recv(q->fd, q->answer + q->have, want - q->have, 0);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			break;
		if (n <= 0) {
			fail(q, UPSTREAM_TCP_FAILED, UPSTREAM_C_TCP_FAILED);
			return;
		}
		q->have += (size_t)n;
		if (q->have == 2 && be16(q->answer) < WIRE_DNS_HLEN) {
			fail(q, UPSTREAM_BAD_ANSWER, UPSTREAM_C_BAD_ANSWERS);
			return;
		}
	}
	tcp_progress(q);
}

static void tcp_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct query *q = arg;
	if (q->state == TRY_TCP_READING)
		tcp_read(q);
	else
		tcp_write(q);
}

/* Goes over to TCP, or reports why it cannot. */
static void go_tcp(struct query *q)
{
	enum upstream_status st = tcp_start(q);
	if (st != UPSTREAM_OK)
		fail(q, st, failure_counter(st));
}

/* ---- UDP ---- */

/*
 * True if the socket's error queue holds an ICMP error for a datagram we sent to the target. The
 * queue is drained either way: while it holds anything the socket stays readable (EPOLLERR).
 */
static bool udp_target_unreachable(struct query *q)
{
	bool unreachable = false;
	for (int i = 0; i < UDP_READS_PER_CB; i++) {
		struct sockaddr_storage sent_to;
		uint8_t ctl[512];
		uint8_t data[64];
		struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
		struct msghdr mh = {.msg_name = &sent_to,
				    .msg_namelen = sizeof(sent_to),
				    .msg_iov = &iov,
				    .msg_iovlen = 1,
				    .msg_control = ctl,
				    .msg_controllen = sizeof(ctl)};
		if (recvmsg(q->fd, &mh, MSG_ERRQUEUE) < 0)
			break;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			bool v4 = cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR;
			bool v6 = cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR;
			if (!v4 && !v6)
				continue;
			const struct sock_extended_err *ee = (const void *)CMSG_DATA(cm);
			bool icmp = ee->ee_origin == SO_EE_ORIGIN_ICMP ||
				    ee->ee_origin == SO_EE_ORIGIN_ICMP6;
			/* too big for a hop is not unreachable: the answer may still come */
			if (icmp && ee->ee_errno != EMSGSIZE && sa_same(&sent_to, &q->dst))
				unreachable = true;
		}
	}
	return unreachable;
}

static void udp_event(evutil_socket_t fd, short what, void *arg)
{
	(void)what;
	struct query *q = arg;
	struct upstream *u = q->u;
	for (int i = 0; i < UDP_READS_PER_CB; i++) {
		struct sockaddr_storage from;
		socklen_t fl = sizeof(from);
		ssize_t n =
		    recvfrom(fd, u->scratch, sizeof(u->scratch), 0, (struct sockaddr *)&from, &fl);
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n < 0) {
			/* an ICMP error (IP_RECVERR): the target's, or someone else's to ignore */
			if (udp_target_unreachable(q)) {
				fail(q, UPSTREAM_UNREACHABLE, UPSTREAM_C_UNREACHABLE);
				return;
			}
			continue;
		}
		if (!sa_same(&from, &q->dst)) {
			count(u, UPSTREAM_C_MISMATCHED);
			continue;
		}
		bool truncated = false;
		enum upstream_counter why = check_answer(q, u->scratch, (size_t)n, &truncated);
		if (why != UPSTREAM_C__COUNT) {
			count(u, why);
			continue;
		}
		if (truncated) {
			count(u, UPSTREAM_C_TRUNCATED_TO_TCP);
			go_tcp(q);
		} else {
			finish(q, UPSTREAM_OK, u->scratch, (size_t)n, false);
		}
		return;
	}
}

static int bind_port(int fd, struct sockaddr_storage *src, uint16_t port)
{
	sa_set_port(src, port);
	return bind(fd, (struct sockaddr *)src, sa_len(src));
}

/* Binds a random free port in the range: random tries first, then a sweep from a random start. */
static enum upstream_status bind_udp_port(struct query *q)
{
	struct upstream *u = q->u;
	struct sockaddr_storage src = q->src;
	uint32_t span = (uint32_t)u->port_hi - u->port_lo + 1;
	for (uint32_t i = 0; i < PORT_RANDOM_TRIES && i < span; i++) {
		uint16_t port = (uint16_t)(u->port_lo + rng_next(u) % span);
		if (bind_port(q->fd, &src, port) == 0)
			return UPSTREAM_OK;
		if (errno != EADDRINUSE)
			return UPSTREAM_SOCKET_FAILED;
	}
	uint32_t start = (uint32_t)(rng_next(u) % span);
	for (uint32_t i = 0; i < span; i++) {
		uint16_t port = (uint16_t)(u->port_lo + (start + i) % span);
		if (bind_port(q->fd, &src, port) == 0)
			return UPSTREAM_OK;
		if (errno != EADDRINUSE)
			return UPSTREAM_SOCKET_FAILED;
	}
	return UPSTREAM_NO_PORT;
}

static enum upstream_status udp_start(struct query *q)
{
	q->state = TRY_UDP;
	new_try_id(q);
	q->fd = open_socket(q, SOCK_DGRAM);
	if (q->fd < 0)
		return UPSTREAM_SOCKET_FAILED;
	enum upstream_status st = bind_udp_port(q);
	if (st != UPSTREAM_OK)
		return st;
	/* an unreachable target fails the try at once rather than at its timeout */
	int one = 1;
	if (q->src.ss_family == AF_INET6)
		setsockopt(q->fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof(one));
	else
		setsockopt(q->fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one));
	/* not connected: answers from elsewhere must reach us to be counted as spoofed */
	if (sendto(q->fd, q->msg, q->len, 0, (struct sockaddr *)&q->dst, sa_len(&q->dst)) !=
		(ssize_t)q->len ||
	    !watch(q, EV_READ, udp_event))
		return UPSTREAM_SOCKET_FAILED;
	count(q->u, UPSTREAM_C_SENT_UDP);
	arm_timer(q, (uint64_t)q->timeout_ms * 1000000ull);
	return UPSTREAM_OK;
}

static void timer_event(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct query *q = arg;
	if (q->pending != UPSTREAM_OK)
		fail(q, q->pending, failure_counter(q->pending));
	else
		fail(q, UPSTREAM_TIMEOUT, UPSTREAM_C_TIMEOUTS);
}

/* ---- the face ---- */

static bool valid_request(const struct upstream_req *r, struct wire_dns_msg *m)
{
	sa_family_t f = r->src.ss_family;
	if ((f != AF_INET && f != AF_INET6) || r->dst.ss_family != f || r->len > TCP_ANSWER_MAX ||
	    r->timeout_ms == 0)
		return false;
	if (r->device && strlen(r->device) >= IF_NAMESIZE)
		return false;
	return wire_dns_parse_query(r->query, r->len, m) == WIRE_OK;
}

static enum upstream_status refuse(struct upstream *u, enum upstream_status st,
				   enum upstream_counter c)
{
	count(u, c);
	return st;
}

static struct query *take_slot(struct upstream *u, size_t len)
{
	struct query *q = &u->slots[u->free_head];
	u->free_head = q->next_free;
	u->inflight++;
	q->busy = true;
	q->io = NULL;
	q->fd = -1;
	q->pending = UPSTREAM_OK;
	q->answer = NULL;
	q->timer = event_new(u->base, -1, 0, timer_event, q);
	q->len = len;
	q->wire = malloc(len + 2);
	return q;
}

enum upstream_status upstream_send(struct upstream *u, const struct upstream_req *r,
				   upstream_done_fn *done, void *arg,
				   struct upstream_handle *handle)
{
	struct wire_dns_msg m;
	if (!valid_request(r, &m))
		return refuse(u, UPSTREAM_BAD_QUERY, UPSTREAM_C_BAD_QUERIES);
	if (u->free_head == UINT32_MAX)
		return refuse(u, UPSTREAM_BUSY, UPSTREAM_C_BUSY);
	struct query *q = take_slot(u, r->len);
	if (!q->timer || !q->wire) {
		release(q);
		return refuse(u, UPSTREAM_SOCKET_FAILED, UPSTREAM_C_SOCKET_FAILED);
	}
	q->msg = q->wire + 2;
	put_be16(q->wire, (uint16_t)r->len);
	memcpy(q->msg, r->query, r->len);
	q->parsed = m;
	q->caller_id = be16(r->query);
	q->src = r->src;
	q->dst = r->dst;
	snprintf(q->device, sizeof(q->device), "%s", r->device ? r->device : "");
	q->timeout_ms = r->timeout_ms;
	q->done = done;
	q->arg = arg;

	enum upstream_status st = r->tcp_only ? tcp_start(q) : udp_start(q);
	if (st == UPSTREAM_CONNECT_FAILED) {
		/* a refusal known at once is still the loop's to report, like one known later */
		q->pending = st;
		event_active(q->timer, EV_TIMEOUT, 1);
	} else if (st != UPSTREAM_OK) {
		release(q);
		return refuse(
		    u, st, st == UPSTREAM_NO_PORT ? UPSTREAM_C_NO_PORT : UPSTREAM_C_SOCKET_FAILED);
	}
	if (handle)
		*handle = (struct upstream_handle){.slot = (uint32_t)(q - u->slots), .gen = q->gen};
	return UPSTREAM_OK;
}
