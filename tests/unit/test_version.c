// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "core/version.h"
#include "tests/unit/testutil.h"

#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* 2026-11-23T11:05:09Z, the example of version.h. */
#define T_EXAMPLE 1795431909

static struct timespec at(time_t sec, long nsec)
{
	struct timespec t = { .tv_sec = sec, .tv_nsec = nsec };

	return t;
}

/* version_name() into a static buffer, failing the test on an error. */
static const char *name_of(time_t sec, long nsec, const char *file,
			   unsigned int seq)
{
	static char buf[VERSION_NAME_MAX];
	struct timespec t = at(sec, nsec);
	int ret = version_name(buf, sizeof(buf), &t, file, seq);

	ck_assert_msg(ret == 0, "version_name('%s', %u) returned %d", file,
		      seq, ret);
	return buf;
}

/* version_ext */

START_TEST(version_ext_returns_the_last_extension_inside_the_name)
{
	static const char txt[] = "a.txt";
	static const char tgz[] = "archive.tar.gz";

	ck_assert_str_eq(version_ext(txt), ".txt");
	ck_assert_ptr_eq(version_ext(txt), txt + 1);
	ck_assert_str_eq(version_ext(tgz), ".gz");
	ck_assert_ptr_eq(version_ext(tgz), tgz + 11);
	ck_assert_str_eq(version_ext("Makefile.am"), ".am");
	ck_assert_str_eq(version_ext("photo.JPEG"), ".JPEG");
	ck_assert_str_eq(version_ext("x.tar_v-2"), ".tar_v-2");
	ck_assert_str_eq(version_ext("..a"), ".a");
}
END_TEST

START_TEST(version_ext_is_empty_for_dot_files_and_no_extension)
{
	ck_assert_str_eq(version_ext(".bashrc"), "");
	ck_assert_str_eq(version_ext("noext"), "");
	ck_assert_str_eq(version_ext("x."), "");
	ck_assert_str_eq(version_ext("."), "");
	ck_assert_str_eq(version_ext(""), "");
}
END_TEST

START_TEST(version_ext_is_empty_if_the_ext_has_spaces_or_symbols)
{
	ck_assert_str_eq(version_ext("a.b c"), "");
	ck_assert_str_eq(version_ext("a. txt"), "");
	ck_assert_str_eq(version_ext("a.txt "), "");
	ck_assert_str_eq(version_ext("a.t!t"), "");
	ck_assert_str_eq(version_ext("a.t~"), "");
	ck_assert_str_eq(version_ext("a.t\nt"), "");
	ck_assert_str_eq(version_ext("a.\xc3\xa9t\xc3\xa9"), "");
}
END_TEST

START_TEST(version_ext_is_empty_for_extensions_past_15_characters)
{
	/* The dot and 15 characters are an extension, 16 are not. */
	ck_assert_str_eq(version_ext("a.abcdefghijklmno"), ".abcdefghijklmno");
	ck_assert_str_eq(version_ext("a.abcdefghijklmnop"), "");
	ck_assert_str_eq(version_ext("a.0123456789012345678901234567890123"),
			 "");
}
END_TEST

/* version_name */

START_TEST(version_name_is_the_utc_millisecond_and_the_extension)
{
	ck_assert_str_eq(name_of(T_EXAMPLE, 123456789, "report.csv", 0),
			 "2026-11-23T11-05-09.123Z.csv");
	ck_assert_str_eq(name_of(T_EXAMPLE, 123456789, "noext", 0),
			 "2026-11-23T11-05-09.123Z");
	ck_assert_str_eq(name_of(T_EXAMPLE, 123456789, ".bashrc", 0),
			 "2026-11-23T11-05-09.123Z");
	ck_assert_str_eq(name_of(T_EXAMPLE, 123456789, "archive.tar.gz", 0),
			 "2026-11-23T11-05-09.123Z.gz");
	ck_assert_str_eq(name_of(T_EXAMPLE, 123456789, "a b.c d", 0),
			 "2026-11-23T11-05-09.123Z");
	ck_assert_str_eq(name_of(0, 0, "x.txt", 0),
			 "1970-01-01T00-00-00.000Z.txt");
}
END_TEST

