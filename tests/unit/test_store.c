// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "core/store.h"
#include "core/version.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
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
 * Every test gets a fresh backing dir and a dir outside it, both under
 * @base; main() makes @base and removes it after the run, so a test that
 * fails before its teardown leaves nothing behind.  Tests open the store
 * themselves (open_store()); the teardown closes it.
 */
/* The new object's attributes from stage_commit(), not checked here. */
static struct stat commit_st;

static char base[PATH_MAX];
static char root[PATH_MAX];
static char outside[PATH_MAX];
static struct io *io;
static struct store *store;
static const struct who who = { .uid = 1000, .pid = 4242, .comm = "vim" };

static void join(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

	ck_assert(n > 0 && n < PATH_MAX);
}

static void make_temp_dir(char *buf, const char *what)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s.XXXXXX", base, what);

	ck_assert(n > 0 && n < PATH_MAX);
	ck_assert_msg(mkdtemp(buf), "cannot make temp dir '%s': %s", buf,
		      strerror(errno));
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	/* Keep going: remove as much as can be removed. */
	remove(path);
	return 0;
}

static void remove_tree(const char *path)
{
	if (*path)
		nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	umask(022);
	make_temp_dir(root, "backing");
	make_temp_dir(outside, "outside");
	ck_assert_int_eq(io_new(root, &io), 0);
}

static void teardown(void)
{
	store_close(store);
	store = NULL;
	io_free(io);
	io = NULL;
	remove_tree(root);
	remove_tree(outside);
}

static void open_store(void)
{
	ck_assert_int_eq(store_open(io, &store), 0);
	ck_assert_ptr_nonnull(store);
}

/* Files of the backing dir, by path relative to it. */

static void write_file(const char *rel, const char *text, mode_t mode)
{
	char path[PATH_MAX];
	size_t len = strlen(text);
	int fd;

	join(path, root, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ck_assert_msg(fd >= 0, "cannot create '%s': %s", path,
		      strerror(errno));
	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(fchmod(fd, mode), 0);
	ck_assert_int_eq(close(fd), 0);
}

static void make_dir(const char *rel, mode_t mode)
{
	char path[PATH_MAX];

	join(path, root, rel);
	ck_assert_msg(mkdir(path, 0700) == 0, "cannot make '%s': %s", path,
		      strerror(errno));
	ck_assert_int_eq(chmod(path, mode), 0);
}

/* Whether the regular file @rel holds exactly @text. */
static bool has_text(const char *rel, const char *text)
{
	char path[PATH_MAX], buf[4096];
	ssize_t n;
	int fd;

	join(path, root, rel);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n == (ssize_t)strlen(text) && !memcmp(buf, text, (size_t)n);
}

static bool fd_has_text(int fd, const char *text)
{
	char buf[4096];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);

	return n == (ssize_t)strlen(text) && !memcmp(buf, text, (size_t)n);
}

static bool has_entry(const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	join(path, root, rel);
	return lstat(path, &st) == 0;
}

static struct stat lstat_rel(const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	join(path, root, rel);
	ck_assert_msg(lstat(path, &st) == 0, "cannot stat '%s': %s", path,
		      strerror(errno));
	return st;
}

/* An O_PATH handle of @rel, as the daemon holds one per inode. */
static int handle(const char *rel)
{
	char path[PATH_MAX];
	int fd;

	join(path, root, rel);
	fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "cannot open '%s': %s", path, strerror(errno));
	return fd;
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

	join(path, root, rel);
	if (geteuid() == 0)
		ck_assert_int_eq(lchown(path, uid, gid), 0);
	return lstat_rel(rel);
}

static void rename_rel(const char *from, const char *to)
{
	char a[PATH_MAX], b[PATH_MAX];

	join(a, root, from);
	join(b, root, to);
	ck_assert_msg(rename(a, b) == 0, "cannot rename '%s': %s", a,
		      strerror(errno));
}

/* Entries of dir @rel but "." and ".."; -1 when it is missing. */
static int count_entries(const char *rel)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d;

	join(path, root, rel);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* The @i-th name of dir @rel in sorted order, into @name (NAME_MAX + 1). */
