/* SPDX-License-Identifier: BSD-3-Clause */
/* The tables builder and the address index, without EAL (tables are plain heap memory). */
#include <criterion/criterion.h>
#include <string.h>

#include "dp/dp.h"
#include "dp/dp_internal.h"

static struct dp_addr v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (struct dp_addr){.family = 4, .addr = {a, b, c, d}};
}

static struct match_table *empty_match(void)
{
	char err[100];
	struct match_table *t =
	    match_builder_build(match_builder_new(MATCH_ENGINE_SUFFIX), err, sizeof(err));
	cr_assert(t, "%s", err);
	return t;
}

static struct dp_vpc_spec vpc_on(uint16_t vlan, const struct dp_cidr *cidr,
				 const struct dp_addr *resolver)
{
	return (struct dp_vpc_spec){.port = 0,
				    .vlan = vlan,
				    .cidrs = cidr,
				    .n_cidrs = 1,
				    .resolver_addrs = resolver,
				    .n_resolver_addrs = 1,
				    .match = empty_match()};
}

Test(dp_tables, address_index_keeps_vlans_and_families_apart)
{
	char err[200];
	struct dp_tables_builder *b = dp_tables_builder_new(&(struct dp_tunables){0});
	struct dp_cidr cidr = {.base = v4(10, 0, 0, 0), .prefix_len = 16};
	struct dp_addr r = v4(10, 0, 0, 2);
	struct dp_vpc_spec a = vpc_on(10, &cidr, &r), c = vpc_on(20, &cidr, &r);
	cr_assert_eq(dp_tables_add_vpc(b, &a, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(dp_tables_add_vpc(b, &c, err, sizeof(err)), 1, "%s", err);
	struct dp_endpoint_addr ea = {.port = 1, .vlan = 0, .addr = v4(10, 0, 0, 2)};
	cr_assert_eq(dp_tables_add_endpoint(b,
					    &(struct dp_endpoint_spec){.addrs = &ea, .n_addrs = 1},
					    err, sizeof(err)),
		     0, "%s", err);
	struct dp_tables *t = dp_tables_build(b, err, sizeof(err));
	cr_assert(t, "%s", err);
	struct dp_addr_hit hit = dp_tables_lookup_addr(t, 0, 10, 4, r.addr);
	cr_expect_eq(hit.kind, DP_ADDR_RESOLVER);
	cr_expect_eq(hit.index, 0);
	hit = dp_tables_lookup_addr(t, 0, 20, 4, r.addr);
	cr_expect_eq(hit.kind, DP_ADDR_RESOLVER);
	cr_expect_eq(hit.index, 1);
	cr_expect_eq(dp_tables_lookup_addr(t, 0, 30, 4, r.addr).kind, DP_ADDR_NONE);
	cr_expect_eq(dp_tables_lookup_addr(t, 0, 10, 6, r.addr).kind, DP_ADDR_NONE,
		     "10.0.0.2 and 0a00:0002:: are different addresses");
	hit = dp_tables_lookup_addr(t, 1, 0, 4, r.addr);
	cr_expect_eq(hit.kind, DP_ADDR_ENDPOINT);
	cr_expect_eq(hit.index, 0);
	dp_tables_free(t);
}

Test(dp_tables, refuses_one_address_claimed_twice_on_a_vlan)
{
	char err[200];
	struct dp_tables_builder *b = dp_tables_builder_new(&(struct dp_tunables){0});
	struct dp_cidr cidr = {.base = v4(10, 0, 0, 0), .prefix_len = 16};
	struct dp_addr r = v4(10, 0, 0, 2);
	struct dp_vpc_spec a = vpc_on(10, &cidr, &r), c = vpc_on(10, &cidr, &r);
	cr_assert_eq(dp_tables_add_vpc(b, &a, err, sizeof(err)), 0);
	cr_assert_eq(dp_tables_add_vpc(b, &c, err, sizeof(err)), 1);
	cr_expect_null(dp_tables_build(b, err, sizeof(err)));
	cr_expect(strstr(err, "already taken"), "%s", err);
}

Test(dp_tables, refuses_a_rule_naming_an_unknown_target)
{
	char err[200];
	struct dp_tables_builder *b = dp_tables_builder_new(&(struct dp_tunables){0});
	struct dp_endpoint_addr ea = {.addr = v4(192, 168, 1, 1)};
	cr_assert_eq(dp_tables_add_endpoint(b,
					    &(struct dp_endpoint_spec){.addrs = &ea, .n_addrs = 1},
					    err, sizeof(err)),
		     0);
	struct dp_rule_spec rule = {.endpoint = 0, .targets = {3}, .n_targets = 1};
	cr_expect_eq(dp_tables_add_rule(b, &rule, err, sizeof(err)), -1);
	cr_expect(strstr(err, "target 3"), "%s", err);
	dp_tables_builder_free(b);
}

Test(dp_tables, refuses_a_target_of_another_family_than_its_endpoint)
{
	char err[200];
	struct dp_tables_builder *b = dp_tables_builder_new(&(struct dp_tunables){0});
	struct dp_endpoint_addr ea = {.addr = v4(192, 168, 1, 1)};
	dp_tables_add_endpoint(b, &(struct dp_endpoint_spec){.addrs = &ea, .n_addrs = 1}, err,
			       sizeof(err));
	struct dp_target_spec t6 = {.addr = {.family = 6, .addr = {0x20, 0x01, 0x0d, 0xb8}}};
	cr_assert_eq(dp_tables_add_target(b, &t6, err, sizeof(err)), 0);
	struct dp_rule_spec rule = {.endpoint = 0, .targets = {0}, .n_targets = 1};
	cr_expect_eq(dp_tables_add_rule(b, &rule, err, sizeof(err)), -1);
	cr_expect(strstr(err, "family"), "%s", err);
	dp_tables_builder_free(b);
}

Test(dp_tables, client_check_follows_the_prefix_length)
{
	struct dp_cidr cidrs[] = {{.base = v4(10, 0, 0, 0), .prefix_len = 23},
				  {.base = {.family = 6, .addr = {0xfd, 0}}, .prefix_len = 8}};
	struct dp_vpc v = {.n_cidrs = 2, .cidrs = cidrs};
	cr_expect(dp_vpc_has_client(&v, 4, (const uint8_t[]){10, 0, 1, 255}));
	cr_expect(!dp_vpc_has_client(&v, 4, (const uint8_t[]){10, 0, 2, 0}));
	uint8_t in6[16] = {0xfd, 0x12}, out6[16] = {0xfe};
	cr_expect(dp_vpc_has_client(&v, 6, in6));
	cr_expect(!dp_vpc_has_client(&v, 6, out6));
	cr_expect(!dp_vpc_has_client(&v, 6, (const uint8_t[16]){10, 0, 0, 1}), "family counts");
}

Test(dp_tables, endpoint_edns_size_defaults_to_the_tunable)
{
	char err[200];
	struct dp_tables_builder *b = dp_tables_builder_new(&(struct dp_tunables){0});
	struct dp_endpoint_addr ea = {.addr = v4(192, 168, 1, 1)};
	dp_tables_add_endpoint(b, &(struct dp_endpoint_spec){.addrs = &ea, .n_addrs = 1}, err,
			       sizeof(err));
	cr_expect_eq(
	    dp_tables_add_endpoint(
		b, &(struct dp_endpoint_spec){.addrs = &ea, .n_addrs = 1, .edns_udp_size = 100},
		err, sizeof(err)),
	    -1, "below 512");
	struct dp_tables *t = dp_tables_build(b, err, sizeof(err));
	cr_assert(t, "%s", err);
	cr_expect_eq(t->endpoints[0].edns_udp_size, DP_EDNS_DEFAULT);
	dp_tables_free(t);
}
