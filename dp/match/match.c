/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/match public entry points that do not belong to one engine: lookup dispatch, the text lookup
 * for tools and tests, stats, freeing, and the names of kinds and engines.
 */
#include <stdlib.h>

#include "dp/match/match_internal.h"

int match_lookup(const struct match_table *t, struct match_scratch *s, const uint8_t *name,
		 size_t len, struct match_result *out)
{
	if (t->engine == MATCH_ENGINE_HYPERSCAN)
		return match_hs_lookup(t, s, name, len, out);
	return match_suffix_lookup(t, name, len, out);
}

uint64_t match_lookup_burst(const struct match_table *t, struct match_scratch *s,
			    const uint8_t *const names[], const size_t lens[], unsigned n,
			    struct match_result out[])
{
	uint64_t failed = 0;

	if (n > MATCH_BURST_MAX)
		return ~0ULL;
	if (t->engine == MATCH_ENGINE_SUFFIX)
		return match_suffix_lookup_burst(t, names, lens, n, out);
	/* Hyperscan scans one buffer per call; its scan dwarfs any overlap of loads. */
	for (unsigned i = 0; i < n; i++)
		if (match_hs_lookup(t, s, names[i], lens[i], &out[i]) < 0)
			failed |= 1ULL << i;
	return failed;
}

/* Presentation form to wire form, no case folding; a trailing dot is optional, "." is the root. */
static int text_to_wire(const char *text, uint8_t *wire, size_t *len)
{
	size_t at = 0;

	if (strcmp(text, ".") == 0)
		text++;
	while (*text) {
		const char *dot = strchr(text, '.');
		size_t n = dot ? (size_t)(dot - text) : strlen(text);
		if (n == 0 || n > 63 || at + n + 2 > MATCH_WIRE_MAX)
			return -1;
		wire[at++] = (uint8_t)n;
		memcpy(wire + at, text, n);
		at += n;
		text += n + (dot != NULL);
	}
	wire[at++] = 0;
	*len = at;
	return 0;
}

int match_lookup_text(const struct match_table *t, const char *name, struct match_result *out)
{
	uint8_t wire[MATCH_WIRE_MAX];
	size_t len;
	struct match_scratch *s = NULL;
	char err[128];
	int rc = -1;

	if (!t || !name || text_to_wire(name, wire, &len) < 0)
		return -1;
	if (t->engine == MATCH_ENGINE_HYPERSCAN) {
		s = match_scratch_new();
		if (!s || match_scratch_fit(s, t, err, sizeof(err)) < 0)
			goto out;
	}
	rc = match_lookup(t, s, wire, len, out);
out:
	match_scratch_free(s);
	return rc;
}

void match_table_free(struct match_table *t)
{
	if (!t)
		return;
	hs_free_database(t->hs_db);
	free(t->slots);
	free(t->arena);
	free(t);
}

void match_table_stats(const struct match_table *t, struct match_stats *out)
{
	out->engine = t->engine;
	out->entries = t->entries;
	out->domains = t->domains;
	out->build_seconds = t->build_seconds;
	out->bytes = sizeof(*t) + t->arena_len + t->hs_bytes;
	if (t->slots)
		out->bytes += sizeof(*t->slots) * ((size_t)t->mask + 1);
}

const char *match_kind_name(enum match_kind kind)
{
	static const char *const names[MATCH_KIND_COUNT] = {
	    [MATCH_FORWARD] = "FORWARD", [MATCH_SYSTEM] = "SYSTEM", [MATCH_DELEGATE] = "DELEGATE",
	    [MATCH_ZONE] = "ZONE",	 [MATCH_AUTO] = "AUTO",	    [MATCH_RECURSIVE] = "RECURSIVE",
	};
	return (unsigned)kind < MATCH_KIND_COUNT ? names[kind] : "UNKNOWN";
}

const char *match_engine_name(enum match_engine engine)
{
	static const char *const names[MATCH_ENGINE_COUNT] = {
	    [MATCH_ENGINE_SUFFIX] = "suffix",
	    [MATCH_ENGINE_HYPERSCAN] = "hyperscan",
	};
	return (unsigned)engine < MATCH_ENGINE_COUNT ? names[engine] : "unknown";
}
