// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "core/format.h"
#include "tests/csv_reference.h"
#include "tests/unit/testutil.h"

#include <check.h>
#include <csv.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_RECS 64

/*
 * require() that costs nothing when it holds: check reports the place
 * of every passing assertion to its parent, a write() each.
 */
#define require(cond, ...)                                                     \
	do {                                                                   \
		if (!(cond))                                                   \
			ck_abort_msg(__VA_ARGS__);                             \
	} while (0)

struct rec {
	uint64_t start;
	uint64_t end;
	bool bad;
	struct format_error err;
};

/* What one run of a validator said. */
struct run {
	int ret;
	struct format_error err;
	size_t n;
	struct rec recs[N_RECS];
};

static void on_record(void *ctx, uint64_t start, uint64_t end,
		      const struct format_error *err)
{
	struct run *r = ctx;
	struct rec *rec;

	require(r->n < N_RECS, "too many records");
	rec = &r->recs[r->n++];
	rec->start = start;
	rec->end = end;
	rec->bad = err != NULL;
	if (err)
		rec->err = *err;
}

/*
 * Runs @ops over @len bytes of @in fed in pieces of @step bytes (0: at
 * once), in record mode if @records.  Every feed must return 0 in record
 * mode; in whole-content mode, 0 up to the error and -EINVAL from then on.
 */
static void run_ops(const struct format_ops *ops, const char *in, size_t len,
		    size_t step, bool records, struct run *r)
{
	void *state = malloc(ops->state_size);
	int fed = 0;

	require(state, "out of memory");
	memset(r, 0, sizeof(*r));
	require(ops->init(state, records ? on_record : NULL, r) == 0, "init");
	for (size_t i = 0; i < len;) {
		size_t n = step && len - i > step ? step : len - i;
		int ret = ops->feed(state, (const unsigned char *)in + i, n);

		require(ret == 0 || (ret == -EINVAL && !records),
			"feed returned %d", ret);
		require(!(fed < 0 && ret == 0), "feed recovered");
		fed = ret;
		i += n;
	}
	memset(&r->err, 0, sizeof(r->err));
	r->ret = ops->finish(state, &r->err);
	require(!records || r->ret == 0, "finish returned %d", r->ret);
	require(fed == 0 || r->ret == -EINVAL, "finish returned %d", r->ret);
	ops->release(state);
	free(state);
}

static bool err_eq(const struct format_error *a, const struct format_error *b)
{
	return a->offset == b->offset && a->line == b->line && a->reason &&
	       b->reason && strcmp(a->reason, b->reason) == 0;
}

static bool runs_eq(const struct run *a, const struct run *b)
{
	if (a->ret != b->ret || a->n != b->n)
		return false;
	if (a->ret && !err_eq(&a->err, &b->err))
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct rec *x = &a->recs[i], *y = &b->recs[i];

		if (x->start != y->start || x->end != y->end ||
		    x->bad != y->bad || (x->bad && !err_eq(&x->err, &y->err)))
			return false;
	}
	return true;
}

/*
 * Runs @in whole, then byte by byte and cut at every point: all the runs
 * must agree.  The whole run is in *@r.
 */
static void run_all_ways(const struct format_ops *ops, const char *in,
			 size_t len, bool records, struct run *r)
{
	struct run other;

	run_ops(ops, in, len, 0, records, r);
	run_ops(ops, in, len, 1, records, &other);
	require(runs_eq(r, &other), "'%s' byte by byte differs", in);
	for (size_t cut = 1; cut < len && len < 300; cut++) {
		void *state = malloc(ops->state_size);

		require(state, "out of memory");
		memset(&other, 0, sizeof(other));
		ops->init(state, records ? on_record : NULL, &other);
		ops->feed(state, (const unsigned char *)in, cut);
		ops->feed(state, (const unsigned char *)in + cut, len - cut);
		other.ret = ops->finish(state, &other.err);
		ops->release(state);
		free(state);
		require(runs_eq(r, &other), "'%s' cut at %zu differs", in, cut);
	}
}

