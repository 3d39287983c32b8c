/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/wire private: big-endian loads and stores on byte spans, shared by the module's .c files and
 * by nothing else (not part of the public face, wire.h). memcpy-free byte access keeps them
 * alignment-safe.
 */
#ifndef VPCDNS_DP_WIRE_BYTES_H
#define VPCDNS_DP_WIRE_BYTES_H

#include <stdint.h>

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

#endif
