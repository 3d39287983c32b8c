/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tests/unit/wire: round trips on real packets captured from dig and kdig against BIND 9
 * (tests/vectors, see its README): parse, walk every record, rewrite, checksum, compare.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

#include "dp/wire/wire.h"
#include "msgbuild.h"

#define MAX_MSG 70000

struct blob {
	uint8_t b[MAX_MSG];
	size_t n;
};

static bool load(const char *file, struct blob *out)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", VECTORS_DIR, file);
	FILE *f = fopen(path, "rb");
	if (!f)
		return false;
	out->n = fread(out->b, 1, sizeof(out->b), f);
	fclose(f);
	return true;
}

static struct blob v, w;
static struct wire_dns_msg m;
static struct wire_rr rrs[512];
static size_t count;

static void must_load(const char *file, struct blob *out)
{
	cr_assert(load(file, out), "missing vector %s", file);
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a >= b && strcmp(s + a - b, suffix) == 0;
}

/* Calls fn on every vector file with the suffix; returns how many. */
static int each_vector(const char *suffix, void (*fn)(const char *name))
{
	DIR *d = opendir(VECTORS_DIR);
	cr_assert_not_null(d, "no %s", VECTORS_DIR);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!ends_with(e->d_name, suffix))
			continue;
		if (strstr(suffix, "frame") == NULL && strstr(e->d_name, ".frame."))
			continue;
		fn(e->d_name);
		n++;
	}
	closedir(d);
	return n;
}

/* ---- queries ---- */

static void check_query(const char *name)
{
	must_load(name, &v);
	enum wire_err err = wire_dns_parse_query(v.b, v.n, &m);
	/* Which of these each vector must give is checked against index.tsv below. */
	if (err == WIRE_E_OPCODE || err == WIRE_E_QD_COUNT || err == WIRE_E_EDNS_VERSION)
		return;
	cr_assert_eq(err, WIRE_OK, "%s: %s", name, wire_err_name(err));
	cr_assert_eq(m.msg_end, v.n, "%s", name);
	cr_assert_eq(m.qname_hash, wire_name_hash(v.b + 12, m.qname_len), "%s", name);
	/* Per-hop EDNS: the query leaves with 4096 whatever the client said, an OPT added if none.
	 */
	size_t len = v.n;
	if (m.has_opt)
		cr_assert_eq(wire_dns_set_opt_udp_size(v.b, &m, 4096), WIRE_OK);
	else
		cr_assert_eq(wire_dns_append_opt(v.b, &len, sizeof(v.b), &m, 4096, false), WIRE_OK);
	struct wire_dns_msg again;
	cr_assert_eq(wire_dns_parse_query(v.b, len, &again), WIRE_OK, "%s", name);
	cr_assert_eq(again.opt.udp_size, 4096);
	cr_assert_eq(again.qname_hash, m.qname_hash);
}

Test(wire_vectors, every_captured_query_parses_and_takes_per_hop_edns)
{
	cr_assert_gt(each_vector(".query.bin", check_query), 40);
}

/* ---- against index.tsv: what the extractor's independent parser read ---- */

enum {
	COL_NAME = 0,
	COL_QUERY = 5, /* size id flags rcode qd an ns ar qname qtype qclass ver udp do options */
	COL_RESPONSE = 20 /* the same fifteen for the response */
};

/* A name in presentation form, as the extractor writes it (\DDD, \. and friends escaped). */
static void name_text(const uint8_t *msg, size_t len, size_t off, char *out)
{
	static const char special[] = ".\\\";();@$";
	size_t guard = 0;
	*out = 0;
	while (off < len && msg[off] != 0 && guard++ < 128) {
		if ((msg[off] & 0xc0) == 0xc0) {
			off = (size_t)(msg[off] & 0x3f) << 8 | msg[off + 1];
			continue;
		}
		for (size_t i = 1; i <= msg[off]; i++) {
			uint8_t c = msg[off + i];
			if (c && strchr(special, c))
				out += sprintf(out, "\\%c", c);
			else if (c >= 0x21 && c <= 0x7e)
				*out++ = (char)c;
			else
				out += sprintf(out, "\\%03u", c);
		}
		*out++ = '.';
		off += msg[off] + 1u;
	}
	if (guard == 0)
		*out++ = '.';
	*out = 0;
}

