/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vpcdnsd: the daemon's main, the control core. For now it checks configs: `vpcdnsd --check CONFIG`
 * loads and validates a config, compiles its per-VPC match tables and prints a summary (exit 0) or
 * every error found (exit 1). Serving arrives with the data-plane change; until then running
 * without --check says so and exits 2 rather than pretend to forward anything.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl/config/config.h"

#ifndef VPCDNS_VERSION
#define VPCDNS_VERSION "unknown"
#endif

enum exit_status { EXIT_OK = 0, EXIT_INVALID = 1, EXIT_USAGE = 2 };

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: vpcdnsd --check CONFIG [--engine suffix|hyperscan] [--quiet]\n"
	    "                [--lookup VPC NAME...]\n"
	    "       vpcdnsd --help | --version\n"
	    "\n"
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
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	struct check_request req = {.engine = MATCH_ENGINE_SUFFIX};
	int opt;
	while ((opt = getopt_long(argc, argv, "c:e:l:qhV", options, NULL)) != -1) {
		switch (opt) {
		case 'c':
			req.path = optarg;
			break;
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
		req.names = argv + optind;
		req.n_names = argc - optind;
		optind = argc;
	}
	if (optind < argc) {
		fprintf(stderr, "vpcdnsd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!req.path) {
		fprintf(stderr,
			"vpcdnsd: serving is not built yet: the data plane arrives with the "
			"data-plane change. For now use --check CONFIG to validate a config.\n");
		return EXIT_USAGE;
	}
	return check(&req);
}
