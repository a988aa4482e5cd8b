// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "core/store.h"
#include "core/version.h"
#include "tests/unit/testutil.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#define SHADOW_XATTR "user.hydrafs.path"
#define STAGING STATE_DIR "/" STATE_STAGING
#define VERSIONS STATE_DIR "/" STATE_VERSIONS
#define ORPHANS VERSIONS "/" ORPHANS_NAME
#define JOURNAL STATE_DIR "/" STATE_JOURNAL

/*
 * Every test gets a fresh backing dir and a dir outside it, both in the
 * run's temp dir.  Tests open the store themselves (open_store()); the
 * teardown closes it.
 */
/* The new object's attributes from stage_commit(), not checked here. */
static struct stat commit_st;

static char root[PATH_MAX];
static char outside[PATH_MAX];
static struct io *io;
static struct store *store;
static const struct who who = { .uid = 1000, .pid = 4242, .comm = "vim" };

static void setup(void)
{
	testutil_backing_init(root, &io);
	testutil_make_temp_dir(outside, "outside");
}

static void teardown(void)
{
	store_close(store);
	store = NULL;
	testutil_backing_release(root, &io);
	testutil_remove_tree(outside);
}

static void open_store(void)
{
	ck_assert_int_eq(store_open(io, &store), 0);
	ck_assert_ptr_nonnull(store);
}

/* Files of the backing dir, by path relative to it. */

/* Writes @text as the whole content of @rel, which then has mode @mode. */
static void write_file(const char *rel, const char *text, mode_t mode)
{
	char path[PATH_MAX];

	testutil_write_text(root, rel, text);
	testutil_join(path, root, rel);
	ck_assert_int_eq(chmod(path, mode), 0);
}

static bool same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino;
}

static struct stat fstat_of(int fd)
{
	struct stat st;

	ck_assert_int_eq(fstatat(fd, "", &st, AT_EMPTY_PATH), 0);
	return st;
}

/* Sets the owner of @rel where we may (as root); returns the owner it has. */
static struct stat give_to(const char *rel, uid_t uid, gid_t gid)
{
	char path[PATH_MAX];

	testutil_join(path, root, rel);
	if (geteuid() == 0)
		ck_assert_int_eq(lchown(path, uid, gid), 0);
	return testutil_lstat(root, rel);
}

static void rename_rel(const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	testutil_join(a, root, from);
	testutil_join(b, root, to);
	ck_assert_msg(rename(a, b) == 0, "cannot rename '%s': %s", a,
		      strerror(errno));
}

/* The one entry of dir @rel, into @name; @path (PATH_MAX) is rel/name. */
static void only_entry(const char *rel, char *name, char *path)
{
	ck_assert_msg(testutil_count_entries(root, rel) == 1,
		      "'%s' has %d entries", rel,
		      testutil_count_entries(root, rel));
	testutil_nth_entry(root, rel, 0, name, path);
}

/* Journal lines that hold @text. */
static int journal_lines_with(const char *text)
{
	return testutil_lines_with(root, JOURNAL, text, NULL);
}

static int fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A stage of the file behind @fd holding exactly @text. */
static struct stage *stage_text(int fd, const char *text)
{
	struct stage *st = NULL;
	size_t len = strlen(text);

	ck_assert_int_eq(stage_begin(store, fd, true, &st), 0);
	ck_assert_ptr_nonnull(st);
	ck_assert_int_eq(pwrite(stage_fd(st), text, len, 0), (ssize_t)len);
	return st;
}

/* Commits @st over @fd, expecting success; returns the new handle. */
static int commit_ok(struct stage *st, int fd, bool durable)
{
	int new_fd = -2, ret;

	ret = stage_commit(store, st, fd, &who, durable, &new_fd, &commit_st);
	ck_assert_msg(ret == 0, "stage_commit returned %d", ret);
	ck_assert_int_ge(new_fd, 0);
	return new_fd;
}

/* Removes the state dir, as if the backing dir had never been mounted. */
static void forget_state(void)
{
	char path[PATH_MAX];

	store_close(store);
	store = NULL;
	testutil_join(path, root, STATE_DIR);
	testutil_remove_tree(path);
}

/*
 * Checks the orphan "<time>-<shadow>" holding @text; a shadow made by
 * stage_begin() is named "<pid>-<seq>-<file>", so it names @file.
 */
static void assert_orphan(const char *file, const char *shadow,
			  const char *text)
{
	char pat[PATH_MAX], name[NAME_MAX + 1], time[32], path[PATH_MAX];
	int n = testutil_count_entries(root, ORPHANS), found = 0;

	(void)file;
	snprintf(pat, sizeof(pat), "*-%s", shadow);
	for (int i = 0; i < n; i++) {
		testutil_nth_entry(root, ORPHANS, i, name, NULL);
		if (fnmatch(pat, name, 0))
			continue;
		found++;
		snprintf(time, sizeof(time), "%.*s",
			 (int)(strlen(name) - strlen(pat) + 1), name);
		ck_assert_msg(version_name_is_valid(time), "orphan '%s'", name);
		testutil_join(path, ORPHANS, name);
		ck_assert(testutil_has_text(root, path, text));
	}
	ck_assert_msg(found == 1, "%d orphans match '%s'", found, pat);
}

/* store_open, store_close */

START_TEST(store_open_makes_staging_versions_and_the_journal)
{
	struct stat st, vst;

	ck_assert(!testutil_has_entry(root, STATE_DIR));
	open_store();
	st = testutil_lstat(root, STATE_DIR);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0711);
	st = testutil_lstat(root, STAGING);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	st = testutil_lstat(root, VERSIONS);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	vst = fstat_of(store_versions_fd(store));
	ck_assert(same_file(&st, &vst));
	st = testutil_lstat(root, JOURNAL);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(testutil_count_entries(root, STAGING), 0);
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS), 0);
}
END_TEST

