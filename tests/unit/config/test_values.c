/* SPDX-License-Identifier: BSD-3-Clause */
/* Tests of ctl/config's value parsers (internal.h): targets, prefixes, domains and device strings.
 */
#include <criterion/criterion.h>

#include "ctl/config/internal.h"

Test(config_values, reads_targets_with_and_without_ports)
{
	struct config_target t;
	char why[256];
	cr_assert(config_parse_target("172.31.6.52", &t, why, sizeof(why)));
	cr_expect_eq(t.port, 53);
	cr_assert(config_parse_target("172.31.36.253:5353", &t, why, sizeof(why)));
	cr_expect_eq(t.port, 5353);
	cr_assert(config_parse_target("[fd00::53]:5353", &t, why, sizeof(why)));
	cr_expect_eq(t.addr.family, 6);
	cr_expect_eq(t.port, 5353);
	cr_assert(config_parse_target("fd00::53", &t, why, sizeof(why)));
	cr_expect_eq(t.port, 53, "a bare IPv6 address takes port 53");
}

Test(config_values, rejects_malformed_targets)
{
	struct config_target t;
	char why[256];
	cr_expect_not(config_parse_target("[172.31.6.52]:53", &t, why, sizeof(why)));
	cr_expect_str_eq(why, "target '[172.31.6.52]:53': brackets are for IPv6 addresses only");
	cr_expect_not(config_parse_target("[fd00::53", &t, why, sizeof(why)));
	cr_expect_not(config_parse_target("172.31.6.52:65536", &t, why, sizeof(why)));
	cr_expect_str_eq(why,
			 "target '172.31.6.52:65536': port '65536' is not a number in 1..65535");
	cr_expect_not(config_parse_target("ns1.onprem.com", &t, why, sizeof(why)));
}

Test(config_values, checks_prefix_host_bits_in_ipv6)
{
	struct config_prefix p;
	char why[256];
	cr_expect(config_parse_prefix("2001:db8::/32", &p, why, sizeof(why)));
	cr_expect_not(config_parse_prefix("2001:db8::1/64", &p, why, sizeof(why)));
	cr_expect_str_eq(
	    why, "CIDR '2001:db8::1/64' has host bits set past /64 (the network is 2001:db8::/64)");
	cr_expect_not(config_parse_prefix("10.0.0.0", &p, why, sizeof(why)));
	cr_expect_str_eq(
	    why,
	    "CIDR '10.0.0.0' has no prefix length (write it as ADDRESS/LENGTH, e.g. 10.0.0.0/16)");
}

Test(config_values, normalises_domains)
{
	char out[256], why[256];
	cr_assert(config_parse_domain("OnPrem.COM.", out, why, sizeof(why)));
	cr_expect_str_eq(out, "onprem.com");
	cr_assert(config_parse_domain(".", out, why, sizeof(why)));
	cr_expect_str_eq(out, ".");
	cr_expect_not(config_parse_domain("a..b", out, why, sizeof(why)));
	cr_expect_str_eq(why, "domain 'a..b' has a label of 0 characters (labels have 1 to 63)");
	cr_expect_not(config_parse_domain("a b.com", out, why, sizeof(why)));
}

Test(config_values, accepts_pci_addresses_and_vdevs_with_arguments)
{
	char why[256];
	cr_expect(config_check_device("0000:3b:00.0", why, sizeof(why)));
	cr_expect(config_check_device("3b:00.1", why, sizeof(why)));
	cr_expect(config_check_device("net_af_xdp0,iface=vpcdns-fw0,start_queue=0,queue_count=1",
				      why, sizeof(why)));
	cr_expect(
	    config_check_device("net_pcap0,rx_pcap=/tmp/a.pcap,infinite_rx=1", why, sizeof(why)));
	cr_expect(config_check_device("net_null0", why, sizeof(why)));
	cr_expect_not(config_check_device("net_tap0,iface", why, sizeof(why)));
	cr_expect_str_eq(why, "device 'net_tap0,iface': argument 'iface' is not key=value");
	cr_expect_not(config_check_device("net_tap0,iface=", why, sizeof(why)));
	cr_expect_not(config_check_device("eth0", why, sizeof(why)));
}
