// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "core/io.h"
#include "tests/unit/testutil.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

/*
 * Every test gets a fresh backing dir and a dir outside it (the place a
 * symlink or ".." would escape to), both in the run's temp dir.
 */
static char root[PATH_MAX];
static char outside[PATH_MAX];
static struct io *io;

/* Accepted refusals of a path that crosses a symlink or leaves the root. */
#define assert_refused(expr)                                                 \
	do {                                                                 \
		long ret_ = (long)(expr);                                    \
		ck_assert_msg(ret_ == -ENOTDIR || ret_ == -ELOOP ||          \
				      ret_ == -EACCES,                       \
			      "%s returned %ld, want -ENOTDIR, -ELOOP or "   \
			      "-EACCES",                                     \
			      #expr, ret_);                                  \
	} while (0)

static void setup(void)
{
	testutil_backing_init(root, &io);
	testutil_make_temp_dir(outside, "outside");
}

static void teardown(void)
{
	testutil_backing_release(root, &io);
	testutil_remove_tree(outside);
}

static void make_symlink(const char *target, const char *dir,
			 const char *name)
{
	char path[PATH_MAX];

	testutil_join(path, dir, name);
	ck_assert_msg(symlink(target, path) == 0, "cannot link '%s': %s",
		      path, strerror(errno));
}

/*
 * The escape routes: "link" is a symlink to the outside dir, "rlink" a
 * relative one to it, "flink" one to the file "secret" in it, "dangling" one
 * to a name not yet there, "inlink" one to the backing dir itself (never
 * followed either); "mine" is a file of the backing dir and "sub" a dir
 * outside.
 */
static void make_escape_links(void)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "../%s", strrchr(outside, '/') + 1);
	make_symlink(path, root, "rlink");
	make_symlink(".", root, "inlink");

	testutil_write_text(outside, "file", "secret");
	testutil_join(path, outside, "sub");
	ck_assert_int_eq(mkdir(path, 0755), 0);
	make_symlink("file", outside, "olink");
	testutil_write_text(root, "mine", "mine");
	make_symlink(outside, root, "link");
	testutil_join(path, outside, "file");
	make_symlink(path, root, "flink");
	testutil_join(path, outside, "created");
	make_symlink(path, root, "dangling");
}

static bool outside_is_untouched(void)
{
	struct stat st = testutil_lstat(outside, "file");

	return testutil_has_text(outside, "file", "secret") &&
	       (st.st_mode & 07777) == 0644 && st.st_nlink == 1 &&
	       testutil_has_entry(outside, "sub") &&
	       testutil_has_entry(outside, "olink");
}

/* io_new, io_free */

START_TEST(io_new_fails_with_enoent_on_a_missing_dir)
{
	char path[PATH_MAX];
	struct io *other = io;

	testutil_join(path, root, "nosuch");
	ck_assert_int_eq(io_new(path, &other), -ENOENT);
	ck_assert_ptr_eq(other, io);
}
END_TEST

START_TEST(io_new_fails_with_enotdir_on_a_file)
{
	char path[PATH_MAX];
	struct io *other = io;

	testutil_write_text(root, "file", "x");
	testutil_join(path, root, "file");
	ck_assert_int_eq(io_new(path, &other), -ENOTDIR);
	ck_assert_ptr_eq(other, io);
}
END_TEST