START_TEST(store_open_twice_reuses_the_state_dir)
{
	struct store *other = NULL;
	struct stat before, after;
	int fd;

	open_store();
	write_file("f.txt", "old", 0644);
	fd = testutil_handle(root, "f.txt");
	close(commit_ok(stage_text(fd, "new"), fd, false));
	close(fd);
	before = testutil_lstat(root, VERSIONS);
	store_close(store);
	store = NULL;
	open_store();
	after = testutil_lstat(root, VERSIONS);
	ck_assert(same_file(&before, &after));
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS "/f.txt"), 1);
	ck_assert_int_eq(journal_lines_with("\"event\":\"commit\""), 1);
	/* A second store on the same dir at the same time opens as well. */
	ck_assert_int_eq(store_open(io, &other), 0);
	ck_assert_ptr_nonnull(other);
	store_close(other);
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS "/f.txt"), 1);
}
END_TEST

START_TEST(store_open_refuses_a_state_dir_file_or_symlink)
{
	char path[PATH_MAX];
	struct store *s = (struct store *)&s;

	write_file(STATE_DIR, "not a dir", 0644);
	ck_assert_int_eq(store_open(io, &s), -ENOTDIR);
	ck_assert_ptr_eq(s, (struct store *)&s);
	ck_assert(testutil_has_text(root, STATE_DIR, "not a dir"));

	testutil_join(path, root, STATE_DIR);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink(outside, path), 0);
	ck_assert_int_eq(store_open(io, &s), -ENOTDIR);
	ck_assert_ptr_eq(s, (struct store *)&s);
	ck_assert(S_ISLNK(testutil_lstat(root, STATE_DIR).st_mode));
	/* Nothing was made through the link. */
	testutil_join(path, outside, STATE_STAGING);
	ck_assert_int_eq(access(path, F_OK), -1);
	testutil_join(path, outside, STATE_JOURNAL);
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

/*
 * Opens the store with call @nth of @kind failing, on a fresh backing dir
 * or (@leftover) one with a shadow a crash left: it opens, or fails with
 * the error leaving no fd open; the shadow is never lost.
 */
static void open_under_fault(enum io_kind k, unsigned long nth, bool leftover)
{
	const char *kind = io_kind_name(k);
	struct store *s = (struct store *)&s;
	int fds, ret;

	forget_state();
	if (leftover) {
		testutil_make_dir(root, STATE_DIR, 0711);
		testutil_make_dir(root, STAGING, 0700);
		write_file(STAGING "/999-0", "lost", 0600);
	}
	fds = fd_count();
	io_fault_set(io, k, nth, EIO);
	ret = store_open(io, &s);
	io_fault_set(io, k, 0, 0);
	ck_assert_msg(ret == 0 || ret == -EIO, "%s:%lu: returned %d", kind,
		      nth, ret);
	if (ret == 0)
		store_close(s);
	else
		ck_assert_ptr_eq(s, (struct store *)&s);
	ck_assert_msg(fd_count() == fds, "%s:%lu: fd leak", kind, nth);
	if (leftover && !testutil_has_text(root, STAGING "/999-0", "lost"))
		assert_orphan("unknown", "999-0", "lost");
}

START_TEST(store_open_returns_injected_errors_leaking_no_fd)
{
	for (int k = 0; k < IO_KIND_COUNT; k++)
		for (unsigned long nth = 1; nth <= 6; nth++) {
			open_under_fault((enum io_kind)k, nth, false);
			open_under_fault((enum io_kind)k, nth, true);
		}
	store_close(NULL);
}
END_TEST

/* store_is_scratch */

START_TEST(store_is_scratch_knows_swap_backup_and_temp_names)
{
	static const char *const scratch[] = {
		".x.swp", ".x.swo", ".x.swn", ".x.swa", ".report.csv.swp",
		"x.swp", ".x.swx", "4913", "x~", "report.csv~", ".#x",
		".#report.csv", "x.tmp", ".x.tmp", "#x#", "#report.csv#",
	};

	for (size_t i = 0; i < sizeof(scratch) / sizeof(scratch[0]); i++)
		ck_assert_msg(store_is_scratch(scratch[i]), "'%s' missed",
			      scratch[i]);
}
END_TEST

START_TEST(store_is_scratch_leaves_ordinary_names_alone)
{
	static const char *const ordinary[] = {
		"x", "report.csv", ".bashrc", "Makefile", "4913.txt",
		"49130", "x.tmpl", "tmp", "x.swpx", "x.sw", "swp", "a~b",
		"#x", "x#", "x.#", "~x", ".hidden", "notes.md", ".x.txt",
		"x.TMP.txt", "4",
	};

	for (size_t i = 0; i < sizeof(ordinary) / sizeof(ordinary[0]); i++)
		ck_assert_msg(!store_is_scratch(ordinary[i]), "'%s' caught",
			      ordinary[i]);
}
END_TEST

/* stage_begin */

START_TEST(stage_begin_copies_the_content_into_a_shadow_in_staging)
{
	char name[NAME_MAX + 1], rel[PATH_MAX], path[PATH_MAX], val[64];
	struct stage *st = NULL;
	struct stat sh, sst, f, hst;
	ssize_t n;
	int fd;

	open_store();
	write_file("f.txt", "hello world", 0644);
	fd = testutil_handle(root, "f.txt");
	ck_assert_int_eq(stage_begin(store, fd, false, &st), 0);
	ck_assert_ptr_nonnull(st);
	ck_assert(testutil_fd_has_text(stage_fd(st), "hello world"));
	only_entry(STAGING, name, rel);
	sh = testutil_lstat(root, rel);
	sst = fstat_of(stage_fd(st));
	ck_assert(same_file(&sh, &sst));
	ck_assert_uint_eq(sh.st_mode & 07777, 0600);
	/* The shadow says whose it is, for recovery. */
	testutil_join(path, root, rel);
	n = getxattr(path, SHADOW_XATTR, val, sizeof(val) - 1);
	if (n >= 0 || errno != ENOTSUP) {
		ck_assert_int_eq(n, 5);
		val[n] = '\0';
		ck_assert_str_eq(val, "f.txt");
	}
	/* It is read-write, and the file is untouched by writes to it. */
	ck_assert_int_eq(pwrite(stage_fd(st), "J", 1, 0), 1);
	ck_assert(testutil_fd_has_text(stage_fd(st), "Jello world"));
	ck_assert(testutil_has_text(root, "f.txt", "hello world"));
	f = testutil_lstat(root, "f.txt");
	hst = fstat_of(fd);
	ck_assert(same_file(&f, &hst));
	stage_free(store, st);
	close(fd);
}
END_TEST

