/* SPDX-License-Identifier: BSD-3-Clause */
/* The dp tests' bench (see harness.h). */
#include "harness.h"

#include <criterion/criterion.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>

const uint8_t h_client_ip[4] = {10, 0, 1, 5}, h_outsider_ip[4] = {172, 16, 0, 9},
	      h_resolver_ip[4] = {10, 0, 0, 2};
const uint8_t h_endpoint_ip[2][4] = {{192, 168, 1, 10}, {192, 168, 1, 11}};
const uint8_t h_target_ip[2][4] = {{192, 168, 2, 53}, {192, 168, 2, 54}};
const uint8_t h_client_mac[6] = {0x02, 0, 0, 0, 0, 0x05};
const uint8_t h_gateway_mac[6] = {0x02, 0, 0, 0, 0, 0x01};
const uint8_t h_gateway_ip[4] = {192, 168, 1, 1};
/* io's defaults (io.h) */
const struct io_neigh_params h_neigh_params = {
    .capacity = 4,
    .reachable_ms = 30000,
    .retrans_ms = 1000,
    .max_probes = 3,
    .failed_hold_ms = 5000,
};
const uint8_t h_client_ip6[16] = {0x26, 0x00, 0x1f, 0x18, 0xab, 0xcd, [15] = 5};
const uint8_t h_resolver_ip6[16] = {0xfd, 0x00, 0x0e, 0xc2, [14] = 0x02, [15] = 0x53};

struct harness h;
enum match_engine h_match_engine = MATCH_ENGINE_SUFFIX;
uint8_t h_tx_offload;
uint16_t h_rx_queues;
struct dp_tunables h_tunables;
struct cache_params h_cache;
void (*h_statics)(struct dp_tables_builder *b);

static uint64_t fake_clock(void *ctx)
{
	return *(uint64_t *)ctx;
}

static void eal_up(void)
{
	/* a worker lcore for the run-loop tests, free to float over both CPUs */
	char *argv[] = {"test_dp",     "--no-huge",   "-m",	  "256",
			"--no-pci",    "--no-shconf", "--lcores", "0@(0,1),1@(0,1)",
			"--log-level", "error",	      NULL};
	cr_assert_geq(rte_eal_init(10, argv), 0, "EAL init");
}

static struct rte_ring *ring(const char *what, unsigned i)
{
	char name[32];
	snprintf(name, sizeof(name), "h_%s%u", what, i);
	struct rte_ring *r =
	    rte_ring_create(name, 1024, SOCKET_ID_ANY, RING_F_SP_ENQ | RING_F_SC_DEQ);
	cr_assert(r);
	return r;
}

static void port_up(void)
{
	char err[200];
	uint16_t n = (uint16_t)h.n_lcores, nrx = h_rx_queues ? h_rx_queues : n;
	cr_assert_leq(nrx, H_QUEUES_MAX);
	cr_assert_eq(io_exceptions_init(n, 1024, err, sizeof(err)), 0, "%s", err);
	for (unsigned i = 0; i < nrx; i++)
		h.rx[i] = ring("rx", i);
	for (unsigned i = 0; i < n; i++) {
		h.tx[i] = ring("tx", i);
		h.exception[i] = io_exception_ring(i);
		cr_assert(h.exception[i]);
	}
	int port = rte_eth_from_rings("net_ring_h", h.rx, nrx, h.tx, n, SOCKET_ID_ANY);
	cr_assert_geq(port, 0);
	h.port = (uint16_t)port;
	struct rte_eth_conf conf = {0};
	cr_assert_eq(rte_eth_dev_configure(h.port, nrx, n, &conf), 0);
	for (uint16_t q = 0; q < nrx; q++)
		cr_assert_eq(rte_eth_rx_queue_setup(h.port, q, 256, SOCKET_ID_ANY, NULL, h.pool),
			     0);
	for (uint16_t q = 0; q < n; q++)
		cr_assert_eq(rte_eth_tx_queue_setup(h.port, q, 256, SOCKET_ID_ANY, NULL), 0);
	cr_assert_eq(rte_eth_dev_start(h.port), 0);
	rte_eth_macaddr_get(h.port, &h.port_mac);
}

