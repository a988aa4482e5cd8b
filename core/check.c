// SPDX-License-Identifier: GPL-2.0-or-later
/* The open-time check of a file against its record (store_check()). */
#include "config.h"

#include "store.h"
#include "store_internal.h"

#include "record.h"
#include "verify.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* "damaged size=N mtime=S.N ino=I" of @st: the identity a verdict is for. */
static int identity(const struct stat *st, char *buf, size_t size)
{
	return snprintf(buf, size,
			"damaged size=%" PRIu64 " mtime=%" PRId64 ".%09ld ino=%" PRIu64,
			(uint64_t)st->st_size, (int64_t)st->st_mtim.tv_sec,
			st->st_mtim.tv_nsec, (uint64_t)st->st_ino);
}

bool store_known_damaged(struct store *s, int fd, const struct stat *st)
{
	char want[128], have[512];
	ssize_t n = io_getxattr_fd(s->io, fd, STATE_XATTR, have,
				   sizeof(have) - 1);
	int len = identity(st, want, sizeof(want));

	if (n <= len)
		return false;
	have[n] = '\0';
	return !strncmp(have, want, (size_t)len) && have[len] == ':';
}

static void adopt(struct store *s, int fd, const char *relpath,
		  const struct stat *st, const struct verify_result *v,
		  const struct who *who)
{
	struct record r = {
		.format = v->format,
		.state = RECORD_OK,
		.size = (uint64_t)st->st_size,
		.mtime_sec = st->st_mtim.tv_sec,
		.mtime_nsec = (uint32_t)st->st_mtim.tv_nsec,
		.ino = st->st_ino,
		.has_sum = true,
		.sum = v->sum,
	};
	char text[RECORD_TEXT_MAX], sum[33];
	size_t n = record_format(&r, text);

	/* Best effort: without it the file is verified again next time. */
	if (io_setxattr_fd(s->io, fd, RECORD_XATTR, text, n, 0) < 0)
		return;
	io_removexattr_fd(s->io, fd, STATE_XATTR);
	format_sum_hex(&v->sum, sum);
	store_journal_note(s, JOURNAL_ADOPT, relpath, st->st_size, sum, NULL,
			   v->has_record ? "changed behind the mount, valid"
					 : "not committed through a mount, valid",
			   who);
}

static void flag_damaged(struct store *s, int fd, const char *relpath,
			 const struct stat *st, const struct verify_result *v,
			 const struct who *who)
{
	char text[512], sum[33];
	int n = identity(st, text, sizeof(text));

	if (v->err.reason)
		n += snprintf(text + n, sizeof(text) - (size_t)n,
			      ": %s (%s at line %" PRIu64 ", byte %" PRIu64 ")",
			      v->why, v->err.reason, v->err.line,
			      v->err.offset);
	else
		n += snprintf(text + n, sizeof(text) - (size_t)n, ": %s",
			      v->why);
	if (n >= (int)sizeof(text))
		n = sizeof(text) - 1;
	io_setxattr_fd(s->io, fd, STATE_XATTR, text, (size_t)n, 0);
	format_sum_hex(&v->sum, sum);
	store_journal_note(s, JOURNAL_DAMAGE, relpath, st->st_size, sum, NULL,
			   strchr(text, ':') + 2, who);
}

/* The record of the last commit now has state damaged: never trusted again. */
static void mark_record(struct store *s, int fd, const struct verify_result *v)
{
	struct record r = v->record;
	char text[RECORD_TEXT_MAX];
	size_t n;

	if (!v->has_record || r.state == RECORD_DAMAGED)
		return;
	r.state = RECORD_DAMAGED;
	n = record_format(&r, text);
	io_setxattr_fd(s->io, fd, RECORD_XATTR, text, n, 0);
}

/*
 * Verifies the protected file behind @fd (@st) from its content, flags it
 * when damaged (with its record when @scrub), else adopts it: 1 (damaged),
 * 0 or -errno.
 */
static int verify_now(struct store *s, int fd, const struct stat *st,
		      const char *relpath, bool scrub, const struct who *who)
{
	struct verify_result v;
	struct rule_policy p;
	int data, ret;

	rules_lookup(s->rules, relpath, &p);
	data = io_reopen(s->io, fd, O_RDONLY);
	if (data < 0)
		return data;
	ret = verify_fd(s->io, data, st, p.format, NULL, NULL, &v);
	io_close(s->io, data);
	if (ret < 0)
		return ret;
	if (v.state == VERIFY_DAMAGED) {
		/* store_check() comes here only when not flagged yet. */
		if (!scrub || !store_known_damaged(s, fd, st))
			flag_damaged(s, fd, relpath, st, &v, who);
		if (scrub)
			mark_record(s, fd, &v);
		return 1;
	}
	/*
	 * Valid and not as recorded (or unrecorded), or found damaged before
	 * and whole again: recorded anew.
	 */
	if (v.state != VERIFY_OK || !v.has_record ||
	    !record_matches(&v.record, st) || v.record.state == RECORD_DAMAGED)
		adopt(s, fd, relpath, st, &v, who);
	return 0;
}

int store_check(struct store *s, int fd, const struct who *who)
{
	char text[RECORD_TEXT_MAX], relpath[PATH_MAX];
	struct record rec;
	struct stat st;
	ssize_t n;
	int ret;

	ret = io_fstatat_empty(s->io, fd, &st);
	if (ret < 0 || !S_ISREG(st.st_mode))
		return ret;
	n = io_getxattr_fd(s->io, fd, RECORD_XATTR, text, sizeof(text));
	if (n > 0 && record_parse(text, (size_t)n, &rec) == 0 &&
	    record_matches(&rec, &st) && rec.state != RECORD_DAMAGED)
		return 0;
	if (store_known_damaged(s, fd, &st))
		return 1;
	/*
	 * Files written in place (scratch files, several links) have no
	 * record to keep: checking them would read them at every open.
	 */
	ret = store_is_protected(s, fd, &st, relpath, sizeof(relpath));
	if (ret <= 0)
		return ret;
	return verify_now(s, fd, &st, relpath, false, who);
}

int store_scrub(struct store *s, int fd, const struct who *who)
{
	char relpath[PATH_MAX];
	struct stat st;
	int ret;

	ret = io_fstatat_empty(s->io, fd, &st);
	if (ret < 0 || !S_ISREG(st.st_mode))
		return ret;
	ret = store_is_protected(s, fd, &st, relpath, sizeof(relpath));
	if (ret <= 0)
		return ret;
	return verify_now(s, fd, &st, relpath, true, who);
}
