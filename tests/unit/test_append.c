// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "core/append.h"
#include "core/format.h"
#include "core/record.h"
#include "core/store_internal.h"
#include "core/version.h"
#include "tests/unit/testutil.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
/* The state's layout, to damage single fields of a saved hasher. */
#define XXH_STATIC_LINKING_ONLY
#include <xxhash.h>

#define STAGING STATE_DIR "/" STATE_STAGING
#define VERSIONS STATE_DIR "/" STATE_VERSIONS
#define ORPHANS VERSIONS "/" ORPHANS_NAME
#define REJECTED VERSIONS "/" REJECTED_NAME
#define JOURNAL STATE_DIR "/" STATE_JOURNAL
#define MIB (1024 * 1024)
/* The files most tests append to, and the first content of the log. */
#define LOG "log.jsonl"
#define FIRST "{\"n\":0}\n"
#define CSV "t.csv"

/*
 * Every test gets a fresh backing dir in the run's temp dir and opens the
 * store and an append set without a committer thread (commits happen on
 * append_commit(), flush and close only); the teardown frees both.
 */
static char root[PATH_MAX];
static struct io *io;
static struct store *store;
static struct append_set *set;
static const struct who who = { .uid = 1000, .pid = 4242, .comm = "logger" };

/* What the commit callback was told. */
struct told {
	int calls;
	uint64_t old_len, new_len;
	bool idle;
};

static void open_store(void)
{
	ck_assert_int_eq(store_open(io, &store), 0);
	ck_assert_ptr_nonnull(store);
}

/* Closes the store and opens it again, as a mount after a crash; its result. */
static int reopen_store(void)
{
	int ret;

	append_set_free(set);
	set = NULL;
	store_close(store);
	store = NULL;
	ret = store_open(io, &store);
	if (ret == 0)
		ck_assert_int_eq(append_set_new(store, 0, &set), 0);
	return ret;
}

static void setup(void)
{
	testutil_backing_init(root, &io);
	open_store();
	ck_assert_int_eq(append_set_new(store, 0, &set), 0);
}

static void teardown(void)
{
	append_set_free(set);
	set = NULL;
	store_close(store);
	store = NULL;
	testutil_backing_release(root, &io);
}

/* Files of the backing dir, by path relative to it. */

/* Writes @text at the end of @rel behind the store's back. */
static void append_behind(const char *rel, const char *text)
{
	size_t len = strlen(text);
	int fd = testutil_open(root, rel, O_WRONLY | O_APPEND);

	ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
	ck_assert_int_eq(close(fd), 0);
}

/* Entries of staging/ that are append markers. */
static int count_markers(void)
{
	char path[PATH_MAX];
	int n = testutil_count_entries(root, STAGING), markers = 0;

	for (int i = 0; i < n; i++) {
		testutil_nth_entry(root, STAGING, i, NULL, path);
		if (!strncmp(strrchr(path, '/') + 1, APPEND_MARKER_PREFIX,
			     strlen(APPEND_MARKER_PREFIX)))
			markers++;
	}
	return markers;
}

/* Journal lines that hold both @a and @b (NULL: any). */
static int journal_lines_with(const char *a, const char *b)
{
	return testutil_lines_with(root, JOURNAL, a, b);
}

static struct record record_of(const char *rel)
{
	char text[RECORD_TEXT_MAX];
	struct record rec;
	ssize_t n = testutil_xattr(root, rel, RECORD_XATTR, text, sizeof(text));

	ck_assert_msg(n > 0, "'%s' has no record", rel);
	ck_assert_int_eq(record_parse(text, (size_t)n, &rec), 0);
	return rec;
}

/* The XXH3-128 of @len bytes, through a check (what a commit computes). */
static struct format_sum sum_of(const void *data, size_t len)
{
	struct format_check *c;
	struct format_error err;
	struct format_sum sum;

	ck_assert_int_eq(format_check_new(FORMAT_OPAQUE, &c), 0);
	ck_assert_int_eq(format_check_feed(c, data, len), 0);
	ck_assert_int_eq(format_check_finish(c, &sum, &err), 0);
	format_check_free(c);
	return sum;
}

/*
 * Whether the record of @rel describes its content: its size, its inode,
 * and a sum that is the XXH3-128 of the whole file.
 */
static void assert_recorded(const char *rel)
{
	struct record rec = record_of(rel);
	struct stat st = testutil_lstat(root, rel);
	struct format_sum sum;
	size_t len;
	char *buf = testutil_read_file(root, rel, &len);

	sum = sum_of(buf, len);
	free(buf);
	ck_assert_uint_eq(rec.size, len);
	ck_assert_uint_eq(rec.ino, st.st_ino);
	ck_assert(record_matches(&rec, &st));
	ck_assert(rec.has_sum);
	ck_assert_msg(rec.sum.high == sum.high && rec.sum.low == sum.low,
		      "the record's sum of '%s' is not the file's", rel);
}

/*
 * Makes @rel (empty, so the commit keeps no version of it) and commits
 * @text as its content, as a write through the mount would.
 */
static void commit_text(const char *rel, const char *text)
{
	struct stage *st = NULL;
	struct stat new_st;
	size_t len = strlen(text);
	int fd, new_fd = -2, ret;

	if (!testutil_has_entry(root, rel))
		testutil_write_file(root, rel, "", 0);
	fd = testutil_handle(root, rel);
	ck_assert_int_eq(stage_begin(store, fd, true, &st), 0);
	ck_assert_int_eq(stage_pwrite(store, st, text, len, 0), (ssize_t)len);
	ret = stage_commit(store, st, fd, &who, false, &new_fd, &new_st);
	ck_assert_msg(ret == 0, "stage_commit returned %d", ret);
	if (new_fd >= 0)
		close(new_fd);
	close(fd);
}

static void on_commit(void *arg, uint64_t old_len, uint64_t new_len,
		      bool idle)
{
	struct told *t = arg;

	t->calls++;
	t->old_len = old_len;
	t->new_len = new_len;
	t->idle = idle;
}

/* append_open() of @rel; its result. */
static int try_open(const char *rel, struct told *t, struct append **a)
{
	int fd = testutil_handle(root, rel), ret;

	ret = append_open(set, fd, &who, t ? on_commit : NULL, t, a);
	close(fd);
	return ret;
}

static struct append *open_append(const char *rel, struct told *t)
{
	struct append *a = NULL;
	int ret = try_open(rel, t, &a);

	ck_assert_msg(ret == 0, "append_open of '%s' returned %d", rel, ret);
	ck_assert_ptr_nonnull(a);
	return a;
}

static struct append_writer *new_writer(struct append *a)
{
	struct append_writer *w = NULL;

	ck_assert_int_eq(append_writer_new(a, &w), 0);
	ck_assert_ptr_nonnull(w);
	return w;
}

static void put(struct append *a, struct append_writer *w, const char *text)
{
	size_t len = strlen(text);

	ck_assert_int_eq(append_write(a, w, text, len), (ssize_t)len);
}

/* The writer's handle goes: its release, then its memory. */
static void release(struct append *a, struct append_writer *w)
{
	ck_assert_int_eq(append_writer_release(a, w), 0);
	ck_assert(!append_writer_attached(w));
	append_writer_free(w);
}

/* The bytes @a shows @w (NULL: a staged handle that never wrote). */
static bool reads_as(struct append *a, const struct append_writer *w,
		     const char *text)
{
	char buf[4096];
	size_t len = strlen(text);
	ssize_t n = append_read(a, w, buf, sizeof(buf), 0);

	if (n != (ssize_t)len || memcmp(buf, text, len)) {
		fprintf(stderr, "append_read gave %zd bytes '%.*s', not '%s'\n",
			n, n > 0 ? (int)n : 0, buf, text);
		return false;
	}
	return true;
}

/* format_hasher */

/* @len bytes of deterministic junk. */
static unsigned char *junk(size_t len)
{
	unsigned char *p = malloc(len);
	uint32_t x = 2463534242u;

	ck_assert_ptr_nonnull(p);
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (unsigned char)x;
	}
	return p;
}

static void assert_same_sum(const struct format_sum *a,
			    const struct format_sum *b, size_t split)
{
	ck_assert_msg(a->high == b->high && a->low == b->low,
		      "sums differ when split at %zu", split);
}