START_TEST(io_new_follows_a_symlink_naming_the_backing_dir)
{
	char path[PATH_MAX];
	struct io *other = NULL;
	struct stat st;

	testutil_write_text(root, "file", "x");
	make_symlink(root, outside, "to-root");
	testutil_join(path, outside, "to-root");
	ck_assert_int_eq(io_new(path, &other), 0);
	ck_assert_ptr_nonnull(other);
	ck_assert_int_ge(io_rootfd(other), 0);
	ck_assert_int_eq(io_lstat(other, "file", &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	io_free(other);
}
END_TEST

START_TEST(io_free_and_io_closedir_accept_null)
{
	io_free(NULL);
	io_closedir(NULL);
}
END_TEST

/* No path leaves the backing dir. */

START_TEST(io_open_refuses_symlink_in_path)
{
	make_escape_links();
	assert_refused(io_open(io, "link/file", O_RDONLY, 0));
	assert_refused(io_open(io, "link/file", O_WRONLY | O_TRUNC, 0));
	assert_refused(io_open(io, "link/new", O_WRONLY | O_CREAT, 0644));
	assert_refused(io_open(io, "link/sub", O_RDONLY | O_DIRECTORY, 0));
	assert_refused(io_open(io, "link/sub/new", O_WRONLY | O_CREAT, 0644));
	assert_refused(io_open(io, "rlink/file", O_RDONLY, 0));
	assert_refused(io_open(io, "rlink/new", O_WRONLY | O_CREAT, 0644));
	assert_refused(io_open(io, "inlink/mine", O_RDONLY, 0));
	assert_refused(io_open(io, "inlink/new", O_WRONLY | O_CREAT, 0644));
	ck_assert(outside_is_untouched());
	ck_assert(!testutil_has_entry(outside, "new"));
	ck_assert(!testutil_has_entry(outside, "sub/new"));
	ck_assert(!testutil_has_entry(root, "new"));
}
END_TEST

START_TEST(io_open_refuses_a_final_symlink_with_eloop)
{
	make_escape_links();
	ck_assert_int_eq(io_open(io, "flink", O_RDONLY, 0), -ELOOP);
	ck_assert_int_eq(io_open(io, "flink", O_WRONLY | O_TRUNC, 0), -ELOOP);
	/* O_DIRECTORY may report the link as -ENOTDIR first. */
	assert_refused(io_open(io, "link", O_RDONLY | O_DIRECTORY, 0));
	ck_assert(outside_is_untouched());
}
END_TEST

START_TEST(io_open_never_creates_through_a_dangling_symlink)
{
	make_escape_links();
	assert_refused(io_open(io, "dangling", O_WRONLY | O_CREAT, 0644));
	ck_assert(!testutil_has_entry(outside, "created"));
	ck_assert(S_ISLNK(testutil_lstat(root, "dangling").st_mode));
}
END_TEST

START_TEST(io_namespace_calls_refuse_symlink_in_path)
{
	struct stat st;
	char buf[64];

	make_escape_links();
	assert_refused(io_lstat(io, "link/file", &st));
	assert_refused(io_lstat(io, "link/sub/x", &st));
	assert_refused(io_mkdir(io, "link/x", 0755));
	assert_refused(io_mknod(io, "link/p", S_IFIFO | 0600, 0));
	assert_refused(io_symlink(io, "t", "link/s"));
	assert_refused(io_readlink(io, "link/olink", buf, sizeof(buf)));
	assert_refused(io_unlink(io, "link/file"));
	assert_refused(io_unlink(io, "link/olink"));
	assert_refused(io_rmdir(io, "link/sub"));
	assert_refused(io_rename(io, "mine", "link/mine", 0));
	assert_refused(io_rename(io, "mine", "link/mine", RENAME_NOREPLACE));
	assert_refused(io_rename(io, "mine", "link/file", RENAME_EXCHANGE));
	assert_refused(io_rename(io, "link/file", "stolen", 0));
	assert_refused(io_link(io, "link/file", "stolen"));
	assert_refused(io_link(io, "mine", "link/mine"));
	assert_refused(io_lstat(io, "rlink/file", &st));
	assert_refused(io_unlink(io, "rlink/file"));
	assert_refused(io_lstat(io, "inlink/mine", &st));
	assert_refused(io_mkdir(io, "inlink/x", 0755));
	assert_refused(io_rename(io, "mine", "inlink/moved", 0));
	ck_assert(outside_is_untouched());
	ck_assert(!testutil_has_entry(outside, "x"));
	ck_assert(!testutil_has_entry(outside, "p"));
	ck_assert(!testutil_has_entry(outside, "s"));
	ck_assert(!testutil_has_entry(outside, "mine"));
	ck_assert(!testutil_has_entry(root, "stolen"));
	ck_assert(!testutil_has_entry(root, "x"));
	ck_assert(!testutil_has_entry(root, "moved"));
	ck_assert(testutil_has_text(root, "mine", "mine"));
}
END_TEST

START_TEST(io_attribute_calls_refuse_symlink_in_path)
{
	const struct timespec ts[2] = { { 1, 0 }, { 2, 0 } };
	struct statvfs sv;
	struct io_dir *d = NULL;
	struct stat before;
	char path[PATH_MAX], buf[256];

	make_escape_links();
	before = testutil_lstat(outside, "file");
	assert_refused(io_chmod(io, "link/file", 0777));
	assert_refused(io_chown(io, "link/file", 1, 1));
	assert_refused(io_utimens(io, "link/file", ts));
	assert_refused(io_truncate(io, "link/file", 0));
	assert_refused(io_truncate(io, "flink", 0));
	assert_refused(io_truncate(io, "inlink/mine", 0));
	assert_refused(io_chmod(io, "inlink/mine", 0777));
	assert_refused(io_setxattr(io, "inlink/mine", "user.x", "1", 1, 0));
	assert_refused(io_setxattr(io, "link/file", "user.x", "1", 1, 0));
	assert_refused(io_getxattr(io, "link/file", "user.x", buf, 256));
	assert_refused(io_listxattr(io, "link/file", buf, sizeof(buf)));
	assert_refused(io_removexattr(io, "link/file", "user.x"));
	assert_refused(io_opendir(io, "link", &d));
	assert_refused(io_opendir(io, "link/sub", &d));
	ck_assert_ptr_null(d);
	/* statvfs names no file of its own: it reports the backing fs. */
	ck_assert_int_eq(io_statvfs(io, ".", &sv), 0);
	ck_assert(outside_is_untouched());
	ck_assert_int_eq(testutil_lstat(outside, "file").st_mtim.tv_sec,
			 before.st_mtim.tv_sec);
	ck_assert_int_eq(testutil_lstat(outside, "file").st_uid, before.st_uid);
	testutil_join(path, outside, "file");
	ck_assert_int_lt(getxattr(path, "user.x", buf, sizeof(buf)), 0);
}
END_TEST

START_TEST(io_lstat_reports_a_symlink_itself)
{
	struct stat st;

	make_escape_links();
	ck_assert_int_eq(io_lstat(io, "link", &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(st.st_size, (off_t)strlen(outside));
	ck_assert_int_eq(io_lstat(io, "flink", &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(io_lstat(io, "dangling", &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
}
END_TEST

START_TEST(io_readlink_returns_the_target_and_its_length)
{
	char target[PATH_MAX], buf[PATH_MAX];

	make_escape_links();
	testutil_join(target, outside, "file");
	ck_assert_int_eq(io_readlink(io, "flink", buf, sizeof(buf)),
			 (ssize_t)strlen(target));
	ck_assert_str_eq(buf, target);
	ck_assert_int_eq(io_symlink(io, "a/b/../c", "rel"), 0);
	ck_assert_int_eq(io_readlink(io, "rel", buf, sizeof(buf)), 8);
	ck_assert_str_eq(buf, "a/b/../c");
	ck_assert_int_eq(io_readlink(io, "mine", buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(io_readlink(io, "nosuch", buf, sizeof(buf)),
			 -ENOENT);
	ck_assert_int_eq(io_readlink(io, "rel", buf, 0), -EINVAL);
}
END_TEST

START_TEST(io_dotdot_components_cannot_escape)
{
	char up[PATH_MAX], up_new[PATH_MAX], deep[PATH_MAX];
	const char *name = strrchr(outside, '/') + 1;
	struct io_dir *d = NULL;
	struct stat st;

	make_escape_links();
	ck_assert_int_eq(io_mkdir(io, "a", 0755), 0);
	/* These name real entries outside, so only the ".." rule refuses. */
	snprintf(up, sizeof(up), "../%s/file", name);
	snprintf(up_new, sizeof(up_new), "../%s/new", name);
	snprintf(deep, sizeof(deep), "a/../../%s/file", name);
	assert_refused(io_open(io, "../x", O_RDONLY, 0));
	assert_refused(io_open(io, up, O_RDONLY, 0));
	assert_refused(io_open(io, deep, O_RDWR, 0));
	assert_refused(io_open(io, up_new, O_WRONLY | O_CREAT, 0644));
	assert_refused(io_lstat(io, "a/../../x", &st));
	assert_refused(io_lstat(io, deep, &st));
	assert_refused(io_lstat(io, "..", &st));
	assert_refused(io_lstat(io, "a/../..", &st));
	assert_refused(io_mkdir(io, up_new, 0755));
	assert_refused(io_unlink(io, deep));
	assert_refused(io_rename(io, "mine", up_new, 0));
	assert_refused(io_link(io, deep, "stolen"));
	assert_refused(io_truncate(io, up, 0));
	assert_refused(io_chmod(io, deep, 0777));
	assert_refused(io_setxattr(io, up, "user.x", "1", 1, 0));
	assert_refused(io_opendir(io, "..", &d));
	assert_refused(io_opendir(io, "a/../..", &d));
	ck_assert_ptr_null(d);
	ck_assert(outside_is_untouched());
	ck_assert(!testutil_has_entry(outside, "new"));
	ck_assert(!testutil_has_entry(root, "stolen"));
	ck_assert(testutil_has_text(root, "mine", "mine"));
}
END_TEST

START_TEST(io_absolute_paths_do_not_reach_outside)
{
	char file[PATH_MAX], made[PATH_MAX];
	struct stat st;

	/*
	 * Refused (openat2) or taken as relative to the backing dir (the
	 * fallback walk): either way an error here, as nothing of that name
	 * is inside.
	 */
	make_escape_links();
	testutil_join(file, outside, "file");
	testutil_join(made, outside, "made");
	ck_assert_int_lt(io_open(io, file, O_RDONLY, 0), 0);
	ck_assert_int_lt(io_open(io, made, O_WRONLY | O_CREAT, 0644), 0);
	ck_assert_int_lt(io_lstat(io, file, &st), 0);
	ck_assert_int_lt(io_unlink(io, file), 0);
	ck_assert_int_lt(io_mkdir(io, made, 0755), 0);
	ck_assert_int_lt(io_truncate(io, file, 0), 0);
	ck_assert(outside_is_untouched());
	ck_assert(!testutil_has_entry(outside, "made"));
}
END_TEST

/* Files */

#define ROUND_TRIP_SIZE (256 * 1024)

START_TEST(io_file_round_trip_keeps_every_byte)
{
	unsigned char *out = malloc(ROUND_TRIP_SIZE);
	unsigned char *in = malloc(ROUND_TRIP_SIZE);
	static const unsigned char zeros[3096];
	struct stat st;
	int fd;

	ck_assert(out && in);
	for (size_t i = 0; i < ROUND_TRIP_SIZE; i++)
		out[i] = (unsigned char)(i * 131 + i / 251);
	fd = io_open(io, "data", O_RDWR | O_CREAT | O_EXCL, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(io_open(io, "data", O_RDWR | O_CREAT | O_EXCL, 0600),
			 -EEXIST);
	ck_assert_int_eq(io_pwrite(io, fd, out, ROUND_TRIP_SIZE, 0),
			 ROUND_TRIP_SIZE);
	ck_assert_int_eq(io_fstat(io, fd, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(st.st_size, ROUND_TRIP_SIZE);
	ck_assert_int_eq(io_fsync(io, fd, false), 0);
	ck_assert_int_eq(io_fsync(io, fd, true), 0);
	ck_assert_int_eq(io_pread(io, fd, in, ROUND_TRIP_SIZE, 0),
			 ROUND_TRIP_SIZE);
	ck_assert_mem_eq(in, out, ROUND_TRIP_SIZE);
	ck_assert_int_eq(io_pread(io, fd, in, 5000, 12345), 5000);
	ck_assert_mem_eq(in, out + 12345, 5000);
	ck_assert_int_eq(io_pread(io, fd, in, 10, ROUND_TRIP_SIZE), 0);

	ck_assert_int_eq(io_ftruncate(io, fd, 1000), 0);
	ck_assert_int_eq(io_fstat(io, fd, &st), 0);
	ck_assert_int_eq(st.st_size, 1000);
	ck_assert_int_eq(io_ftruncate(io, fd, 4096), 0);
	ck_assert_int_eq(io_pread(io, fd, in, ROUND_TRIP_SIZE, 0), 4096);
	ck_assert_mem_eq(in, out, 1000);
	ck_assert_mem_eq(in + 1000, zeros, sizeof(zeros));
	ck_assert_int_eq(io_close(io, fd), 0);

	fd = io_open(io, "data", O_RDONLY, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(io_pwrite(io, fd, out, 1, 0), -EBADF);
	ck_assert_int_eq(io_pread(io, fd, in, ROUND_TRIP_SIZE, 0), 4096);
	ck_assert_mem_eq(in, out, 1000);
	ck_assert_int_eq(io_close(io, fd), 0);
	free(in);
	free(out);
}
END_TEST

START_TEST(io_pwrite_past_4_gib_makes_a_hole_seek_data_skips)
{
	const off_t off = (off_t)5 << 30;
	static const unsigned char zeros[4096];
	unsigned char buf[4096];
	struct stat st;
	off_t data;
	int fd;

	fd = io_open(io, "sparse", O_RDWR | O_CREAT, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(io_pwrite(io, fd, "hydrafs", 7, off), 7);
	ck_assert_int_eq(io_fstat(io, fd, &st), 0);
	ck_assert_int_eq(st.st_size, off + 7);
	ck_assert_int_lt(st.st_blocks, 2048);
	ck_assert_int_eq(io_lseek(io, fd, 0, SEEK_HOLE), 0);
	data = io_lseek(io, fd, 0, SEEK_DATA);
	ck_assert_int_gt(data, (off_t)4 << 30);
	ck_assert_int_le(data, off);
	ck_assert_int_eq(io_lseek(io, fd, off, SEEK_DATA), off);
	ck_assert_int_eq(io_lseek(io, fd, off, SEEK_HOLE), off + 7);
	ck_assert_int_eq(io_lseek(io, fd, off + 7, SEEK_DATA), -ENXIO);
	ck_assert_int_eq(io_pread(io, fd, buf, sizeof(buf), off), 7);
	ck_assert_mem_eq(buf, "hydrafs", 7);
	ck_assert_int_eq(io_pread(io, fd, buf, sizeof(buf), (off_t)1 << 30),
			 (ssize_t)sizeof(buf));
	ck_assert_mem_eq(buf, zeros, sizeof(buf));
	ck_assert_int_eq(io_close(io, fd), 0);
}
END_TEST

START_TEST(io_close_and_io_flush_return_0_on_a_valid_fd)
{
	int fd = io_open(io, "f", O_RDWR | O_CREAT, 0644);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(io_flush(io, fd), 0);
	ck_assert_int_eq(io_flush(io, fd), 0);
	/* Flushing leaves the fd open. */
	ck_assert_int_eq(io_pwrite(io, fd, "abc", 3, 0), 3);
	ck_assert_int_eq(io_close(io, fd), 0);
	ck_assert_int_eq(io_close(io, fd), -EBADF);
	ck_assert_int_eq(io_flush(io, fd), -EBADF);
	ck_assert(testutil_has_text(root, "f", "abc"));
}
END_TEST

START_TEST(io_truncate_sets_the_size_by_path)
{
	testutil_write_text(root, "f", "hello world");
	ck_assert_int_eq(io_truncate(io, "f", 5), 0);
	ck_assert(testutil_has_text(root, "f", "hello"));
	ck_assert_int_eq(io_truncate(io, "f", 100000), 0);
	ck_assert_int_eq(testutil_lstat(root, "f").st_size, 100000);
	ck_assert_int_eq(io_mkdir(io, "d", 0755), 0);
	ck_assert_int_eq(io_truncate(io, "d", 0), -EISDIR);
	ck_assert_int_eq(io_truncate(io, "nosuch", 0), -ENOENT);
}
END_TEST

/* Names */

START_TEST(io_rename_replaces_an_existing_target_by_default)
{
	testutil_write_text(root, "a", "A");
	testutil_write_text(root, "b", "B");
	ck_assert_int_eq(io_rename(io, "a", "b", 0), 0);
	ck_assert(!testutil_has_entry(root, "a"));
	ck_assert(testutil_has_text(root, "b", "A"));
	ck_assert_int_eq(io_mkdir(io, "d", 0755), 0);
	ck_assert_int_eq(io_rename(io, "b", "d/c", 0), 0);
	ck_assert(testutil_has_text(root, "d/c", "A"));
	ck_assert_int_eq(io_rename(io, "nosuch", "x", 0), -ENOENT);
}
END_TEST

START_TEST(io_rename_noreplace_fails_with_eexist_on_a_target)
{
	testutil_write_text(root, "a", "A");
	testutil_write_text(root, "b", "B");
	ck_assert_int_eq(io_rename(io, "a", "b", RENAME_NOREPLACE), -EEXIST);
	ck_assert(testutil_has_text(root, "a", "A"));
	ck_assert(testutil_has_text(root, "b", "B"));
	ck_assert_int_eq(io_rename(io, "a", "c", RENAME_NOREPLACE), 0);
	ck_assert(!testutil_has_entry(root, "a"));
	ck_assert(testutil_has_text(root, "c", "A"));
}
END_TEST

START_TEST(io_rename_exchange_swaps_two_files)
{
	testutil_write_text(root, "a", "A");
	ck_assert_int_eq(io_mkdir(io, "d", 0755), 0);
	testutil_write_text(root, "d/b", "BB");
	ck_assert_int_eq(io_rename(io, "a", "d/b", RENAME_EXCHANGE), 0);
	ck_assert(testutil_has_text(root, "a", "BB"));
	ck_assert(testutil_has_text(root, "d/b", "A"));
	ck_assert_int_eq(io_rename(io, "a", "nosuch", RENAME_EXCHANGE),
			 -ENOENT);
	ck_assert(testutil_has_text(root, "a", "BB"));
}
END_TEST

START_TEST(io_link_adds_a_name_counted_in_st_nlink)
{
	struct stat a, b;

	testutil_write_text(root, "a", "A");
	ck_assert_int_eq(io_mkdir(io, "d", 0755), 0);
	ck_assert_int_eq(io_link(io, "a", "b"), 0);
	ck_assert_int_eq(io_link(io, "a", "d/c"), 0);
	ck_assert_int_eq(io_lstat(io, "a", &a), 0);
	ck_assert_int_eq(io_lstat(io, "d/c", &b), 0);
	ck_assert_int_eq(a.st_nlink, 3);
	ck_assert_int_eq(a.st_ino, b.st_ino);
	ck_assert_int_eq(io_link(io, "a", "b"), -EEXIST);
	ck_assert_int_eq(io_link(io, "d", "e"), -EPERM);
	ck_assert_int_eq(io_unlink(io, "a"), 0);
	ck_assert_int_eq(io_lstat(io, "b", &b), 0);
	ck_assert_int_eq(b.st_nlink, 2);
	ck_assert(testutil_has_text(root, "b", "A"));
}
END_TEST

START_TEST(io_mkdir_and_io_rmdir_refuse_a_non_empty_dir)
{
	struct stat st;

	ck_assert_int_eq(io_mkdir(io, "d", 0750), 0);
	ck_assert_int_eq(io_lstat(io, "d", &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0750);
	ck_assert_int_eq(io_mkdir(io, "d", 0750), -EEXIST);
	ck_assert_int_eq(io_mkdir(io, "nosuch/e", 0750), -ENOENT);
	ck_assert_int_eq(io_mkdir(io, "d/e", 0755), 0);
	ck_assert_int_eq(io_rmdir(io, "d"), -ENOTEMPTY);
	ck_assert_int_eq(io_rmdir(io, "d/e"), 0);
	ck_assert_int_eq(io_rmdir(io, "d"), 0);
	ck_assert_int_eq(io_lstat(io, "d", &st), -ENOENT);
	testutil_write_text(root, "f", "x");
	ck_assert_int_eq(io_rmdir(io, "f"), -ENOTDIR);
	ck_assert_int_eq(io_unlink(io, "f"), 0);
	ck_assert_int_eq(io_unlink(io, "f"), -ENOENT);
}
END_TEST

START_TEST(io_mknod_makes_a_fifo)
{
	struct stat st;

	ck_assert_int_eq(io_mknod(io, "p", S_IFIFO | 0600, 0), 0);
	ck_assert_int_eq(io_lstat(io, "p", &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(io_mknod(io, "p", S_IFIFO | 0600, 0), -EEXIST);
	ck_assert_int_eq(io_mknod(io, "r", S_IFREG | 0644, 0), 0);
	ck_assert_int_eq(io_lstat(io, "r", &st), 0);
	ck_assert(S_ISREG(st.st_mode));
}
END_TEST

START_TEST(io_symlink_makes_a_link_it_never_follows)
{
	char buf[64];
	struct stat st;

	ck_assert_int_eq(io_symlink(io, "/no/such/target", "s"), 0);
	ck_assert_int_eq(io_lstat(io, "s", &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(io_readlink(io, "s", buf, sizeof(buf)), 15);
	ck_assert_str_eq(buf, "/no/such/target");
	ck_assert_int_eq(io_symlink(io, "x", "s"), -EEXIST);
	ck_assert_int_eq(io_unlink(io, "s"), 0);
	ck_assert_int_eq(io_lstat(io, "s", &st), -ENOENT);
}
END_TEST

/* Attributes */

START_TEST(io_chmod_sets_the_mode_but_not_on_a_symlink)
{
	struct stat st;

	testutil_write_text(root, "f", "x");
	ck_assert_int_eq(io_chmod(io, "f", 0751), 0);
	ck_assert_int_eq(io_lstat(io, "f", &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0751);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(io_symlink(io, "f", "s"), 0);
	ck_assert_int_eq(io_chmod(io, "s", 0600), -EOPNOTSUPP);
	ck_assert_int_eq(testutil_lstat(root, "f").st_mode & 07777, 0751);
	ck_assert_int_eq(io_chmod(io, "nosuch", 0600), -ENOENT);
}
END_TEST

START_TEST(io_chown_sets_the_owner_and_minus_1_keeps_an_id)
{
	bool root_user = geteuid() == 0;
	uid_t uid = root_user ? 1234 : geteuid();
	gid_t gid = root_user ? 5678 : getegid();
	gid_t gid2 = root_user ? 4321 : getegid();
	struct stat st;

	testutil_write_text(root, "f", "x");
	ck_assert_int_eq(io_chown(io, "f", uid, gid), 0);
	st = testutil_lstat(root, "f");
	ck_assert_int_eq(st.st_uid, uid);
	ck_assert_int_eq(st.st_gid, gid);
	ck_assert_int_eq(io_chown(io, "f", (uid_t)-1, gid2), 0);
	st = testutil_lstat(root, "f");
	ck_assert_int_eq(st.st_uid, uid);
	ck_assert_int_eq(st.st_gid, gid2);
	ck_assert_int_eq(io_chown(io, "f", (uid_t)-1, (gid_t)-1), 0);
	st = testutil_lstat(root, "f");
	ck_assert_int_eq(st.st_uid, uid);
	ck_assert_int_eq(st.st_gid, gid2);
	if (root_user) {
		/* A symlink is changed itself, its target is not. */
		ck_assert_int_eq(io_symlink(io, "f", "s"), 0);
		ck_assert_int_eq(io_chown(io, "s", 42, 43), 0);
		ck_assert_int_eq(testutil_lstat(root, "s").st_uid, 42);
		ck_assert_int_eq(testutil_lstat(root, "f").st_uid, uid);
	}
}
END_TEST

START_TEST(io_utimens_sets_exact_times)
{
	const struct timespec ts[2] = { { 1000000000, 123456789 },
					{ 1234567890, 987654321 } };
	const struct timespec keep_atime[2] = { { 0, UTIME_OMIT },
						{ 1500000000, 5 } };
	struct stat st, f;

	testutil_write_text(root, "f", "x");
	ck_assert_int_eq(io_utimens(io, "f", ts), 0);
	ck_assert_int_eq(io_lstat(io, "f", &st), 0);
	ck_assert_int_eq(st.st_atim.tv_sec, ts[0].tv_sec);
	ck_assert_int_eq(st.st_atim.tv_nsec, ts[0].tv_nsec);
	ck_assert_int_eq(st.st_mtim.tv_sec, ts[1].tv_sec);
	ck_assert_int_eq(st.st_mtim.tv_nsec, ts[1].tv_nsec);
	ck_assert_int_eq(io_utimens(io, "f", keep_atime), 0);
	ck_assert_int_eq(io_lstat(io, "f", &st), 0);
	ck_assert_int_eq(st.st_atim.tv_sec, ts[0].tv_sec);
	ck_assert_int_eq(st.st_atim.tv_nsec, ts[0].tv_nsec);
	ck_assert_int_eq(st.st_mtim.tv_sec, 1500000000);
	ck_assert_int_eq(st.st_mtim.tv_nsec, 5);
	/* On a symlink the link's times change, the target's do not. */
	ck_assert_int_eq(io_symlink(io, "f", "s"), 0);
	ck_assert_int_eq(io_utimens(io, "s", ts), 0);
	ck_assert_int_eq(io_lstat(io, "s", &st), 0);
	ck_assert_int_eq(st.st_mtim.tv_sec, ts[1].tv_sec);
	ck_assert_int_eq(st.st_mtim.tv_nsec, ts[1].tv_nsec);
	ck_assert_int_eq(io_lstat(io, "f", &f), 0);
	ck_assert_int_eq(f.st_mtim.tv_sec, 1500000000);
}
END_TEST

START_TEST(io_statvfs_reports_the_backing_filesystem)
{
	struct statvfs mine, want;

	ck_assert_int_eq(statvfs(root, &want), 0);
	ck_assert_int_eq(io_statvfs(io, ".", &mine), 0);
	ck_assert_int_eq(mine.f_fsid, want.f_fsid);
	ck_assert_int_eq(mine.f_bsize, want.f_bsize);
	ck_assert_int_eq(mine.f_blocks, want.f_blocks);
	ck_assert_int_gt(mine.f_blocks, 0);
	ck_assert_int_gt(mine.f_namemax, 0);
}
END_TEST

static bool list_has(const char *list, ssize_t size, const char *name)
{
	for (const char *p = list; p < list + size; p += strlen(p) + 1)
		if (!strcmp(p, name))
			return true;
	return false;
}

START_TEST(io_xattrs_round_trip_through_set_get_list_remove)
{
	char buf[256];
	ssize_t n;
	int ret;

	testutil_write_text(root, "f", "x");
	ret = io_setxattr(io, "f", "user.hydra", "value", 5, 0);
	if (ret == -ENOTSUP) {
		fprintf(stderr, "io_xattrs_round_trip_through_set_get_list_"
				"remove: skipped, no user xattrs on '%s'\n",
			root);
		return;
	}
	ck_assert_int_eq(ret, 0);
	ck_assert_int_eq(io_getxattr(io, "f", "user.hydra", NULL, 0), 5);
	ck_assert_int_eq(io_getxattr(io, "f", "user.hydra", buf, sizeof(buf)),
			 5);
	ck_assert_mem_eq(buf, "value", 5);
	ck_assert_int_eq(io_getxattr(io, "f", "user.hydra", buf, 2), -ERANGE);
	ck_assert_int_eq(io_setxattr(io, "f", "user.hydra", "v", 1,
				     XATTR_CREATE),
			 -EEXIST);
	ck_assert_int_eq(io_setxattr(io, "f", "user.none", "v", 1,
				     XATTR_REPLACE),
			 -ENODATA);
	ck_assert_int_eq(io_setxattr(io, "f", "user.hydra", "longer", 6,
				     XATTR_REPLACE),
			 0);
	ck_assert_int_eq(io_setxattr(io, "f", "user.empty", "", 0, 0), 0);
	ck_assert_int_eq(io_getxattr(io, "f", "user.hydra", buf, sizeof(buf)),
			 6);
	ck_assert_mem_eq(buf, "longer", 6);
	ck_assert_int_eq(io_getxattr(io, "f", "user.empty", buf, sizeof(buf)),
			 0);

	n = io_listxattr(io, "f", NULL, 0);
	ck_assert_int_ge(n, (ssize_t)sizeof("user.hydra\0user.empty"));
	ck_assert_int_eq(io_listxattr(io, "f", buf, sizeof(buf)), n);
	ck_assert(list_has(buf, n, "user.hydra"));
	ck_assert(list_has(buf, n, "user.empty"));
	ck_assert_int_eq(io_listxattr(io, "f", buf, 1), -ERANGE);

	ck_assert_int_eq(io_removexattr(io, "f", "user.hydra"), 0);
	ck_assert_int_eq(io_getxattr(io, "f", "user.hydra", buf, sizeof(buf)),
			 -ENODATA);
	ck_assert_int_eq(io_removexattr(io, "f", "user.hydra"), -ENODATA);
	n = io_listxattr(io, "f", buf, sizeof(buf));
	ck_assert_int_ge(n, 0);
	ck_assert(!list_has(buf, n, "user.hydra"));
	ck_assert(list_has(buf, n, "user.empty"));

	/* The backing dir itself, and a missing name. */
	ck_assert_int_eq(io_setxattr(io, ".", "user.dir", "d", 1, 0), 0);
	ck_assert_int_eq(io_getxattr(io, ".", "user.dir", buf, sizeof(buf)),
			 1);
	ck_assert_int_eq(io_getxattr(io, "nosuch", "user.x", buf, 1),
			 -ENOENT);
}
END_TEST

/* Directory streams */

#define DIR_FILES 3000
#define DIR_ENTRIES (DIR_FILES + 5) /* ".", "..", "sub", "lnk", "pipe" */

struct entry {
	char *name;
	unsigned char type;
	off_t next;
};

static void fill_big_dir(void)
{
	char path[PATH_MAX];
	int dfd, fd;

	ck_assert_int_eq(io_mkdir(io, "big", 0755), 0);
	testutil_join(path, root, "big");
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);
	for (int i = 0; i < DIR_FILES; i++) {
		char name[16];

		snprintf(name, sizeof(name), "f%04d", i);
		fd = openat(dfd, name, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		ck_assert_int_ge(fd, 0);
		close(fd);
	}
	ck_assert_int_eq(mkdirat(dfd, "sub", 0755), 0);
	ck_assert_int_eq(symlinkat("f0000", dfd, "lnk"), 0);
	ck_assert_int_eq(mkfifoat(dfd, "pipe", 0600), 0);
	close(dfd);
}

/* Reads @d from position 0 to its end into @e; returns the count. */
static size_t read_all(struct io_dir *d, struct entry *e, size_t max)
{
	const char *name;
	unsigned char type;
	off_t pos = 0, next;
	size_t n = 0;
	int ret;

	while ((ret = io_readdir(io, d, pos, &name, &type, &next, NULL)) == 1) {
		ck_assert_uint_lt(n, max);
		e[n].name = strdup(name);
		ck_assert_ptr_nonnull(e[n].name);
		e[n].type = type;
		e[n].next = next;
		pos = next;
		n++;
	}
	ck_assert_int_eq(ret, 0);
	return n;
}

static void free_entries(struct entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].name);
	free(e);
}

static unsigned char type_of_special(const char *name)
{
	if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, "sub"))
		return DT_DIR;
	if (!strcmp(name, "lnk"))
		return DT_LNK;
	if (!strcmp(name, "pipe"))
		return DT_FIFO;
	return DT_UNKNOWN;
}

START_TEST(io_readdir_lists_every_entry_once_with_its_type)
{
	struct entry *e = calloc(DIR_ENTRIES + 1, sizeof(*e));
	bool *seen = calloc(DIR_FILES, sizeof(*seen));
	int specials = 0;
	struct io_dir *d;
	struct stat st;
	size_t n;

	ck_assert(e && seen);
	fill_big_dir();
	ck_assert_int_eq(io_opendir(io, "big", &d), 0);
	n = read_all(d, e, DIR_ENTRIES + 1);
	ck_assert_uint_eq(n, DIR_ENTRIES);
	for (size_t i = 0; i < n; i++) {
		char *end;
		long k;

		if (type_of_special(e[i].name) != DT_UNKNOWN) {
			ck_assert_int_eq(e[i].type,
					 type_of_special(e[i].name));
			specials++;
			continue;
		}
		ck_assert_msg(e[i].name[0] == 'f', "stray '%s'", e[i].name);
		k = strtol(e[i].name + 1, &end, 10);
		ck_assert(!*end && k >= 0 && k < DIR_FILES);
		ck_assert_msg(!seen[k], "'%s' listed twice", e[i].name);
		seen[k] = true;
		ck_assert_int_eq(e[i].type, DT_REG);
	}
	ck_assert_int_eq(specials, 5);
	ck_assert_int_eq(io_dir_lstat(io, d, "pipe", &st), 0);
	ck_assert(S_ISFIFO(st.st_mode));
	ck_assert_int_eq(io_dir_lstat(io, d, "nosuch", &st), -ENOENT);
	ck_assert_int_eq(io_dir_fsync(io, d, false), 0);
	ck_assert_int_eq(io_dir_fsync(io, d, true), 0);
	io_closedir(d);
	free(seen);
	free_entries(e, n);
}
END_TEST

START_TEST(io_readdir_resumes_right_after_an_earlier_position)
{
	struct entry *e = calloc(DIR_ENTRIES + 1, sizeof(*e));
	struct entry *again = calloc(DIR_ENTRIES + 1, sizeof(*again));
	const char *name;
	unsigned char type;
	struct io_dir *d;
	off_t next;
	size_t n;

	ck_assert(e && again);
	fill_big_dir();
	ck_assert_int_eq(io_opendir(io, "big", &d), 0);
	n = read_all(d, e, DIR_ENTRIES + 1);
	ck_assert_uint_eq(n, DIR_ENTRIES);

	/* Backwards, so that every call seeks. */
	ck_assert_int_eq(io_readdir(io, d, e[n - 1].next, &name, &type, &next, NULL),
			 0);
	for (size_t k = n - 1; k-- > 0;) {
		ck_assert_int_eq(io_readdir(io, d, e[k].next, &name, &type,
					    &next, NULL),
				 1);
		ck_assert_str_eq(name, e[k + 1].name);
		ck_assert_int_eq(type, e[k + 1].type);
		ck_assert_int_eq(next, e[k + 1].next);
	}

	/* From the middle on, one call after another. */
	next = e[n / 2].next;
	for (size_t k = n / 2 + 1; k < n; k++) {
		ck_assert_int_eq(io_readdir(io, d, next, &name, &type, &next, NULL),
				 1);
		ck_assert_str_eq(name, e[k].name);
	}
	ck_assert_int_eq(io_readdir(io, d, next, &name, &type, &next, NULL), 0);

	/* Position 0 starts over: the same entries in the same order. */
	ck_assert_int_eq(io_readdir(io, d, 0, &name, &type, &next, NULL), 1);
	ck_assert_str_eq(name, e[0].name);
	ck_assert_uint_eq(read_all(d, again, DIR_ENTRIES + 1), n);
	for (size_t k = 0; k < n; k++) {
		ck_assert_str_eq(again[k].name, e[k].name);
		ck_assert_int_eq(again[k].next, e[k].next);
	}
	io_closedir(d);
	free_entries(again, n);
	free_entries(e, n);
}
END_TEST

START_TEST(io_opendir_fails_on_a_file_and_a_missing_dir)
{
	struct io_dir *d = NULL;

	testutil_write_text(root, "f", "x");
	ck_assert_int_eq(io_opendir(io, "f", &d), -ENOTDIR);
	ck_assert_int_eq(io_opendir(io, "nosuch", &d), -ENOENT);
	ck_assert_ptr_null(d);
	ck_assert_int_eq(io_opendir(io, ".", &d), 0);
	ck_assert_ptr_nonnull(d);
	io_closedir(d);
}
END_TEST

/* Fault injection */

static int open_scratch(void)
{
	int fd = io_open(io, "scratch", O_RDWR | O_CREAT, 0644);

	ck_assert_int_ge(fd, 0);
	return fd;
}

START_TEST(io_fault_fails_only_the_nth_call_counted_from_now)
{
	int fd = open_scratch();

	/* Calls made before arming do not count towards @nth. */
	ck_assert_int_eq(io_pwrite(io, fd, "x", 1, 0), 1);
	ck_assert_int_eq(io_pwrite(io, fd, "x", 1, 0), 1);
	io_fault_set(io, IO_WRITE, 3, EIO);
	ck_assert_int_eq(io_pwrite(io, fd, "1", 1, 0), 1);
	ck_assert_int_eq(io_pwrite(io, fd, "2", 1, 1), 1);
	ck_assert_int_eq(io_pwrite(io, fd, "3", 1, 2), -EIO);
	ck_assert_int_eq(io_pwrite(io, fd, "4", 1, 2), 1);
	ck_assert_int_eq(io_pwrite(io, fd, "5", 1, 3), 1);
	ck_assert_int_eq(io_close(io, fd), 0);
	ck_assert(testutil_has_text(root, "scratch", "1245"));
}
END_TEST

START_TEST(io_fault_with_nth_0_fails_every_call_until_cleared)
{
	int fd = open_scratch();

	io_fault_set(io, IO_WRITE, 0, ENOSPC);
	for (int i = 0; i < 5; i++)
		ck_assert_int_eq(io_pwrite(io, fd, "x", 1, 0), -ENOSPC);
	/* Other kinds are not affected. */
	ck_assert_int_eq(io_fsync(io, fd, false), 0);
	io_fault_set(io, IO_WRITE, 0, 0);
	ck_assert_int_eq(io_pwrite(io, fd, "x", 1, 0), 1);
	ck_assert_int_eq(io_pwrite(io, fd, "y", 1, 1), 1);
	ck_assert_int_eq(io_close(io, fd), 0);
	ck_assert(testutil_has_text(root, "scratch", "xy"));
}
END_TEST

START_TEST(io_faulted_calls_change_nothing)
{
	struct stat st;

	testutil_write_text(root, "keep", "keep");
	io_fault_set(io, IO_MKDIR, 1, EROFS);
	ck_assert_int_eq(io_mkdir(io, "d", 0755), -EROFS);
	ck_assert(!testutil_has_entry(root, "d"));
	io_fault_set(io, IO_OPEN, 1, EACCES);
	ck_assert_int_eq(io_open(io, "new", O_WRONLY | O_CREAT, 0644),
			 -EACCES);
	ck_assert(!testutil_has_entry(root, "new"));
	io_fault_set(io, IO_UNLINK, 1, EBUSY);
	ck_assert_int_eq(io_unlink(io, "keep"), -EBUSY);
	io_fault_set(io, IO_RENAME, 1, EIO);
	ck_assert_int_eq(io_rename(io, "keep", "moved", 0), -EIO);
	io_fault_set(io, IO_TRUNCATE, 1, EIO);
	ck_assert_int_eq(io_truncate(io, "keep", 0), -EIO);
	ck_assert(testutil_has_text(root, "keep", "keep"));
	ck_assert(!testutil_has_entry(root, "moved"));
	io_fault_set(io, IO_STAT, 1, ESTALE);
	st.st_size = -1;
	ck_assert_int_eq(io_lstat(io, "keep", &st), -ESTALE);
	ck_assert_int_eq(st.st_size, -1);
	ck_assert_int_eq(io_lstat(io, "keep", &st), 0);
	ck_assert_int_eq(st.st_size, 4);
}
END_TEST

START_TEST(io_close_reports_a_fault_but_still_releases_the_fd)
{
	int fd = open_scratch();

	io_fault_set(io, IO_CLOSE, 1, EIO);
	ck_assert_int_eq(io_close(io, fd), -EIO);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	ck_assert_int_eq(errno, EBADF);
}
END_TEST

START_TEST(io_calls_counts_every_call_including_faulted_ones)
{
	struct stat st;
	int fd;

	for (int k = 0; k < IO_KIND_COUNT; k++)
		ck_assert_uint_eq(io_calls(io, (enum io_kind)k), 0);
	fd = open_scratch();
	ck_assert_uint_eq(io_calls(io, IO_OPEN), 1);
	io_fault_set(io, IO_WRITE, 2, EIO);
	ck_assert_int_eq(io_pwrite(io, fd, "x", 1, 0), 1);
	ck_assert_int_eq(io_pwrite(io, fd, "x", 1, 0), -EIO);
	ck_assert_int_eq(io_pwrite(io, fd, "x", 1, 0), 1);
	ck_assert_uint_eq(io_calls(io, IO_WRITE), 3);
	ck_assert_int_eq(io_fstat(io, fd, &st), 0);
	ck_assert_int_eq(io_lstat(io, "scratch", &st), 0);
	ck_assert_uint_eq(io_calls(io, IO_STAT), 2);
	ck_assert_uint_eq(io_calls(io, IO_READ), 0);
	ck_assert_int_eq(io_close(io, fd), 0);
	ck_assert_uint_eq(io_calls(io, IO_CLOSE), 1);
	ck_assert_uint_eq(io_calls(io, IO_KIND_COUNT), 0);
}
END_TEST

START_TEST(io_fault_parse_arms_every_listed_fault)
{
	int fd = open_scratch();

	ck_assert_int_eq(io_fault_parse(io, "write:2:ENOSPC,fsync:1:EIO"), 0);
	ck_assert_int_eq(io_fsync(io, fd, false), -EIO);
	ck_assert_int_eq(io_fsync(io, fd, true), 0);
	ck_assert_int_eq(io_pwrite(io, fd, "x", 1, 0), 1);
	ck_assert_int_eq(io_pwrite(io, fd, "x", 1, 0), -ENOSPC);
	ck_assert_int_eq(io_pwrite(io, fd, "x", 1, 0), 1);
	ck_assert_int_eq(io_fsync(io, fd, false), 0);
	ck_assert_int_eq(io_close(io, fd), 0);
}
END_TEST

START_TEST(io_fault_parse_takes_errno_numbers_and_nth_0)
{
	int fd = open_scratch();

	ck_assert_int_eq(io_fault_parse(io, "write:1:5,read:0:28"), 0);
	ck_assert_int_eq(io_pwrite(io, fd, "x", 1, 0), -EIO);
	ck_assert_int_eq(io_pwrite(io, fd, "x", 1, 0), 1);
	for (int i = 0; i < 3; i++)
		ck_assert_int_eq(io_pread(io, fd, &(char){ 0 }, 1, 0),
				 -ENOSPC);
	ck_assert_int_eq(io_close(io, fd), 0);
}
END_TEST

START_TEST(io_fault_parse_knows_every_kind_name)
{
	char spec[64];

	for (int k = 0; k < IO_KIND_COUNT; k++) {
		const char *name = io_kind_name((enum io_kind)k);

		ck_assert_ptr_nonnull(name);
		snprintf(spec, sizeof(spec), "%s:7:EIO", name);
		ck_assert_msg(io_fault_parse(io, spec) == 0, "'%s' refused",
			      spec);
		io_fault_set(io, (enum io_kind)k, 0, 0);
	}
	ck_assert_ptr_null(io_kind_name(IO_KIND_COUNT));
	ck_assert_str_eq(io_kind_name(IO_WRITE), "write");
	ck_assert_str_eq(io_kind_name(IO_OPEN), "open");
}
END_TEST

START_TEST(io_fault_parse_rejects_bad_specs_arming_nothing)
{
	static const char *const bad[] = {
		"write",
		"write:1",
		"nosuch:1:EIO",
		"write:x:EIO",
		"write:1:EBOGUS",
		"write:1:EIO,",
		"write:-1:EIO",
		"write:1:0",
		/* Empty fields, case, junk, range; a good item then a bad. */
		"write:1:",
		"write::EIO",
		":1:EIO",
		"WRITE:1:EIO",
		"write:1:EIO:5",
		"write:1x:EIO",
		"write:99999999999999999999999:EIO",
		"write:1:4096",
		"write:1:-5",
		"write:1:EIO,nosuch:1:EIO",
		"write:1:EIO,,fsync:1:EIO",
		"fsync:1:EIO,write:1:EIO,",
	};
	int fd = open_scratch();

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(io_fault_parse(io, bad[i]) == -EINVAL,
			      "'%s' accepted", bad[i]);
		ck_assert_msg(io_pwrite(io, fd, "x", 1, 0) == 1,
			      "'%s' armed a write fault", bad[i]);
		ck_assert_msg(io_fsync(io, fd, false) == 0,
			      "'%s' armed an fsync fault", bad[i]);
	}
	ck_assert_int_eq(io_close(io, fd), 0);
}
END_TEST

START_TEST(io_fault_parse_accepts_an_empty_list_arming_nothing)
{
	int fd = open_scratch();

	ck_assert_int_eq(io_fault_parse(io, ""), 0);
	ck_assert_int_eq(io_pwrite(io, fd, "x", 1, 0), 1);
	ck_assert_int_eq(io_fsync(io, fd, false), 0);
	ck_assert_int_eq(io_close(io, fd), 0);
}
END_TEST

static TCase *add_tcase(Suite *s, const char *name)
{
	return testutil_add_tcase(s, name, setup, teardown, 30);
}

static Suite *io_suite(void)
{
	Suite *s = suite_create("io");
	TCase *tc;

	tc = add_tcase(s, "new");
	tcase_add_test(tc, io_new_fails_with_enoent_on_a_missing_dir);
	tcase_add_test(tc, io_new_fails_with_enotdir_on_a_file);
	tcase_add_test(tc, io_new_follows_a_symlink_naming_the_backing_dir);
	tcase_add_test(tc, io_free_and_io_closedir_accept_null);

	tc = add_tcase(s, "confinement");
	tcase_add_test(tc, io_open_refuses_symlink_in_path);
	tcase_add_test(tc, io_open_refuses_a_final_symlink_with_eloop);
	tcase_add_test(tc, io_open_never_creates_through_a_dangling_symlink);
	tcase_add_test(tc, io_namespace_calls_refuse_symlink_in_path);
	tcase_add_test(tc, io_attribute_calls_refuse_symlink_in_path);
	tcase_add_test(tc, io_lstat_reports_a_symlink_itself);
	tcase_add_test(tc, io_readlink_returns_the_target_and_its_length);
	tcase_add_test(tc, io_dotdot_components_cannot_escape);
	tcase_add_test(tc, io_absolute_paths_do_not_reach_outside);

	tc = add_tcase(s, "files");
	tcase_add_test(tc, io_file_round_trip_keeps_every_byte);
	tcase_add_test(tc, io_pwrite_past_4_gib_makes_a_hole_seek_data_skips);
	tcase_add_test(tc, io_close_and_io_flush_return_0_on_a_valid_fd);
	tcase_add_test(tc, io_truncate_sets_the_size_by_path);

	tc = add_tcase(s, "names");
	tcase_add_test(tc, io_rename_replaces_an_existing_target_by_default);
	tcase_add_test(tc, io_rename_noreplace_fails_with_eexist_on_a_target);
	tcase_add_test(tc, io_rename_exchange_swaps_two_files);
	tcase_add_test(tc, io_link_adds_a_name_counted_in_st_nlink);
	tcase_add_test(tc, io_mkdir_and_io_rmdir_refuse_a_non_empty_dir);
	tcase_add_test(tc, io_mknod_makes_a_fifo);
	tcase_add_test(tc, io_symlink_makes_a_link_it_never_follows);

	tc = add_tcase(s, "attributes");
	tcase_add_test(tc, io_chmod_sets_the_mode_but_not_on_a_symlink);
	tcase_add_test(tc, io_chown_sets_the_owner_and_minus_1_keeps_an_id);
	tcase_add_test(tc, io_utimens_sets_exact_times);
	tcase_add_test(tc, io_statvfs_reports_the_backing_filesystem);
	tcase_add_test(tc, io_xattrs_round_trip_through_set_get_list_remove);

	tc = add_tcase(s, "readdir");
	tcase_add_test(tc, io_readdir_lists_every_entry_once_with_its_type);
	tcase_add_test(tc, io_readdir_resumes_right_after_an_earlier_position);
	tcase_add_test(tc, io_opendir_fails_on_a_file_and_a_missing_dir);

	tc = add_tcase(s, "faults");
	tcase_add_test(tc, io_fault_fails_only_the_nth_call_counted_from_now);
	tcase_add_test(tc, io_fault_with_nth_0_fails_every_call_until_cleared);
	tcase_add_test(tc, io_faulted_calls_change_nothing);
	tcase_add_test(tc, io_close_reports_a_fault_but_still_releases_the_fd);
	tcase_add_test(tc, io_calls_counts_every_call_including_faulted_ones);
	tcase_add_test(tc, io_fault_parse_arms_every_listed_fault);
	tcase_add_test(tc, io_fault_parse_takes_errno_numbers_and_nth_0);
	tcase_add_test(tc, io_fault_parse_knows_every_kind_name);
	tcase_add_test(tc, io_fault_parse_rejects_bad_specs_arming_nothing);
	tcase_add_test(tc, io_fault_parse_accepts_an_empty_list_arming_nothing);
	return s;
}

int main(void)
{
	return testutil_run_in_temp_dir("io", io_suite);
}