static void nth_entry(const char *rel, int i, char *name)
{
	char path[PATH_MAX];
	struct dirent **list;
	int n;

	join(path, root, rel);
	n = scandir(path, &list, NULL, alphasort);
	ck_assert_msg(n >= 0, "cannot read '%s': %s", path, strerror(errno));
	/* "." and ".." sort first. */
	ck_assert_int_gt(n, i + 2);
	snprintf(name, NAME_MAX + 1, "%s", list[i + 2]->d_name);
	for (int k = 0; k < n; k++)
		free(list[k]);
	free(list);
}

/* The one entry of dir @rel, into @name; @path (PATH_MAX) is rel/name. */
static void only_entry(const char *rel, char *name, char *path)
{
	ck_assert_msg(count_entries(rel) == 1, "'%s' has %d entries", rel,
		      count_entries(rel));
	nth_entry(rel, 0, name);
	if (path)
		join(path, rel, name);
}

/* The journal, NUL-terminated; caller frees. */
static char *read_journal(void)
{
	char path[PATH_MAX], *buf;
	struct stat st;
	int fd;

	join(path, root, JOURNAL);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_msg(fd >= 0, "cannot open '%s': %s", path, strerror(errno));
	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(read(fd, buf, (size_t)st.st_size), st.st_size);
	buf[st.st_size] = '\0';
	close(fd);
	return buf;
}

/* Journal lines that hold @text. */
static int journal_lines_with(const char *text)
{
	char *buf = read_journal(), *line, *save = NULL;
	int n = 0;

	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, text))
			n++;
	free(buf);
	return n;
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
	join(path, root, STATE_DIR);
	remove_tree(path);
}

/*
 * Checks the orphan "<time>-<shadow>" holding @text; a shadow made by
 * stage_begin() is named "<pid>-<seq>-<file>", so it names @file.
 */
static void assert_orphan(const char *file, const char *shadow,
			  const char *text)
{
	char pat[PATH_MAX], name[NAME_MAX + 1], time[32], path[PATH_MAX];
	int n = count_entries(ORPHANS), found = 0;

	(void)file;
	snprintf(pat, sizeof(pat), "*-%s", shadow);
	for (int i = 0; i < n; i++) {
		nth_entry(ORPHANS, i, name);
		if (fnmatch(pat, name, 0))
			continue;
		found++;
		snprintf(time, sizeof(time), "%.*s",
			 (int)(strlen(name) - strlen(pat) + 1), name);
		ck_assert_msg(version_name_is_valid(time), "orphan '%s'", name);
		join(path, ORPHANS, name);
		ck_assert(has_text(path, text));
	}
	ck_assert_msg(found == 1, "%d orphans match '%s'", found, pat);
}

/* store_open, store_close */

START_TEST(store_open_makes_staging_versions_and_the_journal)
{
	struct stat st, vst;

	ck_assert(!has_entry(STATE_DIR));
	open_store();
	st = lstat_rel(STATE_DIR);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0711);
	st = lstat_rel(STAGING);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	st = lstat_rel(VERSIONS);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0755);
	vst = fstat_of(store_versions_fd(store));
	ck_assert(same_file(&st, &vst));
	st = lstat_rel(JOURNAL);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
	ck_assert_int_eq(count_entries(STAGING), 0);
	ck_assert_int_eq(count_entries(VERSIONS), 0);
}
END_TEST

START_TEST(store_open_twice_reuses_the_state_dir)
{
	struct store *other = NULL;
	struct stat before, after;
	int fd;

	open_store();
	write_file("f.txt", "old", 0644);
	fd = handle("f.txt");
	close(commit_ok(stage_text(fd, "new"), fd, false));
	close(fd);
	before = lstat_rel(VERSIONS);
	store_close(store);
	store = NULL;
	open_store();
	after = lstat_rel(VERSIONS);
	ck_assert(same_file(&before, &after));
	ck_assert_int_eq(count_entries(VERSIONS "/f.txt"), 1);
	ck_assert_int_eq(journal_lines_with("\"event\":\"commit\""), 1);
	/* A second store on the same dir at the same time opens as well. */
	ck_assert_int_eq(store_open(io, &other), 0);
	ck_assert_ptr_nonnull(other);
	store_close(other);
	ck_assert_int_eq(count_entries(VERSIONS "/f.txt"), 1);
}
END_TEST

