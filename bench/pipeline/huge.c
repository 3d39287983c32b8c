/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/pipeline hugepages: the figures are taken with them (LAB-NOTES: packet paths are 1.5 to
 * 6 times faster), but the machine has none and must be left as found. So: pages reserved on top
 * of what was there, a private hugetlbfs mount, and both undone at exit, on SIGINT and SIGTERM.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "bench/pipeline/bench.h"

#define NR_HUGEPAGES "/proc/sys/vm/nr_hugepages"

static long pages_before = -1;
static char mount_dir[64];
static bool mounted;

static long read_pages(void)
{
	FILE *f = fopen(NR_HUGEPAGES, "r");
	long n = -1;
	if (f) {
		if (fscanf(f, "%ld", &n) != 1)
			n = -1;
		fclose(f);
	}
	return n;
}

static bool write_pages(long n)
{
	FILE *f = fopen(NR_HUGEPAGES, "w");
	if (!f)
		return false;
	bool ok = fprintf(f, "%ld\n", n) > 0;
	return fclose(f) == 0 && ok;
}

static void huge_undo(void)
{
	if (mounted) {
		/* a DPDK child killed mid-run may still map pages: detach, freed when it is gone */
		if (umount2(mount_dir, MNT_DETACH) != 0)
			perror("bench_pipeline: umount hugetlbfs");
		rmdir(mount_dir);
		mounted = false;
	}
	if (pages_before >= 0) {
		if (!write_pages(pages_before))
			perror("bench_pipeline: restore nr_hugepages");
		pages_before = -1;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	exit(2); /* runs huge_undo */
}

const char *huge_setup(unsigned pages)
{
	pages_before = read_pages();
	if (pages_before < 0) {
		perror("bench_pipeline: " NR_HUGEPAGES);
		return NULL;
	}
	atexit(huge_undo);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	if (!write_pages(pages_before + pages) || read_pages() < pages_before + pages) {
		fprintf(stderr, "bench_pipeline: cannot reserve %u hugepages (root?)\n", pages);
		return NULL;
	}
	snprintf(mount_dir, sizeof(mount_dir), "/tmp/vpcdns-bench-huge.XXXXXX");
	if (!mkdtemp(mount_dir)) {
		perror("bench_pipeline: mkdtemp");
		return NULL;
	}
	if (mount("nodev", mount_dir, "hugetlbfs", 0, "pagesize=2M") != 0) {
		perror("bench_pipeline: mount hugetlbfs");
		rmdir(mount_dir);
		return NULL;
	}
	mounted = true;
	return mount_dir;
}

int huge_eal_args(char **argv, int argc, const char *huge_dir)
{
	if (huge_dir) {
		argv[argc++] = "--huge-dir";
		argv[argc++] = (char *)huge_dir;
		argv[argc++] = "-m";
		argv[argc++] = "256";
	} else {
		argv[argc++] = "--no-huge";
		argv[argc++] = "--no-shconf";
		argv[argc++] = "-m";
		argv[argc++] = "512";
	}
	return argc;
}