static void expect_valid(const struct format_ops *ops, const char *in)
{
	struct run r;

	run_all_ways(ops, in, strlen(in), false, &r);
	require(r.ret == 0, "'%s' refused at %llu: %s", in,
		(unsigned long long)r.err.offset, r.err.reason);
}

static void expect_error(const struct format_ops *ops, const char *in,
			 uint64_t offset, uint64_t line, const char *reason)
{
	struct run r;

	run_all_ways(ops, in, strlen(in), false, &r);
	require(r.ret == -EINVAL, "'%s' accepted", in);
	require(r.err.offset == offset && r.err.line == line &&
			strcmp(r.err.reason, reason) == 0,
		"'%s': got %llu line %llu '%s', want %llu line %llu '%s'", in,
		(unsigned long long)r.err.offset,
		(unsigned long long)r.err.line, r.err.reason,
		(unsigned long long)offset, (unsigned long long)line, reason);
}

#define CSV (&format_csv_ops)
#define TSV (&format_tsv_ops)

static void ref_csv(const unsigned char *in, size_t len, struct run *out)
{
	struct ref r = { .in = in, .len = len };

	require(ref_csv_run(&r) == 0, "csv_init");
	memset(out, 0, sizeof(*out));
	out->ret = r.bad ? -EINVAL : 0;
	out->err = r.err;
}

/* The TSV reference: split on newlines, then on tabs. */
static void ref_tsv(const unsigned char *in, size_t len, struct run *out)
{
	struct ref r = { .in = in, .len = len };

	while (r.row_start < len && !r.bad) {
		const unsigned char *nl =
			memchr(in + r.row_start, '\n', len - r.row_start);
		size_t stop = nl ? (size_t)(nl - in) : len, term = stop;
		size_t fields = 1;

		if (nl && stop > r.row_start && in[stop - 1] == '\r')
			term = stop - 1;
		for (size_t i = r.row_start; i < term && !r.bad; i++) {
			if (in[i] == '\r')
				ref_fail(&r, i,
					 "carriage return without line feed");
			fields += in[i] == '\t';
		}
		if (!r.bad)
			ref_row(&r, fields, term, nl ? stop + 1 : len);
	}
	memset(out, 0, sizeof(*out));
	out->ret = r.bad ? -EINVAL : 0;
	out->err = r.err;
}

/* ops */

START_TEST(csv_and_tsv_ops_describe_themselves)
{
	ck_assert_str_eq(CSV->name, "csv");
	ck_assert_int_eq(CSV->kind, FORMAT_CSV);
	ck_assert(CSV->has_records);
	ck_assert_uint_gt(CSV->state_size, 0);
	ck_assert_str_eq(TSV->name, "tsv");
	ck_assert_int_eq(TSV->kind, FORMAT_TSV);
	ck_assert(TSV->has_records);
	ck_assert_uint_gt(TSV->state_size, 0);
	/* The state is fixed-size: nothing grows with the input. */
	ck_assert_uint_le(CSV->state_size, 256);
}
END_TEST

/* csv: valid content */

START_TEST(csv_accepts_empty_content_and_a_header_alone)
{
	expect_valid(CSV, "");
	expect_valid(CSV, "a,b,c\n");
	expect_valid(CSV, "a,b,c");
	expect_valid(CSV, "a");
	expect_valid(CSV, "a\r\n");
	expect_valid(TSV, "");
	expect_valid(TSV, "a\tb\n");
}
END_TEST

START_TEST(csv_accepts_quotes_and_escaped_quotes)
{
	expect_valid(CSV, "a,b\n\"x\",\"y\"\n");
	expect_valid(CSV, "a,b\n\"x, y\",\"say \"\"hi\"\"\"\n");
	expect_valid(CSV, "\"\",\"\"\"\"\n\"\"\"\",\"\"");
	expect_valid(CSV, "a,\"b\"\n\"\",x\n");
	expect_valid(CSV, "\"a\"\"\"\"b\"\n");
	/* A quoted field holds any byte, the delimiter and '\r' too. */
	expect_valid(CSV, "a,b\n\"\r,\t\x01\xff\",x\n");
}
END_TEST