START_TEST(store_open_refuses_a_state_dir_file_or_symlink)
{
	char path[PATH_MAX];
	struct store *s = (struct store *)&s;

	write_file(STATE_DIR, "not a dir", 0644);
	ck_assert_int_eq(store_open(io, &s), -ENOTDIR);
	ck_assert_ptr_eq(s, (struct store *)&s);
	ck_assert(has_text(STATE_DIR, "not a dir"));

	join(path, root, STATE_DIR);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(symlink(outside, path), 0);
	ck_assert_int_eq(store_open(io, &s), -ENOTDIR);
	ck_assert_ptr_eq(s, (struct store *)&s);
	ck_assert(S_ISLNK(lstat_rel(STATE_DIR).st_mode));
	/* Nothing was made through the link. */
	join(path, outside, STATE_STAGING);
	ck_assert_int_eq(access(path, F_OK), -1);
	join(path, outside, STATE_JOURNAL);
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
		make_dir(STATE_DIR, 0711);
		make_dir(STAGING, 0700);
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
	if (leftover && !has_text(STAGING "/999-0", "lost"))
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
	fd = handle("f.txt");
	ck_assert_int_eq(stage_begin(store, fd, false, &st), 0);
	ck_assert_ptr_nonnull(st);
	ck_assert(fd_has_text(stage_fd(st), "hello world"));
	only_entry(STAGING, name, rel);
	sh = lstat_rel(rel);
	sst = fstat_of(stage_fd(st));
	ck_assert(same_file(&sh, &sst));
	ck_assert_uint_eq(sh.st_mode & 07777, 0600);
	/* The shadow says whose it is, for recovery. */
	join(path, root, rel);
	n = getxattr(path, SHADOW_XATTR, val, sizeof(val) - 1);
	if (n >= 0 || errno != ENOTSUP) {
		ck_assert_int_eq(n, 5);
		val[n] = '\0';
		ck_assert_str_eq(val, "f.txt");
	}
	/* It is read-write, and the file is untouched by writes to it. */
	ck_assert_int_eq(pwrite(stage_fd(st), "J", 1, 0), 1);
	ck_assert(fd_has_text(stage_fd(st), "Jello world"));
	ck_assert(has_text("f.txt", "hello world"));
	f = lstat_rel("f.txt");
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
	fd = handle("f.txt");
	ck_assert_int_eq(stage_begin(store, fd, true, &st), 0);
	ck_assert_int_eq(fstat(stage_fd(st), &sh), 0);
	ck_assert_int_eq(sh.st_size, 0);
	ck_assert(has_text("f.txt", "hello world"));
	ck_assert_int_eq(count_entries(STAGING), 1);
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
	fd = handle("f.txt");
	fds = fd_count();
	io_fault_set(io, IO_COPY, 1, ENOSPC);
	ck_assert_int_eq(stage_begin(store, fd, false, &st), -ENOSPC);
	ck_assert_ptr_eq(st, (struct stage *)&st);
	ck_assert_int_eq(count_entries(STAGING), 0);
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
	join(path, root, "f.txt");
	xattrs = setxattr(path, "user.color", "blue", 4, 0) == 0;
	fd = handle("f.txt");
	nfd = commit_ok(stage_text(fd, "new content!"), fd, false);

	ck_assert(has_text("f.txt", "new content!"));
	now = lstat_rel("f.txt");
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
	vdir = lstat_rel(VERSIONS "/f.txt");
	ck_assert(S_ISDIR(vdir.st_mode));
	ck_assert_uint_eq(vdir.st_mode & 07777, 0750);
	ck_assert_uint_eq(vdir.st_uid, old.st_uid);
	ck_assert_uint_eq(vdir.st_gid, old.st_gid);
	only_entry(VERSIONS "/f.txt", vname, vpath);
	ck_assert_msg(version_name_is_valid(vname), "'%s'", vname);
	ck_assert_str_eq(vname + strlen(vname) - 4, ".txt");
	ck_assert(has_text(vpath, "old content"));
	ver = lstat_rel(vpath);
	ck_assert(same_file(&ver, &old));
	ck_assert_uint_eq(ver.st_mode & 07777, 0640);
	ck_assert_uint_eq(ver.st_uid, old.st_uid);
	ck_assert_uint_eq(ver.st_gid, old.st_gid);
	ck_assert_int_eq(count_entries(STAGING), 0);

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
	before = lstat_rel("f.txt");
	fd = handle("f.txt");
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
	after = lstat_rel("f.txt");
	ck_assert(same_file(&before, &after));
	ck_assert(has_text("f.txt", "same"));
	ck_assert_int_eq(count_entries(STAGING), 0);
	ck_assert_int_eq(count_entries(VERSIONS), 0);
	ck_assert_int_eq(journal_lines_with("\"event\""), 0);
	close(fd);
}
END_TEST

