/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * tests/unit/io: the EAL argv built from the config's devices (no EAL started), the port name a
 * device string gives, and the mbuf pool formula.
 */
#include <criterion/criterion.h>
#include <string.h>
#include <unistd.h>

#include "dp/io/io.h"

static char *argv[IO_EAL_ARGV_MAX];
static char buf[IO_EAL_ARGBUF_LEN];
static char err[256];

static int build(const struct io_eal_params *p, bool huge)
{
	return io_eal_argv(p, huge, argv, buf, sizeof(buf), err, sizeof(err));
}

/* The index of arg in argv, or -1. */
static int find(int argc, const char *arg)
{
	for (int i = 0; i < argc; i++)
		if (strcmp(argv[i], arg) == 0)
			return i;
	return -1;
}

Test(io_eal_argv, vdevs_become_vdev_and_no_pci_is_added)
{
	const char *devs[] = {"net_af_xdp0,iface=veth0,start_queue=0", "net_tap0,iface=vpx0"};
	struct io_eal_params p = {.devices = devs,
				  .n_devices = 2,
				  .n_data_lcores = 1,
				  .memory_mb = 256,
				  .file_prefix = "t1"};
	int argc = build(&p, false);
	cr_assert_gt(argc, 0, "%s", err);
	cr_assert_null(argv[argc]);
	cr_assert_str_eq(argv[0], "vpcdns");
	int i = find(argc, "net_af_xdp0,iface=veth0,start_queue=0");
	cr_assert_gt(i, 0);
	cr_assert_str_eq(argv[i - 1], "--vdev");
	cr_assert_gt(find(argc, "net_tap0,iface=vpx0"), 0);
	cr_assert_geq(find(argc, "--no-pci"), 0);
	cr_assert_geq(find(argc, "--file-prefix=t1"), 0);
}

Test(io_eal_argv, without_hugepages_uses_no_huge_no_shconf_and_the_memory_given)
{
	struct io_eal_params p = {.n_data_lcores = 1, .memory_mb = 300, .file_prefix = "t2"};
	int argc = build(&p, false);
	cr_assert_geq(find(argc, "--no-huge"), 0);
	cr_assert_geq(find(argc, "--no-shconf"), 0);
	cr_assert_lt(find(argc, "--in-memory"), 0, "--in-memory does not combine with --no-huge");
	int m = find(argc, "-m");
	cr_assert_geq(m, 0);
	cr_assert_str_eq(argv[m + 1], "300");
}

Test(io_eal_argv, with_hugepages_asks_for_no_memory_limit)
{
	struct io_eal_params p = {.n_data_lcores = 1, .memory_mb = 300, .file_prefix = "t3"};
	int argc = build(&p, true);
	cr_assert_lt(find(argc, "--no-huge"), 0);
	cr_assert_lt(find(argc, "-m"), 0);
}

Test(io_eal_argv, pci_addresses_are_allowed_and_pci_stays_on)
{
	const char *devs[] = {"0000:3b:00.0", "net_null0"};
	struct io_eal_params p = {.devices = devs, .n_devices = 2, .n_data_lcores = 2};
	int argc = build(&p, false);
	int i = find(argc, "0000:3b:00.0");
	cr_assert_gt(i, 0);
	cr_assert_str_eq(argv[i - 1], "-a");
	cr_assert_lt(find(argc, "--no-pci"), 0);
}

Test(io_eal_argv, lcores_are_main_plus_data_and_a_default_prefix_is_per_process)
{
	struct io_eal_params p = {.n_data_lcores = 2, .log_level = "debug"};
	int argc = build(&p, false);
	int i;
	for (i = 0; i < argc; i++)
		if (strncmp(argv[i], "--lcores=0@0,1@", 15) == 0)
			break;
	cr_assert_lt(i, argc, "no --lcores mapping for lcores 0, 1, 2");
	cr_assert_not_null(strstr(argv[i], ",2@"));
	char want[64];
	snprintf(want, sizeof(want), "--file-prefix=vpcdns-%ld", (long)getpid());
	cr_assert_geq(find(argc, want), 0);
	cr_assert_geq(find(argc, "--log-level=debug"), 0);
}

Test(io_eal_argv, refuses_too_many_devices_and_too_long_arguments)
{
	const char *devs[IO_MAX_DEVICES + 1];
	for (int i = 0; i <= IO_MAX_DEVICES; i++)
		devs[i] = "net_null0";
	struct io_eal_params p = {.devices = devs, .n_devices = IO_MAX_DEVICES + 1};
	cr_assert_eq(build(&p, false), -1);
	cr_assert_not_null(strstr(err, "devices"));

	static char long_dev[IO_EAL_ARGBUF_LEN];
	memset(long_dev, 'x', sizeof(long_dev) - 1);
	memcpy(long_dev, "net_", 4);
	const char *one[] = {long_dev};
	p = (struct io_eal_params){.devices = one, .n_devices = 1};
	cr_assert_eq(build(&p, false), -1);
	cr_assert_str_eq(err, "EAL arguments too long");
}

Test(io_eal_argv, port_name_is_the_device_string_before_its_arguments)
{
	char name[64];
	io_device_port_name("net_af_packet1,iface=eth0,qpairs=2", name, sizeof(name));
	cr_assert_str_eq(name, "net_af_packet1");
	io_device_port_name("0000:3b:00.0", name, sizeof(name));
	cr_assert_str_eq(name, "0000:3b:00.0");
	io_device_port_name("net_ring0", name, 5);
	cr_assert_str_eq(name, "net_");
}

Test(io_pool, formula_counts_rings_lcores_and_the_control_core)
{
	struct io_pool_sizing s = {.n_ports = 2,
				   .n_data_lcores = 2,
				   .rx_desc = 1024,
				   .tx_desc = 1024,
				   .exception_ring = 512,
				   .burst = 32,
				   .in_flight_per_lcore = 0};
	/* rings 2 x (2 x 2048 + 1024) = 10240; lcores 2 x (512 + 64 + 256) = 1664; control 64 + 256
	 */
	cr_assert_eq(io_pool_mbufs(&s), 10240 + 1664 + 320);
}
