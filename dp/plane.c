/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/plane: the data plane as the control core holds it: the lcores' state (flow tables, rings, TX
 * buffers, counter arrays) made and freed, the lcores launched and stopped, and the tables
 * published with RCU (each lcore reports quiescent once per poll; the control core swaps the
 * pointer, waits for every running lcore, frees the old tables).
 */
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_launch.h>
#include <rte_malloc.h>
#include <rte_mbuf_dyn.h>

#include "dp/dp_internal.h"
#include "dp/io/io.h"

int dp_slow_meta_offset = -1;

static int lcore_main(void *arg)
{
	struct dp_lcore *lc = arg;
	rte_rcu_qsbr_thread_online(lc->plane->qsbr, lc->index);
	while (!lc->plane->stop)
		dp_lcore_poll(lc->plane, lc->index);
	rte_rcu_qsbr_thread_offline(lc->plane->qsbr, lc->index);
	return 0;
}

int dp_start(struct dp_plane *plane, const unsigned *lcore_ids)
{
	plane->stop = false;
	for (unsigned i = 0; i < plane->p.n_lcores; i++) {
		plane->lcore_ids[i] = lcore_ids[i];
		int rc = rte_eal_remote_launch(lcore_main, &plane->lcores[i], lcore_ids[i]);
		if (rc) {
			plane->stop = true;
			for (unsigned k = 0; k < i; k++)
				rte_eal_wait_lcore(plane->lcore_ids[k]);
			return rc;
		}
	}
	plane->running = true;
	return 0;
}

void dp_stop(struct dp_plane *plane)
{
	if (!plane->running)
		return;
	plane->stop = true;
	for (unsigned i = 0; i < plane->p.n_lcores; i++)
		rte_eal_wait_lcore(plane->lcore_ids[i]);
	plane->running = false;
}

/* One scratch per lcore and one for the control core (the last), fitted to every VPC's table:
 * what a Hyperscan lookup needs. */
static bool fit_scratch(struct dp_tables *t, unsigned n_lcores, char *err, size_t errlen)
{
	t->scratch = calloc(n_lcores, sizeof(*t->scratch));
	if (!t->scratch) {
		snprintf(err, errlen, "out of memory");
		return false;
	}
	t->n_scratch = n_lcores;
	for (unsigned i = 0; i < n_lcores; i++) {
		t->scratch[i] = match_scratch_new();
		if (!t->scratch[i]) {
			snprintf(err, errlen, "out of memory");
			return false;
		}
		for (uint32_t v = 0; v < t->n_vpcs; v++)
			if (match_scratch_fit(t->scratch[i], t->vpcs[v].match, err, errlen))
				return false;
	}
	return true;
}

int dp_publish(struct dp_plane *plane, struct dp_tables *tables, char *err, size_t errlen)
{
	if (!tables->scratch && !fit_scratch(tables, plane->p.n_lcores + 1, err, errlen)) {
		for (uint32_t i = 0; i < tables->n_scratch; i++)
			match_scratch_free(tables->scratch[i]);
		free(tables->scratch);
		tables->scratch = NULL;
		tables->n_scratch = 0;
		return -1;
	}
	tables->generation = ++plane->generation;
	struct dp_tables *old = __atomic_exchange_n(&plane->tables, tables, __ATOMIC_ACQ_REL);
	rte_rcu_qsbr_synchronize(plane->qsbr, RTE_QSBR_THRID_INVALID);
	dp_tables_free(old);
	return 0;
}

int dp_match_name(struct dp_plane *plane, uint32_t vpc, const uint8_t *name, size_t len,
		  struct match_result *out)
{
	const struct dp_tables *t = plane->tables; /* the control core publishes: no RCU here */
	if (!t || vpc >= t->n_vpcs)
		return MATCH_BAD_NAME;
	return match_lookup(t->vpcs[vpc].match, t->scratch[t->n_scratch - 1], name, len, out);
}

struct rte_ring *dp_slow_ring(struct dp_plane *plane, unsigned lcore)
{
	return lcore < plane->p.n_lcores ? plane->lcores[lcore].slow : NULL;
}

const struct dp_slow_meta *dp_slow_meta(const struct rte_mbuf *m)
{
	return RTE_MBUF_DYNFIELD(m, dp_slow_meta_offset, const struct dp_slow_meta *);
}