START_TEST(format_hasher_save_and_load_at_any_split_give_the_one_pass_sum)
{
	/* Past the 256-byte buffer and 1 KiB blocks, both at and off bounds. */
	const size_t len = 5000;
	unsigned char *data = junk(len);
	char saved[FORMAT_HASHER_SAVED_MAX];
	struct format_hasher *h, *back;
	struct format_sum want, got;

	ck_assert_int_eq(format_hasher_new(&h), 0);
	ck_assert_int_eq(format_hasher_new(&back), 0);
	for (size_t split = 0; split <= len;
	     split += split < 1100 ? 1 : split < 4200 ? 61 : 1) {
		size_t n;

		for (size_t total = split; total <= len;
		     total = total < len && total + 999 > len ? len
							      : total + 999) {
			want = sum_of(data, total);
			ck_assert_int_eq(format_hasher_load(h, "", 0), -EINVAL);
			ck_assert_uint_eq(format_hasher_len(h), 0);
			format_hasher_update(h, data, split);
			n = format_hasher_save(h, saved, sizeof(saved));
			ck_assert_uint_gt(n, 0);
			ck_assert_int_eq(format_hasher_load(back, saved, n), 0);
			ck_assert_uint_eq(format_hasher_len(back), split);
			format_hasher_update(back, data + split, total - split);
			ck_assert_uint_eq(format_hasher_len(back), total);
			format_hasher_sum(back, &got);
			assert_same_sum(&got, &want, split);
			/* The one that was saved goes on the same. */
			format_hasher_update(h, data + split, total - split);
			format_hasher_sum(h, &got);
			assert_same_sum(&got, &want, split);
			if (total == len)
				break;
		}
	}
	format_hasher_free(back);
	format_hasher_free(h);
	free(data);
}
END_TEST

START_TEST(format_hasher_loaded_state_goes_on_through_many_saves)
{
	const size_t len = 70000;
	unsigned char *data = junk(len);
	char saved[FORMAT_HASHER_SAVED_MAX];
	struct format_hasher *h;
	struct format_sum want, got;
	size_t off = 0, step = 1;

	want = sum_of(data, len);
	ck_assert_int_eq(format_hasher_new(&h), 0);
	/* A new hasher per piece, each loading the last one's state. */
	while (off < len) {
		size_t n = len - off < step ? len - off : step, k;

		format_hasher_update(h, data + off, n);
		off += n;
		step = step * 3 % 4093 + 1;
		k = format_hasher_save(h, saved, sizeof(saved));
		format_hasher_free(h);
		ck_assert_int_eq(format_hasher_new(&h), 0);
		ck_assert_int_eq(format_hasher_load(h, saved, k), 0);
		ck_assert_uint_eq(format_hasher_len(h), off);
	}
	format_hasher_sum(h, &got);
	assert_same_sum(&got, &want, len);
	format_hasher_free(h);
	free(data);
}
END_TEST

/* Loads @buf into @h, expecting -EINVAL and a hasher reset to empty. */
static void assert_refused(struct format_hasher *h, const void *buf,
			   size_t len, const char *what)
{
	struct format_sum got, empty = sum_of("", 0);

	ck_assert_msg(format_hasher_load(h, buf, len) == -EINVAL,
		      "a state with %s loads", what);
	ck_assert_uint_eq(format_hasher_len(h), 0);
	format_hasher_sum(h, &got);
	ck_assert_msg(got.high == empty.high && got.low == empty.low,
		      "a refused state with %s leaves a sum", what);
}

START_TEST(format_hasher_load_refuses_garbage_truncated_and_modified_states)
{
	const size_t head = 16, len = 700;
	unsigned char *data = junk(len);
	char saved[FORMAT_HASHER_SAVED_MAX], bad[FORMAT_HASHER_SAVED_MAX + 1];
	struct format_hasher *h;
	struct format_sum want, got;
	uint32_t u32;
	uint64_t u64;
	size_t n;

	ck_assert_int_eq(format_hasher_new(&h), 0);
	format_hasher_update(h, data, len);
	n = format_hasher_save(h, saved, sizeof(saved));
	ck_assert_uint_eq(n, head + sizeof(XXH3_state_t));
	ck_assert_uint_eq(format_hasher_save(h, saved, n - 1), 0);

	assert_refused(h, data, n, "garbage");
	memset(bad, 0, sizeof(bad));
	assert_refused(h, bad, n, "zeros");
	assert_refused(h, saved, 0, "no bytes");
	assert_refused(h, saved, head, "only a header");
	assert_refused(h, saved, n - 1, "its last byte cut");
	memcpy(bad, saved, n);
	bad[n] = 0;
	assert_refused(h, bad, n + 1, "a byte too many");

	memcpy(bad, saved, n);
	bad[0] = 'X';
	assert_refused(h, bad, n, "another magic");
	memcpy(bad, saved, n);
	memcpy(&u32, bad + 4, 4);
	u32++;
	memcpy(bad + 4, &u32, 4);
	assert_refused(h, bad, n, "another library version");
	memcpy(bad, saved, n);
	memcpy(&u32, bad + 8, 4);
	u32 += 64;
	memcpy(bad + 8, &u32, 4);
	assert_refused(h, bad, n, "another state size");

#define STATE_FIELD(field) (head + offsetof(XXH3_state_t, field))
	memcpy(bad, saved, n);
	u32 = XXH3_INTERNALBUFFER_SIZE + 1;
	memcpy(bad + STATE_FIELD(bufferedSize), &u32, 4);
	assert_refused(h, bad, n, "a buffer past its end");
	memcpy(bad, saved, n);
	u64 = 1;
	memcpy(bad + STATE_FIELD(seed), &u64, 8);
	assert_refused(h, bad, n, "a seed");
	memcpy(bad, saved, n);
	u32 = 1;
	memcpy(bad + STATE_FIELD(useSeed), &u32, 4);
	assert_refused(h, bad, n, "a seed in use");
	memcpy(bad, saved, n);
	u64 = 4096;
	memcpy(bad + STATE_FIELD(secretLimit), &u64, sizeof(size_t));
	assert_refused(h, bad, n, "a secret past its end");
	memcpy(bad, saved, n);
	u64 = 1000;
	memcpy(bad + STATE_FIELD(nbStripesSoFar), &u64, sizeof(size_t));
	assert_refused(h, bad, n, "stripes past the block");
	memcpy(bad, saved, n);
	u64 = 1000;
	memcpy(bad + STATE_FIELD(nbStripesPerBlock), &u64, sizeof(size_t));
	assert_refused(h, bad, n, "a block of another size");
#undef STATE_FIELD

	/* After all that, the good state still loads and hashes right. */
	want = sum_of(data, len);
	ck_assert_int_eq(format_hasher_load(h, saved, n), 0);
	format_hasher_sum(h, &got);
	assert_same_sum(&got, &want, len);
	format_hasher_free(h);
	free(data);
}
END_TEST

/* Records and their commit */

START_TEST(append_commits_two_writers_records_whole_and_in_order)
{
	const char *want = FIRST "{\"w\":2,\"i\":0}\n{\"w\":1,\"i\":0}\n"
				 "{\"w\":1,\"i\":1}\n{\"w\":2,\"i\":1}\n";
	struct told t = { 0 };
	struct append *a;
	struct append_writer *w1, *w2;

	commit_text(LOG, FIRST);
	a = open_append(LOG, &t);
	w1 = new_writer(a);
	w2 = new_writer(a);
	/* Each record cut across writes, the writers' pieces interleaved. */
	put(a, w1, "{\"w\":1,");
	put(a, w2, "{\"w\":2,\"i\":0}\n{\"w\":2,");
	put(a, w1, "\"i\":0}\n{\"w\":1,");
	put(a, w1, "\"i\":1}");
	put(a, w1, "\n");
	put(a, w2, "\"i\"");
	put(a, w2, ":1}\n");
	/* Nothing committed before a commit (no committer thread). */
	ck_assert(testutil_has_text(root, LOG, FIRST));
	ck_assert_uint_eq(append_committed(a), strlen(FIRST));
	ck_assert_int_eq(t.calls, 0);
	ck_assert_int_eq(append_commit(a, true), 0);
	ck_assert(testutil_has_text(root, LOG, want));
	ck_assert_uint_eq(append_committed(a), strlen(want));
	ck_assert_int_eq(t.calls, 1);
	ck_assert_uint_eq(t.old_len, strlen(FIRST));
	ck_assert_uint_eq(t.new_len, strlen(want));
	ck_assert(!t.idle);
	assert_recorded(LOG);
	/* A commit with nothing queued changes nothing, tells nothing. */
	ck_assert_int_eq(append_commit(a, false), 0);
	ck_assert_int_eq(t.calls, 1);
	release(a, w1);
	release(a, w2);
	ck_assert_int_eq(append_close(a), 0);
	ck_assert(testutil_has_text(root, LOG, want));
	assert_recorded(LOG);
	ck_assert_int_eq(count_markers(), 0);
}
END_TEST

