// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "core/journal.h"
#include "tests/unit/testutil.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* 2026-11-23T11:05:09.123456789Z */
#define T_EXAMPLE 1795431909
#define JOURNAL_NAME "journal.jsonl"
#define THREADS 4
#define PER_THREAD 200

/* Every test gets a fresh dir in the run's temp dir for its journal. */
static char root[PATH_MAX];
static struct io *io;

static void setup(void)
{
	testutil_backing_init(root, &io);
}

static void teardown(void)
{
	testutil_backing_release(root, &io);
}

/*
 * A JSON checker for one record: an object of strings and numbers, alone
 * on a line that ends in '\n'.  Strict where the format can go wrong: no
 * raw control bytes in strings, only JSON's escapes, nothing after '}'.
 */
struct json {
	const char *p, *end;
};

static bool json_hex4(struct json *j, unsigned int *u)
{
	*u = 0;
	for (int i = 0; i < 4; i++, j->p++) {
		char c = j->p < j->end ? *j->p : '\0';

		if (c >= '0' && c <= '9')
			*u = *u * 16 + (unsigned int)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*u = *u * 16 + (unsigned int)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*u = *u * 16 + (unsigned int)(c - 'A' + 10);
		else
			return false;
	}
	return true;
}

/* A string; its value (cut to @size, '?' for a non-ASCII \u) into @out. */
static bool json_string(struct json *j, char *out, size_t size)
{
	size_t n = 0;

	if (j->p >= j->end || *j->p != '"')
		return false;
	for (j->p++; j->p < j->end && *j->p != '"';) {
		unsigned char c = (unsigned char)*j->p++;
		unsigned int u;

		if (c < 0x20)
			return false;
		if (c == '\\') {
			c = j->p < j->end ? (unsigned char)*j->p++ : 0;
			switch (c) {
			case '"':
			case '\\':
			case '/':
				break;
			case 'b':
				c = '\b';
				break;
			case 'f':
				c = '\f';
				break;
			case 'n':
				c = '\n';
				break;
			case 'r':
				c = '\r';
				break;
			case 't':
				c = '\t';
				break;
			case 'u':
				if (!json_hex4(j, &u))
					return false;
				c = u < 0x80 ? (unsigned char)u : '?';
				break;
			default:
				return false;
			}
		}
		if (out && n + 1 < size)
			out[n++] = (char)c;
	}
	if (j->p >= j->end)
		return false;
	j->p++;
	if (out && size)
		out[n] = '\0';
	return true;
}

/* A number as JSON spells it; its text into @out. */
static bool json_number(struct json *j, char *out, size_t size)
{
	const char *start = j->p;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p < j->end && *j->p == '0') {
		j->p++;
	} else if (j->p < j->end && *j->p >= '1' && *j->p <= '9') {
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	} else {
		return false;
	}
	if (out && size)
		snprintf(out, size, "%.*s", (int)(j->p - start), start);
	return true;
}

/*
 * Whether @line (@len bytes) is one valid record line; when @key is not
 * NULL, also that it has @key, whose value goes to @val.
 */
static bool json_line(const char *line, size_t len, const char *key,
		      char *val, size_t size)
{
	struct json j = { line, line + len };
	bool found = !key;
	char k[64];

	if (len < 3 || line[len - 1] != '\n' || memchr(line, '\n', len - 1))
		return false;
	j.end--;
	if (*j.p++ != '{')
		return false;
	while (j.p < j.end && *j.p != '}') {
		bool want;

		if (!json_string(&j, k, sizeof(k)) || j.p >= j.end ||
		    *j.p++ != ':')
			return false;
		want = key && !strcmp(k, key);
		found |= want;
		if (j.p < j.end && *j.p == '"') {
			if (!json_string(&j, want ? val : NULL, size))
				return false;
		} else if (!json_number(&j, want ? val : NULL, size)) {
			return false;
		}
		if (j.p < j.end && *j.p == ',' && j.p + 1 < j.end &&
		    j.p[1] != '}')
			j.p++;
		else if (j.p < j.end && *j.p != '}')
			return false;
	}
	return found && j.p + 1 == j.end && *j.p == '}';
}

