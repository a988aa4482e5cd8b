// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "core/salvage.h"

#include "core/append.h"
#include "core/record.h"
#include "core/recovered.h"
#include "core/rules.h"
#include "core/store.h"
#include "core/version.h"
#include "tests/unit/testutil.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

/* A byte string literal and its length, NULs included. */
#define B(s) s, sizeof(s) - 1
#define RECOVERED STATE_DIR "/" STATE_RECOVERED

/*
 * Every test gets a fresh backing dir in the run's temp dir, with its
 * versions tree.
 */
static char root[PATH_MAX];
static struct io *io;
static int versionsfd = -1;

static void setup(void)
{
	char path[PATH_MAX];

	testutil_backing_init(root, &io);
	testutil_join(path, root, STATE_DIR);
	ck_assert_int_eq(mkdir(path, 0711), 0);
	testutil_join(path, root, STATE_DIR "/" STATE_VERSIONS);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	versionsfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(versionsfd, 0);
}

static void teardown(void)
{
	close(versionsfd);
	versionsfd = -1;
	testutil_backing_release(root, &io);
}

/* Overwrites byte @off of @rel with @c, keeping size and mtime: bit rot. */
static void rot(const char *rel, off_t off, char c)
{
	int fd = testutil_open(root, rel, O_RDWR);

	testutil_rot(fd, off, c);
	close(fd);
}

/*
 * Keeps @len bytes of @buf as version @name of @file (a name in the root),
 * with a record of that content when @record.
 */
static void put_version(const char *file, const char *name, const void *buf,
			size_t len, bool record)
{
	char rel[PATH_MAX], dir[PATH_MAX];
	int fd;

	snprintf(rel, sizeof(rel), "%s/%s", STATE_DIR "/" STATE_VERSIONS, file);
	testutil_join(dir, root, rel);
	mkdir(dir, 0755);
	snprintf(rel, sizeof(rel), "%s/%s/%s", STATE_DIR "/" STATE_VERSIONS,
		 file, name);
	testutil_write_file(root, rel, buf, len);
	if (record) {
		fd = testutil_open(root, rel, O_RDONLY);
		testutil_record_now(fd, format_kind_for_name(file), RECORD_OK);
		close(fd);
	}
}

/*
 * Salvages @rel with @rules (NULL: the defaults); the view in *@view
 * (caller frees; NULL when there is none), its length in *@len.
 */
static int salvage_with(const char *rel, const char *rules_text,
			struct salvage_stats *st, char **view, size_t *len)
{
	struct rules *rules = NULL;
	struct rules_error rerr;
	struct rule_policy pol;
	char out_name[PATH_MAX];
	int fd, out, ret;

	if (rules_text)
		ck_assert_int_eq(rules_parse(rules_text, strlen(rules_text),
					     &rules, &rerr), 0);
	fd = testutil_open(root, rel, O_RDONLY);
	snprintf(out_name, sizeof(out_name), "%s.view", rel);
	out = testutil_open(root, out_name, O_RDWR | O_CREAT | O_TRUNC);
	salvage_policy(io, fd, rules, rel, &pol);
	ret = salvage_build(io, versionsfd, rel, fd, &pol, out, st);
	*view = ret == 0 ? testutil_read_fd(out, len) : NULL;
	close(out);
	close(fd);
	unlink(out_name);
	rules_free(rules);
	return ret;
}

/* Puts @content in @rel and checks that its view is exactly @want. */
static void expect_view(const char *rel, const char *content, size_t clen,
			const char *want, size_t wlen, struct salvage_stats *st)
{
	size_t len;
	char *view;

	testutil_write_file(root, rel, content, clen);
	ck_assert_int_eq(salvage_with(rel, NULL, st, &view, &len), 0);
	ck_assert_msg(len == wlen && !memcmp(view, want, wlen),
		      "%s: view '%.*s' (%zu bytes), expected '%.*s'", rel,
		      (int)len, view, len, (int)wlen, want);
	ck_assert_uint_eq(st->bytes, wlen);
	free(view);
}

