/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/slow: one client query through the slow path, step by step. See slow.h.
 *
 * A job asks one name at a time (a step): the client's own, then each dangling CNAME target. Every
 * step's answer, whoever gave it, is a whole DNS message; its answer records are copied into the
 * job's answer uncompressed (so records from different messages can sit side by side), its
 * authority records are kept from the last step only (the SOA of a final NXDOMAIN or NODATA), and
 * additional records are left out. The client's answer is built from them at the end.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <arpa/inet.h>
#include <event2/event.h>
#include <netinet/in.h>

#include "ctl/local/local.h"
#include "ctl/recurse/recurse.h"
#include "ctl/slow/answer.h"
#include "ctl/slow/slow.h"
#include "ctl/upstream/upstream.h"
#include "dp/wire/wire.h"

#define SLOW_SERVERS_MAX (LOCAL_NS_MAX * LOCAL_GLUE_MAX)
#define NAME_MAX_LEN	 SLOW_NAME_MAX
#define TYPE_CNAME	 5
#define TYPE_ANY	 255

static const char *const counter_names[SLOW_C__COUNT] = {
    [SLOW_C_STARTED] = "started",
    [SLOW_C_LOCAL] = "local",
    [SLOW_C_FORWARDED] = "forwarded",
    [SLOW_C_RECURSED] = "recursed",
    [SLOW_C_CHASED] = "chased",
    [SLOW_C_SERVFAIL] = "servfail",
    [SLOW_C_TRIES_FAILED] = "tries_failed",
    [SLOW_C_TRUNCATED] = "truncated",
    [SLOW_C_NO_RECURSION] = "no_recursion",
    [SLOW_C_CHAIN_TOO_LONG] = "chain_too_long",
    [SLOW_C_LOOP] = "loop",
    [SLOW_C_BAD_QUERY] = "bad_query",
    [SLOW_C_BUSY] = "busy",
    [SLOW_C_CANCELLED] = "cancelled",
    [SLOW_C_CACHE_HITS] = "cache_hits",
    [SLOW_C_STALE] = "stale",
};

struct slow_job {
	struct slow *sl;
	struct slow_job *prev, *next;
	slow_done_fn *done;
	void *arg;
	uint32_t vpc;
	uint8_t *query; /* the client's message */
	size_t qlen;
	struct wire_dns_msg qmsg;
	size_t link;
	bool over_tcp;
	struct event *kick; /* runs the next step from the event loop */
	/* the step: the name asked now and how */
	uint8_t name[NAME_MAX_LEN];
	size_t name_len;
	struct match_result match;
	bool have_match;
	unsigned steps;
	/* a forward or delegate step's tries, to its servers: the rule's targets, or for a delegate
	 * rule without targets the zone's name servers (glue, or addresses resolved by a sub-job)
	 */
	uint32_t rule;
	struct config_target servers[SLOW_SERVERS_MAX];
	unsigned n_servers;
	struct local_ns ns[LOCAL_NS_MAX];
	unsigned n_ns, next_ns;
	struct slow_job *sub;	 /* resolving a name server's address */
	struct slow_job *parent; /* whose name server this job resolves */
	unsigned try_no, first_target, first_addr;
	int tcp_target;
	bool upstream_pending;
	struct upstream_handle upstream;
	struct recurse_query *recursion;
	/* what the answer has so far */
	struct slow_gathered got;
	bool cacheable; /* its answer came from targets or recursion: the cache keeps it */
};

struct slow {
	struct slow_params p;
	struct slow_job *jobs;
	unsigned n_jobs;
	struct wire_rr *rrs; /* one step's records, read by the control core only */
	uint64_t counters[SLOW_C__COUNT];
};

static void count(struct slow *sl, enum slow_counter c)
{
	sl->counters[c]++;
}

const char *slow_counter_name(enum slow_counter c)
{
	return (unsigned)c < SLOW_C__COUNT ? counter_names[c] : "unknown";
}

uint64_t slow_counter(const struct slow *sl, enum slow_counter c)
{
	return (unsigned)c < SLOW_C__COUNT ? sl->counters[c] : 0;
}

