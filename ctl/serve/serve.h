/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/serve: the control core's run loop. It owns turning a validated config into a running data
 * plane (the EAL and ports through dp/io, the next hops and owned addresses, dp tables and lcores),
 * the control core's own polling (io's exception path: ARP, ND, neighbour resolution; the lcores'
 * slow rings), the signals (SIGINT/SIGTERM stop, SIGUSR1 prints the counters) and an orderly stop.
 *
 * What the slow path will do (TCP, recursion, private hosted zones, auto-defined names,
 * delegation) is not built yet: queries the lcores hand over are answered SERVFAIL here and
 * counted by the kind of entry that governed them, so a client never waits on them.
 */
#ifndef VPCDNS_CTL_SERVE_H
#define VPCDNS_CTL_SERVE_H

#include <stdbool.h>

#include "ctl/config/config.h"

struct serve_options {
	const char *file_prefix; /* EAL --file-prefix; NULL: per process */
	bool no_huge;		 /* never use hugepages, even when they are free */
	unsigned run_seconds;	 /* stop by itself after this long (0: until a signal) */
};

/* Runs until SIGINT or SIGTERM (or run_seconds). Returns the process exit status: 0 after an
 * orderly stop, 1 when the data plane could not be brought up (the reason on stderr). */
int serve_run(const struct config *cfg, const struct serve_options *opts);

#endif