START_TEST(version_name_rounds_down_to_the_millisecond)
{
	ck_assert_str_eq(name_of(T_EXAMPLE, 999999999, "a.txt", 0),
			 "2026-11-23T11-05-09.999Z.txt");
	ck_assert_str_eq(name_of(T_EXAMPLE, 1999999, "a.txt", 0),
			 "2026-11-23T11-05-09.001Z.txt");
	ck_assert_str_eq(name_of(T_EXAMPLE, 999999, "a.txt", 0),
			 "2026-11-23T11-05-09.000Z.txt");
}
END_TEST

START_TEST(version_name_puts_the_seq_before_the_extension)
{
	ck_assert_str_eq(name_of(T_EXAMPLE, 123456789, "report.csv", 1),
			 "2026-11-23T11-05-09.123Z~001.csv");
	ck_assert_str_eq(name_of(T_EXAMPLE, 123456789, "report.csv", 42),
			 "2026-11-23T11-05-09.123Z~042.csv");
	ck_assert_str_eq(name_of(T_EXAMPLE, 123456789, "noext", 1),
			 "2026-11-23T11-05-09.123Z~001");
}
END_TEST

START_TEST(version_name_refuses_a_seq_over_999)
{
	struct timespec t = at(T_EXAMPLE, 0);
	char buf[VERSION_NAME_MAX];

	ck_assert_int_eq(version_name(buf, sizeof(buf), &t, "a.txt", 1000),
			 -EINVAL);
}
END_TEST

START_TEST(version_names_sort_in_time_order)
{
	/* Ascending: same ms with seq, next ms, next s, next day, year. */
	static const struct {
		time_t sec;
		long nsec;
		unsigned int seq;
	} when[] = {
		{ T_EXAMPLE - 86400, 999000000, 0 },
		{ T_EXAMPLE, 0, 0 },
		{ T_EXAMPLE, 123000000, 0 },
		{ T_EXAMPLE, 123999999, 1 },
		{ T_EXAMPLE, 123000000, 2 },
		{ T_EXAMPLE, 123000000, 9 },
		{ T_EXAMPLE, 123000000, 10 },
		{ T_EXAMPLE, 123000000, 999 },
		{ T_EXAMPLE, 124000000, 0 },
		{ T_EXAMPLE, 124000000, 1 },
		{ T_EXAMPLE + 1, 0, 0 },
		{ T_EXAMPLE + 3600, 0, 0 },
		{ 1798761599, 999000000, 0 },
		{ 1798761600, 0, 0 },
	};
	static const char *const files[] = { "report.csv", "noext", "a.b c" };

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char prev[VERSION_NAME_MAX] = "";

		for (size_t i = 0; i < sizeof(when) / sizeof(when[0]); i++) {
			const char *cur = name_of(when[i].sec, when[i].nsec,
						  files[f], when[i].seq);

			ck_assert_msg(strcmp(prev, cur) < 0,
				      "'%s' does not sort before '%s'", prev,
				      cur);
			snprintf(prev, sizeof(prev), "%s", cur);
		}
	}
}
END_TEST

START_TEST(version_name_fails_with_enametoolong_on_a_small_buffer)
{
	static const char want[] = "2026-11-23T11-05-09.123Z~001.csv";
	struct timespec t = at(T_EXAMPLE, 123456789);
	char buf[VERSION_NAME_MAX];

	ck_assert_int_eq(version_name(NULL, 0, &t, "report.csv", 1),
			 -ENAMETOOLONG);
	ck_assert_int_eq(version_name(buf, 1, &t, "report.csv", 1),
			 -ENAMETOOLONG);
	ck_assert_int_eq(version_name(buf, 10, &t, "report.csv", 1),
			 -ENAMETOOLONG);
	/* Room for the name but not its NUL. */
	ck_assert_int_eq(version_name(buf, sizeof(want) - 1, &t, "report.csv",
				      1),
			 -ENAMETOOLONG);
	ck_assert_int_eq(version_name(buf, sizeof(want), &t, "report.csv", 1),
			 0);
	ck_assert_str_eq(buf, want);
}
END_TEST

/* version_name_is_valid */

