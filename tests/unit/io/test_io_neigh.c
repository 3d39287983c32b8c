/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tests/unit/io: the next-hop table's state machine driven by a fake clock (milliseconds passed
 * in), and what lcores see through io_neigh_lookup and leave through io_neigh_want. No EAL: the
 * table is plain memory.
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <string.h>

#include "dp/io/io.h"

#define REACHABLE_MS 30000
#define RETRANS_MS   1000
#define MAX_PROBES   3
#define HOLD_MS	     5000

static struct io_neigh_table *t;
static struct io_neigh_probe probes[64];
static const struct rte_ether_addr mac1 = {{2, 0, 0, 0, 0, 1}}, mac2 = {{2, 0, 0, 0, 0, 2}};
static const uint8_t addr1[16] = {10, 0, 0, 1}, addr2[16] = {10, 0, 0, 2};

static void setup(void)
{
	struct io_neigh_params p = {.capacity = 130,
				    .reachable_ms = REACHABLE_MS,
				    .retrans_ms = RETRANS_MS,
				    .max_probes = MAX_PROBES,
				    .failed_hold_ms = HOLD_MS};
	t = io_neigh_create(&p);
	cr_assert_not_null(t);
}

static void teardown(void)
{
	io_neigh_free(t);
}

TestSuite(io_neigh, .init = setup, .fini = teardown);

static struct io_nexthop v4(const uint8_t *addr, uint16_t vlan)
{
	struct io_nexthop nh = {.port_id = 0, .vlan_id = vlan, .family = 4};
	memcpy(nh.addr, addr, 4);
	return nh;
}

static unsigned tick(uint64_t now)
{
	return io_neigh_tick(t, now, probes, 64);
}

static bool mac_is(uint32_t i, const struct rte_ether_addr *want)
{
	struct rte_ether_addr got;
	return io_neigh_lookup(t, i, &got) && memcmp(&got, want, sizeof(got)) == 0;
}

static void learn(const uint8_t *addr, const struct rte_ether_addr *mac, bool confirmed,
		  uint64_t now)
{
	io_neigh_learn(t, 0, 0, 4, addr, mac, confirmed, now);
}

Test(io_neigh, defined_next_hop_is_incomplete_and_probed_at_once)
{
	struct io_nexthop nh = v4(addr1, 0);
	cr_assert_eq(io_neigh_define(t, 5, &nh, 100), 0);
	cr_assert_eq(io_neigh_state_of(t, 5), IO_NEIGH_INCOMPLETE);
	struct rte_ether_addr mac;
	cr_assert_not(io_neigh_lookup(t, 5, &mac));
	cr_assert_eq(tick(100), 1);
	cr_assert_eq(probes[0].nexthop, 5);
	cr_assert_not(probes[0].unicast);
}

Test(io_neigh, requests_are_rate_limited_per_next_hop)
{
	struct io_nexthop nh = v4(addr1, 0);
	io_neigh_define(t, 0, &nh, 0);
	cr_assert_eq(tick(0), 1);
	cr_assert_eq(tick(1), 0);
	cr_assert_eq(tick(RETRANS_MS - 1), 0);
	cr_assert_eq(tick(RETRANS_MS), 1);
	cr_assert_eq(io_neigh_count(t, IO_NEIGH_C_PROBES), 2);
}

Test(io_neigh, gives_up_after_max_unanswered_requests)
{
	struct io_nexthop nh = v4(addr1, 0);
	io_neigh_define(t, 0, &nh, 0);
	for (unsigned i = 0; i < MAX_PROBES; i++)
		cr_assert_eq(tick((uint64_t)i * RETRANS_MS), 1);
	cr_assert_eq(tick((uint64_t)MAX_PROBES * RETRANS_MS), 0);
	cr_assert_eq(io_neigh_state_of(t, 0), IO_NEIGH_FAILED);
	cr_assert_eq(io_neigh_count(t, IO_NEIGH_C_FAILED), 1);
	cr_assert_eq(tick(100000), 0, "a failed next hop waits to be wanted");
}

Test(io_neigh, reply_makes_it_reachable_and_visible_to_lcores)
{
	struct io_nexthop nh = v4(addr1, 0);
	io_neigh_define(t, 3, &nh, 0);
	tick(0);
	learn(addr1, &mac1, true, 10);
	cr_assert_eq(io_neigh_state_of(t, 3), IO_NEIGH_REACHABLE);
	cr_assert(mac_is(3, &mac1));
	cr_assert_eq(tick(5000), 0, "no requests while reachable");
	cr_assert_eq(io_neigh_count(t, IO_NEIGH_C_LEARNED), 1);
}