/* --- jsonl --- */

START_TEST(jsonl_drops_a_line_with_bytes_flipped_in_the_middle)
{
	struct salvage_stats st;

	expect_view("a.jsonl", B("{\"a\": 1}\n{\"b\"\xff 2}\n{\"c\": 3}\n"),
		    B("{\"a\": 1}\n{\"c\": 3}\n"), &st);
	ck_assert_int_eq(st.how, RULE_RECOVER_SALVAGE);
	ck_assert_uint_eq(st.kept, 2);
	ck_assert_uint_eq(st.dropped, 1);
	ck_assert_uint_eq(st.dropped_bytes, 9);
	ck_assert_uint_eq(st.first_offset, 9);
	ck_assert_ptr_nonnull(st.first_reason);
}
END_TEST

START_TEST(jsonl_cut_short_loses_its_partial_last_line)
{
	struct salvage_stats st;

	expect_view("a.jsonl", B("{\"a\": 1}\n\n{\"b\": 2}\n{\"c\": [1, "),
		    B("{\"a\": 1}\n\n{\"b\": 2}\n"), &st);
	ck_assert_uint_eq(st.kept, 3);
	ck_assert_uint_eq(st.dropped, 1);
}
END_TEST

START_TEST(jsonl_garbage_appended_is_dropped)
{
	struct salvage_stats st;

	expect_view("a.jsonl",
		    B("{\"a\": 1}\n[2]\n\x01\xfe garbage {\n\xff\xff\x00zz"),
		    B("{\"a\": 1}\n[2]\n"), &st);
	ck_assert_uint_eq(st.dropped, 2);
}
END_TEST

/* --- csv --- */

START_TEST(csv_drops_a_row_with_bytes_flipped_in_the_middle)
{
	struct salvage_stats st;

	expect_view("t.csv", B("id,name\n1,a\n2;b\n3,c\n"),
		    B("id,name\n1,a\n3,c\n"), &st);
	ck_assert_uint_eq(st.kept, 3);
	ck_assert_uint_eq(st.dropped, 1);
	ck_assert_str_eq(st.first_reason, "wrong field count");
}
END_TEST

START_TEST(csv_cut_short_loses_its_partial_last_row)
{
	struct salvage_stats st;

	expect_view("t.csv", B("id,name\n1,a\n2,b\n3"),
		    B("id,name\n1,a\n2,b\n"), &st);
	expect_view("q.csv", B("id,name\n1,a\n2,\"bo"), B("id,name\n1,a\n"),
		    &st);
	/* Cut at a field's end: the last row is whole, without its newline. */
	expect_view("w.csv", B("id,name\n1,a\n2,b"), B("id,name\n1,a\n2,b"),
		    &st);
}
END_TEST

START_TEST(csv_garbage_appended_is_dropped)
{
	struct salvage_stats st;

	expect_view("t.csv", B("id,name\n1,a\n\x00garbage,,,\n\n\xff\xfe"),
		    B("id,name\n1,a\n"), &st);
	ck_assert_uint_eq(st.dropped, 3);
}
END_TEST

START_TEST(csv_a_quote_never_closed_loses_its_line_only)
{
	struct salvage_stats st;

	expect_view("t.csv", B("id,name\n1,a\n2,\"bob\n3,c\n4,d\n"),
		    B("id,name\n1,a\n3,c\n4,d\n"), &st);
	ck_assert_uint_eq(st.kept, 4);
	ck_assert_uint_eq(st.dropped, 1);
	ck_assert_str_eq(st.first_reason, "unterminated quote");
	ck_assert_uint_eq(st.dropped_bytes, 7);
	/* Closed lines later, with text after it: that line goes too. */
	expect_view("u.csv", B("id,name\n1,a\n2,\"bo\n3,c\n4,d\"x\n5,e\n"),
		    B("id,name\n1,a\n3,c\n5,e\n"), &st);
	ck_assert_uint_eq(st.dropped, 2);
	/* A quoted newline in a row of the wrong count. */
	expect_view("v.csv", B("id,name\n1,\"a\nb\",extra\n2,c\n"),
		    B("id,name\n2,c\n"), &st);
	/* Several never closed. */
	expect_view("x.csv", B("id,name\n\"1,a\n\"2,b\n3,c\n\"4\n"),
		    B("id,name\n3,c\n"), &st);
}
END_TEST