static void neigh_up(void)
{
	h.neigh = io_neigh_create(&h_neigh_params);
	cr_assert(h.neigh);
	h.gateway = (struct io_nexthop){.port_id = h.port, .vlan_id = H_VLAN_ENDPOINT, .family = 4};
	memcpy(h.gateway.addr, h_gateway_ip, 4);
	memcpy(h.gateway.src_addr, h_endpoint_ip[0], 4);
	struct rte_ether_addr mac;
	memcpy(mac.addr_bytes, h_gateway_mac, 6);
	cr_assert_eq(io_neigh_define_static(h.neigh, H_NEXTHOP_GATEWAY, &h.gateway, &mac), 0);
}

static struct match_table *vpc_match(bool example_is_zone)
{
	char err[200];
	struct match_builder *b = match_builder_new(h_match_engine);
	cr_assert(b);
	cr_assert_eq(
	    match_builder_add(b, "example.com", example_is_zone ? MATCH_ZONE : MATCH_FORWARD,
			      example_is_zone ? H_ZONE_ID : H_RULE_EXAMPLE, err, sizeof(err)),
	    0, "%s", err);
	cr_assert_eq(match_builder_add(b, "corp.internal", MATCH_ZONE, H_ZONE_ID, err, sizeof(err)),
		     0, "%s", err);
	/* the seed's on-premises domain, for the tests on captured vectors */
	cr_assert_eq(
	    match_builder_add(b, "onprem.com", MATCH_FORWARD, H_RULE_EXAMPLE, err, sizeof(err)), 0,
	    "%s", err);
	struct match_table *t = match_builder_build(b, err, sizeof(err));
	cr_assert(t, "%s", err);
	return t;
}

static struct dp_addr v4(const uint8_t a[4])
{
	struct dp_addr x = {.family = 4};
	memcpy(x.addr, a, 4);
	return x;
}

static struct dp_tables *build(bool vpcs_swapped, char *err, size_t errlen)
{
	struct dp_tables_builder *b = dp_tables_builder_new(&h_tunables);
	struct dp_cidr cidrs[2] = {{.base = v4((const uint8_t[]){10, 0, 0, 0}), .prefix_len = 16},
				   {.base = {.family = 6}, .prefix_len = 56}};
	memcpy(cidrs[1].base.addr, h_client_ip6, 6);
	struct dp_addr resolvers[3] = {
	    v4(h_resolver_ip), v4((const uint8_t[]){169, 254, 169, 253}), {.family = 6}};
	memcpy(resolvers[2].addr, h_resolver_ip6, 16);
	struct dp_vpc_spec vpc0 = {
	    .port = h.port,
	    .vlan = H_VLAN_VPC0,
	    .cidrs = cidrs,
	    .n_cidrs = 2,
	    .resolver_addrs = resolvers,
	    .n_resolver_addrs = 3,
	    .outsiders = DP_OUTSIDER_REFUSE,
	    .match = vpc_match(false),
	};
	struct dp_vpc_spec vpc1 = vpc0;
	vpc1.vlan = H_VLAN_VPC1;
	vpc1.outsiders = DP_OUTSIDER_DROP;
	vpc1.match = vpc_match(true);
	cr_assert_eq(dp_tables_add_vpc(b, vpcs_swapped ? &vpc1 : &vpc0, err, errlen), 0, "%s", err);
	cr_assert_eq(dp_tables_add_vpc(b, vpcs_swapped ? &vpc0 : &vpc1, err, errlen), 1, "%s", err);
	struct dp_endpoint_addr ea[2] = {
	    {.port = h.port, .vlan = H_VLAN_ENDPOINT, .addr = v4(h_endpoint_ip[0])},
	    {.port = h.port, .vlan = H_VLAN_ENDPOINT, .addr = v4(h_endpoint_ip[1])},
	};
	struct dp_endpoint_spec ep = {.addrs = ea, .n_addrs = 2};
	cr_assert_eq(dp_tables_add_endpoint(b, &ep, err, errlen), 0, "%s", err);
	for (int i = 0; i < 2; i++) {
		struct dp_target_spec t = {.addr = v4(h_target_ip[i]),
					   .nexthop = H_NEXTHOP_GATEWAY};
		cr_assert_eq(dp_tables_add_target(b, &t, err, errlen), i, "%s", err);
	}
	struct dp_rule_spec rule = {.endpoint = 0, .targets = {0, 1}, .n_targets = 2};
	cr_assert_eq(dp_tables_add_rule(b, &rule, err, errlen), H_RULE_EXAMPLE, "%s", err);
	if (h_statics)
		h_statics(b);
	return dp_tables_build(b, err, errlen);
}

