// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "tests/unit/testutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <unistd.h>

/* The run's temp dir; "" outside testutil_run_in_temp_dir(). */
static char base[PATH_MAX];

int testutil_run(Suite *(*make_suite)(void))
{
	SRunner *sr = srunner_create(make_suite());
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

int testutil_run_in_temp_dir(const char *name, Suite *(*make_suite)(void))
{
	const char *tmp = getenv("TMPDIR");
	int ret;

	snprintf(base, sizeof(base), "%s/hydrafs-test-%s.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp", name);
	if (!mkdtemp(base)) {
		fprintf(stderr, "cannot make temp dir '%s': %s\n", base,
			strerror(errno));
		return 99;
	}
	ret = testutil_run(make_suite);
	testutil_remove_tree(base);
	base[0] = '\0';
	return ret;
}

TCase *testutil_add_tcase(Suite *s, const char *name, void (*setup)(void),
			  void (*teardown)(void), double timeout)
{
	TCase *tc = tcase_create(name);

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, timeout);
	suite_add_tcase(s, tc);
	return tc;
}

void testutil_join(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, PATH_MAX, "%s/%s", dir, name);

	ck_assert(n > 0 && n < PATH_MAX);
}

void testutil_make_temp_dir(char *buf, const char *what)
{
	int n;

	ck_assert_msg(base[0],
		      "no temp dir: run with testutil_run_in_temp_dir");
	n = snprintf(buf, PATH_MAX, "%s/%s.XXXXXX", base, what);
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

void testutil_remove_tree(const char *path)
{
	if (*path)
		nftw(path, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

void testutil_backing_init(char *root, struct io **io)
{
	umask(022);
	testutil_make_temp_dir(root, "backing");
	ck_assert_int_eq(io_new(root, io), 0);
}

void testutil_backing_release(const char *root, struct io **io)
{
	io_free(*io);
	*io = NULL;
	testutil_remove_tree(root);
}

void testutil_write_file(const char *dir, const char *name, const void *data,
			 size_t len)
{
	char path[PATH_MAX];
	int fd;

	testutil_join(path, dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_msg(fd >= 0, "cannot create '%s': %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

void testutil_write_text(const char *dir, const char *name, const char *text)
{
	testutil_write_file(dir, name, text, strlen(text));
}

void testutil_make_dir(const char *dir, const char *name, mode_t mode)
{
	char path[PATH_MAX];

	testutil_join(path, dir, name);
	ck_assert_msg(mkdir(path, 0700) == 0, "cannot make '%s': %s", path,
		      strerror(errno));
	ck_assert_int_eq(chmod(path, mode), 0);
}

int testutil_open(const char *dir, const char *name, int flags)
{
	char path[PATH_MAX];
	int fd;

	testutil_join(path, dir, name);
	fd = open(path, flags | O_CLOEXEC, 0600);
	ck_assert_msg(fd >= 0, "cannot open '%s': %s", path, strerror(errno));
	return fd;
}

int testutil_handle(const char *dir, const char *name)
{
	return testutil_open(dir, name, O_PATH | O_NOFOLLOW);
}

bool testutil_has_entry(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	testutil_join(path, dir, name);
	return lstat(path, &st) == 0;
}

struct stat testutil_lstat(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	testutil_join(path, dir, name);
	ck_assert_msg(lstat(path, &st) == 0, "cannot stat '%s': %s", path,
		      strerror(errno));
	return st;
}

char *testutil_read_file(const char *dir, const char *name, size_t *len)
{
	int fd = testutil_open(dir, name, O_RDONLY | O_NOFOLLOW);
	char *buf = testutil_read_fd(fd, len);

	close(fd);
	return buf;
}

char *testutil_read_fd(int fd, size_t *len)
{
	struct stat st;
	char *buf;

	ck_assert_int_eq(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(pread(fd, buf, (size_t)st.st_size, 0), st.st_size);
	buf[st.st_size] = '\0';
	if (len)
		*len = (size_t)st.st_size;
	return buf;
}

bool testutil_has_text(const char *dir, const char *name, const char *text)
{
	char path[PATH_MAX], *buf;
	struct stat st;
	size_t len;
	bool same;
	int fd;

	testutil_join(path, dir, name);
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return false;
	}
	buf = testutil_read_fd(fd, &len);
	close(fd);
	same = len == strlen(text) && !memcmp(buf, text, len);
	if (!same)
		fprintf(stderr, "'%s' holds '%.200s', not '%.200s'\n", name,
			buf, text);
	free(buf);
	return same;
}

bool testutil_fd_has_text(int fd, const char *text)
{
	char buf[4096];
	ssize_t n = pread(fd, buf, sizeof(buf), 0);

	return n == (ssize_t)strlen(text) && !memcmp(buf, text, (size_t)n);
}

int testutil_lines_with(const char *dir, const char *name, const char *a,
			const char *b)
{
	char *buf = testutil_read_file(dir, name, NULL), *line, *save = NULL;
	int n = 0;

	for (line = strtok_r(buf, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		if (strstr(line, a) && (!b || strstr(line, b)))
			n++;
	free(buf);
	return n;
}

int testutil_count_entries(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct dirent *de;
	int n = 0;
	DIR *d;

	testutil_join(path, dir, name);
	d = opendir(path);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

void testutil_nth_entry(const char *dir, const char *name, int i, char *entry,
			char *path)
{
	char dpath[PATH_MAX];
	struct dirent **list;
	int n;

	testutil_join(dpath, dir, name);
	n = scandir(dpath, &list, NULL, alphasort);
	ck_assert_msg(n >= 0, "cannot read '%s': %s", dpath, strerror(errno));
	/* "." and ".." sort first. */
	ck_assert_int_gt(n, i + 2);
	if (entry)
		snprintf(entry, NAME_MAX + 1, "%s", list[i + 2]->d_name);
	if (path)
		testutil_join(path, name, list[i + 2]->d_name);
	for (int k = 0; k < n; k++)
		free(list[k]);
	free(list);
}

ssize_t testutil_xattr(const char *dir, const char *name, const char *xattr,
		       char *buf, size_t size)
{
	char path[PATH_MAX];
	ssize_t n;

	testutil_join(path, dir, name);
	n = lgetxattr(path, xattr, buf, size - 1);
	buf[n > 0 ? n : 0] = '\0';
	return n < 0 ? -errno : n;
}

void testutil_record_now(int fd, enum format_kind kind, enum record_state state)
{
	struct format_check *c;
	struct format_error err;
	struct record r = { .format = kind, .state = state, .has_sum = true };
	char text[RECORD_TEXT_MAX];
	struct stat st;
	size_t len;
	char *buf;

	ck_assert_int_eq(format_check_new(kind, &c), 0);
	buf = testutil_read_fd(fd, &len);
	format_check_feed(c, buf, len);
	format_check_finish(c, &r.sum, &err);
	format_check_free(c);
	free(buf);
	ck_assert_int_eq(fstat(fd, &st), 0);
	r.size = (uint64_t)st.st_size;
	r.mtime_sec = st.st_mtim.tv_sec;
	r.mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
	r.ino = st.st_ino;
	len = record_format(&r, text);
	ck_assert_int_eq(fsetxattr(fd, RECORD_XATTR, text, len, 0), 0);
}

void testutil_rot(int fd, off_t off, char c)
{
	struct timespec ts[2];
	struct stat st;

	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_int_eq(pwrite(fd, &c, 1, off), 1);
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	ck_assert_int_eq(futimens(fd, ts), 0);
}

size_t testutil_jsontestsuite_each(void (*fn)(const char *name,
					      const char *buf, size_t len,
					      void *ctx),
				   void *ctx)
{
	char dir[PATH_MAX];
	const char *data = getenv("TESTDATA");
	struct dirent *e;
	size_t files = 0;
	DIR *d;

	if (!data || !*data)
		data = "../shared/testdata";
	snprintf(dir, sizeof(dir), "%s/JSONTestSuite/test_parsing", data);
	d = opendir(dir);
	ck_assert_msg(d != NULL,
		      "cannot open '%s': %s (set TESTDATA to shared/testdata)",
		      dir, strerror(errno));
	while ((e = readdir(d))) {
		const char *name = e->d_name;
		size_t len;
		char *buf;

		if (strlen(name) < 6 || name[1] != '_' ||
		    strcmp(name + strlen(name) - 5, ".json"))
			continue;
		buf = testutil_read_file(dir, name, &len);
		fn(name, buf, len, ctx);
		free(buf);
		files++;
	}
	closedir(d);
	return files;
}
