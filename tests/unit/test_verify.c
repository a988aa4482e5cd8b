// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "core/verify.h"
#include "tests/unit/testutil.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Every test gets a fresh backing dir in the run's temp dir. */
static char dir[PATH_MAX];
static struct io *io;

static void setup(void)
{
	testutil_backing_init(dir, &io);
}

static void teardown(void)
{
	testutil_backing_release(dir, &io);
}

/* Writes @text to @name; returns an fd open for reading and writing. */
static int put(const char *name, const char *text)
{
	testutil_write_text(dir, name, text);
	return testutil_open(dir, name, O_RDWR);
}

static struct verify_result check(int fd, enum format_kind kind)
{
	struct verify_result r;
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(verify_fd(io, fd, &st, kind, NULL, NULL, &r), 0);
	return r;
}

START_TEST(a_file_without_a_record_is_unrecorded_or_damaged)
{
	int fd = put("a.json", "{\"a\": [1, 2]}\n");
	int bad = put("b.json", "{\"a\": [1, 2,]}\n");
	int empty = put("c.json", "");
	struct verify_result r = check(fd, FORMAT_JSON);

	ck_assert_int_eq(r.state, VERIFY_UNRECORDED);
	ck_assert(!r.has_record);
	ck_assert_uint_eq(r.size, 14);
	r = check(bad, FORMAT_JSON);
	ck_assert_int_eq(r.state, VERIFY_DAMAGED);
	ck_assert_str_eq(r.err.reason, "trailing comma");
	ck_assert_uint_eq(r.err.offset, 12);
	ck_assert_uint_eq(r.err.line, 1);
	/* Empty content is accepted whatever the format, as at a commit. */
	ck_assert_int_eq(check(empty, FORMAT_JSON).state, VERIFY_UNRECORDED);
	close(fd);
	close(bad);
	close(empty);
}
END_TEST

START_TEST(a_recorded_file_verifies_and_its_format_is_the_records)
{
	int fd = put("x.dat", "a,b\n1,2\n");
	struct verify_result r;

	testutil_record_now(fd, FORMAT_CSV, RECORD_OK);
	/* The record says csv: the default given is not used. */
	r = check(fd, FORMAT_JSON);
	ck_assert_int_eq(r.state, VERIFY_OK);
	ck_assert(r.has_record);
	ck_assert_int_eq(r.format, FORMAT_CSV);
	ck_assert(r.sum.high == r.record.sum.high && r.sum.low == r.record.sum.low);
	ck_assert_ptr_null(r.why);
	close(fd);
}
END_TEST

START_TEST(bit_rot_that_keeps_size_and_mtime_is_damage)
{
	int fd = put("t.txt", "hello world\n");
	struct verify_result r;

	testutil_record_now(fd, FORMAT_TEXT, RECORD_OK);
	testutil_rot(fd, 3, 'L');
	r = check(fd, FORMAT_TEXT);
	ck_assert_int_eq(r.state, VERIFY_DAMAGED);
	ck_assert_ptr_nonnull(strstr(r.why, "checksum"));
	close(fd);
}
END_TEST

START_TEST(a_change_behind_the_mount_is_changed_when_valid_damaged_when_not)
{
	int fd = put("c.json", "[1]\n");
	struct verify_result r;

	testutil_record_now(fd, FORMAT_JSON, RECORD_OK);
	ck_assert_int_eq(pwrite(fd, "[2, 3]\n", 7, 0), 7);
	r = check(fd, FORMAT_JSON);
	ck_assert_int_eq(r.state, VERIFY_CHANGED);
	ck_assert_int_eq(pwrite(fd, "[2, 3,]", 7, 0), 7);
	r = check(fd, FORMAT_JSON);
	ck_assert_int_eq(r.state, VERIFY_DAMAGED);
	ck_assert_str_eq(r.err.reason, "trailing comma");
	close(fd);
}
END_TEST

START_TEST(content_committed_invalid_by_a_rule_is_checked_by_its_sum)
{
	int fd = put("i.json", "{oops}\n");

	testutil_record_now(fd, FORMAT_JSON, RECORD_INVALID);
	ck_assert_int_eq(check(fd, FORMAT_JSON).state, VERIFY_OK);
	testutil_rot(fd, 1, 'O');
	ck_assert_int_eq(check(fd, FORMAT_JSON).state, VERIFY_DAMAGED);
	close(fd);
}
END_TEST

START_TEST(a_garbled_record_counts_as_none)
{
	int fd = put("g.json", "{}\n");

	ck_assert_int_eq(fsetxattr(fd, RECORD_XATTR, "v1 garbage", 10, 0), 0);
	ck_assert_int_eq(check(fd, FORMAT_JSON).state, VERIFY_UNRECORDED);
	close(fd);
}
END_TEST

START_TEST(state_names)
{
	ck_assert_str_eq(verify_state_name(VERIFY_OK), "ok");
	ck_assert_str_eq(verify_state_name(VERIFY_UNRECORDED), "unrecorded");
	ck_assert_str_eq(verify_state_name(VERIFY_CHANGED), "changed");
	ck_assert_str_eq(verify_state_name(VERIFY_DAMAGED), "damaged");
	ck_assert_str_eq(verify_state_name((enum verify_state)99), "unknown");
}
END_TEST

static Suite *verify_suite(void)
{
	Suite *s = suite_create("verify");
	TCase *tc = tcase_create("verify");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, a_file_without_a_record_is_unrecorded_or_damaged);
	tcase_add_test(tc, a_recorded_file_verifies_and_its_format_is_the_records);
	tcase_add_test(tc, bit_rot_that_keeps_size_and_mtime_is_damage);
	tcase_add_test(tc, a_change_behind_the_mount_is_changed_when_valid_damaged_when_not);
	tcase_add_test(tc, content_committed_invalid_by_a_rule_is_checked_by_its_sum);
	tcase_add_test(tc, a_garbled_record_counts_as_none);
	tcase_add_test(tc, state_names);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run_in_temp_dir("verify", verify_suite);
}
