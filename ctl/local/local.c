/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/local: zone lookups over each zone's records sorted by owner (lower-cased wire names), the
 * answer builder, and the auto-defined names. See local.h.
 */
#include "ctl/local/local.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp/wire/wire.h"

#define TYPE_A	   1
#define TYPE_NS	   2
#define TYPE_CNAME 5
#define TYPE_SOA   6
#define TYPE_PTR   12
#define TYPE_AAAA  28
#define TYPE_ANY   255
#define AUTO_TTL   60
#define NAME_MAX_W 255

struct rec {
	struct config_zone_record r;
	uint8_t owner[NAME_MAX_W]; /* lower case */
};

struct zone_index {
	struct rec *recs; /* sorted by (owner length, owner) */
	size_t n;
	uint8_t apex[NAME_MAX_W];
	uint8_t apex_len;
	const struct rec *soa;
};

struct local {
	const struct config *cfg;
	const struct config_tables *tables;
	struct zone_index *zones;
};

static const char *const status_names[LOCAL__STATUS_COUNT] = {
    [LOCAL_OK] = "ok",
    [LOCAL_NOT_LOCAL] = "not_local",
    [LOCAL_DELEGATED] = "delegated",
    [LOCAL_BAD_QUERY] = "bad_query",
    [LOCAL_NO_ROOM] = "no_room",
};

const char *local_status_name(enum local_status s)
{
	return (unsigned)s < LOCAL__STATUS_COUNT ? status_names[s] : "?";
}

/* ---- names ---- */

static uint8_t lower(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
}

static void lower_copy(uint8_t *dst, const uint8_t *src, size_t len)
{
	for (size_t i = 0; i < len; i++)
		dst[i] = lower(src[i]);
}

/* Length of the uncompressed wire name at p (within max), 0 if malformed. */
static size_t name_len(const uint8_t *p, size_t max)
{
	size_t i = 0;
	while (i < max && p[i] != 0) {
		if (p[i] > 63)
			return 0;
		i += (size_t)p[i] + 1;
	}
	return i < max ? i + 1 : 0;
}

/* Presentation (no trailing dot, "." for the root) to wire; its length, 0 if too long. */
static size_t wire_from_text(const char *text, uint8_t *out)
{
	size_t n = 0;
	if (strcmp(text, ".") == 0 || !*text) {
		out[0] = 0;
		return 1;
	}
	while (*text) {
		const char *dot = strchr(text, '.');
		size_t l = dot ? (size_t)(dot - text) : strlen(text);
		if (l == 0 || l > 63 || n + l + 2 > NAME_MAX_W)
			return 0;
		out[n++] = (uint8_t)l;
		lower_copy(out + n, (const uint8_t *)text, l);
		n += l;
		text += l + (dot ? 1 : 0);
	}
	out[n++] = 0;
	return n;
}

/* True when name (lower case) is suffix or under it, and then *at is where suffix starts. */
static bool is_under(const uint8_t *name, size_t len, const uint8_t *suffix, size_t slen,
		     size_t *at)
{
	for (size_t i = 0; i < len; i += (size_t)name[i] + 1) {
		if (len - i == slen && memcmp(name + i, suffix, slen) == 0) {
			if (at)
				*at = i;
			return true;
		}
		if (name[i] == 0)
			break;
	}
	return false;
}

static int owner_cmp(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return memcmp(a, b, alen);
}

static int rec_cmp(const void *x, const void *y)
{
	const struct rec *a = x, *b = y;
	return owner_cmp(a->owner, a->r.owner_len, b->owner, b->r.owner_len);
}

/* ---- the index ---- */