START_TEST(stage_begin_with_truncate_starts_empty)
{
	struct stage *st = NULL;
	struct stat sh;
	int fd;

	open_store();
	write_file("f.txt", "hello world", 0644);
	fd = testutil_handle(root, "f.txt");
	ck_assert_int_eq(stage_begin(store, fd, true, &st), 0);
	ck_assert_int_eq(fstat(stage_fd(st), &sh), 0);
	ck_assert_int_eq(sh.st_size, 0);
	ck_assert(testutil_has_text(root, "f.txt", "hello world"));
	ck_assert_int_eq(testutil_count_entries(root, STAGING), 1);
	stage_free(store, st);
	close(fd);
}
END_TEST

START_TEST(stage_begin_fails_on_a_copy_error_leaving_no_shadow)
{
	struct stage *st = (struct stage *)&st;
	int fds, fd;

	open_store();
	write_file("f.txt", "hello world", 0644);
	fd = testutil_handle(root, "f.txt");
	fds = fd_count();
	io_fault_set(io, IO_COPY, 1, ENOSPC);
	ck_assert_int_eq(stage_begin(store, fd, false, &st), -ENOSPC);
	ck_assert_ptr_eq(st, (struct stage *)&st);
	ck_assert_int_eq(testutil_count_entries(root, STAGING), 0);
	ck_assert_int_eq(fd_count(), fds);
	close(fd);
}
END_TEST

/* stage_commit */

START_TEST(stage_commit_replaces_the_content_and_keeps_the_old)
{
	char vname[NAME_MAX + 1], vpath[PATH_MAX], path[PATH_MAX];
	char val[64], line[512];
	struct stat old, now, ver, vdir, nst;
	bool xattrs;
	int fd, nfd;

	open_store();
	write_file("f.txt", "old content", 0640);
	old = give_to("f.txt", 1234, 5678);
	testutil_join(path, root, "f.txt");
	xattrs = setxattr(path, "user.color", "blue", 4, 0) == 0;
	fd = testutil_handle(root, "f.txt");
	nfd = commit_ok(stage_text(fd, "new content!"), fd, false);

	ck_assert(testutil_has_text(root, "f.txt", "new content!"));
	now = testutil_lstat(root, "f.txt");
	ck_assert(!same_file(&now, &old));
	nst = fstat_of(nfd);
	ck_assert(same_file(&now, &nst));
	ck_assert_uint_eq(now.st_mode & 07777, 0640);
	ck_assert_uint_eq(now.st_uid, old.st_uid);
	ck_assert_uint_eq(now.st_gid, old.st_gid);
	ck_assert_uint_eq(now.st_nlink, 1);
	if (xattrs) {
		ck_assert_int_eq(getxattr(path, "user.color", val, sizeof(val)),
				 4);
		ck_assert(!memcmp(val, "blue", 4));
	}
	ck_assert_int_lt(getxattr(path, SHADOW_XATTR, val, sizeof(val)), 0);

	/* The old content is the one version, the very old inode. */
	vdir = testutil_lstat(root, VERSIONS "/f.txt");
	ck_assert(S_ISDIR(vdir.st_mode));
	ck_assert_uint_eq(vdir.st_mode & 07777, 0750);
	ck_assert_uint_eq(vdir.st_uid, old.st_uid);
	ck_assert_uint_eq(vdir.st_gid, old.st_gid);
	only_entry(VERSIONS "/f.txt", vname, vpath);
	ck_assert_msg(version_name_is_valid(vname), "'%s'", vname);
	ck_assert_str_eq(vname + strlen(vname) - 4, ".txt");
	ck_assert(testutil_has_text(root, vpath, "old content"));
	ver = testutil_lstat(root, vpath);
	ck_assert(same_file(&ver, &old));
	ck_assert_uint_eq(ver.st_mode & 07777, 0640);
	ck_assert_uint_eq(ver.st_uid, old.st_uid);
	ck_assert_uint_eq(ver.st_gid, old.st_gid);
	ck_assert_int_eq(testutil_count_entries(root, STAGING), 0);

	/* One journal record says who, what and where the old content went. */
	ck_assert_int_eq(journal_lines_with("\"event\":\"commit\","
					    "\"path\":\"f.txt\",\"size\":12,"
					    "\"xxh128\":\""),
			 1);
	snprintf(line, sizeof(line),
		 "\",\"prev\":\"%s\",\"uid\":1000,\"pid\":4242,"
		 "\"comm\":\"vim\"}",
		 vname);
	ck_assert_int_eq(journal_lines_with(line), 1);
	close(nfd);
	close(fd);
}
END_TEST

START_TEST(stage_commit_of_identical_content_commits_nothing)
{
	struct stage *st = NULL;
	struct stat before, after;
	int fd, nfd = -2;

	open_store();
	write_file("f.txt", "same", 0644);
	before = testutil_lstat(root, "f.txt");
	fd = testutil_handle(root, "f.txt");
	/* Copied and left alone. */
	ck_assert_int_eq(stage_begin(store, fd, false, &st), 0);
	ck_assert_int_eq(stage_commit(store, st, fd, &who, false, &nfd, &commit_st), 0);
	ck_assert_int_eq(nfd, -1);
	/* Truncated and written again with the same bytes. */
	nfd = -2;
	ck_assert_int_eq(stage_commit(store, stage_text(fd, "same"), fd, &who,
				      true, &nfd, &commit_st),
			 0);
	ck_assert_int_eq(nfd, -1);
	after = testutil_lstat(root, "f.txt");
	ck_assert(same_file(&before, &after));
	ck_assert(testutil_has_text(root, "f.txt", "same"));
	ck_assert_int_eq(testutil_count_entries(root, STAGING), 0);
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS), 0);
	ck_assert_int_eq(journal_lines_with("\"event\""), 0);
	close(fd);
}
END_TEST

