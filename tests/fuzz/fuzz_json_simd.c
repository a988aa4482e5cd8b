// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the JSON machine's SIMD fast path against the
 * byte-wise machine.  The fast path only runs on pieces of 256 bytes or
 * more, so the input is made long: repeated to 300 bytes or more, after 256
 * to 319 spaces (and at times before 100 more), and repeated as lines.  Each
 * is run as json and as jsonl (whole content and record mode), fed whole,
 * cut in two and in pieces of 256 bytes or more (sizes and cut taken from
 * the data), with the fast path off and on: both must give the same
 * verdict, offset, line and reason, and the same records, or abort().
 */
#include "config.h"

#include "core/format.h"
#include "core/format_json_internal.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The fast path's minimum piece: made long inputs are at least this. */
#define MADE_MIN 300

struct record {
	uint64_t start;
	uint64_t end;
	bool valid;
	struct format_error err;
};

struct result {
	int ret;
	struct format_error err;
	struct record *r;	/* jsonl record mode */
	size_t n;
	size_t max;
};

/* How content is fed: @first bytes first (0: none), then @piece (0: all). */
struct plan {
	size_t first;
	size_t piece;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_record(void *ctx, uint64_t start, uint64_t end,
		      const struct format_error *err)
{
	struct result *res = ctx;
	struct record *r;

	if (res->n == res->max)
		abort();
	r = &res->r[res->n++];
	r->start = start;
	r->end = end;
	r->valid = !err;
	if (err)
		r->err = *err;
}

static int feed_all(const struct format_ops *ops, void *st,
		    const uint8_t *buf, size_t len, struct plan p)
{
	int fed = 0;

	for (size_t off = 0; off < len;) {
		size_t n = len - off;
		int ret;

		if (off == 0 && p.first)
			n = p.first < n ? p.first : n;
		else if (p.piece && p.piece < n)
			n = p.piece;
		ret = ops->feed(st, buf + off, n);
		/* -ENOMEM is the only other answer, and never expected. */
		if ((ret && ret != -EINVAL) || (fed && ret != -EINVAL))
			abort();
		fed = ret;
		off += n;
	}
	return fed;
}

/* Whole-content mode, and record mode for jsonl (res->r has room). */
static void run(const struct format_ops *ops, void *st, const uint8_t *buf,
		size_t len, struct plan p, struct result *res)
{
	struct format_error unused;
	int fed;

	if (ops->init(st, NULL, NULL))
		abort();
	fed = feed_all(ops, st, buf, len, p);
	res->ret = ops->finish(st, &res->err);
	if ((res->ret && res->ret != -EINVAL) || (fed && !res->ret))
		abort();
	ops->release(st);
	res->n = 0;
	if (!ops->has_records)
		return;
	if (ops->init(st, on_record, res))
		abort();
	if (feed_all(ops, st, buf, len, p))
		abort();
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
	if (a->n != b->n)
		abort();
	for (size_t i = 0; i < a->n; i++) {
		const struct record *x = &a->r[i], *y = &b->r[i];

		if (x->start != y->start || x->end != y->end ||
		    x->valid != y->valid ||
		    (!x->valid && !same_error(&x->err, &y->err)))
			abort();
	}
}

/* @buf as json and as jsonl, fed as @p, with the fast path off and on. */
static void compare(void *st, const uint8_t *buf, size_t len, struct plan p,
		    struct result *off, struct result *on)
{
	static const struct format_ops *const ops[] = {
		&format_json_ops, &format_jsonl_ops,
	};

	for (size_t k = 0; k < 2; k++) {
		format_json_simd_enable(false);
		run(ops[k], st, buf, len, p, off);
		format_json_simd_enable(true);
		run(ops[k], st, buf, len, p, on);
		check_same(off, on);
	}
}

/* @buf fed whole, cut in two at a point and in pieces both from @data. */
static void compare_plans(void *st, const uint8_t *buf, size_t len,
			  const uint8_t *data, size_t size,
			  struct result *off, struct result *on)
{
	struct plan p = { 0, 0 };

	compare(st, buf, len, p, off, on);
	p.first = ((size_t)data[0] * 257 + data[size - 1]) % len + 1;
	compare(st, buf, len, p, off, on);
	p.first = 0;
	p.piece = 256 + ((size_t)data[size / 2] * 3 + size) % 300;
	compare(st, buf, len, p, off, on);
}

/* Appends @n bytes of @src to @buf at *@len. */
static void append(uint8_t *buf, size_t *len, const void *src, size_t n)
{
	memcpy(buf + *len, src, n);
	*len += n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The longest made input: 319 + @size + 100 bytes. */
	size_t max_len = size + 420, max_recs = max_len + 1, len, lead, trail;
	size_t state_size = format_json_ops.state_size;
	uint8_t *buf;
	void *st;
	struct record *recs = calloc(2 * max_recs, sizeof(*recs));
	struct result off = { .max = max_recs }, on = { .max = max_recs };

	if (format_jsonl_ops.state_size > state_size)
		state_size = format_jsonl_ops.state_size;
	st = malloc(state_size);
	buf = malloc(max_len);
	if (!st || !buf || !recs || !size)
		goto out;
	if (!format_json_simd_supported())
		goto out;
	off.r = recs;
	on.r = recs + max_recs;

	/* Repeated as is, to 300 bytes or more. */
	len = 0;
	do
		append(buf, &len, data, size);
	while (len < MADE_MIN);
	compare_plans(st, buf, len, data, size, &off, &on);

	/* After 256 to 319 spaces, at times before 100 more. */
	lead = 256 + data[0] % 64;
	trail = data[size - 1] & 1 ? 100 : 0;
	memset(buf, ' ', lead);
	len = lead;
	append(buf, &len, data, size);
	memset(buf + len, ' ', trail);
	len += trail;
	compare_plans(st, buf, len, data, size, &off, &on);

	/* As lines, to 300 bytes or more. */
	len = 0;
	do {
		append(buf, &len, data, size);
		append(buf, &len, "\n", 1);
	} while (len < MADE_MIN);
	compare_plans(st, buf, len, data, size, &off, &on);
out:
	free(recs);
	free(buf);
	free(st);
	return 0;
}
