/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * recurse_probe: ctl/recurse from the command line, for tests/lab/lab_recurse.sh. Resolves each
 * NAME (type A) from the root in HINTS, leaving from SOURCE on a UDP port in PORTS, all at once on
 * one event loop, and prints one line per name as it completes, then the counters:
 *
 *   NAME STATUS RCODE A-ADDRESS...     (STATUS: resolved, failed, timed_out; RCODE: 0, 3 ...)
 *   counters NAME=VALUE ...
 *
 * Usage: recurse_probe HINTS SOURCE LOW-HIGH TIMEOUT_MS NAME...
 */
#include <arpa/inet.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/recurse/recurse.h"
#include "dp/wire/wire.h"
#include "../unit/recurse/wire_name.h"

#define MAX_RECORDS 32

static struct event_base *base;
static int pending;

static void print_answer(void *arg, enum recurse_status status, const uint8_t *answer, size_t len)
{
	static const char *const statuses[] = {"resolved", "failed", "timed_out"};
	struct wire_dns_msg m;
	struct wire_rr rrs[MAX_RECORDS];
	size_t n = 0;
	if (wire_dns_parse_response(answer, len, &m, rrs, MAX_RECORDS, &n) != WIRE_OK) {
		printf("%s %s unparsable\n", (const char *)arg, statuses[status]);
	} else {
		printf("%s %s %u", (const char *)arg, statuses[status], WIRE_RCODE(m.flags));
		for (size_t i = 0; i < n && i < MAX_RECORDS; i++) {
			char text[INET_ADDRSTRLEN];
			if (rrs[i].section == WIRE_SEC_ANSWER && rrs[i].type == 1 &&
			    rrs[i].rdata_len == 4 &&
			    inet_ntop(AF_INET, answer + rrs[i].rdata_off, text, sizeof(text)))
				printf(" %s", text);
		}
		printf("\n");
	}
	fflush(stdout);
	if (--pending == 0)
		event_base_loopbreak(base);
}

int main(int argc, char **argv)
{
	unsigned low, high;
	if (argc < 6 || sscanf(argv[3], "%u-%u", &low, &high) != 2) {
		fprintf(stderr, "usage: recurse_probe HINTS SOURCE LOW-HIGH TIMEOUT_MS NAME...\n");
		return 2;
	}
	const char *const source[] = {argv[2]};
	struct recurse_params p = {
	    .root_hints = argv[1],
	    .source_addresses = source,
	    .n_source_addresses = 1,
	    .source_port_min = (uint16_t)low,
	    .source_port_max = (uint16_t)high,
	    .cache_max_bytes = 4u << 20,
	    .max_inflight = 64,
	    .timeout_ms = (uint32_t)atoi(argv[4]),
	    .qname_minimisation = true,
	};
	struct event_config *cfg = event_config_new();
	event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
	base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	char err[256];
	struct recurse *r = base ? recurse_create(base, &p, err, sizeof(err)) : NULL;
	if (!r) {
		fprintf(stderr, "recurse_probe: %s\n", base ? err : "no event base");
		return 1;
	}
	for (int i = 5; i < argc; i++) {
		uint8_t name[WIRE_NAME_MAX];
		size_t len = to_wire(argv[i], name);
		if (recurse_resolve(r, name, len, 1, WIRE_CLASS_IN, print_answer, argv[i]))
			pending++;
		else
			printf("%s refused\n", argv[i]);
	}
	if (pending)
		event_base_dispatch(base);
	printf("counters");
	for (int c = 0; c < RECURSE__COUNTERS; c++)
		printf(" %s=%llu", recurse_counter_name(c),
		       (unsigned long long)recurse_counter(r, c));
	printf("\n");
	recurse_destroy(r);
	event_base_free(base);
	return 0;
}
