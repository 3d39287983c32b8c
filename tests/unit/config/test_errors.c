/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests of ctl/config's errors: each broken config under bad/ gives exactly the FILE:LINE: text
 * expected, line numbers included, and every error in a file is reported, not only the first. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ctl/config/config.h"

static char *formatted(const struct config_error *e)
{
	char *s = NULL;
	cr_assert(asprintf(&s, "%s:%u: %s", e->file, e->line, e->text) > 0);
	return s;
}

/* Loads path, which must fail with exactly the errors given, in order. */
static void expect_errors(const char *path, size_t n, const char *const *expected)
{
	struct config_errors errs = {0};
	struct config *cfg = config_load(path, &errs);
	cr_assert_null(cfg, "%s loaded but should not have", path);
	for (size_t i = 0; i < errs.count && i < n; i++) {
		char *got = formatted(&errs.list[i]);
		cr_expect_str_eq(got, expected[i]);
		free(got);
	}
	cr_assert_eq(errs.count, n, "%s: %zu errors, expected %zu (first: %s)", path, errs.count, n,
		     errs.count ? errs.list[0].text : "none");
	config_errors_free(&errs);
}

static void expect_error(const char *path, const char *expected)
{
	expect_errors(path, 1, &expected);
}

Test(config_errors, names_the_target_that_is_not_an_address)
{
	expect_error(
	    "bad/bad_target.yaml",
	    "bad/bad_target.yaml:25: rule 'onprem': target '172.31.6.300' is not an IPv4 or "
	    "IPv6 address (write ADDRESS, ADDRESS:PORT or [IPV6]:PORT)");
}

Test(config_errors, rejects_port_zero)
{
	expect_error("bad/bad_port.yaml",
		     "bad/bad_port.yaml:25: rule 'onprem': target "
		     "'172.31.36.253:0': port '0' is not a number in 1..65535");
}

Test(config_errors, reports_yaml_syntax_errors_with_a_line)
{
	expect_error("bad/syntax.yaml",
		     "bad/syntax.yaml:11: YAML: wrongly indented block sequence in flow mode");
}

Test(config_errors, refuses_a_key_given_twice)
{
	expect_error("bad/duplicate_key.yaml", "bad/duplicate_key.yaml:24: YAML: duplicate key");
}

Test(config_errors, names_an_unknown_key_and_lists_the_valid_ones)
{
	static const char *const expected[] = {
	    "bad/unknown_key.yaml:25: rule 'onprem': unknown key 'tagets' (valid keys: id, name, "
	    "type, domain, endpoint, targets, vpcs)",
	    "bad/unknown_key.yaml:20: rule 'onprem': a forward rule needs 'targets': 1 to 6 "
	    "addresses to send queries to",
	};
	expect_errors("bad/unknown_key.yaml", 2, expected);
}

Test(config_errors, names_a_missing_required_key)
{
	expect_error("bad/missing_key.yaml",
		     "bad/missing_key.yaml:20: rule 'onprem': missing required key 'domain'");
}

Test(config_errors, rejects_a_list_where_a_number_belongs)
{
	expect_error("bad/wrong_type.yaml",
		     "bad/wrong_type.yaml:10: vpc 'vpc-a': 'vlan' is a list; "
		     "it must be a whole number in 0..4094");
}

Test(config_errors, says_which_host_bits_a_cidr_sets)
{
	expect_error(
	    "bad/host_bits.yaml",
	    "bad/host_bits.yaml:9: vpc 'vpc-a': CIDR '172.31.5.0/16' has host bits set past /16 "
	    "(the network is 172.31.0.0/16)");
}

Test(config_errors, lists_the_vpcs_that_exist_for_an_unknown_reference)
{
	expect_error(
	    "bad/unknown_vpc.yaml",
	    "bad/unknown_vpc.yaml:26: rule 'onprem': vpc 'vpc-b' is not defined (defined: vpc-a)");
}

Test(config_errors, refuses_a_duplicate_id_naming_the_first)
{
	expect_error("bad/duplicate_id.yaml",
		     "bad/duplicate_id.yaml:15: endpoint 'out-a': the id is "
		     "already used by the endpoint at line 11; ids must be "
		     "unique");
}

