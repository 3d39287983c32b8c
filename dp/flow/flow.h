/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/flow: one data lcore's in-flight forwarded queries. A flow table owns, for its lcore alone
 * (share-nothing, no locks): the flow records of queries sent to targets and not yet answered, the
 * (source port, DNS ID) pairs they went out with (unique among open flows, drawn from a per-table
 * ChaCha20 stream as RFC 5452 asks, ports from a range disjoint from every other lcore's), one
 * timeout deadline per flow on a hashed timing wheel, the choice of target and endpoint address for
 * each try, and per-target RTT estimators (RFC 6298) with counters and an RTT histogram for P90.
 *
 * The control core creates and frees tables (the only allocation); the lcore calls everything else
 * with its own clock (`now`, nanoseconds, monotonic) and never blocks, allocates or makes a system
 * call. libc only: no DPDK types, so everything here runs under unit tests with a fake clock.
 *
 * A forwarded query's life: flow_open (slot, port, ID) -> the lcore fills the client side ->
 * flow_pick_first (target, endpoint, timer armed) -> the lcore fills the upstream addresses and
 * sends. On a reply: flow_find by (port, ID), flow_check_reply, flow_record_answer, then either
 * flow_close, or (REFUSED, SERVFAIL) flow_retry. On a timeout: flow_expire hands the flow back,
 * then flow_retry or, once that returns anything but FLOW_TRY_SENT, SERVFAIL and flow_close.
 */
#ifndef VPCDNS_DP_FLOW_H
#define VPCDNS_DP_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FLOW_TRIES_MAX	      6	  /* a rule has at most 6 targets (BEHAVIOUR.md "Rules") */
#define FLOW_TARGETS_PER_RULE 8	  /* the tried-target mask's width */
#define FLOW_QUESTION_MAX     259 /* wire name (255) + type + class */
#define FLOW_SEED_BYTES	      32  /* 256 bits */
#define FLOW_KEY_DRAWS	      16  /* (port, ID) draws before giving up on a fresh one */

/* Histogram of RTT samples: log-scale, 8 buckets per power of two from 2^10 ns (about 1 us) to
 * 2^36 ns (about 69 s), so a quantile read from it is within 1/8 of the true value. */
#define FLOW_HIST_SUB_BITS 3
#define FLOW_HIST_MIN_LOG2 10
#define FLOW_HIST_MAX_LOG2 36
#define FLOW_HIST_BUCKETS                                                                          \
	(((FLOW_HIST_MAX_LOG2 - FLOW_HIST_MIN_LOG2 + 1) << FLOW_HIST_SUB_BITS) + 2)

/* Defaults the config may tune: failover after a silent target must stay well under the 379 ms
 * the seed measured, so the first try of a target never heard from waits 200 ms, and a target
 * that answers in 1 ms is given up on after the 20 ms floor. */
#define FLOW_TIMEOUT_INITIAL_DEFAULT 200000000ull
#define FLOW_TIMEOUT_MIN_DEFAULT     20000000ull
#define FLOW_TIMEOUT_MAX_DEFAULT     2000000000ull

struct flow_table_params {
	uint32_t capacity;	       /* max in flight on this lcore, e.g. 65,536 */
	uint16_t port_lo, port_hi;     /* this lcore's source ports, inclusive */
	uint8_t tries;		       /* tries per query, 1..FLOW_TRIES_MAX */
	uint64_t timeout_initial_ns;   /* RTO of a target before its first sample */
	uint64_t timeout_min_ns;       /* floor of any RTO */
	uint64_t timeout_max_ns;       /* ceiling of any RTO, backoff included */
	uint32_t n_targets;	       /* targets are dense indices 0..n_targets-1 */
	uint8_t seed[FLOW_SEED_BYTES]; /* from getrandom(); the whole of the table's randomness */
};

/* Why flow_table_new refused its parameters (the only failure that is not out of memory). */
enum flow_params_error {
	FLOW_PARAMS_OK = 0,
	FLOW_PARAMS_NO_CAPACITY,  /* capacity 0 or above FLOW_CAPACITY_MAX */
	FLOW_PARAMS_PORT_RANGE,	  /* port_lo > port_hi, or port 0 in range */
	FLOW_PARAMS_TOO_FEW_KEYS, /* ports x 65,536 IDs below 4 x capacity: draws would repeat */
	FLOW_PARAMS_TRIES,	  /* not 1..FLOW_TRIES_MAX */
	FLOW_PARAMS_TIMEOUTS,	  /* not 0 < min <= initial <= max <= FLOW_TIMEOUT_CEILING */
	FLOW_PARAMS_NO_TARGETS,	  /* n_targets 0 */
	FLOW_PARAMS_OUT_OF_MEMORY,
};
#define FLOW_CAPACITY_MAX    (1u << 24)
#define FLOW_TIMEOUT_CEILING 60000000000ull /* one minute */

/* Why flow_open failed: the lcore counts these and answers SERVFAIL (or drops). */
enum flow_open_result {
	FLOW_OPEN_OK = 0,
	FLOW_OPEN_FULL,	  /* capacity flows already in flight */
	FLOW_OPEN_NO_KEY, /* FLOW_KEY_DRAWS draws all hit an open (port, ID): under 4^-16 */
};

/* What became of a try (flow_pick_first, flow_retry). */
enum flow_try_result {
	FLOW_TRY_SENT = 0,  /* target and endpoint chosen, timer armed: the lcore sends */
	FLOW_TRY_EXHAUSTED, /* flow_retry: the table's tries are used up */
	FLOW_TRY_NO_KEY,    /* flow_retry: no fresh (port, ID) in FLOW_KEY_DRAWS draws */
	FLOW_TRY_BAD_RULE,  /* 0 or over FLOW_TARGETS_PER_RULE targets, 0 or over 255 endpoint
			       addresses, or a target index the table does not know */
};

/* What a reply was found to be by flow_check_reply. Anything but OK is spoofed or stray. */
enum flow_reply_verdict {
	FLOW_REPLY_OK = 0,
	FLOW_REPLY_WRONG_TARGET,   /* source address or port is not the target we asked */
	FLOW_REPLY_WRONG_ENDPOINT, /* destination is not the endpoint address we sent from */
	FLOW_REPLY_WRONG_QUESTION, /* question differs, byte for byte (we chose the case we sent) */
};

enum flow_state { FLOW_STATE_FREE = 0, FLOW_STATE_OPEN };

/* The client's side of a query: what the reply is rewritten back to. */
struct flow_client {
	uint8_t addr[16];	   /* IPv4 in the first 4 octets */
	uint8_t resolver_addr[16]; /* the address the client asked: becomes the reply's source */
	uint8_t mac[6];
	uint16_t port;
	uint16_t id; /* the client's DNS ID */
	uint16_t vlan;
	uint16_t ingress_port;
	uint16_t edns_udp_size; /* what the client can take: 512 without OPT */
	uint8_t family;		/* 4 or 6 */
	bool edns_present;
	bool edns_do;
	bool refresh; /* no client waits: the answer only refreshes the cache */
};

/*
 * A flow record. The first cache line holds what flow_find, flow_check_reply and the timer wheel
 * touch; the client and the question follow. The lcore writes the client, question, upstream
 * addresses, vpc, rule, generation and pkt fields; dp/flow writes the rest and the lcore only
 * reads it.
 */
struct flow {
	/* cache line 0 */
	uint64_t deadline_ns;
	uint32_t wheel_next, wheel_prev; /* intrusive timer list; dp/flow's own */
	uint16_t port;			 /* our source port of the current try */
	uint16_t id;			 /* our DNS ID of the current try */
	uint32_t target;		 /* dense target index of the current try */
	uint16_t target_port;
	uint8_t upstream_family; /* 4 or 6: target and endpoint address alike */
	uint8_t tries;		 /* tries sent so far */
	uint8_t tried_mask;	 /* bit i: the rule's target slot i was tried */
	uint8_t target_slot;	 /* the current try's target, as a slot in the rule's list */
	uint8_t endpoint_slot;	 /* the current try's source, as a slot in the endpoint's list */
	uint8_t state;		 /* enum flow_state */
	uint8_t target_addr[16];
	uint8_t endpoint_addr[16];
	/* cache line 1 and after */
	uint64_t sent_ns;   /* when the current try left: the RTT sample's start */
	uint64_t opened_ns; /* when the client's query arrived: its whole wait, retries included */
	void *pkt; /* the lcore's (e.g. the query kept for a retry): flow_close leaves it */
	uint32_t vpc;
	uint32_t rule;
	uint32_t generation; /* of the tables vpc and rule index: a publish may renumber them */
	struct flow_client client;
	uint16_t question_len;
	uint8_t question[FLOW_QUESTION_MAX]; /* as sent: wire name, type, class */
} __attribute__((aligned(64)));
_Static_assert(offsetof(struct flow, sent_ns) == 64, "flow: the hot part fills cache line 0");

/* What the lcore learns from a pick: which of the rule's targets and the endpoint's addresses. */
struct flow_choice {
	uint8_t target_slot;
	uint8_t endpoint_slot;
	uint32_t target;     /* the dense index, targets[target_slot] */
	uint64_t timeout_ns; /* the timer just armed */
};

struct flow_stats {
	uint64_t opened, closed;
	uint64_t full;	 /* flow_open: FLOW_OPEN_FULL */
	uint64_t no_key; /* flow_open: FLOW_OPEN_NO_KEY */
	uint64_t expired;
	uint64_t retried;
	uint64_t exhausted; /* flow_retry returned false: tries used up */
	uint64_t in_flight;
};

struct flow_target_stats {
	uint64_t requests; /* tries sent to it */
	uint64_t retries;  /* of which after another try of the same query failed */
	uint64_t answers;  /* replies accepted from it, any rcode */
	uint64_t timeouts;
	uint64_t rtt_samples;
	uint64_t srtt_ns, rttvar_ns; /* 0 before the first sample */
	uint64_t rto_ns;	     /* RFC 6298's RTO, backoff included */
	uint64_t probe_wait_ns;	     /* the timeout of a probe while in backoff */
	uint32_t backoff;	     /* timeouts since its last sample (RTO doubled each) */
	uint32_t hist[FLOW_HIST_BUCKETS];
};

struct flow_table;

/* Splitting the endpoints' source ports lo..hi among n_lcores data lcores: contiguous ranges as
 * equal as can be (the first ones one port longer), so a reply's destination port says which
 * lcore's table holds its flow. flow_ports_of_lcore is false when the lcore would get no port. */
bool flow_ports_of_lcore(uint16_t lo, uint16_t hi, unsigned n_lcores, unsigned lcore,
			 uint16_t *lcore_lo, uint16_t *lcore_hi);
/* The lcore whose range holds port, or n_lcores when port is outside lo..hi. */
unsigned flow_port_owner(uint16_t lo, uint16_t hi, unsigned n_lcores, uint16_t port);

/* Control core. */
struct flow_table *flow_table_new(const struct flow_table_params *p, enum flow_params_error *err);
void flow_table_free(struct flow_table *t);
const char *flow_params_error_str(enum flow_params_error e);
const char *flow_open_result_str(enum flow_open_result r);
const char *flow_reply_verdict_str(enum flow_reply_verdict v);
const char *flow_try_result_str(enum flow_try_result r);

/* Fast path: the owning lcore only. */
enum flow_open_result flow_open(struct flow_table *t, uint64_t now, struct flow **out);
struct flow *flow_find(const struct flow_table *t, uint16_t port, uint16_t id);
enum flow_reply_verdict flow_check_reply(const struct flow *f, const uint8_t src_addr[16],
					 uint16_t src_port, const uint8_t dst_addr[16],
					 const uint8_t *question, size_t question_len);
void flow_close(struct flow_table *t, struct flow *f);

/* The first try: a random target of the rule's (targets[0..n_targets-1], dense indices, at most
 * FLOW_TARGETS_PER_RULE) and a random endpoint address (0..n_endpoints-1); arms the timer with
 * that target's RTO. A target in backoff (timed out since its last answer) is passed over while
 * another is welcome, but gets one probe per RTO; a try to a target more backed off than another
 * of the rule waits only its probe time (its RTO from before the timeouts, at least the initial
 * RTO), since a better target stands by for the retry. Fails only with FLOW_TRY_BAD_RULE. */
enum flow_try_result flow_pick_first(struct flow_table *t, struct flow *f, uint64_t now,
				     const uint32_t *targets, unsigned n_targets,
				     unsigned n_endpoints, struct flow_choice *out);

/* The next try: a target not yet tried (random among them; once all were, random among all but
 * the last; targets in backoff passed over as above), an endpoint address other than the last
 * (random), a fresh (port, ID) so a late reply to the old try finds nothing, the timer re-armed.
 * On any result but FLOW_TRY_SENT the lcore answers SERVFAIL (or stale data) and closes the
 * flow; EXHAUSTED and NO_KEY are counted in flow_stats. */
enum flow_try_result flow_retry(struct flow_table *t, struct flow *f, uint64_t now,
				const uint32_t *targets, unsigned n_targets, unsigned n_endpoints,
				struct flow_choice *out);

/* Up to max flows whose deadline is at or before now, in order of deadline, both to within one
 * wheel tick (2^20 ns): a flow comes out at most one tick after its deadline, never before. Each
 * is disarmed and its target charged a timeout (RTO backed off); the flow stays open and findable
 * until the lcore retries or closes it. A call visits at most one turn of the wheel. */
size_t flow_expire(struct flow_table *t, uint64_t now, struct flow **out, size_t max);

/* A reply from the current try's target was accepted (any rcode): one RTT sample, now - sent_ns,
 * which is unambiguous (Karn) because every try has its own (port, ID). */
void flow_record_answer(struct flow_table *t, struct flow *f, uint64_t now);

/* The open flow after prev (NULL: the first), or NULL: for an lcore that stops with flows in
 * flight and must release what their pkt fields hold. Not for the fast path: it scans. */
struct flow *flow_next_open(struct flow_table *t, struct flow *prev);

/* Reading (any core may read; values from another core are a moment old). */
void flow_table_stats(const struct flow_table *t, struct flow_stats *out);
bool flow_target_stats(const struct flow_table *t, uint32_t target, struct flow_target_stats *out);
/* The q-quantile (0..1) of a histogram, e.g. the sum of every lcore's, in ns (bucket midpoint);
 * 0 when empty. */
uint64_t flow_hist_quantile(const uint32_t hist[FLOW_HIST_BUCKETS], double q);

#endif
