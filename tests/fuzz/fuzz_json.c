// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the strict JSON validator (format_json_ops) on
 * arbitrary bytes.  The content is fed whole, cut in two at a point taken
 * from the data, in pieces of 1 to 8 bytes, and one byte at a time when
 * short: every way must give the same verdict, offset, line and reason,
 * and the line must be 1 + the newlines before the offset, or abort().
 */
#include "config.h"

#include "core/format.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Inputs up to this size are also fed one byte at a time. */
#define BYTEWISE_MAX 1024

struct verdict {
	int ret;
	struct format_error err;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Feeds @size bytes: @first bytes first (0: none special), then @piece. */
static struct verdict run(void *st, const uint8_t *data, size_t size,
			  size_t first, size_t piece)
{
	const struct format_ops *ops = &format_json_ops;
	struct verdict v = { 0 };
	int fed = 0;

	if (ops->init(st, NULL, NULL))
		abort();
	for (size_t off = 0; off < size;) {
		size_t n = size - off;
		int ret;

		if (off == 0 && first)
			n = first < n ? first : n;
		else if (piece && piece < n)
			n = piece;
		ret = ops->feed(st, data + off, n);
		/* -ENOMEM is the only other answer, and never expected. */
		if ((ret && ret != -EINVAL) || (fed && ret != -EINVAL))
			abort();
		fed = ret;
		off += n;
	}
	v.ret = ops->finish(st, &v.err);
	if (v.ret && v.ret != -EINVAL)
		abort();
	if (fed && !v.ret)
		abort();
	ops->release(st);
	return v;
}

static void check_same(const struct verdict *a, const struct verdict *b)
{
	if (a->ret != b->ret)
		abort();
	if (a->ret && (a->err.offset != b->err.offset ||
		       a->err.line != b->err.line ||
		       strcmp(a->err.reason, b->err.reason)))
		abort();
}

static void check_sane(const struct verdict *v, const uint8_t *data,
		       size_t size)
{
	uint64_t line = 1;

	if (!v->ret)
		return;
	if (v->err.offset > size || !v->err.reason || !*v->err.reason)
		abort();
	for (size_t i = 0; i < v->err.offset; i++)
		line += data[i] == '\n';
	if (v->err.line != line)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *st = malloc(format_json_ops.state_size);
	struct verdict whole, v;
	size_t cut;

	if (!st)
		return 0;
	whole = run(st, data, size, 0, 0);
	check_sane(&whole, data, size);
	cut = size ? ((size_t)data[0] * 257 + data[size - 1]) % size + 1 : 0;
	v = run(st, data, size, cut, 0);
	check_same(&whole, &v);
	v = run(st, data, size, 0, size ? 1 + data[size / 2] % 8 : 0);
	check_same(&whole, &v);
	if (size <= BYTEWISE_MAX) {
		v = run(st, data, size, 0, 1);
		check_same(&whole, &v);
	}
	free(st);
	return 0;
}
