// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "core/format.h"
#include "core/format_json_internal.h"
#include "tests/unit/testutil.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a validator said about some content. */
struct verdict {
	int ret;
	uint64_t offset;
	uint64_t line;
	const char *reason;
};

/* A record reported in record mode. */
struct jsonl_rec {
	uint64_t start;
	uint64_t end;
	bool valid;
	uint64_t offset;
	uint64_t line;
	const char *reason;
};

struct records {
	struct jsonl_rec r[16];
	size_t n;
};

struct json_case {
	const char *in;
	size_t len;
	int ret;
	uint64_t offset;
	uint64_t line;
	const char *reason;
};

#define OK(s) { s, sizeof(s) - 1, 0, 0, 0, NULL }
#define BAD(s, off, ln, why) { s, sizeof(s) - 1, -EINVAL, off, ln, why }
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void *state_new(const struct format_ops *ops)
{
	void *st = malloc(ops->state_size);

	ck_assert_ptr_nonnull(st);
	return st;
}

/*
 * Runs @ops in whole-content mode over @len bytes of @in, fed in pieces of
 * @piece bytes (0: whole), the first piece being @first bytes if not 0.
 */
static struct verdict run_split(const struct format_ops *ops, const void *in,
				size_t len, size_t first, size_t piece)
{
	const unsigned char *p = in;
	struct format_error err = { 0 };
	struct verdict v = { 0 };
	void *st = state_new(ops);
	int fed = 0;
	size_t off = 0;

	ck_assert_int_eq(ops->init(st, NULL, NULL), 0);
	while (off < len) {
		size_t n = len - off;
		int ret;

		if (off == 0 && first)
			n = first < n ? first : n;
		else if (piece && piece < n)
			n = piece;
		ret = ops->feed(st, p + off, n);
		/*
		 * Once invalid, always invalid.  (No ck_assert() per feed:
		 * each one that passes is a write to check's pipe.)
		 */
		if ((ret && ret != -EINVAL) || (fed && ret != -EINVAL))
			ck_abort_msg("feed at %zu: %d after %d", off, ret, fed);
		fed = ret;
		off += n;
	}
	v.ret = ops->finish(st, &err);
	ck_assert_msg(!fed || v.ret == -EINVAL, "finish after an error: %d",
		      v.ret);
	if (v.ret) {
		v.offset = err.offset;
		v.line = err.line;
		v.reason = err.reason;
	}
	ops->release(st);
	free(st);
	return v;
}

static struct verdict run(const struct format_ops *ops, const void *in,
			  size_t len)
{
	return run_split(ops, in, len, 0, 0);
}

static void assert_same(const struct verdict *a, const struct verdict *b,
			const char *what, size_t how)
{
	if (a->ret == b->ret && a->offset == b->offset && a->line == b->line &&
	    (a->reason == b->reason ||
	     (a->reason && b->reason && !strcmp(a->reason, b->reason))))
		return;
	ck_abort_msg("%s %zu: %d %llu:%llu '%s' against %d %llu:%llu '%s'",
		     what, how, b->ret, (unsigned long long)b->offset,
		     (unsigned long long)b->line, b->reason ? b->reason : "",
		     a->ret, (unsigned long long)a->offset,
		     (unsigned long long)a->line, a->reason ? a->reason : "");
}

/* Fed whole, one byte at a time and cut anywhere: the same verdict. */
static struct verdict run_every_way(const struct format_ops *ops,
				    const void *in, size_t len, size_t max_cuts)
{
	struct verdict whole = run(ops, in, len), v;

	v = run_split(ops, in, len, 0, 1);
	assert_same(&whole, &v, "one byte at a time", 1);
	for (size_t cut = 1; cut < len && cut <= max_cuts; cut++) {
		v = run_split(ops, in, len, cut, 0);
		assert_same(&whole, &v, "cut at", cut);
	}
	return whole;
}

static void check_cases(const struct format_ops *ops,
			const struct json_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct verdict v = run_every_way(ops, c[i].in, c[i].len, 256);

		ck_assert_msg(v.ret == c[i].ret,
			      "%s case %zu: %d, want %d (%s at %llu)",
			      ops->name, i, v.ret, c[i].ret,
			      v.reason ? v.reason : "",
			      (unsigned long long)v.offset);
		if (c[i].ret == 0)
			continue;
		ck_assert_msg(v.offset == c[i].offset && v.line == c[i].line &&
				      !strcmp(v.reason, c[i].reason),
			      "%s case %zu: %llu:%llu '%s', want %llu:%llu "
			      "'%s'",
			      ops->name, i, (unsigned long long)v.offset,
			      (unsigned long long)v.line, v.reason,
			      (unsigned long long)c[i].offset,
			      (unsigned long long)c[i].line, c[i].reason);
	}
}