Test(io_neigh, ages_to_stale_and_rechecks_unicast_keeping_the_mac)
{
	struct io_nexthop nh = v4(addr1, 0);
	io_neigh_define(t, 0, &nh, 0);
	tick(0);
	learn(addr1, &mac1, true, 0);
	cr_assert_eq(tick(REACHABLE_MS - 1), 0);
	cr_assert_eq(tick(REACHABLE_MS), 1);
	cr_assert_eq(io_neigh_state_of(t, 0), IO_NEIGH_STALE);
	cr_assert(probes[0].unicast);
	cr_assert_eq(memcmp(&probes[0].mac, &mac1, 6), 0);
	cr_assert(mac_is(0, &mac1), "a stale MAC stays in use while re-resolving");

	learn(addr1, &mac1, true, REACHABLE_MS + 10);
	cr_assert_eq(io_neigh_state_of(t, 0), IO_NEIGH_REACHABLE);
}

Test(io_neigh, stale_next_hop_that_stops_answering_fails_and_is_withdrawn)
{
	struct io_nexthop nh = v4(addr1, 0);
	io_neigh_define(t, 0, &nh, 0);
	tick(0);
	learn(addr1, &mac1, true, 0);
	uint64_t now = REACHABLE_MS;
	for (unsigned i = 0; i < MAX_PROBES; i++, now += RETRANS_MS)
		cr_assert_eq(tick(now), 1);
	tick(now);
	cr_assert_eq(io_neigh_state_of(t, 0), IO_NEIGH_FAILED);
	struct rte_ether_addr mac;
	cr_assert_not(io_neigh_lookup(t, 0, &mac));
}

Test(io_neigh, wanted_failed_next_hop_is_retried_after_the_hold)
{
	struct io_nexthop nh = v4(addr1, 0);
	io_neigh_define(t, 70, &nh, 0);
	for (unsigned i = 0; i <= MAX_PROBES; i++)
		tick((uint64_t)i * RETRANS_MS);
	uint64_t failed_at = (uint64_t)MAX_PROBES * RETRANS_MS;
	cr_assert_eq(io_neigh_state_of(t, 70), IO_NEIGH_FAILED);

	io_neigh_want(t, 70);
	cr_assert_eq(tick(failed_at + HOLD_MS - 1), 0, "held: the want is spent");
	io_neigh_want(t, 70);
	io_neigh_want(t, 70);
	cr_assert_eq(tick(failed_at + HOLD_MS), 1);
	cr_assert_eq(probes[0].nexthop, 70);
	cr_assert_eq(io_neigh_state_of(t, 70), IO_NEIGH_INCOMPLETE);
	cr_assert_eq(io_neigh_want_calls(t), 3);
	cr_assert_eq(io_neigh_count(t, IO_NEIGH_C_WANTS_TAKEN), 1);
}

Test(io_neigh, want_out_of_range_is_counted_and_ignored)
{
	io_neigh_want(t, 100000);
	cr_assert_eq(io_neigh_want_calls(t), 1);
	struct rte_ether_addr mac;
	cr_assert_not(io_neigh_lookup(t, 100000, &mac));
}

Test(io_neigh, static_entries_never_probe_age_or_learn)
{
	struct io_nexthop nh = v4(addr1, 0);
	cr_assert_eq(io_neigh_define_static(t, 1, &nh, &mac1), 0);
	cr_assert(mac_is(1, &mac1));
	cr_assert_eq(tick(0), 0);
	cr_assert_eq(tick(10ull * REACHABLE_MS), 0);
	learn(addr1, &mac2, true, 1);
	cr_assert(mac_is(1, &mac1));
	cr_assert_eq(io_neigh_state_of(t, 1), IO_NEIGH_STATIC);
}

Test(io_neigh, unsolicited_news_is_used_as_stale_and_confirmed_by_a_request)
{
	struct io_nexthop nh = v4(addr1, 0);
	io_neigh_define(t, 0, &nh, 0);
	tick(0);
	learn(addr1, &mac1, false, 5);
	cr_assert(mac_is(0, &mac1));
	cr_assert_eq(io_neigh_state_of(t, 0), IO_NEIGH_STALE);
	cr_assert_eq(tick(5), 1);
	cr_assert(probes[0].unicast);
}

