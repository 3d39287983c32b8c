/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench/pipeline child processes: the DUT (this binary again) and dpdk-testpmd, each with its
 * stdin and stdout on pipes, so the generator can tell it when a run ends and read its figures.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench/pipeline/bench.h"

bool child_start(struct child *c, char *const argv[], const char *errpath)
{
	int in[2], out[2];
	if (pipe(in) || pipe(out))
		return false;
	fflush(NULL);
	c->pid = fork();
	if (c->pid < 0)
		return false;
	if (c->pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		if (errpath) {
			int fd = open(errpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
			if (fd >= 0)
				dup2(fd, 2);
		}
		close(in[1]);
		close(out[0]);
		execv(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	c->in = fdopen(in[1], "w");
	c->out = fdopen(out[0], "r");
	return c->in && c->out;
}

int child_finish(struct child *c, char *buf, size_t len)
{
	size_t used = 0, n;
	if (c->in)
		fclose(c->in);
	c->in = NULL;
	while (used + 1 < len && (n = fread(buf + used, 1, len - 1 - used, c->out)) > 0)
		used += n;
	buf[used] = '\0';
	fclose(c->out);
	c->out = NULL;
	int status;
	while (waitpid(c->pid, &status, 0) < 0 && errno == EINTR)
		;
	c->pid = 0;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void child_kill(struct child *c)
{
	if (c->pid <= 0)
		return;
	kill(c->pid, SIGTERM);
	for (int i = 0; i < 50; i++) {
		if (waitpid(c->pid, NULL, WNOHANG) == c->pid) {
			c->pid = 0;
			break;
		}
		nanosleep(&(struct timespec){.tv_nsec = 100000000}, NULL);
	}
	if (c->pid > 0) {
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		c->pid = 0;
	}
	if (c->in)
		fclose(c->in);
	if (c->out)
		fclose(c->out);
	c->in = c->out = NULL;
}
