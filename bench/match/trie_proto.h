/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/match trie prototype: a reversed-label trie (TLD first) kept only to measure it against the
 * suffix engine dp/match ships. Children live in one open-addressing hash keyed by (parent, label),
 * so a lookup walks from the TLD down, one probe per label, until a label is missing, remembering
 * the deepest node that holds a domain (or a wildcard, for names strictly below it). It answers
 * which domain is the most specific match (its label count); answers are resolved at build time in
 * either design, so the walk is the part worth comparing.
 */
#ifndef VPCDNS_BENCH_TRIE_PROTO_H
#define VPCDNS_BENCH_TRIE_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct trie_proto;

struct trie_proto *trie_proto_new(size_t expected_domains);
void trie_proto_free(struct trie_proto *t);
/* domain in presentation form, already valid ("a.b.c", "*.a.b", "."); false when out of memory. */
bool trie_proto_add(struct trie_proto *t, const char *domain);
/* The rank of the most specific match: 2 * labels + 1 for a domain, 2 * labels + 2 for "*." + it,
 * 0 for none. name is a valid wire name. */
unsigned trie_proto_lookup(const struct trie_proto *t, const uint8_t *name, size_t len);
size_t trie_proto_bytes(const struct trie_proto *t);
/* Nodes, the intermediate labels included. */
size_t trie_proto_nodes(const struct trie_proto *t);

#endif