static void options_text(const uint8_t *msg, const struct wire_dns_msg *dm, char *out)
{
	strcpy(out, "-");
	if (!dm->has_opt || dm->opt.rdata_len == 0)
		return;
	*out = 0;
	for (size_t p = 0; p < dm->opt.rdata_len;) {
		const uint8_t *o = msg + dm->opt.rdata_off + p;
		out += sprintf(out, "%s%u:%u", p ? "," : "", be16(o), be16(o + 2));
		p += 4u + be16(o + 2);
	}
}

static long num(char **f, int col)
{
	return strtol(f[col], NULL, 0);
}

/*
 * Compares a parsed message with the fifteen index columns from `col`; only the header when the
 * parse stopped before the records (`header_only`).
 */
static void compare_row(char **f, int col, const struct blob *msg, const struct wire_dns_msg *dm,
			bool header_only)
{
	char text[1100];
	const char *name = f[COL_NAME];
	cr_assert_eq((long)msg->n, num(f, col), "%s size", name);
	cr_assert_eq(dm->id, num(f, col + 1), "%s id", name);
	cr_assert_eq(dm->flags, num(f, col + 2), "%s flags", name);
	cr_assert_eq(dm->qdcount, num(f, col + 4), "%s", name);
	cr_assert_eq(dm->ancount, num(f, col + 5), "%s", name);
	cr_assert_eq(dm->nscount, num(f, col + 6), "%s", name);
	cr_assert_eq(dm->arcount, num(f, col + 7), "%s", name);
	if (header_only)
		return;
	cr_assert_eq(WIRE_RCODE(dm->flags) | (dm->has_opt ? dm->opt.ext_rcode << 4 : 0),
		     num(f, col + 3), "%s rcode", name);
	if (dm->question_end) {
		name_text(msg->b, msg->n, WIRE_DNS_HLEN, text);
		cr_assert_str_eq(text, f[col + 8], "%s qname", name);
		cr_assert_eq(dm->qtype, num(f, col + 9), "%s", name);
		cr_assert_eq(dm->qclass, num(f, col + 10), "%s", name);
	}
	cr_assert_eq(dm->has_opt ? dm->opt.version : -1, num(f, col + 11), "%s edns", name);
	if (!dm->has_opt)
		return;
	cr_assert_eq(dm->opt.udp_size, num(f, col + 12), "%s udp", name);
	cr_assert_eq(dm->opt.do_bit, num(f, col + 13), "%s do", name);
	options_text(msg->b, dm, text);
	cr_assert_str_eq(text, f[col + 14], "%s options", name);
}

static enum wire_err expected_query_err(char **f)
{
	if (WIRE_OPCODE(num(f, COL_QUERY + 2)) != 0)
		return WIRE_E_OPCODE;
	if (num(f, COL_QUERY + 4) != 1)
		return WIRE_E_QD_COUNT;
	if (num(f, COL_QUERY + 11) > 0)
		return WIRE_E_EDNS_VERSION;
	return WIRE_OK;
}

static void check_row(char **f)
{
	char file[300];
	snprintf(file, sizeof(file), "%s.query.bin", f[COL_NAME]);
	must_load(file, &v);
	enum wire_err err = wire_dns_parse_query(v.b, v.n, &m);
	cr_assert_eq(err, expected_query_err(f), "%s: %s", f[COL_NAME], wire_err_name(err));
	compare_row(f, COL_QUERY, &v, &m, err == WIRE_E_OPCODE || err == WIRE_E_QD_COUNT);
	snprintf(file, sizeof(file), "%s.response.bin", f[COL_NAME]);
	must_load(file, &v);
	err = wire_dns_parse_response(v.b, v.n, &m, NULL, 0, &count);
	cr_assert_eq(err, WIRE_OK, "%s: %s", f[COL_NAME], wire_err_name(err));
	compare_row(f, COL_RESPONSE, &v, &m, false);
}