static struct dp_tables *tables(bool vpcs_swapped)
{
	char err[200];
	struct dp_tables *t = build(vpcs_swapped, err, sizeof(err));
	cr_assert(t, "%s", err);
	return t;
}

struct dp_tables *h_tables_try(char *err, size_t errlen)
{
	return build(false, err, errlen);
}

struct dp_tables *h_tables(void)
{
	return tables(false);
}

struct dp_tables *h_tables_vpcs_swapped(void)
{
	return tables(true);
}

void h_setup(unsigned tries, unsigned n_lcores)
{
	char err[200];
	memset(&h, 0, sizeof(h));
	cr_assert(n_lcores >= 1 && n_lcores <= H_LCORES_MAX);
	h.n_lcores = n_lcores;
	eal_up();
	h.pool =
	    rte_pktmbuf_pool_create("h_pool", 4096, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE, SOCKET_ID_ANY);
	cr_assert(h.pool);
	port_up();
	neigh_up();
	h.now = 1000000000ull;
	struct dp_plane_params p = {
	    .n_lcores = n_lcores,
	    .ports = {h.port},
	    .n_ports = 1,
	    .tx_offload = {h_tx_offload},
	    .rx_queues = {h_rx_queues},
	    .pool = h.pool,
	    .neigh = h.neigh,
	    .flow =
		{
		    .capacity = 1024,
		    .port_lo = H_PORT_LO,
		    .port_hi = H_PORT_HI,
		    .tries = (uint8_t)tries,
		    .timeout_initial_ns = FLOW_TIMEOUT_INITIAL_DEFAULT,
		    .timeout_min_ns = FLOW_TIMEOUT_MIN_DEFAULT,
		    .timeout_max_ns = FLOW_TIMEOUT_MAX_DEFAULT,
		    .n_targets = 8,
		    .seed = {1, 2, 3, 4, 5, 6, 7, 8},
		},
	    .max_vpcs = 16,
	    .max_rules = 16,
	    .max_endpoint_addrs = 16,
	    .cache = h_cache,
	    .clock_ns = fake_clock,
	    .clock_ctx = &h.now,
	};
	h.plane = dp_plane_new(&p, err, sizeof(err));
	cr_assert(h.plane, "%s", err);
	cr_assert_eq(dp_publish(h.plane, h_tables(), err, sizeof(err)), 0, "%s", err);
}

