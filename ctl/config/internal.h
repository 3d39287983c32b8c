/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/config internals shared by its .c files (not part of the module's public face, config.h):
 * error collection, value parsers (addresses, prefixes, domain names, device strings), and the
 * stages of config_load after the YAML walk: reference resolution and semantic checks, and
 * zone-file loading.
 */
#ifndef VPCDNS_CTL_CONFIG_INTERNAL_H
#define VPCDNS_CTL_CONFIG_INTERNAL_H

#include "ctl/config/config.h"

#define CONFIG_PRINTF(a, b) __attribute__((format(printf, a, b)))

/* Records "FILE:LINE: CONTEXT: MESSAGE"; past the cap, only counts it. */
void config_error_add(struct config_errors *errs, const char *file, unsigned line,
		      const char *context, const char *fmt, ...) CONFIG_PRINTF(5, 6);

/* Value parsers: each returns true on success; on failure, fills why (a phrase saying what is
 * wrong). */
bool config_parse_addr(const char *text, struct config_addr *out);
bool config_parse_prefix(const char *text, struct config_prefix *out, char *why, size_t whylen);
bool config_parse_target(const char *text, struct config_target *out, char *why, size_t whylen);
/* Normalises into out (lower case, no trailing dot, "." for the root); out holds at least 256
 * bytes. */
bool config_parse_domain(const char *text, char *out, char *why, size_t whylen);
bool config_check_device(const char *text, char *why, size_t whylen);
/* "02:00:5e:10:00:01" (colons or dashes, either case) */
bool config_parse_mac(const char *text, uint8_t mac[6]);

bool config_addr_equal(const struct config_addr *a, const struct config_addr *b);
bool config_prefix_contains(const struct config_prefix *p, const struct config_addr *a);
bool config_prefixes_overlap(const struct config_prefix *a, const struct config_prefix *b);
/* A file named in the config: as written when absolute, else next to the config file. */
char *config_resolve_path(const char *config_path, const char *file);
void config_prefix_format(const struct config_prefix *p, char *buf, size_t len);

/* The label for an object in messages: "rule 'onprem'", or "rules[2]" when it has no id. */
void config_rule_label(const struct config_rule *r, char *buf, size_t len);

/* The stages of config_load, in order; each reports into errs. The YAML walk fills cfg (with
 * defaults) and returns false only when the file cannot be read as YAML at all. */
bool config_read_yaml(struct config *cfg, struct config_errors *errs);
void config_validate(struct config *cfg, struct config_errors *errs);
void config_load_zones(struct config *cfg, struct config_errors *errs);

#endif
