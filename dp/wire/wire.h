/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/wire: the packet formats the data plane touches, read and rewritten in place. It owns the
 * bytes from the Ethernet header to the end of the DNS message: parsing a frame down to the UDP
 * payload, parsing a DNS query or response (question, records, EDNS OPT), rewriting a message in
 * place (ID, flags, RCODE, OPT, truncation, error answers) and the IP/UDP checksums, full and
 * incremental.
 *
 * It works on plain byte spans with nothing but libc (no DPDK types), so it is unit-testable and
 * fuzzable. Every function is bounded by the span it is given and never reads or writes outside it;
 * none allocates, locks, prints or makes a system call. Every rejection is one value of enum
 * wire_err, which names a counter (wire_err_name) and says how to answer (wire_err_rcode).
 *
 * Conventions: offsets are from the start of the span given (the frame, or the DNS message); 16-
 * and 32-bit values in structs are host order; checksum arithmetic works on host-order numbers read
 * from the packet as big-endian words (RFC 1071), so callers never swap bytes.
 */
#ifndef VPCDNS_DP_WIRE_H
#define VPCDNS_DP_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- one error space ---- */

enum wire_err {
	WIRE_OK = 0,
	/* L2-L4, "not ours" (wire_err_not_ours): well-formed, for the slow path */
	WIRE_E_ETHERTYPE,    /* neither IPv4 nor IPv6 (ARP, LLDP, ...) */
	WIRE_E_VLAN_STACKED, /* a second VLAN tag (QinQ) */
	WIRE_E_NOT_UDP,	     /* an IP protocol other than UDP (TCP, ICMP, ...) */
	WIRE_E_IP_FRAGMENT,  /* an IPv4 fragment or an IPv6 fragment header */
	WIRE_E_IPV6_EXT_HDR, /* an IPv6 extension header before UDP */
	/* L2-L4, malformed */
	WIRE_E_FRAME_SHORT,  /* shorter than an Ethernet header (with its VLAN tag) */
	WIRE_E_IP_SHORT,     /* shorter than the fixed IP header */
	WIRE_E_IP_VERSION,   /* IP version field disagrees with the ethertype */
	WIRE_E_IPV4_IHL,     /* IHL below 5 or past the packet */
	WIRE_E_IP_TOTAL_LEN, /* IP total/payload length past the frame or below the header */
	WIRE_E_UDP_SHORT,    /* no room for a UDP header */
	WIRE_E_UDP_LEN,	     /* UDP length field disagrees with the IP payload */
	/* DNS message */
	WIRE_E_DNS_SHORT,   /* shorter than a DNS header: nothing to answer */
	WIRE_E_QR_RESPONSE, /* a response where a query was expected (never answer: reflection) */
	WIRE_E_QR_QUERY,    /* a query where a response was expected */
	WIRE_E_OPCODE,	    /* opcode other than QUERY */
	WIRE_E_QD_COUNT,    /* not one question (a query), more than one (a response) */
	WIRE_E_LABEL_TOO_LONG, /* a length octet of 64-191: a label over 63 octets (or the obsolete
				* extended label types 0x40/0x80, which RFC 6891 retired) */
	WIRE_E_NAME_TOO_LONG,  /* a name over 255 octets */
	WIRE_E_NAME_TRUNCATED, /* a name running past the message */
	WIRE_E_QNAME_POINTER,  /* a compression pointer in the question */
	WIRE_E_QUESTION_TRUNCATED, /* no room for QTYPE and QCLASS */
	WIRE_E_PTR_FORWARD,	   /* a pointer forward, or to a name running up to the pointer */
	WIRE_E_PTR_LOOP,	   /* a compression pointer back into the name it ends */
	WIRE_E_PTR_HEADER,	   /* a compression pointer into the DNS header */
	WIRE_E_PTR_HOPS,	   /* more than WIRE_PTR_HOPS_MAX pointers in one name */
	WIRE_E_COUNT_OVERRUN,	   /* section counts promise more records than the message holds */
	WIRE_E_RR_TRUNCATED,	   /* a record's fixed part or RDATA runs past the message */
	WIRE_E_RDATA_LEN,	   /* RDATA of a type holding names (NS, CNAME, SOA, MX, ...) whose
				    * names and fields do not fill RDLENGTH exactly */
	WIRE_E_TRAILING_DATA,	   /* bytes after the last record */
	WIRE_E_OPT_DUPLICATE,	   /* two OPT records (RFC 6891 6.1.1: FORMERR) */
	WIRE_E_OPT_OWNER,	   /* an OPT record whose owner is not the root */
	WIRE_E_OPT_SECTION,	   /* an OPT record outside the additional section */
	WIRE_E_OPT_OPTION,	   /* an EDNS option running past the OPT RDATA */
	WIRE_E_EDNS_VERSION,	   /* EDNS version above 0: answer BADVERS */
	/* in-place writers */
	WIRE_E_NO_ROOM,	  /* the buffer's capacity cannot hold the result */
	WIRE_E_NO_OPT,	  /* the operation needs an OPT record and there is none */
	WIRE_E_HAS_OPT,	  /* appending an OPT to a message that has one */
	WIRE_E_BAD_RCODE, /* an answer RCODE the builder does not make */
	/* ARP and IPv6 neighbour discovery (the exception path; never a DNS answer) */
	WIRE_E_ARP_SHORT,     /* shorter than an Ethernet/IPv4 ARP packet */
	WIRE_E_ARP_FORMAT,    /* hardware or protocol type or address lengths not Ethernet/IPv4 */
	WIRE_E_ARP_OPCODE,    /* neither request nor reply */
	WIRE_E_ND_NOT_ICMPV6, /* not IPv6 carrying ICMPv6 right after the fixed header */
	WIRE_E_ND_TYPE,	      /* an ICMPv6 message other than NS or NA */
	WIRE_E_ND_SHORT,      /* shorter than the NS/NA fixed part, or IPv6 length past the frame */
	WIRE_E_ND_HOP_LIMIT,  /* hop limit below 255: came through a router (RFC 4861 7.1.1) */
	WIRE_E_ND_CODE,	      /* ICMP code other than 0 */
	WIRE_E_ND_CKSUM,      /* wrong ICMPv6 checksum */
	WIRE_E_ND_OPTION,     /* an option of length 0 or running past the message */
	WIRE_E_ND_TARGET,     /* a multicast target address */
	WIRE_E_ND_DAD_SLLA,   /* a solicitation from :: carrying a source link-layer address */
	WIRE_E__COUNT
};

