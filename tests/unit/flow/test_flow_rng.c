/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/flow randomness: ChaCha20 against RFC 8439's test vectors, the table's stream being exactly
 * the ChaCha20 keystream of its seed, and the sanity of port and ID draws (every value of a small
 * range is hit, none far from its expected count). The seed is fixed: no test depends on luck.
 */
#include "flow_test_util.h"

static void block_bytes(const uint32_t input[16], uint8_t out[64])
{
	uint32_t words[16];

	flow_chacha20_block(input, words);
	for (int i = 0; i < 16; i++)
		for (int b = 0; b < 4; b++)
			out[4 * i + b] = (uint8_t)(words[i] >> (8 * b));
}

Test(flow_chacha20, block_function_matches_rfc_8439_section_2_3_2)
{
	/* Key 00:01:..:1f, counter 1, nonce 00:00:00:09:00:00:00:4a:00:00:00:00. */
	const uint32_t input[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574,
				    0x03020100, 0x07060504, 0x0b0a0908, 0x0f0e0d0c,
				    0x13121110, 0x17161514, 0x1b1a1918, 0x1f1e1d1c,
				    0x00000001, 0x09000000, 0x4a000000, 0x00000000};
	static const uint8_t expect[64] = {
	    0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3,
	    0x20, 0x71, 0xc4, 0xc7, 0xd1, 0xf4, 0xc7, 0x33, 0xc0, 0x68, 0x03, 0x04, 0x22,
	    0xaa, 0x9a, 0xc3, 0xd4, 0x6c, 0x4e, 0xd2, 0x82, 0x64, 0x46, 0x07, 0x9f, 0xaa,
	    0x09, 0x14, 0xc2, 0xd7, 0x05, 0xd9, 0x8b, 0x02, 0xa2, 0xb5, 0x12, 0x9c, 0xd1,
	    0xde, 0x16, 0x4e, 0xb9, 0xcb, 0xd0, 0x83, 0xe8, 0xa2, 0x50, 0x3c, 0x4e};
	uint8_t got[64];

	block_bytes(input, got);
	cr_assert_arr_eq(got, expect, 64);
}

Test(flow_chacha20, table_stream_is_the_keystream_of_its_seed_rfc_8439_a_1)
{
	/* All-zero key and nonce: blocks 0 and 1 are RFC 8439 A.1 test vectors #1 and #2. */
	static const uint8_t expect[128] = {
	    0x76, 0xb8, 0xe0, 0xad, 0xa0, 0xf1, 0x3d, 0x90, 0x40, 0x5d, 0x6a, 0xe5, 0x53,
	    0x86, 0xbd, 0x28, 0xbd, 0xd2, 0x19, 0xb8, 0xa0, 0x8d, 0xed, 0x1a, 0xa8, 0x36,
	    0xef, 0xcc, 0x8b, 0x77, 0x0d, 0xc7, 0xda, 0x41, 0x59, 0x7c, 0x51, 0x57, 0x48,
	    0x8d, 0x77, 0x24, 0xe0, 0x3f, 0xb8, 0xd8, 0x4a, 0x37, 0x6a, 0x43, 0xb8, 0xf4,
	    0x15, 0x18, 0xa1, 0x1c, 0xc3, 0x87, 0xb6, 0x69, 0xb2, 0xee, 0x65, 0x86, 0x9f,
	    0x07, 0xe7, 0xbe, 0x55, 0x51, 0x38, 0x7a, 0x98, 0xba, 0x97, 0x7c, 0x73, 0x2d,
	    0x08, 0x0d, 0xcb, 0x0f, 0x29, 0xa0, 0x48, 0xe3, 0x65, 0x69, 0x12, 0xc6, 0x53,
	    0x3e, 0x32, 0xee, 0x7a, 0xed, 0x29, 0xb7, 0x21, 0x76, 0x9c, 0xe6, 0x4e, 0x43,
	    0xd5, 0x71, 0x33, 0xb0, 0x74, 0xd8, 0x39, 0xd5, 0x31, 0xed, 0x1f, 0x28, 0x51,
	    0x0a, 0xfb, 0x45, 0xac, 0xe1, 0x0a, 0x1f, 0x4b, 0x79, 0x4d, 0x6f};
	uint8_t seed[FLOW_SEED_BYTES] = {0}, got[128];
	struct flow_rng r;

	flow_rng_init(&r, seed);
	for (int i = 0; i < 64; i++) {
		uint16_t v = flow_rng_u16(&r);
		got[2 * i] = (uint8_t)v;
		got[2 * i + 1] = (uint8_t)(v >> 8);
	}
	cr_assert_arr_eq(got, expect, 128);
}

Test(flow_chacha20, different_seeds_give_different_streams)
{
	uint8_t a[FLOW_SEED_BYTES] = {0}, b[FLOW_SEED_BYTES] = {0};
	struct flow_rng ra, rb;
	int same = 0;

	b[31] = 1;
	flow_rng_init(&ra, a);
	flow_rng_init(&rb, b);
	for (int i = 0; i < 1000; i++)
		same += flow_rng_u16(&ra) == flow_rng_u16(&rb);
	cr_assert_lt(same, 5);
}

