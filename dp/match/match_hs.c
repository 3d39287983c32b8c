/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/match Hyperscan engine: compiles every domain of a table into one block-mode literal database
 * (".example.com" for example.com and *.example.com alike) and scans a query written the same way
 * (".zenith.acme.example.com"). A literal counts only where it ends the query, which is the "$"
 * anchor; every literal starts with a dot and the scanned text has dots only between labels, so a
 * match always starts at a label boundary. The callback keeps the most specific domain; its answer
 * was resolved at build time, exactly as for the suffix engine. Also owns match_scratch, the
 * per-thread hs_scratch_t.
 */
#include <stdio.h>
#include <stdlib.h>

#include "dp/match/match_internal.h"

struct match_scratch {
	hs_scratch_t *hs;
};

struct scan_best {
	const uint8_t *arena;
	unsigned long long text_len;
	unsigned rank; /* 2 * labels + 1 for a domain, 2 * (labels + 1) for its wildcard */
	const struct match_answer *answer;
};

/* Writes the node's name as ".label.label"; the root gives "". Returns the length. */
static unsigned dotted_name(const struct match_node *n, char *out)
{
	unsigned len = 0;

	for (unsigned off = 0; n->name[off]; off += n->name[off] + 1u) {
		out[len++] = '.';
		memcpy(out + len, n->name + off + 1, n->name[off]);
		len += n->name[off];
	}
	return len;
}

int match_hs_compile(struct match_table *t, char *err, size_t errlen)
{
	size_t count = t->domains - 1, k = 0;
	const char **exprs = malloc(sizeof(*exprs) * (count + 1));
	size_t *lens = malloc(sizeof(*lens) * (count + 1));
	unsigned *ids = malloc(sizeof(*ids) * (count + 1));
	unsigned *flags = calloc(count + 1, sizeof(*flags));
	char *text = malloc(t->arena_len + 1);
	hs_compile_error_t *cerr = NULL;
	int rc = -1;

	if (!exprs || !lens || !ids || !flags || !text) {
		snprintf(err, errlen, "Out of memory while compiling %zu domains for Hyperscan.",
			 count);
		goto out;
	}
	char *at = text;
	for (size_t off = 0; off < t->arena_len;) {
		const struct match_node *n = match_node_at(t->arena, (uint32_t)off);
		if (n->labels) {
			exprs[k] = at;
			lens[k] = dotted_name(n, at);
			ids[k++] = (unsigned)off;
			at += lens[k - 1];
		}
		off += match_node_size(n->name_len);
	}
	if (k == 0) {
		rc = 0; /* only the root: every lookup answers from it without a scan */
		goto out;
	}
	if (hs_compile_lit_multi(exprs, flags, ids, lens, (unsigned)k, HS_MODE_BLOCK, NULL,
				 &t->hs_db, &cerr) != HS_SUCCESS) {
		snprintf(err, errlen, "Hyperscan could not compile %zu domains: %s.", k,
			 cerr && cerr->message ? cerr->message : "unknown error");
		hs_free_compile_error(cerr);
		goto out;
	}
	hs_database_size(t->hs_db, &t->hs_bytes);
	rc = 0;
out:
	free(exprs);
	free(lens);
	free(ids);
	free(flags);
	free(text);
	return rc;
}

/*
 * Writes the query as ".label.label", folded. A label holding a dot octet can equal no domain label
 * (domains have none), so the text restarts there with an empty label: names below it still match,
 * no literal can match across it. Returns the length, or -1 if the wire name is not valid.
 */
static int dotted_query(const uint8_t *name, size_t len, char *text, unsigned *labels)
{
	unsigned off = 0, pos = 0;

	*labels = 0;
	for (;;) {
		if (off >= len)
			return -1;
		unsigned l = name[off];
		if (l == 0)
			return (int)pos;
		if (l > 63 || off + l + 2 > MATCH_WIRE_MAX || off + l + 1 >= len)
			return -1;
		const uint8_t *label = name + off + 1;
		(*labels)++;
		if (memchr(label, '.', l)) {
			text[0] = '.';
			pos = 1;
		} else {
			text[pos++] = '.';
			for (unsigned i = 0; i < l; i++)
				text[pos++] = (char)match_fold_table[label[i]];
		}
		off += l + 1;
	}
}

static int on_match(unsigned int id, unsigned long long from, unsigned long long to,
		    unsigned int flags, void *ctx)
{
	struct scan_best *best = ctx;
	const struct match_node *n = match_node_at(best->arena, id);
	bool below = to > n->name_len - 1u; /* the literal does not start the text */
	unsigned rank;
	const struct match_answer *a;

	(void)from;
	(void)flags;
	if (to != best->text_len)
		return 0;
	if (below && (n->flags & MATCH_NODE_WILD)) {
		rank = 2u * n->labels + 2u;
		a = &n->wild;
	} else if (n->flags & MATCH_NODE_EXACT) {
		rank = 2u * n->labels + 1u;
		a = &n->exact;
	} else {
		return 0;
	}
	if (rank > best->rank) {
		best->rank = rank;
		best->answer = a;
	}
	return 0;
}

int match_hs_lookup(const struct match_table *t, struct match_scratch *s, const uint8_t *name,
		    size_t len, struct match_result *out)
{
	char text[MATCH_WIRE_MAX];
	unsigned labels;
	int text_len = dotted_query(name, len, text, &labels);
	struct scan_best best = {.arena = t->arena, .text_len = (unsigned long long)text_len};

	if (text_len < 0)
		return MATCH_BAD_NAME;
	if (t->hs_db && text_len > 0) {
		/* hs_scan fails only on a scratch too small for the database or in use elsewhere */
		if (!s || !s->hs ||
		    hs_scan(t->hs_db, text, (unsigned)text_len, 0, s->hs, on_match, &best) !=
			HS_SUCCESS)
			return MATCH_SCRATCH_UNFIT;
	}
	if (!best.answer) {
		const struct match_node *root = match_node_at(t->arena, t->root);
		best.answer =
		    labels && (root->flags & MATCH_NODE_WILD) ? &root->wild : &root->exact;
	}
	match_answer_out(best.answer, out);
	return 0;
}

struct match_scratch *match_scratch_new(void)
{
	return calloc(1, sizeof(struct match_scratch));
}

int match_scratch_fit(struct match_scratch *s, const struct match_table *t, char *err,
		      size_t errlen)
{
	if (!s || !t) {
		snprintf(err, errlen, "No scratch or no table was given.");
		return -1;
	}
	if (!t->hs_db)
		return 0;
	if (hs_alloc_scratch(t->hs_db, &s->hs) != HS_SUCCESS) {
		snprintf(err, errlen, "Hyperscan could not allocate scratch space for this table.");
		return -1;
	}
	return 0;
}

void match_scratch_free(struct match_scratch *s)
{
	if (!s)
		return;
	hs_free_scratch(s->hs);
	free(s);
}