/* json: hand-written cases */

START_TEST(json_accepts_valid_values)
{
	static const struct json_case c[] = {
		OK("0"), OK("-0"), OK("-0.0e+0"), OK("1E-2"), OK("10"),
		OK("123456789012345678901234567890e999999999"),
		OK("[]"), OK("{}"), OK("\"\""), OK("true"), OK("false"),
		OK("null"), OK(" \t\r\n[ 1 , 2 ]\n "),
		OK("{\"a\":[true,false,null],\"b\":{},\"c\":[[]],\"d\":-1.5}"),
		OK("\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\uFFFF\""),
		OK("\"\\uD834\\uDD1E\\udbff\\udfff\""),
		OK("\"\x7f ~ \xc2\x80 \xdf\xbf \xe0\xa0\x80 \xed\x9f\xbf\""),
		OK("\"\xee\x80\x80 \xef\xbf\xbf \xf0\x90\x80\x80\""),
		OK("\"\xf4\x8f\xbf\xbf\""),
		OK("{\"\xc3\xa9t\xc3\xa9\":\"\xe2\x82\xac\"}"),
		OK("[\"a long string that spans more than sixteen bytes\"]"),
	};

	check_cases(&format_json_ops, c, N_OF(c));
}
END_TEST

START_TEST(json_rejects_commas_zeros_and_extra_values)
{
	static const struct json_case c[] = {
		BAD("[1,]", 3, 1, "trailing comma"),
		BAD("{\"a\":1,}", 7, 1, "trailing comma"),
		BAD("[1,\n2,\n]", 7, 3, "trailing comma"),
		BAD("[,1]", 1, 1, "expected value"),
		BAD("{,}", 1, 1, "expected key"),
		BAD("[1 2]", 3, 1, "expected ',' or ']'"),
		BAD("01", 1, 1, "leading zero"),
		BAD("-01", 2, 1, "leading zero"),
		BAD("[00]", 2, 1, "leading zero"),
		BAD("1 2", 2, 1, "content after the value"),
		BAD("[] []", 3, 1, "content after the value"),
		BAD("{}\n\n{}", 4, 3, "content after the value"),
		BAD("1.5.", 3, 1, "content after the value"),
		BAD("falsey", 5, 1, "content after the value"),
	};

	check_cases(&format_json_ops, c, N_OF(c));
}
END_TEST

START_TEST(json_rejects_bad_numbers_and_literals)
{
	static const struct json_case c[] = {
		BAD("-", 1, 1, "unexpected end of content"),
		BAD("1.", 2, 1, "unexpected end of content"),
		BAD("1e", 2, 1, "unexpected end of content"),
		BAD("1e+", 3, 1, "unexpected end of content"),
		BAD("1.e1", 2, 1, "invalid number"),
		BAD("-a", 1, 1, "invalid number"),
		BAD("[1e+x]", 4, 1, "invalid number"),
		BAD(".5", 0, 1, "expected value"),
		BAD("+1", 0, 1, "expected value"),
		BAD("[0x1]", 2, 1, "expected ',' or ']'"),
		BAD("tru", 3, 1, "unexpected end of content"),
		BAD("trux", 3, 1, "invalid literal"),
		BAD("[nul]", 4, 1, "invalid literal"),
		BAD("fals", 4, 1, "unexpected end of content"),
		BAD("True", 0, 1, "expected value"),
		BAD("NaN", 0, 1, "expected value"),
	};

	check_cases(&format_json_ops, c, N_OF(c));
}
END_TEST

START_TEST(json_rejects_bad_structure)
{
	static const struct json_case c[] = {
		BAD("[1}", 2, 1, "expected ',' or ']'"),
		BAD("{\"a\":1]", 6, 1, "expected ',' or '}'"),
		BAD("{1:2}", 1, 1, "expected key"),
		BAD("{\"a\" 1}", 5, 1, "expected ':'"),
		BAD("{\"a\":}", 5, 1, "expected value"),
		BAD("]", 0, 1, "expected value"),
		BAD("[", 1, 1, "unexpected end of content"),
		BAD("{\"a\":1", 6, 1, "unexpected end of content"),
		BAD("{\"a\"", 4, 1, "unexpected end of content"),
		BAD("/* c */ 1", 0, 1, "expected value"),
		BAD("[1]//", 3, 1, "content after the value"),
		BAD("['a']", 1, 1, "expected value"),
	};

	check_cases(&format_json_ops, c, N_OF(c));
}
END_TEST

