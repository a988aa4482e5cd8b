// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "core/format.h"
#include "tests/unit/testutil.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))
#define MIB (1024 * 1024)

/* What record mode reported: up to MAX_RECORDS ranges. */
#define MAX_RECORDS 16

struct records {
	size_t n;
	uint64_t start[MAX_RECORDS];
	uint64_t end[MAX_RECORDS];
	bool invalid;		/* some record came with an error */
};

static void on_record(void *ctx, uint64_t start, uint64_t end,
		      const struct format_error *err)
{
	struct records *r = ctx;

	ck_assert_msg(r->n < MAX_RECORDS, "more than %d records",
		      MAX_RECORDS);
	r->start[r->n] = start;
	r->end[r->n] = end;
	r->n++;
	if (err)
		r->invalid = true;
}

/* The text format in record mode on @len bytes fed @piece bytes at a time. */
static struct records text_records(const char *buf, size_t len, size_t piece)
{
	const struct format_ops *ops = &format_text_ops;
	struct records r = { 0 };
	struct format_error err = { 0 };
	void *st = calloc(1, ops->state_size);

	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(ops->init(st, on_record, &r), 0);
	for (size_t off = 0; off < len;) {
		size_t n = len - off < piece ? len - off : piece;

		ck_assert_int_eq(ops->feed(st, (const unsigned char *)buf + off,
					   n),
				 0);
		off += n;
	}
	ck_assert_int_eq(ops->finish(st, &err), 0);
	ops->release(st);
	free(st);
	ck_assert(!r.invalid);
	return r;
}

static void assert_records(const struct records *r, size_t n,
			   const uint64_t (*want)[2])
{
	ck_assert_uint_eq(r->n, n);
	for (size_t i = 0; i < n; i++)
		ck_assert_msg(r->start[i] == want[i][0] &&
				      r->end[i] == want[i][1],
			      "record %zu is [%llu,%llu), want [%llu,%llu)", i,
			      (unsigned long long)r->start[i],
			      (unsigned long long)r->end[i],
			      (unsigned long long)want[i][0],
			      (unsigned long long)want[i][1]);
}

/* @len pseudo-random bytes (a fixed xorshift sequence); caller frees. */
static unsigned char *random_bytes(size_t len)
{
	unsigned char *buf = malloc(len ? len : 1);
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	ck_assert_ptr_nonnull(buf);
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (unsigned char)(x >> 24);
	}
	return buf;
}

/* XXH3-128 computed directly, as a format_sum. */
static struct format_sum direct_sum(const void *buf, size_t len)
{
	XXH128_hash_t h = XXH3_128bits(buf, len);
	struct format_sum s = { .high = h.high64, .low = h.low64 };

	return s;
}

/*
 * Feeds @len bytes to @c in pieces of @piece bytes (0: whole, in one
 * call) and finishes; returns finish()'s result.
 */
static int check_run(struct format_check *c, const unsigned char *buf,
		     size_t len, size_t piece, struct format_sum *sum,
		     struct format_error *err)
{
	if (!piece)
		piece = len ? len : 1;
	for (size_t off = 0; off < len;) {
		size_t n = len - off < piece ? len - off : piece;

		format_check_feed(c, buf + off, n);
		off += n;
	}
	return format_check_finish(c, sum, err);
}

/* ops table and names */

START_TEST(format_ops_of_gives_each_kind_its_ops)
{
	static const struct {
		enum format_kind kind;
		const struct format_ops *ops;
		const char *name;
		bool has_records;
	} want[] = {
		{ FORMAT_OPAQUE, &format_opaque_ops, "opaque", false },
		{ FORMAT_TEXT, &format_text_ops, "text", true },
		{ FORMAT_JSON, &format_json_ops, "json", false },
		{ FORMAT_JSONL, &format_jsonl_ops, "jsonl", true },
		{ FORMAT_CSV, &format_csv_ops, "csv", true },
		{ FORMAT_TSV, &format_tsv_ops, "tsv", true },
	};

	ck_assert_uint_eq(N_ELEMS(want), FORMAT_COUNT);
	for (size_t i = 0; i < N_ELEMS(want); i++) {
		const struct format_ops *ops = format_ops_of(want[i].kind);

		ck_assert_ptr_eq(ops, want[i].ops);
		ck_assert_int_eq(ops->kind, want[i].kind);
		ck_assert_str_eq(ops->name, want[i].name);
		ck_assert_int_eq(ops->has_records, want[i].has_records);
		ck_assert_uint_gt(ops->state_size, 0);
	}
}
END_TEST