START_TEST(stage_commit_over_an_empty_file_keeps_no_version)
{
	int fd, nfd;

	open_store();
	write_file("f.txt", "", 0644);
	fd = handle("f.txt");
	nfd = commit_ok(stage_text(fd, "first words"), fd, false);
	ck_assert(has_text("f.txt", "first words"));
	ck_assert_int_le(count_entries(VERSIONS "/f.txt"), 0);
	ck_assert_int_eq(count_entries(STAGING), 0);
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
	fd = handle("f.txt");
	nfd = commit_ok(stage_text(fd, ""), fd, false);
	ck_assert_int_eq(lstat_rel("f.txt").st_size, 0);
	only_entry(VERSIONS "/f.txt", vname, vpath);
	ck_assert(has_text(vpath, "all of it"));
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
	fd = handle("f.txt");
	syncs = io_calls(io, IO_FSYNC);
	nfd = commit_ok(stage_text(fd, "new"), fd, true);
	/* The shadow's data, the version's dir, the file's dir. */
	ck_assert_uint_ge(io_calls(io, IO_FSYNC) - syncs, 3);
	ck_assert(has_text("f.txt", "new"));
	only_entry(VERSIONS "/f.txt", vname, vpath);
	ck_assert(has_text(vpath, "old"));
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
	make_dir("a", 0750);
	make_dir("a/b", 0705);
	write_file("a/b/c.txt", "old", 0604);
	a = give_to("a", 1111, 2222);
	b = give_to("a/b", 3333, 4444);
	f = give_to("a/b/c.txt", 5555, 6666);
	fd = handle("a/b/c.txt");
	nfd = commit_ok(stage_text(fd, "new"), fd, false);
	ck_assert(has_text("a/b/c.txt", "new"));

	va = lstat_rel(VERSIONS "/a");
	vb = lstat_rel(VERSIONS "/a/b");
	vf = lstat_rel(VERSIONS "/a/b/c.txt");
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
	ck_assert_int_eq(count_entries(VERSIONS "/a"), 1);
	ck_assert_int_eq(count_entries(VERSIONS "/a/b"), 1);
	only_entry(VERSIONS "/a/b/c.txt", vname, vpath);
	ck_assert(has_text(vpath, "old"));
	ck_assert_uint_eq(lstat_rel(vpath).st_mode & 07777, 0604);
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
	fd = handle("f");
	nfd = commit_ok(stage_text(fd, "one"), fd, false);
	close(fd);
	fd = nfd;
	nfd = commit_ok(stage_text(fd, "two"), fd, false);
	close(fd);
	ck_assert(has_text("f", "two"));
	ck_assert_int_eq(count_entries(VERSIONS "/f"), 2);
	nth_entry(VERSIONS "/f", 0, v0);
	nth_entry(VERSIONS "/f", 1, v1);
	ck_assert(version_name_is_valid(v0) && version_name_is_valid(v1));
	join(path, VERSIONS "/f", v0);
	ck_assert(has_text(path, "zero"));
	join(path, VERSIONS "/f", v1);
	ck_assert(has_text(path, "one"));
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
	fd = handle("f.txt");
	st = stage_text(fd, "staged");
	write_file("other", "theirs", 0600);
	before = lstat_rel("other");
	rename_rel("other", "f.txt");
	ret = stage_commit(store, st, fd, &who, false, &nfd, &commit_st);
	/*
	 * -ESTALE when the name is found taken; the kernel may first report
	 * the handle's own name as deleted, which is -ENOENT.
	 */
	ck_assert_msg(ret == -ESTALE || ret == -ENOENT, "returned %d", ret);
	ck_assert_int_eq(nfd, -2);
	after = lstat_rel("f.txt");
	ck_assert(same_file(&before, &after));
	ck_assert(has_text("f.txt", "theirs"));
	ck_assert_uint_eq(after.st_mode & 07777, 0600);
	ck_assert_int_le(count_entries(VERSIONS "/f.txt"), 0);
	/* The stage stays, whole. */
	ck_assert(fd_has_text(stage_fd(st), "staged"));
	only_entry(STAGING, name, path);
	ck_assert(has_text(path, "staged"));
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
	join(path, root, "f.txt");
	join(over, outside, "over");
	fd = open(over, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "theirs", 6), 6);
	close(fd);
	fd = handle("f.txt");
	st = stage_text(fd, "staged");
	ck_assert_int_eq(mount(over, path, NULL, MS_BIND, NULL), 0);
	ck_assert_int_eq(stage_commit(store, st, fd, &who, false, &nfd, &commit_st),
			 -ESTALE);
	ck_assert_int_eq(nfd, -2);
	ck_assert(has_text("f.txt", "theirs"));
	ck_assert_int_eq(umount(path), 0);
	ck_assert(has_text("f.txt", "mine"));
	ck_assert_int_le(count_entries(VERSIONS "/f.txt"), 0);
	only_entry(STAGING, name, NULL);
	ck_assert(fd_has_text(stage_fd(st), "staged"));
	/* With the name its own again, the same stage commits. */
	nfd = commit_ok(st, fd, false);
	ck_assert(has_text("f.txt", "staged"));
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
	make_dir("d", 0755);
	write_file("f.txt", "old", 0644);
	fd = handle("f.txt");
	st = stage_text(fd, "new");
	rename_rel("f.txt", "d/g.txt");
	write_file("f.txt", "someone else's", 0644);
	nfd = commit_ok(st, fd, false);
	ck_assert(has_text("d/g.txt", "new"));
	ck_assert(has_text("f.txt", "someone else's"));
	only_entry(VERSIONS "/d/g.txt", vname, vpath);
	ck_assert(has_text(vpath, "old"));
	ck_assert(!has_entry(VERSIONS "/f.txt"));
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
	fd = handle("notes (deleted)");
	nfd = commit_ok(stage_text(fd, "new"), fd, false);
	ck_assert(has_text("notes (deleted)", "new"));
	only_entry(VERSIONS "/notes (deleted)", vname, vpath);
	ck_assert(has_text(vpath, "old"));
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
	join(path, root, "f.txt");
	memset(big, 'x', sizeof(big));
	/* Only where the backing filesystem holds such a value (not ext4). */
	if (setxattr(path, "user.big", big, sizeof(big), 0) < 0)
		return;
	fd = handle("f.txt");
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
	fd = handle("f.txt");
	ck_assert_int_eq(store_keep(store, fd, &who), 0);
	only_entry(VERSIONS "/f.txt", vname, vpath);
	ck_assert(version_name_is_valid(vname));
	f = lstat_rel("f.txt");
	ver = lstat_rel(vpath);
	ck_assert(same_file(&f, &ver));
	ck_assert_uint_eq(f.st_nlink, 2);
	ck_assert(has_text(vpath, "data"));
	snprintf(line, sizeof(line),
		 "\"event\":\"version\",\"path\":\"f.txt\",\"size\":4,"
		 "\"prev\":\"%s\",\"uid\":1000,\"pid\":4242,\"comm\":\"vim\"}",
		 vname);
	ck_assert_int_eq(journal_lines_with(line), 1);
	/* Kept again at once: a second name, sorting after the first. */
	ck_assert_int_eq(store_keep(store, fd, NULL), 0);
	ck_assert_int_eq(count_entries(VERSIONS "/f.txt"), 2);
	nth_entry(VERSIONS "/f.txt", 0, line);
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
	make_dir("d", 0755);
	join(path, root, "link");
	ck_assert_int_eq(symlink("d", path), 0);
	fd = handle("d");
	ck_assert_int_eq(store_keep(store, fd, &who), 0);
	close(fd);
	fd = handle("link");
	ck_assert_int_eq(store_keep(store, fd, &who), 0);
	close(fd);
	ck_assert_int_eq(count_entries(VERSIONS), 0);
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
	join(path, root, "f.txt");
	join(other, root, "g.txt");
	ck_assert_int_eq(link(path, other), 0);
	fd = handle("f.txt");
	ck_assert_int_eq(store_keep_copy(store, fd, &who), 0);
	only_entry(VERSIONS "/f.txt", vname, vpath);
	ck_assert(version_name_is_valid(vname));
	ver = lstat_rel(vpath);
	ck_assert(!same_file(&f, &ver));
	ck_assert(has_text(vpath, "shared"));
	ck_assert_uint_eq(ver.st_mode & 07777, 0640);
	ck_assert_uint_eq(ver.st_uid, f.st_uid);
	ck_assert_uint_eq(ver.st_gid, f.st_gid);
	ck_assert_uint_eq(lstat_rel("f.txt").st_nlink, 2);
	ck_assert_int_eq(journal_lines_with("\"event\":\"version\",\"path\":"
					    "\"f.txt\",\"size\":6"),
			 1);
	close(fd);
	/* An empty file has nothing to keep. */
	write_file("empty", "", 0644);
	fd = handle("empty");
	ck_assert_int_eq(store_keep_copy(store, fd, &who), 0);
	ck_assert(!has_entry(VERSIONS "/empty"));
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
	make_dir("d", 0755);
	write_file("d/f.txt", "old", 0644);
	fd = handle("d/f.txt");
	st = stage_text(fd, "draft");
	only_entry(STAGING, shadow, NULL);
	stage_free(store, st);
	ck_assert_int_eq(count_entries(STAGING), 0);
	ck_assert_int_eq(count_entries(ORPHANS), 1);
	assert_orphan("f.txt", shadow, "draft");
	ck_assert_uint_eq(lstat_rel(ORPHANS).st_mode & 07777, 0700);
	ck_assert(has_text("d/f.txt", "old"));
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
	join(path, root, STAGING "/999-0");
	if (setxattr(path, SHADOW_XATTR, "dir/doc.txt", 11, 0) < 0)
		ck_assert_int_eq(errno, ENOTSUP);
	open_store();
	ck_assert_int_eq(count_entries(STAGING), 0);
	ck_assert_int_eq(count_entries(ORPHANS), 2);
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
	ck_assert_int_eq(count_entries(ORPHANS), 2);
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
	before = lstat_rel("f.txt");
	fd = handle("f.txt");
	st = stage_text(fd, "new");
	io_fault_set(io, kind, nth, EIO);
	ret = stage_commit(store, st, fd, &who, durable, &nfd, &commit_st);
	io_fault_set(io, kind, 0, 0);
	ck_assert_int_eq(ret, -EIO);
	ck_assert_int_eq(nfd, -2);
	after = lstat_rel("f.txt");
	ck_assert(same_file(&before, &after));
	ck_assert(has_text("f.txt", "old"));
	ck_assert_uint_eq(after.st_mode & 07777, 0644);
	only_entry(STAGING, name, path);
	ck_assert(has_text(path, "new"));
	ck_assert_int_eq(journal_lines_with("\"event\":\"commit\""), 0);

	nfd = commit_ok(st, fd, durable);
	ck_assert(has_text("f.txt", "new"));
	ck_assert_int_eq(count_entries(STAGING), 0);
	n = count_entries(VERSIONS "/f.txt");
	ck_assert_int_ge(n, 1);
	for (int i = 0; i < n; i++) {
		nth_entry(VERSIONS "/f.txt", i, name);
		join(path, VERSIONS "/f.txt", name);
		ck_assert(has_text(path, "old"));
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
		int fd, nfd = -2;

		forget_state();
		open_store();
		write_file("f.txt", "old", 0644);
		fd = handle("f.txt");
		st = stage_text(fd, "new");
		io_fault_set(io, late[i].kind, late[i].nth, EIO);
		ck_assert_int_eq(stage_commit(store, st, fd, &who, true, &nfd, &commit_st),
				 -EIO);
		io_fault_set(io, late[i].kind, 0, 0);
		/* The file is not also a version while it is the file. */
		ck_assert_msg(lstat_rel("f.txt").st_nlink == 1,
			      "%s:%lu: the live file is linked as a version",
			      kind, late[i].nth);
		nfd = commit_ok(st, fd, true);
		ck_assert_msg(count_entries(VERSIONS "/f.txt") == 1,
			      "%s:%lu: %d versions of one change", kind,
			      late[i].nth, count_entries(VERSIONS "/f.txt"));
		only_entry(VERSIONS "/f.txt", name, path);
		ck_assert(has_text(path, "old"));
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
	fd = handle("a/b/c.txt");
	st = stage_text(fd, text);
	io_fault_set(io, k, nth, EIO);
	ret = stage_commit(store, st, fd, &who, true, &nfd, &commit_st);
	io_fault_set(io, k, 0, 0);
	if (ret < 0) {
		ck_assert_msg(ret == -EIO, "%s:%lu: returned %d", kind, nth,
			      ret);
		ck_assert_msg(has_text("a/b/c.txt", "old"),
			      "%s:%lu: old content lost", kind, nth);
		ck_assert_msg(fd_has_text(stage_fd(st), text),
			      "%s:%lu: stage lost", kind, nth);
		ret = stage_commit(store, st, fd, &who, true, &nfd, &commit_st);
		ck_assert_msg(ret == 0, "%s:%lu: retry returned %d", kind, nth,
			      ret);
	}
	ck_assert_msg(has_text("a/b/c.txt", text),
		      "%s:%lu: new content missing", kind, nth);
	if (nfd >= 0)
		close(nfd);
	close(fd);
	ck_assert_msg(fd_count() == fds, "%s:%lu: fd leak", kind, nth);
}