static bool json_str_is(const char *line, size_t len, const char *key,
			const char *want)
{
	char val[4096];

	return json_line(line, len, key, val, sizeof(val)) &&
	       !strcmp(val, want);
}

static const struct journal_record full = {
	.event = JOURNAL_COMMIT,
	.path = "dir/report.csv",
	.size = 1234,
	.checksum = "0123456789abcdef0123456789abcdef",
	.prev = "2026-11-23T11-05-09.123Z.csv",
	.detail = "why",
	.uid = 1000,
	.pid = 4242,
	.comm = "vim",
};

static const char full_line[] =
	"{\"time\":\"2026-11-23T11:05:09.123Z\",\"event\":\"commit\","
	"\"path\":\"dir/report.csv\",\"size\":1234,"
	"\"xxh128\":\"0123456789abcdef0123456789abcdef\","
	"\"prev\":\"2026-11-23T11-05-09.123Z.csv\",\"detail\":\"why\","
	"\"uid\":1000,\"pid\":4242,\"comm\":\"vim\"}\n";

/* journal_format() at the example time, checked to be one valid line. */
static ssize_t format_at(char *buf, size_t size,
			 const struct journal_record *r)
{
	struct timespec t = { .tv_sec = T_EXAMPLE, .tv_nsec = 123456789 };
	ssize_t n = journal_format(buf, size, &t, r);

	ck_assert_int_gt(n, 0);
	ck_assert_msg(json_line(buf, (size_t)n, NULL, NULL, 0),
		      "not one JSON line: '%.*s'", (int)n, buf);
	return n;
}

/* Checks every line of the journal; returns how many there are. */
static size_t count_valid_lines(const char *buf, size_t len)
{
	size_t lines = 0;

	for (const char *p = buf; p < buf + len; lines++) {
		const char *nl = memchr(p, '\n', (size_t)(buf + len - p));

		/* Messages show a line's start only: check caps their size. */
		ck_assert_msg(nl, "torn last line: '%.200s'", p);
		ck_assert_msg(json_line(p, (size_t)(nl - p + 1), NULL, NULL, 0),
			      "bad line %zu: '%.*s'", lines + 1,
			      (int)(nl - p < 200 ? nl - p : 200), p);
		p = nl + 1;
	}
	return lines;
}

static struct journal *open_journal(void)
{
	struct journal *j = NULL;

	ck_assert_int_eq(journal_open(io, io_rootfd(io), JOURNAL_NAME, &j), 0);
	ck_assert_ptr_nonnull(j);
	return j;
}

/* The checker itself */

START_TEST(json_checker_refuses_what_is_not_one_record_line)
{
	static const char *const bad[] = {
		"",
		"\n",
		"{}",
		"{\"a\":1}",
		"{\"a\":1}\n\n",
		"{\"a\":1}x\n",
		"{\"a\":1,}\n",
		"{\"a\":01}\n",
		"{\"a\":\"x\ny\"}\n",
		"{\"a\":\"x\ty\"}\n",
		"{\"a\":\"\\x41\"}\n",
		"{\"a\":\"\\u12\"}\n",
		"{\"a\":\"b}\n",
		"{\"a\" 1}\n",
		"{a:1}\n",
		"{\"a\":1\"b\":2}\n",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!json_line(bad[i], strlen(bad[i]), NULL, NULL, 0),
			      "'%s' accepted", bad[i]);
	ck_assert(json_line("{}\n", 3, NULL, NULL, 0));
	ck_assert(json_line(full_line, strlen(full_line), NULL, NULL, 0));
	ck_assert(json_str_is("{\"a\":\"\\u0041\\\\\\\"\"}\n", 19, "a",
			      "A\\\""));
}
END_TEST

