// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the record line (core/record.c) on arbitrary bytes.
 * Whatever record_parse() accepts must survive record_format() and a
 * second record_parse() unchanged, field by field (the sum only when
 * has_sum), or abort().
 */
#include "config.h"

#include "core/record.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool same(const struct record *a, const struct record *b)
{
	if (a->format != b->format || a->state != b->state ||
	    a->size != b->size || a->mtime_sec != b->mtime_sec ||
	    a->mtime_nsec != b->mtime_nsec || a->ino != b->ino ||
	    a->has_sum != b->has_sum)
		return false;
	return !a->has_sum ||
	       (a->sum.high == b->sum.high && a->sum.low == b->sum.low);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A copy of exactly @size bytes, so ASan sees any read past them. */
	char *copy = malloc(size ? size : 1);
	char buf[RECORD_TEXT_MAX];
	struct record r, back;
	size_t len;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	if (record_parse(copy, size, &r) < 0) {
		free(copy);
		return 0;
	}
	free(copy);
	if (r.mtime_nsec > 999999999)
		abort();
	len = record_format(&r, buf);
	if (len == 0 || len >= RECORD_TEXT_MAX || buf[len] != '\0' ||
	    strlen(buf) != len)
		abort();
	if (record_parse(buf, len, &back) < 0)
		abort();
	if (!same(&r, &back))
		abort();
	return 0;
}
