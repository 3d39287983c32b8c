/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/recurse: libunbound on the control core's event_base. Each resolution is one malloc'd
 * recurse_query on a list (so destroy can end them) with a timer that serves both as its deadline
 * and, when unbound answers from inside ub_resolve_event (cache hits, local data), as the deferral
 * that keeps done out of the caller's own call.
 */
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <unbound-event.h>
#include <unbound.h>

#include "ctl/recurse/recurse.h"

#define DNS_HEADER_LEN 12
#define DNS_NAME_MAX   255
#define DNS_FLAGS_QR   0x8000u
#define DNS_FLAGS_RD   0x0100u
#define DNS_FLAGS_RA   0x0080u
#define RCODE_NOERROR  0
#define RCODE_SERVFAIL 2
#define RCODE_NXDOMAIN 3
/* "\\DDD" per octet at worst, a dot per label, the NUL */
#define NAME_TEXT_MAX (DNS_NAME_MAX * 4 + 2)

enum query_state {
	QUERY_STARTING, /* inside ub_resolve_event: an answer now must wait for the loop */
	QUERY_RUNNING,
	QUERY_ANSWERED_EARLY, /* answered while starting: the timer delivers the copy */
};

struct recurse_query {
	TAILQ_ENTRY(recurse_query) link;
	struct recurse *r;
	recurse_done_fn done;
	void *arg;
	struct event *timer;
	int ub_id;
	enum query_state state;
	enum recurse_status early_status;
	uint8_t *early_answer;
	size_t early_len;
	uint16_t qtype, qclass;
	size_t qname_len;
	uint8_t qname[DNS_NAME_MAX];
};

struct recurse {
	struct ub_ctx *ctx;
	struct event_base *base;
	uint32_t max_inflight;
	uint32_t timeout_ms;
	uint32_t inflight;
	TAILQ_HEAD(, recurse_query) queries;
	uint64_t counters[RECURSE__COUNTERS];
};

const char *recurse_counter_name(enum recurse_counter c)
{
	static const char *const names[RECURSE__COUNTERS] = {
	    [RECURSE_STARTED] = "started",
	    [RECURSE_ANSWERED_NOERROR] = "answered_noerror",
	    [RECURSE_ANSWERED_NXDOMAIN] = "answered_nxdomain",
	    [RECURSE_ANSWERED_SERVFAIL] = "answered_servfail",
	    [RECURSE_ANSWERED_OTHER] = "answered_other",
	    [RECURSE_FAILED_UNBOUND] = "failed_unbound",
	    [RECURSE_TIMEOUTS] = "timeouts",
	    [RECURSE_REFUSED_LIMIT] = "refused_limit",
	    [RECURSE_REFUSED_NAME] = "refused_name",
	    [RECURSE_CANCELLED] = "cancelled",
	};
	return (unsigned)c < RECURSE__COUNTERS ? names[c] : "?";
}

uint64_t recurse_counter(const struct recurse *r, enum recurse_counter c)
{
	return (unsigned)c < RECURSE__COUNTERS ? r->counters[c] : 0;
}

uint32_t recurse_inflight(const struct recurse *r)
{
	return r->inflight;
}

/* --- creating --- */

static bool set_option(struct recurse *r, const char *option, const char *value, char *err,
		       size_t errlen)
{
	int rc = ub_ctx_set_option(r->ctx, option, value);
	if (rc != 0)
		snprintf(err, errlen, "unbound refuses %s %s: %s", option, value, ub_strerror(rc));
	return rc == 0;
}

static bool set_options(struct recurse *r, const struct recurse_params *p, char *err, size_t errlen)
{
	char value[64];
	/* No validator: BEHAVIOUR.md's resolver never validates, never sets AD; the iterator alone
	 * also never asks with DO and sends no EDNS Client Subnet (that is the subnetcache module).
	 */
	if (!set_option(r, "module-config:", "iterator", err, errlen) ||
	    !set_option(r, "qname-minimisation:", p->qname_minimisation ? "yes" : "no", err,
			errlen) ||
	    !set_option(r, "do-not-query-localhost:", p->query_localhost ? "no" : "yes", err,
			errlen))
		return false;
	if (p->root_hints && !set_option(r, "root-hints:", p->root_hints, err, errlen))
		return false;
	for (size_t i = 0; i < p->n_source_addresses; i++)
		if (!set_option(r, "outgoing-interface:", p->source_addresses[i], err, errlen))
			return false;
	if (p->source_port_min) {
		snprintf(value, sizeof(value), "%u-%u", p->source_port_min, p->source_port_max);
		/* applied in order: close every port, then open the range */
		if (!set_option(r, "outgoing-port-avoid:", "0-65535", err, errlen) ||
		    !set_option(r, "outgoing-port-permit:", value, err, errlen))
			return false;
	}
	/* unbound's own advice: the RRset cache twice the message cache */
	snprintf(value, sizeof(value), "%llu", (unsigned long long)(p->cache_max_bytes / 3));
	if (!set_option(r, "msg-cache-size:", value, err, errlen))
		return false;
	snprintf(value, sizeof(value), "%llu",
		 (unsigned long long)(p->cache_max_bytes - p->cache_max_bytes / 3));
	if (!set_option(r, "rrset-cache-size:", value, err, errlen))
		return false;
	/* unbound would otherwise drop the oldest of its own queries past its default of 1024 */
	snprintf(value, sizeof(value), "%u", p->max_inflight);
	return set_option(r, "num-queries-per-thread:", value, err, errlen);
}