START_TEST(version_name_is_valid_accepts_every_name_made)
{
	static const char *const files[] = {
		"report.csv", "noext", ".bashrc", "archive.tar.gz", "x.",
		"a b.c d", "a.abcdefghijklmno", "Makefile.am",
	};
	static const unsigned int seqs[] = { 0, 1, 9, 10, 999 };
	static const time_t secs[] = { 0, T_EXAMPLE, 1798761599, 4102444799 };

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++)
		for (size_t s = 0; s < sizeof(seqs) / sizeof(seqs[0]); s++)
			for (size_t t = 0; t < sizeof(secs) / sizeof(secs[0]);
			     t++) {
				const char *n = name_of(secs[t], 987654321,
							files[f], seqs[s]);

				ck_assert_msg(version_name_is_valid(n),
					      "'%s' refused", n);
			}
}
END_TEST

START_TEST(version_name_is_valid_rejects_garbage)
{
	static const char *const bad[] = {
		"",
		"report.csv",
		"2026",
		"2026-11-23T11-05-09",
		"2026-11-23T11-05-09.123",
		"2026-11-23T11-05-09.12Z",
		"2026-11-23T11-05-09.123z",
		"2026-11-23T11:05:09.123Z",
		"2026-11-23 11-05-09.123Z",
		"2026/11/23T11-05-09.123Z",
		"2026-1a-23T11-05-09.123Z",
		"x2026-11-23T11-05-09.123Z",
		"2026-11-23T11-05-09.123Zjunk",
		"2026-11-23T11-05-09.123Z.csv/x",
		"2026-11-23T11-05-09.123Z~",
		"2026-11-23T11-05-09.123Z~x",
		"2026-11-23T11-05-09.123Z~1x",
		"2026-11-23T11-05-09.123Z~-1",
		/* An orphan's name is not a version's. */
		"2026-11-23T11-05-09.123Z-report.csv-123-0",
		".orphans",
		"..",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!version_name_is_valid(bad[i]), "'%s' accepted",
			      bad[i]);
}
END_TEST

START_TEST(version_name_is_valid_rejects_extensions_never_made)
{
	/* What follows the time must be an extension version_ext() keeps. */
	static const char *const bad[] = {
		"2026-11-23T11-05-09.123Z.",
		"2026-11-23T11-05-09.123Z..",
		"2026-11-23T11-05-09.123Z.a b",
		"2026-11-23T11-05-09.123Z.c\nd",
		"2026-11-23T11-05-09.123Z.tar.gz",
		"2026-11-23T11-05-09.123Z.abcdefghijklmnop",
		"2026-11-23T11-05-09.123Z~1.a b",
		"2026-11-23T11-05-09.123Z.csv~1",
		/* Seqs start at 1 and have no leading zeros. */
		"2026-11-23T11-05-09.123Z~0",
		"2026-11-23T11-05-09.123Z~01.csv",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!version_name_is_valid(bad[i]), "'%s' accepted",
			      bad[i]);
}
END_TEST

static Suite *version_suite(void)
{
	Suite *s = suite_create("version");
	TCase *tc;

	tc = tcase_create("ext");
	tcase_add_test(tc,
		       version_ext_returns_the_last_extension_inside_the_name);
	tcase_add_test(tc, version_ext_is_empty_for_dot_files_and_no_extension);
	tcase_add_test(tc,
		       version_ext_is_empty_if_the_ext_has_spaces_or_symbols);
	tcase_add_test(tc,
		       version_ext_is_empty_for_extensions_past_15_characters);
	suite_add_tcase(s, tc);

	tc = tcase_create("name");
	tcase_add_test(tc,
		       version_name_is_the_utc_millisecond_and_the_extension);
	tcase_add_test(tc, version_name_rounds_down_to_the_millisecond);
	tcase_add_test(tc, version_name_puts_the_seq_before_the_extension);
	tcase_add_test(tc, version_name_refuses_a_seq_over_999);
	tcase_add_test(tc, version_names_sort_in_time_order);
	tcase_add_test(tc,
		       version_name_fails_with_enametoolong_on_a_small_buffer);
	suite_add_tcase(s, tc);

	tc = tcase_create("valid");
	tcase_add_test(tc, version_name_is_valid_accepts_every_name_made);
	tcase_add_test(tc, version_name_is_valid_rejects_garbage);
	tcase_add_test(tc, version_name_is_valid_rejects_extensions_never_made);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run(version_suite);
}