START_TEST(csv_valid_rows_are_kept_byte_for_byte)
{
	static const char text[] =
		"id,\"the name\"\r\n1,\"a\nb\"\r\n2,\"x,\"\"y\"\"\"\r\n\"3\",\r\n";
	struct salvage_stats st;

	expect_view("t.csv", B(text), B(text), &st);
	ck_assert_uint_eq(st.dropped, 0);
	ck_assert_uint_eq(st.kept, 4);
}
END_TEST

START_TEST(csv_with_a_damaged_header_is_its_last_good_version)
{
	struct salvage_stats st;
	size_t len;
	char *view;

	/* No version: no view. */
	testutil_write_file(root, "t.csv", B("id,\"name\n1,a\n2,b\n"));
	ck_assert_int_eq(salvage_with("t.csv", NULL, &st, &view, &len),
			 -ENOENT);
	ck_assert_ptr_nonnull(strstr(st.why, "header"));
	put_version("t.csv", "2026-01-01T00-00-00.000Z.csv", B("id,name\n1,a\n"),
		    true);
	ck_assert_int_eq(salvage_with("t.csv", NULL, &st, &view, &len), 0);
	ck_assert_str_eq(view, "id,name\n1,a\n");
	ck_assert_int_eq(st.how, RULE_RECOVER_LAST_GOOD);
	ck_assert_str_eq(st.version, "2026-01-01T00-00-00.000Z.csv");
	ck_assert_str_eq(st.why, "the header is damaged");
	free(view);
	/* A header whose field count changed: no row is valid. */
	testutil_write_file(root, "t.csv", B("id;name\n1,a\n2,b\n"));
	ck_assert_int_eq(salvage_with("t.csv", NULL, &st, &view, &len), 0);
	ck_assert_str_eq(view, "id,name\n1,a\n");
	ck_assert_str_eq(st.why, "no record is valid");
	free(view);
}
END_TEST

/* A big CSV: rows across the chunks, damage across their boundaries. */
START_TEST(csv_damage_across_chunks)
{
	enum { ROWS = 14000, ROW = 50 };
	size_t n = 0, w = 0, bad1 = 0, bad2 = 0;
	char *text = malloc(ROWS * ROW + 64), *want = malloc(ROWS * ROW + 64);
	struct salvage_stats st;

	n = w = (size_t)sprintf(text, "id,value\n");
	memcpy(want, text, n);
	for (int i = 0; i < ROWS; i++) {
		size_t start = n;

		n += (size_t)sprintf(text + n, "%06d,%042d\n", i, i);
		if (!bad1 && start < 262144 && n > 262144) {
			text[start + 6] = ';';	/* wrong field count */
			bad1 = start;
			continue;
		}
		if (!bad2 && start > 400000) {
			text[start + 7] = '"';	/* a quote never closed */
			bad2 = start;
			continue;
		}
		memcpy(want + w, text + start, n - start);
		w += n - start;
	}
	ck_assert(bad1 && bad2);
	expect_view("big.csv", text, n, want, w, &st);
	ck_assert_uint_eq(st.dropped, 2);
	ck_assert_uint_eq(st.kept, ROWS - 1);
	free(text);
	free(want);
}
END_TEST

/* --- tsv --- */

START_TEST(tsv_drops_damaged_rows)
{
	struct salvage_stats st;

	/* A tab flipped, then cut short. */
	expect_view("t.tsv", B("a\tb\n1\t2\n3x4\n5\t6\n7"),
		    B("a\tb\n1\t2\n5\t6\n"), &st);
	ck_assert_uint_eq(st.dropped, 2);
	/* Garbage appended; quotes are data in TSV. */
	expect_view("u.tsv", B("a\tb\n\"1\t2\n\n\xff\xfe\x00\n"),
		    B("a\tb\n\"1\t2\n"), &st);
	ck_assert_uint_eq(st.dropped, 2);
}
END_TEST

