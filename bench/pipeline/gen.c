/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/pipeline generator: the memif server port on CPU 0 and the traffic of one run against
 * whatever is the client on the other end (the DUT, or testpmd in macswap). A batch is two phases
 * so that the DUT's busy polls see one path at a time: B client queries out and the B frames
 * they caused back (held), then, for the DUT, the targets' answers made from those frames out
 * and the B client answers back, each checked against the query of the client it reached. For a
 * DUT with a cache, a third phase asks the same B names again from B new clients (gen_hits).
 * Making frames is outside the timed phases.
 */
#include <string.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>

#include "bench/pipeline/bench.h"

#define GEN_BURST  32u
#define WINDOW	   512u /* frames out and not yet back: below the memif rings' 1024 */
#define STALL_SECS 2

static uint16_t port;
static struct rte_mempool *pool;
static uint32_t next_name, next_client;

uint32_t gen_next_name(void)
{
	return next_name;
}

bool gen_start(const char *socket, const char *huge_dir, unsigned batch)
{
	char prefix[64], vdev[256];
	snprintf(prefix, sizeof(prefix), "--file-prefix=vpcdns-bench-gen-%d", (int)getpid());
	snprintf(vdev, sizeof(vdev), "net_memif0,role=server,id=0,socket=%s,mac=%s", socket,
		 WL_GEN_MAC);
	char *argv[16] = {"bench_pipeline",	 "--lcores=0@0", prefix, "--no-pci",
			  "--log-level=warning", "--vdev",	 vdev};
	int argc = 7;
	argc = huge_eal_args(argv, argc, huge_dir);
	if (rte_eal_init(argc, argv) < 0 || rte_eth_dev_get_port_by_name("net_memif0", &port)) {
		fprintf(stderr, "bench_pipeline: EAL or memif server port failed\n");
		return false;
	}
	pool = rte_pktmbuf_pool_create("gen_pool", 4 * batch + 4096, 256, 0,
				       RTE_MBUF_DEFAULT_BUF_SIZE, (int)rte_socket_id());
	/* memif pairs each client TX queue with a server RX queue and refuses a client with more:
	 * the DUT's port (io) has the control core's TX queue besides the lcore's */
	struct rte_eth_conf conf = {0};
	if (!pool || rte_eth_dev_configure(port, 2, 1, &conf) ||
	    rte_eth_rx_queue_setup(port, 0, 1024, (unsigned)rte_socket_id(), NULL, pool) ||
	    rte_eth_rx_queue_setup(port, 1, 1024, (unsigned)rte_socket_id(), NULL, pool) ||
	    rte_eth_tx_queue_setup(port, 0, 1024, (unsigned)rte_socket_id(), NULL) ||
	    rte_eth_dev_start(port)) {
		fprintf(stderr, "bench_pipeline: generator port setup failed\n");
		return false;
	}
	return true;
}

void gen_stop(void)
{
	rte_eth_dev_stop(port);
	rte_eth_dev_close(port);
	rte_eal_cleanup();
}

/* Waits for the client to connect; drops whatever a previous client left in flight. */
bool gen_wait_link(unsigned timeout_s)
{
	uint64_t end = rte_get_tsc_cycles() + timeout_s * rte_get_tsc_hz();
	struct rte_eth_link link;
	do {
		struct rte_mbuf *m[GEN_BURST];
		uint16_t n = rte_eth_rx_burst(port, 0, m, GEN_BURST);
		rte_pktmbuf_free_bulk(m, n);
		if (rte_eth_link_get_nowait(port, &link) == 0 && link.link_status)
			return true;
		rte_delay_ms(10);
	} while (rte_get_tsc_cycles() < end);
	return false;
}

/* Sends out[0..n) and receives up to n frames into in; the cycles from first send to last
 * receive in *cycles; how many came back (fewer after STALL_SECS without any). */
static unsigned exchange(struct rte_mbuf **out, unsigned n, struct rte_mbuf **in, uint64_t *cycles)
{
	unsigned sent = 0, got = 0;
	uint64_t t0 = rte_rdtsc(), last = t0, stall = STALL_SECS * rte_get_tsc_hz();
	while (got < n) {
		unsigned room = WINDOW - (sent - got);
		if (sent < n && room)
			sent +=
			    rte_eth_tx_burst(port, 0, out + sent,
					     (uint16_t)RTE_MIN(RTE_MIN(GEN_BURST, n - sent), room));
		uint16_t r =
		    rte_eth_rx_burst(port, 0, in + got, (uint16_t)RTE_MIN(GEN_BURST, n - got));
		if (r) {
			got += r;
			last = rte_rdtsc();
		} else if (rte_rdtsc() - last > stall) {
			break;
		}
	}
	*cycles = last - t0;
	if (sent < n)
		rte_pktmbuf_free_bulk(out + sent, n - sent);
	return got;
}

