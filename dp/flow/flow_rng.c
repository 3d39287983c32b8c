/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/flow randomness: the per-table ChaCha20 keystream (RFC 8439 block function, djb's 64-bit
 * counter and zero nonce) from which every source port, DNS ID and target or endpoint choice is
 * drawn, so none can be predicted from earlier ones (RFC 5452). The key is the control core's
 * 256-bit seed; a table never draws past 2^64 blocks.
 */
#include <string.h>

#include "dp/flow/flow_internal.h"

static inline uint32_t rotl32(uint32_t x, unsigned n)
{
	return (x << n) | (x >> (32 - n));
}

#define QUARTER_ROUND(x, a, b, c, d)                                                               \
	do {                                                                                       \
		x[a] += x[b];                                                                      \
		x[d] = rotl32(x[d] ^ x[a], 16);                                                    \
		x[c] += x[d];                                                                      \
		x[b] = rotl32(x[b] ^ x[c], 12);                                                    \
		x[a] += x[b];                                                                      \
		x[d] = rotl32(x[d] ^ x[a], 8);                                                     \
		x[c] += x[d];                                                                      \
		x[b] = rotl32(x[b] ^ x[c], 7);                                                     \
	} while (0)

void flow_chacha20_block(const uint32_t input[16], uint32_t out[16])
{
	uint32_t x[16];

	memcpy(x, input, sizeof(x));
	for (int i = 0; i < 10; i++) {
		QUARTER_ROUND(x, 0, 4, 8, 12);
		QUARTER_ROUND(x, 1, 5, 9, 13);
		QUARTER_ROUND(x, 2, 6, 10, 14);
		QUARTER_ROUND(x, 3, 7, 11, 15);
		QUARTER_ROUND(x, 0, 5, 10, 15);
		QUARTER_ROUND(x, 1, 6, 11, 12);
		QUARTER_ROUND(x, 2, 7, 8, 13);
		QUARTER_ROUND(x, 3, 4, 9, 14);
	}
	for (int i = 0; i < 16; i++)
		out[i] = x[i] + input[i];
}

static uint32_t load_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* FLOW_RNG_BLOCKS consecutive blocks at once, one per vector lane (GCC/clang vector extensions:
 * AVX2 or two SSE registers), so a refill costs far less per block than the scalar function. */
typedef uint32_t flow_vec __attribute__((vector_size(4 * FLOW_RNG_BLOCKS)));

/* A macro, not a function: a vector passed by value would change the ABI without AVX. */
#define VROTL(x, n) (((x) << (n)) | ((x) >> (32 - (n))))

#define VQUARTER_ROUND(x, a, b, c, d)                                                              \
	do {                                                                                       \
		x[a] += x[b];                                                                      \
		x[d] = VROTL(x[d] ^ x[a], 16);                                                     \
		x[c] += x[d];                                                                      \
		x[b] = VROTL(x[b] ^ x[c], 12);                                                     \
		x[a] += x[b];                                                                      \
		x[d] = VROTL(x[d] ^ x[a], 8);                                                      \
		x[c] += x[d];                                                                      \
		x[b] = VROTL(x[b] ^ x[c], 7);                                                      \
	} while (0)

void flow_rng_refill(struct flow_rng *r)
{
	flow_vec in[16], x[16];

	for (int i = 0; i < 16; i++)
		for (int b = 0; b < FLOW_RNG_BLOCKS; b++)
			in[i][b] = r->input[i];
	for (int b = 0; b < FLOW_RNG_BLOCKS; b++) {
		in[12][b] = r->input[12] + (uint32_t)b;
		in[13][b] = r->input[13] + (in[12][b] < r->input[12]);
	}
	memcpy(x, in, sizeof(x));
	for (int i = 0; i < 10; i++) {
		VQUARTER_ROUND(x, 0, 4, 8, 12);
		VQUARTER_ROUND(x, 1, 5, 9, 13);
		VQUARTER_ROUND(x, 2, 6, 10, 14);
		VQUARTER_ROUND(x, 3, 7, 11, 15);
		VQUARTER_ROUND(x, 0, 5, 10, 15);
		VQUARTER_ROUND(x, 1, 6, 11, 12);
		VQUARTER_ROUND(x, 2, 7, 8, 13);
		VQUARTER_ROUND(x, 3, 4, 9, 14);
	}
	/* Lanes in keystream order (little-endian words, block after block), so the stream is
	 * exactly RFC 8439's and the test vectors check it. */
	for (int i = 0; i < 16; i++) {
		flow_vec w = x[i] + in[i];
		for (int b = 0; b < FLOW_RNG_BLOCKS; b++)
			r->words[16 * b + i] = w[b];
	}
	r->input[12] += FLOW_RNG_BLOCKS;
	if (r->input[12] < FLOW_RNG_BLOCKS)
		r->input[13]++;
	r->next_lane = 0;
}

void flow_rng_init(struct flow_rng *r, const uint8_t seed[FLOW_SEED_BYTES])
{
	/* "expand 32-byte k" */
	r->input[0] = 0x61707865;
	r->input[1] = 0x3320646e;
	r->input[2] = 0x79622d32;
	r->input[3] = 0x6b206574;
	for (int i = 0; i < 8; i++)
		r->input[4 + i] = load_le32(seed + 4 * i);
	for (int i = 12; i < 16; i++)
		r->input[i] = 0;
	r->next_lane = FLOW_RNG_LANES;
}

uint32_t flow_rng_u32(struct flow_rng *r)
{
	uint32_t lo = flow_rng_u16(r);

	return lo | (uint32_t)flow_rng_u16(r) << 16;
}

/* Lemire's multiply-and-shift with rejection: unbiased, and almost never draws twice. */
uint32_t flow_rng_below(struct flow_rng *r, uint32_t n)
{
	uint64_t m = (uint64_t)flow_rng_u32(r) * n;

	if ((uint32_t)m < n) {
		uint32_t threshold = -n % n;

		while ((uint32_t)m < threshold)
			m = (uint64_t)flow_rng_u32(r) * n;
	}
	return (uint32_t)(m >> 32);
}

/* The same on 16 bits: one draw instead of two for every range a query needs (ports, targets,
 * endpoint addresses). */
uint16_t flow_rng_below16(struct flow_rng *r, uint32_t n)
{
	uint32_t m = (uint32_t)flow_rng_u16(r) * n;

	if ((uint16_t)m < n) {
		uint16_t threshold = (uint16_t)(65536u % n);

		while ((uint16_t)m < threshold)
			m = (uint32_t)flow_rng_u16(r) * n;
	}
	return (uint16_t)(m >> 16);
}