START_TEST(csv_accepts_lf_crlf_and_mixed_line_ends)
{
	expect_valid(CSV, "a,b\n1,2\n3,4\n");
	expect_valid(CSV, "a,b\r\n1,2\r\n3,4\r\n");
	expect_valid(CSV, "a,b\r\n1,2\n3,4\r\n5,6");
	expect_valid(CSV, "a,\"b\"\r\n1,\"2\"\n");
	expect_valid(TSV, "a\tb\r\n1\t2\n3\t4\r\n");
}
END_TEST

START_TEST(csv_accepts_newlines_inside_quotes)
{
	expect_valid(CSV, "a,b\n\"1\n2\",x\n\"\r\n\",y\n");
	/* The line count goes on inside quotes: row 3 is on line 4. */
	expect_error(CSV, "a,b\n\"1\n2\",x\n\"y\"\n", 12, 4,
		     "wrong field count");
	expect_error(CSV, "a,b\n\"1\n2\n3\",x\n\"\r\n\",y\nz\n", 21, 7,
		     "wrong field count");
}
END_TEST

START_TEST(csv_counts_a_trailing_delimiter_as_an_empty_field)
{
	expect_valid(CSV, "a,b,\n1,2,3\n");
	expect_valid(CSV, ",,\n,,\n\"\",,\"\"\n");
	expect_error(CSV, "a,b\n1,2,\n", 4, 2, "wrong field count");
	expect_valid(TSV, "a\tb\t\n\t\t\n");
}
END_TEST

START_TEST(csv_takes_a_final_row_without_its_newline)
{
	expect_valid(CSV, "a,b\n1,2");
	expect_valid(CSV, "a,b\n1,\"2\"");
	expect_error(CSV, "a,b\n1", 4, 2, "wrong field count");
	expect_error(CSV, "a,b\n1,2,3", 4, 2, "wrong field count");
	expect_error(TSV, "a\tb\n1", 4, 2, "wrong field count");
}
END_TEST

/* csv: errors */

START_TEST(csv_refuses_a_wrong_field_count_at_the_start_of_its_row)
{
	expect_error(CSV, "a,b,c\n1,2,3\n4,5\n6,7,8\n", 12, 3,
		     "wrong field count");
	expect_error(CSV, "a,b\n1,2\n3,4\n5,6,7\n", 12, 4, "wrong field count");
	expect_error(CSV, "a,b\r\n1,2\r\n3\r\n", 10, 3, "wrong field count");
	expect_error(CSV, "a\n1,2\n", 2, 2, "wrong field count");
	/* The comma of a quoted field is data. */
	expect_error(CSV, "a,b\n\"1,2\"\n", 4, 2, "wrong field count");
}
END_TEST

START_TEST(csv_refuses_a_quote_inside_an_unquoted_field)
{
	expect_error(CSV, "a\"b\n", 1, 1, "quote inside an unquoted field");
	expect_error(CSV, "a,b\nx,y\"\n", 7, 2,
		     "quote inside an unquoted field");
	/* Spaces are data: the field does not start with the quote. */
	expect_error(CSV, "a, \"b\"\n", 3, 1, "quote inside an unquoted field");
	/* Found before the row ends, so before its wrong count. */
	expect_error(CSV, "a,b\n1,2,3\"\n", 9, 2,
		     "quote inside an unquoted field");
}
END_TEST

START_TEST(csv_refuses_text_after_a_closing_quote)
{
	expect_error(CSV, "\"a\"b,c\n", 3, 1, "text after a closing quote");
	expect_error(CSV, "a,b\n\"x\n\" ,y\n", 8, 3,
		     "text after a closing quote");
	expect_error(CSV, "a,\"b\"\t\n", 5, 1, "text after a closing quote");
}
END_TEST

