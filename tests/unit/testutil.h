/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Fixtures the unit tests share: a temp dir for the whole run, a fresh
 * backing dir per test inside it, and helpers on the files of a dir.
 *
 * A file is named by @dir and @name, the path @dir/@name; @name may have
 * slashes.  A helper fails the running test (ck_assert) on any error it does
 * not return, so the tests read as what they check.  Call the helpers from
 * the test's own thread: check runs each test in a child process of its own
 * and a failed assertion ends it.
 */
#ifndef HYDRAFS_TESTS_UNIT_TESTUTIL_H
#define HYDRAFS_TESTS_UNIT_TESTUTIL_H

#include "core/format.h"
#include "core/io.h"
#include "core/record.h"

#include <check.h>
#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/stat.h>
#include <sys/types.h>

/* Runs the suite @make_suite returns (CK_RUN_* from the environment). */
int testutil_run(Suite *(*make_suite)(void));

/*
 * testutil_run() in a temp dir "$TMPDIR/hydrafs-test-@name.XXXXXX", made
 * before the run and removed after it, so a test that fails before its
 * teardown leaves nothing behind.  Both return the exit status for main()
 * (99, a hard error, when the temp dir cannot be made).
 */
int testutil_run_in_temp_dir(const char *name, Suite *(*make_suite)(void));

/* A test case of @s with the fixture @setup/@teardown, added to @s. */
TCase *testutil_add_tcase(Suite *s, const char *name, void (*setup)(void),
			  void (*teardown)(void), double timeout);

/* @dir/@name into @buf (PATH_MAX). */
void testutil_join(char *buf, const char *dir, const char *name);

/* Makes the dir "@what.XXXXXX" in the run's temp dir; its path into @buf. */
void testutil_make_temp_dir(char *buf, const char *what);

/* Removes @path and all below it, as much as can be removed ("": nothing). */
void testutil_remove_tree(const char *path);

/*
 * A test's backing dir: testutil_backing_init() sets the umask to 022,
 * makes a temp dir "backing.XXXXXX", its path into @root (PATH_MAX), and
 * opens *@io on it; testutil_backing_release() frees *@io (leaving NULL)
 * and removes @root.
 */
void testutil_backing_init(char *root, struct io **io);
void testutil_backing_release(const char *root, struct io **io);

/*
 * Writes @len bytes of @data as the whole content of the file; a missing
 * one is made 0644 (less the umask), an existing one keeps its mode.
 */
void testutil_write_file(const char *dir, const char *name, const void *data,
			 size_t len);
/* The same for the string @text. */
void testutil_write_text(const char *dir, const char *name, const char *text);

/*
 * Calls @fn with each file of JSONTestSuite's test_parsing dir ($TESTDATA,
 * else ../shared/testdata), named [iny]_*.json: its name and content
 * (NUL-terminated, freed after the call).  Returns how many.
 */
size_t testutil_jsontestsuite_each(void (*fn)(const char *name,
					      const char *buf, size_t len,
					      void *ctx),
				   void *ctx);

/* Makes the dir with mode @mode exactly (whatever the umask). */
void testutil_make_dir(const char *dir, const char *name, mode_t mode);

/* An fd of the file, open()ed with @flags | O_CLOEXEC (made 0600). */
int testutil_open(const char *dir, const char *name, int flags);

/* An O_PATH handle of the file, as the daemon holds one per inode. */
int testutil_handle(const char *dir, const char *name);

/* Whether there is an entry of that name (lstat() finds it). */
bool testutil_has_entry(const char *dir, const char *name);

/* The lstat() of the entry, which must be there. */
struct stat testutil_lstat(const char *dir, const char *name);

/*
 * The whole content of the file (not followed if a symlink), NUL-terminated;
 * its length in *@len unless @len is NULL.  Caller frees with free().
 */
char *testutil_read_file(const char *dir, const char *name, size_t *len);

/* The same for the file open at @fd, read from offset 0. */
char *testutil_read_fd(int fd, size_t *len);

/*
 * Whether the regular file holds exactly @text; false if it cannot be
 * opened.  Says on stderr what a file that differs holds.
 */
bool testutil_has_text(const char *dir, const char *name, const char *text);

/* Whether the file open at @fd holds exactly @text (of at most 4 KiB). */
bool testutil_fd_has_text(int fd, const char *text);

/* Lines of the file that hold both @a and @b (@b NULL: any). */
int testutil_lines_with(const char *dir, const char *name, const char *a,
			const char *b);

/* Entries of the dir but "." and ".."; -1 when it is missing. */
int testutil_count_entries(const char *dir, const char *name);

/*
 * The @i-th entry of the dir in sorted order, after "." and "..": its name
 * into @entry (NAME_MAX + 1) and the path @name/<entry> into @path
 * (PATH_MAX); either may be NULL.
 */
void testutil_nth_entry(const char *dir, const char *name, int i, char *entry,
			char *path);

/*
 * The extended attribute @xattr of the entry (not followed if a symlink),
 * NUL-terminated, into @buf of @size bytes; its length or -errno.
 */
ssize_t testutil_xattr(const char *dir, const char *name, const char *xattr,
		       char *buf, size_t size);

/*
 * Gives the file open at @fd (not O_PATH) the record a commit of its
 * content as @kind would, in state @state.
 */
void testutil_record_now(int fd, enum format_kind kind,
			 enum record_state state);

/* Bit rot: overwrites byte @off of the file at @fd with @c, keeping times. */
void testutil_rot(int fd, off_t off, char c);

#endif