START_TEST(stage_commit_over_an_empty_file_keeps_no_version)
{
	int fd, nfd;

	open_store();
	write_file("f.txt", "", 0644);
	fd = testutil_handle(root, "f.txt");
	nfd = commit_ok(stage_text(fd, "first words"), fd, false);
	ck_assert(testutil_has_text(root, "f.txt", "first words"));
	ck_assert_int_le(testutil_count_entries(root, VERSIONS "/f.txt"), 0);
	ck_assert_int_eq(testutil_count_entries(root, STAGING), 0);
	ck_assert_int_eq(journal_lines_with("\"event\":\"commit\""), 1);
	ck_assert_int_eq(journal_lines_with("\"prev\""), 0);
	close(nfd);
	close(fd);
}
END_TEST

START_TEST(stage_commit_of_an_empty_shadow_keeps_the_old_content)
{
	char vname[NAME_MAX + 1], vpath[PATH_MAX];
	int fd, nfd;

	open_store();
	write_file("f.txt", "all of it", 0644);
	fd = testutil_handle(root, "f.txt");
	nfd = commit_ok(stage_text(fd, ""), fd, false);
	ck_assert_int_eq(testutil_lstat(root, "f.txt").st_size, 0);
	only_entry(VERSIONS "/f.txt", vname, vpath);
	ck_assert(testutil_has_text(root, vpath, "all of it"));
	close(nfd);
	close(fd);
}
END_TEST

START_TEST(stage_commit_durable_replaces_the_content_and_syncs)
{
	char vname[NAME_MAX + 1], vpath[PATH_MAX];
	unsigned long syncs;
	int fd, nfd;

	open_store();
	write_file("f.txt", "old", 0644);
	fd = testutil_handle(root, "f.txt");
	syncs = io_calls(io, IO_FSYNC);
	nfd = commit_ok(stage_text(fd, "new"), fd, true);
	/* The shadow's data, the version's dir, the file's dir. */
	ck_assert_uint_ge(io_calls(io, IO_FSYNC) - syncs, 3);
	ck_assert(testutil_has_text(root, "f.txt", "new"));
	only_entry(VERSIONS "/f.txt", vname, vpath);
	ck_assert(testutil_has_text(root, vpath, "old"));
	close(nfd);
	close(fd);
}
END_TEST

START_TEST(stage_commit_in_a_nested_dir_mirrors_its_dirs)
{
	char vname[NAME_MAX + 1], vpath[PATH_MAX];
	struct stat a, b, f, va, vb, vf;
	int fd, nfd;

	open_store();
	testutil_make_dir(root, "a", 0750);
	testutil_make_dir(root, "a/b", 0705);
	write_file("a/b/c.txt", "old", 0604);
	a = give_to("a", 1111, 2222);
	b = give_to("a/b", 3333, 4444);
	f = give_to("a/b/c.txt", 5555, 6666);
	fd = testutil_handle(root, "a/b/c.txt");
	nfd = commit_ok(stage_text(fd, "new"), fd, false);
	ck_assert(testutil_has_text(root, "a/b/c.txt", "new"));

	va = testutil_lstat(root, VERSIONS "/a");
	vb = testutil_lstat(root, VERSIONS "/a/b");
	vf = testutil_lstat(root, VERSIONS "/a/b/c.txt");
	ck_assert(S_ISDIR(va.st_mode) && S_ISDIR(vb.st_mode) &&
		  S_ISDIR(vf.st_mode));
	ck_assert_uint_eq(va.st_mode & 07777, a.st_mode & 07777);
	ck_assert_uint_eq(va.st_uid, a.st_uid);
	ck_assert_uint_eq(va.st_gid, a.st_gid);
	ck_assert_uint_eq(vb.st_mode & 07777, b.st_mode & 07777);
	ck_assert_uint_eq(vb.st_uid, b.st_uid);
	ck_assert_uint_eq(vb.st_gid, b.st_gid);
	/* The file's own dir: its owner, x where it has r. */
	ck_assert_uint_eq(vf.st_mode & 07777, 0705);
	ck_assert_uint_eq(vf.st_uid, f.st_uid);
	ck_assert_uint_eq(vf.st_gid, f.st_gid);
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS "/a"), 1);
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS "/a/b"), 1);
	only_entry(VERSIONS "/a/b/c.txt", vname, vpath);
	ck_assert(testutil_has_text(root, vpath, "old"));
	ck_assert_uint_eq(testutil_lstat(root, vpath).st_mode & 07777, 0604);
	ck_assert_int_eq(journal_lines_with("\"path\":\"a/b/c.txt\""), 1);
	close(nfd);
	close(fd);
}
END_TEST

START_TEST(stage_commit_twice_keeps_two_versions_in_time_order)
{
	char v0[NAME_MAX + 1], v1[NAME_MAX + 1], path[PATH_MAX];
	int fd, nfd;

	open_store();
	write_file("f", "zero", 0644);
	fd = testutil_handle(root, "f");
	nfd = commit_ok(stage_text(fd, "one"), fd, false);
	close(fd);
	fd = nfd;
	nfd = commit_ok(stage_text(fd, "two"), fd, false);
	close(fd);
	ck_assert(testutil_has_text(root, "f", "two"));
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS "/f"), 2);
	testutil_nth_entry(root, VERSIONS "/f", 0, v0, NULL);
	testutil_nth_entry(root, VERSIONS "/f", 1, v1, NULL);
	ck_assert(version_name_is_valid(v0) && version_name_is_valid(v1));
	testutil_join(path, VERSIONS "/f", v0);
	ck_assert(testutil_has_text(root, path, "zero"));
	testutil_join(path, VERSIONS "/f", v1);
	ck_assert(testutil_has_text(root, path, "one"));
	close(nfd);
}
END_TEST

