// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target: what append mode reads back from disk (core/append.c,
 * core/format.c), on arbitrary bytes, each input used three ways:
 *
 *  - as a saved hash state: format_hasher_load() refuses it with -EINVAL
 *    (leaving an empty hasher), or the loaded state hashes on, and what it
 *    then saves loads again to the same sum and length;
 *  - as an append marker in staging/ of a temp store: append_recover()
 *    removes it whenever it returns 0, and never touches the committed
 *    content of the store's file f.jsonl, whose record still matches it
 *    when its tail was cut;
 *  - as the xattrs of a checkpoint: store_checkpoint_len() takes only a
 *    number, store_checkpoint_open() opens only the inode it names.
 *
 * A leading '$' stands for the inode number of f.jsonl (which no input can
 * guess), so that markers and checkpoints can name it.  The temp store is
 * made once per process and removed at exit.
 */
#include "config.h"

#include "core/append.h"
#include "core/format.h"
#include "core/record.h"
#include "core/store_internal.h"
#include "core/version.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FILE_NAME "f.jsonl"
#define CONTENT "{\"n\":0}\n"
#define TAIL "{\"torn\":"
#define MARKER APPEND_MARKER_PREFIX "fuzz"
#define STAGING STATE_DIR "/" STATE_STAGING
#define VERSIONS STATE_DIR "/" STATE_VERSIONS
#define CHECKPOINT VERSIONS "/" FILE_NAME "/cp"

static char root[PATH_MAX];
static struct io *io;
static struct store *store;
static struct format_hasher *h1, *h2;
static ino_t file_ino;
static unsigned long runs;

static void path_of(char *buf, const char *rel)
{
	if (snprintf(buf, PATH_MAX, "%s/%s", root, rel) >= PATH_MAX)
		abort();
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void remove_root(void)
{
	store_close(store);
	io_free(io);
	format_hasher_free(h1);
	format_hasher_free(h2);
	nftw(root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* The store, and f.jsonl committed through it (so that it has a record). */
static void init(void)
{
	const char *tmp = getenv("TMPDIR");
	char path[PATH_MAX];
	struct stage *st = NULL;
	struct stat sb;
	int fd, new_fd = -1;

	snprintf(root, sizeof(root), "%s/hydrafs-fuzz-append.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(root) || io_new(root, &io) < 0 ||
	    store_open(io, &store) < 0 || format_hasher_new(&h1) < 0 ||
	    format_hasher_new(&h2) < 0)
		abort();
	atexit(remove_root);
	path_of(path, FILE_NAME);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	close(fd);
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0 || stage_begin(store, fd, true, &st) < 0 ||
	    stage_pwrite(store, st, CONTENT, strlen(CONTENT), 0) !=
		    (ssize_t)strlen(CONTENT) ||
	    stage_commit(store, st, fd, NULL, false, &new_fd, &sb) < 0)
		abort();
	close(fd);
	close(new_fd);
	file_ino = sb.st_ino;
	path_of(path, VERSIONS "/" FILE_NAME);
	if (mkdir(path, 0755) < 0)
		abort();
	path_of(path, CHECKPOINT);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		abort();
	close(fd);
}

/* @data with a leading '$' replaced by f.jsonl's inode; caller frees. */
static char *expand(const uint8_t *data, size_t size, size_t *len)
{
	char num[32] = "";
	int n = 0;
	char *buf;

	if (size && data[0] == '$') {
		n = snprintf(num, sizeof(num), "%" PRIu64, (uint64_t)file_ino);
		data++;
		size--;
	}
	buf = malloc((size_t)n + size + 1);
	if (!buf)
		abort();
	memcpy(buf, num, (size_t)n);
	memcpy(buf + n, data, size);
	buf[(size_t)n + size] = '\0';
	*len = (size_t)n + size;
	return buf;
}

static void fuzz_hasher(const uint8_t *data, size_t size)
{
	char saved[FORMAT_HASHER_SAVED_MAX];
	struct format_sum a, b;
	size_t n;
	int ret = format_hasher_load(h1, data, size);

	if (ret < 0) {
		if (ret != -EINVAL || format_hasher_len(h1) != 0)
			abort();
		return;
	}
	/* Hashing on from the loaded state, across buffer and block ends. */
	format_hasher_update(h1, data, size);
	format_hasher_update(h1, data, size < 300 ? size : 300);
	format_hasher_sum(h1, &a);
	n = format_hasher_save(h1, saved, sizeof(saved));
	if (n == 0 || format_hasher_load(h2, saved, n) < 0)
		abort();
	format_hasher_sum(h2, &b);
	if (a.high != b.high || a.low != b.low ||
	    format_hasher_len(h1) != format_hasher_len(h2))
		abort();
}

static void write_at(const char *rel, const void *buf, size_t len,
		     int flags)
{
	char path[PATH_MAX];
	int fd;

	path_of(path, rel);
	fd = open(path, O_WRONLY | O_CLOEXEC | flags, 0600);
	if (fd < 0)
		abort();
	if (flags & O_TRUNC) {
		if (write(fd, buf, len) != (ssize_t)len)
			abort();
	} else if (pwrite(fd, buf, len, (off_t)strlen(CONTENT)) !=
		   (ssize_t)len) {
		abort();
	}
	close(fd);
}

/* Empties versions/.orphans, and now and then the journal. */
static void clean_up(void)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;

	path_of(path, VERSIONS "/" ORPHANS_NAME);
	d = opendir(path);
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	if (++runs % 4096 == 0) {
		path_of(path, STATE_DIR "/" STATE_JOURNAL);
		truncate(path, 0);
	}
}

/* The committed content of f.jsonl is never touched. */
static void check_file(void)
{
	char path[PATH_MAX], buf[64], text[RECORD_TEXT_MAX];
	struct record rec;
	struct stat st;
	ssize_t n;
	int fd;

	path_of(path, FILE_NAME);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0)
		abort();
	n = pread(fd, buf, sizeof(buf), 0);
	close(fd);
	if (n < (ssize_t)strlen(CONTENT) ||
	    memcmp(buf, CONTENT, strlen(CONTENT)))
		abort();
	/* Cut: its record follows the cut file. */
	if (st.st_size == (off_t)strlen(CONTENT)) {
		n = getxattr(path, RECORD_XATTR, text, sizeof(text));
		if (n <= 0 || record_parse(text, (size_t)n, &rec) < 0 ||
		    !record_matches(&rec, &st))
			abort();
	}
}