/* --- text --- */

START_TEST(text_drops_lines_with_invalid_utf8)
{
	struct salvage_stats st;

	expect_view("n.txt", B("h\xc3\xa9llo\nw\xc3\x28rld\nbye\n"),
		    B("h\xc3\xa9llo\nbye\n"), &st);
	ck_assert_str_eq(st.first_reason, "invalid utf-8");
	/* Overlong, surrogate, past U+10FFFF, a lone continuation byte. */
	expect_view("o.txt",
		    B("ok\n\xc0\xaf\n\xed\xa0\x80\n\xf4\x90\x80\x80\n\x80\n"
		      "\xf0\x9f\x98\x80\n"),
		    B("ok\n\xf0\x9f\x98\x80\n"), &st);
	ck_assert_uint_eq(st.dropped, 4);
}
END_TEST

START_TEST(text_drops_lines_with_nul_bytes)
{
	struct salvage_stats st;

	expect_view("n.txt", B("a\nb\x00\x00" "c\nd\n"), B("a\nd\n"), &st);
	ck_assert_str_eq(st.first_reason, "nul byte");
}
END_TEST

START_TEST(text_cut_short_and_garbage_appended)
{
	struct salvage_stats st;

	/* Cut inside a character: the last line's sequence is incomplete. */
	expect_view("c.txt", B("h\xc3\xa9llo\nw\xc3"), B("h\xc3\xa9llo\n"), &st);
	/* Cut between characters: the line is text, kept. */
	expect_view("d.txt", B("one\ntw"), B("one\ntw"), &st);
	expect_view("g.txt", B("ok\n\xff\xfe\x00junk"), B("ok\n"), &st);
}
END_TEST

START_TEST(text_characters_across_chunks)
{
	enum { SIZE = 600000 };
	char *text = malloc(SIZE), *want = malloc(SIZE);
	struct salvage_stats st;
	size_t w = 0, cut;

	for (size_t i = 0; i < SIZE; i++)
		text[i] = i % 100 == 99 ? '\n' : 'x';
	/* A two-byte character across the first boundary: fine. */
	text[262143] = (char)0xc3;
	text[262144] = (char)0xa9;
	/* A NUL in the line across the second boundary: its line goes. */
	text[524290] = '\0';
	cut = 524290 - 524290 % 100;
	memcpy(want, text, cut);
	w = cut;
	memcpy(want + w, text + cut + 100, SIZE - cut - 100);
	w += SIZE - cut - 100;
	expect_view("big.txt", text, SIZE, want, w, &st);
	ck_assert_uint_eq(st.dropped, 1);
	free(text);
	free(want);
}
END_TEST

/* --- last-good --- */

START_TEST(json_is_its_newest_version_that_verifies)
{
	struct salvage_stats st;
	size_t len;
	char *view;

	testutil_write_file(root, "d.json", B("{\"a\": [1, 2,]}"));
	put_version("d.json", "2026-01-01T00-00-00.000Z.json", B("{\"a\": 1}\n"),
		    true);
	put_version("d.json", "2026-01-02T00-00-00.000Z.json", B("{\"a\": 2}\n"),
		    true);
	/* Newer, but invalid JSON (never committed through a mount). */
	put_version("d.json", "2026-01-03T00-00-00.000Z.json", B("{\"a\": 3,"),
		    false);
	/* Newer still, with a record, then damaged in place. */
	put_version("d.json", "2026-01-03T00-00-00.000Z~001.json",
		    B("{\"a\": 4}\n"), true);
	rot(STATE_DIR "/" STATE_VERSIONS "/d.json/2026-01-03T00-00-00.000Z~001.json",
	    6, '5');
	/* Not a version's name: ignored. */
	put_version("d.json", "notes", B("{}"), false);
	ck_assert_int_eq(salvage_with("d.json", NULL, &st, &view, &len), 0);
	ck_assert_str_eq(view, "{\"a\": 2}\n");
	ck_assert_int_eq(st.how, RULE_RECOVER_LAST_GOOD);
	ck_assert_str_eq(st.version, "2026-01-02T00-00-00.000Z.json");
	ck_assert_uint_eq(st.bytes, 9);
	free(view);
}
END_TEST