static bool index_zone(struct zone_index *zi, const struct config_zone *z)
{
	zi->recs = calloc(z->n_records ? z->n_records : 1, sizeof(*zi->recs));
	if (!zi->recs)
		return false;
	zi->apex_len = (uint8_t)wire_from_text(z->name, zi->apex);
	size_t off = 0;
	struct config_zone_record r;
	while (config_zone_next_record(z, &off, &r)) {
		struct rec *x = &zi->recs[zi->n++];
		x->r = r;
		lower_copy(x->owner, r.owner, r.owner_len);
	}
	qsort(zi->recs, zi->n, sizeof(*zi->recs), rec_cmp);
	for (size_t i = 0; i < zi->n; i++)
		if (zi->recs[i].r.type == TYPE_SOA &&
		    owner_cmp(zi->recs[i].owner, zi->recs[i].r.owner_len, zi->apex, zi->apex_len) ==
			0)
			zi->soa = &zi->recs[i];
	return true;
}

/* The records owned by name: [*lo, *hi). */
static void find_owner(const struct zone_index *zi, const uint8_t *name, size_t len, size_t *lo,
		       size_t *hi)
{
	size_t a = 0, b = zi->n;
	while (a < b) {
		size_t mid = (a + b) / 2;
		if (owner_cmp(zi->recs[mid].owner, zi->recs[mid].r.owner_len, name, len) < 0)
			a = mid + 1;
		else
			b = mid;
	}
	*lo = a;
	while (b < zi->n && owner_cmp(zi->recs[b].owner, zi->recs[b].r.owner_len, name, len) == 0)
		b++;
	*hi = b > a ? b : a;
}

/* True when some owner lies strictly below name (name is an empty non-terminal if it owns none). */
static bool has_descendant(const struct zone_index *zi, const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < zi->n; i++) {
		size_t at;
		if (zi->recs[i].r.owner_len > len &&
		    is_under(zi->recs[i].owner, zi->recs[i].r.owner_len, name, len, &at))
			return true;
	}
	return false;
}

static bool owns_type(const struct zone_index *zi, const uint8_t *name, size_t len, uint16_t type)
{
	size_t lo, hi;
	find_owner(zi, name, len, &lo, &hi);
	for (size_t i = lo; i < hi; i++)
		if (zi->recs[i].r.type == type)
			return true;
	return false;
}

/* True when name is at or below a zone cut (NS records at an owner below the apex). */
static bool below_cut(const struct zone_index *zi, const uint8_t *name, size_t len)
{
	for (size_t i = 0; i < len && len - i > zi->apex_len; i += (size_t)name[i] + 1)
		if (owns_type(zi, name + i, len - i, TYPE_NS))
			return true;
	return false;
}

struct local *local_new(const struct config *cfg, const struct config_tables *tables, char *err,
			size_t errlen)
{
	struct local *l = calloc(1, sizeof(*l));
	if (l)
		l->zones = calloc(cfg->n_zones ? cfg->n_zones : 1, sizeof(*l->zones));
	if (!l || !l->zones)
		goto oom;
	l->cfg = cfg;
	l->tables = tables;
	for (size_t i = 0; i < cfg->n_zones; i++)
		if (!index_zone(&l->zones[i], &cfg->zones[i]))
			goto oom;
	return l;
oom:
	local_free(l);
	snprintf(err, errlen, "local answers: out of memory for the zones' index");
	return NULL;
}

void local_free(struct local *l)
{
	if (!l)
		return;
	for (size_t i = 0; l->zones && i < l->cfg->n_zones; i++)
		free(l->zones[i].recs);
	free(l->zones);
	free(l);
}

/* ---- the answer being built ---- */

struct answer {
	uint8_t *b;
	size_t cap, len;
	bool full;
	bool dangling; /* ends in a CNAME out of the zone (or under a cut): the slow path chases it
			*/
	uint16_t an, ns;
	uint8_t rcode;
	size_t question_end;
};

static void put(struct answer *a, const void *p, size_t n)
{
	if (a->len + n > a->cap) {
		a->full = true;
		return;
	}
	memcpy(a->b + a->len, p, n);
	a->len += n;
}

static void put16(struct answer *a, uint16_t v)
{
	uint8_t x[2] = {(uint8_t)(v >> 8), (uint8_t)v};
	put(a, x, 2);
}

