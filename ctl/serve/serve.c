/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/serve: the control core's run loop: brings the data plane up from a validated config, polls
 * what only the control core does (io's exception path, the lcores' slow rings), handles signals,
 * and takes everything down in order. See serve.h.
 */
#include "ctl/serve/internal.h"

static volatile sig_atomic_t stop_requested, print_requested;

static void on_stop(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static void on_usr1(int sig)
{
	(void)sig;
	print_requested = 1;
}

static void print_counters(const struct server *s, FILE *out)
{
	dp_counters_print(s->plane, out);
	fprintf(out, "control core: mbufs: %u free of %u\n", rte_mempool_avail_count(s->pool),
		s->pool->size);
	for (size_t i = 0; i < s->cfg->n_interfaces; i++) {
		struct rte_eth_stats st;
		if (rte_eth_stats_get(s->port_of[i], &st) == 0)
			fprintf(out,
				"interface %s: ipackets %" PRIu64 " opackets %" PRIu64
				" imissed %" PRIu64 " ierrors %" PRIu64 " oerrors %" PRIu64
				" rx_nombuf %" PRIu64 "\n",
				s->cfg->interfaces[i].name, st.ipackets, st.opackets, st.imissed,
				st.ierrors, st.oerrors, st.rx_nombuf);
	}
	fprintf(out, "control core: slow rings:");
	for (int k = 0; k < MATCH_KIND_COUNT; k++)
		fprintf(out, " %s %" PRIu64, match_kind_name((enum match_kind)k),
			s->slow_by_kind[k]);
	fprintf(out, " tcp_fallback %" PRIu64 " refused %" PRIu64 " unanswerable %" PRIu64 "\n",
		s->tcp_fallbacks, s->slow_refused, s->slow_unanswerable);
	if (s->slow) {
		fprintf(out, "control core: slow path:");
		for (int c = 0; c < SLOW_C__COUNT; c++)
			fprintf(out, " %s %" PRIu64, slow_counter_name((enum slow_counter)c),
				slow_counter(s->slow, (enum slow_counter)c));
		fprintf(out, "\ncontrol core: upstream:");
		for (int c = 0; c < UPSTREAM_C__COUNT; c++)
			fprintf(out, " %s %" PRIu64,
				upstream_counter_name((enum upstream_counter)c),
				upstream_counter(s->upstream, (enum upstream_counter)c));
		fprintf(out, "\ncontrol core: tcp clients:");
		for (int c = 0; c < TCPSERVE_C__COUNT; c++)
			fprintf(out, " %s %" PRIu64,
				tcpserve_counter_name((enum tcpserve_counter)c),
				tcpserve_counter(s->tcp, (enum tcpserve_counter)c));
		fputc('\n', out);
	}
	if (s->recurse) {
		fprintf(out, "control core: recursion:");
		for (int c = 0; c < RECURSE__COUNTERS; c++)
			fprintf(out, " %s %" PRIu64, recurse_counter_name((enum recurse_counter)c),
				recurse_counter(s->recurse, (enum recurse_counter)c));
		fputc('\n', out);
	}
	fprintf(out, "control core: exception path:");
	for (int c = 0; c < IO_EXC__COUNT; c++)
		if (io_exc_count((enum io_exc_count)c))
			fprintf(out, " %s %" PRIu64, io_exc_count_name((enum io_exc_count)c),
				io_exc_count((enum io_exc_count)c));
	for (size_t i = 0; s->steer && i < s->cfg->n_interfaces; i++) {
		if (!s->steer[i])
			continue;
		fprintf(out, "\nxdp %s:", s->cfg->interfaces[i].name);
		for (int c = 0; c < STEER__COUNT; c++)
			fprintf(out, " %s %" PRIu64, steer_count_name((enum steer_count)c),
				steer_count(s->steer[i], (enum steer_count)c));
		fprintf(out,
			" kernel_neighbours_told %" PRIu64 " kernel_neighbours_failed %" PRIu64,
			s->heard_told, s->heard_failed);
	}
	fprintf(out, "\ncontrol core: neighbours:");
	for (int c = 0; c < IO_NEIGH_C__COUNT; c++)
		fprintf(out, " %s %" PRIu64, io_neigh_count_name((enum io_neigh_count)c),
			io_neigh_count(s->neigh, (enum io_neigh_count)c));
	fputc('\n', out);
	fflush(out);
}

static void control_loop(struct server *s, unsigned run_seconds)
{
	uint64_t started = now_ms();
	while (!stop_requested) {
		unsigned work = io_poll_exceptions(now_ms());
		for (unsigned l = 0; l < s->cfg->tunables.data_lcores; l++)
			work += drain_slow_ring(s, l);
		event_base_loop(s->base, EVLOOP_NONBLOCK);
		if (print_requested) {
			print_requested = 0;
			print_counters(s, stdout);
		}
		if (run_seconds && now_ms() - started >= run_seconds * 1000ull)
			break;
		if (!work) { /* nap until a socket or timer is due, or the nap is over */
			struct timeval nap = {0, IDLE_SLEEP_NS / 1000};
			event_base_loopexit(s->base, &nap);
			event_base_loop(s->base, EVLOOP_ONCE);
		}
	}
}

static void shut_down(struct server *s)
{
	if (s->plane) {
		dp_stop(s->plane);
		print_counters(s, stdout);
	}
	slow_free(s->slow);
	cache_free(s->slow_cache);
	tcpserve_free(s->tcp);
	if (s->recurse)
		recurse_destroy(s->recurse);
	upstream_free(s->upstream);
	if (s->base)
		event_base_free(s->base);
	dp_plane_free(s->plane); /* after the slow path: its jobs hold mbufs */
	io_exceptions_free();
	io_neigh_free(s->neigh);
	for (size_t i = 0; s->steer && i < s->cfg->n_interfaces; i++)
		steer_close(s->steer[i]);
	io_ports_close(); /* takes our XDP program off the NICs in XDP mode */
	io_eal_cleanup();
	if (s->kernel) {
		size_t left = kernel_undo(s->kernel);
		if (left)
			fprintf(stderr,
				"vpcdnsd: warning: %zu addresses or routes could not be taken off "
				"the shared interfaces\n",
				left);
	}
	kernel_close(s->kernel);
	free(s->vpc_link);
	free(s->endpoint_link);
	free(s->tap_device);
	free(s->xdp_device);
	free(s->steer);
	free(s->heard);
	free(s->port_of);
	free(s->ports);
	free(s->nexthops);
	free(s->dp_endpoint_of);
	free(s->forward_ids);
	free(s->rule_of_dp);
	free(s->dp_targets);
	local_free(s->local);
	config_tables_free(s->ct);
}

int serve_run(const struct config *cfg, const struct serve_options *opts)
{
	struct server s = {.cfg = cfg};
	signal(SIGINT, on_stop);
	signal(SIGTERM, on_stop);
	signal(SIGUSR1, on_usr1);
	bool eal = start_eal(&s, opts);
	struct dp_tables *tables = NULL;
	bool ok = eal && start_ports(&s) && (tables = build_tables(&s)) != NULL &&
		  define_nexthops(&s) && own_addresses(&s) && start_kernel(&s) &&
		  start_steering(&s) && start_neighbour_sync(&s);
	if (ok) {
		ok = start_plane(&s, tables);
		tables = NULL; /* start_plane took them */
		ok = ok && start_slow_path(&s);
	}
	if (!ok) {
		fprintf(stderr, "vpcdnsd: cannot start the data plane: %s\n",
			s.err[0] ? s.err : "out of memory");
		dp_tables_free(tables);
		if (eal)
			shut_down(&s);
		return 1;
	}
	printf("vpcdnsd: serving %zu VPCs with %u data lcores; SIGUSR1 prints counters, "
	       "SIGINT or SIGTERM stops\n",
	       cfg->n_vpcs, cfg->tunables.data_lcores);
	fflush(stdout);
	control_loop(&s, opts->run_seconds);
	shut_down(&s);
	return 0;
}