Test(flow_rng, below_hits_every_value_of_a_small_range_evenly)
{
	enum { N = 7, DRAWS = 70000 };
	struct flow_table_params p = test_params(4, 3, 1);
	struct flow_rng r;
	unsigned hits[N] = {0};
	double chi2 = 0;

	flow_rng_init(&r, p.seed);
	for (int i = 0; i < DRAWS; i++) {
		uint32_t v = flow_rng_below(&r, N);
		cr_assert_lt(v, N);
		hits[v]++;
	}
	for (int v = 0; v < N; v++) {
		double d = (double)hits[v] - DRAWS / N;
		chi2 += d * d / (DRAWS / N);
	}
	/* 6 degrees of freedom: chi-square above 22.5 has probability 0.001. */
	cr_assert_lt(chi2, 22.5, "chi-square %.1f", chi2);
}

Test(flow_rng, ports_and_ids_cover_their_ranges_without_bias)
{
	/* 100 ports: each must be drawn, and near 1/100 of the time; ID bits must each be set
	 * about half the time. */
	enum { OPENS = 100000 };
	struct flow_table_params p = test_params(1, 3, 1);
	struct flow_table *t = new_table(&p);
	unsigned port_hits[100] = {0}, id_bit[16] = {0};
	double chi2 = 0;

	for (int i = 0; i < OPENS; i++) {
		struct flow *f = open_flow(t, T0);
		port_hits[f->port - TEST_PORT_LO]++;
		for (int b = 0; b < 16; b++)
			id_bit[b] += (f->id >> b) & 1;
		flow_close(t, f);
	}
	for (int i = 0; i < 100; i++) {
		cr_assert_gt(port_hits[i], 0, "port %d never drawn", TEST_PORT_LO + i);
		double d = (double)port_hits[i] - OPENS / 100;
		chi2 += d * d / (OPENS / 100);
	}
	/* 99 degrees of freedom: above 148 has probability 0.001. */
	cr_assert_lt(chi2, 148, "chi-square %.1f", chi2);
	for (int b = 0; b < 16; b++)
		cr_assert(id_bit[b] > OPENS / 2 - 800 && id_bit[b] < OPENS / 2 + 800,
			  "ID bit %d: %u", b, id_bit[b]);
	flow_table_free(t);
}

Test(flow_rng, consecutive_ids_do_not_follow_each_other)
{
	/* A sequential or incrementing ID generator would fail this: successive IDs differ by a
	 * small amount far more often than 1 in 256. */
	struct flow_table_params p = test_params(1, 3, 1);
	struct flow_table *t = new_table(&p);
	int close_pairs = 0;
	uint16_t last = 0;

	for (int i = 0; i < 10000; i++) {
		struct flow *f = open_flow(t, T0);
		if (i > 0 && (uint16_t)(f->id - last) < 256)
			close_pairs++;
		last = f->id;
		flow_close(t, f);
	}
	cr_assert_lt(close_pairs, 80, "%d of 10,000 successive IDs within 256", close_pairs);
	flow_table_free(t);
}

static void expect_stream_equals_scalar_blocks(struct flow_rng *r, uint32_t counter_lo,
					       uint32_t counter_hi, int blocks)
{
	uint32_t input[16], words[16];

	memcpy(input, r->input, sizeof(input));
	input[12] = counter_lo;
	input[13] = counter_hi;
	for (int b = 0; b < blocks; b++) {
		flow_chacha20_block(input, words);
		for (int i = 0; i < 16; i++) {
			uint32_t got = flow_rng_u32(r);
			cr_assert_eq(got, words[i], "block %d word %d: %08x, want %08x", b, i, got,
				     words[i]);
		}
		if (++input[12] == 0)
			input[13]++;
	}
}

Test(flow_chacha20, batched_refill_equals_the_scalar_block_function_block_after_block)
{
	struct flow_table_params p = test_params(4, 3, 1);
	struct flow_rng r;

	flow_rng_init(&r, p.seed);
	expect_stream_equals_scalar_blocks(&r, 0, 0, 3 * FLOW_RNG_BLOCKS + 1);
}

Test(flow_chacha20, block_counter_carries_into_its_high_word_inside_a_batch)
{
	struct flow_table_params p = test_params(4, 3, 1);
	struct flow_rng r;

	flow_rng_init(&r, p.seed);
	r.input[12] = UINT32_MAX - 2; /* the carry falls in the middle of the first batch */
	expect_stream_equals_scalar_blocks(&r, UINT32_MAX - 2, 0, 2 * FLOW_RNG_BLOCKS);
}

Test(flow_rng, below16_hits_every_value_evenly_including_the_full_range)
{
	enum { N = 5, DRAWS = 50000 };
	struct flow_table_params p = test_params(4, 3, 1);
	struct flow_rng r;
	unsigned hits[N] = {0};
	double chi2 = 0;

	flow_rng_init(&r, p.seed);
	for (int i = 0; i < DRAWS; i++)
		hits[flow_rng_below16(&r, N)]++;
	for (int v = 0; v < N; v++) {
		double d = (double)hits[v] - DRAWS / N;
		chi2 += d * d / (DRAWS / N);
	}
	/* 4 degrees of freedom: chi-square above 18.5 has probability 0.001. */
	cr_assert_lt(chi2, 18.5, "chi-square %.1f", chi2);
	for (int i = 0; i < 1000; i++)
		cr_assert_leq(flow_rng_below16(&r, 65536), 65535);
	cr_assert_eq(flow_rng_below16(&r, 1), 0);
}
