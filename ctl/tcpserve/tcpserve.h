/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/tcpserve: DNS over TCP for clients (RFC 7766), on the control core's libevent event_base. It
 * owns the listening sockets (each on an address, optionally bound to a device, tagged with the
 * caller's VPC index and cookie), the client connections, their 2-octet length framing, pipelining
 * and their limits. Each whole message goes to the caller's handler as it arrives, with a reply
 * handle; replies may come in any order and later. A handle outlives nothing: a reply to a query
 * whose connection has gone (or was answered already) is dropped and counted, never a
 * use-after-free.
 *
 * Limits, all counted when hit: connections (at the limit, the connection idle longest is closed
 * to make room, else the new one is refused), queries outstanding per connection (at the limit the
 * connection is not read until a reply goes out: backpressure, not buffering), output buffered per
 * connection (a client that does not read is closed), the idle timeout (RFC 7766 6.2.3), and the
 * framing (a length below a DNS header closes the connection).
 */
#ifndef VPCDNS_CTL_TCPSERVE_H
#define VPCDNS_CTL_TCPSERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct event_base;
struct tcpserve;

/* Names one query for its reply: the connection's slot and generation, the query's. */
struct tcpserve_handle {
	uint32_t conn, conn_gen;
	uint32_t query, query_gen;
};

struct tcpserve_query {
	const uint8_t *msg; /* the message, valid only during the handler's call */
	size_t len;	    /* 12..65535 */
	const struct sockaddr_storage *client; /* the client's address and port */
	const struct sockaddr_storage *local;  /* the address the client reached */
	uint32_t vpc;			       /* the listener's tags */
	void *cookie;
	struct tcpserve_handle handle;
};

/*
 * Called for each message as it arrives. It may reply at once (tcpserve_reply from inside) or
 * later; every query needs a reply or a tcpserve_drop, else it holds its connection open.
 */
typedef void tcpserve_handler_fn(void *arg, const struct tcpserve_query *q);

struct tcpserve_params {
	struct event_base *base;
	tcpserve_handler_fn *handler;
	void *arg;
	unsigned max_conns;	  /* 0: TCPSERVE_DEFAULT_CONNS */
	unsigned max_outstanding; /* queries awaiting a reply per connection; 0: default */
	size_t max_output;	  /* octets of replies waiting for the client to read; 0: default */
	uint32_t idle_timeout_ms; /* the config's tcp_idle_timeout_ms; 0: default */
	int sndbuf;		  /* SO_SNDBUF of client sockets; 0: the kernel's */
};

#define TCPSERVE_DEFAULT_CONNS	     4096
#define TCPSERVE_DEFAULT_OUTSTANDING 32
#define TCPSERVE_DEFAULT_OUTPUT	     (256u * 1024)
#define TCPSERVE_DEFAULT_IDLE_MS     10000

struct tcpserve_listener {
	struct sockaddr_storage addr; /* port 0: the kernel picks (tcpserve_listener_addr) */
	const char *device;	      /* SO_BINDTODEVICE, or NULL */
	uint32_t vpc;
	void *cookie;
};

/* NULL with err on failure. */
struct tcpserve *tcpserve_new(const struct tcpserve_params *p, char *err, size_t errlen);

/* Closes every connection and listener (outstanding handles go stale) and frees ts. */
void tcpserve_free(struct tcpserve *ts);

/* Listens on l->addr. Returns the listener's index, or -1 with err. */
int tcpserve_listen(struct tcpserve *ts, const struct tcpserve_listener *l, char *err,
		    size_t errlen);

/*
 * Stops listening on listener index (a config reload dropped its address): its socket closes, the
 * connections it accepted stay and keep its tags. False if no such listener is open.
 */
bool tcpserve_unlisten(struct tcpserve *ts, int index);

/* The address listener index is bound to (its port, when 0 was asked). False if no such open. */
bool tcpserve_listener_addr(const struct tcpserve *ts, int index, struct sockaddr_storage *out);

/*
 * Queues msg (len octets, at most 65535) as the reply to the query h names. 0 if queued; 1 if
 * dropped because the query is gone (connection closed, or answered already), counted; -1 if len
 * is out of range (nothing done: the query still waits). Queuing past max_output closes the
 * connection.
 */
int tcpserve_reply(struct tcpserve *ts, struct tcpserve_handle h, const uint8_t *msg, size_t len);

/* Gives up on a query without a reply (its client will time out). Same returns as reply. */
int tcpserve_drop(struct tcpserve *ts, struct tcpserve_handle h);

/* Connections open now. */
unsigned tcpserve_conns(const struct tcpserve *ts);

enum tcpserve_counter {
	TCPSERVE_C_ACCEPTED,
	TCPSERVE_C_REFUSED,	     /* at max_conns with none idle to close */
	TCPSERVE_C_ACCEPT_ERRORS,    /* accept failed (out of descriptors, ...) */
	TCPSERVE_C_CLOSED_BY_CLIENT, /* the client closed (after its replies went out) */
	TCPSERVE_C_CLOSED_ERROR,     /* reset or socket error */
	TCPSERVE_C_CLOSED_IDLE,	     /* idle timeout */
	TCPSERVE_C_CLOSED_OUTPUT,    /* max_output hit: the client does not read */
	TCPSERVE_C_CLOSED_FRAMING,   /* a length below 12 */
	TCPSERVE_C_CLOSED_EVICTED,   /* idle longest, closed to make room at max_conns */
	TCPSERVE_C_CLOSED_SHUTDOWN,  /* tcpserve_free */
	TCPSERVE_C_QUERIES,	     /* messages handed to the handler */
	TCPSERVE_C_REPLIES,	     /* replies queued */
	TCPSERVE_C_REPLIES_DROPPED,  /* replies (or drops) for queries that were gone */
	TCPSERVE_C_QUERIES_DROPPED,  /* tcpserve_drop on live queries */
	TCPSERVE_C_READ_PAUSED,	     /* times a connection stopped being read at max_outstanding */
	TCPSERVE_C__COUNT
};
/* A stable short name ("closed_idle"), usable as a counter label. */
const char *tcpserve_counter_name(enum tcpserve_counter c);
uint64_t tcpserve_counter(const struct tcpserve *ts, enum tcpserve_counter c);

#endif