/* journal_format */

START_TEST(journal_format_writes_every_field_as_one_json_line)
{
	char buf[1024];
	ssize_t n = format_at(buf, sizeof(buf), &full);

	ck_assert_int_eq(n, (ssize_t)strlen(full_line));
	ck_assert_msg(!memcmp(buf, full_line, (size_t)n), "got '%.*s'", (int)n,
		      buf);
}
END_TEST

START_TEST(journal_format_names_every_event)
{
	static const char *const names[] = {
		[JOURNAL_COMMIT] = "commit",   [JOURNAL_VERSION] = "version",
		[JOURNAL_REJECT] = "reject",   [JOURNAL_RECOVER] = "recover",
		[JOURNAL_ORPHAN] = "orphan",
	};
	struct journal_record r = full;
	char buf[1024];

	for (size_t e = 0; e < sizeof(names) / sizeof(names[0]); e++) {
		ssize_t n;

		r.event = (enum journal_event)e;
		n = format_at(buf, sizeof(buf), &r);
		ck_assert(json_str_is(buf, (size_t)n, "event", names[e]));
	}
}
END_TEST

START_TEST(journal_format_omits_null_fields_and_an_unknown_size)
{
	static const char want[] =
		"{\"time\":\"2026-11-23T11:05:09.123Z\",\"event\":\"orphan\","
		"\"path\":\"a\",\"uid\":0,\"pid\":0}\n";
	struct journal_record r = {
		.event = JOURNAL_ORPHAN, .path = "a", .size = -1,
	};
	char buf[1024];
	ssize_t n = format_at(buf, sizeof(buf), &r);

	ck_assert_int_eq(n, (ssize_t)strlen(want));
	ck_assert_msg(!memcmp(buf, want, (size_t)n), "got '%.*s'", (int)n, buf);
}
END_TEST

START_TEST(journal_format_writes_empty_path_for_null_and_size_0)
{
	struct journal_record r = {
		.event = JOURNAL_RECOVER, .path = NULL, .size = 0,
		.uid = (uid_t)-1, .pid = 1,
	};
	char buf[1024], val[64];
	ssize_t n = format_at(buf, sizeof(buf), &r);

	ck_assert(json_str_is(buf, (size_t)n, "path", ""));
	ck_assert(json_line(buf, (size_t)n, "size", val, sizeof(val)));
	ck_assert_str_eq(val, "0");
	ck_assert(json_line(buf, (size_t)n, "uid", val, sizeof(val)));
	ck_assert_str_eq(val, "4294967295");
	r.size = INT64_MAX;
	n = format_at(buf, sizeof(buf), &r);
	ck_assert(json_line(buf, (size_t)n, "size", val, sizeof(val)));
	ck_assert_str_eq(val, "9223372036854775807");
}
END_TEST

START_TEST(journal_format_escapes_quotes_backslashes_controls)
{
	static const char nasty[] = "a\"b\\c\nd\te\x01\x1f\x7f/\xc3\xa9";
	static const char escaped[] =
		"a\\\"b\\\\c\\u000ad\\u0009e\\u0001\\u001f\\u007f/\xc3\xa9";
	struct journal_record r = {
		.event = JOURNAL_REJECT, .path = nasty, .size = -1,
		.detail = nasty, .comm = nasty,
	};
	char buf[1024], want[1024];
	ssize_t n = format_at(buf, sizeof(buf), &r);

	snprintf(want, sizeof(want),
		 "{\"time\":\"2026-11-23T11:05:09.123Z\",\"event\":\"reject\","
		 "\"path\":\"%s\",\"detail\":\"%s\",\"uid\":0,\"pid\":0,"
		 "\"comm\":\"%s\"}\n",
		 escaped, escaped, escaped);
	ck_assert_int_eq(n, (ssize_t)strlen(want));
	ck_assert_msg(!memcmp(buf, want, (size_t)n), "got '%.*s'", (int)n, buf);
	/* Decoded, the strings are the bytes given. */
	ck_assert(json_str_is(buf, (size_t)n, "path",
			      "a\"b\\c\nd\te\x01\x1f\x7f/\xc3\xa9"));
}
END_TEST

