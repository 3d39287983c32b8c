/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/upstream: the control core's own queries to a target over kernel sockets, on the control
 * core's libevent event_base. It owns one try of one query: UDP from a given source address, and
 * when the answer comes back truncated (TC=1) the same query again over TCP (RFC 7766 framing) from
 * the same source address to the same target; or TCP straight away when the data plane already saw
 * TC=1. It checks every answer against the try (the target's address and port, a fresh random DNS
 * ID, the same question) and hands the caller the answer with the caller's own ID. Retries across
 * targets are the caller's: one call is one target.
 *
 * Bounded: at most max_inflight queries at once (more are refused), one socket per query, one TCP
 * connection per query (closed after its answer; no reuse), a TCP answer at most 65535 octets. The
 * event loop never blocks: sockets are non-blocking and every wait has a timer.
 */
#ifndef VPCDNS_CTL_UPSTREAM_H
#define VPCDNS_CTL_UPSTREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;
struct upstream;

struct upstream_params {
	struct event_base *base;
	/* UDP source ports are picked at random in [lo, hi]: the data plane owns every other
	 * port of the endpoint addresses, so the kernel must never pick one for us. TCP source
	 * ports are kept in the same range too where the kernel has IP_LOCAL_PORT_RANGE (6.3+). */
	uint16_t udp_port_lo, udp_port_hi;
	unsigned max_inflight; /* queries at once; 0: UPSTREAM_DEFAULT_INFLIGHT */
	uint32_t tcp_idle_ms;  /* a TCP try fails after this long without progress; 0: default */
};

#define UPSTREAM_DEFAULT_INFLIGHT 4096
#define UPSTREAM_DEFAULT_TCP_IDLE 5000

struct upstream_req {
	struct sockaddr_storage src; /* the source address (its port is ignored) */
	struct sockaddr_storage dst; /* the target's address and port, the same family */
	const char *device;	     /* SO_BINDTODEVICE, or NULL */
	const uint8_t *query;	     /* a DNS query (one question); copied */
	size_t len;
	uint32_t timeout_ms; /* per try: the UDP try and, after TC=1, the TCP try each get it */
	bool tcp_only;	     /* skip UDP (the data plane already saw TC=1) */
};

enum upstream_status {
	UPSTREAM_OK = 0,	 /* an answer (it may carry any RCODE, and TC=1 over TCP) */
	UPSTREAM_TIMEOUT,	 /* no acceptable answer within timeout_ms (or tcp_idle_ms) */
	UPSTREAM_CONNECT_FAILED, /* the TCP connection was refused or could not be made */
	UPSTREAM_TCP_FAILED,	 /* the TCP connection closed, reset or failed before the answer */
	UPSTREAM_UNREACHABLE,	 /* over UDP: an ICMP error for our datagram to the target (port
				  * or host unreachable), instead of waiting out the timeout */
	UPSTREAM_BAD_ANSWER,	 /* over TCP: an answer that does not parse, or for another
				  * question or ID (over UDP those are ignored and counted) */
	/* returned by upstream_send only; done is then never called */
	UPSTREAM_BUSY,		/* max_inflight queries are in flight */
	UPSTREAM_BAD_QUERY,	/* not a query with one question, or families differ */
	UPSTREAM_NO_PORT,	/* no free UDP source port in the range */
	UPSTREAM_SOCKET_FAILED, /* socket, bind, SO_BINDTODEVICE or sendto failed */
	UPSTREAM__STATUS_COUNT
};
const char *upstream_status_name(enum upstream_status st);

/*
 * Called once per query that upstream_send accepted, from the event loop (never from inside
 * upstream_send), unless the query was cancelled. answer (len octets, the caller's ID restored)
 * is valid only during the call; it is NULL unless st is UPSTREAM_OK. via_tcp says which
 * transport the answer (or the failure) came from.
 */
typedef void upstream_done_fn(void *arg, enum upstream_status st, const uint8_t *answer, size_t len,
			      bool via_tcp);

/* A query in flight, for upstream_cancel; stale handles are harmless. */
struct upstream_handle {
	uint32_t slot, gen;
};

/* NULL with err on failure (bad params). */
struct upstream *upstream_new(const struct upstream_params *p, char *err, size_t errlen);

/* Drops every query in flight without calling done, and frees u. Not from inside done. */
void upstream_free(struct upstream *u);

/*
 * Starts one query. UPSTREAM_OK: done will be called once (and *handle, if not NULL, names the
 * query); anything else: nothing started, done is never called.
 */
enum upstream_status upstream_send(struct upstream *u, const struct upstream_req *r,
				   upstream_done_fn *done, void *arg,
				   struct upstream_handle *handle);

/*
 * Drops a query whose caller lost interest: its sockets close and done is not called. True if it
 * was in flight; false for a handle that already finished or was cancelled.
 */
bool upstream_cancel(struct upstream *u, struct upstream_handle handle);

/* Queries in flight now. */
unsigned upstream_inflight(const struct upstream *u);

enum upstream_counter {
	UPSTREAM_C_SENT_UDP,	     /* UDP tries sent */
	UPSTREAM_C_SENT_TCP,	     /* TCP tries started (connect attempted) */
	UPSTREAM_C_ANSWERS,	     /* answers handed to done */
	UPSTREAM_C_TRUNCATED_TO_TCP, /* UDP answers with TC=1 that sent the query over TCP */
	UPSTREAM_C_TIMEOUTS,	     /* tries that timed out */
	UPSTREAM_C_CONNECT_FAILED,   /* TCP connections that could not be made */
	UPSTREAM_C_UNREACHABLE,	     /* UDP tries ended by an ICMP error */
	UPSTREAM_C_TCP_FAILED,	     /* TCP connections that closed or failed before the answer */
	UPSTREAM_C_MISMATCHED,	     /* answers from another address or port, with another ID
				      * or another question (spoofing, late answers) */
	UPSTREAM_C_BAD_ANSWERS,	     /* answers from the target that do not parse */
	UPSTREAM_C_BUSY,	     /* queries refused at max_inflight */
	UPSTREAM_C_BAD_QUERIES,	     /* queries refused as not a query */
	UPSTREAM_C_NO_PORT,	     /* queries refused with no free source port */
	UPSTREAM_C_SOCKET_FAILED,    /* queries refused or failed on socket, bind, connect setup */
	UPSTREAM_C_CANCELLED,	     /* queries dropped by upstream_cancel */
	UPSTREAM_C__COUNT
};
/* A stable short name ("truncated_to_tcp"), usable as a counter label. */
const char *upstream_counter_name(enum upstream_counter c);
uint64_t upstream_counter(const struct upstream *u, enum upstream_counter c);

#endif