START_TEST(opaque_is_its_newest_version_that_verifies)
{
	static const char cp_path[] =
		STATE_DIR "/" STATE_VERSIONS "/b.bin/2026-01-05T00-00-00.000Z.bin";
	struct salvage_stats st;
	size_t len;
	char *view;
	int fd;

	testutil_write_file(root, "b.bin", B("\x00\x01" "damaged"));
	put_version("b.bin", "2026-01-01T00-00-00.000Z.bin", B("\x00\x01old"),
		    true);
	put_version("b.bin", "2026-01-02T00-00-00.000Z.bin", B("\x00\x01newer"),
		    true);
	rot(STATE_DIR "/" STATE_VERSIONS "/b.bin/2026-01-02T00-00-00.000Z.bin",
	    3, 'E');
	/* An append checkpoint is not a version of the content. */
	put_version("b.bin", "2026-01-05T00-00-00.000Z.bin", B(""), false);
	fd = testutil_open(root, cp_path, O_RDONLY);
	ck_assert_int_eq(fsetxattr(fd, CHECKPOINT_XATTR, "3", 1, 0), 0);
	close(fd);
	ck_assert_int_eq(salvage_with("b.bin", NULL, &st, &view, &len), 0);
	ck_assert_uint_eq(len, 5);
	ck_assert(!memcmp(view, "\x00\x01old", 5));
	ck_assert_str_eq(st.version, "2026-01-01T00-00-00.000Z.bin");
	free(view);
}
END_TEST

START_TEST(no_version_that_verifies_is_no_view)
{
	struct salvage_stats st;
	size_t len;
	char *view;

	testutil_write_file(root, "d.json", B("{"));
	ck_assert_int_eq(salvage_with("d.json", NULL, &st, &view, &len),
			 -ENOENT);
	ck_assert_str_eq(st.why, "no version verifies");
	put_version("d.json", "2026-01-01T00-00-00.000Z.json", B("["), false);
	ck_assert_int_eq(salvage_with("d.json", NULL, &st, &view, &len),
			 -ENOENT);
	/* A jsonl without one valid line falls back, and finds none either. */
	testutil_write_file(root, "l.jsonl", B("{\n[\n"));
	ck_assert_int_eq(salvage_with("l.jsonl", NULL, &st, &view, &len),
			 -ENOENT);
	ck_assert_str_eq(st.why, "no record is valid, no version verifies");
}
END_TEST

/* --- rules --- */

START_TEST(rules_choose_last_good_or_off)
{
	struct salvage_stats st;
	size_t len;
	char *view;

	testutil_write_file(root, "t.csv", B("id,name\n1,a\n2;b\n"));
	put_version("t.csv", "2026-01-01T00-00-00.000Z.csv", B("id,name\n9,z\n"),
		    true);
	ck_assert_int_eq(salvage_with("t.csv", "[*.csv]\nrecover = last-good\n",
				      &st, &view, &len), 0);
	ck_assert_str_eq(view, "id,name\n9,z\n");
	ck_assert_ptr_null(st.why);
	free(view);
	ck_assert_int_eq(salvage_with("t.csv", "[*.csv]\nrecover = off\n", &st,
				      &view, &len), -ENOENT);
	ck_assert_str_eq(st.why, "recover = off");
}
END_TEST

