// SPDX-License-Identifier: GPL-2.0-or-later
/* Output helpers: JSON strings, sizes, usage errors. */
#include "config.h"

#include "hydractl.h"

void out_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			/*
			 * Bytes >= 0x80 pass as they are: names are UTF-8 in
			 * practice; other bytes make the document invalid UTF-8,
			 * as the name itself is.
			 */
			if (*p < 0x20)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void out_size(uint64_t bytes, char *buf)
{
	static const char *const units[] = { "B", "kB", "MB", "GB", "TB", "PB" };
	double v = (double)bytes;
	unsigned int u = 0;

	while (v >= 1000 && u < sizeof(units) / sizeof(units[0]) - 1) {
		v /= 1000;
		u++;
	}
	if (u == 0)
		snprintf(buf, 16, "%llu B", (unsigned long long)bytes);
	else
		snprintf(buf, 16, "%.1f %s", v, units[u]);
}

int out_usage_error(const char *cmd)
{
	fprintf(stderr, "Try 'hydractl %s --help'.\n", cmd);
	return EXIT_USAGE;
}