START_TEST(stage_commit_fails_when_another_file_took_the_name)
{
	char name[NAME_MAX + 1], path[PATH_MAX];
	struct stat before, after;
	struct stage *st;
	int fd, nfd = -2, ret;

	open_store();
	write_file("f.txt", "mine", 0644);
	fd = testutil_handle(root, "f.txt");
	st = stage_text(fd, "staged");
	write_file("other", "theirs", 0600);
	before = testutil_lstat(root, "other");
	rename_rel("other", "f.txt");
	ret = stage_commit(store, st, fd, &who, false, &nfd, &commit_st);
	/*
	 * -ESTALE when the name is found taken; the kernel may first report
	 * the handle's own name as deleted, which is -ENOENT.
	 */
	ck_assert_msg(ret == -ESTALE || ret == -ENOENT, "returned %d", ret);
	ck_assert_int_eq(nfd, -2);
	after = testutil_lstat(root, "f.txt");
	ck_assert(same_file(&before, &after));
	ck_assert(testutil_has_text(root, "f.txt", "theirs"));
	ck_assert_uint_eq(after.st_mode & 07777, 0600);
	ck_assert_int_le(testutil_count_entries(root, VERSIONS "/f.txt"), 0);
	/* The stage stays, whole. */
	ck_assert(testutil_fd_has_text(stage_fd(st), "staged"));
	only_entry(STAGING, name, path);
	ck_assert(testutil_has_text(root, path, "staged"));
	ck_assert_int_eq(journal_lines_with("\"event\":\"commit\""), 0);
	stage_free(store, st);
	close(fd);
}
END_TEST

/*
 * A file mounted over the name is another file there while the handle's
 * own name stays: the one case, besides a race, that the commit finds
 * the name taken.  The mount lives in this test's own mount namespace
 * (check runs each test in a child), so it cannot outlive the test.
 */
START_TEST(stage_commit_fails_with_estale_if_a_mount_covers_it)
{
	char name[NAME_MAX + 1], path[PATH_MAX], over[PATH_MAX];
	struct stage *st;
	int fd, nfd = -2;
	const char *fork_mode = getenv("CK_FORK");

	if (fork_mode && !strcmp(fork_mode, "no"))
		return; /* the namespace would be the whole run's */
	if (unshare(CLONE_NEWNS) < 0 ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return; /* not root: nothing to test */
	/* Every fd from here on, io's too, sees the new namespace. */
	io_free(io);
	ck_assert_int_eq(io_new(root, &io), 0);
	open_store();
	write_file("f.txt", "mine", 0644);
	testutil_join(path, root, "f.txt");
	testutil_join(over, outside, "over");
	fd = open(over, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "theirs", 6), 6);
	close(fd);
	fd = testutil_handle(root, "f.txt");
	st = stage_text(fd, "staged");
	ck_assert_int_eq(mount(over, path, NULL, MS_BIND, NULL), 0);
	ck_assert_int_eq(stage_commit(store, st, fd, &who, false, &nfd, &commit_st),
			 -ESTALE);
	ck_assert_int_eq(nfd, -2);
	ck_assert(testutil_has_text(root, "f.txt", "theirs"));
	ck_assert_int_eq(umount(path), 0);
	ck_assert(testutil_has_text(root, "f.txt", "mine"));
	ck_assert_int_le(testutil_count_entries(root, VERSIONS "/f.txt"), 0);
	only_entry(STAGING, name, NULL);
	ck_assert(testutil_fd_has_text(stage_fd(st), "staged"));
	/* With the name its own again, the same stage commits. */
	nfd = commit_ok(st, fd, false);
	ck_assert(testutil_has_text(root, "f.txt", "staged"));
	close(nfd);
	close(fd);
}
END_TEST

START_TEST(stage_commit_follows_a_rename_of_the_file)
{
	char vname[NAME_MAX + 1], vpath[PATH_MAX];
	struct stage *st;
	int fd, nfd;

	open_store();
	testutil_make_dir(root, "d", 0755);
	write_file("f.txt", "old", 0644);
	fd = testutil_handle(root, "f.txt");
	st = stage_text(fd, "new");
	rename_rel("f.txt", "d/g.txt");
	write_file("f.txt", "someone else's", 0644);
	nfd = commit_ok(st, fd, false);
	ck_assert(testutil_has_text(root, "d/g.txt", "new"));
	ck_assert(testutil_has_text(root, "f.txt", "someone else's"));
	only_entry(VERSIONS "/d/g.txt", vname, vpath);
	ck_assert(testutil_has_text(root, vpath, "old"));
	ck_assert(!testutil_has_entry(root, VERSIONS "/f.txt"));
	close(nfd);
	close(fd);
}
END_TEST

START_TEST(stage_commit_works_on_a_name_ending_in_deleted)
{
	char vname[NAME_MAX + 1], vpath[PATH_MAX];
	int fd, nfd;

	open_store();
	write_file("notes (deleted)", "old", 0644);
	fd = testutil_handle(root, "notes (deleted)");
	nfd = commit_ok(stage_text(fd, "new"), fd, false);
	ck_assert(testutil_has_text(root, "notes (deleted)", "new"));
	only_entry(VERSIONS "/notes (deleted)", vname, vpath);
	ck_assert(testutil_has_text(root, vpath, "old"));
	close(nfd);
	close(fd);
}
END_TEST

START_TEST(stage_commit_copies_a_user_xattr_larger_than_4_kib)
{
	static char big[8000];
	char path[PATH_MAX], *val;
	int fd, nfd;

	open_store();
	write_file("f.txt", "old", 0644);
	testutil_join(path, root, "f.txt");
	memset(big, 'x', sizeof(big));
	/* Only where the backing filesystem holds such a value (not ext4). */
	if (setxattr(path, "user.big", big, sizeof(big), 0) < 0)
		return;
	fd = testutil_handle(root, "f.txt");
	nfd = commit_ok(stage_text(fd, "new"), fd, false);
	val = malloc(sizeof(big));
	ck_assert_ptr_nonnull(val);
	ck_assert_int_eq(getxattr(path, "user.big", val, sizeof(big)),
			 (ssize_t)sizeof(big));
	ck_assert(!memcmp(val, big, sizeof(big)));
	free(val);
	close(nfd);
	close(fd);
}
END_TEST

/* store_keep, store_keep_copy */