static void put32(struct answer *a, uint32_t v)
{
	put16(a, (uint16_t)(v >> 16));
	put16(a, (uint16_t)v);
}

/* One record; owner NULL: the question's name (a pointer to it). */
static void put_rr(struct answer *a, const uint8_t *owner, size_t owner_len, uint16_t type,
		   uint16_t rclass, uint32_t ttl, const uint8_t *rdata, uint16_t rdlen)
{
	if (owner)
		put(a, owner, owner_len);
	else
		put16(a, 0xc000 | WIRE_DNS_HLEN);
	put16(a, type);
	put16(a, rclass);
	put32(a, ttl);
	put16(a, rdlen);
	put(a, rdata, rdlen);
}

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The zone's SOA in the authority section, its TTL the negative TTL (RFC 2308 3). */
static void put_soa(struct answer *a, const struct zone_index *zi)
{
	const struct config_zone_record *r = &zi->soa->r;
	uint32_t minimum = r->rdata_len >= 20 ? rd32(r->rdata + r->rdata_len - 4) : 0;
	put_rr(a, zi->apex, zi->apex_len, TYPE_SOA, r->rclass, r->ttl < minimum ? r->ttl : minimum,
	       r->rdata, r->rdata_len);
	a->ns++;
}

/* ---- private hosted zones ---- */

/* Adds the records of [lo, hi) of type (any type for ANY); their count. */
static unsigned put_rrset(struct answer *a, const struct zone_index *zi, size_t lo, size_t hi,
			  uint16_t type, const uint8_t *owner, size_t owner_len)
{
	unsigned n = 0;
	for (size_t i = lo; i < hi; i++) {
		const struct config_zone_record *r = &zi->recs[i].r;
		if (r->type != type && !(type == TYPE_ANY && r->type != TYPE_SOA))
			continue;
		put_rr(a, owner, owner_len, r->type, r->rclass, r->ttl, r->rdata, r->rdata_len);
		n++;
	}
	a->an = (uint16_t)(a->an + n);
	return n;
}

/* The wildcard's records for name, if its closest encloser has "*" below it: [*lo, *hi). */
static bool find_wildcard(const struct zone_index *zi, const uint8_t *name, size_t len, size_t *lo,
			  size_t *hi)
{
	uint8_t wild[NAME_MAX_W + 2] = {1, '*'};
	for (size_t i = (size_t)name[0] + 1; i < len && len - i >= zi->apex_len;
	     i += (size_t)name[i] + 1) {
		const uint8_t *encloser = name + i;
		size_t elen = len - i, l2, h2;
		find_owner(zi, encloser, elen, &l2, &h2);
		bool exists = l2 < h2 || has_descendant(zi, encloser, elen);
		if (!exists)
			continue;
		memcpy(wild + 2, encloser, elen);
		find_owner(zi, wild, elen + 2, lo, hi);
		return *lo < *hi;
	}
	return false;
}

