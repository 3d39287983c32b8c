/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/pipeline's parts and what they share: the workload (one VPC, 10,000 forward rules, many
 * distinct names, the addresses both sides agree on), the generator's frames, the DUT role (the
 * real dp plane on one lcore over a memif client port), child processes, and hugepages.
 */
#ifndef VPCDNS_BENCH_PIPELINE_H
#define VPCDNS_BENCH_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <rte_mbuf.h>

/* ---- the workload: what the DUT's tables say and the generator's frames use ---- */

#define WL_RULES	 10000
#define WL_TARGETS	 16
#define WL_CLIENT_VLAN	 10
#define WL_UPSTREAM_VLAN 100
#define WL_FRAME_MAX	 192
#define WL_GEN_MAC	 "02:00:00:00:00:01"
#define WL_DUT_MAC	 "02:00:00:00:00:02"
#define WL_CLIENTS	 (1u << 23) /* distinct client addresses, ports and IDs */
#define WL_NAME_MAX	 128
#define WL_ANSWER_TTL	 60

extern const uint8_t wl_gen_mac[6], wl_dut_mac[6];
extern const uint8_t wl_resolver[4], wl_endpoint[2][4], wl_gateway[4];

/* Rule r's domain ("svc17.example.com", ...): three shapes, so the table is not one suffix. */
void wl_rule_domain(unsigned rule, char *buf, size_t len);
/* Target k's address (192.168.2.(k+1)). */
void wl_target_addr(unsigned k, uint8_t addr[4]);

/* A client's query: name i is "hI.<rule I mod 10,000's domain>"; client j (below WL_CLIENTS) has
 * its own address in 10.0.0.0/8, port and DNS ID. mixed_case spells the name in 0x20 style. */
struct wl_query {
	uint32_t name, client;
	bool mixed_case;
};
/* q's frame (RD, EDNS 1232, checksums right) into f; its length. */
size_t wl_client_query(uint8_t *f, const struct wl_query *q);
/* The address name i's A record holds (100.64.0.0/10, distinct for 2^22 names). */
void wl_name_addr(uint32_t name, uint8_t addr[4]);

/* A forwarded query (as the DUT sent it to a target) turned in place into that target's answer:
 * addresses, ports and MACs swapped, QR and AA, one A record, checksums right. false if m is not
 * a forwarded query of this workload. */
bool wl_target_answer(struct rte_mbuf *m);

/* The client an answer frame is addressed to; false when m is not addressed to a client. */
bool wl_answer_client(const struct rte_mbuf *m, uint32_t *client);
/* true when m is q's answer as the client must see it: from the resolver's address and port 53
 * to the client's, VLAN and MACs right, checksums right, the client's ID, QR and RD, NOERROR, the
 * question as the client spelled it, and one A record holding the name's own address with a TTL
 * of at most WL_ANSWER_TTL. */
bool wl_is_answer_to(const struct rte_mbuf *m, const struct wl_query *q);

/* ---- the generator (this process: the memif server on CPU 0) ---- */

struct gen_counts {
	uint64_t sent, fwd_back, fwd_good; /* queries out; frames back; those as expected */
	uint64_t resp_sent, answers_good;  /* targets' answers out; client answers right */
	uint64_t fwd_cycles, resp_cycles;  /* first send to last receive, summed over phases */
	/* names asked again by other clients; their answers right; frames back that were anything
	 * else (a query forwarded toward the targets among them) */
	uint64_t hit_sent, hits_good, hit_wrong;
	uint64_t hit_cycles;
};
bool gen_start(const char *socket, const char *huge_dir, unsigned batch);
void gen_stop(void);
bool gen_wait_link(unsigned timeout_s);
/* The first name the next gen_batch asks (gen_batch never asks a name twice). */
uint32_t gen_next_name(void);
/* One batch of b queries of new names from new clients; with answers (a dp DUT), the targets'
 * answers too, each client's answer checked. false when frames went missing or came back wrong. */
bool gen_batch(unsigned b, bool answers, struct gen_counts *c);
/* Names first_name .. first_name + b - 1 asked again by new clients in mixed case: each must come
 * straight back answered (from the DUT's cache), checked against its client. false otherwise. */
bool gen_hits(unsigned b, uint32_t first_name, struct gen_counts *c);

/* ---- the DUT role (the same binary, re-executed) ---- */

struct dut_opts {
	const char *socket;   /* memif socket path */
	const char *huge_dir; /* NULL: --no-huge */
	unsigned in_flight;   /* queries the generator holds per batch */
	bool macswap;	      /* the baseline (MACs swapped, as testpmd) instead of dp */
	unsigned cache_mib;   /* dp's answer cache on the lcore; 0: none */
};
/* Runs the dp plane (or the macswap baseline, its figures as the forward path's) on lcore 1 until
 * "quit" on stdin; prints its busy-poll figures. "reset" zeroes them; "counters" prints the lcore's
 * (struct dut_counters). Exit code. */
int dut_main(const struct dut_opts *o);

/* What the DUT prints at the end, one line (see dut.c), read back by the generator. */
struct dut_figures {
	uint64_t tsc_hz;
	uint64_t fwd_cycles, fwd_pkts, fwd_polls;
	uint64_t resp_cycles, resp_pkts, resp_polls;
	uint64_t other_cycles, other_pkts; /* busy polls that neither forwarded nor answered */
	uint64_t forwarded, answered, drops;
	double fwd_poll_median, resp_poll_median; /* cycles/packet of the median busy poll */
	/* busy polls that answered from the cache (moved cache_hits, forwarded nothing) */
	uint64_t hit_cycles, hit_pkts, hit_polls, cache_hits;
	double hit_poll_median;
	/* dp_cache_stats_read at the end (zero without a cache) */
	uint64_t cache_entries, cache_bytes, cache_capacity, cache_index_slots, cache_max_bytes;
};
bool dut_figures_parse(const char *line, struct dut_figures *out);

/* The lcore's counters the generator checks a batch of cache hits against. */
struct dut_counters {
	uint64_t cache_hits, forwarded, answered, refreshes, drops;
};
bool dut_counters_parse(const char *line, struct dut_counters *out);

/* ---- child processes with their stdin and stdout on pipes ---- */

struct child {
	pid_t pid;
	FILE *in, *out;
};
/* Starts argv[0] (a path) with stdin and stdout on pipes, stderr to errpath (NULL: inherited). */
bool child_start(struct child *c, char *const argv[], const char *errpath);
/* Closes its stdin, reads all its stdout into buf, waits for it; its exit status (-1 on signal).
 */
int child_finish(struct child *c, char *buf, size_t len);
/* Ends a child that did not finish (SIGTERM, then SIGKILL) and reaps it. */
void child_kill(struct child *c);

/* ---- hugepages: set up for the run, undone at exit ---- */

/* Reserves pages 2 MiB pages and mounts a private hugetlbfs; undone by atexit and on SIGINT or
 * SIGTERM. The mount's path, or NULL with a sentence on stderr. */
const char *huge_setup(unsigned pages);

/* Appends the EAL's memory arguments at argv[argc] (room for 4): the hugetlbfs at huge_dir with
 * 256 MiB, or --no-huge with 512 MiB when huge_dir is NULL, as every process of a run has them.
 * Returns the new argc. */
int huge_eal_args(char **argv, int argc, const char *huge_dir);

/* ---- the address index comparison (no memif) ---- */
void addr_index_bench(unsigned runs);

#endif