Test(wire_vectors, every_vector_agrees_with_the_independent_index)
{
	char path[512], line[4096];
	snprintf(path, sizeof(path), "%s/index.tsv", VECTORS_DIR);
	FILE *idx = fopen(path, "r");
	cr_assert_not_null(idx, "no index.tsv");
	int rows = 0;
	cr_assert_not_null(fgets(line, sizeof(line), idx), "header line");
	while (fgets(line, sizeof(line), idx)) {
		char *f[40], *save = NULL;
		int n = 0;
		line[strcspn(line, "\n")] = 0;
		for (char *t = strtok_r(line, "\t", &save); t && n < 40;
		     t = strtok_r(NULL, "\t", &save))
			f[n++] = t;
		cr_assert_eq(n, 35, "row %d has %d columns", rows, n);
		check_row(f);
		rows++;
	}
	fclose(idx);
	cr_assert_gt(rows, 80);
}

Test(wire_vectors, case_does_not_change_the_name_hash)
{
	/* kdig sends the -0x20 vector's name in lower case, so mix the case here. */
	must_load("kdig-www-a.query.bin", &v);
	cr_assert_eq(wire_dns_parse_query(v.b, v.n, &m), WIRE_OK);
	uint64_t lower = m.qname_hash;
	for (size_t i = 12; i < 12u + m.qname_len; i += 2)
		if (v.b[i] >= 'a' && v.b[i] <= 'z')
			v.b[i] = (uint8_t)(v.b[i] - 'a' + 'A');
	cr_assert_eq(wire_dns_parse_query(v.b, v.n, &m), WIRE_OK);
	cr_assert_eq(m.qname_hash, lower);
	must_load("kdig-www-a-0x20.query.bin", &v);
	cr_assert_eq(wire_dns_parse_query(v.b, v.n, &m), WIRE_OK);
	cr_assert_eq(m.qname_hash, lower);
	cr_assert_neq(memcmp(v.b + 12, "\003www", 4), 0, "the 0x20 query really has upper case");
}

/* ---- responses ---- */

static void check_response(const char *name)
{
	must_load(name, &v);
	enum wire_err err = wire_dns_parse_response(v.b, v.n, &m, rrs, 512, &count);
	cr_assert_eq(err, WIRE_OK, "%s: %s", name, wire_err_name(err));
	cr_assert_eq(count, (size_t)m.ancount + m.nscount + m.arcount, "%s", name);
	for (size_t i = 0; i < count; i++) {
		cr_assert_gt(wire_name_length(v.b, v.n, rrs[i].owner_off), 0, "%s rr %zu", name, i);
		cr_assert_leq((size_t)rrs[i].rdata_off + rrs[i].rdata_len, v.n);
	}

	/* Forwarded back: resolver flags, the client's ID, OPT stripped (the client sent none). */
	memcpy(&w, &v, sizeof(v));
	size_t len = w.n;
	struct wire_dns_msg wm = m;
	wire_dns_set_id(w.b, 0x5a5a);
	wire_dns_set_resolver_flags(w.b, WIRE_FLAG_RD);
	if (wm.has_opt)
		cr_assert_eq(wire_dns_strip_opt(w.b, &len, &wm), WIRE_OK, "%s", name);
	struct wire_dns_msg again;
	size_t n2;
	cr_assert_eq(wire_dns_parse_response(w.b, len, &again, NULL, 0, &n2), WIRE_OK, "%s", name);
	cr_assert_not(again.has_opt);
	cr_assert_eq(n2, count - (m.has_opt ? 1 : 0));
	cr_assert_eq(again.flags & (WIRE_FLAG_AA | WIRE_FLAG_AD), 0);
	cr_assert_eq(again.id, 0x5a5a);
	/* The records before the OPT are byte-identical. */
	size_t first = m.question_end ? m.question_end : 12;
	size_t opt = m.has_opt ? m.opt.off : v.n;
	cr_assert_eq(memcmp(w.b + first, v.b + first, opt - first), 0, "%s", name);
	/* ...and an OPT appended again re-parses. */
	cr_assert_eq(wire_dns_append_opt(w.b, &len, sizeof(w.b), &again, 1232, false), WIRE_OK);
	cr_assert_eq(wire_dns_parse_response(w.b, len, &again, NULL, 0, &n2), WIRE_OK, "%s", name);

	/* Truncated for a small client: header + question + OPT, TC set, re-parses. */
	memcpy(&w, &v, sizeof(v));
	len = w.n;
	wm = m;
	cr_assert_eq(wire_dns_truncate(w.b, &len, &wm, true), WIRE_OK);
	cr_assert_eq(wire_dns_parse_response(w.b, len, &again, NULL, 0, &n2), WIRE_OK, "%s", name);
	cr_assert(again.flags & WIRE_FLAG_TC);
	cr_assert_eq(n2, m.has_opt ? 1 : 0);
	cr_assert_eq(len, first + (m.has_opt ? m.opt.len : 0));
}

