/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/config YAML walk: reads the config file with libfyaml and walks its document tree into the
 * model (config.h), checking each value where it stands: unknown keys (named, with the valid ones
 * listed), wrong types, missing required keys, values out of range. libfyaml keeps the position of
 * every token, so each error, and each object for later checks, carries its line. Cross-references
 * are left as names for config_validate to resolve.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <libfyaml.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl/config/internal.h"

struct walk {
	struct config *cfg;
	struct config_errors *errs;
};

struct field {
	const char *key;
	bool required;
};

#define WALK_ERROR(w, node, ctx, ...)                                                              \
	config_error_add((w)->errs, (w)->cfg->path, line_of(node), ctx, __VA_ARGS__)

static unsigned token_line(struct fy_node *scalar)
{
	struct fy_token *token = fy_node_get_scalar_token(scalar);
	const struct fy_mark *m = token ? fy_token_start_mark(token) : NULL;
	return m ? (unsigned)m->line + 1 : 0;
}

/* The line a node starts on. libfyaml 0.7 keeps positions on tokens only, so a mapping or list is
 * placed by the key that holds it, or else by its first key or item; so is an empty value ("key:"),
 * which has no token. */
static unsigned line_of(struct fy_node *node)
{
	if (!node)
		return 0;
	if (fy_node_is_scalar(node) && token_line(node))
		return token_line(node);
	struct fy_node *parent = fy_node_get_parent(node);
	void *iter = NULL;
	struct fy_node_pair *pair;
	while (parent && fy_node_is_mapping(parent) &&
	       (pair = fy_node_mapping_iterate(parent, &iter)))
		if (fy_node_pair_value(pair) == node)
			return line_of(fy_node_pair_key(pair));
	iter = NULL;
	if (fy_node_is_mapping(node) && (pair = fy_node_mapping_iterate(node, &iter)))
		return line_of(fy_node_pair_key(pair));
	if (fy_node_is_sequence(node) && fy_node_sequence_item_count(node) > 0)
		return line_of(fy_node_sequence_get_by_index(node, 0));
	return 0;
}

static const char *node_kind(struct fy_node *node)
{
	if (!node)
		return "nothing";
	if (fy_node_is_mapping(node))
		return "a mapping";
	if (fy_node_is_sequence(node))
		return "a list";
	return fy_node_is_null(node) ? "nothing" : "a scalar";
}