/* A stable short name ("label_too_long"), usable as a counter label. */
const char *wire_err_name(enum wire_err err);

/* The RCODE to answer with: 1 FORMERR, 4 NOTIMP, 16 BADVERS (via OPT), or -1 to drop silently. */
int wire_err_rcode(enum wire_err err);

/* True for the L2-L4 reasons that mean "valid, but for the slow path" rather than "malformed". */
bool wire_err_not_ours(enum wire_err err);

/* ---- L2-L4: Ethernet, 802.1Q, IPv4, IPv6, UDP ---- */

#define WIRE_ETH_HLEN  14
#define WIRE_VLAN_HLEN 4
#define WIRE_IPV4_HLEN 20
#define WIRE_IPV6_HLEN 40
#define WIRE_UDP_HLEN  8

struct wire_pkt {
	uint16_t l3_off;      /* IP header */
	uint16_t l4_off;      /* UDP header */
	uint16_t payload_off; /* UDP payload: the DNS message */
	uint16_t payload_len; /* from the UDP length; Ethernet padding past it is ignored */
	uint16_t ip_end;    /* end of the IP packet (IPv4 total length, IPv6 40 + payload length) */
	uint8_t ip_version; /* 4 or 6 */
	uint8_t addr_len;   /* 4 or 16 */
	bool has_vlan;
	uint16_t vlan_tci;		     /* the whole TCI (PCP, DEI, VID) when has_vlan */
	uint16_t vlan_id;		     /* the VID (low 12 bits), 0 when untagged */
	uint16_t src_addr_off, dst_addr_off; /* IP addresses (addr_len octets each) */
	const uint8_t *src_addr, *dst_addr;  /* the same, as pointers into the frame parsed */
	uint16_t src_port, dst_port;
};

