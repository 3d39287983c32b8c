/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/slow answer: the records one slow-path query gathers across its steps, and the client's
 * answer built from them. Each step's response (from a target, a zone, recursion: untrusted) is
 * taken apart with dp/wire's parser and its answer and authority records are kept uncompressed, so
 * that records of different messages can sit side by side; the client's answer is written with its
 * own question, the resolver's flags and owner names compressed again. No I/O: unit-tested and
 * fuzzed (fuzz_slow).
 */
#ifndef VPCDNS_CTL_SLOW_ANSWER_H
#define VPCDNS_CTL_SLOW_ANSWER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp/wire/wire.h"

#define SLOW_ANSWER_MAX	  65535 /* the largest message TCP carries */
#define SLOW_NAME_MAX	  255
#define SLOW_STEP_RRS_MAX 512 /* records read from one step's response */

/* Records in wire form, uncompressed, one after another. */
struct slow_section {
	uint8_t *buf;
	size_t len, cap;
	unsigned count;
};

struct slow_gathered {
	struct slow_section answer;    /* every step's, in order */
	struct slow_section authority; /* the last step's */
	uint8_t rcode;		       /* the last step's */
};

/* Frees the sections' memory (the struct itself is the caller's). */
void slow_gathered_free(struct slow_gathered *g);
/* Empties both sections: a SERVFAIL made here carries no records. */
void slow_gathered_clear(struct slow_gathered *g, uint8_t rcode);

enum slow_gather_status {
	SLOW_GATHER_OK = 0,
	SLOW_GATHER_BAD_RESPONSE, /* does not parse as a response, or a record's names do not read
				   */
	SLOW_GATHER_TOO_BIG,	  /* the records would pass SLOW_ANSWER_MAX, or out of memory */
};

/* Takes one step's response (len octets): its answer records are appended, its authority records
 * replace the last step's, its rcode becomes the gathered one. rrs: scratch for SLOW_STEP_RRS_MAX
 * record descriptors (records past them are left out). Not OK: g holds what came before the record
 * that failed, whole records only; the caller answers SERVFAIL. */
enum slow_gather_status slow_gather(struct slow_gathered *g, const uint8_t *msg, size_t len,
				    struct wire_rr *rrs);

/* The name the gathered CNAME chain from qname (wire form, qlen octets) ends at, into out
 * (SLOW_NAME_MAX): qname itself when there is none; 0 when the chain loops or runs past max_links.
 */
size_t slow_chain_end(const struct slow_gathered *g, const uint8_t *qname, size_t qlen,
		      unsigned max_links, uint8_t *out);

/* True when the gathered answer holds a record of qtype owned by name. */
bool slow_gathered_has(const struct slow_gathered *g, const uint8_t *name, size_t len,
		       uint16_t qtype);

/* True when a and b (wire form) are the same name under DNS comparison (ASCII case folded). */
bool slow_name_equal(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/*
 * The client's answer to its query (parsed into q) from g, into out (cap octets): the query's ID
 * and question as sent, QR, RA, RD and CD as asked (never AA or AD), the gathered rcode and records
 * with owners compressed, and an OPT of edns_size only if the query had one. When that would pass
 * limit octets it is cut to header and question (and OPT) with TC=1, and *truncated says so. Its
 * length, or 0 when even that does not fit cap.
 */
size_t slow_build_answer(const struct slow_gathered *g, const uint8_t *query,
			 const struct wire_dns_msg *q, uint16_t edns_size, size_t limit,
			 uint8_t *out, size_t cap, bool *truncated);

#endif
