/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/wire private: short names for the big-endian loads and stores wire.h gives every module
 * (wire_get16 ...), for the module's own .c files.
 */
#ifndef VPCDNS_DP_WIRE_BYTES_H
#define VPCDNS_DP_WIRE_BYTES_H

#include <stdint.h>

#include "dp/wire/wire.h"

/* Short names for the module's own files: the public wire_get/put functions. */
#define rd16 wire_get16
#define rd32 wire_get32
#define wr16 wire_put16
#define wr32 wire_put32

#endif