START_TEST(format_ops_of_is_null_out_of_range)
{
	ck_assert_ptr_null(format_ops_of(FORMAT_COUNT));
	ck_assert_ptr_null(format_ops_of((enum format_kind)(FORMAT_COUNT + 7)));
	ck_assert_ptr_null(format_ops_of((enum format_kind)-1));
}
END_TEST

START_TEST(format_kind_parse_knows_each_name)
{
	static const char *const names[] = {
		[FORMAT_OPAQUE] = "opaque", [FORMAT_TEXT] = "text",
		[FORMAT_JSON] = "json",     [FORMAT_JSONL] = "jsonl",
		[FORMAT_CSV] = "csv",       [FORMAT_TSV] = "tsv",
	};

	for (int k = 0; k < FORMAT_COUNT; k++) {
		ck_assert_int_eq(format_kind_parse(names[k]), k);
		ck_assert_str_eq(format_kind_name((enum format_kind)k),
				 names[k]);
	}
}
END_TEST

START_TEST(format_kind_parse_refuses_other_names)
{
	static const char *const bad[] = {
		"", "JSON", "Json", "json ", " json", "jso", "jsonll",
		"ndjson", "txt", "unknown", "garbage", "csv\n",
	};

	for (size_t i = 0; i < N_ELEMS(bad); i++)
		ck_assert_msg(format_kind_parse(bad[i]) == -EINVAL,
			      "'%s' gives %d", bad[i],
			      format_kind_parse(bad[i]));
}
END_TEST

START_TEST(format_kind_for_name_goes_by_the_last_extension)
{
	static const struct {
		const char *name;
		enum format_kind kind;
	} want[] = {
		{ "a.json", FORMAT_JSON },
		{ "A.JSON", FORMAT_JSON },
		{ "x.jsonl", FORMAT_JSONL },
		{ "y.ndjson", FORMAT_JSONL },
		{ "t.csv", FORMAT_CSV },
		{ "t.tsv", FORMAT_TSV },
		{ "n.txt", FORMAT_TEXT },
		{ "app.log", FORMAT_TEXT },
		{ "d/x.csv", FORMAT_CSV },
		{ "/abs/dir/y.Jsonl", FORMAT_JSONL },
		{ "a.b.json", FORMAT_JSON },
		{ "json.csv", FORMAT_CSV },
		/* Opaque: */
		{ ".json", FORMAT_OPAQUE },
		{ "d/.csv", FORMAT_OPAQUE },
		{ "noext", FORMAT_OPAQUE },
		{ "json", FORMAT_OPAQUE },
		{ "dir.json/file", FORMAT_OPAQUE },
		{ "dir.csv/", FORMAT_OPAQUE },
		{ "archive.tar.gz", FORMAT_OPAQUE },
		{ "a.json.gz", FORMAT_OPAQUE },
		{ "a.", FORMAT_OPAQUE },
		{ "a.jso", FORMAT_OPAQUE },
		{ "a.jsonx", FORMAT_OPAQUE },
		{ "", FORMAT_OPAQUE },
	};

	for (size_t i = 0; i < N_ELEMS(want); i++) {
		enum format_kind k = format_kind_for_name(want[i].name);

		ck_assert_msg(k == want[i].kind, "'%s' is %d, want %d",
			      want[i].name, k, want[i].kind);
	}
}
END_TEST

/* text in record mode */

START_TEST(text_reports_each_line_with_its_range)
{
	static const char in[] = "ab\n\nxyz\nlast";
	static const uint64_t want[][2] = {
		{ 0, 3 }, { 3, 4 }, { 4, 8 }, { 8, 12 },
	};
	struct records r = text_records(in, sizeof(in) - 1, sizeof(in));

	assert_records(&r, N_ELEMS(want), want);
}
END_TEST