START_TEST(append_commit_saves_the_hash_state_of_the_committed_content)
{
	char saved[FORMAT_HASHER_SAVED_MAX + 1];
	struct format_hasher *h;
	struct format_sum sum;
	struct record rec;
	struct append *a;
	struct append_writer *w;
	ssize_t n;

	commit_text(LOG, FIRST);
	a = open_append(LOG, NULL);
	w = new_writer(a);
	put(a, w, "{\"n\":1}\n{\"n\":2}\n");
	ck_assert_int_eq(append_writer_flush(a, w), 0);
	rec = record_of(LOG);
	ck_assert_uint_eq(rec.size, strlen(FIRST) + 16);
	ck_assert_int_eq(rec.format, FORMAT_JSONL);
	ck_assert_int_eq(rec.state, RECORD_OK);
	assert_recorded(LOG);
	n = testutil_xattr(root, LOG, HASH_XATTR, saved, sizeof(saved));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(format_hasher_new(&h), 0);
	ck_assert_int_eq(format_hasher_load(h, saved, (size_t)n), 0);
	ck_assert_uint_eq(format_hasher_len(h), rec.size);
	format_hasher_sum(h, &sum);
	ck_assert(sum.high == rec.sum.high && sum.low == rec.sum.low);
	format_hasher_free(h);
	release(a, w);
	ck_assert_int_eq(append_close(a), 0);
}
END_TEST

/* A second session: the saved state, or the file hashed once, or refused. */
static void append_one_more_to(const char *rel, const char *line)
{
	struct append *a = open_append(rel, NULL);
	struct append_writer *w = new_writer(a);

	put(a, w, line);
	release(a, w);
	ck_assert_int_eq(append_close(a), 0);
	assert_recorded(rel);
}

static void append_one_more(const char *line)
{
	append_one_more_to(LOG, line);
}

START_TEST(append_open_goes_on_with_a_saved_missing_or_bad_hash_state)
{
	char path[PATH_MAX];

	commit_text(LOG, FIRST);
	/* The stage commit saved no hash state: the file is hashed once. */
	append_one_more("{\"n\":1}\n");
	/* Now the saved one. */
	append_one_more("{\"n\":2}\n");
	testutil_join(path, root, LOG);
	ck_assert_int_eq(lremovexattr(path, HASH_XATTR), 0);
	append_one_more("{\"n\":3}\n");
	ck_assert_int_eq(lsetxattr(path, HASH_XATTR, "junk", 4, 0), 0);
	append_one_more("{\"n\":4}\n");
	ck_assert(testutil_has_text(root, LOG,
				    FIRST "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n"
					  "{\"n\":4}\n"));
}
END_TEST

START_TEST(append_open_refuses_a_file_damaged_under_its_record)
{
	char path[PATH_MAX];
	struct timespec ts[2];
	struct append *a = NULL;
	struct stat st;
	int fd;

	commit_text(LOG, FIRST);
	append_one_more("{\"n\":1}\n");
	/* A byte flipped, size and mtime as recorded: only a hash sees it. */
	st = testutil_lstat(root, LOG);
	testutil_join(path, root, LOG);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pwrite(fd, "7", 1, 5), 1);
	close(fd);
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	ck_assert_int_eq(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
	ck_assert_int_eq(lremovexattr(path, HASH_XATTR), 0);
	ck_assert_int_eq(try_open(LOG, NULL, &a), -ENOTSUP);
	ck_assert_int_eq(count_markers(), 0);
}
END_TEST

START_TEST(append_shows_readers_the_committed_and_writers_their_own_bytes)
{
	struct append *a;
	struct append_writer *w1, *w2;

	commit_text(LOG, FIRST);
	a = open_append(LOG, NULL);
	w1 = new_writer(a);
	w2 = new_writer(a);
	append_writer_set_pid(w1, 101);
	append_writer_set_pid(w2, 102);
	put(a, w1, "{\"a\":1}\n{\"a\":");
	put(a, w2, "{\"b\":");
	/* Readers: the committed length; staged handles: the queue too. */
	ck_assert_uint_eq(append_committed(a), 8);
	ck_assert_uint_eq(append_size(a, NULL), 16);
	ck_assert(reads_as(a, NULL, FIRST "{\"a\":1}\n"));
	/* Each writer: its own incomplete record, not the other's. */
	ck_assert_uint_eq(append_size(a, w1), 21);
	ck_assert(reads_as(a, w1, FIRST "{\"a\":1}\n{\"a\":"));
	ck_assert_uint_eq(append_size(a, w2), 21);
	ck_assert(reads_as(a, w2, FIRST "{\"a\":1}\n{\"b\":"));
	ck_assert_uint_eq(append_size_for(a, 101), 21);
	ck_assert_uint_eq(append_size_for(a, 102), 21);
	ck_assert_uint_eq(append_size_for(a, 103), 8);
	/* A read from the middle, across the committed end and the queue. */
	{
		char buf[8];

		ck_assert_int_eq(append_read(a, w1, buf, sizeof(buf), 6), 8);
		ck_assert(!memcmp(buf, "}\n{\"a\":1", 8));
		ck_assert_int_eq(append_read(a, w1, buf, sizeof(buf), 21), 0);
		ck_assert_int_eq(append_read(a, NULL, buf, sizeof(buf), 99), 0);
	}
	ck_assert_int_eq(append_commit(a, false), 0);
	ck_assert_uint_eq(append_committed(a), 16);
	ck_assert_uint_eq(append_size(a, NULL), 16);
	ck_assert_uint_eq(append_size(a, w1), 21);
	put(a, w1, "2}\n");
	put(a, w2, "3}\n");
	release(a, w1);
	release(a, w2);
	ck_assert_int_eq(append_close(a), 0);
	ck_assert(testutil_has_text(root, LOG,
				    FIRST "{\"a\":1}\n{\"a\":2}\n{\"b\":3}\n"));
}
END_TEST

START_TEST(append_commit_failing_keeps_the_queue_and_the_file)
{
	const char *want = FIRST "{\"n\":1}\n{\"n\":2}\n";
	struct told t = { 0 };
	struct append *a;
	struct append_writer *w;

	commit_text(LOG, FIRST);
	a = open_append(LOG, &t);
	w = new_writer(a);
	put(a, w, "{\"n\":1}\n");
	/* The write fails: nothing written, nothing recorded. */
	io_fault_set(io, IO_WRITE, 1, EIO);
	ck_assert_int_eq(append_commit(a, false), -EIO);
	ck_assert(testutil_has_text(root, LOG, FIRST));
	ck_assert_uint_eq(record_of(LOG).size, 8);
	ck_assert_uint_eq(append_committed(a), 8);
	ck_assert_int_eq(t.calls, 0);
	/* The record fails (the hash state before it is saved): cut back. */
	put(a, w, "{\"n\":2}\n");
	io_fault_set(io, IO_XATTR, 2, EIO);
	ck_assert_int_eq(append_commit(a, false), -EIO);
	ck_assert(testutil_has_text(root, LOG, FIRST));
	ck_assert_uint_eq(record_of(LOG).size, 8);
	ck_assert_uint_eq(append_size(a, NULL), strlen(want));
	/* Both go on the next commit, with the running sum undone right. */
	ck_assert_int_eq(append_commit(a, false), 0);
	ck_assert(testutil_has_text(root, LOG, want));
	assert_recorded(LOG);
	ck_assert_int_eq(t.calls, 1);
	release(a, w);
	ck_assert_int_eq(append_close(a), 0);
	/* The stale saved state is not believed by the next session. */
	append_one_more_to(LOG, "{\"n\":3}\n");
}
END_TEST