START_TEST(csv_refuses_an_unterminated_quote_at_the_opening_quote)
{
	expect_error(CSV, "\"", 0, 1, "unterminated quote");
	expect_error(CSV, "a,b\n1,\"xx\nyy", 6, 2, "unterminated quote");
	expect_error(CSV, "a,b\n1,\"xx\"\"\n", 6, 2, "unterminated quote");
	expect_error(CSV, "a,b\n\"\n\n\n", 4, 2, "unterminated quote");
}
END_TEST

START_TEST(csv_refuses_a_carriage_return_without_line_feed)
{
	expect_error(CSV, "a\rb\n", 1, 1, "carriage return without line feed");
	expect_error(CSV, "a,b\n1,2\r", 7, 2,
		     "carriage return without line feed");
	expect_error(CSV, "a,b\n1,2\r\r\n", 7, 2,
		     "carriage return without line feed");
	expect_error(CSV, "a,\"b\"\r\"c\"\n", 5, 1,
		     "carriage return without line feed");
	expect_error(TSV, "a\tb\n1\r\t2\n", 5, 2,
		     "carriage return without line feed");
}
END_TEST

START_TEST(csv_refuses_blank_lines_unless_one_column)
{
	expect_error(CSV, "a,b\n\n1,2\n", 4, 2, "empty row");
	expect_error(CSV, "a,b\n1,2\n\n", 8, 3, "empty row");
	expect_error(CSV, "a,b\r\n\r\n", 5, 2, "empty row");
	expect_error(CSV, "\na,b\n", 1, 2, "wrong field count");
	expect_error(TSV, "a\tb\n\n", 4, 2, "empty row");
	/* One column: a blank line is a row of one empty field. */
	expect_valid(CSV, "a\n\nb\n\n");
	expect_valid(CSV, "\n\n\r\n\"\"\n");
	expect_valid(TSV, "a\n\n");
}
END_TEST

START_TEST(csv_stops_at_the_first_error)
{
	void *state = malloc(CSV->state_size);
	struct format_error err;

	ck_assert_ptr_nonnull(state);
	ck_assert_int_eq(CSV->init(state, NULL, NULL), 0);
	ck_assert_int_eq(CSV->feed(state, (const unsigned char *)"a,b\n", 4),
			 0);
	ck_assert_int_eq(CSV->feed(state, (const unsigned char *)"1\n2,3", 5),
			 -EINVAL);
	ck_assert_int_eq(CSV->feed(state, (const unsigned char *)"\"", 1),
			 -EINVAL);
	ck_assert_int_eq(CSV->finish(state, &err), -EINVAL);
	ck_assert_uint_eq(err.offset, 4);
	ck_assert_uint_eq(err.line, 2);
	ck_assert_str_eq(err.reason, "wrong field count");
	CSV->release(state);
	/* Init again: a fresh start. */
	ck_assert_int_eq(CSV->init(state, NULL, NULL), 0);
	ck_assert_int_eq(CSV->feed(state, (const unsigned char *)"a\n", 2), 0);
	ck_assert_int_eq(CSV->finish(state, &err), 0);
	CSV->release(state);
	free(state);
	CSV->release(NULL);
}
END_TEST

/* tsv */

START_TEST(tsv_takes_quotes_as_data)
{
	expect_valid(TSV, "a\tb\n\"x\ty\"\n");
	expect_valid(TSV, "a\"b\t\"\n\"\"\"\t,\"x\n");
	/* A quoted tab still splits, a quoted newline still ends the row. */
	expect_error(TSV, "a\tb\n\"x\ty\tz\"\n", 4, 2, "wrong field count");
	expect_error(TSV, "a\tb\n\"x\ny\"\tz\n", 4, 2, "wrong field count");
	/* Commas are data. */
	expect_valid(TSV, "a,b\tc\n1\t2,3\n");
	expect_error(TSV, "a\tb\nc\n", 4, 2, "wrong field count");
}
END_TEST

/* record mode */