START_TEST(store_keep_links_the_file_as_a_version_and_journals_it)
{
	char vname[NAME_MAX + 1], vpath[PATH_MAX], line[512];
	struct stat f, ver;
	int fd;

	open_store();
	write_file("f.txt", "data", 0640);
	fd = testutil_handle(root, "f.txt");
	ck_assert_int_eq(store_keep(store, fd, &who), 0);
	only_entry(VERSIONS "/f.txt", vname, vpath);
	ck_assert(version_name_is_valid(vname));
	f = testutil_lstat(root, "f.txt");
	ver = testutil_lstat(root, vpath);
	ck_assert(same_file(&f, &ver));
	ck_assert_uint_eq(f.st_nlink, 2);
	ck_assert(testutil_has_text(root, vpath, "data"));
	snprintf(line, sizeof(line),
		 "\"event\":\"version\",\"path\":\"f.txt\",\"size\":4,"
		 "\"prev\":\"%s\",\"uid\":1000,\"pid\":4242,\"comm\":\"vim\"}",
		 vname);
	ck_assert_int_eq(journal_lines_with(line), 1);
	/* Kept again at once: a second name, sorting after the first. */
	ck_assert_int_eq(store_keep(store, fd, NULL), 0);
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS "/f.txt"), 2);
	testutil_nth_entry(root, VERSIONS "/f.txt", 0, line, NULL);
	ck_assert_str_eq(line, vname);
	ck_assert_int_eq(journal_lines_with("\"event\":\"version\""), 2);
	close(fd);
}
END_TEST

START_TEST(store_keep_keeps_nothing_of_a_dir_or_a_symlink)
{
	char path[PATH_MAX];
	int fd;

	open_store();
	testutil_make_dir(root, "d", 0755);
	testutil_join(path, root, "link");
	ck_assert_int_eq(symlink("d", path), 0);
	fd = testutil_handle(root, "d");
	ck_assert_int_eq(store_keep(store, fd, &who), 0);
	close(fd);
	fd = testutil_handle(root, "link");
	ck_assert_int_eq(store_keep(store, fd, &who), 0);
	close(fd);
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS), 0);
	ck_assert_int_eq(journal_lines_with("\"event\""), 0);
}
END_TEST

START_TEST(store_keep_copy_keeps_a_separate_copy_of_a_linked_file)
{
	char vname[NAME_MAX + 1], vpath[PATH_MAX], path[PATH_MAX];
	char other[PATH_MAX];
	struct stat f, ver;
	int fd;

	open_store();
	write_file("f.txt", "shared", 0640);
	f = give_to("f.txt", 1234, 5678);
	testutil_join(path, root, "f.txt");
	testutil_join(other, root, "g.txt");
	ck_assert_int_eq(link(path, other), 0);
	fd = testutil_handle(root, "f.txt");
	ck_assert_int_eq(store_keep_copy(store, fd, &who), 0);
	only_entry(VERSIONS "/f.txt", vname, vpath);
	ck_assert(version_name_is_valid(vname));
	ver = testutil_lstat(root, vpath);
	ck_assert(!same_file(&f, &ver));
	ck_assert(testutil_has_text(root, vpath, "shared"));
	ck_assert_uint_eq(ver.st_mode & 07777, 0640);
	ck_assert_uint_eq(ver.st_uid, f.st_uid);
	ck_assert_uint_eq(ver.st_gid, f.st_gid);
	ck_assert_uint_eq(testutil_lstat(root, "f.txt").st_nlink, 2);
	ck_assert_int_eq(journal_lines_with("\"event\":\"version\",\"path\":"
					    "\"f.txt\",\"size\":6"),
			 1);
	close(fd);
	/* An empty file has nothing to keep. */
	write_file("empty", "", 0644);
	fd = testutil_handle(root, "empty");
	ck_assert_int_eq(store_keep_copy(store, fd, &who), 0);
	ck_assert(!testutil_has_entry(root, VERSIONS "/empty"));
	close(fd);
}
END_TEST

/* stage_free and recovery: orphans */


START_TEST(stage_free_keeps_an_uncommitted_shadow_as_an_orphan)
{
	char shadow[NAME_MAX + 1];
	struct stage *st;
	int fd;

	open_store();
	testutil_make_dir(root, "d", 0755);
	write_file("d/f.txt", "old", 0644);
	fd = testutil_handle(root, "d/f.txt");
	st = stage_text(fd, "draft");
	only_entry(STAGING, shadow, NULL);
	stage_free(store, st);
	ck_assert_int_eq(testutil_count_entries(root, STAGING), 0);
	ck_assert_int_eq(testutil_count_entries(root, ORPHANS), 1);
	assert_orphan("f.txt", shadow, "draft");
	ck_assert_uint_eq(testutil_lstat(root, ORPHANS).st_mode & 07777, 0700);
	ck_assert(testutil_has_text(root, "d/f.txt", "old"));
	ck_assert_int_eq(journal_lines_with("\"event\":\"orphan\",\"path\":"
					    "\"d/f.txt\",\"size\":5,\"prev\":"),
			 1);
	ck_assert_int_eq(journal_lines_with("\"detail\":\"staged data never "
					    "committed\""),
			 1);
	stage_free(store, NULL);
	close(fd);
}
END_TEST

START_TEST(store_open_moves_leftover_shadows_to_orphans)
{
	char path[PATH_MAX];

	open_store();
	store_close(store);
	store = NULL;
	/* What a crash leaves: shadows with and without their xattr. */
	write_file(STAGING "/999-0", "lost", 0600);
	write_file(STAGING "/999-1", "also lost", 0600);
	testutil_join(path, root, STAGING "/999-0");
	if (setxattr(path, SHADOW_XATTR, "dir/doc.txt", 11, 0) < 0)
		ck_assert_int_eq(errno, ENOTSUP);
	open_store();
	ck_assert_int_eq(testutil_count_entries(root, STAGING), 0);
	ck_assert_int_eq(testutil_count_entries(root, ORPHANS), 2);
	if (getxattr(path, SHADOW_XATTR, NULL, 0) < 0 && errno == ENOTSUP)
		assert_orphan("unknown", "999-0", "lost");
	else
		assert_orphan("doc.txt", "999-0", "lost");
	assert_orphan("unknown", "999-1", "also lost");
	ck_assert_int_eq(journal_lines_with("\"event\":\"orphan\""), 2);
	ck_assert_int_eq(journal_lines_with("\"path\":\"\",\"size\":9,"), 1);
	/* Nothing is left to recover at the next open. */
	store_close(store);
	store = NULL;
	open_store();
	ck_assert_int_eq(testutil_count_entries(root, ORPHANS), 2);
	ck_assert_int_eq(journal_lines_with("\"event\":\"orphan\""), 2);
}
END_TEST

