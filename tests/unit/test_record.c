// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "core/record.h"
#include "tests/unit/testutil.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* A valid record text; tests below break one field of it at a time. */
#define GOOD_SUM "0123456789abcdeffedcba9876543210"

static const struct record example = {
	.format = FORMAT_JSON,
	.state = RECORD_OK,
	.size = 12,
	.mtime_sec = 1795431909,
	.mtime_nsec = 500000000,
	.ino = 42,
	.has_sum = true,
	.sum = { .high = 0x0123456789abcdefULL, .low = 0xfedcba9876543210ULL },
};

static int parse(const char *text, struct record *r)
{
	return record_parse(text, strlen(text), r);
}

static void assert_record_eq(const struct record *got,
			     const struct record *want)
{
	ck_assert_int_eq(got->format, want->format);
	ck_assert_int_eq(got->state, want->state);
	ck_assert_uint_eq(got->size, want->size);
	ck_assert_int_eq(got->mtime_sec, want->mtime_sec);
	ck_assert_uint_eq(got->mtime_nsec, want->mtime_nsec);
	ck_assert_uint_eq(got->ino, want->ino);
	ck_assert_int_eq(got->has_sum, want->has_sum);
	if (want->has_sum) {
		ck_assert_uint_eq(got->sum.high, want->sum.high);
		ck_assert_uint_eq(got->sum.low, want->sum.low);
	}
}

/* record_format */

START_TEST(record_format_writes_the_documented_line)
{
	char buf[RECORD_TEXT_MAX];
	struct record r = example;
	static const char want[] = "v1 format=json state=ok size=12 "
				   "mtime=1795431909.500000000 ino=42 "
				   "sum=" GOOD_SUM;

	ck_assert_uint_eq(record_format(&r, buf), sizeof(want) - 1);
	ck_assert_str_eq(buf, want);

	r.has_sum = false;
	r.state = RECORD_INVALID;
	r.format = FORMAT_TSV;
	r.mtime_nsec = 5;
	record_format(&r, buf);
	ck_assert_str_eq(buf, "v1 format=tsv state=invalid size=12 "
			      "mtime=1795431909.000000005 ino=42 sum=-");
}
END_TEST

START_TEST(record_format_then_parse_round_trips)
{
	static const struct record recs[] = {
		{ FORMAT_OPAQUE, RECORD_OK, 0, 0, 0, 0, false, { 0, 0 } },
		{ FORMAT_TEXT, RECORD_INVALID, 1, 1, 1, 1, true, { 0, 0 } },
		{ FORMAT_JSON, RECORD_OK, 12, 1795431909, 500000000, 42, true,
		  { 0x0123456789abcdefULL, 0xfedcba9876543210ULL } },
		{ FORMAT_JSONL, RECORD_INVALID, 1ULL << 63, INT64_MAX,
		  999999999, UINT64_MAX, true, { UINT64_MAX, UINT64_MAX } },
		{ FORMAT_CSV, RECORD_OK, UINT64_MAX, 4102444799, 999999999,
		  1ULL << 63, false, { 0, 0 } },
		{ FORMAT_TSV, RECORD_INVALID, 4096, 1000000000, 1, 7, true,
		  { 1, 0x8000000000000000ULL } },
		/* Before 1970 (touch -d 1960-01-01), as in struct timespec. */
		{ FORMAT_TEXT, RECORD_OK, 5, -1, 500000000, 9, false, { 0, 0 } },
		{ FORMAT_JSON, RECORD_OK, 5, -315619200, 0, 9, false, { 0, 0 } },
	};

	for (size_t i = 0; i < N_ELEMS(recs); i++) {
		char buf[RECORD_TEXT_MAX];
		struct record back;
		size_t len = record_format(&recs[i], buf);

		ck_assert_uint_eq(len, strlen(buf));
		ck_assert_uint_lt(len, RECORD_TEXT_MAX);
		memset(&back, 0xa5, sizeof(back));
		ck_assert_msg(record_parse(buf, len, &back) == 0,
			      "'%s' refused", buf);
		assert_record_eq(&back, &recs[i]);
	}
}
END_TEST

/* record_parse */

