/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests of ctl/config's model: the shipped examples load, field by field, with documented defaults
 * filled in, zone records kept, and zone associations merged from either side. */
#include <criterion/criterion.h>
#include <string.h>

#include "ctl/config/config.h"

static struct config *load_ok(const char *path)
{
	struct config_errors errs = {0};
	struct config *cfg = config_load(path, &errs);
	if (!cfg)
		config_errors_print(&errs, stderr);
	cr_assert_not_null(cfg, "%s did not load", path);
	config_errors_free(&errs);
	return cfg;
}

static void expect_addr(const struct config_addr *a, const char *text)
{
	char buf[64];
	config_addr_format(a, buf, sizeof(buf));
	cr_expect_str_eq(buf, text);
}

Test(config_model, reads_the_seed_identity_and_interface)
{
	struct config *cfg = load_ok(EXAMPLES_DIR "/seed.yaml");
	cr_expect_str_eq(cfg->region, "ap-southeast-2");
	cr_expect_str_eq(cfg->account_id, "592752082067");
	cr_assert_eq(cfg->n_interfaces, 1);
	cr_expect_str_eq(cfg->interfaces[0].name, "lab0");
	cr_expect_str_eq(cfg->interfaces[0].device, "net_af_xdp0,iface=vpcdns-fw0");
	config_free(cfg);
}

Test(config_model, reads_the_seed_vpc_with_default_resolver_addresses)
{
	struct config *cfg = load_ok(EXAMPLES_DIR "/seed.yaml");
	cr_assert_eq(cfg->n_vpcs, 1);
	const struct config_vpc *vpc = &cfg->vpcs[0];
	cr_expect_str_eq(vpc->id, "vpc-1f1af679");
	cr_expect_eq(vpc->interface.index, 0);
	cr_expect_eq(vpc->vlan, 0);
	cr_assert_eq(vpc->n_cidrs, 1);
	expect_addr(&vpc->cidrs[0].addr, "172.31.0.0");
	cr_expect_eq(vpc->cidrs[0].len, 16);
	cr_assert_eq(vpc->n_resolver_addresses, 3);
	expect_addr(&vpc->resolver_addresses[0], "172.31.0.2");
	expect_addr(&vpc->resolver_addresses[1], "169.254.169.253");
	expect_addr(&vpc->resolver_addresses[2], "fd00:ec2::253");
	cr_expect(vpc->enable_dns_hostnames);
	cr_expect(vpc->reverse_auto_rules);
	cr_assert_eq(vpc->n_zones, 1);
	cr_expect_str_eq(cfg->zones[vpc->zones[0].index].name, "central.com");
	config_free(cfg);
}

Test(config_model, reads_the_seed_endpoints)
{
	struct config *cfg = load_ok(EXAMPLES_DIR "/seed.yaml");
	cr_assert_eq(cfg->n_endpoints, 2);
	const struct config_endpoint *out = &cfg->endpoints[0], *in = &cfg->endpoints[1];
	cr_expect_str_eq(out->id, "rslvr-out-bc4a94c901114c6ba");
	cr_expect_eq(out->direction, CONFIG_OUTBOUND);
	cr_expect_eq(out->vpc.index, 0);
	cr_expect_eq(out->interface.index, 0, "defaults to the VPC's interface");
	cr_expect_eq(out->vlan, 0, "defaults to the VPC's VLAN");
	cr_assert_eq(out->n_addresses, 2);
	expect_addr(&out->addresses[0], "172.31.1.10");
	expect_addr(&out->addresses[1], "172.31.1.11");
	cr_expect_eq(in->direction, CONFIG_INBOUND);
	cr_expect_eq(in->n_addresses, 2);
	config_free(cfg);
}

