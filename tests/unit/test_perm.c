// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "core/perm.h"

#include <check.h>
#include <stdlib.h>
#include <unistd.h>

static struct stat mk(mode_t mode, uid_t uid, gid_t gid)
{
	struct stat st = { 0 };

	st.st_mode = mode;
	st.st_uid = uid;
	st.st_gid = gid;
	return st;
}

START_TEST(perm_owner_bits_apply_to_owner)
{
	struct stat st = mk(S_IFREG | 0640, 1000, 100);

	ck_assert(perm_allows(&st, 1000, 5, NULL, 0, R_OK | W_OK));
	ck_assert(!perm_allows(&st, 1000, 5, NULL, 0, X_OK));
}
END_TEST

START_TEST(perm_group_bits_use_supplementary_groups)
{
	struct stat st = mk(S_IFREG | 0640, 1000, 100);
	gid_t groups[] = { 7, 100 };

	ck_assert(perm_allows(&st, 2000, 5, groups, 2, R_OK));
	ck_assert(!perm_allows(&st, 2000, 5, groups, 2, W_OK));
	ck_assert(!perm_allows(&st, 2000, 5, groups, 1, R_OK));
	ck_assert(perm_allows(&st, 2000, 100, NULL, 0, R_OK));
}
END_TEST

START_TEST(perm_owner_bits_win_over_other_bits)
{
	struct stat st = mk(S_IFREG | 0007, 1000, 100);

	ck_assert(!perm_allows(&st, 1000, 100, NULL, 0, R_OK));
	ck_assert(perm_allows(&st, 3000, 300, NULL, 0, R_OK | W_OK | X_OK));
}
END_TEST

START_TEST(perm_root_executes_only_with_an_x_bit)
{
	struct stat f = mk(S_IFREG | 0600, 1000, 100);
	struct stat x = mk(S_IFREG | 0601, 1000, 100);
	struct stat d = mk(S_IFDIR | 0000, 1000, 100);

	ck_assert(perm_allows(&f, 0, 0, NULL, 0, R_OK | W_OK));
	ck_assert(!perm_allows(&f, 0, 0, NULL, 0, X_OK));
	ck_assert(perm_allows(&x, 0, 0, NULL, 0, X_OK));
	ck_assert(perm_allows(&d, 0, 0, NULL, 0, X_OK));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("perm");
	TCase *tc = tcase_create("perm");
	SRunner *sr;
	int failed;

	tcase_add_test(tc, perm_owner_bits_apply_to_owner);
	tcase_add_test(tc, perm_group_bits_use_supplementary_groups);
	tcase_add_test(tc, perm_owner_bits_win_over_other_bits);
	tcase_add_test(tc, perm_root_executes_only_with_an_x_bit);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