START_TEST(record_parse_reads_the_example)
{
	struct record r;

	ck_assert_int_eq(parse("v1 format=json state=ok size=12 "
			       "mtime=1795431909.500000000 ino=42 sum=" GOOD_SUM,
			       &r),
			 0);
	assert_record_eq(&r, &example);
	/* Upper-case hex is read too. */
	ck_assert_int_eq(parse("v1 format=json state=ok size=12 "
			       "mtime=1795431909.500000000 ino=42 "
			       "sum=0123456789ABCDEFFEDCBA9876543210",
			       &r),
			 0);
	assert_record_eq(&r, &example);
}
END_TEST

START_TEST(record_parse_takes_any_order_and_ignores_unknown_keys)
{
	struct record r;

	ck_assert_int_eq(parse("v1 sum=" GOOD_SUM " ino=42 future=x=y "
			       "mtime=1795431909.500000000 size=12 state=ok "
			       "format=json zz=",
			       &r),
			 0);
	assert_record_eq(&r, &example);
}
END_TEST

START_TEST(record_parse_ignores_extra_spaces)
{
	struct record r;

	ck_assert_int_eq(parse("v1   format=json  state=ok size=12   "
			       "mtime=1795431909.500000000 ino=42 sum=" GOOD_SUM
			       "   ",
			       &r),
			 0);
	assert_record_eq(&r, &example);
}
END_TEST

START_TEST(record_parse_reads_only_len_bytes)
{
	static const char text[] = "v1 format=json state=ok size=12 "
				   "mtime=1795431909.500000000 ino=42 "
				   "sum=" GOOD_SUM "ff";
	struct record r;

	/* The trailing "ff" is past len: not part of the sum. */
	ck_assert_int_eq(record_parse(text, sizeof(text) - 3, &r), 0);
	assert_record_eq(&r, &example);
	ck_assert_int_eq(record_parse(text, sizeof(text) - 1, &r), -EINVAL);
	/* Cut inside: a key is lost. */
	ck_assert_int_eq(record_parse(text, 20, &r), -EINVAL);
}
END_TEST