Test(config_model, reads_the_seed_rules)
{
	struct config *cfg = load_ok(EXAMPLES_DIR "/seed.yaml");
	cr_assert_eq(cfg->n_rules, 4);
	const struct config_rule *fwd = &cfg->rules[0], *sys = &cfg->rules[1],
				 *del = &cfg->rules[2], *ext = &cfg->rules[3];
	cr_expect_str_eq(fwd->name, "onprem");
	cr_expect_eq(fwd->type, CONFIG_RULE_FORWARD);
	cr_expect_str_eq(fwd->domain, "onprem.com");
	cr_expect_eq(fwd->endpoint.index, 0);
	cr_assert_eq(fwd->n_targets, 2);
	expect_addr(&fwd->targets[0].addr, "172.31.6.52");
	cr_expect_eq(fwd->targets[0].port, 53);
	expect_addr(&fwd->targets[1].addr, "172.31.36.253");
	cr_assert_eq(fwd->n_vpcs, 1);
	cr_expect_eq(fwd->vpcs[0].index, 0);
	cr_expect_eq(sys->type, CONFIG_RULE_SYSTEM);
	cr_expect_str_eq(sys->domain, "acme.onprem.com");
	cr_expect_eq(sys->endpoint.index, CONFIG_INDEX_NONE);
	cr_expect_eq(sys->n_targets, 0);
	cr_expect_eq(del->type, CONFIG_RULE_DELEGATE);
	cr_expect_str_eq(del->domain, "onprem.central.com");
	cr_expect_eq(ext->type, CONFIG_RULE_DELEGATE);
	cr_expect_eq(ext->n_targets, 0, "a delegate rule may leave its servers to the zone's NS");
	config_free(cfg);
}

Test(config_model, keeps_the_zone_records_and_counts_delegations)
{
	struct config *cfg = load_ok(EXAMPLES_DIR "/seed.yaml");
	cr_assert_eq(cfg->n_zones, 1);
	const struct config_zone *z = &cfg->zones[0];
	cr_expect_eq(z->n_records, 8);
	cr_expect_eq(z->n_delegations, 2);
	size_t offset = 0, seen = 0, glue = 0;
	struct config_zone_record r;
	static const uint8_t ns1_onprem[] = "\3ns1\6onprem\7central\3com";
	while (config_zone_next_record(z, &offset, &r)) {
		seen++;
		if (r.type == 1 && r.owner_len == sizeof(ns1_onprem) &&
		    memcmp(r.owner, ns1_onprem, sizeof(ns1_onprem)) == 0) {
			cr_expect_eq(r.rdata_len, 4);
			cr_expect(memcmp(r.rdata, "\xac\x1f\x06\x34", 4) == 0,
				  "glue is 172.31.6.52");
			cr_expect_eq(r.ttl, 300);
			glue++;
		}
	}
	cr_expect_eq(seen, 8);
	cr_expect_eq(glue, 1);
	config_free(cfg);
}

Test(config_model, fills_documented_tunable_defaults)
{
	struct config *cfg = load_ok(EXAMPLES_DIR "/seed.yaml");
	struct config_tunables d;
	config_tunables_default(&d);
	cr_expect_eq(d.retry_timeout_initial_ms, 200);
	cr_expect_eq(d.tries, 3);
	cr_expect_eq(d.edns_udp_size, 4096);
	cr_expect_eq(d.rate_limit_pps, 1024);
	cr_expect_eq(d.stale_ttl_s, 30);
	cr_expect_eq(cfg->tunables.cache_max_bytes, d.cache_max_bytes);
	cr_expect_eq(cfg->tunables.refuse_outside_cidrs, CONFIG_OUTSIDE_REFUSE);
	config_free(cfg);
}

