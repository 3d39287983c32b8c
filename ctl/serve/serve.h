/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/serve: the control core's run loop. It owns turning a validated config into a running data
 * plane (the EAL and ports through dp/io, the next hops and owned addresses, dp tables with the
 * zones' static answers compiled in, and lcores), the control core's own polling (io's exception
 * path: ARP, ND, neighbour resolution; the lcores' slow rings), the signals (SIGINT/SIGTERM stop,
 * SIGUSR1 prints the counters) and an orderly stop.
 *
 * The slow path runs on the control core's libevent loop: the kernel behind the TAPs (ctl/kernel),
 * DNS over TCP for clients (ctl/tcpserve), and every query the lcores hand over or a TCP client
 * asks goes through ctl/slow (zones, targets over the kernel's sockets, recursion, delegation,
 * CNAME chasing), counted by the kind of entry that governed it.
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