START_TEST(json_allows_only_four_whitespace_bytes)
{
	static const struct json_case c[] = {
		OK(" \t\n\r1 \t\n\r"),
		BAD("\f1", 0, 1, "expected value"),
		BAD("[1,\v2]", 3, 1, "expected value"),
		BAD("\xc2\xa0" "1", 0, 1, "expected value"),
		BAD("1\x00", 1, 1, "content after the value"),
		BAD("\n\n 1\f", 4, 3, "content after the value"),
		BAD("", 0, 1, "empty content"),
		BAD(" ", 1, 1, "unexpected end of content"),
		BAD("\n\r\n", 3, 3, "unexpected end of content"),
		BAD("\xef\xbb\xbf{}", 0, 1, "byte order mark"),
	};

	check_cases(&format_json_ops, c, N_OF(c));
}
END_TEST

START_TEST(json_rejects_invalid_utf8_at_its_first_byte)
{
	static const struct json_case c[] = {
		BAD("\"\xc0\xaf\"", 1, 1, "invalid utf-8"),
		BAD("\"\xc1\xbf\"", 1, 1, "invalid utf-8"),
		BAD("\"ab\xe0\x80\x80\"", 3, 1, "invalid utf-8"),
		BAD("\"\xf0\x8f\xbf\xbf\"", 1, 1, "invalid utf-8"),
		BAD("\"\xed\xa0\x80\"", 1, 1, "invalid utf-8"),
		BAD("\"\xed\xbf\xbf\"", 1, 1, "invalid utf-8"),
		BAD("\"\xf4\x90\x80\x80\"", 1, 1, "invalid utf-8"),
		BAD("\"\xf5\x80\x80\x80\"", 1, 1, "invalid utf-8"),
		BAD("\"\xff\"", 1, 1, "invalid utf-8"),
		BAD("\"x\x80\"", 2, 1, "invalid utf-8"),
		BAD("\"\xc3\xa9\xa9\"", 3, 1, "invalid utf-8"),
		BAD("\"ab\xe2\x82\"", 3, 1, "invalid utf-8"),
		BAD("\"ab\xf0\x9f\x98x\"", 3, 1, "invalid utf-8"),
		/* Truncated at the end of the content. */
		BAD("\"ab\xe2\x82", 3, 1, "invalid utf-8"),
		BAD("[\"\xf4\x8f\xbf", 2, 1, "invalid utf-8"),
		BAD("\"\xc3", 1, 1, "invalid utf-8"),
		/* Outside strings non-ASCII is no value at all. */
		BAD("[\xc3\xa9]", 1, 1, "expected value"),
		/* Truncated, and enough bytes after it for the fast path. */
		BAD("\"\xe2\x82\"               \"", 1, 1, "invalid utf-8"),
	};

	check_cases(&format_json_ops, c, N_OF(c));
}
END_TEST

START_TEST(json_rejects_bad_strings_and_escapes)
{
	static const struct json_case c[] = {
		BAD("\"a\tb\"", 2, 1, "control character in string"),
		BAD("\"a\nb\"", 2, 1, "control character in string"),
		BAD("\n\"\x1f\"", 2, 2, "control character in string"),
		BAD("\"a\x00\"", 2, 1, "control character in string"),
		BAD("\"\\x\"", 2, 1, "invalid escape"),
		BAD("\"\\U0041\"", 2, 1, "invalid escape"),
		BAD("\"\\'\"", 2, 1, "invalid escape"),
		BAD("\"\\u12G4\"", 5, 1, "invalid escape"),
		BAD("\"\\u00\"", 5, 1, "invalid escape"),
		BAD("\"abc", 4, 1, "unterminated string"),
		BAD("\"abc\\", 5, 1, "unterminated string"),
		BAD("\"\\u00", 5, 1, "unterminated string"),
		BAD("{\"a", 3, 1, "unterminated string"),
	};

	check_cases(&format_json_ops, c, N_OF(c));
}
END_TEST

START_TEST(json_rejects_lone_surrogate_escapes_at_their_backslash)
{
	static const struct json_case c[] = {
		BAD("\"\\uD800\"", 1, 1, "lone surrogate escape"),
		BAD("\"\\udbff\"", 1, 1, "lone surrogate escape"),
		BAD("\"\\uDC00\"", 1, 1, "lone surrogate escape"),
		BAD("\"ab\\uDFFF\\uD800\"", 3, 1, "lone surrogate escape"),
		BAD("\"a\\uD800\\u0041\"", 2, 1, "lone surrogate escape"),
		BAD("\"\\uD800\\uD800\"", 1, 1, "lone surrogate escape"),
		BAD("\"\\uD800\\n\"", 1, 1, "lone surrogate escape"),
		BAD("\"\\uD800x\"", 1, 1, "lone surrogate escape"),
		BAD("\"\\uD800\\uDC\"", 1, 1, "lone surrogate escape"),
		BAD("\"\\uD800", 1, 1, "lone surrogate escape"),
		BAD("\"\\uD800\\", 1, 1, "lone surrogate escape"),
		BAD("\"\\uD800\\uDC0", 1, 1, "lone surrogate escape"),
		BAD("\n[\"\\uDE00\"]", 3, 2, "lone surrogate escape"),
	};

	check_cases(&format_json_ops, c, N_OF(c));
}
END_TEST