/*
 * A commit that fails cuts the file back to its committed length: the
 * record must still match it, or the next open takes the file for one
 * changed behind the mount (read whole, "adopt" in the journal) and
 * append_open() refuses it.
 */
START_TEST(append_commit_failing_leaves_the_record_matching_the_file)
{
	struct append *a, *again = NULL;
	struct append_writer *w;

	commit_text(LOG, FIRST);
	a = open_append(LOG, NULL);
	w = new_writer(a);
	put(a, w, "{\"n\":1}\n");
	usleep(20000); /* an mtime the failed commit would visibly change */
	io_fault_set(io, IO_WRITE, 1, EIO);
	ck_assert_int_eq(append_commit(a, false), -EIO);
	append_writer_free(w);
	/* An unmount while the disk fails: the queue is lost, not the file. */
	io_fault_set(io, IO_WRITE, 0, EIO);
	ck_assert_int_eq(append_close(a), -EIO);
	io_fault_set(io, IO_WRITE, 0, 0);
	ck_assert(testutil_has_text(root, LOG, FIRST));
	assert_recorded(LOG);
	ck_assert_int_eq(try_open(LOG, NULL, &again), 0);
	ck_assert_int_eq(append_close(again), 0);
}
END_TEST

START_TEST(append_of_an_opaque_file_takes_every_write_whole)
{
	struct append *a;
	struct append_writer *w;

	commit_text("blob", "\x01\x02");
	a = open_append("blob", NULL);
	w = new_writer(a);
	put(a, w, "no newline");
	ck_assert_uint_eq(append_size(a, NULL), 12);
	ck_assert_uint_eq(append_size(a, w), 12);
	put(a, w, "\n\xff");
	ck_assert_int_eq(append_writer_flush(a, w), 0);
	ck_assert(testutil_has_text(root, "blob", "\x01\x02no newline\n\xff"));
	release(a, w);
	ck_assert_int_eq(append_close(a), 0);
	assert_recorded("blob");
}
END_TEST

START_TEST(append_set_commits_every_interval_and_tells_it_idle)
{
	struct append_set *timed = NULL;
	struct told t = { 0 };
	struct append *a = NULL;
	struct append_writer *w;
	int fd, tries = 0;

	commit_text(LOG, FIRST);
	ck_assert_int_eq(append_set_new(store, 5, &timed), 0);
	fd = testutil_handle(root, LOG);
	ck_assert_int_eq(append_open(timed, fd, &who, on_commit, &t, &a), 0);
	close(fd);
	w = new_writer(a);
	put(a, w, "{\"n\":1}\n{\"n\":");
	while (append_committed(a) == 8 && tries++ < 2000)
		usleep(1000);
	ck_assert_uint_eq(append_committed(a), 16);
	release(a, w);
	/* The callback ran on the committer, which close waits for. */
	ck_assert_int_eq(append_close(a), 0);
	ck_assert_int_ge(t.calls, 1);
	ck_assert(testutil_has_text(root, LOG, FIRST "{\"n\":1}\n"));
	append_set_free(timed);
}
END_TEST

/* Whether @rel is valid in @kind as a whole. */
static bool is_valid(const char *rel, enum format_kind kind)
{
	struct format_check *c;
	struct format_error err;
	struct format_sum sum;
	size_t len;
	char *buf = testutil_read_file(root, rel, &len);
	int ret;

	ck_assert_int_eq(format_check_new(kind, &c), 0);
	format_check_feed(c, buf, len);
	ret = format_check_finish(c, &sum, &err);
	format_check_free(c);
	free(buf);
	return ret == 0;
}

/*
 * A record committed without its newline (a final line, or a flush of one
 * whole on its own) ends the file mid-line: the next record must not be
 * glued onto it into a line that is no record at all, recorded as valid.
 */
START_TEST(append_after_an_unterminated_jsonl_line_keeps_the_file_valid)
{
	struct append *a;
	struct append_writer *w;

	commit_text(LOG, FIRST);
	a = open_append(LOG, NULL);
	w = new_writer(a);
	put(a, w, "{\"n\":1}");
	release(a, w);
	w = new_writer(a);
	put(a, w, "{\"n\":2}\n");
	release(a, w);
	ck_assert_int_eq(append_close(a), 0);
	ck_assert_msg(record_of(LOG).state != RECORD_OK ||
			      is_valid(LOG, FORMAT_JSONL),
		      "recorded as valid jsonl, holding an invalid line");
}
END_TEST

/*
 * The header of a CSV file committed without its newline ends in the
 * writer's first byte: that byte must reach the file.
 */
START_TEST(append_csv_after_a_header_without_newline_keeps_every_byte)
{
	struct append *a;
	struct append_writer *w;

	commit_text(CSV, "a,b,c");
	a = open_append(CSV, NULL);
	w = new_writer(a);
	put(a, w, "\n1,2,3\n");
	release(a, w);
	ck_assert_int_eq(append_close(a), 0);
	ck_assert(testutil_has_text(root, CSV, "a,b,c\n1,2,3\n") ||
		  testutil_count_entries(root, REJECTED) > 0);
}
END_TEST

/* Rejected records */

/* The one file under .rejected/@rel/ holds exactly @text. */
static void assert_rejected(const char *rel, const char *text)
{
	char dir[PATH_MAX], path[PATH_MAX];

	testutil_join(dir, REJECTED, rel);
	ck_assert_int_eq(testutil_count_entries(root, dir), 1);
	testutil_nth_entry(root, dir, 0, NULL, path);
	ck_assert(testutil_has_text(root, path, text));
}

START_TEST(append_sets_an_invalid_jsonl_line_aside_and_journals_it)
{
	char flag[512], offset[64];
	struct append *a;
	struct append_writer *w;

	commit_text(LOG, FIRST);
	a = open_append(LOG, NULL);
	w = new_writer(a);
	put(a, w, "{\"ok\":1}\nnot js");
	put(a, w, "on\n{\"ok\":2}\n");
	ck_assert_int_eq(append_commit(a, false), 0);
	ck_assert(testutil_has_text(root, LOG,
				    FIRST "{\"ok\":1}\n{\"ok\":2}\n"));
	assert_recorded(LOG);
	assert_rejected(LOG, "not json\n");
	snprintf(offset, sizeof(offset), "\"offset\":%zu",
		 strlen(FIRST "{\"ok\":1}\n"));
	ck_assert_int_eq(journal_lines_with("\"event\":\"reject\"", offset), 1);
	ck_assert_int_gt(testutil_xattr(root, LOG, REJECTED_XATTR, flag,
					sizeof(flag)), 0);
	release(a, w);
	ck_assert_int_eq(append_close(a), 0);
	ck_assert_int_eq(record_of(LOG).state, RECORD_OK);
}
END_TEST

START_TEST(append_csv_row_with_the_wrong_field_count_is_rejected)
{
	struct append *a;
	struct append_writer *w;

	commit_text(CSV, "a,b,c\n");
	a = open_append(CSV, NULL);
	w = new_writer(a);
	put(a, w, "1,2\n");
	put(a, w, "4,5,6\n");
	release(a, w);
	ck_assert_int_eq(append_close(a), 0);
	ck_assert(testutil_has_text(root, CSV, "a,b,c\n4,5,6\n"));
	assert_recorded(CSV);
	assert_rejected(CSV, "1,2\n");
	ck_assert_int_eq(journal_lines_with("\"event\":\"reject\"",
					    "\"offset\":6"),
			 1);
}
END_TEST

START_TEST(append_csv_rows_with_quoted_newlines_across_writes_are_kept)
{
	struct append *a;
	struct append_writer *w1, *w2;

	commit_text(CSV, "a,b,c\n");
	a = open_append(CSV, NULL);
	w1 = new_writer(a);
	w2 = new_writer(a);
	put(a, w1, "\"x");
	put(a, w1, "\ny\",2");
	put(a, w2, "1,\"two\n");
	put(a, w1, ",3\n");
	put(a, w2, "lines\n\"");
	put(a, w2, ",3\n");
	ck_assert_int_eq(append_commit(a, false), 0);
	ck_assert_int_eq(testutil_count_entries(root, REJECTED), -1);
	ck_assert(testutil_has_text(root, CSV,
				    "a,b,c\n"
				    "\"x\ny\",2,3\n1,\"two\nlines\n\",3\n"));
	release(a, w1);
	release(a, w2);
	ck_assert_int_eq(append_close(a), 0);
	assert_recorded(CSV);
}
END_TEST