/*
 * Parses an Ethernet frame (at most one 802.1Q tag) down to the UDP payload. IPv4 header options
 * are allowed; fragments, IPv6 extension headers and non-UDP protocols come back as "not ours"
 * reasons. Checksums are not verified here (wire_pkt_udp_cksum_ok does that). Fields fill in as
 * parsing gets past them: after a rejection at L3 or L4 (a fragment, say), the VLAN, l3_off, the IP
 * version and the address offsets and pointers are set whenever the IP header was whole.
 */
enum wire_err wire_pkt_parse(const uint8_t *frame, size_t len, struct wire_pkt *pkt);

/*
 * Sets the UDP payload length of a parsed frame after the DNS message grew or shrank in place: the
 * IPv4 total length (and its header checksum, incrementally) or the IPv6 payload length, the UDP
 * length, and pkt's ip_end and payload_len. Ethernet padding is dropped. The caller owns room for
 * the new length in the frame's buffer, and recomputes the UDP checksum (wire_pkt_set_cksums).
 */
void wire_pkt_set_payload_len(uint8_t *frame, struct wire_pkt *pkt, uint16_t payload_len);

/* ---- checksums (RFC 1071, RFC 1624) ---- */

/* The one's-complement sum of data as big-endian 16-bit words (odd tail padded), folded. */
uint16_t wire_cksum_sum(const uint8_t *data, size_t len, uint32_t initial);

/*
 * The IPv4 header checksum to store for the header at ip (its checksum field counts as zero); the
 * header is IHL words long (20 octets at least), which the caller has checked (wire_pkt_parse).
 */
uint16_t wire_ipv4_hdr_cksum(const uint8_t *ip);

/*
 * The UDP checksum to store (never 0: 0xffff instead), over the pseudo-header of the IP header at
 * ip (version 4 or 6) and the udp_len octets at udp (its checksum field counts as zero).
 */
uint16_t wire_udp_cksum(const uint8_t *ip, const uint8_t *udp, size_t udp_len);

/* Writes the IPv4 header checksum (IPv4 only) and the UDP checksum of a parsed frame. */
void wire_pkt_set_cksums(uint8_t *frame, const struct wire_pkt *pkt);

/* True if the stored UDP checksum of a parsed frame is right (or absent, 0, on IPv4). */
bool wire_pkt_udp_cksum_ok(const uint8_t *frame, const struct wire_pkt *pkt);

/*
 * Incremental updates (RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m')) of a stored checksum hc after a
 * covered 16-bit word changes from old to new, an address changes (4 or 16 octets), or a length
 * changes (a UDP length is covered twice: in its field and in the pseudo-header). The result equals
 * a full recomputation; store a UDP checksum through wire_udp_cksum_store, and leave an absent IPv4
 * UDP checksum (0) alone.
 */
uint16_t wire_cksum_update16(uint16_t hc, uint16_t old_word, uint16_t new_word);
uint16_t wire_cksum_update_addr(uint16_t hc, const uint8_t *old_addr, const uint8_t *new_addr,
				size_t addr_len);

/* A UDP checksum that computes to 0 is sent as 0xffff (0 means "none" on IPv4; RFC 768). */
static inline uint16_t wire_udp_cksum_store(uint16_t cksum)
{
	return cksum ? cksum : 0xffff;
}

/* ---- big-endian fields, for modules that write wire formats of their own (dp/cache's log,
 * ctl/slow's answers): alignment-safe loads and stores ---- */