/* json: nesting */

/* @n '[' then @close ']' and optionally a bad closer. */
static char *brackets(size_t n, size_t close, size_t *len)
{
	char *s = malloc(n + close + 1);

	ck_assert_ptr_nonnull(s);
	memset(s, '[', n);
	memset(s + n, ']', close);
	*len = n + close;
	return s;
}

static void check_deep(size_t n)
{
	struct verdict v;
	size_t len;
	char *s = brackets(n, n, &len);

	v = run(&format_json_ops, s, len);
	ck_assert_msg(v.ret == 0, "%zu levels: %s at %llu", n, v.reason,
		      (unsigned long long)v.offset);
	v = run_split(&format_json_ops, s, len, 0, 1);
	ck_assert_int_eq(v.ret, 0);
	v = run_split(&format_json_ops, s, len, n / 2 + 1, 4093);
	ck_assert_int_eq(v.ret, 0);
	free(s);

	/* One closer short: the content ends inside. */
	s = brackets(n, n - 1, &len);
	v = run(&format_json_ops, s, len);
	ck_assert_int_eq(v.ret, -EINVAL);
	ck_assert_uint_eq(v.offset, 2 * n - 1);
	ck_assert_str_eq(v.reason, "unexpected end of content");
	free(s);

	/* One closer too many. */
	s = brackets(n, n + 1, &len);
	v = run_split(&format_json_ops, s, len, 0, 1);
	ck_assert_int_eq(v.ret, -EINVAL);
	ck_assert_uint_eq(v.offset, 2 * n);
	ck_assert_str_eq(v.reason, "content after the value");
	free(s);
}

START_TEST(json_nests_10000_levels)
{
	check_deep(10000);
}
END_TEST

START_TEST(json_nests_1000000_levels)
{
	check_deep(1000000);
}
END_TEST

/*
 * Arrays and objects mixed over @n levels, level i an object when i % 3 is
 * 0; with @wrong, the closer of level @wrong is the other kind.  Returns
 * the offset of that closer through @at.
 */
static char *mixed(size_t n, size_t wrong, uint64_t *at, size_t *len)
{
	char *s = malloc(n * 6 + 2), *p = s;

	ck_assert_ptr_nonnull(s);
	for (size_t i = 0; i < n; i++) {
		if (i % 3 == 0) {
			memcpy(p, "{\"k\":", 5);
			p += 5;
		} else {
			*p++ = '[';
		}
	}
	*p++ = '0';
	for (size_t i = n; i-- > 0;) {
		bool obj = i % 3 == 0;

		if (i == wrong) {
			*at = (uint64_t)(p - s);
			obj = !obj;
		}
		*p++ = obj ? '}' : ']';
	}
	*len = (size_t)(p - s);
	return s;
}

START_TEST(json_remembers_each_level_kind_deep_down)
{
	static const size_t wrongs[] = { 0, 1, 63, 64, 65, 1000, 99999 };
	struct verdict v;
	uint64_t at = 0;
	size_t len;
	char *s = mixed(100000, SIZE_MAX, &at, &len);

	v = run(&format_json_ops, s, len);
	ck_assert_msg(v.ret == 0, "%s at %llu", v.reason,
		      (unsigned long long)v.offset);
	free(s);
	for (size_t i = 0; i < N_OF(wrongs); i++) {
		s = mixed(100000, wrongs[i], &at, &len);
		v = run_split(&format_json_ops, s, len, 0, 7);
		ck_assert_int_eq(v.ret, -EINVAL);
		ck_assert_uint_eq(v.offset, at);
		ck_assert_str_eq(v.reason, wrongs[i] % 3 == 0 ?
					 "expected ',' or '}'" :
					 "expected ',' or ']'");
		free(s);
	}
}
END_TEST

/* json: lifecycle */

START_TEST(json_has_no_record_mode)
{
	void *st = state_new(&format_json_ops);
	int ctx;

	ck_assert(!format_json_ops.has_records);
	ck_assert_int_eq(format_json_ops.kind, FORMAT_JSON);
	ck_assert_str_eq(format_json_ops.name, "json");
	ck_assert_int_eq(format_json_ops.init(st, (format_record_fn *)1, &ctx),
			 -EINVAL);
	free(st);
}
END_TEST