/*
 * The file's header is found by the validator, not by its first newline:
 * a header with a quoted newline must not swallow the rows after it.
 */
START_TEST(append_csv_after_a_header_with_a_quoted_newline_keeps_the_rows)
{
	const char *head = "\"a\nx\",b,c\n";
	struct append *a;
	struct append_writer *w;
	char want[64];

	commit_text(CSV, head);
	a = open_append(CSV, NULL);
	w = new_writer(a);
	put(a, w, "1,2,3\n4,5,6\n");
	release(a, w);
	ck_assert_int_eq(append_close(a), 0);
	snprintf(want, sizeof(want), "%s1,2,3\n4,5,6\n", head);
	ck_assert_msg(testutil_has_text(root, CSV, want) ||
			  testutil_count_entries(root, REJECTED) > 0,
		      "the rows were neither appended nor set aside: lost");
	ck_assert(testutil_has_text(root, CSV, want));
}
END_TEST

/* The end of a writer */

START_TEST(append_writer_release_keeps_a_final_text_line)
{
	struct append *a;
	struct append_writer *w;

	commit_text("app.log", "start\n");
	a = open_append("app.log", NULL);
	w = new_writer(a);
	put(a, w, "one\ntwo, no newline");
	release(a, w);
	ck_assert(testutil_has_text(root, "app.log",
				    "start\none\ntwo, no newline"));
	ck_assert_int_eq(append_close(a), 0);
	assert_recorded("app.log");
}
END_TEST

START_TEST(append_writer_release_rejects_an_invalid_final_jsonl_record)
{
	struct append *a;
	struct append_writer *w;

	commit_text(LOG, FIRST);
	a = open_append(LOG, NULL);
	w = new_writer(a);
	put(a, w, "{\"n\":1}\n{\"n\":");
	release(a, w);
	ck_assert(testutil_has_text(root, LOG, FIRST "{\"n\":1}\n"));
	assert_rejected(LOG, "{\"n\":");
	ck_assert_int_eq(journal_lines_with("\"event\":\"reject\"",
					    "\"offset\":16"),
			 1);
	ck_assert_int_eq(append_close(a), 0);
	assert_recorded(LOG);
}
END_TEST

START_TEST(append_writer_release_commits_a_final_record_valid_alone)
{
	struct append *a;
	struct append_writer *w;

	commit_text(LOG, FIRST);
	a = open_append(LOG, NULL);
	w = new_writer(a);
	put(a, w, "{\"n\":1}");
	release(a, w);
	ck_assert(testutil_has_text(root, LOG, FIRST "{\"n\":1}"));
	ck_assert_int_eq(testutil_count_entries(root, REJECTED), -1);
	ck_assert_int_eq(append_close(a), 0);
}
END_TEST

START_TEST(append_writer_flush_keeps_a_partial_not_valid_alone_pending)
{
	struct append *a;
	struct append_writer *w;

	commit_text(LOG, FIRST);
	a = open_append(LOG, NULL);
	w = new_writer(a);
	put(a, w, "{\"n\":1}\n{\"n\":");
	/* A fork's copy closing: the record goes on in the parent. */
	ck_assert_int_eq(append_writer_flush(a, w), 0);
	ck_assert(testutil_has_text(root, LOG, FIRST "{\"n\":1}\n"));
	ck_assert(append_writer_attached(w));
	ck_assert_uint_eq(append_size(a, w), 16 + 5);
	ck_assert(reads_as(a, w, FIRST "{\"n\":1}\n{\"n\":"));
	put(a, w, "2}");
	/* Whole on its own now: the flush commits it. */
	ck_assert_int_eq(append_writer_flush(a, w), 0);
	ck_assert(testutil_has_text(root, LOG, FIRST "{\"n\":1}\n{\"n\":2}"));
	ck_assert_uint_eq(append_size(a, w), 23);
	release(a, w);
	ck_assert_int_eq(append_close(a), 0);
	ck_assert_int_eq(testutil_count_entries(root, REJECTED), -1);
	assert_recorded(LOG);
}
END_TEST

START_TEST(append_writer_flush_keeps_a_short_csv_row_pending)
{
	struct append *a;
	struct append_writer *w;

	commit_text(CSV, "a,b,c\n");
	a = open_append(CSV, NULL);
	w = new_writer(a);
	put(a, w, "1,2");
	ck_assert_int_eq(append_writer_flush(a, w), 0);
	ck_assert(testutil_has_text(root, CSV, "a,b,c\n"));
	put(a, w, ",3");
	ck_assert_int_eq(append_writer_flush(a, w), 0);
	ck_assert(testutil_has_text(root, CSV, "a,b,c\n1,2,3"));
	release(a, w);
	ck_assert_int_eq(append_close(a), 0);
}
END_TEST

/* Limits */

static int take_count(void *arg, const void *buf, size_t len)
{
	size_t *taken = arg;

	(void)buf;
	*taken += len;
	return 0;
}

START_TEST(append_write_of_a_jsonl_record_past_1_mib_gets_exfull)
{
	const size_t chunk = 64 * 1024;
	char *x = malloc(chunk);
	struct append *a;
	struct append_writer *w;
	size_t pending = 0, taken = 0;
	ssize_t n;

	ck_assert_ptr_nonnull(x);
	memset(x, 'x', chunk);
	commit_text(LOG, FIRST);
	a = open_append(LOG, NULL);
	w = new_writer(a);
	put(a, w, "{\"s\":\"");
	pending = 6;
	while ((n = append_write(a, w, x, chunk)) == (ssize_t)chunk)
		pending += chunk;
	ck_assert_int_eq(n, -EXFULL);
	ck_assert_uint_le(pending, MIB);
	ck_assert_uint_gt(pending + chunk, MIB);
	/* Nothing taken. */
	ck_assert_uint_eq(append_size(a, w), 8 + pending);
	/* Out of append mode: the incomplete record goes whole to the stage. */
	ck_assert_int_eq(append_leave(a, take_count, &taken), 0);
	ck_assert_uint_eq(taken, pending);
	ck_assert(!append_writer_attached(w));
	append_writer_free(w);
	ck_assert_int_eq(append_close(a), 0);
	ck_assert(testutil_has_text(root, LOG, FIRST));
	free(x);
}
END_TEST

/*
 * The limit is on the incomplete record a writer holds: one write may leave
 * it past PARTIAL_MAX (a FUSE write is at most 1 MiB, so memory stays
 * bounded by the limit plus one write), the next one gets -EXFULL with
 * nothing taken, wherever its newlines are.
 */
START_TEST(append_write_of_a_jsonl_tail_past_1_mib_after_a_newline_gets_exfull)
{
	const char *head = "{\"n\":1}\n{\"s\":\"";
	const size_t len = MIB + MIB / 2;
	char *x = malloc(len);
	struct append *a;
	struct append_writer *w;
	uint64_t held;
	ssize_t n;

	ck_assert_ptr_nonnull(x);
	memset(x, 'x', len);
	memcpy(x, head, strlen(head));
	commit_text(LOG, FIRST);
	a = open_append(LOG, NULL);
	w = new_writer(a);
	n = append_write(a, w, x, len);
	ck_assert_int_eq(n, (ssize_t)len);
	held = append_size(a, w);
	n = append_write(a, w, "\"}\n{\"n\":2}\n", 11);
	ck_assert_msg(n == -EXFULL, "append_write returned %zd", n);
	ck_assert_uint_eq(append_size(a, w), held);
	append_writer_free(w);
	ck_assert_int_eq(append_close(a), 0);
	free(x);
}
END_TEST

/*
 * A CSV record stays incomplete across newlines inside quotes: the limit
 * must hold for it too, or a writer's memory grows without bound.
 */