static enum local_status answer_zone(const struct zone_index *zi, const struct wire_dns_msg *m,
				     const uint8_t *query, struct answer *a)
{
	uint8_t name[NAME_MAX_W];
	size_t len = m->qname_len;
	lower_copy(name, query + WIRE_DNS_HLEN, len);
	if (!zi->soa)
		return LOCAL_NOT_LOCAL;
	for (unsigned hop = 0; hop <= LOCAL_CHAIN_MAX; hop++) {
		const uint8_t *owner = hop ? name : NULL; /* the question's name: a pointer */
		if (below_cut(zi, name, len)) {
			a->dangling = hop > 0;
			return hop ? LOCAL_OK : LOCAL_DELEGATED;
		}
		size_t lo, hi;
		find_owner(zi, name, len, &lo, &hi);
		if (lo == hi && has_descendant(zi, name, len)) {
			put_soa(a, zi); /* an empty non-terminal: NODATA */
			return LOCAL_OK;
		}
		if (lo == hi && !find_wildcard(zi, name, len, &lo, &hi)) {
			a->rcode = WIRE_RCODE_NXDOMAIN;
			put_soa(a, zi);
			return LOCAL_OK;
		}
		if (put_rrset(a, zi, lo, hi, m->qtype, owner, len))
			return LOCAL_OK;
		size_t cname = hi;
		for (size_t i = lo; i < hi && m->qtype != TYPE_CNAME; i++)
			if (zi->recs[i].r.type == TYPE_CNAME)
				cname = i;
		if (cname == hi) {
			put_soa(a, zi); /* the name has other types: NODATA */
			return LOCAL_OK;
		}
		put_rrset(a, zi, cname, cname + 1, TYPE_CNAME, owner, len);
		const struct config_zone_record *r = &zi->recs[cname].r;
		len = name_len(r->rdata, r->rdata_len);
		a->dangling = true;
		if (!len)
			return LOCAL_OK;
		lower_copy(name, r->rdata, len);
		if (!is_under(name, len, zi->apex, zi->apex_len, NULL))
			return LOCAL_OK; /* leaves the zone: chasing it elsewhere is the slow path's
					  */
		a->dangling = false;
	}
	a->rcode = WIRE_RCODE_SERVFAIL; /* a CNAME loop inside the zone */
	return LOCAL_OK;
}

/* ---- auto-defined names ---- */

/* "ip-a-b-c-d" as the first label of name: the address, false if it is not one. */
static bool ip_label(const uint8_t *name, uint8_t addr[4])
{
	char label[64];
	unsigned v[4];
	char tail;
	memcpy(label, name + 1, name[0]);
	label[name[0]] = 0;
	if (sscanf(label, "ip-%u-%u-%u-%u%c", &v[0], &v[1], &v[2], &v[3], &tail) != 4)
		return false;
	for (int i = 0; i < 4; i++) {
		if (v[i] > 255)
			return false;
		addr[i] = (uint8_t)v[i];
	}
	return true;
}

/* The domain instance names live in: ec2.internal in us-east-1, else <region>.compute.internal. */
static size_t host_domain(const struct config *cfg, uint8_t *out)
{
	char text[128];
	if (strcmp(cfg->region, "us-east-1") == 0)
		snprintf(text, sizeof(text), "ec2.internal");
	else
		snprintf(text, sizeof(text), "%s.compute.internal", cfg->region);
	return wire_from_text(text, out);
}

static bool in_vpc(const struct config_vpc *vpc, const uint8_t addr[4])
{
	struct config_addr a = {.family = 4};
	memcpy(a.bytes, addr, 4);
	return config_vpc_contains(vpc, &a);
}

/* An instance name: A for an address in the VPC's CIDRs, NODATA for other types. */
static void answer_host(const struct config_vpc *vpc, const uint8_t *name, size_t len, size_t dlen,
			uint16_t qtype, struct answer *a)
{
	uint8_t addr[4];
	if (len - dlen != (size_t)name[0] + 1u || !ip_label(name, addr) || !in_vpc(vpc, addr)) {
		a->rcode = WIRE_RCODE_NXDOMAIN;
		return;
	}
	if (qtype == TYPE_A || qtype == TYPE_ANY) {
		put_rr(a, NULL, 0, TYPE_A, 1, AUTO_TTL, addr, 4);
		a->an++;
	}
}

/* A PTR name of an IPv4 address in the VPC's CIDRs answers its instance name; the rest of the
 * reverse zones answers NXDOMAIN (RFC 6303). */