START_TEST(the_format_is_the_records)
{
	struct rule_policy pol;
	int fd;

	/* By its name opaque; its record says csv. */
	testutil_write_file(root, "x.dat", B("id,name\n1,a\n"));
	fd = testutil_open(root, "x.dat", O_RDONLY);
	salvage_policy(io, fd, NULL, "x.dat", &pol);
	ck_assert_int_eq(pol.format, FORMAT_OPAQUE);
	ck_assert_int_eq(salvage_method(&pol), RULE_RECOVER_LAST_GOOD);
	testutil_record_now(fd, FORMAT_CSV, RECORD_OK);
	salvage_policy(io, fd, NULL, "x.dat", &pol);
	ck_assert_int_eq(pol.format, FORMAT_CSV);
	ck_assert_int_eq(salvage_method(&pol), RULE_RECOVER_SALVAGE);
	close(fd);
}
END_TEST

/* --- the store's views --- */

static struct store *store;

static void store_setup(void)
{
	setup();
	ck_assert_int_eq(store_open(io, &store), 0);
}

static void store_teardown(void)
{
	store_close(store);
	store = NULL;
	teardown();
}

/* An O_PATH handle of @rel, checked as an open through the mount would. */
static int checked(const char *rel, int want)
{
	int fd = testutil_open(root, rel, O_PATH | O_NOFOLLOW);

	ck_assert_int_eq(store_check(store, fd, NULL), want);
	return fd;
}

START_TEST(a_damaged_file_has_a_cached_view)
{
	struct stat vst, again;
	size_t len;
	char *view;
	int fd, vfd;

	testutil_write_file(root, "t.csv", B("id,name\n1,a\n2;b\n3,c\n"));
	fd = checked("t.csv", 1);
	ck_assert_int_eq(store_recovered_view(store, fd, &vfd, &vst), 1);
	view = testutil_read_fd(vfd, &len);
	ck_assert_str_eq(view, "id,name\n1,a\n3,c\n");
	ck_assert_int_eq(vst.st_size, 16);
	ck_assert_int_eq(fcntl(vfd, F_GETFL) & O_ACCMODE, O_RDONLY);
	free(view);
	close(vfd);
	/* The second open finds it built. */
	ck_assert_int_eq(store_recovered_view(store, fd, &vfd, &again), 1);
	ck_assert_uint_eq(again.st_ino, vst.st_ino);
	close(vfd);
	ck_assert_int_eq(testutil_count_entries(root, RECOVERED), 1);
	close(fd);

	/* Damaged again, differently: a new view; the old one goes. */
	testutil_write_file(root, "t.csv", B("id,name\n1,a\n2,b\n3;c\n"));
	fd = checked("t.csv", 1);
	ck_assert_int_eq(store_recovered_view(store, fd, &vfd, &again), 1);
	view = testutil_read_fd(vfd, &len);
	ck_assert_str_eq(view, "id,name\n1,a\n2,b\n");
	free(view);
	close(vfd);
	ck_assert_int_eq(testutil_count_entries(root, RECOVERED), 1);
	ck_assert_int_eq(fstatat(fd, "", &vst, AT_EMPTY_PATH), 0);
	store_recovered_forget(store, &vst);
	ck_assert_int_eq(testutil_count_entries(root, RECOVERED), 0);
	close(fd);
}
END_TEST

START_TEST(a_file_not_damaged_or_not_recovered_has_no_view)
{
	struct stat vst;
	int fd, vfd = -7;

	testutil_write_file(root, "ok.csv", B("id,name\n1,a\n"));
	fd = checked("ok.csv", 0);
	ck_assert_int_eq(store_recovered_view(store, fd, &vfd, &vst), 0);
	ck_assert_int_eq(vfd, -7);
	close(fd);
	/* Flagged for another state of the file: not damaged now. */
	testutil_write_file(root, "t.csv", B("id,name\n1;a\n"));
	fd = checked("t.csv", 1);
	testutil_write_file(root, "t.csv", B("id,name\n1;a\n2,b\n"));
	ck_assert_int_eq(store_recovered_view(store, fd, &vfd, &vst), 0);
	close(fd);
	/* Damaged, nothing to salvage, no version. */
	testutil_write_file(root, "n.jsonl", B("{\n"));
	fd = checked("n.jsonl", 1);
	ck_assert_int_eq(store_recovered_view(store, fd, &vfd, &vst), -ENOENT);
	close(fd);
	ck_assert_int_eq(vfd, -7);
}
END_TEST