static inline uint16_t wire_get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t wire_get32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void wire_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wire_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* ---- DNS: messages parsed in place ---- */

#define WIRE_DNS_HLEN	  12
#define WIRE_NAME_MAX	  255 /* octets in a wire name, the root label included */
#define WIRE_LABEL_MAX	  63
#define WIRE_LABELS_MAX	  127 /* labels (the root excluded) in a 255-octet name */
#define WIRE_PTR_HOPS_MAX 16  /* compression pointers followed in one name */
#define WIRE_OPT_RR_LEN	  11  /* an OPT record without options */
#define WIRE_UDP_MIN	  512 /* the UDP answer size every client takes (RFC 1035) */
#define WIRE_TYPE_OPT	  41
#define WIRE_CLASS_IN	  1

/* Header flag bits (in the 16-bit flags word, host order) */
#define WIRE_FLAG_QR	   0x8000
#define WIRE_FLAG_AA	   0x0400
#define WIRE_FLAG_TC	   0x0200
#define WIRE_FLAG_RD	   0x0100
#define WIRE_FLAG_RA	   0x0080
#define WIRE_FLAG_Z	   0x0040
#define WIRE_FLAG_AD	   0x0020
#define WIRE_FLAG_CD	   0x0010
#define WIRE_OPCODE(flags) (((flags) >> 11) & 0xf)
#define WIRE_RCODE(flags)  ((flags)&0xf)

enum wire_rcode {
	WIRE_RCODE_NOERROR = 0,
	WIRE_RCODE_FORMERR = 1,
	WIRE_RCODE_SERVFAIL = 2,
	WIRE_RCODE_NXDOMAIN = 3,
	WIRE_RCODE_NOTIMP = 4,
	WIRE_RCODE_REFUSED = 5,
	WIRE_RCODE_BADVERS = 16, /* extended: the upper 8 bits travel in the OPT TTL */
};

struct wire_opt {
	uint16_t off;	    /* the OPT record's owner octet */
	uint16_t len;	    /* the whole record: 11 + rdata_len */
	uint16_t rdata_off; /* the options span */
	uint16_t rdata_len;
	uint16_t udp_size; /* the CLASS field, as sent (not clamped to 512) */
	uint8_t ext_rcode; /* upper 8 bits of the 12-bit RCODE */
	uint8_t version;
	bool do_bit;
};

/*
 * A parsed message. Fields fill in as parsing gets past them, so after a rejection the answer
 * builder still has what was valid: the header always (if WIRE_DNS_HLEN octets were there), the
 * question when question_end != 0, the OPT when has_opt.
 */
struct wire_dns_msg {
	uint16_t id;
	uint16_t flags;
	uint16_t qdcount, ancount, nscount, arcount;

	/* the question (one at most) */
	uint16_t question_end; /* end of QTYPE/QCLASS; 0 if there is no valid question */
	uint16_t qname_len;    /* wire octets of QNAME (at WIRE_DNS_HLEN), the root included */
	uint8_t qname_labels;  /* labels, the root excluded */
	uint8_t label_off[WIRE_LABELS_MAX]; /* each label's length octet, from the QNAME start */
	uint64_t qname_hash;		    /* wire_name_hash of QNAME */
	uint16_t qtype, qclass;

	/* the records */
	uint16_t msg_end; /* end of the last record; equals the length parsed */
	bool has_opt;
	uint16_t opt_index; /* the OPT's position among all records (answer first) */
	struct wire_opt opt;
};

/*
 * The hash of a wire name, case-folded (ASCII A-Z as a-z), so names equal under DNS comparison hash
 * equally: 64-bit FNV-1a over the octets of the uncompressed name (length octets included). len is
 * the name's wire length. FNV-1a is one multiply per octet, which for names of at most 255 octets
 * costs less than its setup would in a wider hash, and disperses label text well.
 */
uint64_t wire_name_hash(const uint8_t *name, size_t len);