START_TEST(journal_format_fails_on_a_small_buf_writing_only_in_it)
{
	struct timespec t = { .tv_sec = T_EXAMPLE, .tv_nsec = 123456789 };
	size_t len = strlen(full_line);
	char buf[1024];

	for (size_t size = 0; size < len; size++) {
		memset(buf, 0x5a, sizeof(buf));
		ck_assert_msg(journal_format(buf, size, &t, &full) ==
				      -ENAMETOOLONG,
			      "size %zu of %zu accepted", size, len);
		for (size_t i = size; i < sizeof(buf); i++)
			ck_assert_msg(buf[i] == 0x5a,
				      "size %zu: byte %zu written", size, i);
	}
	memset(buf, 0x5a, sizeof(buf));
	ck_assert_int_eq(journal_format(buf, len, &t, &full), (ssize_t)len);
	ck_assert(!memcmp(buf, full_line, len));
	ck_assert_int_eq(buf[len], 0x5a);
}
END_TEST

START_TEST(journal_format_fails_with_enametoolong_for_a_huge_path)
{
	struct timespec t = { .tv_sec = T_EXAMPLE, .tv_nsec = 0 };
	struct journal_record r = full;
	char *path = malloc(PATH_MAX), *buf = malloc(8192);

	ck_assert_ptr_nonnull(path);
	ck_assert_ptr_nonnull(buf);
	/* Every byte escaped takes 6: 24 KiB of JSON. */
	memset(path, '\x01', PATH_MAX - 1);
	path[PATH_MAX - 1] = '\0';
	r.path = path;
	ck_assert_int_eq(journal_format(buf, 8192, &t, &r), -ENAMETOOLONG);
	free(buf);
	free(path);
}
END_TEST

/* journal_open, journal_append, journal_close */

START_TEST(journal_append_writes_lines_in_order)
{
	static const char *const paths[] = { "one", "two", "three" };
	struct journal *j = open_journal();
	struct journal_record r = full;
	struct stat st;
	size_t len;
	char *buf, path[PATH_MAX];
	const char *p;

	for (size_t i = 0; i < 3; i++) {
		r.path = paths[i];
		ck_assert_int_eq(journal_append(j, &r), 0);
	}
	journal_close(j);
	buf = testutil_read_file(root, JOURNAL_NAME, &len);
	ck_assert_uint_eq(count_valid_lines(buf, len), 3);
	p = buf;
	for (size_t i = 0; i < 3; i++) {
		const char *nl = strchr(p, '\n');

		ck_assert(json_str_is(p, (size_t)(nl - p + 1), "path",
				      paths[i]));
		ck_assert(json_str_is(p, (size_t)(nl - p + 1), "comm", "vim"));
		p = nl + 1;
	}
	free(buf);
	testutil_join(path, root, JOURNAL_NAME);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600);
}
END_TEST

START_TEST(journal_append_stamps_the_current_utc_time)
{
	struct journal *j = open_journal();
	struct timespec before, after;
	char *buf, when[64];
	struct tm tm = { 0 };
	size_t len;
	const char *rest;
	time_t t;

	clock_gettime(CLOCK_REALTIME, &before);
	ck_assert_int_eq(journal_append(j, &full), 0);
	clock_gettime(CLOCK_REALTIME, &after);
	journal_close(j);
	buf = testutil_read_file(root, JOURNAL_NAME, &len);
	ck_assert(json_line(buf, len, "time", when, sizeof(when)));
	free(buf);
	rest = strptime(when, "%Y-%m-%dT%H:%M:%S", &tm);
	ck_assert_msg(rest && strlen(rest) == 5 && rest[0] == '.' &&
			      rest[4] == 'Z',
		      "bad time '%s'", when);
	t = timegm(&tm);
	ck_assert_int_ge(t, before.tv_sec);
	ck_assert_int_le(t, after.tv_sec);
}
END_TEST

