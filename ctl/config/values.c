/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ctl/config values: parses and checks the scalar forms a config holds (addresses, CIDR prefixes,
 * address[:port] targets, domain names, DPDK device strings). Each failure comes with a phrase that
 * says what is wrong and what would be right, for the caller to put behind FILE:LINE and the
 * object's name.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/config/internal.h"

bool config_parse_addr(const char *text, struct config_addr *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->bytes) == 1) {
		out->family = 4;
		return true;
	}
	if (inet_pton(AF_INET6, text, out->bytes) == 1) {
		out->family = 6;
		return true;
	}
	return false;
}

void config_addr_format(const struct config_addr *addr, char *buf, size_t len)
{
	if (!inet_ntop(addr->family == 4 ? AF_INET : AF_INET6, addr->bytes, buf, (socklen_t)len))
		snprintf(buf, len, "?");
}

void config_prefix_format(const struct config_prefix *p, char *buf, size_t len)
{
	char a[INET6_ADDRSTRLEN];
	config_addr_format(&p->addr, a, sizeof(a));
	snprintf(buf, len, "%s/%u", a, p->len);
}

bool config_addr_equal(const struct config_addr *a, const struct config_addr *b)
{
	return a->family == b->family && memcmp(a->bytes, b->bytes, a->family == 4 ? 4 : 16) == 0;
}