void h_teardown(void)
{
	dp_plane_free(h.plane);
	io_exceptions_free();
	io_neigh_free(h.neigh);
	rte_eth_dev_stop(h.port);
	rte_eal_cleanup();
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static size_t put_name(uint8_t *p, const char *name)
{
	size_t n = 0;
	while (*name) {
		const char *dot = strchr(name, '.');
		size_t len = dot ? (size_t)(dot - name) : strlen(name);
		p[n++] = (uint8_t)len;
		memcpy(p + n, name, len);
		n += len;
		name += len + (dot ? 1 : 0);
	}
	p[n++] = 0;
	return n;
}

/* Ethernet (+ VLAN) + IP + UDP around a DNS message at frame + the returned offset. */
static size_t l2l4(uint8_t *frame, const uint8_t *dst_mac, const uint8_t *src_mac, uint16_t vlan,
		   bool v6, const uint8_t *src_ip, const uint8_t *dst_ip, uint16_t sport,
		   uint16_t dport)
{
	memcpy(frame, dst_mac, 6);
	memcpy(frame + 6, src_mac, 6);
	size_t off = 12;
	if (vlan) {
		put16(frame + off, 0x8100);
		put16(frame + off + 2, vlan);
		off += 4;
	}
	put16(frame + off, v6 ? 0x86dd : 0x0800);
	uint8_t *ip = frame + off + 2, *udp;
	if (v6) {
		memset(ip, 0, 40);
		ip[0] = 0x60;
		ip[6] = 17;
		ip[7] = 64;
		memcpy(ip + 8, src_ip, 16);
		memcpy(ip + 24, dst_ip, 16);
		udp = ip + 40;
	} else {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		ip[8] = 64;
		ip[9] = 17;
		memcpy(ip + 12, src_ip, 4);
		memcpy(ip + 16, dst_ip, 4);
		udp = ip + 20;
	}
	put16(udp, sport);
	put16(udp + 2, dport);
	return (size_t)(udp + 8 - frame);
}

/* Sets the IP and UDP lengths and checksums once the DNS message is in place. */
static size_t finish(uint8_t *frame, size_t dns_off, size_t dns_len, bool v6)
{
	uint8_t *udp = frame + dns_off - 8, *ip = udp - (v6 ? 40 : 20);
	if (v6)
		put16(ip + 4, (uint16_t)(8 + dns_len));
	else
		put16(ip + 2, (uint16_t)(20 + 8 + dns_len));
	put16(udp + 4, (uint16_t)(8 + dns_len));
	struct wire_pkt pkt;
	size_t len = dns_off + dns_len;
	cr_assert_eq(wire_pkt_parse(frame, len, &pkt), WIRE_OK);
	wire_pkt_set_cksums(frame, &pkt);
	return len;
}

static size_t put_opt(uint8_t *p, uint16_t size, uint8_t version)
{
	static const uint8_t opt[11] = {0, 0, 41};
	memcpy(p, opt, 11);
	put16(p + 3, size);
	p[6] = version;
	return 11;
}

size_t h_build_query(uint8_t *frame, const struct h_query *q)
{
	const uint8_t *src = q->src_ip ? q->src_ip : q->v6 ? h_client_ip6 : h_client_ip;
	const uint8_t *dst = q->dst_ip ? q->dst_ip : q->v6 ? h_resolver_ip6 : h_resolver_ip;
	size_t off = l2l4(frame, h.port_mac.addr_bytes, h_client_mac, q->vlan, q->v6, src, dst,
			  H_CLIENT_PORT, 53);
	uint8_t *dns = frame + off;
	memset(dns, 0, 12);
	put16(dns, q->id);
	put16(dns + 2, q->flags ? q->flags : WIRE_FLAG_RD);
	put16(dns + 4, 1);
	size_t n = 12 + put_name(dns + 12, q->qname);
	put16(dns + n, q->qtype ? q->qtype : 1);
	put16(dns + n + 2, 1);
	n += 4;
	if (q->edns) {
		put16(dns + 10, 1);
		n += put_opt(dns + n, q->edns, q->edns_version);
	}
	return finish(frame, off, n, q->v6);
}

size_t h_build_answer(uint8_t *frame, const uint8_t *fwd, size_t fwd_len, const struct h_answer *a)
{
	struct wire_pkt fp;
	struct wire_dns_msg fm;
	cr_assert_eq(wire_pkt_parse(fwd, fwd_len, &fp), WIRE_OK);
	cr_assert_eq(wire_dns_parse_query(fwd + fp.payload_off, fp.payload_len, &fm), WIRE_OK);
	size_t off =
	    l2l4(frame, fwd, fwd + 6, fp.vlan_tci, fp.ip_version == 6,
		 a->src_ip ? a->src_ip : fp.dst_addr, fp.src_addr, fp.dst_port, fp.src_port);
	uint8_t *dns = frame + off;
	memcpy(dns, fwd + fp.payload_off, fm.question_end);
	put16(dns, (uint16_t)(fm.id + a->id_delta));
	put16(dns + 2,
	      (uint16_t)(WIRE_FLAG_QR | WIRE_FLAG_RD | WIRE_FLAG_RA | (a->aa ? WIRE_FLAG_AA : 0) |
			 (a->tc ? WIRE_FLAG_TC : 0) | a->rcode));
	put16(dns + 6, (uint16_t)a->n_a);
	put16(dns + 8, 0);
	put16(dns + 10, a->edns ? 1 : 0);
	size_t n = fm.question_end;
	for (unsigned i = 0; i < a->n_a; i++) {
		static const uint8_t rr[] = {0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 9, 0, 0};
		memcpy(dns + n, rr, sizeof(rr));
		dns[n + 14] = (uint8_t)(i >> 8);
		dns[n + 15] = (uint8_t)i;
		n += sizeof(rr);
	}
	if (a->edns)
		n += put_opt(dns + n, a->edns, 0);
	return finish(frame, off, n, fp.ip_version == 6);
}

size_t h_vector(const char *name, uint8_t *buf, size_t cap)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", VECTORS_DIR, name);
	FILE *f = fopen(path, "rb");
	cr_assert(f, "%s", path);
	size_t len = fread(buf, 1, cap, f);
	fclose(f);
	cr_assert(len > WIRE_DNS_HLEN && len < cap, "%s: %zu octets", path, len);
	return len;
}