static void fuzz_marker(const uint8_t *data, size_t size)
{
	char path[PATH_MAX];
	size_t len;
	char *marker = expand(data, size, &len);
	int ret;

	/* A torn append past the committed content, each run. */
	write_at(FILE_NAME, TAIL, strlen(TAIL), 0);
	write_at(STAGING "/" MARKER, marker, len, O_CREAT | O_TRUNC);
	free(marker);
	ret = append_recover(store, MARKER);
	path_of(path, STAGING "/" MARKER);
	if (ret == 0 && access(path, F_OK) == 0)
		abort();
	unlink(path);
	check_file();
	clean_up();
}

static void fuzz_checkpoint(const uint8_t *data, size_t size)
{
	char path[PATH_MAX], *value, *end;
	uint64_t len = 0;
	size_t n;
	struct stat st;
	int fd, out = -1, ret;

	path_of(path, CHECKPOINT);
	value = expand(data, size < 200 ? size : 200, &n);
	if (setxattr(path, CHECKPOINT_XATTR, value, n, 0) < 0 ||
	    setxattr(path, CHECKPOINT_OF_XATTR, value, n, 0) < 0) {
		free(value);
		return;
	}
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		abort();
	ret = store_checkpoint_len(store, fd, &len);
	if (ret == 1 && (n == 0 || strtoull(value, &end, 10) != len ||
			 *end != '\0'))
		abort();
	ret = store_checkpoint_open(store, fd, &out);
	if (ret == 0) {
		/* Only the inode it names, as a regular file. */
		if (out < 0 || fstat(out, &st) < 0 || !S_ISREG(st.st_mode) ||
		    (uint64_t)st.st_ino != strtoull(value, NULL, 10))
			abort();
		close(out);
	}
	close(fd);
	free(value);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!store)
		init();
	fuzz_hasher(data, size);
	fuzz_marker(data, size);
	fuzz_checkpoint(data, size);
	return 0;
}