Test(wire_vectors, every_captured_response_walks_rewrites_and_truncates)
{
	cr_assert_gt(each_vector(".response.bin", check_response), 40);
}

Test(wire_vectors, the_large_answer_has_100_a_records_in_1645_bytes)
{
	must_load("dig-large-udp4096.response.bin", &v);
	cr_assert_eq(v.n, 1645);
	cr_assert_eq(wire_dns_parse_response(v.b, v.n, &m, rrs, 512, &count), WIRE_OK);
	cr_assert_eq(m.ancount, 100);
	cr_assert_eq(count, 101);
	for (int i = 0; i < 100; i++) {
		cr_assert_eq(rrs[i].type, 1);
		cr_assert_eq(rrs[i].rdata_len, 4);
		cr_assert_eq(rrs[i].section, WIRE_SEC_ANSWER);
	}
	cr_assert_eq(rrs[100].type, WIRE_TYPE_OPT);
	must_load("dig-large-tcp.response.bin", &w);
	cr_assert_eq(w.n, 1645);
	cr_assert_eq(wire_dns_parse_response(w.b, w.n, &m, NULL, 0, &count), WIRE_OK);
	cr_assert_eq(count, 101);
}

Test(wire_vectors, ttl_patching_in_place_reads_back)
{
	must_load("dig-large-udp4096.response.bin", &v);
	cr_assert_eq(wire_dns_parse_response(v.b, v.n, &m, rrs, 512, &count), WIRE_OK);
	cr_assert_eq(wire_rr_ttl(v.b, &rrs[0]), be32(v.b + rrs[0].ttl_off));
	cr_assert_gt(wire_rr_ttl(v.b, &rrs[0]), 0);
	for (size_t i = 0; i < 100; i++)
		wire_rr_set_ttl(v.b, &rrs[i], 30); /* serve-stale TTL */
	struct wire_rr again[512];
	cr_assert_eq(wire_dns_parse_response(v.b, v.n, &m, again, 512, &count), WIRE_OK);
	for (size_t i = 0; i < 100; i++)
		cr_assert_eq(wire_rr_ttl(v.b, &again[i]), 30);
	wire_rr_set_ttl(v.b, &again[0], 0x80000001u);
	cr_assert_eq(wire_rr_ttl(v.b, &again[0]), 0, "a TTL with the top bit set reads as 0");
}

Test(wire_vectors, truncating_the_large_answer_matches_binds_own_tc_answer)
{
	/* BIND's answer to a 1232-byte client (with its cookie) against ours cut from the full one.
	 */
	must_load("dig-large-udp4096.response.bin", &v);
	must_load("dig-large-bufsize1232.response.bin", &w);
	cr_assert_eq(wire_dns_parse_response(v.b, v.n, &m, NULL, 0, &count), WIRE_OK);
	size_t len = v.n;
	cr_assert_eq(wire_dns_truncate(v.b, &len, &m, true), WIRE_OK);
	cr_assert_eq(len, 12 + 22 + 11);
	/* Same flags (qr aa tc rd), counts, question and OPT fixed part; IDs and cookie differ. */
	cr_assert_eq(memcmp(v.b + 2, w.b + 2, 10 + 22), 0);
	cr_assert_eq(memcmp(v.b + 34, w.b + 34, 9), 0);
}