START_TEST(json_state_can_be_used_again_after_release)
{
	const struct format_ops *ops = &format_json_ops;
	struct format_error err;
	void *st = state_new(ops);
	size_t len;
	char *deep = brackets(5000, 5000, &len);

	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(ops->init(st, NULL, NULL), 0);
		ck_assert_int_eq(ops->feed(st, (unsigned char *)deep, len), 0);
		ck_assert_int_eq(ops->finish(st, &err), 0);
		ops->release(st);
		ck_assert_int_eq(ops->init(st, NULL, NULL), 0);
		ck_assert_int_eq(ops->feed(st, (unsigned char *)"[1,]", 4),
				 -EINVAL);
		ck_assert_int_eq(ops->feed(st, (unsigned char *)"1", 1),
				 -EINVAL);
		ck_assert_int_eq(ops->finish(st, &err), -EINVAL);
		ck_assert_uint_eq(err.offset, 3);
		ops->release(st);
	}
	/* An init()ed state that was never fed, and NULL. */
	ck_assert_int_eq(ops->init(st, NULL, NULL), 0);
	ops->release(st);
	ops->release(NULL);
	free(deep);
	free(st);
}
END_TEST

/* json: JSONTestSuite */

/*
 * The implementation-defined files of JSONTestSuite and what we do with
 * them: numbers are syntax only, strings must be valid Unicode (UTF-8, no
 * lone surrogate escapes), no byte order mark.
 */
static const struct {
	const char *name;
	bool valid;
} i_files[] = {
	{ "i_number_double_huge_neg_exp.json", true },
	{ "i_number_huge_exp.json", true },
	{ "i_number_neg_int_huge_exp.json", true },
	{ "i_number_pos_double_huge_exp.json", true },
	{ "i_number_real_neg_overflow.json", true },
	{ "i_number_real_pos_overflow.json", true },
	{ "i_number_real_underflow.json", true },
	{ "i_number_too_big_neg_int.json", true },
	{ "i_number_too_big_pos_int.json", true },
	{ "i_number_very_big_negative_int.json", true },
	{ "i_object_key_lone_2nd_surrogate.json", false },
	{ "i_string_1st_surrogate_but_2nd_missing.json", false },
	{ "i_string_1st_valid_surrogate_2nd_invalid.json", false },
	{ "i_string_UTF-16LE_with_BOM.json", false },
	{ "i_string_UTF-8_invalid_sequence.json", false },
	{ "i_string_UTF8_surrogate_U+D800.json", false },
	{ "i_string_incomplete_surrogate_and_escape_valid.json", false },
	{ "i_string_incomplete_surrogate_pair.json", false },
	{ "i_string_incomplete_surrogates_escape_valid.json", false },
	{ "i_string_invalid_lonely_surrogate.json", false },
	{ "i_string_invalid_surrogate.json", false },
	{ "i_string_invalid_utf-8.json", false },
	{ "i_string_inverted_surrogates_U+1D11E.json", false },
	{ "i_string_iso_latin_1.json", false },
	{ "i_string_lone_second_surrogate.json", false },
	{ "i_string_lone_utf8_continuation_byte.json", false },
	{ "i_string_not_in_unicode_range.json", false },
	{ "i_string_overlong_sequence_2_bytes.json", false },
	{ "i_string_overlong_sequence_6_bytes.json", false },
	{ "i_string_overlong_sequence_6_bytes_null.json", false },
	{ "i_string_truncated-utf-8.json", false },
	{ "i_string_utf16BE_no_BOM.json", false },
	{ "i_string_utf16LE_no_BOM.json", false },
	{ "i_structure_500_nested_arrays.json", true },
	{ "i_structure_UTF-8_BOM_empty_object.json", false },
};

/* Whether @name's expected verdict is valid. */
static bool expected_valid(const char *name)
{
	if (name[0] == 'y')
		return true;
	if (name[0] == 'n')
		return false;
	for (size_t i = 0; i < N_OF(i_files); i++)
		if (!strcmp(i_files[i].name, name))
			return i_files[i].valid;
	ck_abort_msg("'%s' is not in the table of i_ files", name);
	return false;
}

/* One JSONTestSuite file: its expected verdict, fed every way. */
static void check_suite_file(const char *name, const char *buf, size_t len,
			     void *ctx)
{
	size_t *counts = ctx;
	bool valid = expected_valid(name);
	struct verdict v;

	counts[name[0] == 'y' ? 0 : name[0] == 'n' ? 1 : 2]++;
	v = run_every_way(&format_json_ops, buf, len, 512);
	ck_assert_msg(valid == (v.ret == 0), "'%s': %s (%s at %llu)", name,
		      v.ret ? "rejected" : "accepted", v.reason ? v.reason : "",
		      (unsigned long long)v.offset);
	ck_assert(v.ret == 0 || v.offset <= len);
	/*
	 * A one-line file is one JSONL record with the same verdict,
	 * unless blank (a blank line is no record to check).
	 */
	if (strspn(buf, " \t\r") < len && !memchr(buf, '\n', len)) {
		struct verdict l = run_every_way(&format_jsonl_ops, buf, len,
						 64);

		assert_same(&v, &l, name, 0);
	}
}