/*
 * Parses a query (QR=0, opcode QUERY, one uncompressed question) and walks every record after it
 * for bounds and the OPT. The EDNS version is checked last so that a BADVERS answer has the OPT.
 */
enum wire_err wire_dns_parse_query(const uint8_t *msg, size_t len, struct wire_dns_msg *m);

enum wire_section {
	WIRE_SEC_ANSWER = 1,
	WIRE_SEC_AUTHORITY = 2,
	WIRE_SEC_ADDITIONAL = 3,
};

struct wire_rr {
	uint16_t owner_off; /* where the owner name starts (it may end in a pointer) */
	uint16_t type, rclass;
	uint16_t ttl_off; /* the 32-bit TTL: patch it in place */
	uint16_t rdata_off, rdata_len;
	uint8_t section; /* enum wire_section */
};

/*
 * Parses a response (QR=1, at most one question) and walks every record, following compression
 * pointers in owner names, and in the RDATA names of the RFC 3597 compressible types, safely (only
 * backwards, into no header, to a name ending before the pointer, at most WIRE_PTR_HOPS_MAX hops).
 * The first `cap` records are described in rrs (rrs may be NULL when cap is 0); the walk goes on
 * past cap, validating bounds and finding the OPT, and *count gets the total (more than cap when
 * records were left out). Opcodes are not checked: a response to a forwarded QUERY is a QUERY.
 */
enum wire_err wire_dns_parse_response(const uint8_t *msg, size_t len, struct wire_dns_msg *m,
				      struct wire_rr *rrs, size_t cap, size_t *count);

/*
 * Parses only a response's header and question, for a message known to be cut short (the start of
 * an answer too big to hold whole): the records are neither walked nor described, msg_end is the
 * question's end and has_opt is false. Only for answers that will be cut to header and question.
 */
enum wire_err wire_dns_parse_response_head(const uint8_t *msg, size_t len, struct wire_dns_msg *m);

/* A record's TTL; one with the top bit set reads as 0 (RFC 2181 8). Not for the OPT (flags). */
uint32_t wire_rr_ttl(const uint8_t *msg, const struct wire_rr *rr);

/* Patches a record's TTL in place (cache aging, serve-stale's 30 s). */
void wire_rr_set_ttl(uint8_t *buf, const struct wire_rr *rr, uint32_t ttl);

/* The uncompressed length of the name at off (following pointers), or 0 if it is invalid. */
size_t wire_name_length(const uint8_t *msg, size_t len, size_t off);

/*
 * The largest UDP answer the sender of query m takes (RFC 6891 6.2.3, 6.2.5): 512 without an OPT,
 * else its UDP size, never below 512.
 */
uint16_t wire_dns_udp_limit(const struct wire_dns_msg *m);

/*
 * True if two parsed messages ask the same question: QTYPE, QCLASS and QNAME equal, the name
 * compared case-insensitively (DNS comparison, RFC 4343). False if either has no question.
 */
bool wire_dns_same_question(const uint8_t *a, const struct wire_dns_msg *ma, const uint8_t *b,
			    const struct wire_dns_msg *mb);

/* ---- DNS: rewriting in place ----
 *
 * Writers take the message (buf), its length (*len, updated) and the buffer's capacity (cap), and a
 * view parsed from it (m) that they keep current for the fields they change; header fields they
 * keep (ID, flags) they read from buf, so the setters below need not touch m. They return WIRE_OK
 * or the reason nothing was changed.
 */

void wire_dns_set_id(uint8_t *buf, uint16_t id);
void wire_dns_set_flags(uint8_t *buf, uint16_t flags);
/* Sets the 4-bit header RCODE; the rest of the flags stay. */
void wire_dns_set_rcode(uint8_t *buf, uint8_t rcode);

/*
 * Makes a forwarded answer look like the resolver's own (BEHAVIOUR.md): QR=1, RA=1, AA=0, AD=0, RD
 * and CD as the client sent them (query_flags), opcode, TC and RCODE as the target answered.
 */
