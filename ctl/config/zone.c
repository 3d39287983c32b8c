/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/config zones: reads each private hosted zone's RFC 1035 file with libzscanner into a compact
 * per-zone record arena (the slow path serves from it), checks that the file is the zone it claims
 * to be (one SOA, at the apex; no record outside the zone) and counts records and delegations for
 * the summary.
 */
#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <libzscanner/scanner.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/config/internal.h"

#define TYPE_NS	 2
#define TYPE_SOA 6

struct zone_load {
	struct config_zone *zone;
	struct config_errors *errs;
	char ctx[300];
	uint8_t apex[256];
	size_t apex_len;
	size_t soa_count;
	size_t outside;		/* records outside the zone */
	unsigned first_outside; /* the line of the first */
	char first_outside_owner[300];
	size_t arena_cap;
	bool out_of_memory;
};

/* "central.com" -> \7central\3com\0; the name was checked by config_parse_domain. */
static size_t domain_to_wire(const char *name, uint8_t *out)
{
	size_t len = 0;
	while (*name && strcmp(name, ".") != 0) {
		size_t label = strcspn(name, ".");
		out[len++] = (uint8_t)label;
		memcpy(out + len, name, label);
		len += label;
		name += label + (name[label] == '.');
	}
	out[len++] = 0;
	return len;
}

static void wire_to_text(const uint8_t *wire, char *out, size_t outlen)
{
	size_t used = 0;
	out[0] = 0;
	while (*wire && used + *wire + 2 < outlen) {
		used += (size_t)snprintf(out + used, outlen - used, "%.*s.", *wire, wire + 1);
		wire += *wire + 1;
	}
	if (used == 0)
		snprintf(out, outlen, ".");
}

/* True when name equals apex or lies below it (case-insensitive, wire form). */
static bool in_zone(const uint8_t *name, size_t len, const uint8_t *apex, size_t apex_len,
		    bool *at_apex)
{
	*at_apex = false;
	if (len < apex_len)
		return false;
	size_t pos = 0;
	while (len - pos > apex_len)
		pos += (size_t)name[pos] + 1;
	if (len - pos != apex_len)
		return false;
	for (size_t i = 0; i < apex_len; i++)
		if (tolower(name[pos + i]) != tolower(apex[i]))
			return false;
	*at_apex = pos == 0;
	return true;
}

static bool arena_append(struct config_zone *z, const void *data, size_t len, size_t *cap)
{
	if (z->records_len + len > *cap) {
		size_t grown = *cap ? *cap * 2 : 4096;
		while (grown < z->records_len + len)
			grown *= 2;
		uint8_t *p = realloc(z->records, grown);
		if (!p)
			return false;
		z->records = p;
		*cap = grown;
	}
	memcpy(z->records + z->records_len, data, len);
	z->records_len += len;
	return true;
}

static bool store_record(struct config_zone *z, const zs_scanner_t *s, size_t *cap)
{
	uint8_t owner_len = (uint8_t)s->r_owner_length;
	uint16_t rdlen = (uint16_t)s->r_data_length;
	return arena_append(z, &owner_len, 1, cap) && arena_append(z, s->r_owner, owner_len, cap) &&
	       arena_append(z, &s->r_type, 2, cap) && arena_append(z, &s->r_class, 2, cap) &&
	       arena_append(z, &s->r_ttl, 4, cap) && arena_append(z, &rdlen, 2, cap) &&
	       arena_append(z, s->r_data, rdlen, cap);
}

static void on_record(zs_scanner_t *s)
{
	struct zone_load *zl = s->process.data;
	struct config_zone *z = zl->zone;
	bool at_apex;
	unsigned line = (unsigned)s->line_counter;
	if (!in_zone(s->r_owner, s->r_owner_length, zl->apex, zl->apex_len, &at_apex)) {
		if (zl->outside++ == 0) {
			zl->first_outside = line;
			wire_to_text(s->r_owner, zl->first_outside_owner,
				     sizeof(zl->first_outside_owner));
		}
		return;
	}
	if (s->r_type == TYPE_SOA && !at_apex)
		config_error_add(zl->errs, z->path, line, zl->ctx,
				 "an SOA belongs at the apex %s., not below it", z->name);
	zl->soa_count += s->r_type == TYPE_SOA && at_apex;
	if (!store_record(z, s, &zl->arena_cap))
		zl->out_of_memory = true;
	z->n_records++;
}

static void on_error(zs_scanner_t *s)
{
	struct zone_load *zl = s->process.data;
	config_error_add(zl->errs, zl->zone->path, (unsigned)s->line_counter, zl->ctx, "%s",
			 zs_strerror(s->error.code));
}

static int compare_owner(const void *a, const void *b)
{
	const uint8_t *x = *(const uint8_t *const *)a, *y = *(const uint8_t *const *)b;
	if (x[0] != y[0])
		return x[0] - y[0];
	for (size_t i = 1; i <= x[0]; i++)
		if (tolower(x[i]) != tolower(y[i]))
			return tolower(x[i]) - tolower(y[i]);
	return 0;
}