Test(config_errors, names_a_bad_neighbour_mac_and_an_off_segment_gateway)
{
	static const char *const expected[] = {
	    "bad/gateway.yaml:7: interface 'lab0': neighbour mac '02:00:ac:1f:00:1' is not "
	    "a MAC address (six hex octets: 02:00:5e:10:00:01)",
	    "bad/gateway.yaml:12: vpc 'vpc-a': gateway 172.32.0.1 is outside the VPC's "
	    "CIDRs; the router that reaches targets outside them must be on the VPC's own "
	    "segment"};
	expect_errors("bad/gateway.yaml", 2, expected);
}

Test(config_errors, refuses_two_zones_of_one_name_in_a_vpc)
{
	expect_error("bad/zone_name_twice.yaml",
		     "bad/zone_name_twice.yaml:10: vpc 'vpc-a': hosted zones 'z2central' and "
		     "'z1central' (line 12) are both central.com; a VPC can be associated with one "
		     "private hosted zone per name");
}

Test(config_errors, needs_two_to_six_endpoint_addresses)
{
	expect_error("bad/endpoint_count.yaml",
		     "bad/endpoint_count.yaml:14: endpoint 'out-a': 'addresses' has 1 address; an "
		     "endpoint needs 2 to 6");
}

Test(config_errors, refuses_an_inbound_endpoint_on_a_rule)
{
	expect_error(
	    "bad/inbound_endpoint.yaml",
	    "bad/inbound_endpoint.yaml:24: rule 'onprem': endpoint 'in-a' is inbound; a rule "
	    "sends queries out through an outbound endpoint");
}

Test(config_errors, refuses_targets_on_a_system_rule)
{
	expect_error(
	    "bad/system_with_targets.yaml",
	    "bad/system_with_targets.yaml:31: rule 'acme': a system rule is resolved by the "
	    "resolver itself and takes no targets; remove 'targets'");
}

Test(config_errors, names_both_rules_for_one_domain_in_one_vpc)
{
	expect_error(
	    "bad/duplicate_domain.yaml",
	    "bad/duplicate_domain.yaml:33: rule 'onprem-again': rule 'onprem' (line 20) is also "
	    "for domain 'onprem.com' and also associated with vpc 'vpc-a'; a VPC takes one rule "
	    "per domain: associate only one of them");
}

Test(config_errors, refuses_overlapping_vpcs_on_one_segment)
{
	expect_error(
	    "bad/overlap.yaml",
	    "bad/overlap.yaml:12: vpc 'vpc-b': CIDR 172.31.128.0/17 overlaps 172.31.0.0/16 of "
	    "vpc 'vpc-a' (line 9) on the same interface and VLAN 0: their clients would be "
	    "indistinguishable; put one VPC on another VLAN or interface");
}

Test(config_errors, refuses_a_loop_through_the_vpcs_own_inbound_endpoint)
{
	expect_error(
	    "bad/loop.yaml",
	    "bad/loop.yaml:26: rule 'onprem': forwarding loop: target 172.31.1.20 is inbound "
	    "endpoint 'in-a' of vpc 'vpc-a', and the rule is associated with vpc 'vpc-a' too, "
	    "so queries would bounce between the outbound and inbound endpoints until they "
	    "time out (clients see SERVFAIL); associate the rule with the other VPCs only");
}

Test(config_errors, refuses_a_rule_that_targets_its_own_vpcs_resolver)
{
	expect_error(
	    "bad/resolver_loop.yaml",
	    "bad/resolver_loop.yaml:25: rule 'onprem': forwarding loop: target 172.31.0.2 is a "
	    "resolver address of vpc 'vpc-a', which this rule serves, so its queries would "
	    "come straight back to this rule; point the rule at the servers that answer for "
	    "'onprem.com'");
}

Test(config_errors, keeps_endpoint_addresses_off_the_resolver_addresses)
{
	expect_error("bad/endpoint_on_resolver.yaml",
		     "bad/endpoint_on_resolver.yaml:18: endpoint 'in-a': address 172.31.0.2 is a "
		     "resolver address of vpc 'vpc-a'; an endpoint needs addresses of its own");
}

Test(config_errors, wants_a_zone_above_a_delegate_rule)
{
	expect_error(
	    "bad/delegate_without_zone.yaml",
	    "bad/delegate_without_zone.yaml:33: rule 'onprem-central': a delegate rule follows "
	    "a referral out of a private hosted zone, but no zone of vpc 'vpc-a' holds "
	    "'onprem.central.com'; associate the parent zone (with NS records for "
	    "onprem.central.com) with the VPC, or make this a forward rule");
}