static void expect_records(const struct format_ops *ops, const char *in,
			   const struct rec *want, size_t n)
{
	struct run r;

	run_all_ways(ops, in, strlen(in), true, &r);
	ck_assert_msg(r.n == n, "'%s': %zu records, want %zu", in, r.n, n);
	for (size_t i = 0; i < n; i++) {
		const struct rec *g = &r.recs[i], *w = &want[i];

		ck_assert_msg(
			g->start == w->start && g->end == w->end,
			"'%s' record %zu: [%llu, %llu), want [%llu, %llu)", in,
			i, (unsigned long long)g->start,
			(unsigned long long)g->end,
			(unsigned long long)w->start,
			(unsigned long long)w->end);
		ck_assert_msg(g->bad == w->bad, "'%s' record %zu: bad %d", in,
			      i, g->bad);
		if (!w->bad)
			continue;
		ck_assert_msg(g->err.offset == w->err.offset &&
				      g->err.line == w->err.line &&
				      strcmp(g->err.reason, w->err.reason) == 0,
			      "'%s' record %zu: %llu line %llu '%s'", in, i,
			      (unsigned long long)g->err.offset,
			      (unsigned long long)g->err.line, g->err.reason);
	}
}

/* An expected record, valid. */
static struct rec ok(uint64_t start, uint64_t end)
{
	struct rec r = { .start = start, .end = end };

	return r;
}

/* An expected record with its error. */
static struct rec bad(uint64_t start, uint64_t end, uint64_t offset,
		      uint64_t line, const char *reason)
{
	struct rec r = { .start = start, .end = end, .bad = true };

	r.err.offset = offset;
	r.err.line = line;
	r.err.reason = reason;
	return r;
}

START_TEST(csv_records_cover_rows_with_their_line_ends)
{
	const struct rec want[] = {
		ok(0, 5),
		ok(5, 13),
		ok(13, 17),
		ok(17, 20),
	};

	expect_records(CSV, "a,b\r\n\"1\n\",\"\"\n3,4\n5,6", want, 4);
	expect_records(CSV, "", NULL, 0);
}
END_TEST

START_TEST(csv_records_report_each_bad_row_and_go_on)
{
	const struct rec want[] = {
		ok(0, 4),
		bad(4, 6, 4, 2, "wrong field count"),
		bad(6, 12, 7, 3, "quote inside an unquoted field"),
		ok(12, 16),
		bad(16, 23, 19, 5, "text after a closing quote"),
		bad(23, 24, 23, 6, "empty row"),
		bad(24, 30, 25, 7, "carriage return without line feed"),
		ok(30, 33),
	};

	expect_records(CSV, "a,b\n1\n2\"3,x\n4,5\n\"x\"y\"\"\n\n6\r7,8\n9,0",
		       want, 8);
}
END_TEST

START_TEST(csv_records_resync_after_a_quoted_newline)
{
	/* The second row's bad quote comes after a quoted newline. */
	const struct rec want[] = {
		ok(0, 4),
		bad(4, 11, 8, 3, "text after a closing quote"),
		ok(11, 15),
	};

	expect_records(CSV, "a,b\n\"1\n\"2,\n3,4\n", want, 3);
}
END_TEST

START_TEST(csv_records_end_an_unterminated_quote_at_the_end)
{
	const struct rec want[] = {
		ok(0, 4),
		ok(4, 8),
		bad(8, 20, 10, 3, "unterminated quote"),
	};

	expect_records(CSV, "a,b\n1,2\n3,\"4\n5,6\n7,8", want, 3);
}
END_TEST

START_TEST(csv_records_take_a_bad_header_s_count)
{
	const struct rec want[] = {
		bad(0, 8, 1, 1, "quote inside an unquoted field"),
		ok(8, 14),
		bad(14, 16, 14, 3, "wrong field count"),
	};

	expect_records(CSV, "a\"b,c,d\n1,2,3\n4\n", want, 3);
}
END_TEST

START_TEST(tsv_records_split_on_newlines_only)
{
	const struct rec want[] = {
		ok(0, 4),
		ok(4, 9),
		bad(9, 11, 9, 3, "wrong field count"),
		bad(11, 12, 11, 4, "empty row"),
		ok(12, 15),
	};

	expect_records(TSV, "a\tb\n\"\t\"\r\n\"\n\n1\t2", want, 5);
}
END_TEST