START_TEST(stage_commit_with_any_fault_loses_nothing_or_an_fd)
{
	open_store();
	make_dir("a", 0755);
	make_dir("a/b", 0755);
	for (int k = 0; k < IO_KIND_COUNT; k++)
		for (unsigned long nth = 1; nth <= 12; nth++)
			commit_under_fault((enum io_kind)k, nth);
	ck_assert_int_eq(count_entries(STAGING), 0);
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
		fd = handle("f.txt");
		st = stage_text(fd, "new");
		io_fault_set(io, IO_STAT, nth, EIO);
		ret = stage_commit(store, st, fd, &who, false, &nfd, &commit_st);
		io_fault_set(io, IO_STAT, 0, 0);
		if (ret < 0)
			ret = stage_commit(store, st, fd, &who, false, &nfd, &commit_st);
		ck_assert_int_eq(ret, 0);
		ck_assert(has_text("f.txt", "new"));
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
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return tc;
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
	const char *tmp = getenv("TMPDIR");
	SRunner *sr;
	int failed;

	snprintf(base, sizeof(base), "%s/hydrafs-test-store.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(base)) {
		fprintf(stderr, "cannot make temp dir '%s': %s\n", base,
			strerror(errno));
		return 99;
	}
	sr = srunner_create(store_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	remove_tree(base);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