Test(config_errors, needs_an_endpoint_address_of_the_targets_family)
{
	expect_error(
	    "bad/family.yaml",
	    "bad/family.yaml:25: rule 'onprem': target fd00::53 is IPv6 but endpoint 'out-a' "
	    "has no IPv6 address to send from");
}

Test(config_errors, explains_a_bad_device_string)
{
	expect_error(
	    "bad/bad_device.yaml",
	    "bad/bad_device.yaml:5: interface 'lab0': device 'af_xdp,iface=vpcdns-fw0' is "
	    "neither a PCI address (0000:3b:00.0) nor a virtual device (net_<driver><n>, e.g. "
	    "net_af_xdp0,iface=eth1)");
}

Test(config_errors, keeps_kernel_interface_names_short_enough_for_a_vlan_suffix)
{
	expect_error("bad/kernel_interface.yaml",
		     "bad/kernel_interface.yaml:6: interface 'lab0': 'kernel_interface' must be 1 "
		     "to 10 letters, digits, '-' or '_' (a VLAN suffix like '.100' must still fit "
		     "the kernel's 15), not 'vpcdns-kernel0'");
}

Test(config_errors, refuses_one_kernel_interface_for_two_interfaces)
{
	expect_error("bad/kernel_interface_twice.yaml",
		     "bad/kernel_interface_twice.yaml:7: interface 'lab1': kernel_interface 'vpck' "
		     "is already interface 'lab0''s (line 4)");
}

Test(config_errors, keeps_endpoint_addresses_inside_their_vpc)
{
	expect_error(
	    "bad/outside_cidr.yaml",
	    "bad/outside_cidr.yaml:14: endpoint 'out-a': address 10.9.1.11 is not inside the "
	    "CIDRs of vpc 'vpc-a'; an endpoint's addresses are in its VPC");
}

Test(config_errors, bounds_a_tunable)
{
	expect_error("bad/tunables.yaml",
		     "bad/tunables.yaml:20: tunables: 'tries' is '9'; it must be "
		     "a whole number in 1..6");
}

Test(config_errors, wants_each_lcores_cache_share_at_least_64_kib)
{
	expect_error("bad/cache_share.yaml",
		     "bad/cache_share.yaml:19: tunables: cache_max_bytes (200000) gives each of 4 "
		     "data lcores less than 65536 octets; raise it or set 0 to turn caching off");
}

Test(config_errors, wants_twelve_digits_of_account_id)
{
	expect_error(
	    "bad/account_id.yaml",
	    "bad/account_id.yaml:2: config: account_id '59275208' must be 12 digits (quote it "
	    "to keep leading zeros: \"012345678901\")");
}

Test(config_errors, reports_zone_file_syntax_with_the_zone_files_line)
{
	expect_error("bad/zone_syntax.yaml",
		     "bad/zones/syntax.zone:4: hosted zone 'central.com': invalid IPv4 address");
}

Test(config_errors, names_the_missing_zone_file_at_its_config_line)
{
	expect_error("bad/zone_missing.yaml",
		     "bad/zone_missing.yaml:30: hosted zone 'central.com': cannot read zone file "
		     "'bad/zones/no-such.zone': No such file or directory");
}

Test(config_errors, says_what_an_empty_file_lacks)
{
	expect_error("bad/empty.yaml",
		     "bad/empty.yaml:0: the file holds no YAML document; it needs "
		     "at least region, account_id, interfaces and vpcs");
}

Test(config_errors, refuses_a_zone_file_of_another_zone)
{
	expect_error(
	    "bad/zone_apex.yaml",
	    "bad/zones/other.zone:3: hosted zone 'central.com': record 'other.com.' is outside "
	    "the zone, and 1 more after it: names here must end in central.com. (is this the "
	    "file of another zone?)");
}

Test(config_errors, reports_every_error_not_only_the_first)
{
	static const char *const expected[] = {
	    "bad/many.yaml:9: vpc 'vpc-a': 'vlan' is '5000'; it must be a whole number in 0..4094",
	    "bad/many.yaml:10: vpc 'vpc-a': CIDR '172.31.0.0/33': prefix length '33' is not a "
	    "number in 0..32",
	};
	expect_errors("bad/many.yaml", 2, expected);
}

Test(config_errors, says_when_the_file_cannot_be_opened)
{
	expect_error("bad/no-such-file.yaml",
		     "bad/no-such-file.yaml:0: cannot open: No such file or directory");
}

Test(config_errors, refuses_a_directory)
{
	expect_error("bad", "bad:0: is not a regular file");
}