/* Distinct owners of NS records other than the apex: the zone's delegation points. */
static void count_delegations(struct config_zone *z, const uint8_t *apex, size_t apex_len)
{
	const uint8_t **owners = calloc(z->n_records ? z->n_records : 1, sizeof(*owners));
	size_t n = 0, offset = 0, pos;
	struct config_zone_record r;
	bool at_apex;
	while (owners && (pos = offset, config_zone_next_record(z, &offset, &r))) {
		if (r.type == TYPE_NS && in_zone(r.owner, r.owner_len, apex, apex_len, &at_apex) &&
		    !at_apex)
			owners[n++] = z->records + pos; /* the length byte, then the owner */
	}
	qsort(owners, n, sizeof(*owners), compare_owner);
	for (size_t i = 0; i < n; i++)
		z->n_delegations += i == 0 || compare_owner(&owners[i - 1], &owners[i]) != 0;
	free(owners);
}

char *config_resolve_path(const char *config_path, const char *file)
{
	if (file[0] == '/')
		return strdup(file);
	char *copy = strdup(config_path);
	if (!copy)
		return NULL;
	const char *dir = dirname(copy);
	if (strcmp(dir, ".") == 0) {
		free(copy);
		return strdup(file);
	}
	size_t n = strlen(dir) + strlen(file) + 2;
	char *path = malloc(n);
	if (path)
		snprintf(path, n, "%s/%s", dir, file);
	free(copy);
	return path;
}

static void scan_zone(struct zone_load *zl, zs_scanner_t *s)
{
	struct config_zone *z = zl->zone;
	char origin[300];
	snprintf(origin, sizeof(origin), "%s.", z->name);
	if (zs_init(s, origin, 1 /* IN */, 3600) != 0) {
		config_error_add(zl->errs, z->path, 0, zl->ctx, "%s", zs_strerror(s->error.code));
		return;
	}
	if (zs_set_input_file(s, z->path) != 0) {
		config_error_add(zl->errs, z->path, 0, zl->ctx, "cannot read the zone file: %s",
				 zs_strerror(s->error.code));
	} else {
		zs_set_processing(s, on_record, on_error, zl);
		zs_parse_all(s);
	}
	zs_deinit(s);
}

static void load_zone(struct config *cfg, struct config_zone *z, struct config_errors *errs)
{
	struct zone_load zl = {.zone = z, .errs = errs};
	size_t errors_before = errs->count + errs->dropped;
	z->path = config_resolve_path(cfg->path, z->file);
	snprintf(zl.ctx, sizeof(zl.ctx), "hosted zone '%s'", z->name);
	zl.apex_len = domain_to_wire(z->name, zl.apex);
	if (z->path && access(z->path, R_OK) != 0) {
		config_error_add(errs, cfg->path, z->file_line, zl.ctx,
				 "cannot read zone file '%s': %s", z->path, strerror(errno));
		return;
	}
	zs_scanner_t *s = z->path ? malloc(sizeof(*s)) : NULL;
	if (!s) {
		config_error_add(errs, cfg->path, z->line, zl.ctx, "out of memory");
		return;
	}
	scan_zone(&zl, s);
	free(s);
	if (zl.out_of_memory)
		config_error_add(errs, z->path, 0, zl.ctx, "out of memory holding the records");
	if (zl.outside)
		config_error_add(
		    errs, z->path, zl.first_outside, zl.ctx,
		    "record '%s' is outside the zone, and %zu more after it: names here "
		    "must end in %s. (is this the file of another zone?)",
		    zl.first_outside_owner, zl.outside - 1, z->name);
	bool scanned = errs->count + errs->dropped == errors_before;
	if (scanned && zl.soa_count != 1)
		config_error_add(errs, z->path, 0, zl.ctx,
				 "has %zu SOA records at the apex %s.; a zone needs exactly one "
				 "(is this the file for another zone?)",
				 zl.soa_count, z->name);
	count_delegations(z, zl.apex, zl.apex_len);
}

void config_load_zones(struct config *cfg, struct config_errors *errs)
{
	for (size_t i = 0; i < cfg->n_zones; i++)
		if (cfg->zones[i].name && cfg->zones[i].file)
			load_zone(cfg, &cfg->zones[i], errs);
}

static uint16_t read_u16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

bool config_zone_next_record(const struct config_zone *zone, size_t *offset,
			     struct config_zone_record *out)
{
	const uint8_t *p = zone->records + *offset;
	if (*offset >= zone->records_len)
		return false;
	out->owner_len = p[0];
	out->owner = p + 1;
	p += 1 + out->owner_len;
	out->type = read_u16(p);
	out->rclass = read_u16(p + 2);
	memcpy(&out->ttl, p + 4, 4);
	out->rdata_len = read_u16(p + 8);
	out->rdata = p + 10;
	*offset = (size_t)(out->rdata + out->rdata_len - zone->records);
	return true;
}