static void answer_reverse(const struct config *cfg, const struct config_vpc *vpc,
			   const uint8_t *name, size_t len, uint16_t qtype, struct answer *a)
{
	static const uint8_t arpa[] = "\7in-addr\4arpa";
	uint8_t addr[4], label[4][4];
	size_t i = 0;
	for (int k = 3; k >= 0; k--) {
		if (i >= len || name[i] == 0 || name[i] > 3)
			goto nxdomain;
		memcpy(label[k], name + i + 1, name[i]);
		label[k][name[i]] = 0;
		unsigned v;
		char tail;
		if (sscanf((char *)label[k], "%u%c", &v, &tail) != 1 || v > 255)
			goto nxdomain;
		addr[k] = (uint8_t)v;
		i += (size_t)name[i] + 1;
	}
	if (len - i != sizeof(arpa) || memcmp(name + i, arpa, sizeof(arpa)) != 0 ||
	    !in_vpc(vpc, addr))
		goto nxdomain;
	if (qtype == TYPE_PTR || qtype == TYPE_ANY) {
		char host[32];
		uint8_t target[NAME_MAX_W];
		snprintf(host, sizeof(host), "ip-%u-%u-%u-%u", addr[0], addr[1], addr[2], addr[3]);
		target[0] = (uint8_t)strlen(host);
		memcpy(target + 1, host, target[0]);
		size_t tlen = 1u + target[0] + host_domain(cfg, target + 1 + target[0]);
		put_rr(a, NULL, 0, TYPE_PTR, 1, AUTO_TTL, target, (uint16_t)tlen);
		a->an++;
	}
	return;
nxdomain:
	a->rcode = WIRE_RCODE_NXDOMAIN;
}

static void answer_localhost(const uint8_t *name, size_t len, uint16_t qtype, struct answer *a)
{
	static const uint8_t localhost[] = "\11localhost";
	static const uint8_t loop4[4] = {127, 0, 0, 1}, loop6[16] = {[15] = 1};
	/* "localhost" and "localhost.localdomain" are this host; anything else under them is not */
	if (len < sizeof(localhost) || memcmp(name, localhost, sizeof(localhost) - 1) != 0 ||
	    !(len == sizeof(localhost) ||
	      (len == sizeof(localhost) + 12 && memcmp(name + 10, "\13localdomain", 12) == 0))) {
		a->rcode = WIRE_RCODE_NXDOMAIN;
		return;
	}
	if (qtype == TYPE_A || qtype == TYPE_ANY)
		put_rr(a, NULL, 0, TYPE_A, 1, 0, loop4, 4), a->an++;
	if (qtype == TYPE_AAAA || qtype == TYPE_ANY)
		put_rr(a, NULL, 0, TYPE_AAAA, 1, 0, loop6, 16), a->an++;
}

static enum local_status answer_auto(const struct local *l, uint32_t vpc, uint32_t id,
				     const struct wire_dns_msg *m, const uint8_t *query,
				     struct answer *a)
{
	const struct config_vpc_table *vt = &l->tables->vpcs[vpc];
	if (id >= vt->n_auto_rules)
		return LOCAL_NOT_LOCAL;
	const struct config_auto_rule *rule = &vt->auto_rules[id];
	uint8_t name[NAME_MAX_W], domain[NAME_MAX_W];
	size_t len = m->qname_len, dlen = wire_from_text(rule->domain, domain);
	lower_copy(name, query + WIRE_DNS_HLEN, len);
	const struct config_vpc *v = &l->cfg->vpcs[vpc];
	if (rule->reverse)
		answer_reverse(l->cfg, v, name, len, m->qtype, a);
	else if (strcmp(rule->domain, "localhost") == 0 || strcmp(rule->domain, "localdomain") == 0)
		answer_localhost(name, len, m->qtype, a);
	else if (len > dlen)
		answer_host(v, name, len, dlen, m->qtype, a);
	else
		a->rcode = WIRE_RCODE_NXDOMAIN; /* the domain itself owns nothing */
	return LOCAL_OK;
}

/* ---- the whole answer ---- */

/* Header and question: the query's ID, RD and CD, QR and RA, never AA (BEHAVIOUR.md). */
static void begin(struct answer *a, const uint8_t *query, const struct wire_dns_msg *m)
{
	uint16_t flags = WIRE_FLAG_QR | WIRE_FLAG_RA | (m->flags & (WIRE_FLAG_RD | WIRE_FLAG_CD));
	put16(a, m->id);
	put16(a, flags);
	put16(a, 1);
	put16(a, 0);
	put16(a, 0);
	put16(a, 0);
	put(a, query + WIRE_DNS_HLEN, m->question_end - WIRE_DNS_HLEN);
	a->question_end = a->len;
}

