// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: the CSV and TSV validators (core/format_csv.c).  The
 * first byte picks the format (bit 0) and where to cut the content (the
 * rest of the input) in two.  Both modes run whole, cut in two and, for
 * short content, byte by byte, and must agree on the verdict, the error's
 * offset, line and reason, and the records.  The records must tile the
 * content, and the first bad one must carry the whole-content error.  The
 * verdict must be the reference's: libcsv in strict mode fed byte by byte
 * for CSV, a plain split on newlines and tabs for TSV.  abort() on a
 * mismatch.
 */
#include "config.h"

#include "core/format.h"
#include "tests/csv_reference.h"

#include <csv.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BYTEWISE_MAX 256

struct rec {
	uint64_t start;
	uint64_t end;
	bool bad;
	struct format_error err;
};

struct run {
	int ret;
	struct format_error err;
	size_t n;
	size_t cap;
	struct rec *recs;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what)
{
	fprintf(stderr, "fuzz_csv: %s\n", what);
	abort();
}

static void on_record(void *ctx, uint64_t start, uint64_t end,
		      const struct format_error *err)
{
	struct run *r = ctx;
	struct rec *rec;

	if (r->n == r->cap)
		fail("more records than bytes");
	rec = &r->recs[r->n++];
	rec->start = start;
	rec->end = end;
	rec->bad = err != NULL;
	if (err)
		rec->err = *err;
	else
		memset(&rec->err, 0, sizeof(rec->err));
}

/* Feeds @in cut at @cut (0: uncut), in pieces of at most @step (0: any). */
static void run_ops(const struct format_ops *ops, void *state,
		    const uint8_t *in, size_t len, size_t cut, size_t step,
		    bool records, struct run *r)
{
	size_t i = 0;
	int fed = 0;

	r->n = 0;
	memset(&r->err, 0, sizeof(r->err));
	if (ops->init(state, records ? on_record : NULL, r))
		fail("init failed");
	while (i < len) {
		size_t n = len - i;

		if (i < cut && cut - i < n)
			n = cut - i;
		if (step && n > step)
			n = step;
		int ret = ops->feed(state, in + i, n);
		if (ret && (records || ret != -EINVAL))
			fail("feed returned an unexpected value");
		if (fed && !ret)
			fail("feed returned 0 after -EINVAL");
		fed = ret;
		i += n;
	}
	r->ret = ops->finish(state, &r->err);
	if ((records && r->ret) || (fed && r->ret != -EINVAL))
		fail("finish returned an unexpected value");
	ops->release(state);
}

static bool err_eq(const struct format_error *a, const struct format_error *b)
{
	return a->offset == b->offset && a->line == b->line && a->reason &&
	       b->reason && strcmp(a->reason, b->reason) == 0;
}

static void same(const struct run *a, const struct run *b, const char *what)
{
	if (a->ret != b->ret || (a->ret && !err_eq(&a->err, &b->err)) ||
	    a->n != b->n)
		fail(what);
	for (size_t i = 0; i < a->n; i++) {
		const struct rec *x = &a->recs[i], *y = &b->recs[i];

		if (x->start != y->start || x->end != y->end ||
		    x->bad != y->bad || (x->bad && !err_eq(&x->err, &y->err)))
			fail(what);
	}
}

static void ref_csv(struct ref *r)
{
	if (ref_csv_run(r))
		fail("csv_init failed");
}

/* The reference for TSV: split on newlines, then on tabs. */
static void ref_tsv(struct ref *r)
{
	while (r->row_start < r->len && !r->bad) {
		const uint8_t *nl = memchr(r->in + r->row_start, '\n',
					   r->len - r->row_start);
		size_t stop = nl ? (size_t)(nl - r->in) : r->len, term = stop;
		size_t fields = 1;

		if (nl && stop > r->row_start && r->in[stop - 1] == '\r')
			term = stop - 1;
		for (size_t i = r->row_start; i < term && !r->bad; i++) {
			if (r->in[i] == '\r')
				ref_fail(r, i,
					 "carriage return without line feed");
			fields += r->in[i] == '\t';
		}
		if (!r->bad)
			ref_row(r, fields, term, nl ? stop + 1 : r->len);
	}
}

static void check_records(const struct run *rec, const struct run *whole,
			  size_t len)
{
	const struct rec *first_bad = NULL;
	uint64_t at = 0;

	for (size_t i = 0; i < rec->n; i++) {
		if (rec->recs[i].start != at || rec->recs[i].end <= at)
			fail("records do not tile the content");
		at = rec->recs[i].end;
		if (rec->recs[i].bad && !first_bad)
			first_bad = &rec->recs[i];
	}
	if (at != len)
		fail("records do not reach the end");
	if ((first_bad != NULL) != (whole->ret != 0) ||
	    (first_bad && !err_eq(&first_bad->err, &whole->err)))
		fail("records and whole content disagree");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct format_ops *ops;
	struct run a = { 0 }, b = { 0 };
	struct ref ref = { 0 };
	const uint8_t *in;
	size_t len, cut;
	void *state;

	if (size == 0)
		return 0;
	ops = data[0] & 1 ? &format_tsv_ops : &format_csv_ops;
	in = data + 1;
	len = size - 1;
	cut = len ? (size_t)(data[0] >> 1) * 2654435761u % (len + 1) : 0;
	state = malloc(ops->state_size);
	a.recs = calloc(len + 1, sizeof(*a.recs));
	b.recs = calloc(len + 1, sizeof(*b.recs));
	if (!state || !a.recs || !b.recs)
		goto out_free;
	a.cap = b.cap = len + 1;

	run_ops(ops, state, in, len, 0, 0, false, &a);
	run_ops(ops, state, in, len, cut, 0, false, &b);
	same(&a, &b, "whole content: cut in two differs");
	if (len <= BYTEWISE_MAX) {
		run_ops(ops, state, in, len, 0, 1, false, &b);
		same(&a, &b, "whole content: byte by byte differs");
	}
	ref.in = in;
	ref.len = len;
	if (ops == &format_csv_ops)
		ref_csv(&ref);
	else
		ref_tsv(&ref);
	if (ref.bad != (a.ret != 0) || (ref.bad && !err_eq(&ref.err, &a.err)))
		fail("the reference disagrees");

	run_ops(ops, state, in, len, 0, 0, true, &b);
	check_records(&b, &a, len);
	a.n = 0;
	run_ops(ops, state, in, len, cut, 0, true, &a);
	same(&b, &a, "records: cut in two differs");
	if (len <= BYTEWISE_MAX) {
		run_ops(ops, state, in, len, 0, 1, true, &a);
		same(&b, &a, "records: byte by byte differs");
	}
out_free:
	free(b.recs);
	free(a.recs);
	free(state);
	return 0;
}