START_TEST(journal_open_appends_to_an_existing_journal)
{
	struct journal_record r = full;
	struct journal *j;
	const char *p0, *p1, *p2;
	size_t len;
	char *buf;

	for (int i = 0; i < 3; i++) {
		j = open_journal();
		r.pid = i;
		ck_assert_int_eq(journal_append(j, &r), 0);
		journal_close(j);
	}
	buf = testutil_read_file(root, JOURNAL_NAME, &len);
	ck_assert_uint_eq(count_valid_lines(buf, len), 3);
	p0 = strstr(buf, "\"pid\":0,");
	p1 = strstr(buf, "\"pid\":1,");
	p2 = strstr(buf, "\"pid\":2,");
	ck_assert(p0 && p1 && p2 && p0 < p1 && p1 < p2);
	free(buf);
}
END_TEST

START_TEST(journal_open_returns_the_error_leaving_out_untouched)
{
	struct journal *j = (struct journal *)&j;
	int fd;

	io_fault_set(io, IO_OPEN, 1, EACCES);
	ck_assert_int_eq(journal_open(io, io_rootfd(io), JOURNAL_NAME, &j),
			 -EACCES);
	ck_assert_ptr_eq(j, (struct journal *)&j);
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(faccessat(fd, JOURNAL_NAME, F_OK, 0), -1);
	ck_assert_int_eq(journal_open(io, fd, "no/such", &j), -EINVAL);
	ck_assert_ptr_eq(j, (struct journal *)&j);
	close(fd);
	journal_close(NULL);
}
END_TEST

struct writer {
	struct journal *j;
	int id;
	int failures;
};

static void *write_records(void *arg)
{
	struct writer *w = arg;
	char path[32], detail[2048];
	struct journal_record r = full;

	/* Long records: a torn or split write would show. */
	memset(detail, 'a' + w->id, sizeof(detail) - 1);
	detail[sizeof(detail) - 1] = '\0';
	r.detail = detail;
	r.path = path;
	for (int i = 0; i < PER_THREAD; i++) {
		snprintf(path, sizeof(path), "t%d/%d", w->id, i);
		if (journal_append(w->j, &r) < 0)
			w->failures++;
	}
	return NULL;
}

START_TEST(journal_appends_from_several_threads_never_interleave)
{
	struct journal *j = open_journal();
	struct writer w[THREADS];
	pthread_t th[THREADS];
	int next[THREADS] = { 0 };
	size_t len, lines = 0;
	char *buf;

	for (int t = 0; t < THREADS; t++) {
		w[t] = (struct writer){ .j = j, .id = t };
		ck_assert_int_eq(pthread_create(&th[t], NULL, write_records,
						&w[t]),
				 0);
	}
	for (int t = 0; t < THREADS; t++) {
		ck_assert_int_eq(pthread_join(th[t], NULL), 0);
		ck_assert_int_eq(w[t].failures, 0);
	}
	journal_close(j);
	buf = testutil_read_file(root, JOURNAL_NAME, &len);
	ck_assert_uint_eq(count_valid_lines(buf, len), THREADS * PER_THREAD);
	/* Each thread's records are all there, once, in its order. */
	for (char *p = buf; p < buf + len; lines++) {
		char *nl = strchr(p, '\n'), path[64], detail[2048], own[2];
		int t, i;

		ck_assert(json_line(p, (size_t)(nl - p + 1), "path", path,
				    sizeof(path)));
		ck_assert_int_eq(sscanf(path, "t%d/%d", &t, &i), 2);
		ck_assert(t >= 0 && t < THREADS);
		ck_assert_int_eq(i, next[t]);
		next[t]++;
		ck_assert(json_line(p, (size_t)(nl - p + 1), "detail", detail,
				    sizeof(detail)));
		own[0] = (char)('a' + t);
		own[1] = '\0';
		ck_assert_uint_eq(strspn(detail, own), sizeof(detail) - 1);
		p = nl + 1;
	}
	ck_assert_uint_eq(lines, THREADS * PER_THREAD);
	free(buf);
}
END_TEST

