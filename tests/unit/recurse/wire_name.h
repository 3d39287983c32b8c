/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tests/unit/recurse: a presentation name ("acme.onprem.com") in wire form, for ctl/recurse's
 * callers in its unit tests and in recurse_probe (the lab's). Labels past WIRE_NAME_MAX are
 * not written.
 */
#ifndef VPCDNS_TESTS_RECURSE_WIRE_NAME_H
#define VPCDNS_TESTS_RECURSE_WIRE_NAME_H

#include <stdint.h>
#include <string.h>

#include "dp/wire/wire.h"

static inline size_t to_wire(const char *text, uint8_t *out)
{
	size_t o = 0;
	while (*text && o + 64 < WIRE_NAME_MAX) {
		size_t n = strcspn(text, ".");
		out[o++] = (uint8_t)n;
		memcpy(out + o, text, n);
		o += n;
		text += n + (text[n] == '.');
	}
	out[o++] = 0;
	return o;
}

#endif