size_t h_wrap_query(uint8_t *frame, uint16_t vlan, const uint8_t *dns, size_t len)
{
	size_t off = l2l4(frame, h.port_mac.addr_bytes, h_client_mac, vlan, false, h_client_ip,
			  h_resolver_ip, H_CLIENT_PORT, 53);
	memcpy(frame + off, dns, len);
	return finish(frame, off, len, false);
}

size_t h_wrap_answer(uint8_t *frame, const uint8_t *fwd, size_t fwd_len, const uint8_t *dns,
		     size_t len)
{
	struct wire_pkt fp;
	struct wire_dns_msg fm, am;
	size_t count;
	cr_assert_eq(wire_pkt_parse(fwd, fwd_len, &fp), WIRE_OK);
	cr_assert_eq(wire_dns_parse_query(fwd + fp.payload_off, fp.payload_len, &fm), WIRE_OK);
	cr_assert_eq(wire_dns_parse_response(dns, len, &am, NULL, 0, &count), WIRE_OK);
	cr_assert_eq(am.question_end, fm.question_end, "not the same question");
	size_t off = l2l4(frame, fwd, fwd + 6, fp.vlan_tci, fp.ip_version == 6, fp.dst_addr,
			  fp.src_addr, fp.dst_port, fp.src_port);
	memcpy(frame + off, dns, len);
	memcpy(frame + off + WIRE_DNS_HLEN, fwd + fp.payload_off + WIRE_DNS_HLEN,
	       fm.question_end - WIRE_DNS_HLEN);
	put16(frame + off, fm.id);
	return finish(frame, off, len, fp.ip_version == 6);
}

void h_inject_q(unsigned q, const uint8_t *frame, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(h.pool);
	cr_assert(m);
	char *p = rte_pktmbuf_append(m, (uint16_t)len);
	cr_assert(p);
	memcpy(p, frame, len);
	cr_assert_eq(rte_ring_enqueue(h.rx[q], m), 0);
}

void h_inject(const uint8_t *frame, size_t len)
{
	h_inject_q(0, frame, len);
}

void h_poll_lcore(unsigned i)
{
	dp_lcore_poll_once(h.plane, i);
}

void h_poll(void)
{
	for (unsigned i = 0; i < h.n_lcores; i++)
		h_poll_lcore(i);
}

size_t h_take_q(unsigned q, uint8_t *out)
{
	struct rte_mbuf *m = NULL;
	if (rte_ring_dequeue(h.tx[q], (void **)&m) != 0)
		return 0;
	size_t len = rte_pktmbuf_pkt_len(m);
	cr_assert_leq(len, H_FRAME_MAX);
	cr_assert_eq(m->nb_segs, 1);
	memcpy(out, rte_pktmbuf_mtod(m, uint8_t *), len);
	rte_pktmbuf_free(m);
	return len;
}

size_t h_take(uint8_t *out)
{
	return h_take_q(0, out);
}

void h_parse_sent(const uint8_t *frame, size_t len, struct wire_pkt *pkt, struct wire_dns_msg *m,
		  bool response)
{
	cr_assert_eq(wire_pkt_parse(frame, len, pkt), WIRE_OK);
	cr_assert(wire_pkt_udp_cksum_ok(frame, pkt), "UDP checksum");
	if (pkt->ip_version == 4)
		cr_assert_eq(wire_ipv4_hdr_cksum(frame + pkt->l3_off),
			     (uint16_t)(frame[pkt->l3_off + 10] << 8 | frame[pkt->l3_off + 11]),
			     "IPv4 header checksum");
	const uint8_t *dns = frame + pkt->payload_off;
	size_t count;
	enum wire_err err = response
				? wire_dns_parse_response(dns, pkt->payload_len, m, NULL, 0, &count)
				: wire_dns_parse_query(dns, pkt->payload_len, m);
	cr_assert_eq(err, WIRE_OK, "%s", wire_err_name(err));
}

struct dp_lcore_counters h_counters(void)
{
	struct dp_lcore_counters c;
	dp_lcore_counters_read(h.plane, 0, &c);
	return c;
}