struct recurse *recurse_create(struct event_base *base, const struct recurse_params *params,
			       char *err, size_t errlen)
{
	struct recurse *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	TAILQ_INIT(&r->queries);
	r->base = base;
	r->max_inflight = params->max_inflight;
	r->timeout_ms = params->timeout_ms;
	r->ctx = ub_ctx_create_event(base);
	if (!r->ctx) {
		snprintf(err, errlen, "ub_ctx_create_event failed (libunbound without libevent?)");
		free(r);
		return NULL;
	}
	if (!set_options(r, params, err, errlen)) {
		recurse_destroy(r);
		return NULL;
	}
	return r;
}

static void query_free(struct recurse *r, struct recurse_query *q)
{
	TAILQ_REMOVE(&r->queries, q, link);
	r->inflight--;
	event_free(q->timer);
	free(q->early_answer);
	free(q);
}

void recurse_destroy(struct recurse *r)
{
	if (!r)
		return;
	struct recurse_query *q;
	while ((q = TAILQ_FIRST(&r->queries))) {
		if (q->state == QUERY_RUNNING)
			ub_cancel(r->ctx, q->ub_id);
		query_free(r, q);
	}
	ub_ctx_delete(r->ctx);
	free(r);
}

/* --- answers --- */

/* A message of the question alone with that rcode: what the client gets when unbound has none. */
static size_t make_error(const struct recurse_query *q, uint8_t rcode, uint8_t *buf)
{
	uint16_t flags = DNS_FLAGS_QR | DNS_FLAGS_RD | DNS_FLAGS_RA | (rcode & 0xf);
	memset(buf, 0, DNS_HEADER_LEN);
	buf[2] = (uint8_t)(flags >> 8);
	buf[3] = (uint8_t)flags;
	buf[5] = 1; /* QDCOUNT */
	memcpy(buf + DNS_HEADER_LEN, q->qname, q->qname_len);
	uint8_t *tail = buf + DNS_HEADER_LEN + q->qname_len;
	tail[0] = (uint8_t)(q->qtype >> 8);
	tail[1] = (uint8_t)q->qtype;
	tail[2] = (uint8_t)(q->qclass >> 8);
	tail[3] = (uint8_t)q->qclass;
	return DNS_HEADER_LEN + q->qname_len + 4;
}

static void count_answer(struct recurse *r, enum recurse_status status, const uint8_t *answer,
			 size_t len)
{
	if (status == RECURSE_TIMED_OUT) {
		r->counters[RECURSE_TIMEOUTS]++;
		return;
	}
	if (status == RECURSE_FAILED || len < DNS_HEADER_LEN) {
		r->counters[RECURSE_FAILED_UNBOUND]++;
		return;
	}
	switch (answer[3] & 0xf) {
	case RCODE_NOERROR:
		r->counters[RECURSE_ANSWERED_NOERROR]++;
		break;
	case RCODE_NXDOMAIN:
		r->counters[RECURSE_ANSWERED_NXDOMAIN]++;
		break;
	case RCODE_SERVFAIL:
		r->counters[RECURSE_ANSWERED_SERVFAIL]++;
		break;
	default:
		r->counters[RECURSE_ANSWERED_OTHER]++;
	}
}

/* Counts, hands the answer over and forgets the query; done may start or cancel others. */
static void deliver(struct recurse_query *q, enum recurse_status status, const uint8_t *answer,
		    size_t len)
{
	struct recurse *r = q->r;
	count_answer(r, status, answer, len);
	recurse_done_fn done = q->done;
	void *arg = q->arg;
	/* freed first, so that done finds room for a resolution of its own */
	uint8_t *keep = q->early_answer;
	q->early_answer = NULL;
	query_free(r, q);
	done(arg, status, answer, len);
	free(keep);
}

/* unbound's callback. A nonzero rcode (in practice SERVFAIL) comes without a message: the
 * iteration's verdict all the same, so the message is made here. */