/* n queries: names first_name on, each from a client never seen before. */
static bool make_queries(struct rte_mbuf **m, unsigned n, uint32_t first_name, bool mixed_case,
			 struct wl_query *asked)
{
	if (rte_pktmbuf_alloc_bulk(pool, m, n))
		return false;
	for (unsigned i = 0; i < n; i++) {
		asked[i] = (struct wl_query){
		    .name = first_name + i, .client = next_client, .mixed_case = mixed_case};
		next_client = (next_client + 1) % WL_CLIENTS;
		uint8_t *f = (uint8_t *)rte_pktmbuf_append(m[i], WL_FRAME_MAX);
		size_t len = wl_client_query(f, &asked[i]);
		if (!len) {
			rte_pktmbuf_free_bulk(m, n);
			return false;
		}
		rte_pktmbuf_trim(m[i], (uint16_t)(WL_FRAME_MAX - len));
	}
	return true;
}

/* Answers to asked[0..n) (consecutive clients): each checked against the query of its client,
 * each query answered once. Frees them all; how many were right. */
static unsigned check_answers(struct rte_mbuf **m, unsigned got, const struct wl_query *asked,
			      unsigned n)
{
	bool answered[n];
	unsigned good = 0;
	memset(answered, 0, sizeof(answered));
	for (unsigned i = 0; i < got; i++) {
		uint32_t client, at;
		if (!wl_answer_client(m[i], &client))
			continue;
		at = (client + WL_CLIENTS - asked[0].client) % WL_CLIENTS;
		if (at < n && !answered[at] && wl_is_answer_to(m[i], &asked[at])) {
			answered[at] = true;
			good++;
		}
	}
	rte_pktmbuf_free_bulk(m, got);
	return good;
}

/* Keeps the frames that pass, frees the rest; how many kept. */
static unsigned keep_if(struct rte_mbuf **m, unsigned n, bool (*ok)(struct rte_mbuf *))
{
	unsigned kept = 0;
	for (unsigned i = 0; i < n; i++) {
		if (ok(m[i]))
			m[kept++] = m[i];
		else
			rte_pktmbuf_free(m[i]);
	}
	return kept;
}

static bool macswapped_ok(struct rte_mbuf *m)
{
	const uint8_t *f = rte_pktmbuf_mtod(m, const uint8_t *);
	return !memcmp(f, wl_gen_mac, 6) && !memcmp(f + 6, wl_dut_mac, 6);
}

bool gen_batch(unsigned b, bool answers, struct gen_counts *c)
{
	struct rte_mbuf *out[b], *in[b];
	struct wl_query asked[b];
	uint64_t cycles;
	if (!make_queries(out, b, next_name, false, asked))
		return false;
	next_name += b;
	unsigned got = exchange(out, b, in, &cycles);
	c->fwd_cycles += cycles;
	c->sent += b;
	c->fwd_back += got;
	if (!answers) {
		unsigned good = keep_if(in, got, macswapped_ok);
		c->fwd_good += good;
		rte_pktmbuf_free_bulk(in, good);
		return good == b;
	}
	unsigned n = keep_if(in, got, wl_target_answer);
	c->fwd_good += n;
	unsigned back = exchange(in, n, out, &cycles);
	c->resp_cycles += cycles;
	c->resp_sent += n;
	unsigned good = check_answers(out, back, asked, b);
	c->answers_good += good;
	return got == b && n == b && good == b;
}

bool gen_hits(unsigned b, uint32_t first_name, struct gen_counts *c)
{
	struct rte_mbuf *out[b], *in[b];
	struct wl_query asked[b];
	uint64_t cycles;
	if (!make_queries(out, b, first_name, true, asked))
		return false;
	unsigned got = exchange(out, b, in, &cycles);
	c->hit_cycles += cycles;
	c->hit_sent += b;
	unsigned good = check_answers(in, got, asked, b);
	c->hits_good += good;
	c->hit_wrong += got - good;
	return good == b;
}