/* against the references */

static const char alphabet[] = "a,\"\r\n \t";

static size_t random_input(unsigned char *buf, size_t max, unsigned int *seed)
{
	size_t len = (size_t)rand_r(seed) % (max + 1);

	for (size_t i = 0; i < len; i++)
		buf[i] = (unsigned char)
			alphabet[rand_r(seed) % (sizeof(alphabet) - 1)];
	return len;
}

/* Whole, byte by byte, cut at random and in record mode, all agree. */
static void cross_check(const struct format_ops *ops, const unsigned char *in,
			size_t len, const struct run *ref, unsigned int *seed)
{
	struct run got, other, rec;
	size_t step = 1 + (size_t)rand_r(seed) % 20;
	const struct rec *first_bad = NULL;
	uint64_t at = 0;

	run_ops(ops, (const char *)in, len, 0, false, &got);
	require(got.ret == ref->ret, "'%.*s': %d, reference %d", (int)len, in,
		got.ret, ref->ret);
	if (got.ret)
		require(err_eq(&got.err, &ref->err),
			"'%.*s': %llu line %llu %s, reference %llu %s",
			(int)len, in, (unsigned long long)got.err.offset,
			(unsigned long long)got.err.line, got.err.reason,
			(unsigned long long)ref->err.offset, ref->err.reason);
	run_ops(ops, (const char *)in, len, 1, false, &other);
	require(runs_eq(&got, &other), "'%.*s' in pieces differs", (int)len,
		in);
	run_ops(ops, (const char *)in, len, step, false, &other);
	require(runs_eq(&got, &other), "'%.*s' in pieces differs", (int)len,
		in);

	run_ops(ops, (const char *)in, len, 0, true, &rec);
	run_ops(ops, (const char *)in, len, step, true, &other);
	require(runs_eq(&rec, &other), "'%.*s' records differ", (int)len, in);
	/* The records tile the content; the first error is the same. */
	for (size_t i = 0; i < rec.n; i++) {
		require(rec.recs[i].start == at && rec.recs[i].end > at,
			"'%.*s': record %zu misplaced", (int)len, in, i);
		at = rec.recs[i].end;
		if (rec.recs[i].bad && !first_bad)
			first_bad = &rec.recs[i];
	}
	require(at == len, "'%.*s': records end at %llu", (int)len, in,
		(unsigned long long)at);
	require((first_bad != NULL) == (got.ret != 0) &&
			(!first_bad || err_eq(&first_bad->err, &got.err)),
		"'%.*s': records and whole content disagree", (int)len, in);
}

START_TEST(csv_agrees_with_libcsv_on_random_inputs)
{
	unsigned int seed = 1;
	unsigned char buf[48];

	for (int i = 0; i < 100000; i++) {
		size_t len = random_input(buf, sizeof(buf), &seed);
		struct run ref;

		ref_csv(buf, len, &ref);
		cross_check(CSV, buf, len, &ref, &seed);
	}
}
END_TEST

START_TEST(tsv_agrees_with_a_line_split_on_random_inputs)
{
	unsigned int seed = 2;
	unsigned char buf[48];

	for (int i = 0; i < 50000; i++) {
		size_t len = random_input(buf, sizeof(buf), &seed);
		struct run ref;

		ref_tsv(buf, len, &ref);
		cross_check(TSV, buf, len, &ref, &seed);
	}
}
END_TEST

/* Long rows, so that the 16-byte scan meets every case at every position. */
START_TEST(csv_agrees_with_libcsv_on_long_rows)
{
	static const char *const parts[] = {
		"12345",
		",",
		"some text here",
		"\"q, \"\"x\"\"\n\"",
		"\n",
		"\r\n",
		"",
		"\"",
		"-1.25e3",
	};
	unsigned int seed = 3;
	unsigned char buf[400];

	for (int i = 0; i < 20000; i++) {
		size_t len = 0;

		while (len < 300) {
			const char *p = parts[rand_r(&seed) % 9];

			memcpy(buf + len, p, strlen(p));
			len += strlen(p);
		}
		struct run ref;

		ref_csv(buf, len, &ref);
		cross_check(CSV, buf, len, &ref, &seed);
	}
}
END_TEST