START_TEST(json_passes_jsontestsuite_fed_any_way)
{
	size_t counts[3] = { 0 };

	testutil_jsontestsuite_each(check_suite_file, counts);
	ck_assert_uint_ge(counts[0], 90);
	ck_assert_uint_ge(counts[1], 180);
	ck_assert_uint_eq(counts[2], N_OF(i_files));
}
END_TEST

/* jsonl */

START_TEST(jsonl_accepts_lines_of_values)
{
	static const struct json_case c[] = {
		OK(""), OK("\n"), OK("1\n2\n"), OK("1\r\n2\r\n"),
		OK("{\"a\":1}\n  \n[1]"), OK("1\n\n\n"), OK(" \t\r\n"),
		OK("\"x\"\n{}\n[]\ntrue\nnull\n-1.5e3\n"), OK("0"),
	};

	check_cases(&format_jsonl_ops, c, N_OF(c));
}
END_TEST

START_TEST(jsonl_rejects_the_first_invalid_line)
{
	static const struct json_case c[] = {
		BAD("1 2\n", 2, 1, "content after the value"),
		BAD("1\n[\n2\n", 3, 2, "unexpected end of line"),
		BAD("[1,\n2]\n", 3, 1, "unexpected end of line"),
		BAD("1\n\"ab\n", 5, 2, "unterminated string"),
		BAD("1\n\"\\uD800\n", 3, 2, "lone surrogate escape"),
		BAD("1\n\"\xe2\x82\n", 3, 2, "invalid utf-8"),
		BAD("1\n2\n3 x\n[,]\n", 6, 3, "content after the value"),
		BAD("1\n[", 3, 2, "unexpected end of content"),
		BAD("1\n\n12 \r 3", 8, 3, "content after the value"),
		BAD("1\r2\n", 2, 1, "content after the value"),
		BAD("\xef\xbb\xbf" "1\n", 0, 1, "byte order mark"),
		BAD("1\n2\n\xef\xbb\xbf" "1\n", 4, 3, "expected value"),
		BAD("[1,]\n[1,]\n", 3, 1, "trailing comma"),
	};

	check_cases(&format_jsonl_ops, c, N_OF(c));
}
END_TEST

static void on_record(void *ctx, uint64_t start, uint64_t end,
		      const struct format_error *err)
{
	struct records *rs = ctx;
	struct jsonl_rec *r = &rs->r[rs->n];

	ck_assert_uint_lt(rs->n, N_OF(rs->r));
	rs->n++;
	r->start = start;
	r->end = end;
	r->valid = !err;
	if (err) {
		r->offset = err->offset;
		r->line = err->line;
		r->reason = err->reason;
	}
}

/* Record mode over @in fed in pieces of @piece bytes (0: whole). */
static struct records run_records(const char *in, size_t len, size_t piece)
{
	const struct format_ops *ops = &format_jsonl_ops;
	struct records rs = { .n = 0 };
	struct format_error err = { 0 };
	void *st = state_new(ops);

	ck_assert_int_eq(ops->init(st, on_record, &rs), 0);
	for (size_t off = 0; off < len;) {
		size_t n = piece && piece < len - off ? piece : len - off;

		if (ops->feed(st, (const unsigned char *)in + off, n))
			ck_abort_msg("feed in record mode at %zu failed", off);
		off += n;
	}
	ck_assert_int_eq(ops->finish(st, &err), 0);
	ops->release(st);
	free(st);
	return rs;
}

static void assert_records(const char *in, size_t len,
			   const struct jsonl_rec *want, size_t n)
{
	static const size_t pieces[] = { 0, 1, 2, 3, 5, 7 };

	for (size_t k = 0; k < N_OF(pieces); k++) {
		struct records rs = run_records(in, len, pieces[k]);

		ck_assert_uint_eq(rs.n, n);
		for (size_t i = 0; i < n; i++) {
			const struct jsonl_rec *g = &rs.r[i], *w = &want[i];

			ck_assert_msg(g->start == w->start &&
					      g->end == w->end &&
					      g->valid == w->valid,
				      "piece %zu record %zu: [%llu, %llu) %d",
				      pieces[k], i,
				      (unsigned long long)g->start,
				      (unsigned long long)g->end, g->valid);
			if (w->valid)
				continue;
			ck_assert_uint_eq(g->offset, w->offset);
			ck_assert_uint_eq(g->line, w->line);
			ck_assert_str_eq(g->reason, w->reason);
		}
	}
}

