/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/config validation: the checks that need the whole config. It resolves references by name
 * (listing what exists when the list is short), refuses duplicates, fills the endpoint defaults
 * from their VPC, merges zone associations made from either side, and checks what only the whole
 * picture shows: rule type against its fields, endpoint direction and address families, one rule
 * per domain per VPC, VPCs that would be indistinguishable on one segment, and forwarding loops
 * through a VPC's own inbound endpoint. Work is O(n log n) in the config's size: names are looked
 * up in sorted indexes.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/config/internal.h"

struct entry {
	const char *name;
	uint32_t index;
	unsigned line;
};

struct index {
	struct entry *v;
	size_t n;
	const char *kind; /* "interface", "vpc", ... */
	const char *plural;
};

struct check {
	struct config *cfg;
	struct config_errors *errs;
	struct index interfaces, vpcs, endpoints, rules, zones;
	uint32_t *vpc_marks, *zone_marks; /* for check_repeats */
	uint32_t stamp;
};

#define CHECK_ERROR(c, line, ctx, ...)                                                             \
	config_error_add((c)->errs, (c)->cfg->path, line, ctx, __VA_ARGS__)

static int compare_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	int by_name = strcmp(x->name, y->name);
	return by_name ? by_name : (x->index > y->index) - (x->index < y->index);
}

/* Indexes the named objects of one array (each holds a char * name and an unsigned line). */
static void build_index(struct index *ix, const void *base, size_t n, size_t stride,
			size_t name_off, size_t line_off)
{
	ix->v = calloc(n ? n : 1, sizeof(*ix->v));
	ix->n = 0;
	for (size_t i = 0; i < n && ix->v; i++) {
		const char *item = (const char *)base + i * stride;
		const char *name = *(char *const *)(item + name_off);
		if (!name)
			continue;
		ix->v[ix->n++] =
		    (struct entry){name, (uint32_t)i, *(const unsigned *)(item + line_off)};
	}
	if (ix->v)
		qsort(ix->v, ix->n, sizeof(*ix->v), compare_entry);
}

static void report_duplicates(struct check *c, const struct index *ix, const char *what)
{
	for (size_t i = 1; i < ix->n; i++) {
		const struct entry *first = &ix->v[i - 1], *again = &ix->v[i];
		if (strcmp(first->name, again->name) != 0)
			continue;
		char ctx[300];
		snprintf(ctx, sizeof(ctx), "%s '%s'", ix->kind, again->name);
		CHECK_ERROR(c, again->line, ctx,
			    "the %s is already used by the %s at line %u; %ss must be unique", what,
			    ix->kind, first->line, what);
	}
}

