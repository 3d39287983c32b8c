/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/wire private: the name and record readers dns.c shares with dns_write.c (not part of wire.h).
 */
#ifndef VPCDNS_DP_WIRE_DNS_PRIV_H
#define VPCDNS_DP_WIRE_DNS_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "dp/wire/wire.h"

/*
 * Validates the name at off: *end gets the offset just past it in place (after its first pointer,
 * if any), *name_len (if not NULL) its uncompressed length.
 */
enum wire_err wire_name_skip(const uint8_t *msg, size_t len, size_t off, size_t *end,
			     size_t *name_len);

/* Reads the record at *pos into rr (all but its section) and moves *pos past it. */
enum wire_err wire_rr_read(const uint8_t *msg, size_t len, size_t *pos, struct wire_rr *rr);

/*
 * Where a type's RDATA holds domain names that may be compressed (RFC 3597 4: NS, MD, MF, CNAME,
 * SOA, MB, MG, MR, PTR, MINFO, MX): `prefix` fixed octets, then `names` names, then `tail` octets.
 * False for every other type, whose RDATA is opaque here.
 */
struct wire_rdata_shape {
	uint8_t prefix, names, tail;
};
bool wire_rdata_shape(uint16_t type, struct wire_rdata_shape *shape);

#endif