START_TEST(jsonl_reports_every_record_with_its_range)
{
	static const char in[] = "1\n[1,]\n\n  \r\n{\"a\":\n\"x\"";
	static const struct jsonl_rec want[] = {
		{ 0, 2, true, 0, 0, NULL },
		{ 2, 7, false, 5, 2, "trailing comma" },
		{ 7, 8, true, 0, 0, NULL },
		{ 8, 12, true, 0, 0, NULL },
		{ 12, 18, false, 17, 5, "unexpected end of line" },
		{ 18, 21, true, 0, 0, NULL },
	};

	assert_records(in, sizeof(in) - 1, want, N_OF(want));
}
END_TEST

START_TEST(jsonl_records_go_on_after_an_invalid_one)
{
	static const char in[] = "[x, \"\xff\n2\n\"\xc0\"\n{}\n[";
	static const struct jsonl_rec want[] = {
		{ 0, 7, false, 1, 1, "expected value" },
		{ 7, 9, true, 0, 0, NULL },
		{ 9, 13, false, 10, 3, "invalid utf-8" },
		{ 13, 16, true, 0, 0, NULL },
		{ 16, 17, false, 17, 5, "unexpected end of content" },
	};

	assert_records(in, sizeof(in) - 1, want, N_OF(want));
}
END_TEST

START_TEST(jsonl_reports_nothing_for_empty_content)
{
	struct records rs = run_records("", 0, 0);

	ck_assert_uint_eq(rs.n, 0);
	rs = run_records("\n", 1, 0);
	ck_assert_uint_eq(rs.n, 1);
	ck_assert(rs.r[0].valid);
	ck_assert_uint_eq(rs.r[0].end, 1);
}
END_TEST

START_TEST(jsonl_lines_nest_deep_and_start_afresh)
{
	size_t n = 1000000, len;
	char *s = malloc(2 * n + 16);
	struct verdict v;

	ck_assert_ptr_nonnull(s);
	memset(s, '[', n);
	memset(s + n, ']', n);
	memcpy(s + 2 * n, "\n[\n1\n", 5);
	len = 2 * n + 5;
	v = run(&format_jsonl_ops, s, len);
	ck_assert_int_eq(v.ret, -EINVAL);
	ck_assert_uint_eq(v.offset, 2 * n + 2);
	ck_assert_uint_eq(v.line, 2);
	ck_assert_str_eq(v.reason, "unexpected end of line");
	v = run_split(&format_jsonl_ops, s, len, 0, 1);
	ck_assert_uint_eq(v.offset, 2 * n + 2);
	s[2 * n + 1] = ' ';
	v = run(&format_jsonl_ops, s, len);
	ck_assert_int_eq(v.ret, 0);
	free(s);
}
END_TEST

START_TEST(jsonl_ops_describe_a_record_format)
{
	ck_assert(format_jsonl_ops.has_records);
	ck_assert_int_eq(format_jsonl_ops.kind, FORMAT_JSONL);
	ck_assert_str_eq(format_jsonl_ops.name, "jsonl");
	ck_assert_uint_gt(format_jsonl_ops.state_size, 0);
}
END_TEST


/*
 * Typical content, the SIMD fast path's daily bread: objects of escaped
 * and raw UTF-8 strings, integers (some cut by a 64-byte block), fractions
 * and exponents, numbers longer than 16 bytes, literals, nested levels,
 * every whitespace byte.  One value per line, each ending in ",\n" for json
 * (wrapped in [ ]) or "\n" for jsonl.
 */
static char *typical_content(bool jsonl, size_t *len)
{
	static const char *const names[] = {
		"plain words", "tab\\there \\\"quoted\\\"", "C:\\\\temp\\\\f.txt",
		"caf\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80",
		"escaped \\u00e9 and \\ud83d\\ude00", "line\\nbreak \\/ \\b\\f\\r",
	};
	static const char *const numbers[] = {
		"0", "-0", "7", "1234567", "-42", "0.5", "-1.25e3", "3.493E-3",
		"12345678901234567890123", "-0.000000000000000000001e+999",
	};
	size_t cap = 200000, n = 0, i;
	char *s = malloc(cap);

	ck_assert_ptr_nonnull(s);
	if (!jsonl)
		n += (size_t)sprintf(s, "[\n");
	for (i = 0; n < cap - 1000; i++) {
		n += (size_t)sprintf(s + n,
			"%s{\"id\":%zu,\t\"name\" : \"%s\",\"n\":[%s, %s,%s],"
			"\"ok\":%s,\"x\":{\"k\":[true,{\"z\":null}],\"e\":{}},"
			"\"a\":[ ]}%s\r\n", jsonl ? "" : "  ", i * 7919,
			names[i % 6], numbers[i % 10], numbers[(i + 3) % 10],
			numbers[(i + 7) % 10], i % 3 ? "false" : "true",
			jsonl ? "" : ",");
		if (jsonl && i % 50 == 0)
			n += (size_t)sprintf(s + n, " \t\r\n\n");
	}
	if (!jsonl)
		n += (size_t)sprintf(s + n, "  0\n]\n");
	*len = n;
	return s;
}

