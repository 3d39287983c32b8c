/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/match trie prototype (see trie_proto.h): a reversed-label trie over one hash of
 * (parent node, folded label) edges, for comparison with dp/match's suffix hash.
 */
#include <stdlib.h>
#include <string.h>

#include "trie_proto.h"

#define EMPTY UINT32_MAX

struct trie_node {
	uint32_t parent;
	uint32_t label; /* offset of the folded label (length octet first) in labels[] */
	uint8_t flags;	/* 1: a domain ends here; 2: its wildcard too */
};

struct trie_proto {
	struct trie_node *nodes;
	size_t n_nodes, cap_nodes;
	uint8_t *labels;
	size_t labels_len, labels_cap;
	uint32_t *slots; /* node index by hash of (parent, label) */
	uint32_t *slot_hash;
	uint32_t mask;
};

static uint8_t fold(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static uint32_t edge_hash(uint32_t parent, const uint8_t *label, unsigned len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ parent;
	for (unsigned i = 0; i < len; i++)
		h = (h ^ fold(label[i])) * 0x100000001b3ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return (uint32_t)h;
}

static bool label_eq(const uint8_t *stored, const uint8_t *label, unsigned len)
{
	if (stored[0] != len)
		return false;
	for (unsigned i = 0; i < len; i++)
		if (stored[1 + i] != fold(label[i]))
			return false;
	return true;
}

static uint32_t find_child(const struct trie_proto *t, uint32_t parent, const uint8_t *label,
			   unsigned len, uint32_t hash, uint32_t *slot)
{
	for (uint32_t i = hash & t->mask;; i = (i + 1) & t->mask) {
		uint32_t n = t->slots[i];
		*slot = i;
		if (n == EMPTY)
			return EMPTY;
		if (t->slot_hash[i] == hash && t->nodes[n].parent == parent &&
		    label_eq(t->labels + t->nodes[n].label, label, len))
			return n;
	}
}

struct trie_proto *trie_proto_new(size_t expected_domains)
{
	struct trie_proto *t = calloc(1, sizeof(*t));
	size_t cap = 64;

	while (cap < expected_domains * 8)
		cap *= 2;
	t->mask = (uint32_t)cap - 1;
	t->slots = malloc(sizeof(*t->slots) * cap);
	t->slot_hash = malloc(sizeof(*t->slot_hash) * cap);
	t->cap_nodes = expected_domains * 6 + 16;
	t->nodes = malloc(sizeof(*t->nodes) * t->cap_nodes);
	t->labels_cap = expected_domains * 64 + 64;
	t->labels = malloc(t->labels_cap);
	memset(t->slots, 0xff, sizeof(*t->slots) * cap);
	t->nodes[0] = (struct trie_node){.parent = EMPTY};
	t->n_nodes = 1;
	return t;
}

void trie_proto_free(struct trie_proto *t)
{
	if (!t)
		return;
	free(t->nodes);
	free(t->labels);
	free(t->slots);
	free(t->slot_hash);
	free(t);
}

static uint32_t add_child(struct trie_proto *t, uint32_t parent, const char *label, unsigned len)
{
	uint32_t slot, hash = edge_hash(parent, (const uint8_t *)label, len);
	uint32_t n = find_child(t, parent, (const uint8_t *)label, len, hash, &slot);

	if (n != EMPTY)
		return n;
	if (t->n_nodes * 2 > t->mask || t->n_nodes == t->cap_nodes ||
	    t->labels_len + len + 1 > t->labels_cap)
		return EMPTY; /* the prototype is sized once, up front */
	n = (uint32_t)t->n_nodes++;
	t->nodes[n] = (struct trie_node){.parent = parent, .label = (uint32_t)t->labels_len};
	t->labels[t->labels_len++] = (uint8_t)len;
	for (unsigned i = 0; i < len; i++)
		t->labels[t->labels_len++] = fold((uint8_t)label[i]);
	t->slots[slot] = n;
	t->slot_hash[slot] = hash;
	return n;
}

bool trie_proto_add(struct trie_proto *t, const char *domain)
{
	bool wild = domain[0] == '*';
	const char *p = wild ? domain + (domain[1] ? 2 : 1) : domain;
	size_t len = strlen(p);
	uint32_t node = 0;

	if (len && p[len - 1] == '.')
		len--;
	/* walk the labels right to left: TLD first */
	while (len) {
		size_t start = len;
		while (start && p[start - 1] != '.')
			start--;
		node = add_child(t, node, p + start, (unsigned)(len - start));
		if (node == EMPTY)
			return false;
		len = start ? start - 1 : 0;
	}
	t->nodes[node].flags |= wild ? 2 : 1;
	return true;
}

unsigned trie_proto_lookup(const struct trie_proto *t, const uint8_t *name, size_t len)
{
	unsigned offs[128], n = 0, best = t->nodes[0].flags & 1 ? 1 : 0;
	uint32_t node = 0;

	(void)len;
	for (unsigned off = 0; name[off]; off += name[off] + 1u)
		offs[n++] = off;
	for (unsigned depth = 0; depth < n; depth++) {
		if (t->nodes[node].flags & 2)
			best = 2 * depth + 2;
		const uint8_t *label = name + offs[n - 1 - depth];
		uint32_t slot, hash = edge_hash(node, label + 1, label[0]);
		node = find_child(t, node, label + 1, label[0], hash, &slot);
		if (node == EMPTY)
			return best;
		if (t->nodes[node].flags & 1)
			best = 2 * (depth + 1) + 1;
	}
	return best;
}

size_t trie_proto_bytes(const struct trie_proto *t)
{
	return sizeof(*t) + t->n_nodes * sizeof(*t->nodes) + t->labels_len +
	       ((size_t)t->mask + 1) * (sizeof(*t->slots) + sizeof(*t->slot_hash));
}

size_t trie_proto_nodes(const struct trie_proto *t)
{
	return t->n_nodes;
}