static void set16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* Counts, rcode, the client's OPT; cut to header and question with TC when over limit. */
static enum local_status finish(struct answer *a, const struct wire_dns_msg *m, uint16_t edns_size,
				size_t limit, size_t *len)
{
	size_t opt = m->has_opt ? WIRE_OPT_RR_LEN : 0;
	if (a->full || a->len + opt > limit) {
		if (a->question_end + opt > a->cap)
			return LOCAL_NO_ROOM;
		a->len = a->question_end;
		a->an = a->ns = 0;
		a->full = false;
		a->b[2] |= WIRE_FLAG_TC >> 8;
	}
	a->b[3] = (uint8_t)((a->b[3] & 0xf0) | a->rcode);
	set16(a->b + 6, a->an);
	set16(a->b + 8, a->ns);
	set16(a->b + 10, m->has_opt ? 1 : 0);
	if (m->has_opt) {
		static const uint8_t ttl_rdlen[6] = {0};
		put(a, "\0\0\51", 3); /* root owner, type OPT */
		put16(a, edns_size);
		put(a, ttl_rdlen, 6);
		if (m->opt.do_bit)
			a->b[a->len - 4] |= 0x80;
	}
	*len = a->len;
	return LOCAL_OK;
}

/* The answer to the parsed query m, before finish: header, question, records and rcode. */
static enum local_status answer_parsed(const struct local *l, uint32_t vpc, enum match_kind kind,
				       uint32_t id, const uint8_t *query,
				       const struct wire_dns_msg *m, struct answer *a)
{
	if (vpc >= l->cfg->n_vpcs || (kind != MATCH_ZONE && kind != MATCH_AUTO))
		return LOCAL_NOT_LOCAL;
	begin(a, query, m);
	if (a->full)
		return LOCAL_NO_ROOM;
	if (kind == MATCH_ZONE)
		return id < l->cfg->n_zones ? answer_zone(&l->zones[id], m, query, a)
					    : LOCAL_NOT_LOCAL;
	return answer_auto(l, vpc, id, m, query, a);
}

enum local_status local_answer(const struct local *l, uint32_t vpc, enum match_kind kind,
			       uint32_t id, const uint8_t *query, size_t qlen, uint8_t *out,
			       size_t cap, uint16_t edns_size, size_t link, size_t *len)
{
	struct wire_dns_msg m;
	if (wire_dns_parse_query(query, qlen, &m) != WIRE_OK)
		return LOCAL_BAD_QUERY;
	struct answer a = {.b = out, .cap = cap};
	enum local_status st = answer_parsed(l, vpc, kind, id, query, &m, &a);
	if (st != LOCAL_OK)
		return st;
	size_t limit = wire_dns_udp_limit(&m);
	return finish(&a, &m, edns_size, link < limit ? link : limit, len);
}

/* ---- static answers ---- */

#define STATIC_TYPES_MAX 64 /* types asked of one owner: its own, its chain's, A and AAAA */

static void add_type(uint16_t *types, size_t *n, uint16_t type)
{
	for (size_t i = 0; i < *n; i++)
		if (types[i] == type)
			return;
	if (*n < STATIC_TYPES_MAX)
		types[(*n)++] = type;
}

static void add_types_of(const struct zone_index *zi, size_t lo, size_t hi, uint16_t *types,
			 size_t *n)
{
	for (size_t i = lo; i < hi; i++)
		add_type(types, n, zi->recs[i].r.type);
}

/*
 * The types worth asking of the owner of [lo, hi): its own, A and AAAA (NODATA where it has
 * none), and for an alias every type owned along its in-zone chain, whose answers the chain makes
 * as static as the owner's own.
 */