/* Faults: a commit that fails loses nothing and can be retried. */

/* Commits "new" over "old" with @kind failing once; checks the failure. */
static void commit_fails_then_retries(enum io_kind kind, unsigned long nth,
				      bool durable)
{
	char name[NAME_MAX + 1], path[PATH_MAX];
	struct stat before, after;
	struct stage *st;
	int fd, nfd = -2, ret, n;

	write_file("f.txt", "old", 0644);
	before = testutil_lstat(root, "f.txt");
	fd = testutil_handle(root, "f.txt");
	st = stage_text(fd, "new");
	io_fault_set(io, kind, nth, EIO);
	ret = stage_commit(store, st, fd, &who, durable, &nfd, &commit_st);
	io_fault_set(io, kind, 0, 0);
	ck_assert_int_eq(ret, -EIO);
	ck_assert_int_eq(nfd, -2);
	after = testutil_lstat(root, "f.txt");
	ck_assert(same_file(&before, &after));
	ck_assert(testutil_has_text(root, "f.txt", "old"));
	ck_assert_uint_eq(after.st_mode & 07777, 0644);
	only_entry(STAGING, name, path);
	ck_assert(testutil_has_text(root, path, "new"));
	ck_assert_int_eq(journal_lines_with("\"event\":\"commit\""), 0);

	nfd = commit_ok(st, fd, durable);
	ck_assert(testutil_has_text(root, "f.txt", "new"));
	ck_assert_int_eq(testutil_count_entries(root, STAGING), 0);
	n = testutil_count_entries(root, VERSIONS "/f.txt");
	ck_assert_int_ge(n, 1);
	for (int i = 0; i < n; i++) {
		testutil_nth_entry(root, VERSIONS "/f.txt", i, name, NULL);
		testutil_join(path, VERSIONS "/f.txt", name);
		ck_assert(testutil_has_text(root, path, "old"));
	}
	ck_assert_int_eq(journal_lines_with("\"event\":\"commit\""), 1);
	close(nfd);
	close(fd);
}

START_TEST(stage_commit_survives_an_injected_rename_error)
{
	open_store();
	commit_fails_then_retries(IO_RENAME, 1, false);
}
END_TEST

START_TEST(stage_commit_survives_an_injected_link_error)
{
	open_store();
	commit_fails_then_retries(IO_LINK, 1, false);
}
END_TEST

START_TEST(stage_commit_durable_survives_an_injected_fsync_error)
{
	open_store();
	commit_fails_then_retries(IO_FSYNC, 1, true);
}
END_TEST

START_TEST(stage_commit_durable_survives_a_second_fsync_error)
{
	open_store();
	commit_fails_then_retries(IO_FSYNC, 2, true);
}
END_TEST

START_TEST(stage_commit_failing_late_keeps_no_extra_version)
{
	static const struct {
		enum io_kind kind;
		unsigned long nth;
	} late[] = {
		{ IO_RENAME, 1 }, { IO_FSYNC, 1 }, { IO_FSYNC, 2 },
		{ IO_CHOWN, 1 },  { IO_CHMOD, 1 },
	};
	char name[NAME_MAX + 1], path[PATH_MAX];

	for (size_t i = 0; i < sizeof(late) / sizeof(late[0]); i++) {
		const char *kind = io_kind_name(late[i].kind);
		struct stage *st;
		int fd, nfd = -2, versions;

		forget_state();
		open_store();
		write_file("f.txt", "old", 0644);
		fd = testutil_handle(root, "f.txt");
		st = stage_text(fd, "new");
		io_fault_set(io, late[i].kind, late[i].nth, EIO);
		ck_assert_int_eq(stage_commit(store, st, fd, &who, true, &nfd, &commit_st),
				 -EIO);
		io_fault_set(io, late[i].kind, 0, 0);
		/* The file is not also a version while it is the file. */
		ck_assert_msg(testutil_lstat(root, "f.txt").st_nlink == 1,
			      "%s:%lu: the live file is linked as a version",
			      kind, late[i].nth);
		nfd = commit_ok(st, fd, true);
		versions = testutil_count_entries(root, VERSIONS "/f.txt");
		ck_assert_msg(versions == 1,
			      "%s:%lu: %d versions of one change", kind,
			      late[i].nth, versions);
		only_entry(VERSIONS "/f.txt", name, path);
		ck_assert(testutil_has_text(root, path, "old"));
		close(nfd);
		close(fd);
	}
}
END_TEST

/*
 * Commits over a/b/c.txt with call @nth of @kind failing: the commit fails
 * with the old content in place and the stage reusable, or succeeds; no
 * fd leaks either way.
 */