Test(wire_vectors, badvers_answer_matches_binds_but_for_ra)
{
	must_load("dig-edns1-badvers.query.bin", &v);
	must_load("dig-edns1-badvers.response.bin", &w);
	size_t len = v.n;
	enum wire_err err = wire_dns_parse_query(v.b, len, &m);
	cr_assert_eq(err, WIRE_E_EDNS_VERSION);
	cr_assert_eq(wire_dns_make_answer(v.b, &len, v.n, &m, wire_err_rcode(err), 4096), WIRE_OK);
	cr_assert_eq(len, w.n);
	cr_assert_eq(be16(v.b + 2), be16(w.b + 2) | WIRE_FLAG_RA, "BIND ran with recursion no");
	cr_assert_eq(memcmp(v.b, w.b, 2), 0);
	cr_assert_eq(memcmp(v.b + 4, w.b + 4, len - 4), 0);
}

Test(wire_vectors, notimp_answer_to_a_status_query)
{
	must_load("dig-opcode-status.query.bin", &v);
	size_t len = v.n;
	enum wire_err err = wire_dns_parse_query(v.b, len, &m);
	cr_assert_eq(err, WIRE_E_OPCODE);
	cr_assert_eq(wire_dns_make_answer(v.b, &len, v.n, &m, wire_err_rcode(err), 4096), WIRE_OK);
	struct wire_dns_msg a;
	cr_assert_eq(wire_dns_parse_response(v.b, len, &a, NULL, 0, &count), WIRE_OK);
	cr_assert_eq(WIRE_RCODE(a.flags), WIRE_RCODE_NOTIMP);
	cr_assert_eq(WIRE_OPCODE(a.flags), 2);
	cr_assert_eq(a.qdcount, 0, "like BIND: no question from a query it did not read");
}

Test(wire_vectors, responses_ask_the_question_of_their_query_whatever_the_case)
{
	struct wire_dns_msg mq, mr;
	must_load("dig-www-a.query.bin", &v);
	must_load("dig-www-a.response.bin", &w);
	cr_assert_eq(wire_dns_parse_query(v.b, v.n, &mq), WIRE_OK);
	cr_assert_eq(wire_dns_parse_response(w.b, w.n, &mr, NULL, 0, &count), WIRE_OK);
	cr_assert(wire_dns_same_question(v.b, &mq, w.b, &mr));
	must_load("kdig-www-a-0x20.response.bin", &w);
	cr_assert_eq(wire_dns_parse_response(w.b, w.n, &mr, NULL, 0, &count), WIRE_OK);
	cr_assert(wire_dns_same_question(v.b, &mq, w.b, &mr));
	must_load("dig-www-aaaa-v6.response.bin", &w);
	cr_assert_eq(wire_dns_parse_response(w.b, w.n, &mr, NULL, 0, &count), WIRE_OK);
	cr_assert_not(wire_dns_same_question(v.b, &mq, w.b, &mr), "AAAA is another question");
}

/*
 * The forwarder's answer path (BEHAVIOUR.md) applied to BIND's real upstream answer: the client's
 * ID, resolver flags, REFUSED shown as SERVFAIL, the target's OPT (and cookie) replaced by ours
 * (4096, DO as the client sent), TC for a UDP client that takes less.
 */
static size_t forward_back(const char *client, const char *upstream, bool tcp)
{
	static struct blob q;
	struct wire_dns_msg mq, mr;
	char file[256];
	snprintf(file, sizeof(file), "%s.query.bin", client);
	must_load(file, &q);
	snprintf(file, sizeof(file), "%s.response.bin", upstream);
	must_load(file, &v);
	cr_assert_eq(wire_dns_parse_query(q.b, q.n, &mq), WIRE_OK, "%s", client);
	cr_assert_eq(wire_dns_parse_response(v.b, v.n, &mr, NULL, 0, &count), WIRE_OK, "%s",
		     upstream);
	cr_assert(wire_dns_same_question(q.b, &mq, v.b, &mr), "%s", client);
	size_t len = v.n;
	wire_dns_set_id(v.b, mq.id);
	wire_dns_set_resolver_flags(v.b, mq.flags);
	if (WIRE_RCODE(mr.flags) == WIRE_RCODE_REFUSED)
		wire_dns_set_rcode(v.b, WIRE_RCODE_SERVFAIL);
	if (mr.has_opt)
		cr_assert_eq(wire_dns_strip_opt(v.b, &len, &mr), WIRE_OK);
	if (mq.has_opt)
		cr_assert_eq(wire_dns_append_opt(v.b, &len, sizeof(v.b), &mr, 4096, mq.opt.do_bit),
			     WIRE_OK);
	if (!tcp && len > wire_dns_udp_limit(&mq))
		cr_assert_eq(wire_dns_truncate(v.b, &len, &mr, true), WIRE_OK);
	return len;
}