static void list_keys(const struct field *fields, size_t n, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = 0;
	for (size_t i = 0; i < n && used < len; i++)
		used +=
		    (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", fields[i].key);
}

/* Finds each field's value in a mapping (NULL when absent); reports unknown keys and missing ones.
 * False only when the node is not a mapping: the fields found are worth reading either way. */
static bool get_fields(struct walk *w, struct fy_node *map, const char *ctx,
		       const struct field *fields, size_t n, struct fy_node **values)
{
	if (!map || !fy_node_is_mapping(map)) {
		WALK_ERROR(w, map, ctx, "expected a mapping of keys, found %s", node_kind(map));
		return false;
	}
	memset(values, 0, n * sizeof(*values));
	void *iter = NULL;
	struct fy_node_pair *pair;
	while ((pair = fy_node_mapping_iterate(map, &iter))) {
		struct fy_node *key = fy_node_pair_key(pair);
		const char *name = key && fy_node_is_scalar(key) ? fy_node_get_scalar0(key) : NULL;
		size_t i = 0;
		while (name && i < n && strcmp(fields[i].key, name) != 0)
			i++;
		if (name && i < n) {
			values[i] = fy_node_pair_value(pair);
			continue;
		}
		char valid[512];
		list_keys(fields, n, valid, sizeof(valid));
		WALK_ERROR(w, key, ctx, "unknown key '%s' (valid keys: %s)", name ? name : "?",
			   valid);
	}
	for (size_t i = 0; i < n; i++)
		if (fields[i].required && !values[i])
			WALK_ERROR(w, map, ctx, "missing required key '%s'", fields[i].key);
	return true;
}

/* A scalar's text; NULL, with an error, if it is empty or not a scalar. An absent node is NULL
 * without an error: get_fields has reported it if it was required. */
static const char *scalar(struct walk *w, struct fy_node *node, const char *ctx, const char *key)
{
	if (!node)
		return NULL;
	const char *text = fy_node_is_scalar(node) ? fy_node_get_scalar0(node) : NULL;
	if (!text || !text[0])
		WALK_ERROR(w, node, ctx, "'%s' must be a non-empty string, found %s", key,
			   text ? "an empty one" : node_kind(node));
	return text && text[0] ? text : NULL;
}

static char *read_string(struct walk *w, struct fy_node *node, const char *ctx, const char *key)
{
	const char *text = scalar(w, node, ctx, key);
	return text ? strdup(text) : NULL;
}

static bool read_uint(struct walk *w, struct fy_node *node, const char *ctx, const char *key,
		      uint64_t min, uint64_t max, uint64_t *out)
{
	const char *text = node && fy_node_is_scalar(node) ? fy_node_get_scalar0(node) : NULL;
	char *end = NULL;
	errno = 0;
	unsigned long long v =
	    text && text[0] >= '0' && text[0] <= '9' ? strtoull(text, &end, 10) : 0;
	if (!end || *end || errno || v < min || v > max) {
		WALK_ERROR(w, node, ctx, "'%s' is %s%s%s; it must be a whole number in %llu..%llu",
			   key, text ? "'" : "", text ? text : node_kind(node), text ? "'" : "",
			   (unsigned long long)min, (unsigned long long)max);
		return false;
	}
	*out = v;
	return true;
}

static void read_u32(struct walk *w, struct fy_node *node, const char *ctx, const char *key,
		     uint32_t min, uint32_t max, uint32_t *out)
{
	uint64_t v;
	if (node && read_uint(w, node, ctx, key, min, max, &v))
		*out = (uint32_t)v;
}

static void read_bool(struct walk *w, struct fy_node *node, const char *ctx, const char *key,
		      bool *out)
{
	if (!node)
		return;
	const char *text = fy_node_is_scalar(node) ? fy_node_get_scalar0(node) : NULL;
	if (text && (strcasecmp(text, "true") == 0 || strcasecmp(text, "false") == 0)) {
		*out = strcasecmp(text, "true") == 0;
		return;
	}
	WALK_ERROR(w, node, ctx, "'%s' must be true or false, not %s%s%s", key, text ? "'" : "",
		   text ? text : node_kind(node), text ? "'" : "");
}

/* The number of entries of a list; an absent list has none. */
static size_t list_count(struct walk *w, struct fy_node *node, const char *ctx, const char *key)
{
	if (!node)
		return 0;
	if (!fy_node_is_sequence(node)) {
		WALK_ERROR(w, node, ctx, "'%s' must be a list, found %s", key, node_kind(node));
		return 0;
	}
	return (size_t)fy_node_sequence_item_count(node);
}

/* The next entry of a list; start with *iter = NULL. (Lists are linked: indexing them is linear.)
 */
static struct fy_node *list_next(struct fy_node *node, void **iter)
{
	return fy_node_sequence_iterate(node, iter);
}

/* A list of names of other objects (VPC ids, zone names); validation resolves them and refuses
 * repeats. */
static void read_refs(struct walk *w, struct fy_node *node, const char *ctx, const char *key,
		      struct config_ref **out, size_t *n_out)
{
	size_t n = list_count(w, node, ctx, key);
	*out = n ? calloc(n, sizeof(**out)) : NULL;
	*n_out = 0;
	void *iter = NULL;
	for (size_t i = 0; i < n && *out; i++) {
		struct fy_node *item = list_next(node, &iter);
		const char *name = scalar(w, item, ctx, key);
		if (!name)
			continue;
		struct config_ref *ref = &(*out)[(*n_out)++];
		ref->name = strdup(name);
		ref->line = line_of(item);
		ref->index = CONFIG_INDEX_NONE;
	}
}

static void read_ref(struct walk *w, struct fy_node *node, const char *ctx, const char *key,
		     struct config_ref *out)
{
	out->index = CONFIG_INDEX_NONE;
	out->line = line_of(node);
	out->name = node ? read_string(w, node, ctx, key) : NULL;
}

/* "vpc 'vpc-1f1af679'" from the item's id, or "vpcs[2]" when it has none. */
static void item_label(struct fy_node *id, const char *kind, const char *section, size_t i,
		       char *buf, size_t len)
{
	const char *text = id && fy_node_is_scalar(id) ? fy_node_get_scalar0(id) : NULL;
	if (text && text[0])
		snprintf(buf, len, "%s '%s'", kind, text);
	else
		snprintf(buf, len, "%s[%zu]", section, i);
}

static void read_addr_list(struct walk *w, struct fy_node *list, const char *ctx, const char *key,
			   struct config_addr *out, unsigned *lines, size_t max, size_t *n_out)
{
	size_t n = list_count(w, list, ctx, key);
	*n_out = 0;
	void *iter = NULL;
	for (size_t i = 0; i < n; i++) {
		struct fy_node *item = list_next(list, &iter);
		const char *text = scalar(w, item, ctx, key);
		struct config_addr addr;
		if (!text)
			continue;
		if (!config_parse_addr(text, &addr)) {
			WALK_ERROR(w, item, ctx,
				   "'%s' lists '%s', which is not an IPv4 or IPv6 address", key,
				   text);
			continue;
		}
		bool repeated = false;
		for (size_t j = 0; j < *n_out; j++)
			repeated |= config_addr_equal(&out[j], &addr);
		if (repeated) {
			WALK_ERROR(w, item, ctx, "'%s' lists %s twice", key, text);
		} else if (*n_out < max) {
			if (lines)
				lines[*n_out] = line_of(item);
			out[(*n_out)++] = addr;
		}
	}
}

/* --- sections --- */

static void read_neighbour(struct walk *w, struct fy_node *node, const char *ctx,
			   struct config_neighbour *nb)
{
	static const struct field fields[] = {{"address", true}, {"mac", true}};
	struct fy_node *v[2];
	nb->line = line_of(node);
	if (!get_fields(w, node, ctx, fields, 2, v))
		return;
	const char *addr = scalar(w, v[0], ctx, "address");
	if (addr && !config_parse_addr(addr, &nb->addr))
		WALK_ERROR(w, v[0], ctx, "neighbour address '%s' is not an IPv4 or IPv6 address",
			   addr);
	const char *mac = scalar(w, v[1], ctx, "mac");
	if (mac && !config_parse_mac(mac, nb->mac))
		WALK_ERROR(w, v[1], ctx,
			   "neighbour mac '%s' is not a MAC address (six hex octets: "
			   "02:00:5e:10:00:01)",
			   mac);
}

static void read_neighbours(struct walk *w, struct fy_node *list, const char *ctx,
			    struct config_interface *itf)
{
	size_t n = list_count(w, list, ctx, "neighbours");
	itf->neighbours = n ? calloc(n, sizeof(*itf->neighbours)) : NULL;
	itf->n_neighbours = itf->neighbours ? n : 0;
	void *iter = NULL;
	for (size_t i = 0; i < itf->n_neighbours; i++)
		read_neighbour(w, list_next(list, &iter), ctx, &itf->neighbours[i]);
}

/* The TAP's name: given ("none": no TAP), or vpcdns-k<index>. */
static void read_kernel_interface(struct walk *w, struct fy_node *node, const char *ctx, size_t i,
				  struct config_interface *itf)
{
	char *name = node ? read_string(w, node, ctx, "kernel_interface") : NULL;
	if (node && !name)
		return;
	if (!name) {
		if (asprintf(&itf->kernel_interface, "vpcdns-k%zu", i) < 0)
			itf->kernel_interface = NULL;
		return;
	}
	size_t len = strlen(name);
	bool ok = len >= 1 && len <= CONFIG_KERNEL_IFNAME_MAX;
	for (size_t c = 0; ok && c < len; c++)
		ok = isalnum((unsigned char)name[c]) || name[c] == '-' || name[c] == '_';
	if (strcmp(name, "none") == 0) {
		free(name);
		return;
	}
	if (!ok) {
		WALK_ERROR(w, node, ctx,
			   "'kernel_interface' must be 1 to %d letters, digits, '-' or '_' (a "
			   "VLAN suffix like '.100' must still fit the kernel's 15), not '%s'",
			   CONFIG_KERNEL_IFNAME_MAX, name);
		free(name);
		return;
	}
	itf->kernel_interface = name;
}

/* The value of the device's iface= argument (a copy), or NULL. */
static char *device_iface(const char *device)
{
	for (const char *arg = strchr(device, ','); arg; arg = strchr(arg + 1, ','))
		if (strncmp(arg + 1, "iface=", 6) == 0)
			return strndup(arg + 7, strcspn(arg + 7, ","));
	return NULL;
}

/* mode: xdp needs a net_af_xdp device that names its kernel interface, which becomes the kernel
 * interface: no TAP, and no xdp_prog= of the operator's (vpcdnsd gives its own). */
static void read_mode(struct walk *w, struct fy_node *node, struct fy_node *kernel_node,
		      const char *ctx, struct config_interface *itf)
{
	const char *text = node ? scalar(w, node, ctx, "mode") : NULL;
	if (!text || strcmp(text, "full_nic") == 0)
		return;
	if (strcmp(text, "xdp") != 0) {
		WALK_ERROR(w, node, ctx, "'mode' must be full_nic or xdp, not '%s'", text);
		return;
	}
	itf->mode = CONFIG_MODE_XDP;
	if (!itf->device)
		return;
	char *iface = device_iface(itf->device);
	if (strncmp(itf->device, "net_af_xdp", 10) != 0 || !iface || !iface[0]) {
		WALK_ERROR(w, node, ctx,
			   "mode xdp needs a net_af_xdp device that names its interface "
			   "(net_af_xdp0,iface=eth1), not '%s'",
			   itf->device);
	} else if (strstr(itf->device, ",xdp_prog=")) {
		WALK_ERROR(w, node, ctx,
			   "mode xdp: vpcdnsd loads its own XDP program; drop xdp_prog= from '%s'",
			   itf->device);
	} else if (kernel_node) {
		WALK_ERROR(
		    w, kernel_node, ctx,
		    "mode xdp has no TAP: the kernel interface is the NIC's own ('%s'); drop "
		    "'kernel_interface'",
		    iface);
	} else if (strlen(iface) > 15) {
		WALK_ERROR(w, node, ctx, "interface name '%s' is longer than the kernel's 15",
			   iface);
	} else {
		free(itf->kernel_interface);
		itf->kernel_interface = iface;
		return;
	}
	free(iface);
}

static void read_interface(struct walk *w, struct fy_node *node, size_t i)
{
	static const struct field fields[] = {{"name", true},
					      {"device", true},
					      {"neighbours", false},
					      {"mtu", false},
					      {"kernel_interface", false},
					      {"mode", false}};
	struct fy_node *v[6];
	struct config_interface *itf = &w->cfg->interfaces[i];
	char ctx[128], why[512];
	item_label(fy_node_mapping_lookup_by_string(node, "name", -1), "interface", "interfaces", i,
		   ctx, sizeof(ctx));
	itf->line = line_of(node);
	if (!get_fields(w, node, ctx, fields, 6, v))
		return;
	itf->name = read_string(w, v[0], ctx, "name");
	read_kernel_interface(w, v[4], ctx, i, itf);
	read_u32(w, v[3], ctx, "mtu", 576, 9600, &itf->mtu);
	itf->device = read_string(w, v[1], ctx, "device");
	if (itf->device && !config_check_device(itf->device, why, sizeof(why)))
		WALK_ERROR(w, v[1], ctx, "%s", why);
	read_mode(w, v[5], v[4], ctx, itf);
	if (v[2])
		read_neighbours(w, v[2], ctx, itf);
}

static void read_cidrs(struct walk *w, struct fy_node *list, const char *ctx,
		       struct config_vpc *vpc)
{
	size_t n = list_count(w, list, ctx, "cidrs");
	vpc->cidrs = n ? calloc(n, sizeof(*vpc->cidrs)) : NULL;
	if (n == 0 && list)
		WALK_ERROR(w, list, ctx, "'cidrs' must list at least one CIDR block");
	vpc->cidrs_complete = vpc->cidrs != NULL;
	void *iter = NULL;
	for (size_t i = 0; i < n && vpc->cidrs; i++) {
		struct fy_node *item = list_next(list, &iter);
		const char *text = scalar(w, item, ctx, "cidrs");
		struct config_prefix p;
		char why[256];
		if (!text) {
			vpc->cidrs_complete = false;
			continue;
		}
		if (!config_parse_prefix(text, &p, why, sizeof(why))) {
			WALK_ERROR(w, item, ctx, "%s", why);
			vpc->cidrs_complete = false;
			continue;
		}
		p.line = line_of(item);
		vpc->cidrs[vpc->n_cidrs++] = p;
	}
}

/* The VPC's ".2" addresses: base + 2 of each IPv4 CIDR, then the two link-local resolver addresses.
 */
static void default_resolver_addresses(struct config_vpc *vpc)
{
	vpc->resolver_addresses = calloc(vpc->n_cidrs + 2, sizeof(*vpc->resolver_addresses));
	if (!vpc->resolver_addresses)
		return;
	size_t n = 0;
	for (size_t i = 0; i < vpc->n_cidrs; i++) {
		if (vpc->cidrs[i].addr.family != 4)
			continue;
		struct config_addr a = vpc->cidrs[i].addr;
		uint32_t host = ((uint32_t)a.bytes[0] << 24 | (uint32_t)a.bytes[1] << 16 |
				 (uint32_t)a.bytes[2] << 8 | a.bytes[3]) +
				2;
		for (int b = 0; b < 4; b++)
			a.bytes[b] = (uint8_t)(host >> (24 - 8 * b));
		vpc->resolver_addresses[n++] = a;
	}
	config_parse_addr("169.254.169.253", &vpc->resolver_addresses[n++]);
	config_parse_addr("fd00:ec2::253", &vpc->resolver_addresses[n++]);
	vpc->n_resolver_addresses = n;
}

static void read_resolver_addresses(struct walk *w, struct fy_node *list, const char *ctx,
				    struct config_vpc *vpc)
{
	size_t n = list_count(w, list, ctx, "resolver_addresses");
	if (n == 0) {
		default_resolver_addresses(vpc);
		return;
	}
	vpc->resolver_addresses = calloc(n, sizeof(*vpc->resolver_addresses));
	if (vpc->resolver_addresses)
		read_addr_list(w, list, ctx, "resolver_addresses", vpc->resolver_addresses, NULL, n,
			       &vpc->n_resolver_addresses);
}

/* The router at base + 1 of the first IPv4 CIDR, as a cloud VPC has it, unless given. */
static void read_gateway(struct walk *w, struct fy_node *node, const char *ctx,
			 struct config_vpc *vpc)
{
	const char *text = node ? scalar(w, node, ctx, "gateway") : NULL;
	if (text) {
		vpc->gateway_line = line_of(node);
		if (!config_parse_addr(text, &vpc->gateway))
			WALK_ERROR(w, node, ctx, "gateway '%s' is not an IPv4 or IPv6 address",
				   text);
		return;
	}
	for (size_t i = 0; i < vpc->n_cidrs; i++) {
		if (vpc->cidrs[i].addr.family != 4)
			continue;
		vpc->gateway = vpc->cidrs[i].addr;
		vpc->gateway.bytes[3] += 1;
		return;
	}
}

static void read_vpc(struct walk *w, struct fy_node *node, size_t i)
{
	static const struct field fields[] = {
	    {"id", true},
	    {"interface", true},
	    {"vlan", false},
	    {"cidrs", true},
	    {"resolver_addresses", false},
	    {"enable_dns_hostnames", false},
	    {"reverse_auto_rules", false},
	    {"hosted_zones", false},
	    {"gateway", false},
	};
	struct fy_node *v[9];
	struct config_vpc *vpc = &w->cfg->vpcs[i];
	char ctx[128];
	item_label(fy_node_mapping_lookup_by_string(node, "id", -1), "vpc", "vpcs", i, ctx,
		   sizeof(ctx));
	vpc->line = line_of(node);
	vpc->enable_dns_hostnames = true;
	vpc->reverse_auto_rules = true;
	vpc->interface.index = CONFIG_INDEX_NONE;
	if (!get_fields(w, node, ctx, fields, 9, v))
		return;
	vpc->id = read_string(w, v[0], ctx, "id");
	read_ref(w, v[1], ctx, "interface", &vpc->interface);
	uint32_t vlan = 0;
	read_u32(w, v[2], ctx, "vlan", 0, 4094, &vlan);
	vpc->vlan = (uint16_t)vlan;
	read_cidrs(w, v[3], ctx, vpc);
	read_resolver_addresses(w, v[4], ctx, vpc);
	read_bool(w, v[5], ctx, "enable_dns_hostnames", &vpc->enable_dns_hostnames);
	read_bool(w, v[6], ctx, "reverse_auto_rules", &vpc->reverse_auto_rules);
	read_refs(w, v[7], ctx, "hosted_zones", &vpc->zones, &vpc->n_zones);
	read_gateway(w, v[8], ctx, vpc);
}

static void read_direction(struct walk *w, struct fy_node *node, const char *ctx,
			   struct config_endpoint *ep)
{
	const char *text = scalar(w, node, ctx, "direction");
	if (text && strcmp(text, "inbound") == 0)
		ep->direction = CONFIG_INBOUND;
	else if (text && strcmp(text, "outbound") == 0)
		ep->direction = CONFIG_OUTBOUND;
	else if (text)
		WALK_ERROR(w, node, ctx, "direction '%s' must be inbound or outbound", text);
}

static void read_endpoint(struct walk *w, struct fy_node *node, size_t i)
{
	static const struct field fields[] = {
	    {"id", true},	  {"direction", true}, {"vpc", true},
	    {"interface", false}, {"vlan", false},     {"addresses", true},
	};
	struct fy_node *v[6];
	struct config_endpoint *ep = &w->cfg->endpoints[i];
	char ctx[128];
	item_label(fy_node_mapping_lookup_by_string(node, "id", -1), "endpoint", "endpoints", i,
		   ctx, sizeof(ctx));
	ep->line = line_of(node);
	ep->vpc.index = ep->interface.index = CONFIG_INDEX_NONE;
	ep->vlan = UINT16_MAX; /* "the VPC's", until validation fills it in */
	if (!get_fields(w, node, ctx, fields, 6, v))
		return;
	ep->id = read_string(w, v[0], ctx, "id");
	read_direction(w, v[1], ctx, ep);
	read_ref(w, v[2], ctx, "vpc", &ep->vpc);
	read_ref(w, v[3], ctx, "interface", &ep->interface);
	uint32_t vlan = UINT16_MAX;
	read_u32(w, v[4], ctx, "vlan", 0, 4094, &vlan);
	ep->vlan = (uint16_t)vlan;
	size_t listed = list_count(w, v[5], ctx, "addresses");
	read_addr_list(w, v[5], ctx, "addresses", ep->addresses, ep->address_lines,
		       CONFIG_MAX_ENDPOINT_ADDRS, &ep->n_addresses);
	if (listed < CONFIG_MIN_ENDPOINT_ADDRS || listed > CONFIG_MAX_ENDPOINT_ADDRS)
		WALK_ERROR(w, v[5], ctx,
			   "'addresses' has %zu address%s; an endpoint needs %d to %d", listed,
			   listed == 1 ? "" : "es", CONFIG_MIN_ENDPOINT_ADDRS,
			   CONFIG_MAX_ENDPOINT_ADDRS);
}

static void read_rule_type(struct walk *w, struct fy_node *node, const char *ctx,
			   struct config_rule *r)
{
	const char *text = scalar(w, node, ctx, "type");
	if (text && strcmp(text, "forward") == 0)
		r->type = CONFIG_RULE_FORWARD;
	else if (text && strcmp(text, "system") == 0)
		r->type = CONFIG_RULE_SYSTEM;
	else if (text && strcmp(text, "delegate") == 0)
		r->type = CONFIG_RULE_DELEGATE;
	else if (text)
		WALK_ERROR(w, node, ctx, "type '%s' must be forward, system or delegate", text);
}

static void read_targets(struct walk *w, struct fy_node *list, const char *ctx,
			 struct config_rule *r)
{
	size_t n = list_count(w, list, ctx, "targets");
	if (list && (n < 1 || n > CONFIG_MAX_TARGETS))
		WALK_ERROR(w, list, ctx, "'targets' has %zu target%s; a rule takes 1 to %d", n,
			   n == 1 ? "" : "s", CONFIG_MAX_TARGETS);
	void *iter = NULL;
	for (size_t i = 0; i < n; i++) {
		struct fy_node *item = list_next(list, &iter);
		const char *text = scalar(w, item, ctx, "targets");
		struct config_target t;
		char why[256];
		if (!text)
			continue;
		if (!config_parse_target(text, &t, why, sizeof(why))) {
			WALK_ERROR(w, item, ctx, "%s", why);
			continue;
		}
		t.line = line_of(item);
		if (r->n_targets < CONFIG_MAX_TARGETS)
			r->targets[r->n_targets++] = t;
	}
}

static void read_rule(struct walk *w, struct fy_node *node, size_t i)
{
	static const struct field fields[] = {
	    {"id", true},	 {"name", false},    {"type", true},  {"domain", true},
	    {"endpoint", false}, {"targets", false}, {"vpcs", false},
	};
	struct fy_node *v[7];
	struct config_rule *r = &w->cfg->rules[i];
	struct fy_node *name = fy_node_mapping_lookup_by_string(node, "name", -1);
	char ctx[128], why[512], domain[256];
	item_label(name ? name : fy_node_mapping_lookup_by_string(node, "id", -1), "rule", "rules",
		   i, ctx, sizeof(ctx));
	r->line = line_of(node);
	r->endpoint.index = CONFIG_INDEX_NONE;
	if (!get_fields(w, node, ctx, fields, 7, v))
		return;
	r->id = read_string(w, v[0], ctx, "id");
	r->name = v[1] ? read_string(w, v[1], ctx, "name") : (r->id ? strdup(r->id) : NULL);
	read_rule_type(w, v[2], ctx, r);
	const char *text = scalar(w, v[3], ctx, "domain");
	if (text && config_parse_domain(text, domain, why, sizeof(why)))
		r->domain = strdup(domain);
	else if (text)
		WALK_ERROR(w, v[3], ctx, "%s", why);
	read_ref(w, v[4], ctx, "endpoint", &r->endpoint);
	read_targets(w, v[5], ctx, r);
	read_refs(w, v[6], ctx, "vpcs", &r->vpcs, &r->n_vpcs);
}

/* Zone ids are compared like names (case-insensitive, trailing dot optional), so a config that
 * names its zones by domain and one that uses Route 53 style ids ("Z0123ABC") read the same. */
static void read_zone_id(struct walk *w, struct fy_node *node, const char *ctx,
			 struct config_zone *z)
{
	char id[256], why[512];
	const char *text = node ? scalar(w, node, ctx, "id") : NULL;
	if (!node) {
		z->id = z->name ? strdup(z->name) : NULL;
	} else if (text && config_parse_domain(text, id, why, sizeof(why)) &&
		   strcmp(id, ".") != 0) {
		z->id = strdup(id);
	} else if (text) {
		WALK_ERROR(w, node, ctx, "id '%s' must be letters, digits, '-' and '.' ", text);
	}
}

static void read_zone(struct walk *w, struct fy_node *node, size_t i)
{
	static const struct field fields[] = {
	    {"name", true}, {"file", true}, {"vpcs", false}, {"id", false}};
	struct fy_node *v[4];
	struct config_zone *z = &w->cfg->zones[i];
	char ctx[128], why[512], name[256];
	item_label(fy_node_mapping_lookup_by_string(node, "name", -1), "hosted zone",
		   "hosted_zones", i, ctx, sizeof(ctx));
	z->line = line_of(node);
	if (!get_fields(w, node, ctx, fields, 4, v))
		return;
	const char *text = scalar(w, v[0], ctx, "name");
	if (text && config_parse_domain(text, name, why, sizeof(why)) && strcmp(name, ".") != 0)
		z->name = strdup(name);
	else if (text)
		WALK_ERROR(w, v[0], ctx, "%s",
			   strcmp(text, ".") ? why : "a zone cannot be the root");
	z->file = read_string(w, v[1], ctx, "file");
	z->file_line = line_of(v[1]);
	read_refs(w, v[2], ctx, "vpcs", &z->vpcs, &z->n_vpcs);
	read_zone_id(w, v[3], ctx, z);
}

/* Each section is a list of mappings read into a calloc'd array of the same length, which must be
 * in place (*array) before the items are read. */
static void read_section(struct walk *w, struct fy_node *node, const char *key, size_t size,
			 void **array, size_t *n_out,
			 void (*item)(struct walk *, struct fy_node *, size_t))
{
	size_t n = list_count(w, node, "config", key);
	*array = n ? calloc(n, size) : NULL;
	*n_out = *array ? n : 0;
	void *iter = NULL;
	for (size_t i = 0; i < *n_out; i++)
		item(w, list_next(node, &iter), i);
}

static void read_outside_policy(struct walk *w, struct fy_node *node, struct config_tunables *t)
{
	const char *text = node ? scalar(w, node, "tunables", "refuse_outside_cidrs") : NULL;
	if (text && strcmp(text, "refuse") == 0)
		t->refuse_outside_cidrs = CONFIG_OUTSIDE_REFUSE;
	else if (text && strcmp(text, "drop") == 0)
		t->refuse_outside_cidrs = CONFIG_OUTSIDE_DROP;
	else if (text)
		WALK_ERROR(w, node, "tunables", "refuse_outside_cidrs '%s' must be refuse or drop",
			   text);
}

/* Bounds that only make sense together. */
static void check_tunable_order(struct walk *w, struct fy_node *node,
				const struct config_tunables *t)
{
	if (t->retry_timeout_min_ms > t->retry_timeout_initial_ms ||
	    t->retry_timeout_initial_ms > t->retry_timeout_max_ms)
		WALK_ERROR(w, node, "tunables",
			   "retry timeouts must keep min <= initial <= max (now %u, %u, %u ms)",
			   t->retry_timeout_min_ms, t->retry_timeout_initial_ms,
			   t->retry_timeout_max_ms);
	if (t->cache_ttl_min_s > t->cache_ttl_max_s)
		WALK_ERROR(w, node, "tunables",
			   "cache_ttl_min_s (%u) is above cache_ttl_max_s (%u)", t->cache_ttl_min_s,
			   t->cache_ttl_max_s);
	/* each data lcore has its own cache, a share of the bound */
	uint64_t share = t->data_lcores ? t->cache_max_bytes / t->data_lcores : 0;
	if (t->cache_max_bytes && share < CONFIG_CACHE_LCORE_MIN)
		WALK_ERROR(w, node, "tunables",
			   "cache_max_bytes (%" PRIu64 ") gives each of %u data lcores less than "
			   "%u octets; raise it or set 0 to turn caching off",
			   t->cache_max_bytes, t->data_lcores, CONFIG_CACHE_LCORE_MIN);
	if (share > CONFIG_CACHE_LCORE_MAX)
		WALK_ERROR(w, node, "tunables",
			   "cache_max_bytes (%" PRIu64 ") gives each of %u data lcores more than "
			   "%" PRIu64 " octets",
			   t->cache_max_bytes, t->data_lcores, (uint64_t)CONFIG_CACHE_LCORE_MAX);
}

struct tunable {
	const char *key;
	uint64_t min, max;
	size_t offset; /* into struct config_tunables */
	bool wide;     /* a uint64_t, else a uint32_t */
};

#define TUNABLE(field, lo, hi)                                                                     \
	{                                                                                          \
#field, lo, hi, offsetof(struct config_tunables, field),                           \
		    sizeof(((struct config_tunables *)0)->field) == 8                              \
	}

/* The numeric tunables and their ranges (README.md lists them with their meaning and default). */
static const struct tunable tunables[] = {
    TUNABLE(retry_timeout_initial_ms, 10, 60000), TUNABLE(retry_timeout_min_ms, 1, 60000),
    TUNABLE(retry_timeout_max_ms, 1, 60000),	  TUNABLE(tries, 1, 6),
    TUNABLE(edns_udp_size, 512, 65535),		  TUNABLE(cache_max_bytes, 0, 1ULL << 40),
    TUNABLE(cache_ttl_min_s, 0, 86400),		  TUNABLE(cache_ttl_max_s, 1, 604800),
    TUNABLE(negative_ttl_max_s, 0, 86400),	  TUNABLE(servfail_ttl_s, 0, 300),
    TUNABLE(stale_window_s, 0, 604800),		  TUNABLE(stale_ttl_s, 1, 86400),
    TUNABLE(rate_limit_pps, 0, 100000000),	  TUNABLE(tcp_idle_timeout_ms, 100, 600000),
    TUNABLE(max_inflight, 64, 16777216),	  TUNABLE(data_lcores, 1, 128),
    TUNABLE(eal_memory_mb, 64, 1048576),	  TUNABLE(neighbour_reachable_s, 1, 3600),
};
#define N_TUNABLES (sizeof(tunables) / sizeof(tunables[0]))

static void read_tunables(struct walk *w, struct fy_node *node)
{
	struct field fields[N_TUNABLES + 1];
	struct fy_node *v[N_TUNABLES + 1];
	struct config_tunables *t = &w->cfg->tunables;
	for (size_t i = 0; i < N_TUNABLES; i++)
		fields[i] = (struct field){tunables[i].key, false};
	fields[N_TUNABLES] = (struct field){"refuse_outside_cidrs", false};
	if (!node || !get_fields(w, node, "tunables", fields, N_TUNABLES + 1, v))
		return;
	for (size_t i = 0; i < N_TUNABLES; i++) {
		uint64_t value;
		if (!v[i] || !read_uint(w, v[i], "tunables", tunables[i].key, tunables[i].min,
					tunables[i].max, &value))
			continue;
		char *at = (char *)t + tunables[i].offset;
		if (tunables[i].wide)
			*(uint64_t *)at = value;
		else
			*(uint32_t *)at = (uint32_t)value;
	}
	read_outside_policy(w, v[N_TUNABLES], t);
	check_tunable_order(w, node, t);
}

/* "LOW-HIGH": the UDP source ports the recursion's kernel sockets keep to, clear of the data
 * plane's. */
static void read_source_ports(struct walk *w, struct fy_node *node, struct config_recursion *rc)
{
	const char *text = scalar(w, node, "recursion", "source_ports");
	unsigned low = 0, high = 0;
	int used = 0;
	if (!text)
		return;
	if (sscanf(text, "%5u-%5u%n", &low, &high, &used) != 2 || text[used] || low < 1024 ||
	    high > 65535 || low > high) {
		WALK_ERROR(w, node, "recursion",
			   "source_ports '%s' must be LOW-HIGH with 1024 <= LOW <= HIGH <= 65535",
			   text);
		return;
	}
	rc->source_port_min = (uint16_t)low;
	rc->source_port_max = (uint16_t)high;
}

/* The root hints are read by unbound only when the first resolution starts: check them now, so a
 * wrong path is a config error with its line rather than SERVFAIL for every internet name. */
static void read_root_hints(struct walk *w, struct fy_node *node, struct config_recursion *rc)
{
	rc->root_hints = read_string(w, node, "recursion", "root_hints");
	rc->root_hints_line = line_of(node);
	if (!rc->root_hints)
		return;
	rc->root_hints_path = config_resolve_path(w->cfg->path, rc->root_hints);
	struct stat st;
	if (rc->root_hints_path &&
	    (stat(rc->root_hints_path, &st) != 0 || access(rc->root_hints_path, R_OK) != 0))
		WALK_ERROR(w, node, "recursion", "cannot read root hints file '%s': %s",
			   rc->root_hints_path, strerror(errno));
	else if (rc->root_hints_path && !S_ISREG(st.st_mode))
		WALK_ERROR(w, node, "recursion", "root hints '%s' is not a regular file",
			   rc->root_hints_path);
}

static void read_recursion(struct walk *w, struct fy_node *node)
{
	static const struct field fields[] = {
	    {"root_hints", false},   {"source_addresses", false}, {"source_ports", false},
	    {"max_inflight", false}, {"cache_max_bytes", false},  {"timeout_ms", false},
	};
	struct fy_node *v[6];
	struct config_recursion *rc = &w->cfg->recursion;
	if (!node || !get_fields(w, node, "recursion", fields, 6, v))
		return;
	rc->given = true;
	rc->line = line_of(node);
	if (v[0])
		read_root_hints(w, v[0], rc);
	size_t listed = list_count(w, v[1], "recursion", "source_addresses");
	if (listed > CONFIG_MAX_RECURSION_SOURCES)
		WALK_ERROR(w, v[1], "recursion", "'source_addresses' has %zu addresses; at most %d",
			   listed, CONFIG_MAX_RECURSION_SOURCES);
	read_addr_list(w, v[1], "recursion", "source_addresses", rc->source_addresses, NULL,
		       CONFIG_MAX_RECURSION_SOURCES, &rc->n_source_addresses);
	if (v[2])
		read_source_ports(w, v[2], rc);
	read_u32(w, v[3], "recursion", "max_inflight", 1, 1u << 20, &rc->max_inflight);
	uint64_t bytes;
	if (v[4] &&
	    read_uint(w, v[4], "recursion", "cache_max_bytes", 1u << 20, 1ULL << 36, &bytes))
		rc->cache_max_bytes = bytes;
	read_u32(w, v[5], "recursion", "timeout_ms", 100, 60000, &rc->timeout_ms);
}

/* ap-southeast-2, us-east-1, us-gov-west-1 */
static bool is_region(const char *s)
{
	regex_t re;
	if (regcomp(&re, "^[a-z]{2}(-[a-z]+)+-[0-9]+$", REG_EXTENDED | REG_NOSUB) != 0)
		return false;
	bool match = strlen(s) <= 32 && regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return match;
}

static void read_identity(struct walk *w, struct fy_node *region, struct fy_node *account)
{
	struct config *cfg = w->cfg;
	cfg->region = read_string(w, region, "config", "region");
	if (cfg->region && !is_region(cfg->region))
		WALK_ERROR(w, region, "config",
			   "region '%s' is not a region name (like ap-southeast-2 or us-east-1)",
			   cfg->region);
	cfg->account_id = read_string(w, account, "config", "account_id");
	bool digits = cfg->account_id && strlen(cfg->account_id) == 12;
	for (size_t i = 0; digits && i < 12; i++)
		digits = cfg->account_id[i] >= '0' && cfg->account_id[i] <= '9';
	if (cfg->account_id && !digits)
		WALK_ERROR(w, account, "config",
			   "account_id '%s' must be 12 digits (quote it to keep leading zeros: "
			   "\"012345678901\")",
			   cfg->account_id);
}

static void read_document(struct walk *w, struct fy_node *root)
{
	static const struct field fields[] = {
	    {"region", true},	     {"account_id", true}, {"interfaces", true},
	    {"vpcs", true},	     {"endpoints", false}, {"rules", false},
	    {"hosted_zones", false}, {"tunables", false},  {"recursion", false},
	};
	struct fy_node *v[9];
	struct config *cfg = w->cfg;
	if (!get_fields(w, root, "config", fields, 9, v))
		return;
	if (v[0] && v[1])
		read_identity(w, v[0], v[1]);
	read_section(w, v[2], "interfaces", sizeof(*cfg->interfaces), (void **)&cfg->interfaces,
		     &cfg->n_interfaces, read_interface);
	read_section(w, v[3], "vpcs", sizeof(*cfg->vpcs), (void **)&cfg->vpcs, &cfg->n_vpcs,
		     read_vpc);
	read_section(w, v[4], "endpoints", sizeof(*cfg->endpoints), (void **)&cfg->endpoints,
		     &cfg->n_endpoints, read_endpoint);
	read_section(w, v[5], "rules", sizeof(*cfg->rules), (void **)&cfg->rules, &cfg->n_rules,
		     read_rule);
	read_section(w, v[6], "hosted_zones", sizeof(*cfg->zones), (void **)&cfg->zones,
		     &cfg->n_zones, read_zone);
	if (v[2] && cfg->n_interfaces == 0 && fy_node_is_sequence(v[2]))
		WALK_ERROR(w, v[2], "config", "'interfaces' must list at least one interface");
	if (v[3] && cfg->n_vpcs == 0 && fy_node_is_sequence(v[3]))
		WALK_ERROR(w, v[3], "config", "'vpcs' must list at least one VPC");
	read_tunables(w, v[7]);
	read_recursion(w, v[8]);
}

/* libfyaml's own diagnostics (syntax errors, duplicate keys) come out as FILE:LINE: too; their
 * lines are already 1-based, unlike marks. */
static void report_parse_errors(struct walk *w, struct fy_diag *diag)
{
	void *iter = NULL;
	struct fy_diag_error *e;
	bool any = false;
	while ((e = fy_diag_errors_iterate(diag, &iter))) {
		if (e->type < FYET_ERROR)
			continue;
		config_error_add(w->errs, w->cfg->path, (unsigned)e->line, "YAML", "%s", e->msg);
		any = true;
	}
	if (!any)
		config_error_add(w->errs, w->cfg->path, 0, NULL,
				 "the file holds no YAML document; it needs at least region, "
				 "account_id, interfaces and vpcs");
}

bool config_read_yaml(struct config *cfg, struct config_errors *errs)
{
	struct walk w = {.cfg = cfg, .errs = errs};
	struct stat st;
	if (stat(cfg->path, &st) != 0 || access(cfg->path, R_OK) != 0) {
		config_error_add(errs, cfg->path, 0, NULL, "cannot open: %s", strerror(errno));
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		config_error_add(errs, cfg->path, 0, NULL, "is not a regular file");
		return false;
	}

	struct fy_diag_cfg dcfg;
	fy_diag_cfg_default(&dcfg);
	dcfg.fp = NULL;
	dcfg.colorize = false;
	struct fy_diag *diag = fy_diag_create(&dcfg);
	if (!diag)
		return false;
	fy_diag_set_collect_errors(diag, true);
	struct fy_parse_cfg pcfg = {.flags = FYPCF_QUIET, .diag = diag};
	struct fy_document *doc = fy_document_build_from_file(&pcfg, cfg->path);
	if (!doc)
		report_parse_errors(&w, diag);
	else if (!fy_document_root(doc))
		config_error_add(errs, cfg->path, 0, NULL,
				 "the file holds no YAML document; it needs at least region, "
				 "account_id, interfaces and vpcs");
	else
		read_document(&w, fy_document_root(doc));
	fy_document_destroy(doc);
	fy_diag_destroy(diag);
	return doc != NULL;
}