Test(config_errors, caps_the_error_list_and_counts_the_rest)
{
	char path[] = "/tmp/vpcdns-config-test-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "region: ap-southeast-2\naccount_id: \"592752082067\"\ninterfaces:\n");
	fprintf(f,
		"  - {name: lab0, device: net_null0}\nvpcs:\n  - id: vpc-a\n    interface: lab0\n");
	fprintf(f, "    cidrs:\n");
	for (int i = 0; i < 60; i++)
		fprintf(f, "      - 10.%d.0.1/16\n", i);
	fclose(f);
	struct config_errors errs = {0};
	cr_assert_null(config_load(path, &errs));
	unlink(path);
	cr_expect_eq(errs.count, CONFIG_MAX_ERRORS);
	cr_expect_eq(errs.dropped, 60 - CONFIG_MAX_ERRORS);
	cr_expect_eq(errs.list[0].line, 9);
	cr_expect_eq(errs.list[49].line, 58);
	config_errors_free(&errs);
}

Test(config_errors, names_root_hints_that_cannot_be_read)
{
	expect_error("bad/recursion_hints.yaml",
		     "bad/recursion_hints.yaml:11: recursion: cannot read root hints file "
		     "'bad/zones/no-such.hints': No such file or directory");
}

Test(config_errors, reports_every_bad_recursion_value)
{
	static const char *const expected[] = {
	    "bad/recursion_values.yaml:11: recursion: unknown key 'root_hint' (valid keys: "
	    "root_hints, source_addresses, source_ports, max_inflight, cache_max_bytes, "
	    "timeout_ms)",
	    "bad/recursion_values.yaml:12: recursion: 'source_addresses' lists '198.18.0.300', "
	    "which is not an IPv4 or IPv6 address",
	    "bad/recursion_values.yaml:12: recursion: 'source_addresses' lists 198.18.0.100 twice",
	    "bad/recursion_values.yaml:13: recursion: source_ports '60000-50000' must be LOW-HIGH "
	    "with 1024 <= LOW <= HIGH <= 65535",
	    "bad/recursion_values.yaml:14: recursion: 'max_inflight' is '0'; it must be a whole "
	    "number in 1..1048576",
	    "bad/recursion_values.yaml:15: recursion: 'cache_max_bytes' is '1000'; it must be a "
	    "whole number in 1048576..68719476736",
	};
	expect_errors("bad/recursion_values.yaml", 6, expected);
}

Test(config_errors, wants_recursion_to_be_a_mapping)
{
	expect_error("bad/recursion_not_a_mapping.yaml",
		     "bad/recursion_not_a_mapping.yaml:10: recursion: expected a mapping of keys, "
		     "found a scalar");
}

Test(config_errors, xdp_mode_needs_an_af_xdp_device)
{
	expect_error("bad/xdp_not_af_xdp.yaml",
		     "bad/xdp_not_af_xdp.yaml:6: interface 'lab0': mode xdp needs a net_af_xdp "
		     "device that names its interface (net_af_xdp0,iface=eth1), not "
		     "'net_af_packet0,iface=vpcdns-fw0'");
}

Test(config_errors, xdp_mode_needs_the_devices_iface)
{
	expect_error("bad/xdp_no_iface.yaml",
		     "bad/xdp_no_iface.yaml:6: interface 'lab0': mode xdp needs a net_af_xdp "
		     "device that names its interface (net_af_xdp0,iface=eth1), not "
		     "'net_af_xdp0,start_queue=0'");
}

Test(config_errors, xdp_mode_loads_its_own_program)
{
	expect_error("bad/xdp_prog.yaml",
		     "bad/xdp_prog.yaml:6: interface 'lab0': mode xdp: vpcdnsd loads its own XDP "
		     "program; drop xdp_prog= from 'net_af_xdp0,iface=eth1,xdp_prog=/tmp/x.o'");
}

Test(config_errors, xdp_mode_has_no_tap)
{
	expect_error("bad/xdp_kernel_interface.yaml",
		     "bad/xdp_kernel_interface.yaml:7: interface 'lab0': mode xdp has no TAP: the "
		     "kernel interface is the NIC's own ('eth1'); drop 'kernel_interface'");
}

Test(config_errors, names_the_modes)
{
	expect_error(
	    "bad/mode.yaml",
	    "bad/mode.yaml:6: interface 'lab0': 'mode' must be full_nic or xdp, not 'dpdk'");
}
