/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp answer: turns a client's query frame into an answer addressed back to its sender, in place:
 * for the control core, which answers what the lcores handed it on the slow ring (see dp.h). The
 * lcores build their own answers on the fast path.
 */
#include <string.h>

#include <rte_mbuf.h>

#include "dp/dp.h"

static void swap_bytes(uint8_t *a, uint8_t *b, size_t n)
{
	uint8_t tmp[16];
	memcpy(tmp, a, n);
	memcpy(a, b, n);
	memcpy(b, tmp, n);
}

/* The frame's room for a DNS message at the payload, capped at what 16-bit lengths carry. */
static size_t payload_room(const struct rte_mbuf *m, const struct wire_pkt *pkt)
{
	size_t cap = (size_t)m->buf_len - m->data_off - pkt->payload_off;
	size_t most = (size_t)UINT16_MAX - pkt->payload_off; /* lengths are 16-bit */
	return cap > most ? most : cap;
}

/* Addresses the frame back to its sender with a payload of len octets: MACs, addresses and ports
 * swapped, lengths and checksums fixed. */
static void send_back(struct rte_mbuf *m, uint8_t *frame, struct wire_pkt *pkt, size_t len)
{
	swap_bytes(frame, frame + 6, 6);
	swap_bytes(frame + pkt->src_addr_off, frame + pkt->dst_addr_off, pkt->addr_len);
	uint8_t *udp = frame + pkt->l4_off;
	swap_bytes(udp, udp + 2, 2);
	wire_pkt_set_payload_len(frame, pkt, (uint16_t)len);
	wire_pkt_set_cksums(frame, pkt);
	m->data_len = pkt->ip_end;
	m->pkt_len = pkt->ip_end;
}

static uint8_t *parse_frame(struct rte_mbuf *m, struct wire_pkt *pkt)
{
	if (!rte_pktmbuf_is_contiguous(m))
		return NULL;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	if (wire_pkt_parse(frame, rte_pktmbuf_data_len(m), pkt) != WIRE_OK)
		return NULL;
	return frame;
}

bool dp_answer_query(struct rte_mbuf *m, int rcode, uint16_t udp_size)
{
	struct wire_pkt pkt;
	uint8_t *frame = parse_frame(m, &pkt);
	if (!frame)
		return false;
	uint8_t *dns = frame + pkt.payload_off;
	struct wire_dns_msg msg;
	/* a rejected query still has what make_answer needs (its header, maybe its question) */
	(void)wire_dns_parse_query(dns, pkt.payload_len, &msg);
	size_t len = pkt.payload_len;
	if (wire_dns_make_answer(dns, &len, payload_room(m, &pkt), &msg, rcode, udp_size) !=
	    WIRE_OK)
		return false;
	send_back(m, frame, &pkt, len);
	return true;
}

bool dp_answer_message(struct rte_mbuf *m, const uint8_t *msg, size_t len)
{
	struct wire_pkt pkt;
	uint8_t *frame = parse_frame(m, &pkt);
	if (!frame || len > payload_room(m, &pkt))
		return false;
	memmove(frame + pkt.payload_off, msg, len);
	send_back(m, frame, &pkt, len);
	return true;
}

const uint8_t *dp_query_message(struct rte_mbuf *m, size_t *len)
{
	struct wire_pkt pkt;
	uint8_t *frame = parse_frame(m, &pkt);
	if (!frame)
		return NULL;
	*len = pkt.payload_len;
	return frame + pkt.payload_off;
}