/* Compares our answer (v, len) with BIND's (w), TTLs allowed one second of cache aging. */
static void assert_same_answer(const char *client, size_t len)
{
	static struct wire_rr ours[512], theirs[512];
	size_t n_ours, n_theirs;
	char file[256];
	snprintf(file, sizeof(file), "%s.response.bin", client);
	must_load(file, &w);
	cr_assert_eq(len, w.n, "%s: %zu octets, BIND %zu", client, len, w.n);
	cr_assert_eq(wire_dns_parse_response(v.b, len, &m, ours, 512, &n_ours), WIRE_OK);
	cr_assert_eq(wire_dns_parse_response(w.b, w.n, &m, theirs, 512, &n_theirs), WIRE_OK);
	cr_assert_eq(n_ours, n_theirs, "%s", client);
	for (size_t i = 0; i < n_ours; i++) {
		if (ours[i].type == WIRE_TYPE_OPT)
			continue;
		long age = (long)wire_rr_ttl(v.b, &ours[i]) - (long)wire_rr_ttl(w.b, &theirs[i]);
		cr_assert(age >= 0 && age <= 1, "%s rr %zu TTL", client, i);
		wire_rr_set_ttl(v.b, &ours[i], wire_rr_ttl(w.b, &theirs[i]));
	}
	cr_assert_eq(memcmp(v.b, w.b, len), 0, "%s: not BIND's bytes", client);
}

static int pipelines;

static void check_resolver_pair(const char *name)
{
	char client[256], upstream[256];
	size_t stem = strlen(name) - strlen(".response.bin");
	snprintf(upstream, sizeof(upstream), "%.*s", (int)stem, name);
	snprintf(client, sizeof(client), "%.*s", (int)(stem - strlen("-upstream")), name);
	if (strcmp(client, "res-large-tc-retry") == 0)
		return; /* its UDP and TCP client vectors share this upstream: checked on their own
			 */
	assert_same_answer(client, forward_back(client, upstream, false));
	pipelines++;
}

Test(wire_vectors, forwarding_binds_upstream_answers_gives_bind_resolvers_answers_byte_for_byte)
{
	each_vector("-upstream.response.bin", check_resolver_pair);
	cr_assert_gt(pipelines, 5);
	/* The seed's large answer: TC for the 1232-byte UDP client, all 1,645 octets over TCP. */
	assert_same_answer(
	    "res-large-tc-retry-udp",
	    forward_back("res-large-tc-retry-udp", "res-large-tc-retry-upstream", false));
	assert_same_answer(
	    "res-large-tc-retry-tcp",
	    forward_back("res-large-tc-retry-tcp", "res-large-tc-retry-upstream", true));
	cr_assert_eq(w.n, 1645);
}

/* ---- frames ---- */