/* Runs the fast path alone over @s: how far it went, the machine there. */
static size_t simd_alone(struct json_machine *m, const char *s, size_t len,
			 bool jsonl)
{
	size_t exact_to;

	format_json_machine_init(m);
	m->lines = jsonl ? JSON_LINES_ON : JSON_LINES_OFF;
	return format_json_simd_run(m, (const unsigned char *)s, len,
				    &exact_to);
}

START_TEST(simd_goes_over_typical_content_alone)
{
	bool jsonl = _i;
	struct json_machine m;
	size_t len, done, lines = 1;
	char *s = typical_content(jsonl, &len);

	if (!format_json_simd_supported()) {
		ck_assert_uint_eq(simd_alone(&m, s, len, jsonl), 0);
		format_json_machine_release(&m);
		free(s);
		return;
	}
	/*
	 * Valid content: the fast path proves all of it but what its last
	 * block and slack leave to the machine, and stops between tokens on
	 * the right line.
	 */
	done = simd_alone(&m, s, len, jsonl);
	ck_assert_uint_ge(done, len - 64 - 16 - 128);
	ck_assert_uint_eq(m.offset, done);
	ck_assert_uint_le(m.state, S_DONE);
	for (size_t i = 0; i < done; i++)
		lines += s[i] == '\n';
	ck_assert_uint_eq(m.line, lines);
	format_json_machine_release(&m);
	free(s);
}
END_TEST

START_TEST(simd_hands_nesting_past_64_levels_to_the_machine)
{
	struct json_machine m;
	char s[400];
	size_t done;

	memset(s, ' ', sizeof(s));
	memset(s, '[', 70);
	memset(s + 100, ']', 70);
	done = simd_alone(&m, s, sizeof(s), false);
	if (format_json_simd_supported()) {
		ck_assert_uint_eq(done, 64);
		ck_assert_uint_eq(m.depth, 64);
		ck_assert_uint_eq(m.state, S_ARR_FIRST);
	}
	format_json_machine_release(&m);
	/* And the machine goes on from there: valid, fed whole. */
	format_json_simd_enable(true);
	ck_assert_int_eq(run(&format_json_ops, s, sizeof(s)).ret, 0);
}
END_TEST

static Suite *format_json_suite(void)
{
	Suite *s = suite_create("format_json");
	TCase *tc;

	tc = tcase_create("json");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, json_accepts_valid_values);
	tcase_add_test(tc, json_rejects_commas_zeros_and_extra_values);
	tcase_add_test(tc, json_rejects_bad_numbers_and_literals);
	tcase_add_test(tc, json_rejects_bad_structure);
	tcase_add_test(tc, json_allows_only_four_whitespace_bytes);
	tcase_add_test(tc, json_rejects_invalid_utf8_at_its_first_byte);
	tcase_add_test(tc, json_rejects_bad_strings_and_escapes);
	tcase_add_test(tc,
		       json_rejects_lone_surrogate_escapes_at_their_backslash);
	tcase_add_test(tc, json_has_no_record_mode);
	tcase_add_test(tc, json_state_can_be_used_again_after_release);
	suite_add_tcase(s, tc);

	tc = tcase_create("nesting");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, json_nests_10000_levels);
	tcase_add_test(tc, json_nests_1000000_levels);
	tcase_add_test(tc, json_remembers_each_level_kind_deep_down);
	suite_add_tcase(s, tc);

	tc = tcase_create("jsontestsuite");
	tcase_set_timeout(tc, 300);
	tcase_add_test(tc, json_passes_jsontestsuite_fed_any_way);
	suite_add_tcase(s, tc);

	tc = tcase_create("jsonl");
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, jsonl_accepts_lines_of_values);
	tcase_add_test(tc, jsonl_rejects_the_first_invalid_line);
	tcase_add_test(tc, jsonl_reports_every_record_with_its_range);
	tcase_add_test(tc, jsonl_records_go_on_after_an_invalid_one);
	tcase_add_test(tc, jsonl_reports_nothing_for_empty_content);
	tcase_add_test(tc, jsonl_lines_nest_deep_and_start_afresh);
	tcase_add_test(tc, jsonl_ops_describe_a_record_format);
	suite_add_tcase(s, tc);

	tc = tcase_create("simd");
	tcase_add_loop_test(tc, simd_goes_over_typical_content_alone, 0, 2);
	tcase_add_test(tc, simd_hands_nesting_past_64_levels_to_the_machine);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(format_json_suite);
}