START_TEST(journal_append_returns_an_injected_write_error)
{
	struct journal *j = open_journal();
	size_t len;
	char *buf;

	ck_assert_int_eq(journal_append(j, &full), 0);
	io_fault_set(io, IO_WRITE, 1, ENOSPC);
	ck_assert_int_eq(journal_append(j, &full), -ENOSPC);
	ck_assert_int_eq(journal_append(j, &full), 0);
	io_fault_set(io, IO_WRITE, 0, EIO);
	ck_assert_int_eq(journal_append(j, &full), -EIO);
	ck_assert_int_eq(journal_append(j, &full), -EIO);
	io_fault_set(io, IO_WRITE, 0, 0);
	ck_assert_int_eq(journal_append(j, &full), 0);
	journal_close(j);
	buf = testutil_read_file(root, JOURNAL_NAME, &len);
	ck_assert_uint_eq(count_valid_lines(buf, len), 3);
	free(buf);
}
END_TEST

START_TEST(journal_append_refuses_a_huge_record_writing_nothing)
{
	struct journal *j = open_journal();
	struct journal_record r = full;
	char *path = malloc(PATH_MAX);
	size_t len;
	char *buf;

	ck_assert_ptr_nonnull(path);
	memset(path, '"', PATH_MAX - 1);
	path[PATH_MAX - 1] = '\0';
	r.detail = path;
	r.path = path;
	ck_assert_int_eq(journal_append(j, &r), -ENAMETOOLONG);
	ck_assert_int_eq(journal_append(j, &full), 0);
	journal_close(j);
	free(path);
	buf = testutil_read_file(root, JOURNAL_NAME, &len);
	ck_assert_uint_eq(count_valid_lines(buf, len), 1);
	free(buf);
}
END_TEST

static Suite *journal_suite(void)
{
	Suite *s = suite_create("journal");
	TCase *tc;

	tc = tcase_create("format");
	tcase_add_test(tc, json_checker_refuses_what_is_not_one_record_line);
	tcase_add_test(tc, journal_format_writes_every_field_as_one_json_line);
	tcase_add_test(tc, journal_format_names_every_event);
	tcase_add_test(tc,
		       journal_format_omits_null_fields_and_an_unknown_size);
	tcase_add_test(tc,
		       journal_format_writes_empty_path_for_null_and_size_0);
	tcase_add_test(tc, journal_format_escapes_quotes_backslashes_controls);
	tcase_add_test(tc,
		       journal_format_fails_on_a_small_buf_writing_only_in_it);
	tcase_add_test(tc,
		       journal_format_fails_with_enametoolong_for_a_huge_path);
	suite_add_tcase(s, tc);

	tc = tcase_create("file");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, journal_append_writes_lines_in_order);
	tcase_add_test(tc, journal_append_stamps_the_current_utc_time);
	tcase_add_test(tc, journal_open_appends_to_an_existing_journal);
	tcase_add_test(tc,
		       journal_open_returns_the_error_leaving_out_untouched);
	tcase_add_test(tc,
		       journal_appends_from_several_threads_never_interleave);
	tcase_add_test(tc, journal_append_returns_an_injected_write_error);
	tcase_add_test(tc,
		       journal_append_refuses_a_huge_record_writing_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return testutil_run_in_temp_dir("journal", journal_suite);
}