START_TEST(recover_off_has_no_view)
{
	static const char text[] = "[t.csv]\nrecover = off\n";
	struct rules_error err;
	struct rules *rules;
	struct stat vst;
	int fd, vfd;

	ck_assert_int_eq(rules_parse(text, strlen(text), &rules, &err), 0);
	store_set_rules(store, rules);
	testutil_write_file(root, "t.csv", B("id,name\n1;a\n"));
	fd = checked("t.csv", 1);
	ck_assert_int_eq(store_recovered_view(store, fd, &vfd, &vst), 0);
	close(fd);
	store_set_rules(store, NULL);
	rules_free(rules);
}
END_TEST

START_TEST(a_last_good_view_is_the_version_itself)
{
	char vpath[PATH_MAX];
	struct stat vst, ver;
	int fd, vfd;

	testutil_write_file(root, "d.json", B("{\"a\": ]"));
	put_version("d.json", "2026-01-01T00-00-00.000Z.json", B("{\"a\": 1}"),
		    true);
	fd = checked("d.json", 1);
	ck_assert_int_eq(store_recovered_view(store, fd, &vfd, &vst), 1);
	testutil_join(vpath, root,
		      STATE_DIR "/" STATE_VERSIONS
		      "/d.json/2026-01-01T00-00-00.000Z.json");
	ck_assert_int_eq(stat(vpath, &ver), 0);
	ck_assert_uint_eq(vst.st_ino, ver.st_ino);
	close(vfd);
	ck_assert_int_eq(testutil_count_entries(root, RECOVERED), 1);
	ck_assert_int_eq(store_recovered_view(store, fd, &vfd, &vst), 1);
	ck_assert_uint_eq(vst.st_ino, ver.st_ino);
	close(vfd);
	close(fd);
}
END_TEST

static Suite *salvage_suite(void)
{
	Suite *s = suite_create("salvage");
	TCase *tc = tcase_create("salvage");
	TCase *ts = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, jsonl_drops_a_line_with_bytes_flipped_in_the_middle);
	tcase_add_test(tc, jsonl_cut_short_loses_its_partial_last_line);
	tcase_add_test(tc, jsonl_garbage_appended_is_dropped);
	tcase_add_test(tc, csv_drops_a_row_with_bytes_flipped_in_the_middle);
	tcase_add_test(tc, csv_cut_short_loses_its_partial_last_row);
	tcase_add_test(tc, csv_garbage_appended_is_dropped);
	tcase_add_test(tc, csv_a_quote_never_closed_loses_its_line_only);
	tcase_add_test(tc, csv_valid_rows_are_kept_byte_for_byte);
	tcase_add_test(tc, csv_with_a_damaged_header_is_its_last_good_version);
	tcase_add_test(tc, csv_damage_across_chunks);
	tcase_add_test(tc, tsv_drops_damaged_rows);
	tcase_add_test(tc, text_drops_lines_with_invalid_utf8);
	tcase_add_test(tc, text_drops_lines_with_nul_bytes);
	tcase_add_test(tc, text_cut_short_and_garbage_appended);
	tcase_add_test(tc, text_characters_across_chunks);
	tcase_add_test(tc, json_is_its_newest_version_that_verifies);
	tcase_add_test(tc, opaque_is_its_newest_version_that_verifies);
	tcase_add_test(tc, no_version_that_verifies_is_no_view);
	tcase_add_test(tc, rules_choose_last_good_or_off);
	tcase_add_test(tc, the_format_is_the_records);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(ts, store_setup, store_teardown);
	tcase_add_test(ts, a_damaged_file_has_a_cached_view);
	tcase_add_test(ts, a_file_not_damaged_or_not_recovered_has_no_view);
	tcase_add_test(ts, recover_off_has_no_view);
	tcase_add_test(ts, a_last_good_view_is_the_version_itself);
	suite_add_tcase(s, ts);
	return s;
}

int main(void)
{
	return testutil_run_in_temp_dir("salvage", salvage_suite);
}
