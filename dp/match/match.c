/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/match public entry points that do not belong to one engine: lookup dispatch, the text lookup
 * for tools and tests, stats, freeing, and the names of kinds and engines.
 */
#include <stdlib.h>

#include "dp/match/match_internal.h"

/* ASCII upper case to lower case; every other octet is itself (DNS folds only A-Z). */
const uint8_t match_fold_table[256] = {
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f,
    0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f,
    0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
    0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3a, 0x3b, 0x3c, 0x3d, 0x3e, 0x3f,
    0x40, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x5b, 0x5c, 0x5d, 0x5e, 0x5f,
    0x60, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69, 0x6a, 0x6b, 0x6c, 0x6d, 0x6e, 0x6f,
    0x70, 0x71, 0x72, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7a, 0x7b, 0x7c, 0x7d, 0x7e, 0x7f,
    0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8b, 0x8c, 0x8d, 0x8e, 0x8f,
    0x90, 0x91, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f,
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
    0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
    0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf,
    0xd0, 0xd1, 0xd2, 0xd3, 0xd4, 0xd5, 0xd6, 0xd7, 0xd8, 0xd9, 0xda, 0xdb, 0xdc, 0xdd, 0xde, 0xdf,
    0xe0, 0xe1, 0xe2, 0xe3, 0xe4, 0xe5, 0xe6, 0xe7, 0xe8, 0xe9, 0xea, 0xeb, 0xec, 0xed, 0xee, 0xef,
    0xf0, 0xf1, 0xf2, 0xf3, 0xf4, 0xf5, 0xf6, 0xf7, 0xf8, 0xf9, 0xfa, 0xfb, 0xfc, 0xfd, 0xfe, 0xff,
};

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
	free(t->filter);
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
	if (t->filter)
		out->bytes += sizeof(*t->filter) * match_filter_words(t->domains);
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
