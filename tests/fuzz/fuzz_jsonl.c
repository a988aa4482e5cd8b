// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the JSONL validator (format_jsonl_ops) on arbitrary
 * bytes, in whole-content mode and in record mode.  The content is fed
 * whole, cut in two at a point taken from the data, in pieces of 1 to 8
 * bytes, and one byte at a time when short: every way must give the same
 * verdict and the same records.  The records must tile the content line by
 * line, and the whole-content verdict must be the first invalid record's
 * error; else abort().
 */
#include "config.h"

#include "core/format.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Inputs up to this size are also fed one byte at a time. */
#define BYTEWISE_MAX 1024

struct record {
	uint64_t start;
	uint64_t end;
	bool valid;
	struct format_error err;
};

struct records {
	struct record *r;
	size_t n;
	size_t max;
};

struct result {
	int ret;
	struct format_error err;
	struct records recs;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_record(void *ctx, uint64_t start, uint64_t end,
		      const struct format_error *err)
{
	struct records *rs = ctx;
	struct record *r;

	if (rs->n == rs->max)
		abort();
	r = &rs->r[rs->n++];
	r->start = start;
	r->end = end;
	r->valid = !err;
	if (err)
		r->err = *err;
}

/*
 * Feeds @size bytes: @first bytes first (0: none), then @piece; returns the
 * last feed's result.
 */
static int feed_all(void *st, const uint8_t *data, size_t size, size_t first,
		    size_t piece, bool records)
{
	int fed = 0;

	for (size_t off = 0; off < size;) {
		size_t n = size - off;
		int ret;

		if (off == 0 && first)
			n = first < n ? first : n;
		else if (piece && piece < n)
			n = piece;
		ret = format_jsonl_ops.feed(st, data + off, n);
		if (records && ret)
			abort();
		if (!records && ((ret && ret != -EINVAL) ||
				 (fed && ret != -EINVAL)))
			abort();
		fed = ret;
		off += n;
	}
	return fed;
}

/* Both modes over @size bytes: @first bytes first (0: none), then @piece. */
static void run(void *st, const uint8_t *data, size_t size, size_t first,
		size_t piece, struct result *res)
{
	const struct format_ops *ops = &format_jsonl_ops;
	struct format_error unused;
	int fed;

	if (ops->init(st, NULL, NULL))
		abort();
	fed = feed_all(st, data, size, first, piece, false);
	res->ret = ops->finish(st, &res->err);
	if ((res->ret && res->ret != -EINVAL) || (fed && !res->ret))
		abort();
	ops->release(st);

	res->recs.n = 0;
	if (ops->init(st, on_record, &res->recs))
		abort();
	feed_all(st, data, size, first, piece, true);
	/* Record mode: the verdicts went to the callback. */
	if (ops->finish(st, &unused))
		abort();
	ops->release(st);
}

static bool same_error(const struct format_error *a,
		       const struct format_error *b)
{
	return a->offset == b->offset && a->line == b->line &&
	       !strcmp(a->reason, b->reason);
}

static void check_same(const struct result *a, const struct result *b)
{
	if (a->ret != b->ret || (a->ret && !same_error(&a->err, &b->err)))
		abort();
	if (a->recs.n != b->recs.n)
		abort();
	for (size_t i = 0; i < a->recs.n; i++) {
		const struct record *x = &a->recs.r[i], *y = &b->recs.r[i];

		if (x->start != y->start || x->end != y->end ||
		    x->valid != y->valid ||
		    (!x->valid && !same_error(&x->err, &y->err)))
			abort();
	}
}

/* The records tile the content, one per line, errors inside them. */
static void check_sane(const struct result *res, const uint8_t *data,
		       size_t size)
{
	const struct record *first_bad = NULL;
	uint64_t at = 0;

	for (size_t i = 0; i < res->recs.n; i++) {
		const struct record *r = &res->recs.r[i];
		const uint8_t *nl = memchr(data + at, '\n', size - at);
		uint64_t end = nl ? (uint64_t)(nl - data) + 1 : size;

		if (r->start != at || r->end != end || r->end <= r->start)
			abort();
		if (!r->valid && (r->err.offset < r->start ||
				  r->err.offset > r->end ||
				  r->err.line != i + 1 || !r->err.reason))
			abort();
		if (!r->valid && !first_bad)
			first_bad = r;
		at = end;
	}
	if (at != size)
		abort();
	if (!first_bad != !res->ret)
		abort();
	if (first_bad && !same_error(&first_bad->err, &res->err))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	void *st = malloc(format_jsonl_ops.state_size);
	struct record *buf = calloc(2 * (size + 1), sizeof(*buf));
	struct result whole = { .recs = { buf, 0, size + 1 } };
	struct result v = { .recs = { buf + size + 1, 0, size + 1 } };
	size_t cut;

	if (!st || !buf)
		goto out;
	run(st, data, size, 0, 0, &whole);
	check_sane(&whole, data, size);
	cut = size ? ((size_t)data[0] * 257 + data[size - 1]) % size + 1 : 0;
	run(st, data, size, cut, 0, &v);
	check_same(&whole, &v);
	run(st, data, size, 0, size ? 1 + data[size / 2] % 8 : 0, &v);
	check_same(&whole, &v);
	if (size <= BYTEWISE_MAX) {
		run(st, data, size, 0, 1, &v);
		check_same(&whole, &v);
	}
out:
	free(buf);
	free(st);
	return 0;
}