START_TEST(append_write_of_a_quoted_csv_record_past_1_mib_gets_exfull)
{
	const size_t chunk = 64 * 1024;
	char *x = malloc(chunk);
	struct append *a;
	struct append_writer *w;
	size_t pending = 1;
	ssize_t n = 0;

	ck_assert_ptr_nonnull(x);
	memset(x, 'x', chunk);
	x[chunk - 1] = '\n';
	commit_text(CSV, "a,b,c\n");
	a = open_append(CSV, NULL);
	w = new_writer(a);
	put(a, w, "\"");
	while (pending < 4 * MIB &&
	       (n = append_write(a, w, x, chunk)) == (ssize_t)chunk)
		pending += chunk;
	ck_assert_msg(n == -EXFULL,
		      "an incomplete record of %zu bytes and no -EXFULL",
		      (size_t)(append_size(a, w) - append_committed(a)));
	ck_assert_uint_le(append_size(a, w) - append_committed(a), MIB);
	append_writer_free(w);
	ck_assert_int_eq(append_close(a), 0);
	free(x);
}
END_TEST

START_TEST(append_write_of_a_text_line_past_1_mib_commits_it_cut)
{
	const size_t len = MIB + 10;
	char *x = malloc(len);
	struct append *a;
	struct append_writer *w;

	ck_assert_ptr_nonnull(x);
	memset(x, 'x', len);
	commit_text("app.log", "start\n");
	a = open_append("app.log", NULL);
	w = new_writer(a);
	ck_assert_int_eq(append_write(a, w, x, len), (ssize_t)len);
	/* Queued as it is, no longer the writer's own. */
	ck_assert_uint_eq(append_size(a, NULL), 6 + len);
	ck_assert_int_eq(append_writer_flush(a, w), 0);
	ck_assert_uint_eq(append_committed(a), 6 + len);
	release(a, w);
	ck_assert_int_eq(append_close(a), 0);
	assert_recorded("app.log");
	free(x);
}
END_TEST

/* Which files */

START_TEST(append_open_refuses_json_files)
{
	struct append *a = NULL;
	bool is_log = true;

	commit_text("c.json", "{}");
	ck_assert(!append_eligible(store, "c.json", &is_log));
	ck_assert(!is_log);
	ck_assert_int_eq(try_open("c.json", NULL, &a), -ENOTSUP);
	testutil_write_file(root, "empty.json", "", 0);
	ck_assert_int_eq(try_open("empty.json", NULL, &a), -ENOTSUP);
	ck_assert(append_eligible(store, LOG, &is_log));
	ck_assert(is_log);
	ck_assert_int_eq(count_markers(), 0);
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS "/c.json"), -1);
}
END_TEST

START_TEST(append_open_refuses_a_file_changed_behind_its_record)
{
	struct append *a = NULL;

	commit_text(LOG, FIRST);
	append_behind(LOG, "{\"n\":1}\n");
	ck_assert_int_eq(try_open(LOG, NULL, &a), -ENOTSUP);
	/* Never committed at all. */
	testutil_write_file(root, "new.jsonl", FIRST, strlen(FIRST));
	ck_assert_int_eq(try_open("new.jsonl", NULL, &a), -ENOTSUP);
	ck_assert_int_eq(count_markers(), 0);
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS), 0);
}
END_TEST

START_TEST(append_open_starts_an_empty_file_without_a_record)
{
	struct append *a;
	struct append_writer *w;

	testutil_write_file(root, "fresh.jsonl", "", 0);
	a = open_append("fresh.jsonl", NULL);
	ck_assert_int_eq(count_markers(), 1);
	/* Nothing committed yet: no checkpoint of it. */
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS), 0);
	w = new_writer(a);
	put(a, w, FIRST);
	release(a, w);
	ck_assert_int_eq(append_close(a), 0);
	ck_assert(testutil_has_text(root, "fresh.jsonl", FIRST));
	assert_recorded("fresh.jsonl");
	ck_assert_int_eq(count_markers(), 0);
}
END_TEST

/* Checkpoints */

/* The checkpoint @path holds @len, and names the file @rel's sum then. */
static void assert_checkpoint(const char *path, uint64_t len,
			      const struct stat *file, const char *content)
{
	char text[128], want[128], hex[33];
	struct format_sum sum = sum_of(content, (size_t)len);
	uint64_t got = 0;
	int fd;

	testutil_xattr(root, path, CHECKPOINT_XATTR, text, sizeof(text));
	snprintf(want, sizeof(want), "%" PRIu64, len);
	ck_assert_str_eq(text, want);
	format_sum_hex(&sum, hex);
	testutil_xattr(root, path, CHECKPOINT_OF_XATTR, text, sizeof(text));
	snprintf(want, sizeof(want), "%" PRIu64 " %s",
		 (uint64_t)file->st_ino, hex);
	ck_assert_str_eq(text, want);
	fd = testutil_handle(root, path);
	ck_assert_int_eq(store_checkpoint_len(store, fd, &got), 1);
	ck_assert_uint_eq(got, len);
	close(fd);
}

START_TEST(append_open_and_close_keep_checkpoints_of_the_lengths)
{
	const char *all = FIRST "{\"n\":1}\n{\"n\":2}\n";
	char cp0[PATH_MAX], cp1[PATH_MAX];
	struct stat st;
	struct append *a;
	struct append_writer *w;
	uint64_t len = 99;
	int fd;

	commit_text(LOG, FIRST);
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS "/" LOG), -1);
	st = testutil_lstat(root, LOG);
	a = open_append(LOG, NULL);
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS "/" LOG), 1);
	testutil_nth_entry(root, VERSIONS "/" LOG, 0, NULL, cp0);
	assert_checkpoint(cp0, strlen(FIRST), &st, all);
	ck_assert_uint_eq(testutil_lstat(root, cp0).st_size, 0);
	w = new_writer(a);
	put(a, w, "{\"n\":1}\n{\"n\":2}\n");
	release(a, w);
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS "/" LOG), 1);
	ck_assert_int_eq(append_close(a), 0);
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS "/" LOG), 2);
	testutil_nth_entry(root, VERSIONS "/" LOG, 1, NULL, cp1);
	assert_checkpoint(cp1, strlen(all), &st, all);
	ck_assert_int_eq(journal_lines_with("\"event\":\"version\"",
					    "checkpoint"),
			 2);
	/* Not a checkpoint: the file itself. */
	fd = testutil_handle(root, LOG);
	ck_assert_int_eq(store_checkpoint_len(store, fd, &len), 0);
	close(fd);
	/* A session appending nothing keeps no twin of the last one. */
	a = open_append(LOG, NULL);
	ck_assert_int_eq(append_close(a), 0);
	ck_assert_int_eq(testutil_count_entries(root, VERSIONS "/" LOG), 2);
}
END_TEST

START_TEST(store_checkpoint_len_refuses_a_bad_length)
{
	static const char *const bad[] = { "", "-1", "12x", "x", "1 2",
					   "99999999999999999999999" };
	char path[PATH_MAX];
	uint64_t len;
	int fd;

	testutil_write_file(root, "cp", "", 0);
	testutil_join(path, root, "cp");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(lsetxattr(path, CHECKPOINT_XATTR, bad[i],
					   strlen(bad[i]), 0),
				 0);
		fd = testutil_handle(root, "cp");
		ck_assert_msg(store_checkpoint_len(store, fd, &len) == 0,
			      "checkpoint length '%s' taken", bad[i]);
		close(fd);
	}
	/* Longer than any number: not one. */
	{
		char big[200];

		memset(big, '1', sizeof(big));
		testutil_join(path, root, "cp");
		ck_assert_int_eq(lsetxattr(path, CHECKPOINT_XATTR, big,
					   sizeof(big), 0),
				 0);
		fd = testutil_handle(root, "cp");
		ck_assert_int_eq(store_checkpoint_len(store, fd, &len), 0);
		close(fd);
	}
}
END_TEST