static const struct entry *find(const struct index *ix, const char *name)
{
	struct entry key = {name, 0, 0};
	size_t lo = 0, hi = ix->n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int cmp = strcmp(ix->v[mid].name, key.name);
		while (cmp == 0 && mid > 0 && strcmp(ix->v[mid - 1].name, key.name) == 0)
			mid--; /* a duplicated name means its first definition */
		if (cmp == 0)
			return &ix->v[mid];
		if (cmp < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* "(defined: lab0, lab1)", or how many there are when the list is long. */
static void describe_defined(const struct index *ix, char *buf, size_t len)
{
	if (ix->n == 0) {
		snprintf(buf, len, "(no %s is defined)", ix->kind);
		return;
	}
	if (ix->n > 6) {
		snprintf(buf, len, "(%zu %s are defined)", ix->n, ix->plural);
		return;
	}
	size_t used = (size_t)snprintf(buf, len, "(defined: ");
	for (size_t i = 0; i < ix->n && used < len; i++)
		used +=
		    (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", ix->v[i].name);
	if (used < len)
		snprintf(buf + used, len - used, ")");
}

/* Resolves ref against ix; reports an unknown name. An absent ref stays CONFIG_INDEX_NONE. */
static bool resolve(struct check *c, struct config_ref *ref, const struct index *ix,
		    const char *ctx, const char *key)
{
	if (!ref->name)
		return false;
	const struct entry *e = find(ix, ref->name);
	if (e) {
		ref->index = e->index;
		return true;
	}
	char defined[512];
	describe_defined(ix, defined, sizeof(defined));
	CHECK_ERROR(c, ref->line, ctx, "%s '%s' is not defined %s", key, ref->name, defined);
	return false;
}

/* Refuses a name listed twice in one list of resolved references. marks has one slot per referenced
 * object and stamp is unique to this list, so the check is linear in the list's length. */
static void check_repeats(struct check *c, const struct config_ref *refs, size_t n, uint32_t *marks,
			  uint32_t stamp, const char *ctx, const char *key)
{
	for (size_t i = 0; marks && i < n; i++) {
		if (refs[i].index == CONFIG_INDEX_NONE)
			continue;
		if (marks[refs[i].index] == stamp)
			CHECK_ERROR(c, refs[i].line, ctx, "'%s' lists '%s' twice", key,
				    refs[i].name);
		marks[refs[i].index] = stamp;
	}
}

/* Zone references are ids, compared like domain names: in normal form. */
static void normalise_zone_refs(struct config_ref *refs, size_t n)
{
	char name[256], why[128];
	for (size_t i = 0; i < n; i++)
		if (config_parse_domain(refs[i].name, name, why, sizeof(why)))
			strcpy(refs[i].name, name); /* never longer than the original */
}

static void build_indexes(struct check *c)
{
	struct config *cfg = c->cfg;
#define INDEX(ix, arr, n, type, field)                                                             \
	build_index(ix, arr, n, sizeof(type), offsetof(type, field), offsetof(type, line))
	INDEX(&c->interfaces, cfg->interfaces, cfg->n_interfaces, struct config_interface, name);
	INDEX(&c->vpcs, cfg->vpcs, cfg->n_vpcs, struct config_vpc, id);
	INDEX(&c->endpoints, cfg->endpoints, cfg->n_endpoints, struct config_endpoint, id);
	INDEX(&c->rules, cfg->rules, cfg->n_rules, struct config_rule, id);
	INDEX(&c->zones, cfg->zones, cfg->n_zones, struct config_zone, id);
#undef INDEX
	c->interfaces.kind = "interface", c->interfaces.plural = "interfaces";
	c->vpcs.kind = "vpc", c->vpcs.plural = "vpcs";
	c->endpoints.kind = "endpoint", c->endpoints.plural = "endpoints";
	c->rules.kind = "rule", c->rules.plural = "rules";
	c->zones.kind = "hosted zone", c->zones.plural = "hosted zones";
	report_duplicates(c, &c->interfaces, "name");
	report_duplicates(c, &c->vpcs, "id");
	report_duplicates(c, &c->endpoints, "id");
	report_duplicates(c, &c->rules, "id");
	report_duplicates(c, &c->zones, "id");
}

static void check_devices(struct check *c)
{
	struct index devices;
	build_index(&devices, c->cfg->interfaces, c->cfg->n_interfaces,
		    sizeof(struct config_interface), offsetof(struct config_interface, device),
		    offsetof(struct config_interface, line));
	devices.kind = "device";
	for (size_t i = 1; i < devices.n; i++) {
		if (strcmp(devices.v[i - 1].name, devices.v[i].name) != 0)
			continue;
		char ctx[300];
		snprintf(ctx, sizeof(ctx), "interface '%s'",
			 c->cfg->interfaces[devices.v[i].index].name ?: "?");
		CHECK_ERROR(
		    c, devices.v[i].line, ctx,
		    "device '%s' is already the interface at line %u; a DPDK device can be one "
		    "interface only",
		    devices.v[i].name, devices.v[i - 1].line);
	}
	free(devices.v);
	for (size_t i = 0; i < c->cfg->n_interfaces; i++) {
		const struct config_interface *a = &c->cfg->interfaces[i];
		for (size_t j = 0; j < i && a->kernel_interface; j++) {
			const struct config_interface *b = &c->cfg->interfaces[j];
			if (!b->kernel_interface ||
			    strcmp(a->kernel_interface, b->kernel_interface))
				continue;
			char ctx[300];
			snprintf(ctx, sizeof(ctx), "interface '%s'", a->name ?: "?");
			CHECK_ERROR(c, a->line, ctx,
				    "kernel_interface '%s' is already interface '%s''s (line %u)",
				    a->kernel_interface, b->name ?: "?", b->line);
		}
	}
}

/* --- VPCs and zones --- */

static bool vpc_has_zone(const struct config_vpc *vpc, uint32_t zone)
{
	for (size_t i = 0; i < vpc->n_zones; i++)
		if (vpc->zones[i].index == zone)
			return true;
	return false;
}

/* A zone listing a VPC is the same association as the VPC listing the zone: keep it on the VPC. */
static void merge_zone_associations(struct check *c)
{
	struct config *cfg = c->cfg;
	for (size_t z = 0; z < cfg->n_zones; z++) {
		struct config_zone *zone = &cfg->zones[z];
		char ctx[300];
		snprintf(ctx, sizeof(ctx), "hosted zone '%s'", zone->name ?: "?");
		for (size_t i = 0; i < zone->n_vpcs; i++)
			resolve(c, &zone->vpcs[i], &c->vpcs, ctx, "vpc");
		check_repeats(c, zone->vpcs, zone->n_vpcs, c->vpc_marks, ++c->stamp, ctx, "vpcs");
		for (size_t i = 0; i < zone->n_vpcs; i++) {
			if (zone->vpcs[i].index == CONFIG_INDEX_NONE)
				continue;
			struct config_vpc *vpc = &cfg->vpcs[zone->vpcs[i].index];
			if (vpc_has_zone(vpc, (uint32_t)z))
				continue;
			struct config_ref *grown =
			    realloc(vpc->zones, (vpc->n_zones + 1) * sizeof(*vpc->zones));
			if (!grown)
				continue;
			vpc->zones = grown;
			vpc->zones[vpc->n_zones++] =
			    (struct config_ref){strdup(zone->id), zone->vpcs[i].line, (uint32_t)z};
		}
	}
}

static void check_vpc_refs(struct check *c)
{
	for (size_t v = 0; v < c->cfg->n_vpcs; v++) {
		struct config_vpc *vpc = &c->cfg->vpcs[v];
		char ctx[300];
		snprintf(ctx, sizeof(ctx), "vpc '%s'", vpc->id ?: "?");
		resolve(c, &vpc->interface, &c->interfaces, ctx, "interface");
		normalise_zone_refs(vpc->zones, vpc->n_zones);
		for (size_t i = 0; i < vpc->n_zones; i++)
			resolve(c, &vpc->zones[i], &c->zones, ctx, "hosted zone");
		check_repeats(c, vpc->zones, vpc->n_zones, c->zone_marks, ++c->stamp, ctx,
			      "hosted_zones");
	}
}

/* Tenants may each have a zone called central.com, but one VPC sees one of them: two would leave
 * the answer for www.central.com undecided. */
static void check_one_zone_per_name(struct check *c)
{
	for (size_t v = 0; v < c->cfg->n_vpcs; v++) {
		const struct config_vpc *vpc = &c->cfg->vpcs[v];
		for (size_t i = 1; i < vpc->n_zones; i++) {
			if (vpc->zones[i].index == CONFIG_INDEX_NONE)
				continue;
			const struct config_zone *zi = &c->cfg->zones[vpc->zones[i].index];
			for (size_t j = 0; j < i; j++) {
				if (vpc->zones[j].index == CONFIG_INDEX_NONE)
					continue;
				const struct config_zone *zj = &c->cfg->zones[vpc->zones[j].index];
				if (zi == zj || !zi->name || !zj->name ||
				    strcmp(zi->name, zj->name))
					continue;
				char ctx[300];
				snprintf(ctx, sizeof(ctx), "vpc '%s'", vpc->id ?: "?");
				CHECK_ERROR(
				    c, vpc->zones[i].line, ctx,
				    "hosted zones '%s' and '%s' (line %u) are both %s; a VPC "
				    "can be associated with one private hosted zone per name",
				    zi->id, zj->id, zj->line, zi->name);
				break;
			}
		}
	}
}

static bool same_segment(const struct config_vpc *a, const struct config_vpc *b)
{
	return a->interface.index != CONFIG_INDEX_NONE &&
	       a->interface.index == b->interface.index && a->vlan == b->vlan;
}

/* Two VPCs on one interface and VLAN are told apart by their clients' addresses only. */
static void check_vpc_overlap(struct check *c, const struct config_vpc *a,
			      const struct config_vpc *b)
{
	for (size_t i = 0; i < a->n_cidrs; i++) {
		for (size_t j = 0; j < b->n_cidrs; j++) {
			if (!config_prefixes_overlap(&a->cidrs[i], &b->cidrs[j]))
				continue;
			char pa[64], pb[64], ctx[300];
			config_prefix_format(&a->cidrs[i], pa, sizeof(pa));
			config_prefix_format(&b->cidrs[j], pb, sizeof(pb));
			snprintf(ctx, sizeof(ctx), "vpc '%s'", b->id ?: "?");
			CHECK_ERROR(
			    c, b->cidrs[j].line, ctx,
			    "CIDR %s overlaps %s of vpc '%s' (line %u) on the same interface "
			    "and VLAN %u: their clients would be indistinguishable; put one "
			    "VPC on another VLAN or interface",
			    pb, pa, a->id ?: "?", a->cidrs[i].line, b->vlan);
		}
	}
}

static void check_own_cidrs(struct check *c, const struct config_vpc *vpc)
{
	for (size_t i = 0; i < vpc->n_cidrs; i++) {
		for (size_t j = 0; j < i; j++) {
			if (!config_prefixes_overlap(&vpc->cidrs[j], &vpc->cidrs[i]))
				continue;
			char p[64], ctx[300];
			config_prefix_format(&vpc->cidrs[i], p, sizeof(p));
			snprintf(ctx, sizeof(ctx), "vpc '%s'", vpc->id ?: "?");
			CHECK_ERROR(c, vpc->cidrs[i].line, ctx,
				    "CIDR %s overlaps the CIDR at line %u; list each block once", p,
				    vpc->cidrs[j].line);
		}
	}
}

static int compare_segment(const void *a, const void *b, void *vpcs)
{
	const struct config_vpc *x = &((const struct config_vpc *)vpcs)[*(const uint32_t *)a];
	const struct config_vpc *y = &((const struct config_vpc *)vpcs)[*(const uint32_t *)b];
	if (x->interface.index != y->interface.index)
		return x->interface.index < y->interface.index ? -1 : 1;
	if (x->vlan != y->vlan)
		return x->vlan < y->vlan ? -1 : 1;
	return (*(const uint32_t *)a > *(const uint32_t *)b) -
	       (*(const uint32_t *)a < *(const uint32_t *)b);
}

/* Only VPCs on one segment (interface and VLAN) can collide: sort by segment, compare within. */
static void check_vpcs(struct check *c)
{
	struct config *cfg = c->cfg;
	uint32_t *order = calloc(cfg->n_vpcs + 1, sizeof(*order));
	for (size_t v = 0; v < cfg->n_vpcs; v++) {
		check_own_cidrs(c, &cfg->vpcs[v]);
		if (order)
			order[v] = (uint32_t)v;
	}
	if (!order)
		return;
	qsort_r(order, cfg->n_vpcs, sizeof(*order), compare_segment, cfg->vpcs);
	for (size_t start = 0, end; start < cfg->n_vpcs; start = end) {
		const struct config_vpc *first = &cfg->vpcs[order[start]];
		for (end = start + 1;
		     end < cfg->n_vpcs && same_segment(first, &cfg->vpcs[order[end]]); end++)
			;
		for (size_t a = start; a < end; a++)
			for (size_t b = a + 1; b < end; b++)
				check_vpc_overlap(c, &cfg->vpcs[order[a]], &cfg->vpcs[order[b]]);
	}
	free(order);
}

/* --- endpoints --- */

static bool is_resolver_address(const struct config_vpc *vpc, const struct config_addr *a)
{
	for (size_t i = 0; i < vpc->n_resolver_addresses; i++)
		if (config_addr_equal(&vpc->resolver_addresses[i], a))
			return true;
	return false;
}

/* Each address lies in the VPC and is the endpoint's own, not one the VPC's resolver answers on. */
static void check_endpoint_addresses(struct check *c, struct config_endpoint *ep,
				     const struct config_vpc *vpc, const char *ctx)
{
	for (size_t i = 0; i < ep->n_addresses; i++) {
		char a[64];
		config_addr_format(&ep->addresses[i], a, sizeof(a));
		if (is_resolver_address(vpc, &ep->addresses[i]))
			CHECK_ERROR(
			    c, ep->address_lines[i], ctx,
			    "address %s is a resolver address of vpc '%s'; an endpoint needs "
			    "addresses of its own",
			    a, vpc->id);
		else if (vpc->cidrs_complete && !config_vpc_contains(vpc, &ep->addresses[i]))
			CHECK_ERROR(c, ep->address_lines[i], ctx,
				    "address %s is not inside the CIDRs of vpc '%s'; an endpoint's "
				    "addresses are in its VPC",
				    a, vpc->id);
	}
}

static bool endpoints_share_segment(const struct config_endpoint *a,
				    const struct config_endpoint *b)
{
	return a->interface.index == b->interface.index && a->vlan == b->vlan;
}

static void check_endpoint_address_reuse(struct check *c, size_t e)
{
	struct config_endpoint *ep = &c->cfg->endpoints[e];
	char ctx[300];
	snprintf(ctx, sizeof(ctx), "endpoint '%s'", ep->id ?: "?");
	for (size_t o = 0; o < e; o++) {
		const struct config_endpoint *other = &c->cfg->endpoints[o];
		if (!endpoints_share_segment(ep, other))
			continue;
		for (size_t i = 0; i < ep->n_addresses; i++)
			for (size_t j = 0; j < other->n_addresses; j++)
				if (config_addr_equal(&ep->addresses[i], &other->addresses[j])) {
					char a[64];
					config_addr_format(&ep->addresses[i], a, sizeof(a));
					CHECK_ERROR(c, ep->address_lines[i], ctx,
						    "address %s is already used by endpoint '%s' "
						    "(line %u)",
						    a, other->id ?: "?", other->address_lines[j]);
				}
	}
}

static void check_endpoints(struct check *c)
{
	struct config *cfg = c->cfg;
	for (size_t e = 0; e < cfg->n_endpoints; e++) {
		struct config_endpoint *ep = &cfg->endpoints[e];
		char ctx[300];
		snprintf(ctx, sizeof(ctx), "endpoint '%s'", ep->id ?: "?");
		if (!ep->id) /* the walk has said what is wrong with it */
			continue;
		if (!resolve(c, &ep->vpc, &c->vpcs, ctx, "vpc"))
			continue;
		const struct config_vpc *vpc = &cfg->vpcs[ep->vpc.index];
		if (ep->interface.name)
			resolve(c, &ep->interface, &c->interfaces, ctx, "interface");
		else
			ep->interface.index = vpc->interface.index;
		if (ep->vlan == UINT16_MAX)
			ep->vlan = vpc->vlan;
		check_endpoint_addresses(c, ep, vpc, ctx);
		check_endpoint_address_reuse(c, e);
	}
}

/* --- rules --- */

static bool endpoint_has_family(const struct config_endpoint *ep, uint8_t family)
{
	for (size_t i = 0; i < ep->n_addresses; i++)
		if (ep->addresses[i].family == family)
			return true;
	return false;
}

static void check_rule_endpoint(struct check *c, struct config_rule *r, const char *ctx)
{
	if (!r->endpoint.name) {
		CHECK_ERROR(
		    c, r->line, ctx,
		    "a %s rule needs 'endpoint': the outbound endpoint its queries leave from",
		    config_rule_type_name(r->type));
		return;
	}
	if (!resolve(c, &r->endpoint, &c->endpoints, ctx, "endpoint"))
		return;
	const struct config_endpoint *ep = &c->cfg->endpoints[r->endpoint.index];
	if (ep->direction != CONFIG_OUTBOUND) {
		CHECK_ERROR(
		    c, r->endpoint.line, ctx,
		    "endpoint '%s' is inbound; a rule sends queries out through an outbound "
		    "endpoint",
		    ep->id);
		return;
	}
	for (size_t i = 0; i < r->n_targets; i++) {
		uint8_t family = r->targets[i].addr.family;
		if (endpoint_has_family(ep, family))
			continue;
		char a[64];
		config_addr_format(&r->targets[i].addr, a, sizeof(a));
		CHECK_ERROR(
		    c, r->targets[i].line, ctx,
		    "target %s is IPv%u but endpoint '%s' has no IPv%u address to send from", a,
		    family, ep->id, family);
	}
}

static void check_rule_fields(struct check *c, struct config_rule *r, const char *ctx)
{
	bool root = r->domain && strcmp(r->domain, ".") == 0;
	if (r->type == CONFIG_RULE_SYSTEM) {
		if (r->endpoint.name)
			CHECK_ERROR(c, r->endpoint.line, ctx,
				    "a system rule is resolved by the resolver itself and takes no "
				    "endpoint; remove 'endpoint'");
		if (r->n_targets)
			CHECK_ERROR(c, r->targets[0].line, ctx,
				    "a system rule is resolved by the resolver itself and takes no "
				    "targets; remove 'targets'");
	} else {
		/* a delegate rule without targets asks the zone's name servers */
		if (r->n_targets == 0 && r->endpoint.name && r->type != CONFIG_RULE_DELEGATE)
			CHECK_ERROR(
			    c, r->line, ctx,
			    "a %s rule needs 'targets': 1 to %d addresses to send queries to",
			    config_rule_type_name(r->type), CONFIG_MAX_TARGETS);
		check_rule_endpoint(c, r, ctx);
	}
	if (root && r->type != CONFIG_RULE_FORWARD)
		CHECK_ERROR(c, r->line, ctx,
			    "a %s rule cannot be for \".\"; only a forward rule can take over the "
			    "recursive \".\" rule",
			    config_rule_type_name(r->type));
}

struct association {
	const char *domain;
	uint32_t vpc;
	uint32_t rule;
	unsigned line;
};

static int compare_association(const void *a, const void *b)
{
	const struct association *x = a, *y = b;
	if (x->vpc != y->vpc)
		return x->vpc < y->vpc ? -1 : 1;
	int by_domain = strcmp(x->domain, y->domain);
	if (by_domain)
		return by_domain;
	return (x->rule > y->rule) - (x->rule < y->rule);
}

/* A VPC takes one rule per domain: sort every (VPC, domain) association and look at neighbours. */
static void check_one_rule_per_domain(struct check *c)
{
	struct config *cfg = c->cfg;
	size_t n = 0;
	for (size_t r = 0; r < cfg->n_rules; r++)
		n += cfg->rules[r].n_vpcs;
	struct association *a = calloc(n ? n : 1, sizeof(*a));
	size_t k = 0;
	for (size_t r = 0; r < cfg->n_rules && a; r++)
		for (size_t i = 0; i < cfg->rules[r].n_vpcs; i++)
			if (cfg->rules[r].domain &&
			    cfg->rules[r].vpcs[i].index != CONFIG_INDEX_NONE)
				a[k++] = (struct association){
				    cfg->rules[r].domain, cfg->rules[r].vpcs[i].index, (uint32_t)r,
				    cfg->rules[r].vpcs[i].line};
	if (a)
		qsort(a, k, sizeof(*a), compare_association);
	for (size_t i = 1; i < k; i++) {
		if (a[i].vpc != a[i - 1].vpc || strcmp(a[i].domain, a[i - 1].domain) != 0)
			continue;
		const struct config_rule *first = &cfg->rules[a[i - 1].rule];
		char ctx[300], other[300];
		config_rule_label(&cfg->rules[a[i].rule], ctx, sizeof(ctx));
		config_rule_label(first, other, sizeof(other));
		CHECK_ERROR(
		    c, a[i].line, ctx,
		    "%s (line %u) is also for domain '%s' and also associated with vpc '%s'; "
		    "a VPC takes one rule per domain: associate only one of them",
		    other, first->line, a[i].domain, cfg->vpcs[a[i].vpc].id);
	}
	free(a);
}

/* The rule's target is the resolver of a VPC the rule serves, on the endpoint's own segment: the
 * query comes straight back to this rule. */
static bool check_resolver_loop(struct check *c, const struct config_rule *r, const char *ctx,
				const struct config_target *t, const struct config_endpoint *out)
{
	for (size_t v = 0; v < r->n_vpcs; v++) {
		if (r->vpcs[v].index == CONFIG_INDEX_NONE)
			continue;
		const struct config_vpc *vpc = &c->cfg->vpcs[r->vpcs[v].index];
		if (vpc->interface.index != out->interface.index || vpc->vlan != out->vlan ||
		    !is_resolver_address(vpc, &t->addr))
			continue;
		char a[64];
		config_addr_format(&t->addr, a, sizeof(a));
		CHECK_ERROR(
		    c, t->line, ctx,
		    "forwarding loop: target %s is a resolver address of vpc '%s', which this "
		    "rule serves, so its queries would come straight back to this rule; point "
		    "the rule at the servers that answer for '%s'",
		    a, vpc->id, r->domain);
		return true;
	}
	return false;
}

/* The rule's target is an inbound endpoint of a VPC the rule serves: the query comes back in
 * through that endpoint, meets the same rule and goes out again, until it times out. */
static bool check_loop_target(struct check *c, const struct config_rule *r, const char *ctx,
			      const struct config_target *t)
{
	const struct config *cfg = c->cfg;
	const struct config_endpoint *out = &cfg->endpoints[r->endpoint.index];
	for (size_t e = 0; e < cfg->n_endpoints; e++) {
		const struct config_endpoint *in = &cfg->endpoints[e];
		if (in->direction != CONFIG_INBOUND || !endpoints_share_segment(in, out))
			continue;
		bool hit = false;
		for (size_t i = 0; i < in->n_addresses; i++)
			hit |= config_addr_equal(&in->addresses[i], &t->addr);
		for (size_t v = 0; hit && v < r->n_vpcs; v++) {
			if (r->vpcs[v].index != in->vpc.index)
				continue;
			char a[64];
			config_addr_format(&t->addr, a, sizeof(a));
			CHECK_ERROR(
			    c, r->vpcs[v].line, ctx,
			    "forwarding loop: target %s is inbound endpoint '%s' of vpc '%s', "
			    "and the rule is associated with vpc '%s' too, so queries would "
			    "bounce between the outbound and inbound endpoints until they time "
			    "out (clients see SERVFAIL); associate the rule with the other VPCs "
			    "only",
			    a, in->id, r->vpcs[v].name, r->vpcs[v].name);
			return true;
		}
	}
	return check_resolver_loop(c, r, ctx, t, out);
}

/* True when domain lies strictly below zone ("a.central.com" below "central.com"). */
static bool strictly_below(const char *domain, const char *zone)
{
	size_t d = strlen(domain), z = strlen(zone);
	return d > z + 1 && domain[d - z - 1] == '.' && strcmp(domain + d - z, zone) == 0;
}

/* A delegate rule only ever follows a referral out of a private hosted zone, so each VPC it serves
 * needs a zone above its domain; without one the rule can never be reached. */
static void check_delegation_has_zone(struct check *c, const struct config_rule *r, const char *ctx)
{
	for (size_t v = 0; v < r->n_vpcs; v++) {
		if (r->vpcs[v].index == CONFIG_INDEX_NONE)
			continue;
		const struct config_vpc *vpc = &c->cfg->vpcs[r->vpcs[v].index];
		bool covered = false;
		for (size_t z = 0; z < vpc->n_zones && !covered; z++)
			covered =
			    vpc->zones[z].index != CONFIG_INDEX_NONE &&
			    strictly_below(r->domain, c->cfg->zones[vpc->zones[z].index].name);
		if (!covered)
			CHECK_ERROR(
			    c, r->vpcs[v].line, ctx,
			    "a delegate rule follows a referral out of a private hosted zone, "
			    "but no zone of vpc '%s' holds '%s'; associate the parent zone "
			    "(with NS records for %s) with the VPC, or make this a forward rule",
			    vpc->id, r->domain, r->domain);
	}
}

static void check_rules(struct check *c)
{
	struct config *cfg = c->cfg;
	for (size_t i = 0; i < cfg->n_rules; i++) {
		struct config_rule *r = &cfg->rules[i];
		char ctx[300];
		config_rule_label(r, ctx, sizeof(ctx));
		if (!r->id || !r->domain) /* the walk has said what is wrong with it */
			continue;
		for (size_t v = 0; v < r->n_vpcs; v++)
			resolve(c, &r->vpcs[v], &c->vpcs, ctx, "vpc");
		check_repeats(c, r->vpcs, r->n_vpcs, c->vpc_marks, ++c->stamp, ctx, "vpcs");
		check_rule_fields(c, r, ctx);
		if (r->type == CONFIG_RULE_DELEGATE)
			check_delegation_has_zone(c, r, ctx);
		if (r->type == CONFIG_RULE_SYSTEM || r->endpoint.index == CONFIG_INDEX_NONE)
			continue;
		for (size_t t = 0; t < r->n_targets; t++)
			if (check_loop_target(c, r, ctx, &r->targets[t]))
				break; /* one loop report per rule is enough to fix it */
	}
	check_one_rule_per_domain(c);
}

/* The VPC router must be on the VPC's own segment, and not an address vpcdns answers on. */
static void check_gateways(struct check *c)
{
	for (size_t v = 0; v < c->cfg->n_vpcs; v++) {
		const struct config_vpc *vpc = &c->cfg->vpcs[v];
		char ctx[300], addr[64];
		if (vpc->gateway.family == 0 || !vpc->cidrs_complete)
			continue;
		snprintf(ctx, sizeof(ctx), "vpc '%s'", vpc->id ?: "?");
		config_addr_format(&vpc->gateway, addr, sizeof(addr));
		unsigned line = vpc->gateway_line ? vpc->gateway_line : vpc->line;
		if (!config_vpc_contains(vpc, &vpc->gateway))
			CHECK_ERROR(
			    c, line, ctx,
			    "gateway %s is outside the VPC's CIDRs; the router that reaches "
			    "targets outside them must be on the VPC's own segment",
			    addr);
		else if (is_resolver_address(vpc, &vpc->gateway))
			CHECK_ERROR(c, line, ctx,
				    "gateway %s is one of the VPC's resolver addresses; give the "
				    "router's own address (by default the CIDR base + 1)",
				    addr);
	}
}

void config_validate(struct config *cfg, struct config_errors *errs)
{
	struct check c = {.cfg = cfg, .errs = errs};
	c.vpc_marks = calloc(cfg->n_vpcs + 1, sizeof(*c.vpc_marks));
	c.zone_marks = calloc(cfg->n_zones + 1, sizeof(*c.zone_marks));
	build_indexes(&c);
	check_devices(&c);
	check_vpc_refs(&c);
	merge_zone_associations(&c);
	check_one_zone_per_name(&c);
	check_vpcs(&c);
	check_gateways(&c);
	check_endpoints(&c);
	check_rules(&c);
	free(c.interfaces.v);
	free(c.vpcs.v);
	free(c.endpoints.v);
	free(c.rules.v);
	free(c.zones.v);
	free(c.vpc_marks);
	free(c.zone_marks);
}