struct slow *slow_new(const struct slow_params *p, char *err, size_t errlen)
{
	struct slow *sl = calloc(1, sizeof(*sl));
	if (sl)
		sl->rrs = calloc(SLOW_STEP_RRS_MAX, sizeof(*sl->rrs));
	if (!sl || !sl->rrs) {
		free(sl);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	sl->p = *p;
	if (!sl->p.max_jobs)
		sl->p.max_jobs = SLOW_DEFAULT_JOBS;
	return sl;
}

/* ---- the step queries ---- */

/* A query: header (RD), one question (name, then QTYPE and QCLASS as given), and an OPT of
 * opt_size when not 0. buf takes at least 12 + 255 + 4 + 11 octets; the length. */
static size_t make_query(uint8_t *buf, const uint8_t *name, size_t name_len,
			 const uint8_t type_class[4], uint16_t opt_size)
{
	memset(buf, 0, 12);
	buf[2] = 0x01; /* RD */
	buf[5] = 1;    /* QDCOUNT */
	buf[11] = opt_size ? 1 : 0;
	memcpy(buf + 12, name, name_len);
	size_t n = 12 + name_len;
	memcpy(buf + n, type_class, 4);
	n += 4;
	if (opt_size) {
		const uint8_t opt[11] = {0, 0, 41, (uint8_t)(opt_size >> 8), (uint8_t)opt_size};
		memcpy(buf + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	return n;
}

/* The step's query: the job's name with the client's QTYPE and QCLASS, and the OPT targets get
 * when with_opt. */
static size_t step_query(const struct slow_job *j, uint8_t *buf, bool with_opt)
{
	const struct slow_params *p = &j->sl->p;
	uint16_t size = p->upstream_udp_size ? p->upstream_udp_size : p->edns_udp_size;
	return make_query(buf, j->name, j->name_len, j->query + j->qmsg.question_end - 4,
			  with_opt ? size : 0);
}

/* ---- ending a job ---- */

static void unlink_job(struct slow_job *j)
{
	struct slow *sl = j->sl;
	sl->n_jobs--;
	if (j->prev)
		j->prev->next = j->next;
	else
		sl->jobs = j->next;
	if (j->next)
		j->next->prev = j->prev;
}

static void free_job(struct slow_job *j)
{
	unlink_job(j);
	if (j->parent && j->parent->sub == j)
		j->parent->sub = NULL;
	if (j->kick)
		event_free(j->kick);
	slow_gathered_free(&j->got);
	free(j->query);
	free(j);
}

/* The most the client's transport takes: its link, and over UDP its EDNS size (or 512) too. */
static size_t client_limit(const struct slow_job *j)
{
	size_t limit = j->link;
	if (!j->over_tcp && wire_dns_udp_limit(&j->qmsg) < limit)
		limit = wire_dns_udp_limit(&j->qmsg);
	return limit;
}

/* ---- the slow path's cache ---- */

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The client's question, in the VPC's view. */
static struct cache_key cache_key_of(const struct slow_job *j)
{
	return (struct cache_key){.view = j->vpc,
				  .qname = j->query + WIRE_DNS_HLEN,
				  .qname_len = (uint8_t)j->qmsg.qname_len,
				  .qtype = j->qmsg.qtype,
				  .qclass = j->qmsg.qclass,
				  .qname_hash = j->qmsg.qname_hash};
}

/* The client's answer from the cache (fresh; or, with stale, expired within the window too), sent
 * as the lcores send theirs: its ID and question, the resolver's flags, its OPT view, cut to its
 * size. False when the cache has none. */
static bool answer_from_cache(struct slow_job *j, bool stale)
{
	static uint8_t out[SLOW_ANSWER_MAX];
	struct slow *sl = j->sl;
	struct cache_key k = cache_key_of(j);
	struct cache_hit hit;
	uint64_t now = now_ns();
	if (!sl->p.cache || cache_lookup(sl->p.cache, &k, now, stale, &hit) == CACHE_MISS)
		return false;
	struct cache_answer a;
	struct wire_dns_msg m;
	cache_hit_answer(sl->p.cache, &hit, now, &a);
	memcpy(out, j->query, j->qmsg.question_end);
	size_t len = cache_answer_write(&a, j->qmsg.id, out, sizeof(out));
	if (!len || wire_dns_parse_response_head(out, len, &m) != WIRE_OK)
		return false;
	m.msg_end = (uint16_t)len;
	wire_dns_set_resolver_flags(out, j->qmsg.flags);
	if (j->qmsg.has_opt &&
	    wire_dns_append_opt(out, &len, sizeof(out), &m, sl->p.edns_udp_size, false) != WIRE_OK)
		return false;
	if (len > client_limit(j)) {
		wire_dns_truncate(out, &len, &m, j->qmsg.has_opt);
		count(sl, SLOW_C_TRUNCATED);
	}
	count(sl, hit.state == CACHE_STALE ? SLOW_C_STALE : SLOW_C_CACHE_HITS);
	j->done(j->arg, out, len);
	free_job(j);
	return true;
}

static void finish(struct slow_job *j)
{
	static uint8_t out[SLOW_ANSWER_MAX];
	struct slow *sl = j->sl;
	size_t limit = client_limit(j);
	bool truncated;
	size_t n = slow_build_answer(&j->got, j->query, &j->qmsg, sl->p.edns_udp_size,
				     j->cacheable && sl->p.cache ? SLOW_ANSWER_MAX : limit, out,
				     sizeof(out), &truncated);
	if (j->cacheable && sl->p.cache && !truncated) {
		/* kept whole; its TTLs, floored and capped, are the client's too */
		struct cache_key k = cache_key_of(j);
		(void)cache_insert(sl->p.cache, &k, out, n, now_ns());
		if (n > limit)
			n = slow_build_answer(&j->got, j->query, &j->qmsg, sl->p.edns_udp_size,
					      limit, out, sizeof(out), &truncated);
	}
	if (truncated)
		count(sl, SLOW_C_TRUNCATED);
	j->done(j->arg, out, n);
	free_job(j);
}

static void fail(struct slow_job *j, enum slow_counter why)
{
	count(j->sl, why);
	if (why != SLOW_C_SERVFAIL)
		count(j->sl, SLOW_C_SERVFAIL);
	slow_gathered_clear(&j->got, WIRE_RCODE_SERVFAIL);
	finish(j);
}

/* ---- steps ---- */

static void run_step(struct slow_job *j);

/* Schedules the next step from the event loop (so done is never called from slow_start). */
static void kick(struct slow_job *j)
{
	static const struct timeval now = {0, 0};
	event_add(j->kick, &now);
}

/* Takes one step's answer in; then either chases a dangling CNAME or finishes. */
static void take_answer(struct slow_job *j, const uint8_t *msg, size_t len)
{
	struct slow *sl = j->sl;
	switch (slow_gather(&j->got, msg, len, sl->rrs)) {
	case SLOW_GATHER_OK:
		break;
	case SLOW_GATHER_BAD_RESPONSE:
		fail(j, SLOW_C_TRIES_FAILED);
		return;
	default:
		fail(j, SLOW_C_BUSY);
		return;
	}
	uint8_t end[NAME_MAX_LEN];
	size_t end_len = slow_chain_end(&j->got, j->query + WIRE_DNS_HLEN, j->qmsg.qname_len,
					SLOW_CHAIN_MAX + LOCAL_CHAIN_MAX, end);
	if (end_len == 0) {
		fail(j, SLOW_C_LOOP);
		return;
	}
	bool dangling = j->got.rcode == WIRE_RCODE_NOERROR && j->qmsg.qtype != TYPE_CNAME &&
			j->qmsg.qtype != TYPE_ANY &&
			!slow_name_equal(end, end_len, j->name, j->name_len) &&
			!slow_gathered_has(&j->got, end, end_len, j->qmsg.qtype);
	if (!dangling) {
		finish(j);
		return;
	}
	if (j->steps > SLOW_CHAIN_MAX) {
		fail(j, SLOW_C_CHAIN_TOO_LONG);
		return;
	}
	count(sl, SLOW_C_CHASED);
	memcpy(j->name, end, end_len);
	j->name_len = end_len;
	j->have_match = false;
	j->tcp_target = -1;
	kick(j);
}

/* ---- local answers ---- */

static void step_local(struct slow_job *j)
{
	static uint8_t out[LOCAL_ANSWER_MAX];
	uint8_t q[12 + NAME_MAX_LEN + 4 + 11];
	size_t qlen = step_query(j, q, false), len;
	enum local_status st =
	    local_answer(j->sl->p.local, j->vpc, j->match.kind, j->match.id, q, qlen, out,
			 sizeof(out), j->sl->p.edns_udp_size, sizeof(out), &len);
	if (st != LOCAL_OK) {
		fail(j, SLOW_C_SERVFAIL);
		return;
	}
	count(j->sl, SLOW_C_LOCAL);
	take_answer(j, out, len);
}

/* ---- forward and delegate rules: targets from endpoint addresses ---- */

static void try_target(struct slow_job *j);

static void on_upstream(void *arg, enum upstream_status st, const uint8_t *answer, size_t len,
			bool via_tcp)
{
	struct slow_job *j = arg;
	(void)via_tcp;
	j->upstream_pending = false;
	uint8_t rcode = len >= 4 ? answer[3] & 0xf : WIRE_RCODE_SERVFAIL;
	if (st == UPSTREAM_OK && rcode != WIRE_RCODE_REFUSED && rcode != WIRE_RCODE_SERVFAIL) {
		count(j->sl, SLOW_C_FORWARDED);
		take_answer(j, answer, len);
		return;
	}
	count(j->sl, SLOW_C_TRIES_FAILED);
	j->try_no++;
	try_target(j);
}

/* The endpoint address of the target's family for try n (they take turns, as in the lcores). */
static const struct config_addr *source_for(const struct config_endpoint *ep, unsigned n,
					    uint8_t family)
{
	for (size_t k = 0; k < ep->n_addresses; k++) {
		const struct config_addr *a = &ep->addresses[(n + k) % ep->n_addresses];
		if (a->family == family)
			return a;
	}
	return NULL;
}

static void try_target(struct slow_job *j)
{
	struct slow *sl = j->sl;
	const struct config_rule *rule = &sl->p.cfg->rules[j->rule];
	if (j->try_no >= sl->p.tries || j->n_servers == 0) {
		if (!(j->steps == 1 && answer_from_cache(j, true)))
			fail(j, SLOW_C_SERVFAIL);
		return;
	}
	bool tcp = j->try_no == 0 && j->tcp_target >= 0 && (unsigned)j->tcp_target < j->n_servers;
	unsigned t = tcp ? (unsigned)j->tcp_target : (j->first_target + j->try_no) % j->n_servers;
	const struct config_target *target = &j->servers[t];
	const struct config_endpoint *ep = &sl->p.cfg->endpoints[rule->endpoint.index];
	const struct config_addr *src =
	    source_for(ep, j->first_addr + j->try_no, target->addr.family);
	uint8_t q[12 + NAME_MAX_LEN + 4 + 11];
	struct upstream_req req = {
	    .device = sl->p.endpoint_link[rule->endpoint.index],
	    .query = q,
	    .len = step_query(j, q, true),
	    .timeout_ms = sl->p.try_timeout_ms,
	    .tcp_only = tcp,
	};
	if (!src || !req.device[0]) {
		fail(j, SLOW_C_SERVFAIL); /* no kernel path from this endpoint */
		return;
	}
	config_addr_sockaddr(src, 0, &req.src);
	config_addr_sockaddr(&target->addr, target->port ? target->port : 53, &req.dst);
	enum upstream_status st = upstream_send(sl->p.upstream, &req, on_upstream, j, &j->upstream);
	if (st != UPSTREAM_OK) {
		fail(j, SLOW_C_BUSY);
		return;
	}
	j->upstream_pending = true;
}

/* The tries begin at a random server from a random endpoint address, as the lcores' do. */
static void start_tries(struct slow_job *j)
{
	uint32_t r[2];
	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != sizeof(r))
		r[0] = r[1] = 0;
	j->try_no = 0;
	j->first_target = r[0];
	j->first_addr = r[1];
	try_target(j);
}

static void step_forward(struct slow_job *j, uint32_t rule)
{
	const struct config_rule *r = &j->sl->p.cfg->rules[rule];
	j->rule = rule;
	j->n_servers = (unsigned)r->n_targets;
	memcpy(j->servers, r->targets, r->n_targets * sizeof(r->targets[0]));
	start_tries(j);
}

/* ---- delegate rules without targets: the zone's referral ---- */

static void add_server(struct slow_job *j, const struct config_addr *a)
{
	if (j->n_servers == SLOW_SERVERS_MAX)
		return;
	struct config_target *t = &j->servers[j->n_servers++];
	memset(t, 0, sizeof(*t));
	t->addr = *a;
	t->port = 53;
}

static void resolve_next_ns(struct slow_job *j);

/* A name server's address came back (its A records become servers), or did not. */
static void on_ns_address(void *arg, const uint8_t *answer, size_t len)
{
	struct slow_job *j = arg;
	struct wire_dns_msg m;
	struct wire_rr rrs[16];
	size_t n = 0;
	if (wire_dns_parse_response(answer, len, &m, rrs, 16, &n) == WIRE_OK)
		for (size_t i = 0; i < n && i < 16; i++)
			if (rrs[i].section == WIRE_SEC_ANSWER && rrs[i].type == 1 &&
			    rrs[i].rdata_len == 4) {
				struct config_addr a = {.family = 4};
				memcpy(a.bytes, answer + rrs[i].rdata_off, 4);
				add_server(j, &a);
			}
	if (j->n_servers)
		start_tries(j);
	else
		resolve_next_ns(j);
}

/* An out-of-zone name server's address, resolved under the VPC's own rules (a forward rule for its
 * domain, typically), one name server at a time until one has an address. */
static void resolve_next_ns(struct slow_job *j)
{
	struct slow *sl = j->sl;
	if (j->next_ns >= j->n_ns) {
		fail(j, SLOW_C_SERVFAIL);
		return;
	}
	const struct local_ns *ns = &j->ns[j->next_ns++];
	static const uint8_t a_in[4] = {0, 1, 0, 1};
	uint8_t q[12 + NAME_MAX_LEN + 4 + 11];
	struct slow_request r = {.vpc = j->vpc,
				 .query = q,
				 .len = make_query(q, ns->name, ns->name_len, a_in, 0),
				 .tcp_target = -1,
				 .link = SLOW_ANSWER_MAX,
				 .over_tcp = true};
	j->sub = slow_start(sl, &r, on_ns_address, j);
	if (!j->sub) {
		fail(j, SLOW_C_BUSY);
		return;
	}
	j->sub->parent = j;
}

static void step_delegate(struct slow_job *j, uint32_t rule)
{
	struct slow *sl = j->sl;
	if (sl->p.cfg->rules[rule].n_targets) {
		step_forward(j, rule); /* the operator named the servers */
		return;
	}
	j->rule = rule;
	j->n_servers = 0;
	j->n_ns = (unsigned)local_delegation(sl->p.local, j->vpc, j->name, j->name_len, j->ns,
					     LOCAL_NS_MAX);
	j->next_ns = 0;
	for (unsigned i = 0; i < j->n_ns; i++)
		for (unsigned g = 0; g < j->ns[i].n_glue; g++)
			add_server(j, &j->ns[i].glue[g]);
	if (j->n_servers) {
		start_tries(j);
		return;
	}
	if (j->steps + j->n_ns > 4 * SLOW_CHAIN_MAX) {
		fail(j, SLOW_C_CHAIN_TOO_LONG); /* name servers whose addresses need referrals */
		return;
	}
	resolve_next_ns(j);
}

/* ---- recursion ---- */

static void on_recursion(void *arg, enum recurse_status status, const uint8_t *answer, size_t len)
{
	struct slow_job *j = arg;
	(void)status; /* a failure comes as a SERVFAIL message */
	j->recursion = NULL;
	count(j->sl, SLOW_C_RECURSED);
	take_answer(j, answer, len);
}

static void step_recurse(struct slow_job *j)
{
	struct slow *sl = j->sl;
	if (!sl->p.recurse) {
		fail(j, SLOW_C_NO_RECURSION);
		return;
	}
	j->recursion = recurse_resolve(sl->p.recurse, j->name, j->name_len, j->qmsg.qtype,
				       j->qmsg.qclass, on_recursion, j);
	if (!j->recursion)
		fail(j, SLOW_C_BUSY);
}

/* ---- the step itself ---- */

static void run_step(struct slow_job *j)
{
	struct slow *sl = j->sl;
	j->steps++;
	if (!j->have_match &&
	    sl->p.match(sl->p.match_ctx, j->vpc, j->name, j->name_len, &j->match) != MATCH_OK) {
		fail(j, SLOW_C_BAD_QUERY);
		return;
	}
	j->have_match = true;
	bool local = j->match.kind == MATCH_ZONE || j->match.kind == MATCH_AUTO;
	if (j->steps == 1 && !local) {
		j->cacheable = true;
		if (j->tcp_target < 0 && answer_from_cache(j, false))
			return;
	}
	switch (j->match.kind) {
	case MATCH_ZONE:
	case MATCH_AUTO:
		step_local(j);
		return;
	case MATCH_FORWARD:
		if (j->match.id >= sl->p.n_dp_rules) {
			fail(j, SLOW_C_SERVFAIL);
			return;
		}
		step_forward(j, sl->p.rule_of_dp[j->match.id]);
		return;
	case MATCH_DELEGATE:
		step_delegate(j, j->match.id);
		return;
	default: /* SYSTEM, RECURSIVE */
		step_recurse(j);
		return;
	}
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_step(arg);
}

struct slow_job *slow_start(struct slow *sl, const struct slow_request *r, slow_done_fn *done,
			    void *arg)
{
	count(sl, SLOW_C_STARTED);
	struct slow_job *j = sl->n_jobs < sl->p.max_jobs ? calloc(1, sizeof(*j)) : NULL;
	if (!j || !(j->query = malloc(r->len ? r->len : 1)) ||
	    !(j->kick = evtimer_new(sl->p.base, on_kick, j))) {
		if (j)
			free(j->query);
		free(j);
		count(sl, SLOW_C_BUSY);
		return NULL;
	}
	memcpy(j->query, r->query, r->len);
	j->qlen = r->len;
	j->sl = sl;
	sl->n_jobs++;
	j->next = sl->jobs;
	if (sl->jobs)
		sl->jobs->prev = j;
	sl->jobs = j;
	if (wire_dns_parse_query(j->query, j->qlen, &j->qmsg) != WIRE_OK) {
		free_job(j);
		count(sl, SLOW_C_BAD_QUERY);
		return NULL;
	}
	j->done = done;
	j->arg = arg;
	j->vpc = r->vpc;
	j->link = r->link;
	j->over_tcp = r->over_tcp;
	j->tcp_target = r->tcp_target;
	j->name_len = j->qmsg.qname_len;
	memcpy(j->name, j->query + 12, j->name_len);
	if (r->match) {
		j->match = *r->match;
		j->have_match = true;
	}
	kick(j);
	return j;
}

void slow_cancel(struct slow *sl, struct slow_job *j)
{
	if (!j)
		return;
	if (j->upstream_pending)
		upstream_cancel(sl->p.upstream, j->upstream);
	if (j->recursion)
		recurse_cancel(sl->p.recurse, j->recursion);
	if (j->sub)
		slow_cancel(sl, j->sub);
	count(sl, SLOW_C_CANCELLED);
	free_job(j);
}

void slow_free(struct slow *sl)
{
	if (!sl)
		return;
	/* name servers' sub-jobs first: their done would carry on with their parents */
	for (struct slow_job *j = sl->jobs, *next; j; j = next) {
		next = j->next;
		if (j->parent)
			slow_cancel(sl, j);
	}
	while (sl->jobs) {
		struct slow_job *j = sl->jobs;
		if (j->upstream_pending)
			upstream_cancel(sl->p.upstream, j->upstream);
		if (j->recursion)
			recurse_cancel(sl->p.recurse, j->recursion);
		j->done(j->arg, NULL, 0); /* the caller frees what it tied to the query */
		free_job(j);
	}
	free(sl->rrs);
	free(sl);
}
