/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/tcpserve: listeners with their own accept loop, connections in preallocated slots (a
 * bufferevent each, an idle timer and a resume event), replies checked by connection and query
 * generations. See tcpserve.h.
 *
 * At max_conns the connection idle longest is closed for the new one rather than the new one
 * refused: otherwise anyone could hold every slot with idle connections for a whole idle timeout
 * and lock every other client out, while an idle client loses nothing it cannot reopen (RFC 7766
 * 6.2.3 lets a server close idle connections at will). Only when every connection has queries in
 * flight is a new one refused.
 */
#include "ctl/tcpserve/tcpserve.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <net/if.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#define DNS_HLEN	12
#define FRAME_MAX	(2 + 65535)
#define ACCEPTS_PER_CB	64  /* connections taken per wake-up, so a flood cannot starve the loop */
#define ACCEPT_PAUSE_MS 100 /* after running out of descriptors, before accepting again */
#define LISTEN_BACKLOG	1024
#define NO_SLOT		UINT32_MAX

enum close_reason {
	CLOSE_CLIENT = TCPSERVE_C_CLOSED_BY_CLIENT,
	CLOSE_ERROR = TCPSERVE_C_CLOSED_ERROR,
	CLOSE_IDLE = TCPSERVE_C_CLOSED_IDLE,
	CLOSE_OUTPUT = TCPSERVE_C_CLOSED_OUTPUT,
	CLOSE_FRAMING = TCPSERVE_C_CLOSED_FRAMING,
	CLOSE_EVICTED = TCPSERVE_C_CLOSED_EVICTED,
	CLOSE_SHUTDOWN = TCPSERVE_C_CLOSED_SHUTDOWN,
};

struct conn {
	struct tcpserve *ts;
	uint32_t gen; /* bumped at close: every handle to this connection goes stale */
	bool open;
	bool in_use; /* open, or closed inside its own dispatch and not yet released */
	uint32_t next_free;

	struct bufferevent *bev;
	struct event *idle, *resume;
	struct sockaddr_storage client, local;
	int listener;

	unsigned outstanding;
	uint32_t *query_gen; /* max_outstanding of them; 0: free */
	bool paused;	     /* not read: max_outstanding reached */
	bool read_eof;	     /* the client shut its side; replies still go out */
	bool dispatching;    /* inside the handler loop: release waits for it to end */

	bool in_idle_list; /* no query outstanding: a candidate for the idle timer and eviction */
	TAILQ_ENTRY(conn) idle_link;
};

TAILQ_HEAD(conn_list, conn);

struct listener {
	struct tcpserve *ts;
	int index;
	int fd;
	struct event *ev, *pause;
	struct sockaddr_storage addr;
	uint32_t vpc;
	void *cookie;
};

struct tcpserve {
	struct tcpserve_params p;
	struct conn *conns;
	uint32_t *query_gens;
	uint32_t free_head;
	unsigned nconns;
	uint32_t next_query_gen;
	struct conn_list idle; /* least recently active first */
	struct listener **listeners;
	int nlisteners;
	uint64_t counters[TCPSERVE_C__COUNT];
};

static const char *const counter_names[TCPSERVE_C__COUNT] = {
    [TCPSERVE_C_ACCEPTED] = "accepted",
    [TCPSERVE_C_REFUSED] = "refused",
    [TCPSERVE_C_ACCEPT_ERRORS] = "accept_errors",
    [TCPSERVE_C_CLOSED_BY_CLIENT] = "closed_by_client",
    [TCPSERVE_C_CLOSED_ERROR] = "closed_error",
    [TCPSERVE_C_CLOSED_IDLE] = "closed_idle",
    [TCPSERVE_C_CLOSED_OUTPUT] = "closed_output",
    [TCPSERVE_C_CLOSED_FRAMING] = "closed_framing",
    [TCPSERVE_C_CLOSED_EVICTED] = "closed_evicted",
    [TCPSERVE_C_CLOSED_SHUTDOWN] = "closed_shutdown",
    [TCPSERVE_C_QUERIES] = "queries",
    [TCPSERVE_C_REPLIES] = "replies",
    [TCPSERVE_C_REPLIES_DROPPED] = "replies_dropped",
    [TCPSERVE_C_QUERIES_DROPPED] = "queries_dropped",
    [TCPSERVE_C_READ_PAUSED] = "read_paused",
};

const char *tcpserve_counter_name(enum tcpserve_counter c)
{
	return (unsigned)c < TCPSERVE_C__COUNT ? counter_names[c] : "?";
}