static size_t types_to_ask(const struct zone_index *zi, size_t lo, size_t hi, uint16_t *types)
{
	size_t n = 0;
	add_types_of(zi, lo, hi, types, &n);
	add_type(types, &n, TYPE_A);
	add_type(types, &n, TYPE_AAAA);
	uint8_t name[NAME_MAX_W];
	for (unsigned hop = 0; hop < LOCAL_CHAIN_MAX; hop++) {
		size_t cname = hi;
		for (size_t i = lo; i < hi; i++)
			if (zi->recs[i].r.type == TYPE_CNAME)
				cname = i;
		if (cname == hi)
			break;
		const struct config_zone_record *r = &zi->recs[cname].r;
		size_t len = name_len(r->rdata, r->rdata_len);
		if (!len)
			break;
		lower_copy(name, r->rdata, len);
		find_owner(zi, name, len, &lo, &hi);
		add_types_of(zi, lo, hi, types, &n);
	}
	return n;
}

/* A query for (owner, type, class IN) as a client would send it: ID 0, RD, no OPT. */
static size_t synthetic_query(uint8_t *q, const uint8_t *owner, size_t owner_len, uint16_t type)
{
	static const uint8_t head[WIRE_DNS_HLEN] = {0, 0, WIRE_FLAG_RD >> 8, 0, 0, 1};
	memcpy(q, head, WIRE_DNS_HLEN);
	memcpy(q + WIRE_DNS_HLEN, owner, owner_len);
	uint8_t *tail = q + WIRE_DNS_HLEN + owner_len;
	set16(tail, type);
	set16(tail + 2, 1);
	return WIRE_DNS_HLEN + owner_len + 4;
}

/* The static answer of (owner, type) in zone z into out, or false when it is not one. */
static bool static_answer(const struct local *l, uint32_t vpc, uint32_t z, const uint8_t *owner,
			  size_t owner_len, uint16_t type, uint8_t *out, size_t *len)
{
	uint8_t q[WIRE_DNS_HLEN + NAME_MAX_W + 4];
	size_t qlen = synthetic_query(q, owner, owner_len, type);
	struct wire_dns_msg m;
	if (wire_dns_parse_query(q, qlen, &m) != WIRE_OK)
		return false;
	struct answer a = {.b = out, .cap = LOCAL_ANSWER_MAX};
	if (answer_parsed(l, vpc, MATCH_ZONE, z, q, &m, &a) != LOCAL_OK || a.dangling ||
	    a.rcode == WIRE_RCODE_SERVFAIL)
		return false;
	/* no OPT in the query: none in the answer, and a limit of the whole buffer, so that only
	 * an answer over LOCAL_ANSWER_MAX comes back truncated (and is left to the slow path) */
	if (finish(&a, &m, 0, LOCAL_ANSWER_MAX, len) != LOCAL_OK || (out[2] & (WIRE_FLAG_TC >> 8)))
		return false;
	return true;
}

/* Zone z's static answers, to fn; false when fn said stop. */
static bool zone_statics(const struct local *l, uint32_t vpc, uint32_t z, local_static_fn fn,
			 void *ctx, size_t *count)
{
	const struct zone_index *zi = &l->zones[z];
	static uint8_t out[LOCAL_ANSWER_MAX];
	uint16_t types[STATIC_TYPES_MAX];
	if (!zi->soa)
		return true;
	for (size_t lo = 0, hi; lo < zi->n; lo = hi) {
		const uint8_t *owner = zi->recs[lo].owner;
		size_t owner_len = zi->recs[lo].r.owner_len;
		find_owner(zi, owner, owner_len, &lo, &hi);
		/* a wildcard answers names the lcore would need its closest encloser to find, and
		 * a delegation's names are the delegate rule's or a referral's */
		bool wild = owner[0] == 1 && owner[1] == '*';
		if (wild || !is_under(owner, owner_len, zi->apex, zi->apex_len, NULL) ||
		    below_cut(zi, owner, owner_len))
			continue;
		size_t n = types_to_ask(zi, lo, hi, types);
		for (size_t t = 0; t < n; t++) {
			size_t len;
			if (!static_answer(l, vpc, z, owner, owner_len, types[t], out, &len))
				continue;
			struct local_static sa = {.zone = z,
						  .qname = owner,
						  .qname_len = owner_len,
						  .qtype = types[t],
						  .qclass = 1,
						  .msg = out,
						  .len = len};
			if (!fn(ctx, &sa))
				return false;
			(*count)++;
		}
	}
	return true;
}