START_TEST(record_parse_rejects_bad_records)
{
	static const char *const bad[] = {
		"",
		"v1",
		"v1 ",
		"v2 format=json state=ok size=12 mtime=1.000000000 ino=1 sum=-",
		"V1 format=json state=ok size=12 mtime=1.000000000 ino=1 sum=-",
		" v1 format=json state=ok size=12 mtime=1.000000000 ino=1 sum=-",
		"v1format=json state=ok size=12 mtime=1.000000000 ino=1 sum=-",
		/* Missing keys. */
		"v1 state=ok size=12 mtime=1.000000000 ino=1 sum=-",
		"v1 format=json size=12 mtime=1.000000000 ino=1 sum=-",
		"v1 format=json state=ok mtime=1.000000000 ino=1 sum=-",
		"v1 format=json state=ok size=12 ino=1 sum=-",
		"v1 format=json state=ok size=12 mtime=1.000000000 sum=-",
		"v1 format=json state=ok size=12 mtime=1.000000000 ino=1",
		/* Bad numbers. */
		"v1 format=json state=ok size=-1 mtime=1.000000000 ino=1 sum=-",
		"v1 format=json state=ok size=+1 mtime=1.000000000 ino=1 sum=-",
		"v1 format=json state=ok size= mtime=1.000000000 ino=1 sum=-",
		"v1 format=json state=ok size=12a mtime=1.000000000 ino=1 sum=-",
		"v1 format=json state=ok size=0x1 mtime=1.000000000 ino=1 sum=-",
		"v1 format=json state=ok size=1.5 mtime=1.000000000 ino=1 sum=-",
		"v1 format=json state=ok size=18446744073709551616 "
		"mtime=1.000000000 ino=1 sum=-",
		"v1 format=json state=ok size=99999999999999999999 "
		"mtime=1.000000000 ino=1 sum=-",
		"v1 format=json state=ok size=12 mtime=1.000000000 "
		"ino=18446744073709551616 sum=-",
		"v1 format=json state=ok size=12 mtime=1.000000000 ino=-5 sum=-",
		"v1 format=json state=ok size=12 mtime=1.000000000 ino= sum=-",
		"v1 format=json state=ok size=12 mtime=1.000000000 ino=x sum=-",
		/* mtime: seconds, a dot, exactly 9 digits. */
		"v1 format=json state=ok size=12 mtime=1.5 ino=1 sum=-",
		"v1 format=json state=ok size=12 mtime=1.00000000 ino=1 sum=-",
		"v1 format=json state=ok size=12 mtime=1.0000000000 ino=1 sum=-",
		"v1 format=json state=ok size=12 mtime=1 ino=1 sum=-",
		"v1 format=json state=ok size=12 mtime=.000000000 ino=1 sum=-",
		"v1 format=json state=ok size=12 mtime=1. ino=1 sum=-",
		"v1 format=json state=ok size=12 mtime=--1.000000000 ino=1 sum=-",
		"v1 format=json state=ok size=12 mtime=-.000000000 ino=1 sum=-",
		"v1 format=json format=json state=ok size=12 mtime=1.000000000 ino=1 sum=-",
		"v1 format=json state=ok size=12 mtime=1.00000000x ino=1 sum=-",
		"v1 format=json state=ok size=12 mtime=1.-00000000 ino=1 sum=-",
		"v1 format=json state=ok size=12 mtime=1.0.0000000 ino=1 sum=-",
		"v1 format=json state=ok size=12 mtime=x.000000000 ino=1 sum=-",
		"v1 format=json state=ok size=12 mtime=9223372036854775808."
		"000000000 ino=1 sum=-",
		/* Sums of 31 and 33 digits, non-hex, empty. */
		"v1 format=json state=ok size=12 mtime=1.000000000 ino=1 "
		"sum=0123456789abcdeffedcba987654321",
		"v1 format=json state=ok size=12 mtime=1.000000000 ino=1 "
		"sum=0123456789abcdeffedcba98765432100",
		"v1 format=json state=ok size=12 mtime=1.000000000 ino=1 "
		"sum=0123456789abcdeffedcba987654321g",
		"v1 format=json state=ok size=12 mtime=1.000000000 ino=1 sum=",
		"v1 format=json state=ok size=12 mtime=1.000000000 ino=1 sum=--",
		/* Unknown format and state. */
		"v1 format=xml state=ok size=12 mtime=1.000000000 ino=1 sum=-",
		"v1 format=JSON state=ok size=12 mtime=1.000000000 ino=1 sum=-",
		"v1 format= state=ok size=12 mtime=1.000000000 ino=1 sum=-",
		"v1 format=unknown state=ok size=12 mtime=1.000000000 ino=1 "
		"sum=-",
		"v1 format=jsonjsonjsonjsonjsonjsonjsonjsonjson state=ok "
		"size=12 mtime=1.000000000 ino=1 sum=-",
		"v1 format=json state=OK size=12 mtime=1.000000000 ino=1 sum=-",
		"v1 format=json state=bad size=12 mtime=1.000000000 ino=1 sum=-",
		"v1 format=json state= size=12 mtime=1.000000000 ino=1 sum=-",
		"v1 format=json state=okay size=12 mtime=1.000000000 ino=1 "
		"sum=-",
		/* A word without '='. */
		"v1 format=json state=ok size=12 mtime=1.000000000 ino=1 sum=- "
		"junk",
		"v1 format=json state=ok size 12 mtime=1.000000000 ino=1 sum=-",
	};
	static const struct record untouched = { .size = 77, .ino = 78 };

	for (size_t i = 0; i < N_ELEMS(bad); i++) {
		struct record r = untouched;

		ck_assert_msg(parse(bad[i], &r) == -EINVAL, "'%s' accepted",
			      bad[i]);
		ck_assert_uint_eq(r.size, 77);
		ck_assert_uint_eq(r.ino, 78);
	}
}
END_TEST