Test(config_model, reads_the_multi_vpc_example)
{
	struct config *cfg = load_ok(EXAMPLES_DIR "/multi-vpc.yaml");
	cr_assert_eq(cfg->n_vpcs, 2);
	cr_expect_eq(cfg->vpcs[0].vlan, 100);
	cr_expect_eq(cfg->vpcs[1].vlan, 200);
	cr_expect_eq(cfg->vpcs[0].cidrs[1].addr.family, 6);
	cr_expect_eq(cfg->vpcs[0].cidrs[1].len, 56);
	cr_expect_eq(cfg->vpcs[1].n_resolver_addresses, 2, "given addresses replace the defaults");
	cr_expect_not(cfg->vpcs[1].reverse_auto_rules);
	cr_expect_eq(cfg->endpoints[1].vlan, 200);
	cr_expect_str_eq(cfg->rules[2].domain, ".");
	cr_expect_eq(cfg->rules[2].targets[1].port, 5353);
	cr_expect_eq(cfg->rules[0].targets[1].addr.family, 6);
	cr_expect_eq(cfg->tunables.tries, 4);
	cr_expect_eq(cfg->tunables.rate_limit_pps, 2048);
	cr_expect_eq(cfg->tunables.refuse_outside_cidrs, CONFIG_OUTSIDE_DROP);
	cr_expect_eq(cfg->interfaces[0].mtu, 9000);
	cr_assert_eq(cfg->interfaces[0].n_neighbours, 1);
	static const uint8_t router_mac[6] = {0x02, 0x00, 0x0a, 0x00, 0x00, 0xfe};
	cr_expect_arr_eq(cfg->interfaces[0].neighbours[0].mac, router_mac, 6);
	cr_expect_eq(cfg->vpcs[0].gateway.bytes[3], 254, "given");
	cr_expect_eq(cfg->vpcs[1].gateway.bytes[3], 1, "the base + 1 by default");
	cr_expect_eq(cfg->tunables.data_lcores, 1);
	cr_assert_eq(cfg->n_zones, 2);
	cr_expect_str_eq(cfg->zones[0].id, "z0a11corpexample", "ids compare like names");
	cr_expect_str_eq(cfg->zones[1].name, cfg->zones[0].name, "tenants share a zone name");
	cr_expect_eq(cfg->vpcs[1].zones[0].index, 1, "tenant B has its own corp.example");
	config_free(cfg);
}

Test(config_model, merges_zone_associations_made_from_the_zone_side)
{
	struct config *cfg = load_ok("good/reverse.yaml");
	cr_assert_eq(cfg->n_vpcs, 2);
	cr_assert_eq(cfg->vpcs[1].n_zones, 1, "the zone lists vpc-b");
	cr_expect_str_eq(cfg->zones[cfg->vpcs[1].zones[0].index].name, "central.com");
	cr_expect_eq(cfg->vpcs[0].n_zones, 1, "listed on both sides, counted once");
	config_free(cfg);
}

Test(config_model, without_a_recursion_section_uses_the_internet_root_and_defaults)
{
	struct config *cfg = load_ok(EXAMPLES_DIR "/multi-vpc.yaml");
	cr_expect_not(cfg->recursion.given);
	cr_expect_null(cfg->recursion.root_hints_path);
	cr_expect_eq(cfg->recursion.n_source_addresses, 0);
	cr_expect_eq(cfg->recursion.source_port_min, 0);
	cr_expect_eq(cfg->recursion.max_inflight, 1024);
	cr_expect_eq(cfg->recursion.cache_max_bytes, 64ull << 20);
	cr_expect_eq(cfg->recursion.timeout_ms, 4000);
	config_free(cfg);
}

Test(config_model, reads_the_recursion_section_with_hints_next_to_the_config)
{
	struct config *cfg = load_ok("good/recursion.yaml");
	const struct config_recursion *rc = &cfg->recursion;
	cr_expect(rc->given);
	cr_expect_eq(rc->line, 11);
	cr_expect_str_eq(rc->root_hints, "root.hints");
	cr_expect_str_eq(rc->root_hints_path, "good/root.hints");
	cr_assert_eq(rc->n_source_addresses, 2);
	expect_addr(&rc->source_addresses[0], "198.18.0.100");
	expect_addr(&rc->source_addresses[1], "2001:db8::64");
	cr_expect_eq(rc->source_port_min, 50000);
	cr_expect_eq(rc->source_port_max, 59999);
	cr_expect_eq(rc->max_inflight, 256);
	cr_expect_eq(rc->cache_max_bytes, 16u << 20);
	cr_expect_eq(rc->timeout_ms, 2500);
	config_free(cfg);
}

Test(config_model, full_nic_mode_is_the_default_with_a_tap)
{
	struct config *cfg = load_ok(EXAMPLES_DIR "/seed.yaml");
	cr_expect_eq(cfg->interfaces[0].mode, CONFIG_MODE_FULL_NIC);
	cr_expect_str_eq(cfg->interfaces[0].kernel_interface, "vpcdns-k0");
	config_free(cfg);
}

Test(config_model, xdp_mode_makes_the_nics_own_interface_the_kernel_interface)
{
	struct config *cfg = load_ok("good/xdp.yaml");
	cr_expect_eq(cfg->interfaces[0].mode, CONFIG_MODE_XDP);
	cr_expect_str_eq(cfg->interfaces[0].kernel_interface, "vpcdns-fw0");
	config_free(cfg);
}