uint64_t tcpserve_counter(const struct tcpserve *ts, enum tcpserve_counter c)
{
	return (unsigned)c < TCPSERVE_C__COUNT ? ts->counters[c] : 0;
}

unsigned tcpserve_conns(const struct tcpserve *ts)
{
	return ts->nconns;
}

static void count(struct tcpserve *ts, enum tcpserve_counter c)
{
	ts->counters[c]++;
}

static void arm_ms(struct event *ev, uint32_t ms)
{
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (suseconds_t)(ms % 1000) * 1000};
	event_add(ev, &tv);
}

/* ---- the idle list: connections with nothing outstanding, least recently active first ---- */

/* The connection's idle clock starts (again) now: at accept, when its last query is answered, and
 * when its output has all gone out. Bytes of a message still incomplete do not count, so a client
 * that trickles a query in cannot hold its connection past the timeout. */
static void idle_enter(struct conn *c)
{
	if (c->in_idle_list)
		TAILQ_REMOVE(&c->ts->idle, c, idle_link);
	TAILQ_INSERT_TAIL(&c->ts->idle, c, idle_link);
	c->in_idle_list = true;
	arm_ms(c->idle, c->ts->p.idle_timeout_ms);
}

static void idle_leave(struct conn *c)
{
	if (c->in_idle_list) {
		TAILQ_REMOVE(&c->ts->idle, c, idle_link);
		c->in_idle_list = false;
	}
	event_del(c->idle);
}

/* ---- closing ---- */

static void conn_release(struct conn *c)
{
	struct tcpserve *ts = c->ts;
	bufferevent_free(c->bev); /* closes the socket */
	c->bev = NULL;
	c->in_use = false;
	c->next_free = ts->free_head;
	ts->free_head = (uint32_t)(c - ts->conns);
	ts->nconns--;
}

/* Closes at once for replies (they are dropped from now on); the memory waits for dispatch. */
static void conn_close(struct conn *c, enum close_reason why)
{
	if (!c->open)
		return;
	c->open = false;
	c->gen++;
	count(c->ts, (enum tcpserve_counter)why);
	idle_leave(c);
	event_del(c->resume);
	memset(c->query_gen, 0, c->ts->p.max_outstanding * sizeof(*c->query_gen));
	c->outstanding = 0;
	if (!c->dispatching)
		conn_release(c);
}

static bool output_empty(const struct conn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev)) == 0;
}

/* A client that shut its side is closed once its last reply is out. */
static void close_if_done(struct conn *c)
{
	if (c->open && c->read_eof && c->outstanding == 0 && output_empty(c))
		conn_close(c, CLOSE_CLIENT);
}

/* ---- reading queries ---- */

static uint32_t take_query_slot(struct conn *c)
{
	struct tcpserve *ts = c->ts;
	for (uint32_t i = 0; i < ts->p.max_outstanding; i++) {
		if (c->query_gen[i] == 0) {
			if (++ts->next_query_gen == 0)
				ts->next_query_gen = 1;
			c->query_gen[i] = ts->next_query_gen;
			return i;
		}
	}
	return NO_SLOT;
}

static void pause_reading(struct conn *c)
{
	if (!c->paused) {
		c->paused = true;
		bufferevent_disable(c->bev, EV_READ);
		count(c->ts, TCPSERVE_C_READ_PAUSED);
	}
}

/* One whole message from the input, to the handler. False when there is none (or the end). */
static bool dispatch_one(struct conn *c)
{
	struct tcpserve *ts = c->ts;
	struct evbuffer *in = bufferevent_get_input(c->bev);
	uint8_t prefix[2];
	if (evbuffer_copyout(in, prefix, 2) != 2)
		return false;
	size_t len = (size_t)prefix[0] << 8 | prefix[1];
	if (len < DNS_HLEN) {
		conn_close(c, CLOSE_FRAMING);
		return false;
	}
	if (evbuffer_get_length(in) < 2 + len)
		return false;
	const uint8_t *frame = evbuffer_pullup(in, (ev_ssize_t)(2 + len));
	uint32_t slot = take_query_slot(c);
	if (!frame || slot == NO_SLOT)
		return false;
	if (c->outstanding++ == 0)
		idle_leave(c);
	struct listener *l = ts->listeners[c->listener];
	struct tcpserve_query q = {
	    .msg = frame + 2,
	    .len = len,
	    .client = &c->client,
	    .local = &c->local,
	    .vpc = l->vpc,
	    .cookie = l->cookie,
	    .handle = {.conn = (uint32_t)(c - ts->conns),
		       .conn_gen = c->gen,
		       .query = slot,
		       .query_gen = c->query_gen[slot]},
	};
	count(ts, TCPSERVE_C_QUERIES);
	ts->p.handler(ts->p.arg, &q);
	if (c->open)
		evbuffer_drain(in, 2 + len);
	return c->open;
}