static bool register_slow_meta(char *err, size_t errlen)
{
	static const struct rte_mbuf_dynfield desc = {
	    .name = "vpcdns_dp_slow_meta",
	    .size = sizeof(struct dp_slow_meta),
	    .align = __alignof__(struct dp_slow_meta),
	};
	dp_slow_meta_offset = rte_mbuf_dynfield_register(&desc);
	if (dp_slow_meta_offset < 0)
		snprintf(err, errlen, "cannot register the slow path's mbuf field: %s",
			 rte_strerror(rte_errno));
	return dp_slow_meta_offset >= 0;
}

static struct rte_ring *make_ring(const char *what, unsigned i, unsigned size, unsigned flags)
{
	char name[RTE_RING_NAMESIZE];
	static unsigned plane_serial;
	snprintf(name, sizeof(name), "dp_%s_%u_%u", what, i, plane_serial++);
	return rte_ring_create(name, size ? size : DP_RING_DEFAULT, SOCKET_ID_ANY, flags);
}

static bool lcore_init(struct dp_plane *plane, unsigned i, char *err, size_t errlen)
{
	struct dp_lcore *lc = &plane->lcores[i];
	const struct dp_plane_params *p = &plane->p;
	struct flow_table_params fp = p->flow;
	enum flow_params_error fe;
	lc->plane = plane;
	lc->index = i;
	if (!flow_ports_of_lcore(p->flow.port_lo, p->flow.port_hi, p->n_lcores, i, &fp.port_lo,
				 &fp.port_hi)) {
		snprintf(err, errlen, "lcore %u gets no source port", i);
		return false;
	}
	/* one ChaCha20 key per lcore, so no two lcores draw the same (port, ID) stream */
	fp.seed[FLOW_SEED_BYTES - 1] ^= (uint8_t)i;
	fp.seed[FLOW_SEED_BYTES - 2] ^= (uint8_t)(i >> 8);
	lc->flows = flow_table_new(&fp, &fe);
	if (!lc->flows) {
		snprintf(err, errlen, "lcore %u flow table: %s", i, flow_params_error_str(fe));
		return false;
	}
	/* DP_FRAG_BUCKETS x 4: up to DP_FRAG_DATAGRAMS answers being reassembled; one whose
	 * fragments do not all arrive within a second is dropped (its flow retries) */
	lc->frags = rte_ip_frag_table_create(DP_FRAG_BUCKETS, 4, DP_FRAG_DATAGRAMS,
					     rte_get_tsc_hz(), (int)rte_socket_id());
	if (!lc->frags) {
		snprintf(err, errlen, "lcore %u: out of memory for the reassembly table", i);
		return false;
	}
	lc->slow = make_ring("slow", i, p->slow_ring_size, RING_F_SP_ENQ | RING_F_SC_DEQ);
	lc->handover = make_ring("handover", i, p->handover_ring_size, RING_F_SC_DEQ);
	lc->exception = io_exception_ring(i);
	lc->vpc_c = rte_zmalloc(NULL, sizeof(*lc->vpc_c) * (p->max_vpcs + 1), 0);
	lc->rule_c = rte_zmalloc(NULL, sizeof(*lc->rule_c) * (p->max_rules + 1), 0);
	lc->ep_c = rte_zmalloc(NULL, sizeof(*lc->ep_c) * (p->max_endpoint_addrs + 1), 0);
	lc->target_c = rte_zmalloc(NULL, sizeof(*lc->target_c) * (p->flow.n_targets + 1), 0);
	lc->ratelimit = dp_ratelimit_new((int)rte_socket_id());
	if (p->cache.max_bytes && !(lc->cache = cache_new(&p->cache, err, errlen)))
		return false;
	if (!lc->slow || !lc->handover || !lc->vpc_c || !lc->rule_c || !lc->ep_c || !lc->target_c ||
	    !lc->ratelimit) {
		snprintf(err, errlen, "lcore %u: out of memory for rings, counters or rate limits",
			 i);
		return false;
	}
	for (unsigned s = 0; s < p->n_ports; s++) {
		lc->tx[s] = rte_zmalloc(NULL, RTE_ETH_TX_BUFFER_SIZE(DP_BURST), 0);
		if (!lc->tx[s] || rte_eth_tx_buffer_init(lc->tx[s], DP_BURST) ||
		    rte_eth_tx_buffer_set_err_callback(lc->tx[s], rte_eth_tx_buffer_count_callback,
						       &lc->c.drops[DP_DROP_TX_FULL])) {
			snprintf(err, errlen, "lcore %u: TX buffer", i);
			return false;
		}
	}
	if (rte_rcu_qsbr_thread_register(plane->qsbr, i)) {
		snprintf(err, errlen, "lcore %u: RCU registration", i);
		return false;
	}
	return true;
}