START_TEST(text_reports_the_last_line_only_at_finish)
{
	const struct format_ops *ops = &format_text_ops;
	struct records r = { 0 };
	struct format_error err = { 0 };
	void *st = calloc(1, ops->state_size);

	ck_assert_int_eq(ops->init(st, on_record, &r), 0);
	ck_assert_int_eq(ops->feed(st, (const unsigned char *)"one\ntwo", 7),
			 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_uint_eq(r.start[0], 0);
	ck_assert_uint_eq(r.end[0], 4);
	ck_assert_int_eq(ops->feed(st, (const unsigned char *)"!", 1), 0);
	ck_assert_uint_eq(r.n, 1);
	ck_assert_int_eq(ops->finish(st, &err), 0);
	ck_assert_uint_eq(r.n, 2);
	ck_assert_uint_eq(r.start[1], 4);
	ck_assert_uint_eq(r.end[1], 8);
	ops->release(st);
	free(st);
}
END_TEST

START_TEST(text_keeps_crlf_inside_the_record)
{
	static const char in[] = "a,b\r\n\r\nc\r\n";
	static const uint64_t want[][2] = { { 0, 5 }, { 5, 7 }, { 7, 10 } };
	struct records r = text_records(in, sizeof(in) - 1, sizeof(in));

	assert_records(&r, N_ELEMS(want), want);
}
END_TEST

START_TEST(text_reports_nothing_for_empty_content)
{
	struct records r = text_records("", 0, 1);

	ck_assert_uint_eq(r.n, 0);
}
END_TEST

START_TEST(text_gives_the_same_records_whatever_the_pieces)
{
	static const char in[] = "first line\n\r\nx\n\n\nno newline at end";
	struct records whole = text_records(in, sizeof(in) - 1, sizeof(in));

	ck_assert_uint_eq(whole.n, 6);
	ck_assert_uint_eq(whole.end[5], sizeof(in) - 1);
	for (size_t piece = 1; piece <= 7; piece++) {
		struct records r = text_records(in, sizeof(in) - 1, piece);

		ck_assert_uint_eq(r.n, whole.n);
		for (size_t i = 0; i < r.n; i++) {
			ck_assert_uint_eq(r.start[i], whole.start[i]);
			ck_assert_uint_eq(r.end[i], whole.end[i]);
		}
	}
}
END_TEST

START_TEST(opaque_has_no_record_mode)
{
	const struct format_ops *ops = &format_opaque_ops;
	struct records r = { 0 };
	unsigned char st[64];

	ck_assert_uint_le(ops->state_size, sizeof(st));
	ck_assert_int_eq(ops->init(st, on_record, &r), -EINVAL);
	ck_assert_int_eq(ops->init(st, NULL, NULL), 0);
	ck_assert_int_eq(ops->feed(st, (const unsigned char *)"\0\xff", 2), 0);
	ck_assert_int_eq(ops->finish(st, NULL), 0);
	ops->release(st);
	ck_assert_uint_eq(r.n, 0);
}
END_TEST

/* the check */

START_TEST(check_hash_is_xxh3_128_of_the_bytes)
{
	static const size_t lens[] = { 0, 1, MIB };
	static const size_t pieces[] = { 0, 1, 3, 7, 4093, 65537 };
	unsigned char *buf = random_bytes(MIB);

	for (size_t l = 0; l < N_ELEMS(lens); l++) {
		struct format_sum want = direct_sum(buf, lens[l]);

		for (size_t p = 0; p < N_ELEMS(pieces); p++) {
			struct format_check *c = NULL;
			struct format_sum got = { 0 };
			struct format_error err = { 0 };

			/* Byte at a time over a MiB is slow; skip it. */
			if (pieces[p] == 1 && lens[l] == MIB)
				continue;
			ck_assert_int_eq(format_check_new(FORMAT_OPAQUE, &c),
					 0);
			ck_assert_int_eq(check_run(c, buf, lens[l], pieces[p],
						   &got, &err),
					 0);
			ck_assert_uint_eq(format_check_fed(c), lens[l]);
			ck_assert_msg(got.high == want.high &&
					      got.low == want.low,
				      "len %zu piece %zu: hash differs",
				      lens[l], pieces[p]);
			format_check_free(c);
		}
	}
	free(buf);
}
END_TEST

START_TEST(check_hash_of_empty_content_is_the_known_value)
{
	/* XXH3_128bits("", 0) of the reference implementation. */
	struct format_check *c = NULL;
	struct format_sum got = { 0 };
	struct format_error err = { 0 };
	struct format_sum want = direct_sum("", 0);

	ck_assert_int_eq(format_check_new(FORMAT_TEXT, &c), 0);
	ck_assert_int_eq(format_check_finish(c, &got, &err), 0);
	ck_assert_uint_eq(got.high, want.high);
	ck_assert_uint_eq(got.low, want.low);
	ck_assert_uint_eq(got.high, 0x99aa06d3014798d8ULL);
	ck_assert_uint_eq(got.low, 0x6001c324468d497fULL);
	ck_assert_uint_eq(format_check_fed(c), 0);
	format_check_free(c);
}
END_TEST

START_TEST(check_fed_counts_the_bytes)
{
	struct format_check *c = NULL;

	ck_assert_int_eq(format_check_new(FORMAT_TEXT, &c), 0);
	ck_assert_uint_eq(format_check_fed(c), 0);
	ck_assert_int_eq(format_check_feed(c, "abc", 3), 0);
	ck_assert_uint_eq(format_check_fed(c), 3);
	ck_assert_int_eq(format_check_feed(c, "", 0), 0);
	ck_assert_uint_eq(format_check_fed(c), 3);
	ck_assert_int_eq(format_check_feed(c, "\n\n\n\n\n", 5), 0);
	ck_assert_uint_eq(format_check_fed(c), 8);
	format_check_free(c);
}
END_TEST

START_TEST(check_of_invalid_json_fails_and_still_hashes)
{
	/* The trailing comma's '}' is at offset 10, on line 3. */
	static const char in[] = "{\n\"a\": 1,\n}   \"more\" [1, 2]";
	const size_t len = sizeof(in) - 1;
	struct format_sum want = direct_sum(in, len);
	static const size_t pieces[] = { 0, 1, 2, 5 };

	for (size_t p = 0; p < N_ELEMS(pieces); p++) {
		struct format_check *c = NULL;
		struct format_sum got = { 0 };
		struct format_error err = { 0 };
		size_t piece = pieces[p] ? pieces[p] : len;
		int last = 0;

		ck_assert_int_eq(format_check_new(FORMAT_JSON, &c), 0);
		for (size_t off = 0; off < len; off += piece) {
			size_t n = len - off < piece ? len - off : piece;

			last = format_check_feed(c, in + off, n);
			/* Valid up to the '}' at offset 10. */
			if (off + n <= 10)
				ck_assert_int_eq(last, 0);
		}
		ck_assert_int_eq(last, -EINVAL);
		/* Once invalid, even an empty feed says so. */
		ck_assert_int_eq(format_check_feed(c, "", 0), -EINVAL);
		ck_assert_uint_eq(format_check_fed(c), len);
		ck_assert_int_eq(format_check_finish(c, &got, &err), -EINVAL);
		ck_assert_uint_eq(err.offset, 10);
		ck_assert_uint_eq(err.line, 3);
		ck_assert_ptr_nonnull(err.reason);
		ck_assert_str_eq(err.reason, "trailing comma");
		ck_assert_uint_eq(got.high, want.high);
		ck_assert_uint_eq(got.low, want.low);
		format_check_free(c);
	}
}
END_TEST

START_TEST(check_reset_is_as_new)
{
	static const char bad[] = "[1,]";
	static const char good[] = "{\"k\": [true, null, -1.5e3]}\n";
	struct format_check *used = NULL, *fresh = NULL;
	struct format_sum a = { 0 }, b = { 0 };
	struct format_error ea = { 0 }, eb = { 0 };

	ck_assert_int_eq(format_check_new(FORMAT_JSON, &used), 0);
	ck_assert_int_eq(format_check_new(FORMAT_JSON, &fresh), 0);

	/* Invalid, finished, then reset: valid content passes. */
	ck_assert_int_eq(format_check_feed(used, bad, 4), -EINVAL);
	ck_assert_int_eq(format_check_finish(used, &a, &ea), -EINVAL);
	format_check_reset(used);
	ck_assert_uint_eq(format_check_fed(used), 0);
	ck_assert_int_eq(check_run(used, (const unsigned char *)good,
				   sizeof(good) - 1, 3, &a, &ea),
			 0);
	ck_assert_int_eq(check_run(fresh, (const unsigned char *)good,
				   sizeof(good) - 1, 0, &b, &eb),
			 0);
	ck_assert_uint_eq(a.high, b.high);
	ck_assert_uint_eq(a.low, b.low);
	ck_assert_uint_eq(format_check_fed(used), sizeof(good) - 1);

	/* Reset mid-content: the earlier bytes are forgotten, hash included. */
	format_check_reset(used);
	format_check_reset(fresh);
	ck_assert_int_eq(format_check_feed(used, "[[[", 3), 0);
	format_check_reset(used);
	ck_assert_int_eq(check_run(used, (const unsigned char *)bad, 4, 1, &a,
				   &ea),
			 -EINVAL);
	ck_assert_int_eq(check_run(fresh, (const unsigned char *)bad, 4, 0, &b,
				   &eb),
			 -EINVAL);
	ck_assert_uint_eq(a.high, b.high);
	ck_assert_uint_eq(a.low, b.low);
	ck_assert_uint_eq(ea.offset, 3);
	ck_assert_uint_eq(eb.offset, 3);
	ck_assert_uint_eq(ea.line, eb.line);
	ck_assert_str_eq(ea.reason, eb.reason);
	format_check_free(used);
	format_check_free(fresh);
}
END_TEST

START_TEST(check_new_refuses_an_invalid_kind)
{
	struct format_check *c = (struct format_check *)&c;

	ck_assert_int_eq(format_check_new(FORMAT_COUNT, &c), -EINVAL);
	ck_assert_ptr_eq(c, (struct format_check *)&c);
	ck_assert_int_eq(format_check_new((enum format_kind)-1, &c), -EINVAL);
	ck_assert_ptr_eq(c, (struct format_check *)&c);
	format_check_free(NULL);
}
END_TEST

START_TEST(check_works_for_every_kind)
{
	/* One line valid in every format. */
	static const char in[] = "1\n";

	for (int k = 0; k < FORMAT_COUNT; k++) {
		struct format_check *c = NULL;
		struct format_sum got = { 0 };
		struct format_error err = { 0 };
		struct format_sum want = direct_sum(in, 2);

		ck_assert_int_eq(format_check_new((enum format_kind)k, &c), 0);
		ck_assert_int_eq(check_run(c, (const unsigned char *)in, 2, 1,
					   &got, &err),
				 0);
		ck_assert_uint_eq(got.high, want.high);
		ck_assert_uint_eq(got.low, want.low);
		format_check_free(c);
	}
}
END_TEST

/* sums as hex */

START_TEST(sum_hex_known_value)
{
	struct format_sum s = { .high = 0x0123456789abcdefULL,
				.low = 0xfedcba9876543210ULL };
	struct format_sum back = { 0 };
	char hex[33];

	memset(hex, 'X', sizeof(hex));
	format_sum_hex(&s, hex);
	ck_assert_str_eq(hex, "0123456789abcdeffedcba9876543210");
	ck_assert_int_eq(format_sum_parse(hex, &back), 0);
	ck_assert_uint_eq(back.high, s.high);
	ck_assert_uint_eq(back.low, s.low);
	ck_assert_int_eq(format_sum_parse("0123456789ABCDEFFEDCBA9876543210",
					  &back),
			 0);
	ck_assert_uint_eq(back.high, s.high);
	ck_assert_uint_eq(back.low, s.low);
}
END_TEST

START_TEST(sum_hex_round_trips)
{
	static const struct format_sum sums[] = {
		{ 0, 0 },
		{ UINT64_MAX, UINT64_MAX },
		{ 1, 0 },
		{ 0, 1 },
		{ 0x8000000000000000ULL, 0xf },
		{ 0xdeadbeefcafef00dULL, 0x0a0b0c0d0e0f1011ULL },
	};
	static const char *const hexes[] = {
		"00000000000000000000000000000000",
		"ffffffffffffffffffffffffffffffff",
		"00000000000000010000000000000000",
		"00000000000000000000000000000001",
		"8000000000000000000000000000000f",
		"deadbeefcafef00d0a0b0c0d0e0f1011",
	};

	for (size_t i = 0; i < N_ELEMS(sums); i++) {
		struct format_sum back = { 0 };
		char hex[33];

		format_sum_hex(&sums[i], hex);
		ck_assert_str_eq(hex, hexes[i]);
		ck_assert_int_eq(format_sum_parse(hex, &back), 0);
		ck_assert_uint_eq(back.high, sums[i].high);
		ck_assert_uint_eq(back.low, sums[i].low);
	}
}
END_TEST

START_TEST(sum_parse_refuses_bad_text)
{
	static const char *const bad[] = {
		"",
		"0",
		"0123456789abcdeffedcba987654321",	/* 31 */
		"0123456789abcdeffedcba98765432100",	/* 33 */
		"0123456789abcdeffedcba987654321g",
		"g123456789abcdeffedcba9876543210",
		"0123456789abcdef fedcba987654321",
		"0123456789abcdef-fedcba987654321",
		"0x23456789abcdeffedcba9876543210",
		"0123456789abcdeffedcba9876543210 ",
		"0123456789abcdeffedcba9876543210\n",
		" 0123456789abcdeffedcba9876543210",
	};
	struct format_sum s = { .high = 42, .low = 43 };

	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		ck_assert_msg(format_sum_parse(bad[i], &s) == -EINVAL,
			      "'%s' accepted", bad[i]);
		/* Untouched on failure. */
		ck_assert_uint_eq(s.high, 42);
		ck_assert_uint_eq(s.low, 43);
	}
}
END_TEST

