/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/config errors: collects every problem found in a config as "FILE:LINE: CONTEXT: MESSAGE", up
 * to a cap, so the operator sees them all in one run instead of fixing one per run.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/config/internal.h"

void config_error_add(struct config_errors *errs, const char *file, unsigned line,
		      const char *context, const char *fmt, ...)
{
	if (errs->count == CONFIG_MAX_ERRORS) {
		errs->dropped++;
		return;
	}
	char message[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);

	struct config_error *e = &errs->list[errs->count++];
	e->file = strdup(file ? file : "?");
	e->line = line;
	if (context && context[0]) {
		size_t n = strlen(context) + strlen(message) + 3;
		e->text = malloc(n);
		if (e->text)
			snprintf(e->text, n, "%s: %s", context, message);
	} else {
		e->text = strdup(message);
	}
}

void config_errors_print(const struct config_errors *errs, FILE *out)
{
	for (size_t i = 0; i < errs->count; i++) {
		const struct config_error *e = &errs->list[i];
		if (e->line)
			fprintf(out, "%s:%u: %s\n", e->file, e->line, e->text ? e->text : "");
		else
			fprintf(out, "%s: %s\n", e->file, e->text ? e->text : "");
	}
	if (errs->dropped)
		fprintf(out, "... and %zu more errors (only the first %d are shown)\n",
			errs->dropped, CONFIG_MAX_ERRORS);
}

void config_errors_free(struct config_errors *errs)
{
	for (size_t i = 0; i < errs->count; i++) {
		free(errs->list[i].file);
		free(errs->list[i].text);
	}
	errs->count = 0;
	errs->dropped = 0;
}