long local_static_answers(const struct local *l, uint32_t vpc, local_static_fn fn, void *ctx)
{
	if (vpc >= l->cfg->n_vpcs)
		return 0;
	const struct config_vpc *v = &l->cfg->vpcs[vpc];
	size_t count = 0;
	for (size_t z = 0; z < v->n_zones; z++) {
		uint32_t index = v->zones[z].index;
		if (index == CONFIG_INDEX_NONE || index >= l->cfg->n_zones)
			continue;
		if (!zone_statics(l, vpc, index, fn, ctx, &count))
			return -1;
	}
	return (long)count;
}

/* ---- referrals ---- */

/* The most specific zone associated with the VPC that holds name (lower case); NULL if none. */
static const struct zone_index *zone_of(const struct local *l, uint32_t vpc, const uint8_t *name,
					size_t len)
{
	const struct config_vpc *v = &l->cfg->vpcs[vpc];
	const struct zone_index *best = NULL;
	for (size_t z = 0; z < v->n_zones; z++) {
		if (v->zones[z].index == CONFIG_INDEX_NONE)
			continue;
		const struct zone_index *zi = &l->zones[v->zones[z].index];
		if (is_under(name, len, zi->apex, zi->apex_len, NULL) &&
		    (!best || zi->apex_len > best->apex_len))
			best = zi;
	}
	return best;
}

static void add_glue(const struct zone_index *zi, struct local_ns *ns)
{
	size_t lo, hi;
	find_owner(zi, ns->name, ns->name_len, &lo, &hi);
	for (size_t i = lo; i < hi && ns->n_glue < LOCAL_GLUE_MAX; i++) {
		const struct config_zone_record *r = &zi->recs[i].r;
		bool v4 = r->type == TYPE_A && r->rdata_len == 4;
		if (!v4 && !(r->type == TYPE_AAAA && r->rdata_len == 16))
			continue;
		struct config_addr *a = &ns->glue[ns->n_glue++];
		memset(a, 0, sizeof(*a));
		a->family = v4 ? 4 : 6;
		memcpy(a->bytes, r->rdata, r->rdata_len);
	}
}

size_t local_delegation(const struct local *l, uint32_t vpc, const uint8_t *name, size_t len,
			struct local_ns *out, size_t cap)
{
	uint8_t low[NAME_MAX_W];
	if (vpc >= l->cfg->n_vpcs || len > NAME_MAX_W)
		return 0;
	lower_copy(low, name, len);
	const struct zone_index *zi = zone_of(l, vpc, low, len);
	if (!zi)
		return 0;
	/* the deepest cut first: walk from the name itself up to just below the apex */
	for (size_t i = 0; i < len && len - i > zi->apex_len; i += (size_t)low[i] + 1) {
		size_t lo, hi, n = 0;
		find_owner(zi, low + i, len - i, &lo, &hi);
		for (size_t k = lo; k < hi && n < cap; k++) {
			const struct config_zone_record *r = &zi->recs[k].r;
			if (r->type != TYPE_NS || r->rdata_len > NAME_MAX_W)
				continue;
			memset(&out[n], 0, sizeof(out[n]));
			lower_copy(out[n].name, r->rdata, r->rdata_len);
			out[n].name_len = (uint8_t)r->rdata_len;
			add_glue(zi, &out[n]);
			n++;
		}
		if (n)
			return n;
	}
	return 0;
}
