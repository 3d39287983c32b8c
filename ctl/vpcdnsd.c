/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpcdnsd: the daemon's main, the control core. `vpcdnsd CONFIG` validates the config and serves
 * it (ctl/serve: the DPDK data plane and the control core's loop) until SIGINT or SIGTERM;
 * `vpcdnsd --check CONFIG` only validates it, compiles its per-VPC match tables and prints a
 * summary (exit 0) or every error found (exit 1).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/config/config.h"
#include "ctl/serve/serve.h"

#ifndef VPCDNS_VERSION
#define VPCDNS_VERSION "unknown"
#endif

enum exit_status { EXIT_OK = 0, EXIT_INVALID = 1, EXIT_USAGE = 2 };

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: vpcdnsd [--no-huge] [--file-prefix NAME] [--run-seconds N] CONFIG\n"
	    "       vpcdnsd --check CONFIG [--engine suffix|hyperscan] [--quiet]\n"
	    "                [--lookup VPC NAME...]\n"
	    "       vpcdnsd --help | --version\n"
	    "\n"
	    "  CONFIG               serve it: DPDK ports from its interfaces, data lcores from\n"
	    "                       tunables.data_lcores; SIGUSR1 prints the counters, SIGINT or\n"
	    "                       SIGTERM stops (and prints them)\n"
	    "      --no-huge        never use hugepages (by default they are used when free)\n"
	    "      --file-prefix N  the EAL's --file-prefix, to run several side by side\n"
	    "      --run-seconds N  stop by itself after N seconds\n"
	    "  -c, --check CONFIG   validate CONFIG and its zone files, compile the per-VPC match\n"
	    "                       tables and print a summary; exit 0 if valid, 1 if not\n"
	    "  -e, --engine NAME    match engine for the tables: suffix (default) or hyperscan\n"
	    "  -l, --lookup VPC     after the check, say for each NAME which rule, zone,\n"
	    "                       auto-defined rule or \".\" governs it in VPC (exit 1 if any\n"
	    "                       NAME or VPC is invalid)\n"
	    "  -q, --quiet          no summary, only errors (and lookups)\n"
	    "  -h, --help           this text\n"
	    "  -V, --version        the version\n"
	    "\n"
	    "The config format is documented in ctl/config/README.md.\n");
}

struct check_request {
	const char *path;
	enum match_engine engine;
	bool quiet;
	const char *lookup_vpc; /* NULL: no lookups */
	char **names;
	int n_names;
};

static int explain_names(const struct check_request *req, const struct config *cfg,
			 const struct config_tables *tables)
{
	int status = EXIT_OK;
	for (int i = 0; i < req->n_names; i++) {
		if (config_explain(cfg, tables, req->lookup_vpc, req->names[i], stdout) < 0)
			status = EXIT_INVALID;
	}
	return status;
}

static int check(const struct check_request *req)
{
	const char *path = req->path;
	struct config_errors errs = {0};
	struct config *cfg = config_load(path, &errs);
	struct config_tables *tables = cfg ? config_compile(cfg, req->engine, &errs) : NULL;
	int status = EXIT_OK;
	if (!tables) {
		config_errors_print(&errs, stderr);
		fprintf(stderr, "%s: invalid (%zu %s)\n", path, errs.count + errs.dropped,
			errs.count + errs.dropped == 1 ? "error" : "errors");
		status = EXIT_INVALID;
	} else {
		if (!req->quiet)
			config_summary_print(cfg, tables, stdout);
		if (req->lookup_vpc)
			status = explain_names(req, cfg, tables);
	}
	config_tables_free(tables);
	config_free(cfg);
	config_errors_free(&errs);
	return status;
}

/* Serves only a config that passes every check --check makes. */
static int serve_config(const char *path, const struct serve_options *opts)
{
	struct config_errors errs = {0};
	struct config *cfg = config_load(path, &errs);
	if (!cfg) {
		config_errors_print(&errs, stderr);
		fprintf(stderr, "%s: invalid, not serving\n", path);
		config_errors_free(&errs);
		return EXIT_INVALID;
	}
	int status = serve_run(cfg, opts);
	config_free(cfg);
	config_errors_free(&errs);
	return status;
}

static bool parse_engine(const char *name, enum match_engine *out)
{
	for (int e = 0; e < MATCH_ENGINE_COUNT; e++) {
		if (strcmp(name, match_engine_name((enum match_engine)e)) == 0) {
			*out = (enum match_engine)e;
			return true;
		}
	}
	return false;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
	    {"check", required_argument, NULL, 'c'},
	    {"engine", required_argument, NULL, 'e'},
	    {"lookup", required_argument, NULL, 'l'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"no-huge", no_argument, NULL, 'H'},
	    {"file-prefix", required_argument, NULL, 'P'},
	    {"run-seconds", required_argument, NULL, 'R'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct check_request req = {.engine = MATCH_ENGINE_SUFFIX};
	struct serve_options serve = {0};
	bool checking = false;
	int opt;
	while ((opt = getopt_long(argc, argv, "c:e:l:qhV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			req.path = optarg;
			checking = true;
			break;
		case 'H':
			serve.no_huge = true;
			break;
		case 'P':
			serve.file_prefix = optarg;
			break;
		case 'R': {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);
			if (*end || n == 0 || n > 86400 * 365) {
				fprintf(stderr, "vpcdnsd: --run-seconds '%s' must be 1..31536000\n",
					optarg);
				return EXIT_USAGE;
			}
			serve.run_seconds = (unsigned)n;
			break;
		}
		case 'e':
			if (!parse_engine(optarg, &req.engine)) {
				fprintf(stderr,
					"vpcdnsd: unknown engine '%s' (suffix or hyperscan)\n",
					optarg);
				return EXIT_USAGE;
			}
			break;
		case 'l':
			req.lookup_vpc = optarg;
			break;
		case 'q':
			req.quiet = true;
			break;
		case 'h':
			usage(stdout);
			return EXIT_OK;
		case 'V':
			printf("vpcdnsd %s\n", VPCDNS_VERSION);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_USAGE;
		}
	}
	if (req.lookup_vpc) {
		if (!checking) {
			fprintf(stderr, "vpcdnsd: --lookup goes with --check\n");
			return EXIT_USAGE;
		}
		req.names = argv + optind;
		req.n_names = argc - optind;
		optind = argc;
	}
	if (!checking && optind < argc)
		req.path = argv[optind++];
	if (optind < argc) {
		fprintf(stderr, "vpcdnsd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!req.path) {
		usage(stderr);
		return EXIT_USAGE;
	}
	return checking ? check(&req) : serve_config(req.path, &serve);
}