Test(io_neigh, a_changed_mac_replaces_the_old_and_is_counted)
{
	struct io_nexthop nh = v4(addr1, 0);
	io_neigh_define(t, 0, &nh, 0);
	learn(addr1, &mac1, true, 0);
	learn(addr1, &mac2, true, 1);
	cr_assert(mac_is(0, &mac2));
	cr_assert_eq(io_neigh_count(t, IO_NEIGH_C_CHANGED), 1);
}

Test(io_neigh, learns_only_on_the_same_port_vlan_and_address)
{
	struct io_nexthop a = v4(addr1, 7), b = v4(addr2, 0);
	io_neigh_define(t, 0, &a, 0);
	io_neigh_define(t, 1, &b, 0);
	cr_assert_eq(io_neigh_learn(t, 0, 0, 4, addr1, &mac1, true, 0), 0, "wrong VLAN");
	cr_assert_eq(io_neigh_learn(t, 1, 7, 4, addr1, &mac1, true, 0), 0, "wrong port");
	cr_assert_eq(io_neigh_learn(t, 0, 7, 6, addr1, &mac1, true, 0), 0, "wrong family");
	cr_assert_eq(io_neigh_learn(t, 0, 7, 4, addr1, &mac1, true, 0), 1);
	cr_assert(mac_is(0, &mac1));
	cr_assert_not(mac_is(1, &mac1));
}

Test(io_neigh, one_address_can_be_several_next_hops)
{
	struct io_nexthop a = v4(addr1, 0);
	io_neigh_define(t, 0, &a, 0);
	io_neigh_define(t, 9, &a, 0);
	cr_assert_eq(io_neigh_learn(t, 0, 0, 4, addr1, &mac1, true, 0), 2);
	cr_assert(mac_is(0, &mac1));
	cr_assert(mac_is(9, &mac1));
}

Test(io_neigh, tick_sends_at_most_max_and_the_rest_next_time)
{
	struct io_nexthop nh = v4(addr1, 0);
	for (uint32_t i = 0; i < 10; i++)
		io_neigh_define(t, i, &nh, 0);
	cr_assert_eq(io_neigh_tick(t, 0, probes, 4), 4);
	cr_assert_eq(io_neigh_tick(t, 0, probes, 64), 6);
	cr_assert_eq(probes[0].nexthop, 4);
}

Test(io_neigh, rejects_bad_definitions)
{
	struct io_nexthop nh = v4(addr1, 0);
	cr_assert_eq(io_neigh_define(t, 130, &nh, 0), -1);
	nh.family = 5;
	cr_assert_eq(io_neigh_define(t, 0, &nh, 0), -1);
	cr_assert_null(io_neigh_create(&(struct io_neigh_params){.capacity = 0, .max_probes = 1}));
	cr_assert_str_eq(io_neigh_count_name(IO_NEIGH_C_FAILED), "failed");
}

struct reader {
	bool stop; /* set with an atomic store, read with atomic loads */
	uint64_t seen, torn, wants;
};

static void *read_while_written(void *arg)
{
	struct reader *r = arg;
	struct rte_ether_addr mac;
	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		if (!io_neigh_lookup(t, 0, &mac)) {
			io_neigh_want(t, 0);
			r->wants++;
			continue;
		}
		r->seen++;
		if (memcmp(&mac, &mac1, 6) != 0 && memcmp(&mac, &mac2, 6) != 0)
			r->torn++;
	}
	return NULL;
}

Test(io_neigh, an_lcore_reading_while_the_mac_changes_sees_one_mac_or_the_other)
{
	struct io_nexthop nh = v4(addr1, 0);
	struct reader r = {0};
	pthread_t th;
	io_neigh_define(t, 0, &nh, 0);
	cr_assert_eq(pthread_create(&th, NULL, read_while_written, &r), 0);
	for (uint64_t i = 0; i < 200000; i++) {
		learn(addr1, i % 2 ? &mac2 : &mac1, true, i);
		if (i % 1000 == 999) /* withdraw now and then: the reader wants it back */
			io_neigh_define(t, 0, &nh, i);
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELAXED);
	pthread_join(th, NULL);
	cr_assert_gt(r.seen, 0);
	cr_assert_eq(r.torn, 0, "%lu of %lu lookups saw a MAC never written", (unsigned long)r.torn,
		     (unsigned long)r.seen);
	cr_assert_eq(io_neigh_want_calls(t), r.wants);
}