START_TEST(csv_checks_a_large_content_in_any_pieces)
{
	static const char row[] = "12345,some text here,-1.25e3,true\n";
	static const char quoted[] = "1,\"a, \"\"b\"\"\nc\",0,\"\"\n";
	size_t cap = 1 << 20, len = 0, rows = 0, bad_off = 0, bad_line = 0;
	char *buf = malloc(cap);
	struct run r;

	ck_assert_ptr_nonnull(buf);
	while (len + 64 < cap) {
		const char *p = rows % 10 == 3 ? quoted : row;

		if (rows == 20000) {
			bad_off = len;
			bad_line = rows + 1 + rows / 10;
			p = "1,2,3\n";
		}
		memcpy(buf + len, p, strlen(p));
		len += strlen(p);
		rows++;
	}
	for (size_t step = 0; step < 40; step += 7) {
		run_ops(CSV, buf, bad_off, step * 997, false, &r);
		ck_assert_int_eq(r.ret, 0);
		run_ops(CSV, buf, len, step * 997, false, &r);
		ck_assert_int_eq(r.ret, -EINVAL);
		ck_assert_uint_eq(r.err.offset, bad_off);
		ck_assert_uint_eq(r.err.line, bad_line);
	}
	free(buf);
}
END_TEST

static Suite *format_csv_suite(void)
{
	Suite *s = suite_create("format_csv");
	TCase *tc;

	tc = tcase_create("valid");
	tcase_add_test(tc, csv_and_tsv_ops_describe_themselves);
	tcase_add_test(tc, csv_accepts_empty_content_and_a_header_alone);
	tcase_add_test(tc, csv_accepts_quotes_and_escaped_quotes);
	tcase_add_test(tc, csv_accepts_lf_crlf_and_mixed_line_ends);
	tcase_add_test(tc, csv_accepts_newlines_inside_quotes);
	tcase_add_test(tc, csv_counts_a_trailing_delimiter_as_an_empty_field);
	tcase_add_test(tc, csv_takes_a_final_row_without_its_newline);
	suite_add_tcase(s, tc);

	tc = tcase_create("errors");
	tcase_add_test(tc,
		       csv_refuses_a_wrong_field_count_at_the_start_of_its_row);
	tcase_add_test(tc, csv_refuses_a_quote_inside_an_unquoted_field);
	tcase_add_test(tc, csv_refuses_text_after_a_closing_quote);
	tcase_add_test(tc,
		       csv_refuses_an_unterminated_quote_at_the_opening_quote);
	tcase_add_test(tc, csv_refuses_a_carriage_return_without_line_feed);
	tcase_add_test(tc, csv_refuses_blank_lines_unless_one_column);
	tcase_add_test(tc, csv_stops_at_the_first_error);
	tcase_add_test(tc, tsv_takes_quotes_as_data);
	suite_add_tcase(s, tc);

	tc = tcase_create("records");
	tcase_add_test(tc, csv_records_cover_rows_with_their_line_ends);
	tcase_add_test(tc, csv_records_report_each_bad_row_and_go_on);
	tcase_add_test(tc, csv_records_resync_after_a_quoted_newline);
	tcase_add_test(tc, csv_records_end_an_unterminated_quote_at_the_end);
	tcase_add_test(tc, csv_records_take_a_bad_header_s_count);
	tcase_add_test(tc, tsv_records_split_on_newlines_only);
	suite_add_tcase(s, tc);

	tc = tcase_create("reference");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, csv_agrees_with_libcsv_on_random_inputs);
	tcase_add_test(tc, tsv_agrees_with_a_line_split_on_random_inputs);
	tcase_add_test(tc, csv_agrees_with_libcsv_on_long_rows);
	tcase_add_test(tc, csv_checks_a_large_content_in_any_pieces);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(format_csv_suite);
}