START_TEST(store_checkpoint_open_finds_the_file_then_its_version_by_inode)
{
	const char *all = FIRST "{\"n\":1}\n";
	char cp[PATH_MAX], vname[VERSION_NAME_MAX], vpath[PATH_MAX];
	char a_path[PATH_MAX], b_path[PATH_MAX];
	struct timespec now;
	struct stat st, got;
	struct append *a;
	struct append_writer *w;
	int fd, out = -1;

	commit_text(LOG, FIRST);
	st = testutil_lstat(root, LOG);
	a = open_append(LOG, NULL);
	w = new_writer(a);
	put(a, w, "{\"n\":1}\n");
	release(a, w);
	ck_assert_int_eq(append_close(a), 0);
	testutil_nth_entry(root, VERSIONS "/" LOG, 1, NULL, cp);

	/* While the file is that file: the file. */
	fd = testutil_handle(root, cp);
	ck_assert_int_eq(store_checkpoint_open(store, fd, &out), 0);
	ck_assert_int_eq(fstat(out, &got), 0);
	ck_assert_uint_eq(got.st_ino, st.st_ino);
	ck_assert(testutil_fd_has_text(out, all));
	close(out);

	/* Replaced, the old inode kept as a version: that version. */
	now.tv_sec = 946684800;
	now.tv_nsec = 0;
	ck_assert_int_eq(version_name(vname, sizeof(vname), &now, LOG, 0), 0);
	testutil_join(vpath, VERSIONS "/" LOG, vname);
	testutil_join(a_path, root, LOG);
	testutil_join(b_path, root, vpath);
	ck_assert_msg(link(a_path, b_path) == 0, "cannot link '%s': %s", b_path,
		      strerror(errno));
	testutil_write_file(root, "other.jsonl", "{\"other\":1}\n", 12);
	testutil_join(b_path, root, "other.jsonl");
	ck_assert_int_eq(rename(b_path, a_path), 0);
	out = -1;
	ck_assert_int_eq(store_checkpoint_open(store, fd, &out), 0);
	ck_assert_int_eq(fstat(out, &got), 0);
	ck_assert_uint_eq(got.st_ino, st.st_ino);
	ck_assert(testutil_fd_has_text(out, all));
	close(out);

	/* Gone everywhere. */
	testutil_join(b_path, root, vpath);
	ck_assert_int_eq(unlink(b_path), 0);
	ck_assert_int_eq(store_checkpoint_open(store, fd, &out), -ENOENT);
	close(fd);

	/* Not a checkpoint at all. */
	fd = testutil_handle(root, LOG);
	ck_assert_int_lt(store_checkpoint_open(store, fd, &out), 0);
	close(fd);
}
END_TEST

/* Crash recovery */

/* A child that appends, commits, appends more and dies mid-commit. */
static void crash_mid_commit(const char *rel, const char *kept,
			     const char *torn)
{
	size_t k = strlen(kept), t = strlen(torn);
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct append *a = NULL;
		struct append_writer *w = NULL;
		int fd = testutil_handle(root, rel);

		if (append_open(set, fd, &who, NULL, NULL, &a) < 0 ||
		    append_writer_new(a, &w) < 0)
			_exit(2);
		if (append_write(a, w, kept, k) != (ssize_t)k ||
		    append_commit(a, false) < 0)
			_exit(3);
		if (append_write(a, w, torn, t) != (ssize_t)t)
			_exit(4);
		/* Killed at its first xattr: written, not recorded. */
		io_fault_set(io, IO_XATTR, 1, IO_FAULT_CRASH);
		append_commit(a, false);
		_exit(5);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
		      "the child did not crash (status %#x)", status);
}

/* The one orphan "*-append-@file" holds exactly @text. */
static void assert_append_orphan(const char *file, const char *text)
{
	char pat[NAME_MAX + 1], path[PATH_MAX];
	int n = testutil_count_entries(root, ORPHANS), found = 0;

	snprintf(pat, sizeof(pat), "*-append-%s", file);
	for (int i = 0; i < n; i++) {
		testutil_nth_entry(root, ORPHANS, i, NULL, path);
		if (fnmatch(pat, strrchr(path, '/') + 1, 0))
			continue;
		found++;
		ck_assert(testutil_has_text(root, path, text));
	}
	ck_assert_msg(found == 1, "%d orphans match '%s'", found, pat);
}

START_TEST(store_open_cuts_a_torn_append_back_to_its_record)
{
	const char *kept = "{\"n\":1}\n", *torn = "{\"n\":2}\n{\"n\":3}\n";
	struct append *a;
	struct append_writer *w;

	commit_text(LOG, FIRST);
	crash_mid_commit(LOG, kept, torn);
	ck_assert(testutil_has_text(root, LOG,
				    FIRST "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n"));
	ck_assert_uint_eq(record_of(LOG).size, 16);
	ck_assert_int_eq(count_markers(), 1);

	ck_assert_int_eq(reopen_store(), 0);
	ck_assert(testutil_has_text(root, LOG, FIRST "{\"n\":1}\n"));
	assert_recorded(LOG);
	assert_append_orphan(LOG, torn);
	ck_assert_int_eq(count_markers(), 0);
	ck_assert_int_eq(journal_lines_with("\"event\":\"recover\"", LOG), 1);

	/* Appends go on from there. */
	a = open_append(LOG, NULL);
	w = new_writer(a);
	put(a, w, "{\"n\":4}\n");
	release(a, w);
	ck_assert_int_eq(append_close(a), 0);
	ck_assert(testutil_has_text(root, LOG, FIRST "{\"n\":1}\n{\"n\":4}\n"));
	assert_recorded(LOG);

	/* A second recovery finds nothing to do. */
	ck_assert_int_eq(reopen_store(), 0);
	ck_assert_int_eq(journal_lines_with("\"event\":\"recover\"", LOG), 1);
}
END_TEST

/* Writes the marker staging/@name holding @len bytes of @text. */
static void make_marker(const char *name, const char *text, size_t len)
{
	char path[PATH_MAX];

	testutil_join(path, STAGING, name);
	testutil_write_file(root, path, text, len);
}

START_TEST(store_open_cuts_a_file_a_marker_names_by_its_inode)
{
	char text[PATH_MAX];
	struct stat st;
	int n;

	/* A nested path, bytes past the record written behind. */
	testutil_make_dir(root, "sub", 0755);
	commit_text("sub/app.log", "start\n");
	append_behind("sub/app.log", "torn tail");
	st = testutil_lstat(root, "sub/app.log");
	n = snprintf(text, sizeof(text), "%" PRIu64 "\nsub/app.log",
		     (uint64_t)st.st_ino);
	make_marker(APPEND_MARKER_PREFIX "1.1", text, (size_t)n);
	ck_assert_int_eq(reopen_store(), 0);
	ck_assert(testutil_has_text(root, "sub/app.log", "start\n"));
	assert_recorded("sub/app.log");
	assert_append_orphan("app.log", "torn tail");
	ck_assert_int_eq(count_markers(), 0);
}
END_TEST

START_TEST(store_open_removes_markers_of_missing_files_and_garbage)
{
	char text[PATH_MAX];
	struct stat st;
	int n;

	commit_text(LOG, FIRST);
	append_behind(LOG, "{\"behind\":1}\n");
	st = testutil_lstat(root, LOG);
	make_marker(APPEND_MARKER_PREFIX "1.1", "123\nmissing.jsonl", 17);
	make_marker(APPEND_MARKER_PREFIX "1.2", "garbage", 7);
	make_marker(APPEND_MARKER_PREFIX "1.3", "", 0);
	make_marker(APPEND_MARKER_PREFIX "1.4", "42\n", 3);
	make_marker(APPEND_MARKER_PREFIX "1.5", "x\n" LOG, 2 + strlen(LOG));
	make_marker(APPEND_MARKER_PREFIX "1.6", "\0\n\xff", 3);
	/* The right path, another inode: not that file. */
	n = snprintf(text, sizeof(text), "%" PRIu64 "\n" LOG,
		     (uint64_t)st.st_ino + 1);
	make_marker(APPEND_MARKER_PREFIX "1.7", text, (size_t)n);
	ck_assert_int_eq(count_markers(), 7);
	ck_assert_int_eq(reopen_store(), 0);
	ck_assert_int_eq(count_markers(), 0);
	/* The file changed behind, no marker of its own: left as it is. */
	ck_assert(testutil_has_text(root, LOG, FIRST "{\"behind\":1}\n"));
	ck_assert_int_le(testutil_count_entries(root, ORPHANS), 0);
}
END_TEST