static Suite *format_suite(void)
{
	Suite *s = suite_create("format");
	TCase *tc;

	tc = tcase_create("table");
	tcase_add_test(tc, format_ops_of_gives_each_kind_its_ops);
	tcase_add_test(tc, format_ops_of_is_null_out_of_range);
	tcase_add_test(tc, format_kind_parse_knows_each_name);
	tcase_add_test(tc, format_kind_parse_refuses_other_names);
	tcase_add_test(tc, format_kind_for_name_goes_by_the_last_extension);
	suite_add_tcase(s, tc);

	tc = tcase_create("text");
	tcase_add_test(tc, text_reports_each_line_with_its_range);
	tcase_add_test(tc, text_reports_the_last_line_only_at_finish);
	tcase_add_test(tc, text_keeps_crlf_inside_the_record);
	tcase_add_test(tc, text_reports_nothing_for_empty_content);
	tcase_add_test(tc, text_gives_the_same_records_whatever_the_pieces);
	tcase_add_test(tc, opaque_has_no_record_mode);
	suite_add_tcase(s, tc);

	tc = tcase_create("check");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, check_hash_is_xxh3_128_of_the_bytes);
	tcase_add_test(tc, check_hash_of_empty_content_is_the_known_value);
	tcase_add_test(tc, check_fed_counts_the_bytes);
	tcase_add_test(tc, check_of_invalid_json_fails_and_still_hashes);
	tcase_add_test(tc, check_reset_is_as_new);
	tcase_add_test(tc, check_new_refuses_an_invalid_kind);
	tcase_add_test(tc, check_works_for_every_kind);
	suite_add_tcase(s, tc);

	tc = tcase_create("sum");
	tcase_add_test(tc, sum_hex_known_value);
	tcase_add_test(tc, sum_hex_round_trips);
	tcase_add_test(tc, sum_parse_refuses_bad_text);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(format_suite);
}