/* True when the first bits of a and b agree. */
static bool same_leading_bits(const uint8_t *a, const uint8_t *b, unsigned bits)
{
	unsigned whole = bits / 8, rest = bits % 8;
	if (memcmp(a, b, whole) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t mask = (uint8_t)(0xff << (8 - rest));
	return (a[whole] & mask) == (b[whole] & mask);
}

bool config_prefix_contains(const struct config_prefix *p, const struct config_addr *a)
{
	return p->addr.family == a->family && same_leading_bits(p->addr.bytes, a->bytes, p->len);
}

bool config_prefixes_overlap(const struct config_prefix *a, const struct config_prefix *b)
{
	if (a->addr.family != b->addr.family)
		return false;
	unsigned shorter = a->len < b->len ? a->len : b->len;
	return same_leading_bits(a->addr.bytes, b->addr.bytes, shorter);
}

static bool parse_uint(const char *text, unsigned long max, unsigned long *out)
{
	if (!isdigit((unsigned char)text[0]))
		return false;
	errno = 0;
	char *end;
	unsigned long v = strtoul(text, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

bool config_parse_prefix(const char *text, struct config_prefix *out, char *why, size_t whylen)
{
	char addr[INET6_ADDRSTRLEN + 1];
	const char *slash = strchr(text, '/');
	size_t alen = slash ? (size_t)(slash - text) : strlen(text);
	if (!slash) {
		snprintf(
		    why, whylen,
		    "CIDR '%s' has no prefix length (write it as ADDRESS/LENGTH, e.g. 10.0.0.0/16)",
		    text);
		return false;
	}
	bool fits = alen < sizeof(addr);
	if (fits) {
		memcpy(addr, text, alen);
		addr[alen] = 0;
	}
	if (!fits || !config_parse_addr(addr, &out->addr)) {
		snprintf(why, whylen, "CIDR '%s': '%.*s' is not an IPv4 or IPv6 address", text,
			 (int)alen, text);
		return false;
	}
	unsigned max = out->addr.family == 4 ? 32 : 128;
	unsigned long len;
	if (!parse_uint(slash + 1, max, &len)) {
		snprintf(why, whylen, "CIDR '%s': prefix length '%s' is not a number in 0..%u",
			 text, slash + 1, max);
		return false;
	}
	out->len = (uint8_t)len;
	struct config_prefix network = *out;
	unsigned bytes = max / 8;
	for (unsigned bit = out->len; bit < bytes * 8; bit++)
		network.addr.bytes[bit / 8] &= (uint8_t) ~(0x80 >> (bit % 8));
	if (!config_addr_equal(&network.addr, &out->addr)) {
		char net[64];
		config_prefix_format(&network, net, sizeof(net));
		snprintf(why, whylen, "CIDR '%s' has host bits set past /%u (the network is %s)",
			 text, out->len, net);
		return false;
	}
	return true;
}

/* Splits "[v6]:port", "v4:port", "v4" or "v6" into address text and port text (NULL when absent).
 */
static bool split_target(const char *text, char *addr, size_t addrlen, const char **port)
{
	*port = NULL;
	const char *start = text, *end;
	if (text[0] == '[') {
		start = text + 1;
		end = strchr(start, ']');
		if (!end || (end[1] != 0 && end[1] != ':'))
			return false;
		if (end[1] == ':')
			*port = end + 2;
	} else {
		const char *colon = strchr(text, ':');
		bool one_colon = colon && !strchr(colon + 1, ':');
		end = one_colon ? colon : text + strlen(text);
		if (one_colon)
			*port = colon + 1;
	}
	size_t n = (size_t)(end - start);
	if (n >= addrlen)
		return false;
	memcpy(addr, start, n);
	addr[n] = 0;
	return true;
}

bool config_parse_target(const char *text, struct config_target *out, char *why, size_t whylen)
{
	char addr[INET6_ADDRSTRLEN + 8];
	const char *port;
	out->port = 53;
	if (!split_target(text, addr, sizeof(addr), &port) ||
	    !config_parse_addr(addr, &out->addr)) {
		snprintf(
		    why, whylen,
		    "target '%s' is not an IPv4 or IPv6 address (write ADDRESS, ADDRESS:PORT or "
		    "[IPV6]:PORT)",
		    text);
		return false;
	}
	if (text[0] == '[' && out->addr.family == 4) {
		snprintf(why, whylen, "target '%s': brackets are for IPv6 addresses only", text);
		return false;
	}
	if (port) {
		unsigned long p;
		if (!parse_uint(port, 65535, &p) || p == 0) {
			snprintf(why, whylen, "target '%s': port '%s' is not a number in 1..65535",
				 text, port);
			return false;
		}
		out->port = (uint16_t)p;
	}
	return true;
}

static bool is_label_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '_';
}

bool config_parse_domain(const char *text, char *out, char *why, size_t whylen)
{
	size_t len = strlen(text);
	if (strcmp(text, ".") == 0) {
		strcpy(out, ".");
		return true;
	}
	if (len > 0 && text[len - 1] == '.')
		len--;
	if (len == 0 || len > 253) {
		snprintf(why, whylen, "domain '%s' must have 1 to 253 characters (or be \".\")",
			 text);
		return false;
	}
	size_t label = 0;
	for (size_t i = 0; i <= len; i++) {
		char c = i < len ? text[i] : '.';
		if (c == '.') {
			if (label == 0 || label > 63) {
				snprintf(why, whylen,
					 "domain '%s' has a label of %zu characters (labels have 1 "
					 "to 63)",
					 text, label);
				return false;
			}
			label = 0;
		} else if (!is_label_char(c)) {
			snprintf(
			    why, whylen,
			    "domain '%s' has the character '%c' (labels hold letters, digits, '-' "
			    "and '_')",
			    text, c);
			return false;
		} else {
			label++;
		}
		out[i] = (char)tolower((unsigned char)c);
	}
	out[len] = 0;
	return true;
}

static bool is_hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* "0000:3b:00.0" or "3b:00.0", up to the first comma. */
static bool is_pci_address(const char *s, size_t n)
{
	if (n == 12 && s[4] == ':' && is_hex_run(s, 4))
		s += 5, n -= 5;
	return n == 7 && is_hex_run(s, 2) && s[2] == ':' && is_hex_run(s + 3, 2) && s[5] == '.' &&
	       s[6] >= '0' && s[6] <= '7';
}

/* Checks ",key=value,key=value"; commas inside brackets belong to the value. */
static bool check_device_args(const char *args, char *why, size_t whylen)
{
	while (*args == ',') {
		const char *key = ++args;
		while (isalnum((unsigned char)*args) || *args == '_' || *args == '-')
			args++;
		if (args == key || *args != '=') {
			snprintf(why, whylen, "argument '%.20s' is not key=value", key);
			return false;
		}
		const char *value = ++args;
		int depth = 0;
		for (; *args && (depth > 0 || *args != ','); args++) {
			depth += (*args == '[' || *args == '(') - (*args == ']' || *args == ')');
			if (isspace((unsigned char)*args))
				break;
		}
		if (args == value || (*args && *args != ',')) {
			snprintf(why, whylen, "argument '%.*s' has an empty value or a space",
				 (int)(args - key), key);
			return false;
		}
	}
	if (*args) {
		snprintf(why, whylen, "unexpected '%s' after the device name", args);
		return false;
	}
	return true;
}

bool config_check_device(const char *text, char *why, size_t whylen)
{
	size_t name_len = strcspn(text, ",");
	bool vdev = strncmp(text, "net_", 4) == 0 && name_len > 4;
	for (size_t i = 0; vdev && i < name_len; i++)
		vdev = isalnum((unsigned char)text[i]) || text[i] == '_';
	if (!vdev && !is_pci_address(text, name_len)) {
		snprintf(why, whylen,
			 "device '%s' is neither a PCI address (0000:3b:00.0) nor a virtual device "
			 "(net_<driver><n>, e.g. net_af_xdp0,iface=eth1)",
			 text);
		return false;
	}
	char inner[200];
	if (!check_device_args(text + name_len, inner, sizeof(inner))) {
		snprintf(why, whylen, "device '%s': %s", text, inner);
		return false;
	}
	return true;
}

bool config_parse_mac(const char *text, uint8_t mac[6])
{
	unsigned octets[6];
	char sep[5], tail;
	int n = sscanf(text, "%2x%c%2x%c%2x%c%2x%c%2x%c%2x%c", &octets[0], &sep[0], &octets[1],
		       &sep[1], &octets[2], &sep[2], &octets[3], &sep[3], &octets[4], &sep[4],
		       &octets[5], &tail);
	if (n != 11 || strlen(text) != 17)
		return false;
	for (int i = 0; i < 5; i++)
		if (sep[i] != sep[0] || (sep[i] != ':' && sep[i] != '-'))
			return false;
	for (int i = 0; i < 6; i++) {
		if (!isxdigit((unsigned char)text[3 * i]) ||
		    !isxdigit((unsigned char)text[3 * i + 1]))
			return false;
		mac[i] = (uint8_t)octets[i];
	}
	return true;
}

bool config_vpc_contains(const struct config_vpc *vpc, const struct config_addr *a)
{
	for (size_t i = 0; i < vpc->n_cidrs; i++)
		if (config_prefix_contains(&vpc->cidrs[i], a))
			return true;
	return false;
}

void config_addr_sockaddr(const struct config_addr *a, uint16_t port, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (a->family == 4) {
		struct sockaddr_in *in = (struct sockaddr_in *)out;
		in->sin_family = AF_INET;
		in->sin_port = htons(port);
		memcpy(&in->sin_addr, a->bytes, 4);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, a->bytes, 16);
	}
}