static void check_frame(const char *name)
{
	struct wire_pkt p;
	char payload_name[256];
	must_load(name, &v);
	enum wire_err err = wire_pkt_parse(v.b, v.n, &p);
	cr_assert_eq(err, WIRE_OK, "%s: %s", name, wire_err_name(err));
	cr_assert(wire_pkt_udp_cksum_ok(v.b, &p), "%s", name);
	if (p.ip_version == 4)
		cr_assert_eq(wire_ipv4_hdr_cksum(v.b + p.l3_off), be16(v.b + p.l3_off + 10), "%s",
			     name);

	/* The UDP payload is the matching .bin file. */
	size_t stem = strlen(name) - strlen(".frame.bin");
	snprintf(payload_name, sizeof(payload_name), "%.*s.bin", (int)stem, name);
	must_load(payload_name, &w);
	cr_assert_eq(p.payload_len, w.n, "%s", name);
	cr_assert_eq(memcmp(v.b + p.payload_off, w.b, w.n), 0, "%s", name);

	/* Rewrite like the forwarder: swap addresses and ports, new ID; incremental == full. */
	uint8_t *ip = v.b + p.l3_off, *udp = v.b + p.l4_off;
	uint8_t src[16], dst[16];
	memcpy(src, v.b + p.src_addr_off, p.addr_len);
	memcpy(dst, v.b + p.dst_addr_off, p.addr_len);
	dst[p.addr_len - 1] ^=
	    0x5a; /* a different address, not just a swap (a swap sums the same) */
	uint16_t ipck = be16(ip + 10), udpck = be16(udp + 6);
	udpck = wire_cksum_update_addr(udpck, v.b + p.src_addr_off, dst, p.addr_len);
	udpck = wire_cksum_update_addr(udpck, v.b + p.dst_addr_off, src, p.addr_len);
	if (p.ip_version == 4) {
		ipck = wire_cksum_update_addr(ipck, v.b + p.src_addr_off, dst, 4);
		ipck = wire_cksum_update_addr(ipck, v.b + p.dst_addr_off, src, 4);
	}
	memcpy(v.b + p.src_addr_off, dst, p.addr_len);
	memcpy(v.b + p.dst_addr_off, src, p.addr_len);
	udpck = wire_cksum_update16(udpck, be16(v.b + p.payload_off), 0x7777);
	wire_dns_set_id(v.b + p.payload_off, 0x7777);
	udpck = wire_udp_cksum_store(udpck);
	if (p.ip_version == 4)
		cr_assert_eq(ipck, wire_ipv4_hdr_cksum(ip), "%s", name);
	cr_assert_eq(udpck, wire_udp_cksum(ip, udp, 8 + p.payload_len), "%s", name);
	wire_pkt_set_cksums(v.b, &p);
	cr_assert(wire_pkt_udp_cksum_ok(v.b, &p));
}

/* Per-hop EDNS on the whole frame: an OPT appended to a query without one, lengths fixed. */
static int frames_grown;

static void grow_frame(const char *name)
{
	struct wire_pkt p, again;
	must_load(name, &v);
	cr_assert_eq(wire_pkt_parse(v.b, v.n, &p), WIRE_OK);
	uint8_t *dns = v.b + p.payload_off;
	size_t len = p.payload_len;
	if (wire_dns_parse_query(dns, len, &m) != WIRE_OK || m.has_opt)
		return;
	cr_assert_eq(wire_dns_append_opt(dns, &len, sizeof(v.b) - p.payload_off, &m, 4096, false),
		     WIRE_OK);
	wire_pkt_set_payload_len(v.b, &p, (uint16_t)len);
	wire_pkt_set_cksums(v.b, &p);
	cr_assert_eq(wire_pkt_parse(v.b, p.ip_end, &again), WIRE_OK, "%s", name);
	cr_assert_eq(again.payload_len, len);
	cr_assert(wire_pkt_udp_cksum_ok(v.b, &again));
	if (p.ip_version == 4)
		cr_assert_eq(be16(v.b + p.l3_off + 10), wire_ipv4_hdr_cksum(v.b + p.l3_off),
			     "incremental IPv4 header checksum after the length change");
	cr_assert_eq(wire_dns_parse_query(dns, len, &m), WIRE_OK);
	cr_assert_eq(m.opt.udp_size, 4096);
	frames_grown++;
}

Test(wire_vectors, appending_an_opt_to_a_query_frame_fixes_its_lengths)
{
	cr_assert_gt(each_vector(".query.frame.bin", grow_frame), 40);
	cr_assert_gt(frames_grown, 3, "the vectors hold queries without EDNS");
}

Test(wire_vectors, every_captured_frame_parses_checksums_and_rewrites_incrementally)
{
	cr_assert_gt(each_vector(".frame.bin", check_frame), 60);
}

Test(wire_vectors, ipv6_frames_carry_the_same_dns_as_ipv4)
{
	struct wire_pkt p;
	must_load("dig-aaaa-v6.query.frame.bin", &v);
	cr_assert_eq(wire_pkt_parse(v.b, v.n, &p), WIRE_OK);
	cr_assert_eq(p.ip_version, 6);
	cr_assert_eq(p.dst_port, 5354);
	cr_assert_eq(wire_dns_parse_query(v.b + p.payload_off, p.payload_len, &m), WIRE_OK);
	cr_assert_eq(m.qtype, 28);
}