void wire_dns_set_resolver_flags(uint8_t *buf, uint16_t query_flags);

/* Rewrites the OPT's UDP payload size (per-hop EDNS). WIRE_E_NO_OPT when there is none. */
enum wire_err wire_dns_set_opt_udp_size(uint8_t *buf, struct wire_dns_msg *m, uint16_t udp_size);

/* Appends an 11-octet OPT (version 0, no options) and counts it in ARCOUNT. */
enum wire_err wire_dns_append_opt(uint8_t *buf, size_t *len, size_t cap, struct wire_dns_msg *m,
				  uint16_t udp_size, bool do_bit);

/*
 * Removes the OPT wherever it sits in the additional section and decrements ARCOUNT. Records after
 * it (servers put the OPT last, so rarely any) move back when their names point only before it, as
 * glue pointing at an NS name does; otherwise they go with it, which RFC 2181 9 allows for
 * additional data, and ARCOUNT (in buf and m) says how many are left. Either way no name changes.
 * Descriptors taken before are stale for the records after the OPT.
 */
enum wire_err wire_dns_strip_opt(uint8_t *buf, size_t *len, struct wire_dns_msg *m);

/* Cuts the message to header + question (+ the OPT, moved after the question) and sets TC=1. */
enum wire_err wire_dns_truncate(uint8_t *buf, size_t *len, struct wire_dns_msg *m, bool keep_opt);

/*
 * Turns a query, parsed (fully or up to a rejection) into m, into an answer with rcode: SERVFAIL,
 * REFUSED, FORMERR, NOTIMP, NXDOMAIN or BADVERS. QR=1, RA=1, RD and CD as sent, AA=0, opcode kept;
 * the question kept if it was valid; an OPT (udp_size, version 0, DO as sent, no options) only if
 * the query had one, carrying BADVERS's upper bits. No records otherwise. BADVERS without an OPT
 * gives WIRE_E_NO_OPT.
 */
enum wire_err wire_dns_make_answer(uint8_t *buf, size_t *len, size_t cap, struct wire_dns_msg *m,
				   int rcode, uint16_t udp_size);

/* ---- ARP (Ethernet/IPv4, RFC 826) and IPv6 neighbour discovery (RFC 4861) ----
 *
 * What the control core needs to answer for the addresses vpcdns owns and to learn next hops'
 * MACs. Frames may carry one 802.1Q tag, which replies keep. Builders return the frame length
 * written, padded to the 60-octet Ethernet minimum, or 0 when cap cannot hold it.
 */

#define WIRE_MAC_LEN	       6
#define WIRE_ETH_MIN_LEN       60 /* without the FCS */
#define WIRE_ETHERTYPE_ARP     0x0806
#define WIRE_ETHERTYPE_IPV6    0x86dd
#define WIRE_ARP_LEN	       28
#define WIRE_ARP_OP_REQUEST    1
#define WIRE_ARP_OP_REPLY      2
#define WIRE_ICMP6_HLEN	       4
#define WIRE_ND_NS	       135
#define WIRE_ND_NA	       136
#define WIRE_ND_NA_ROUTER      0x80000000u
#define WIRE_ND_NA_SOLICITED   0x40000000u
#define WIRE_ND_NA_OVERRIDE    0x20000000u
#define WIRE_ND_OPT_SRC_LLADDR 1
#define WIRE_ND_OPT_TGT_LLADDR 2
#define WIRE_ND_LEN	       24 /* ICMPv6 NS/NA without options */
#define WIRE_ND_LLADDR_OPT_LEN 8

/* The Ethernet header to write: one 802.1Q tag when vlan_tagged. */
struct wire_l2 {
	uint8_t dst[WIRE_MAC_LEN];
	uint8_t src[WIRE_MAC_LEN];
	bool vlan_tagged;
	uint16_t vlan_tci;
};