static void commit_under_fault(enum io_kind k, unsigned long nth)
{
	const char *kind = io_kind_name(k);
	struct stage *st;
	int fds, fd, nfd = -2, ret;
	char text[64];

	snprintf(text, sizeof(text), "new %s %lu", kind, nth);
	write_file("a/b/c.txt", "old", 0644);
	fds = fd_count();
	fd = testutil_handle(root, "a/b/c.txt");
	st = stage_text(fd, text);
	io_fault_set(io, k, nth, EIO);
	ret = stage_commit(store, st, fd, &who, true, &nfd, &commit_st);
	io_fault_set(io, k, 0, 0);
	if (ret < 0) {
		ck_assert_msg(ret == -EIO, "%s:%lu: returned %d", kind, nth,
			      ret);
		ck_assert_msg(testutil_has_text(root, "a/b/c.txt", "old"),
			      "%s:%lu: old content lost", kind, nth);
		ck_assert_msg(testutil_fd_has_text(stage_fd(st), text),
			      "%s:%lu: stage lost", kind, nth);
		ret = stage_commit(store, st, fd, &who, true, &nfd, &commit_st);
		ck_assert_msg(ret == 0, "%s:%lu: retry returned %d", kind, nth,
			      ret);
	}
	ck_assert_msg(testutil_has_text(root, "a/b/c.txt", text),
		      "%s:%lu: new content missing", kind, nth);
	if (nfd >= 0)
		close(nfd);
	close(fd);
	ck_assert_msg(fd_count() == fds, "%s:%lu: fd leak", kind, nth);
}

START_TEST(stage_commit_with_any_fault_loses_nothing_or_an_fd)
{
	open_store();
	testutil_make_dir(root, "a", 0755);
	testutil_make_dir(root, "a/b", 0755);
	for (int k = 0; k < IO_KIND_COUNT; k++)
		for (unsigned long nth = 1; nth <= 12; nth++)
			commit_under_fault((enum io_kind)k, nth);
	ck_assert_int_eq(testutil_count_entries(root, STAGING), 0);
}
END_TEST

/*
 * *new_fd is -1 only for identical content: the caller keeps its old
 * handle then, which after a real commit would name the version.
 */
START_TEST(stage_commit_reports_a_new_handle_for_every_real_commit)
{
	open_store();
	for (unsigned long nth = 1; nth <= 10; nth++) {
		struct stage *st;
		int fd, nfd = -2, ret;

		write_file("f.txt", "old", 0644);
		fd = testutil_handle(root, "f.txt");
		st = stage_text(fd, "new");
		io_fault_set(io, IO_STAT, nth, EIO);
		ret = stage_commit(store, st, fd, &who, false, &nfd, &commit_st);
		io_fault_set(io, IO_STAT, 0, 0);
		if (ret < 0)
			ret = stage_commit(store, st, fd, &who, false, &nfd, &commit_st);
		ck_assert_int_eq(ret, 0);
		ck_assert(testutil_has_text(root, "f.txt", "new"));
		ck_assert_msg(nfd >= 0,
			      "stat:%lu: content changed, *new_fd is %d", nth,
			      nfd);
		close(nfd);
		close(fd);
	}
}
END_TEST

static TCase *add_tcase(Suite *s, const char *name)
{
	return testutil_add_tcase(s, name, setup, teardown, 30);
}

static Suite *store_suite(void)
{
	Suite *s = suite_create("store");
	TCase *tc;

	tc = add_tcase(s, "open");
	tcase_add_test(tc, store_open_makes_staging_versions_and_the_journal);
	tcase_add_test(tc, store_open_twice_reuses_the_state_dir);
	tcase_add_test(tc, store_open_refuses_a_state_dir_file_or_symlink);
	tcase_add_test(tc, store_open_returns_injected_errors_leaking_no_fd);

	tc = add_tcase(s, "scratch");
	tcase_add_test(tc, store_is_scratch_knows_swap_backup_and_temp_names);
	tcase_add_test(tc, store_is_scratch_leaves_ordinary_names_alone);

	tc = add_tcase(s, "stage");
	tcase_add_test(tc,
		       stage_begin_copies_the_content_into_a_shadow_in_staging);
	tcase_add_test(tc, stage_begin_with_truncate_starts_empty);
	tcase_add_test(tc, stage_begin_fails_on_a_copy_error_leaving_no_shadow);

	tc = add_tcase(s, "commit");
	tcase_add_test(tc, stage_commit_replaces_the_content_and_keeps_the_old);
	tcase_add_test(tc, stage_commit_of_identical_content_commits_nothing);
	tcase_add_test(tc, stage_commit_over_an_empty_file_keeps_no_version);
	tcase_add_test(tc,
		       stage_commit_of_an_empty_shadow_keeps_the_old_content);
	tcase_add_test(tc, stage_commit_durable_replaces_the_content_and_syncs);
	tcase_add_test(tc, stage_commit_in_a_nested_dir_mirrors_its_dirs);
	tcase_add_test(tc, stage_commit_twice_keeps_two_versions_in_time_order);
	tcase_add_test(tc, stage_commit_fails_when_another_file_took_the_name);
	tcase_add_test(tc, stage_commit_fails_with_estale_if_a_mount_covers_it);
	tcase_add_test(tc, stage_commit_follows_a_rename_of_the_file);
	tcase_add_test(tc, stage_commit_works_on_a_name_ending_in_deleted);
	tcase_add_test(tc, stage_commit_copies_a_user_xattr_larger_than_4_kib);

	tc = add_tcase(s, "keep");
	tcase_add_test(tc,
		       store_keep_links_the_file_as_a_version_and_journals_it);
	tcase_add_test(tc, store_keep_keeps_nothing_of_a_dir_or_a_symlink);
	tcase_add_test(tc,
		       store_keep_copy_keeps_a_separate_copy_of_a_linked_file);

	tc = add_tcase(s, "orphans");
	tcase_add_test(tc, stage_free_keeps_an_uncommitted_shadow_as_an_orphan);
	tcase_add_test(tc, store_open_moves_leftover_shadows_to_orphans);

	tc = add_tcase(s, "faults");
	tcase_add_test(tc, stage_commit_survives_an_injected_rename_error);
	tcase_add_test(tc, stage_commit_survives_an_injected_link_error);
	tcase_add_test(tc,
		       stage_commit_durable_survives_an_injected_fsync_error);
	tcase_add_test(tc, stage_commit_durable_survives_a_second_fsync_error);
	tcase_add_test(tc, stage_commit_failing_late_keeps_no_extra_version);
	tcase_add_test(tc, stage_commit_with_any_fault_loses_nothing_or_an_fd);
	tcase_add_test(tc,
		       stage_commit_reports_a_new_handle_for_every_real_commit);
	return s;
}

int main(void)
{
	return testutil_run_in_temp_dir("store", store_suite);
}
