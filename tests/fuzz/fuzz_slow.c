/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * libFuzzer target for ctl/slow's answer assembly: what targets, zones and recursion send back is
 * untrusted. Input: one control octet (bit 0: the client sent an OPT; bit 1: CD; bit 2: a UDP
 * client of 512 octets, else TCP), then up to four responses, each a 16-bit length and the message.
 * The client's query asks the first response's question (else www.example.com A). Every response is
 * gathered as a slow-path step would; then the invariants: the chain's end is a wire name, and the
 * client's answer parses as a response with the query's ID and question, the gathered counts (or
 * TC=1 with none), never AA, and no more octets than the client takes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/slow/answer.h"
#include "dp/wire/wire.h"

#define STEPS_MAX 4
/* An invariant broken: say which before libFuzzer saves the input. */
#define BROKEN()                                                                                   \
	do {                                                                                       \
		fprintf(stderr, "fuzz_slow: invariant at line %d broken\n", __LINE__);             \
		abort();                                                                           \
	} while (0)

static struct wire_rr rrs[SLOW_STEP_RRS_MAX];
static uint8_t out[SLOW_ANSWER_MAX];

/* The client's query: header, the question (qname with qtype/qclass), maybe an OPT. */
static size_t make_query(uint8_t ctl, const uint8_t *resp, size_t rlen, uint8_t *q)
{
	static const uint8_t fallback[] = "\3www\7example\3com\0\0\1\0\1";
	struct wire_dns_msg m;
	const uint8_t *question = fallback;
	size_t qlen = sizeof(fallback) - 1;
	if (resp && wire_dns_parse_response_head(resp, rlen, &m) == WIRE_OK && m.question_end) {
		question = resp + WIRE_DNS_HLEN;
		qlen = m.question_end - WIRE_DNS_HLEN;
	}
	memset(q, 0, WIRE_DNS_HLEN);
	q[0] = 0x12, q[1] = 0x34;
	q[2] = 0x01;			     /* RD */
	q[3] = (ctl & 2) ? WIRE_FLAG_CD : 0; /* CD lives in the low octet */
	q[5] = 1;
	q[11] = (ctl & 1) ? 1 : 0;
	memcpy(q + WIRE_DNS_HLEN, question, qlen);
	size_t n = WIRE_DNS_HLEN + qlen;
	if (ctl & 1) {
		static const uint8_t opt[11] = {0, 0, 41, 0x04, 0xd0};
		memcpy(q + n, opt, sizeof(opt));
		n += sizeof(opt);
	}
	return n;
}

static void check_answer(const struct slow_gathered *g, const uint8_t *query,
			 const struct wire_dns_msg *q, size_t limit)
{
	bool truncated;
	size_t n = slow_build_answer(g, query, q, 4096, limit, out, sizeof(out), &truncated);
	if (n == 0)
		BROKEN(); /* header and question always fit */
	if (n > limit)
		BROKEN();
	struct wire_dns_msg a;
	size_t count = 0;
	if (wire_dns_parse_response(out, n, &a, NULL, 0, &count) != WIRE_OK)
		BROKEN();
	if (a.id != q->id || !wire_dns_same_question(out, &a, query, q) || (a.flags & 0x0420))
		BROKEN(); /* the query's ID and question; never AA or AD */
	if (truncated ? (a.ancount || a.nscount || !(a.flags & WIRE_FLAG_TC))
		      : (a.ancount != g->answer.count || a.nscount != g->authority.count))
		BROKEN();
	if (a.has_opt != q->has_opt)
		BROKEN();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t ctl = data[0];
	const uint8_t *steps[STEPS_MAX];
	size_t lens[STEPS_MAX], n_steps = 0, at = 1;
	while (n_steps < STEPS_MAX && at + 2 <= size) {
		size_t len = (size_t)data[at] << 8 | data[at + 1];
		at += 2;
		if (len > size - at)
			len = size - at;
		steps[n_steps] = data + at;
		lens[n_steps++] = len;
		at += len;
	}
	uint8_t query[WIRE_DNS_HLEN + 255 + 4 + 11];
	size_t qlen = make_query(ctl, n_steps ? steps[0] : NULL, n_steps ? lens[0] : 0, query);
	struct wire_dns_msg q;
	if (wire_dns_parse_query(query, qlen, &q) != WIRE_OK)
		return 0; /* a question the parser refuses in a query (a compressed name) */
	struct slow_gathered g = {0};
	for (size_t i = 0; i < n_steps; i++)
		(void)slow_gather(&g, steps[i], lens[i], rrs);
	uint8_t end[SLOW_NAME_MAX];
	size_t end_len = slow_chain_end(&g, query + WIRE_DNS_HLEN, q.qname_len, 16, end);
	if (end_len > SLOW_NAME_MAX || (end_len && end[end_len - 1] != 0))
		BROKEN();
	check_answer(&g, query, &q, (ctl & 4) ? 512 : SLOW_ANSWER_MAX);
	slow_gathered_free(&g);
	return 0;
}