static bool plane_init(struct dp_plane *plane, char *err, size_t errlen)
{
	const struct dp_plane_params *p = &plane->p;
	if (!p->n_lcores || p->n_lcores > DP_LCORES_MAX || !p->n_ports ||
	    p->n_ports > DP_PORTS_MAX || !p->pool || !p->neigh) {
		snprintf(err, errlen,
			 "need 1..%d lcores, 1..%d ports, a mempool and io's neighbours",
			 DP_LCORES_MAX, DP_PORTS_MAX);
		return false;
	}
	if (dp_slow_meta_offset < 0 && !register_slow_meta(err, errlen))
		return false;
	memset(plane->port_slot, DP_PORT_NONE, sizeof(plane->port_slot));
	for (unsigned s = 0; s < p->n_ports; s++) {
		if (!rte_eth_dev_is_valid_port(p->ports[s]) ||
		    rte_eth_macaddr_get(p->ports[s], &plane->port_mac[p->ports[s]])) {
			snprintf(err, errlen, "port %u is not a valid ethdev port", p->ports[s]);
			return false;
		}
		plane->port_slot[p->ports[s]] = (uint8_t)s;
		plane->port_offload[p->ports[s]] = p->tx_offload[s];
		if (rte_eth_dev_get_mtu(p->ports[s], &plane->port_mtu[p->ports[s]]) != 0 ||
		    plane->port_mtu[p->ports[s]] < RTE_ETHER_MIN_MTU)
			plane->port_mtu[p->ports[s]] = RTE_ETHER_MTU;
		plane->rx_queues[s] = p->rx_queues[s] ? p->rx_queues[s] : (uint16_t)p->n_lcores;
	}
	plane->ns_per_cycle = 1e9 / (double)rte_get_tsc_hz();
	size_t qsz = rte_rcu_qsbr_get_memsize(p->n_lcores);
	plane->qsbr = rte_zmalloc(NULL, qsz, RTE_CACHE_LINE_SIZE);
	plane->lcores =
	    rte_zmalloc(NULL, sizeof(*plane->lcores) * p->n_lcores, RTE_CACHE_LINE_SIZE);
	if (!plane->qsbr || !plane->lcores || rte_rcu_qsbr_init(plane->qsbr, p->n_lcores)) {
		snprintf(err, errlen, "out of memory for the lcores");
		return false;
	}
	for (unsigned i = 0; i < p->n_lcores; i++)
		if (!lcore_init(plane, i, err, errlen))
			return false;
	return true;
}

struct dp_plane *dp_plane_new(const struct dp_plane_params *p, char *err, size_t errlen)
{
	struct dp_plane *plane = calloc(1, sizeof(*plane));
	if (!plane) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	plane->p = *p;
	if (!plane_init(plane, err, errlen)) {
		dp_plane_free(plane);
		return NULL;
	}
	return plane;
}

static void lcore_free(struct dp_lcore *lc)
{
	if (lc->flows) {
		for (struct flow *f = flow_next_open(lc->flows, NULL); f;
		     f = flow_next_open(lc->flows, f))
			rte_pktmbuf_free((struct rte_mbuf *)f->pkt);
		flow_table_free(lc->flows);
	}
	struct rte_mbuf *m;
	while (lc->slow && rte_ring_dequeue(lc->slow, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	while (lc->handover && rte_ring_dequeue(lc->handover, (void **)&m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(lc->slow);
	rte_ring_free(lc->handover);
	if (lc->frags) {
		rte_ip_frag_free_death_row(&lc->death_row, 0);
		rte_ip_frag_table_destroy(lc->frags);
	}
	for (unsigned s = 0; s < DP_PORTS_MAX; s++)
		rte_free(lc->tx[s]);
	rte_free(lc->vpc_c);
	rte_free(lc->rule_c);
	rte_free(lc->ep_c);
	rte_free(lc->target_c);
	dp_ratelimit_free(lc->ratelimit);
	cache_free(lc->cache);
}

void dp_plane_free(struct dp_plane *plane)
{
	if (!plane)
		return;
	dp_stop(plane);
	if (plane->lcores)
		for (unsigned i = 0; i < plane->p.n_lcores; i++)
			lcore_free(&plane->lcores[i]);
	dp_tables_free(plane->tables);
	rte_free(plane->lcores);
	rte_free(plane->qsbr);
	free(plane);
}