/*
 * A marker is ours, but the path it names is the user's: whatever is there
 * after a crash (a dir, a file where a dir was), the mount must come up.
 */
START_TEST(store_open_removes_a_marker_naming_a_dir)
{
	testutil_make_dir(root, "logs", 0755);
	make_marker(APPEND_MARKER_PREFIX "1.1", "7\nlogs", 6);
	ck_assert_int_eq(reopen_store(), 0);
	ck_assert_int_eq(count_markers(), 0);
}
END_TEST

START_TEST(store_open_removes_a_marker_naming_a_path_through_a_file)
{
	commit_text(LOG, FIRST);
	make_marker(APPEND_MARKER_PREFIX "1.1", "7\n" LOG "/x",
		    4 + strlen(LOG));
	ck_assert_int_eq(reopen_store(), 0);
	ck_assert_int_eq(count_markers(), 0);
}
END_TEST

START_TEST(store_open_removes_a_marker_naming_a_path_outside)
{
	make_marker(APPEND_MARKER_PREFIX "1.1", "7\n../x", 6);
	ck_assert_int_eq(reopen_store(), 0);
	ck_assert_int_eq(count_markers(), 0);
}
END_TEST

START_TEST(store_open_removes_a_marker_naming_a_too_long_path)
{
	char text[PATH_MAX];

	/* As long as a marker can hold, one name longer than NAME_MAX. */
	memset(text, 'a', sizeof(text));
	memcpy(text, "1\n", 2);
	make_marker(APPEND_MARKER_PREFIX "1.1", text, sizeof(text));
	ck_assert_int_eq(reopen_store(), 0);
	ck_assert_int_eq(count_markers(), 0);
}
END_TEST

/* Truncates */

START_TEST(append_rebase_goes_on_at_the_end_of_a_truncated_file)
{
	struct stage *st = NULL;
	struct stat new_st;
	struct append *a;
	struct append_writer *w;
	int fd, new_fd = -2;

	commit_text(LOG, FIRST "{\"n\":1}\n");
	a = open_append(LOG, NULL);
	w = new_writer(a);
	put(a, w, "{\"n\":2}\n{\"n\":");
	ck_assert_int_eq(append_commit(a, false), 0);
	ck_assert(testutil_has_text(root, LOG, FIRST "{\"n\":1}\n{\"n\":2}\n"));
	/* A truncate through the mount: committed as a stage. */
	fd = testutil_handle(root, LOG);
	ck_assert_int_eq(stage_begin(store, fd, false, &st), 0);
	ck_assert_int_eq(stage_truncate(store, st, 8), 0);
	ck_assert_int_eq(stage_commit(store, st, fd, &who, false, &new_fd,
				      &new_st),
			 0);
	close(fd);
	ck_assert_int_ge(new_fd, 0);
	ck_assert_int_eq(append_rebase(a, new_fd), 0);
	close(new_fd);
	ck_assert_uint_eq(append_committed(a), 8);
	/* The writer keeps its incomplete record. */
	ck_assert(reads_as(a, w, FIRST "{\"n\":"));
	put(a, w, "3}\n");
	ck_assert_int_eq(append_commit(a, false), 0);
	ck_assert(testutil_has_text(root, LOG, FIRST "{\"n\":3}\n"));
	release(a, w);
	ck_assert_int_eq(append_close(a), 0);
	ck_assert(testutil_has_text(root, LOG, FIRST "{\"n\":3}\n"));
	assert_recorded(LOG);
	ck_assert_int_eq(count_markers(), 0);
}
END_TEST

static TCase *add_tcase(Suite *s, const char *name)
{
	return testutil_add_tcase(s, name, setup, teardown, 60);
}

static Suite *append_suite(void)
{
	Suite *s = suite_create("append");
	TCase *tc;

	tc = add_tcase(s, "hasher");
	tcase_add_test(tc,
		       format_hasher_save_and_load_at_any_split_give_the_one_pass_sum);
	tcase_add_test(tc, format_hasher_loaded_state_goes_on_through_many_saves);
	tcase_add_test(tc,
		       format_hasher_load_refuses_garbage_truncated_and_modified_states);

	tc = add_tcase(s, "commit");
	tcase_add_test(tc, append_commits_two_writers_records_whole_and_in_order);
	tcase_add_test(tc,
		       append_commit_saves_the_hash_state_of_the_committed_content);
	tcase_add_test(tc,
		       append_open_goes_on_with_a_saved_missing_or_bad_hash_state);
	tcase_add_test(tc, append_open_refuses_a_file_damaged_under_its_record);
	tcase_add_test(tc,
		       append_shows_readers_the_committed_and_writers_their_own_bytes);
	tcase_add_test(tc, append_commit_failing_keeps_the_queue_and_the_file);
	tcase_add_test(tc,
		       append_commit_failing_leaves_the_record_matching_the_file);
	tcase_add_test(tc, append_of_an_opaque_file_takes_every_write_whole);
	tcase_add_test(tc, append_set_commits_every_interval_and_tells_it_idle);
	tcase_add_test(tc,
		       append_after_an_unterminated_jsonl_line_keeps_the_file_valid);
	tcase_add_test(tc,
		       append_csv_after_a_header_without_newline_keeps_every_byte);

	tc = add_tcase(s, "reject");
	tcase_add_test(tc,
		       append_sets_an_invalid_jsonl_line_aside_and_journals_it);
	tcase_add_test(tc,
		       append_csv_row_with_the_wrong_field_count_is_rejected);
	tcase_add_test(tc,
		       append_csv_rows_with_quoted_newlines_across_writes_are_kept);
	tcase_add_test(tc,
		       append_csv_after_a_header_with_a_quoted_newline_keeps_the_rows);

	tc = add_tcase(s, "writer_end");
	tcase_add_test(tc, append_writer_release_keeps_a_final_text_line);
	tcase_add_test(tc,
		       append_writer_release_rejects_an_invalid_final_jsonl_record);
	tcase_add_test(tc,
		       append_writer_release_commits_a_final_record_valid_alone);
	tcase_add_test(tc,
		       append_writer_flush_keeps_a_partial_not_valid_alone_pending);
	tcase_add_test(tc, append_writer_flush_keeps_a_short_csv_row_pending);

	tc = add_tcase(s, "limits");
	tcase_add_test(tc, append_write_of_a_jsonl_record_past_1_mib_gets_exfull);
	tcase_add_test(tc,
		       append_write_of_a_jsonl_tail_past_1_mib_after_a_newline_gets_exfull);
	tcase_add_test(tc,
		       append_write_of_a_quoted_csv_record_past_1_mib_gets_exfull);
	tcase_add_test(tc,
		       append_write_of_a_text_line_past_1_mib_commits_it_cut);

	tc = add_tcase(s, "open");
	tcase_add_test(tc, append_open_refuses_json_files);
	tcase_add_test(tc, append_open_refuses_a_file_changed_behind_its_record);
	tcase_add_test(tc, append_open_starts_an_empty_file_without_a_record);

	tc = add_tcase(s, "checkpoint");
	tcase_add_test(tc, append_open_and_close_keep_checkpoints_of_the_lengths);
	tcase_add_test(tc, store_checkpoint_len_refuses_a_bad_length);
	tcase_add_test(tc,
		       store_checkpoint_open_finds_the_file_then_its_version_by_inode);

	tc = add_tcase(s, "recover");
	tcase_add_test(tc, store_open_cuts_a_torn_append_back_to_its_record);
	tcase_add_test(tc, store_open_cuts_a_file_a_marker_names_by_its_inode);
	tcase_add_test(tc,
		       store_open_removes_markers_of_missing_files_and_garbage);
	tcase_add_test(tc, store_open_removes_a_marker_naming_a_dir);
	tcase_add_test(tc,
		       store_open_removes_a_marker_naming_a_path_through_a_file);
	tcase_add_test(tc, store_open_removes_a_marker_naming_a_path_outside);
	tcase_add_test(tc, store_open_removes_a_marker_naming_a_too_long_path);

	tc = add_tcase(s, "rebase");
	tcase_add_test(tc, append_rebase_goes_on_at_the_end_of_a_truncated_file);
	return s;
}

int main(void)
{
	return testutil_run_in_temp_dir("append", append_suite);
}