/* Hands every whole message to the handler, up to max_outstanding; then reading pauses. */
static void dispatch(struct conn *c)
{
	c->dispatching = true;
	while (c->open && c->outstanding < c->ts->p.max_outstanding && dispatch_one(c))
		;
	c->dispatching = false;
	if (!c->open) {
		conn_release(c);
		return;
	}
	if (c->outstanding >= c->ts->p.max_outstanding)
		pause_reading(c);
	close_if_done(c);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	(void)bev;
	dispatch(arg);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	(void)bev;
	struct conn *c = arg;
	if (c->in_idle_list)
		idle_enter(c);
	close_if_done(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	struct conn *c = arg;
	if (what & BEV_EVENT_ERROR) {
		conn_close(c, CLOSE_ERROR);
	} else if (what & BEV_EVENT_EOF) {
		c->read_eof = true;
		/* a partial message left at the end can never complete */
		if (c->outstanding == 0 && output_empty(c))
			conn_close(c, CLOSE_CLIENT);
	}
}

static void on_idle(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	conn_close(arg, CLOSE_IDLE);
}

static void on_resume(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct conn *c = arg;
	if (c->open)
		dispatch(c);
}

/* ---- replies ---- */

/* The live query h names, or NULL (counted) when it is gone. */
static struct conn *find_query(struct tcpserve *ts, struct tcpserve_handle h)
{
	struct conn *c = h.conn < ts->p.max_conns ? &ts->conns[h.conn] : NULL;
	if (!c || !c->open || c->gen != h.conn_gen || h.query >= ts->p.max_outstanding ||
	    h.query_gen == 0 || c->query_gen[h.query] != h.query_gen) {
		count(ts, TCPSERVE_C_REPLIES_DROPPED);
		return NULL;
	}
	return c;
}

static void query_done(struct conn *c, uint32_t slot)
{
	c->query_gen[slot] = 0;
	bool was_full = c->outstanding-- >= c->ts->p.max_outstanding;
	if (c->outstanding == 0)
		idle_enter(c);
	if (was_full && c->paused) {
		/* what the client sent meanwhile may already be buffered: read it from the loop */
		c->paused = false;
		bufferevent_enable(c->bev, EV_READ);
		event_active(c->resume, EV_TIMEOUT, 1);
	}
}

int tcpserve_reply(struct tcpserve *ts, struct tcpserve_handle h, const uint8_t *msg, size_t len)
{
	if (len > 65535)
		return -1;
	struct conn *c = find_query(ts, h);
	if (!c)
		return 1;
	struct evbuffer *out = bufferevent_get_output(c->bev);
	uint8_t prefix[2] = {(uint8_t)(len >> 8), (uint8_t)len};
	if (evbuffer_add(out, prefix, 2) != 0 || evbuffer_add(out, msg, len) != 0) {
		conn_close(c, CLOSE_ERROR);
		return 0;
	}
	count(ts, TCPSERVE_C_REPLIES);
	query_done(c, h.query);
	if (evbuffer_get_length(out) > ts->p.max_output)
		conn_close(c, CLOSE_OUTPUT);
	return 0;
}

int tcpserve_drop(struct tcpserve *ts, struct tcpserve_handle h)
{
	struct conn *c = find_query(ts, h);
	if (!c)
		return 1;
	count(ts, TCPSERVE_C_QUERIES_DROPPED);
	query_done(c, h.query);
	close_if_done(c);
	return 0;
}

/* ---- accepting ---- */

static struct conn *free_slot(struct tcpserve *ts)
{
	if (ts->free_head == NO_SLOT && !TAILQ_EMPTY(&ts->idle)) {
		struct conn *oldest = TAILQ_FIRST(&ts->idle);
		conn_close(oldest, CLOSE_EVICTED);
		if (oldest->in_use)
			return NULL; /* closing inside its own dispatch: no slot yet */
	}
	if (ts->free_head == NO_SLOT)
		return NULL;
	struct conn *c = &ts->conns[ts->free_head];
	ts->free_head = c->next_free;
	return c;
}

static bool conn_open(struct tcpserve *ts, struct conn *c, int fd, int listener)
{
	int one = 1;
	/* pipelined replies go out as they are ready, not when the previous one is acked */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (ts->p.sndbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &ts->p.sndbuf, sizeof(ts->p.sndbuf));
	socklen_t sl = sizeof(c->client);
	getpeername(fd, (struct sockaddr *)&c->client, &sl);
	sl = sizeof(c->local);
	getsockname(fd, (struct sockaddr *)&c->local, &sl);
	c->bev = bufferevent_socket_new(ts->p.base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!c->bev)
		return false;
	c->in_use = c->open = true;
	c->listener = listener;
	c->outstanding = 0;
	c->paused = c->read_eof = c->dispatching = false;
	ts->nconns++;
	bufferevent_setcb(c->bev, on_read, on_write, on_event, c);
	/* bounds what one connection buffers: a paused connection reads nothing more at all */
	bufferevent_setwatermark(c->bev, EV_READ, 0, 2 * FRAME_MAX);
	bufferevent_enable(c->bev, EV_READ | EV_WRITE);
	idle_enter(c);
	count(ts, TCPSERVE_C_ACCEPTED);
	return true;
}

static void give_back(struct tcpserve *ts, struct conn *c)
{
	c->next_free = ts->free_head;
	ts->free_head = (uint32_t)(c - ts->conns);
}

static void on_accept(evutil_socket_t lfd, short what, void *arg)
{
	(void)what;
	struct listener *l = arg;
	struct tcpserve *ts = l->ts;
	for (int i = 0; i < ACCEPTS_PER_CB; i++) {
		int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EAGAIN || errno == EINTR)
				return;
			count(ts, TCPSERVE_C_ACCEPT_ERRORS);
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
			    errno == ENOMEM) {
				/* the pending connection stays readable: stop spinning on it */
				event_del(l->ev);
				arm_ms(l->pause, ACCEPT_PAUSE_MS);
				return;
			}
			continue;
		}
		struct conn *c = free_slot(ts);
		if (!c) {
			count(ts, TCPSERVE_C_REFUSED);
			close(fd);
			continue;
		}
		if (!conn_open(ts, c, fd, l->index)) {
			count(ts, TCPSERVE_C_ACCEPT_ERRORS);
			close(fd);
			give_back(ts, c);
		}
	}
}