struct wire_arp {
	uint16_t arp_off; /* the ARP header, after Ethernet and the tag */
	bool has_vlan;
	uint16_t vlan_tci, vlan_id;
	uint16_t op; /* WIRE_ARP_OP_REQUEST or WIRE_ARP_OP_REPLY */
	uint8_t sender_mac[WIRE_MAC_LEN], sender_ip[4];
	uint8_t target_mac[WIRE_MAC_LEN], target_ip[4];
};

/* Parses an ARP frame (Ethernet hardware, IPv4 protocol). Padding after the 28 octets is ignored.
 */
enum wire_err wire_arp_parse(const uint8_t *frame, size_t len, struct wire_arp *arp);

/*
 * Turns a parsed request for one of our addresses into our reply, in place: Ethernet to the
 * requester from our_mac (the tag kept), op reply, sender = (our_mac, the asked address), target =
 * the requester. The frame keeps its length.
 */
void wire_arp_make_reply(uint8_t *frame, const struct wire_arp *req, const uint8_t *our_mac);

/* Builds a broadcast ARP request (l2->dst is ignored: ff:ff:ff:ff:ff:ff) for target_ip. */
size_t wire_arp_build_request(uint8_t *buf, size_t cap, const struct wire_l2 *l2,
			      const uint8_t *sender_ip, const uint8_t *target_ip);

struct wire_nd {
	uint16_t l3_off, icmp_off;
	uint16_t icmp_len; /* from the IPv6 payload length */
	bool has_vlan;
	uint16_t vlan_tci, vlan_id;
	uint8_t type;	   /* WIRE_ND_NS or WIRE_ND_NA */
	uint32_t na_flags; /* WIRE_ND_NA_* bits (NA only) */
	uint8_t eth_src[WIRE_MAC_LEN];
	uint8_t src_ip[16], dst_ip[16], target[16];
	bool has_lladdr; /* the source (NS) or target (NA) link-layer address option */
	uint8_t lladdr[WIRE_MAC_LEN];
};

/* True for ::, the source of a duplicate address detection probe. */
bool wire_ipv6_unspecified(const uint8_t *addr);

/*
 * Parses an ICMPv6 neighbour solicitation or advertisement (no extension headers), checking hop
 * limit 255, code 0, the checksum, the options' lengths and the target.
 */
enum wire_err wire_nd_parse(const uint8_t *frame, size_t len, struct wire_nd *nd);

/*
 * Turns a parsed NS for one of our addresses into our NA, in place: Ethernet to the solicitor's
 * link-layer address (or its Ethernet source) from our_mac, the tag kept; IPv6 from the target to
 * the solicitor, hop limit 255; NA flags solicited and override (to ff02::1 and not solicited when
 * the NS came from ::, RFC 4861 7.2.4); one target link-layer address option; the ICMPv6 checksum.
 * *len becomes the new frame length (an NS without options grows by 8 octets). WIRE_E_NO_ROOM when
 * cap cannot hold it.
 */
enum wire_err wire_nd_make_na(uint8_t *frame, size_t cap, size_t *len, const struct wire_nd *ns,
			      const uint8_t *our_mac);

/* The solicited-node multicast address of addr (ff02::1:ffXX:XXXX) and its MAC (33:33:ff:XX:XX:XX).
 */
void wire_nd_solicited_node(const uint8_t *addr, uint8_t *group, uint8_t *mac);

/*
 * Builds an NS for target from src_ip with our source link-layer address option (l2->src), to the
 * target's solicited-node group, or unicast to l2->dst when unicast (re-checking a known MAC).
 */
size_t wire_nd_build_ns(uint8_t *buf, size_t cap, const struct wire_l2 *l2, bool unicast,
			const uint8_t *src_ip, const uint8_t *target);

/* The ICMPv6 checksum to store for the icmp_len octets at icmp under the IPv6 header at ip6. */
uint16_t wire_icmp6_cksum(const uint8_t *ip6, const uint8_t *icmp, size_t icmp_len);

#endif
