/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * dp/io EAL: turns the config's devices and lcore count into the EAL's argv (hugepages when the
 * host has them free, else --no-huge with a sized -m), starts the EAL, and checks that every
 * device became a port, since a vdev that fails to probe leaves the EAL running without it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <limits.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_log.h>

#include "dp/io/io.h"

#define IO_LOG(level, ...) rte_log(RTE_LOG_##level, RTE_LOGTYPE_USER1, "io: " __VA_ARGS__)

static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static long meminfo_value(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	long value = -1;
	size_t klen = strlen(key);

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, key, klen) == 0 && line[klen] == ':') {
			value = strtol(line + klen + 1, NULL, 10);
			break;
		}
	fclose(f);
	return value;
}

static bool hugetlbfs_mounted(void)
{
	FILE *f = fopen("/proc/mounts", "r");
	char line[512];
	bool found = false;

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = strstr(line, " hugetlbfs ") != NULL;
	fclose(f);
	return found;
}

bool io_hugepages_available(void)
{
	return meminfo_value("HugePages_Free") > 0 && hugetlbfs_mounted();
}

void io_device_port_name(const char *device, char *name, size_t len)
{
	size_t n = strcspn(device, ",");
	if (len == 0)
		return;
	if (n >= len)
		n = len - 1;
	memcpy(name, device, n);
	name[n] = '\0';
}

static bool is_vdev(const char *device)
{
	return strncmp(device, "net_", 4) == 0;
}

/* Appends one argument's text to buf and its pointer to argv. */
struct argv_builder {
	char **argv;
	int argc;
	char *buf;
	size_t len, used;
	bool overflow;
};

static void add_arg(struct argv_builder *b, const char *fmt, ...)
{
	va_list ap;
	size_t room = b->len - b->used;

	if (b->overflow || b->argc >= IO_EAL_ARGV_MAX - 1) {
		b->overflow = true;
		return;
	}
	va_start(ap, fmt);
	int n = vsnprintf(b->buf + b->used, room, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= room) {
		b->overflow = true;
		return;
	}
	b->argv[b->argc++] = b->buf + b->used;
	b->used += (size_t)n + 1;
}

/* lcore i on CPU i mod the CPUs online: "0@0,1@1,2@0". */
static void add_lcores(struct argv_builder *b, unsigned n_data)
{
	char map[512];
	size_t used = 0;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	if (cpus < 1)
		cpus = 1;
	map[0] = '\0';
	for (unsigned i = 0; i <= n_data && used < sizeof(map); i++)
		used += (size_t)snprintf(map + used, sizeof(map) - used, "%s%u@%ld", i ? "," : "",
					 i, (long)i % cpus);
	if (used >= sizeof(map)) {
		b->overflow = true;
		return;
	}
	add_arg(b, "--lcores=%s", map);
}

int io_eal_argv(const struct io_eal_params *p, bool huge, char **argv, char *buf, size_t buflen,
		char *err, size_t errlen)
{
	struct argv_builder b = {.argv = argv, .buf = buf, .len = buflen};
	bool any_pci = false;

	if (p->n_devices > IO_MAX_DEVICES) {
		set_err(err, errlen, "%zu devices: at most %d", p->n_devices, IO_MAX_DEVICES);
		return -1;
	}
	add_arg(&b, "vpcdns");
	add_lcores(&b, p->n_data_lcores);
	if (p->file_prefix)
		add_arg(&b, "--file-prefix=%s", p->file_prefix);
	else
		add_arg(&b, "--file-prefix=vpcdns-%ld", (long)getpid());
	if (!huge) {
		/* --in-memory does not combine with --no-huge; --no-shconf does the same job here.
		 */
		add_arg(&b, "--no-huge");
		add_arg(&b, "--no-shconf");
		add_arg(&b, "-m");
		add_arg(&b, "%u", p->memory_mb ? p->memory_mb : 512);
	}
	add_arg(&b, "--log-level=%s", p->log_level ? p->log_level : "notice");
	for (size_t i = 0; i < p->n_devices; i++) {
		bool vdev = is_vdev(p->devices[i]);
		any_pci |= !vdev;
		add_arg(&b, vdev ? "--vdev" : "-a");
		add_arg(&b, "%s", p->devices[i]);
	}
	if (!any_pci)
		add_arg(&b, "--no-pci");
	if (b.overflow) {
		set_err(err, errlen, "EAL arguments too long");
		return -1;
	}
	argv[b.argc] = NULL;
	return b.argc;
}

static void log_argv(int argc, char **argv)
{
	char line[IO_EAL_ARGBUF_LEN];
	size_t used = 0;

	line[0] = '\0';
	for (int i = 0; i < argc && used < sizeof(line); i++)
		used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s", i ? " " : "",
					 argv[i]);
	IO_LOG(NOTICE, "EAL argv: %s\n", line);
}

/* Every device must have become a port by its name; names the first that did not. */
static int check_devices_probed(const struct io_eal_params *p, char *err, size_t errlen)
{
	for (size_t i = 0; i < p->n_devices; i++) {
		char name[RTE_ETH_NAME_MAX_LEN];
		uint16_t port_id;
		io_device_port_name(p->devices[i], name, sizeof(name));
		if (rte_eth_dev_get_port_by_name(name, &port_id) != 0) {
			set_err(err, errlen, "device %s: probe failed (no port named %s)",
				p->devices[i], name);
			return -1;
		}
	}
	return 0;
}

int io_eal_init(const struct io_eal_params *p, char *err, size_t errlen)
{
	char *argv[IO_EAL_ARGV_MAX];
	char buf[IO_EAL_ARGBUF_LEN];
	bool huge = !p->no_huge && io_hugepages_available();
	int argc = io_eal_argv(p, huge, argv, buf, sizeof(buf), err, errlen);

	if (argc < 0)
		return -1;
	/* The EAL keeps pointers into argv: give it a copy that lives as long as the process. */
	static char kept_buf[IO_EAL_ARGBUF_LEN];
	static char *kept_argv[IO_EAL_ARGV_MAX];
	memcpy(kept_buf, buf, sizeof(buf));
	for (int i = 0; i < argc; i++)
		kept_argv[i] = kept_buf + (argv[i] - buf);
	kept_argv[argc] = NULL;

	/* Logged before the EAL's getopt reorders kept_argv; rte_log works before rte_eal_init. */
	log_argv(argc, argv);
	if (rte_eal_init(argc, kept_argv) < 0) {
		set_err(err, errlen, "rte_eal_init: %s", rte_strerror(rte_errno));
		return -1;
	}
	return check_devices_probed(p, err, errlen);
}

/* The EAL's runtime directory holds only its sockets (telemetry, multi-process), which it
 * unlinks at exit, after rte_eal_cleanup: removed here, so nothing is left. */
static void remove_runtime_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char path[PATH_MAX];

	if (!d)
		return;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

void io_eal_cleanup(void)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	/* Only a per-process directory (the default prefix): a shared one is not ours to empty. */
	char own[64];
	snprintf(own, sizeof(own), "/vpcdns-%ld", (long)getpid());
	size_t dl = strlen(dir), ol = strlen(own);
	if (dl > ol && strcmp(dir + dl - ol, own) == 0)
		remove_runtime_dir(dir);
}