static void on_accept_pause_end(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct listener *l = arg;
	event_add(l->ev, NULL);
}

/* ---- listeners ---- */

static socklen_t sa_len(const struct sockaddr_storage *ss)
{
	return ss->ss_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static int listen_socket(const struct tcpserve_listener *cfg, char *err, size_t errlen)
{
	int fd = socket(cfg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		snprintf(err, errlen, "tcpserve: socket: %s", strerror(errno));
		return -1;
	}
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* the resolver addresses live on the daemon's interface, which may come up after us */
	setsockopt(fd, IPPROTO_IP, IP_FREEBIND, &one, sizeof(one));
	if (cfg->addr.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
	const char *what = NULL;
	if (cfg->device && setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, cfg->device,
				      (socklen_t)strlen(cfg->device)) != 0)
		what = "SO_BINDTODEVICE";
	else if (bind(fd, (const struct sockaddr *)&cfg->addr, sa_len(&cfg->addr)) != 0)
		what = "bind";
	else if (listen(fd, LISTEN_BACKLOG) != 0)
		what = "listen";
	if (what) {
		snprintf(err, errlen, "tcpserve: %s: %s", what, strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

/* Stops accepting; the struct stays, since connections it accepted read its tags. */
static void listener_close(struct listener *l)
{
	if (l->ev)
		event_free(l->ev);
	if (l->pause)
		event_free(l->pause);
	if (l->fd >= 0)
		close(l->fd);
	l->ev = l->pause = NULL;
	l->fd = -1;
}

static void listener_free(struct listener *l)
{
	listener_close(l);
	free(l);
}

int tcpserve_listen(struct tcpserve *ts, const struct tcpserve_listener *cfg, char *err,
		    size_t errlen)
{
	sa_family_t f = cfg->addr.ss_family;
	if (f != AF_INET && f != AF_INET6) {
		snprintf(err, errlen, "tcpserve: an IPv4 or IPv6 address is needed");
		return -1;
	}
	struct listener **grown =
	    realloc(ts->listeners, (size_t)(ts->nlisteners + 1) * sizeof(*grown));
	struct listener *l = calloc(1, sizeof(*l));
	if (grown)
		ts->listeners = grown;
	if (!grown || !l) {
		snprintf(err, errlen, "tcpserve: out of memory");
		free(l);
		return -1;
	}
	l->ts = ts;
	l->index = ts->nlisteners;
	l->vpc = cfg->vpc;
	l->cookie = cfg->cookie;
	l->fd = listen_socket(cfg, err, errlen);
	if (l->fd < 0) {
		listener_free(l);
		return -1;
	}
	socklen_t sl = sizeof(l->addr);
	getsockname(l->fd, (struct sockaddr *)&l->addr, &sl);
	l->ev = event_new(ts->p.base, l->fd, EV_READ | EV_PERSIST, on_accept, l);
	l->pause = event_new(ts->p.base, -1, 0, on_accept_pause_end, l);
	if (!l->ev || !l->pause || event_add(l->ev, NULL) != 0) {
		snprintf(err, errlen, "tcpserve: event: out of memory");
		listener_free(l);
		return -1;
	}
	ts->listeners[ts->nlisteners++] = l;
	return l->index;
}

bool tcpserve_unlisten(struct tcpserve *ts, int index)
{
	if (index < 0 || index >= ts->nlisteners || ts->listeners[index]->fd < 0)
		return false;
	listener_close(ts->listeners[index]);
	return true;
}

bool tcpserve_listener_addr(const struct tcpserve *ts, int index, struct sockaddr_storage *out)
{
	if (index < 0 || index >= ts->nlisteners || ts->listeners[index]->fd < 0)
		return false;
	*out = ts->listeners[index]->addr;
	return true;
}

/* ---- life ---- */

static bool conns_init(struct tcpserve *ts)
{
	unsigned n = ts->p.max_conns;
	ts->conns = calloc(n, sizeof(*ts->conns));
	ts->query_gens = calloc((size_t)n * ts->p.max_outstanding, sizeof(*ts->query_gens));
	if (!ts->conns || !ts->query_gens)
		return false;
	for (unsigned i = 0; i < n; i++) {
		struct conn *c = &ts->conns[i];
		c->ts = ts;
		c->gen = 1;
		c->query_gen = ts->query_gens + (size_t)i * ts->p.max_outstanding;
		c->next_free = i + 1 < n ? i + 1 : NO_SLOT;
		c->idle = event_new(ts->p.base, -1, 0, on_idle, c);
		c->resume = event_new(ts->p.base, -1, 0, on_resume, c);
		if (!c->idle || !c->resume)
			return false;
	}
	ts->free_head = 0;
	return true;
}

static void apply_defaults(struct tcpserve_params *p)
{
	if (!p->max_conns)
		p->max_conns = TCPSERVE_DEFAULT_CONNS;
	if (!p->max_outstanding)
		p->max_outstanding = TCPSERVE_DEFAULT_OUTSTANDING;
	if (!p->max_output)
		p->max_output = TCPSERVE_DEFAULT_OUTPUT;
	if (!p->idle_timeout_ms)
		p->idle_timeout_ms = TCPSERVE_DEFAULT_IDLE_MS;
}

struct tcpserve *tcpserve_new(const struct tcpserve_params *params, char *err, size_t errlen)
{
	struct tcpserve_params p = *params;
	apply_defaults(&p);
	if (!p.base || !p.handler) {
		snprintf(err, errlen, "tcpserve: an event base and a handler are needed");
		return NULL;
	}
	if (p.max_output < FRAME_MAX) {
		snprintf(err, errlen, "tcpserve: max_output %zu is below one whole reply (%d)",
			 p.max_output, FRAME_MAX);
		return NULL;
	}
	struct tcpserve *ts = calloc(1, sizeof(*ts));
	if (!ts) {
		snprintf(err, errlen, "tcpserve: out of memory");
		return NULL;
	}
	ts->p = p;
	TAILQ_INIT(&ts->idle);
	if (!conns_init(ts)) {
		snprintf(err, errlen, "tcpserve: out of memory for %u connections", p.max_conns);
		tcpserve_free(ts);
		return NULL;
	}
	return ts;
}

void tcpserve_free(struct tcpserve *ts)
{
	if (!ts)
		return;
	for (unsigned i = 0; ts->conns && i < ts->p.max_conns; i++) {
		struct conn *c = &ts->conns[i];
		if (c->open)
			conn_close(c, CLOSE_SHUTDOWN);
		if (c->idle)
			event_free(c->idle);
		if (c->resume)
			event_free(c->resume);
	}
	for (int i = 0; i < ts->nlisteners; i++)
		listener_free(ts->listeners[i]);
	free(ts->listeners);
	free(ts->query_gens);
	free(ts->conns);
	free(ts);
}
