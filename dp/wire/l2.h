/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/wire private: the Ethernet header and its one optional 802.1Q tag, read the same way for the
 * fast path (pkt.c) and for ARP/ND (nd.c). Each caller decides what a stacked tag means to it: the
 * fast path sends it to the slow path, ARP/ND call it not theirs. Not part of wire.h.
 */
#ifndef VPCDNS_DP_WIRE_L2_H
#define VPCDNS_DP_WIRE_L2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dp/wire/bytes.h"
#include "dp/wire/wire.h"

#define WIRE_L2_ETHERTYPE_VLAN 0x8100 /* 802.1Q */
#define WIRE_L2_ETHERTYPE_QINQ 0x88a8 /* 802.1ad service tag */

struct wire_l2_hdr {
	uint16_t ethertype; /* after the tag, if any */
	uint16_t l3_off;
	bool has_vlan;
	uint16_t vlan_tci; /* 0 when untagged */
};

/*
 * WIRE_OK; WIRE_E_FRAME_SHORT when the frame ends inside the header or its tag (l2 then not
 * filled); WIRE_E_VLAN_STACKED for QinQ, an 802.1ad outer tag or a second tag after the 802.1Q
 * one, with l2 filled up to that tag (ethertype is the tag's: neither IP, ARP nor IPv6).
 */
static inline enum wire_err wire_l2_parse(const uint8_t *frame, size_t len, struct wire_l2_hdr *l2)
{
	if (len < WIRE_ETH_HLEN)
		return WIRE_E_FRAME_SHORT;
	uint16_t outer = rd16(frame + 12);
	if (outer != WIRE_L2_ETHERTYPE_VLAN) {
		*l2 = (struct wire_l2_hdr){.ethertype = outer, .l3_off = WIRE_ETH_HLEN};
		return outer == WIRE_L2_ETHERTYPE_QINQ ? WIRE_E_VLAN_STACKED : WIRE_OK;
	}
	if (len < WIRE_ETH_HLEN + WIRE_VLAN_HLEN)
		return WIRE_E_FRAME_SHORT;
	*l2 = (struct wire_l2_hdr){
	    .ethertype = rd16(frame + 16),
	    .l3_off = WIRE_ETH_HLEN + WIRE_VLAN_HLEN,
	    .has_vlan = true,
	    .vlan_tci = rd16(frame + 14),
	};
	if (l2->ethertype == WIRE_L2_ETHERTYPE_VLAN || l2->ethertype == WIRE_L2_ETHERTYPE_QINQ)
		return WIRE_E_VLAN_STACKED;
	return WIRE_OK;
}

#endif