static void on_unbound(void *mydata, int rcode, void *packet, int packet_len, int sec,
		       char *why_bogus, int was_ratelimited)
{
	(void)sec;
	(void)why_bogus;
	(void)was_ratelimited;
	struct recurse_query *q = mydata;
	uint8_t error[DNS_HEADER_LEN + DNS_NAME_MAX + 4];
	enum recurse_status status = RECURSE_RESOLVED;
	const uint8_t *answer = packet;
	size_t len = packet_len > 0 ? (size_t)packet_len : 0;
	if (rcode != 0) {
		len = make_error(q, (uint8_t)rcode, error);
		answer = error;
	} else if (!packet || len < DNS_HEADER_LEN) {
		status = RECURSE_FAILED;
		len = make_error(q, RCODE_SERVFAIL, error);
		answer = error;
	}
	if (q->state != QUERY_STARTING) {
		event_del(q->timer);
		deliver(q, status, answer, len);
		return;
	}
	q->early_answer = malloc(len);
	if (!q->early_answer) {
		status = RECURSE_FAILED;
		len = make_error(q, RCODE_SERVFAIL, error);
		q->early_answer = malloc(len);
		answer = error;
	}
	if (q->early_answer)
		memcpy(q->early_answer, answer, len);
	q->early_len = q->early_answer ? len : 0;
	q->early_status = status;
	q->state = QUERY_ANSWERED_EARLY;
}

/* The deadline, or the turn of an answer that came while the query was starting. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	struct recurse_query *q = arg;
	uint8_t error[DNS_HEADER_LEN + DNS_NAME_MAX + 4];
	if (q->state == QUERY_ANSWERED_EARLY && q->early_answer) {
		deliver(q, q->early_status, q->early_answer, q->early_len);
		return;
	}
	if (q->state == QUERY_RUNNING)
		ub_cancel(q->r->ctx, q->ub_id);
	size_t len = make_error(q, RCODE_SERVFAIL, error);
	deliver(q, q->state == QUERY_RUNNING ? RECURSE_TIMED_OUT : RECURSE_FAILED, error, len);
}

/* --- starting and cancelling --- */

static bool is_name_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '*';
}

/* Wire form to unbound's presentation form, escaping what a label may hold; false when name is
 * not one uncompressed wire name of exactly len octets. */
static bool name_to_text(const uint8_t *name, size_t len, char *out)
{
	size_t at = 0, o = 0;
	if (len == 0 || len > DNS_NAME_MAX)
		return false;
	while (at < len && name[at] != 0) {
		uint8_t label = name[at++];
		if (label > 63 || at + label >= len)
			return false;
		for (uint8_t i = 0; i < label; i++, at++) {
			uint8_t c = name[at];
			if (is_name_char(c))
				out[o++] = (char)c;
			else if (c == '.' || c == '\\')
				o += (size_t)sprintf(out + o, "\\%c", c);
			else
				o += (size_t)sprintf(out + o, "\\%03u", c);
		}
		out[o++] = '.';
	}
	if (at + 1 != len)
		return false;
	if (o == 0)
		out[o++] = '.';
	out[o] = 0;
	return true;
}

struct recurse_query *recurse_resolve(struct recurse *r, const uint8_t *qname, size_t qname_len,
				      uint16_t qtype, uint16_t qclass, recurse_done_fn done,
				      void *arg)
{
	char text[NAME_TEXT_MAX];
	if (!name_to_text(qname, qname_len, text)) {
		r->counters[RECURSE_REFUSED_NAME]++;
		return NULL;
	}
	if (r->inflight >= r->max_inflight) {
		r->counters[RECURSE_REFUSED_LIMIT]++;
		return NULL;
	}
	struct recurse_query *q = calloc(1, sizeof(*q));
	struct event *timer = q ? evtimer_new(r->base, on_timer, q) : NULL;
	if (!timer) {
		free(q);
		r->counters[RECURSE_FAILED_UNBOUND]++;
		return NULL;
	}
	*q = (struct recurse_query){.r = r,
				    .done = done,
				    .arg = arg,
				    .timer = timer,
				    .state = QUERY_STARTING,
				    .qtype = qtype,
				    .qclass = qclass,
				    .qname_len = qname_len};
	memcpy(q->qname, qname, qname_len);
	TAILQ_INSERT_TAIL(&r->queries, q, link);
	r->inflight++;
	r->counters[RECURSE_STARTED]++;

	int rc = ub_resolve_event(r->ctx, text, qtype, qclass, q, on_unbound, &q->ub_id);
	if (rc != 0 && q->state == QUERY_STARTING) {
		/* nothing started: the loop delivers a SERVFAIL, as done is never called in here */
		q->state = QUERY_ANSWERED_EARLY;
		q->early_status = RECURSE_FAILED;
	}
	if (q->state == QUERY_ANSWERED_EARLY) {
		event_active(q->timer, EV_TIMEOUT, 0);
		return q;
	}
	q->state = QUERY_RUNNING;
	if (r->timeout_ms) {
		struct timeval tv = {r->timeout_ms / 1000, (r->timeout_ms % 1000) * 1000};
		evtimer_add(q->timer, &tv);
	}
	return q;
}

void recurse_cancel(struct recurse *r, struct recurse_query *q)
{
	if (!q)
		return;
	if (q->state == QUERY_RUNNING)
		ub_cancel(r->ctx, q->ub_id);
	event_del(q->timer);
	r->counters[RECURSE_CANCELLED]++;
	query_free(r, q);
}
