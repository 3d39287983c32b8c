/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/wire errors: the one error space's names (stable: they are counter labels) and what each
 * rejection means for the answer (an RCODE, or silence) and for the packet path (slow path or
 * drop).
 */
#include "dp/wire/wire.h"

struct err_info {
	const char *name;
	int rcode; /* -1: drop silently */
};

static const struct err_info err_table[WIRE_E__COUNT] = {
    [WIRE_OK] = {"ok", 0},
    [WIRE_E_ETHERTYPE] = {"ethertype", -1},
    [WIRE_E_VLAN_STACKED] = {"vlan_stacked", -1},
    [WIRE_E_NOT_UDP] = {"not_udp", -1},
    [WIRE_E_IP_FRAGMENT] = {"ip_fragment", -1},
    [WIRE_E_IPV6_EXT_HDR] = {"ipv6_ext_hdr", -1},
    [WIRE_E_FRAME_SHORT] = {"frame_short", -1},
    [WIRE_E_IP_SHORT] = {"ip_short", -1},
    [WIRE_E_IP_VERSION] = {"ip_version", -1},
    [WIRE_E_IPV4_IHL] = {"ipv4_ihl", -1},
    [WIRE_E_IP_TOTAL_LEN] = {"ip_total_len", -1},
    [WIRE_E_UDP_SHORT] = {"udp_short", -1},
    [WIRE_E_UDP_LEN] = {"udp_len", -1},
    [WIRE_E_DNS_SHORT] = {"dns_short", -1},
    [WIRE_E_QR_RESPONSE] = {"qr_response", -1},
    [WIRE_E_QR_QUERY] = {"qr_query", -1},
    [WIRE_E_OPCODE] = {"opcode", WIRE_RCODE_NOTIMP},
    [WIRE_E_QD_COUNT] = {"qd_count", WIRE_RCODE_FORMERR},
    [WIRE_E_LABEL_TOO_LONG] = {"label_too_long", WIRE_RCODE_FORMERR},
    [WIRE_E_NAME_TOO_LONG] = {"name_too_long", WIRE_RCODE_FORMERR},
    [WIRE_E_NAME_TRUNCATED] = {"name_truncated", WIRE_RCODE_FORMERR},
    [WIRE_E_QNAME_POINTER] = {"qname_pointer", WIRE_RCODE_FORMERR},
    [WIRE_E_QUESTION_TRUNCATED] = {"question_truncated", WIRE_RCODE_FORMERR},
    [WIRE_E_PTR_FORWARD] = {"ptr_forward", WIRE_RCODE_FORMERR},
    [WIRE_E_PTR_LOOP] = {"ptr_loop", WIRE_RCODE_FORMERR},
    [WIRE_E_PTR_HEADER] = {"ptr_header", WIRE_RCODE_FORMERR},
    [WIRE_E_PTR_HOPS] = {"ptr_hops", WIRE_RCODE_FORMERR},
    [WIRE_E_COUNT_OVERRUN] = {"count_overrun", WIRE_RCODE_FORMERR},
    [WIRE_E_RR_TRUNCATED] = {"rr_truncated", WIRE_RCODE_FORMERR},
    [WIRE_E_RDATA_LEN] = {"rdata_len", WIRE_RCODE_FORMERR},
    [WIRE_E_TRAILING_DATA] = {"trailing_data", WIRE_RCODE_FORMERR},
    [WIRE_E_OPT_DUPLICATE] = {"opt_duplicate", WIRE_RCODE_FORMERR},
    [WIRE_E_OPT_OWNER] = {"opt_owner", WIRE_RCODE_FORMERR},
    [WIRE_E_OPT_SECTION] = {"opt_section", WIRE_RCODE_FORMERR},
    [WIRE_E_OPT_OPTION] = {"opt_option", WIRE_RCODE_FORMERR},
    [WIRE_E_EDNS_VERSION] = {"edns_version", WIRE_RCODE_BADVERS},
    /* Writer failures are ours, not the sender's: nothing to tell the client. */
    [WIRE_E_NO_ROOM] = {"no_room", -1},
    [WIRE_E_NO_OPT] = {"no_opt", -1},
    [WIRE_E_HAS_OPT] = {"has_opt", -1},
    [WIRE_E_BAD_RCODE] = {"bad_rcode", -1},
    [WIRE_E_ARP_SHORT] = {"arp_short", -1},
    [WIRE_E_ARP_FORMAT] = {"arp_format", -1},
    [WIRE_E_ARP_OPCODE] = {"arp_opcode", -1},
    [WIRE_E_ND_NOT_ICMPV6] = {"nd_not_icmpv6", -1},
    [WIRE_E_ND_TYPE] = {"nd_type", -1},
    [WIRE_E_ND_SHORT] = {"nd_short", -1},
    [WIRE_E_ND_HOP_LIMIT] = {"nd_hop_limit", -1},
    [WIRE_E_ND_CODE] = {"nd_code", -1},
    [WIRE_E_ND_CKSUM] = {"nd_cksum", -1},
    [WIRE_E_ND_OPTION] = {"nd_option", -1},
    [WIRE_E_ND_TARGET] = {"nd_target", -1},
    [WIRE_E_ND_DAD_SLLA] = {"nd_dad_slla", -1},
};

const char *wire_err_name(enum wire_err err)
{
	if ((unsigned)err >= WIRE_E__COUNT)
		return "unknown";
	return err_table[err].name;
}

int wire_err_rcode(enum wire_err err)
{
	if ((unsigned)err >= WIRE_E__COUNT)
		return -1;
	return err_table[err].rcode;
}

bool wire_err_not_ours(enum wire_err err)
{
	return err >= WIRE_E_ETHERTYPE && err <= WIRE_E_IPV6_EXT_HDR;
}