START_TEST(record_parse_accepts_the_limits)
{
	struct record r;

	ck_assert_int_eq(parse("v1 format=csv state=invalid "
			       "size=18446744073709551615 "
			       "mtime=9223372036854775807.999999999 "
			       "ino=18446744073709551615 sum=-",
			       &r),
			 0);
	ck_assert_int_eq(r.format, FORMAT_CSV);
	ck_assert_int_eq(r.state, RECORD_INVALID);
	ck_assert_uint_eq(r.size, UINT64_MAX);
	ck_assert_int_eq(r.mtime_sec, INT64_MAX);
	ck_assert_uint_eq(r.mtime_nsec, 999999999);
	ck_assert_uint_eq(r.ino, UINT64_MAX);
	ck_assert(!r.has_sum);
	/* Leading zeros are digits like any other. */
	ck_assert_int_eq(parse("v1 format=text state=ok size=007 "
			       "mtime=0.000000000 ino=00 sum=-",
			       &r),
			 0);
	ck_assert_uint_eq(r.size, 7);
	ck_assert_int_eq(r.mtime_sec, 0);
	ck_assert_uint_eq(r.mtime_nsec, 0);
	ck_assert_uint_eq(r.ino, 0);
}
END_TEST

/* record_matches */

static struct stat stat_of(const struct record *r)
{
	struct stat st;

	memset(&st, 0, sizeof(st));
	st.st_size = (off_t)r->size;
	st.st_mtim.tv_sec = (time_t)r->mtime_sec;
	st.st_mtim.tv_nsec = (long)r->mtime_nsec;
	st.st_ino = (ino_t)r->ino;
	/* Fields a record does not describe. */
	st.st_mode = S_IFREG | 0644;
	st.st_nlink = 1;
	st.st_ctim.tv_sec = 1;
	st.st_atim.tv_sec = 2;
	return st;
}

START_TEST(record_matches_only_the_same_size_mtime_and_inode)
{
	const struct record *r = &example;
	struct stat st = stat_of(r), other;

	ck_assert(record_matches(r, &st));

	other = st;
	other.st_size++;
	ck_assert(!record_matches(r, &other));
	other = st;
	other.st_size = 0;
	ck_assert(!record_matches(r, &other));
	other = st;
	other.st_mtim.tv_sec--;
	ck_assert(!record_matches(r, &other));
	other = st;
	other.st_mtim.tv_nsec++;
	ck_assert(!record_matches(r, &other));
	other = st;
	other.st_mtim.tv_nsec = 0;
	ck_assert(!record_matches(r, &other));
	other = st;
	other.st_ino = 43;
	ck_assert(!record_matches(r, &other));

	/* Other fields do not count. */
	other = st;
	other.st_mode = S_IFREG | 0600;
	other.st_nlink = 3;
	other.st_ctim.tv_sec = 999;
	other.st_atim.tv_nsec = 5;
	other.st_blocks = 8;
	ck_assert(record_matches(r, &other));
}
END_TEST

START_TEST(record_matches_ignores_the_sum_format_and_state)
{
	struct record r = example;
	struct stat st = stat_of(&example);

	r.has_sum = false;
	r.sum.high = 0;
	r.format = FORMAT_OPAQUE;
	r.state = RECORD_INVALID;
	ck_assert(record_matches(&r, &st));
}
END_TEST

static Suite *record_suite(void)
{
	Suite *s = suite_create("record");
	TCase *tc;

	tc = tcase_create("format");
	tcase_add_test(tc, record_format_writes_the_documented_line);
	tcase_add_test(tc, record_format_then_parse_round_trips);
	suite_add_tcase(s, tc);

	tc = tcase_create("parse");
	tcase_add_test(tc, record_parse_reads_the_example);
	tcase_add_test(tc,
		       record_parse_takes_any_order_and_ignores_unknown_keys);
	tcase_add_test(tc, record_parse_ignores_extra_spaces);
	tcase_add_test(tc, record_parse_reads_only_len_bytes);
	tcase_add_test(tc, record_parse_rejects_bad_records);
	tcase_add_test(tc, record_parse_accepts_the_limits);
	suite_add_tcase(s, tc);

	tc = tcase_create("matches");
	tcase_add_test(tc, record_matches_only_the_same_size_mtime_and_inode);
	tcase_add_test(tc, record_matches_ignores_the_sum_format_and_state);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(record_suite);
}
