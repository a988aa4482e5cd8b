// SPDX-License-Identifier: GPL-2.0-or-later
/* The store's recovered views of damaged files, and their cache (recovered.h). */
#include "config.h"

#include "recovered.h"
#include "store_internal.h"

#include "record.h"
#include "salvage.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Entries older than this (ctime) are removed at the next build. */
#define MAX_AGE (24 * 60 * 60)
#define KEY_MAX 128
#define TMP_PREFIX "build-"

/* "<dev>-<ino>-": what every entry of the views of @st starts with. */
static int key_prefix(const struct stat *st, char *buf, size_t size)
{
	return snprintf(buf, size, "%" PRIu64 "-%" PRIu64 "-",
			(uint64_t)st->st_dev, (uint64_t)st->st_ino);
}

static void cache_key(const struct stat *st, const struct rule_policy *pol,
		      enum rule_recover how, char *buf, size_t size)
{
	int n = key_prefix(st, buf, size);

	snprintf(buf + n, size - (size_t)n,
		 "%" PRIu64 "-%" PRId64 ".%09ld-%s-%s", (uint64_t)st->st_size,
		 (int64_t)st->st_mtim.tv_sec, st->st_mtim.tv_nsec,
		 format_kind_name(pol->format),
		 how == RULE_RECOVER_LAST_GOOD ? "last-good" : "salvage");
}

/* An O_PATH fd of the cache dir, made when missing and @make. */
static int open_cache_dir(struct store *s, bool make, int *out)
{
	int ret, fd;

	if (make) {
		ret = io_mkdirat(s->io, s->statefd, STATE_RECOVERED, 0700);
		if (ret < 0 && ret != -EEXIST)
			return ret;
	}
	fd = io_openat(s->io, s->statefd, STATE_RECOVERED,
		       O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	*out = fd;
	return 0;
}

/*
 * Removes the entries of @dfd that start with @prefix (other than @keep),
 * and, with @now, those older than MAX_AGE.  Best effort.
 */
static void prune(struct store *s, int dfd, const char *prefix,
		  const char *keep, const struct timespec *now)
{
	struct io_dir *d;
	const char *name;
	unsigned char type;
	off_t pos = 0, next;
	struct stat st;

	if (io_opendir_fd(s->io, dfd, &d) < 0)
		return;
	while (io_readdir(s->io, d, pos, &name, &type, &next, NULL) == 1) {
		bool stale;

		pos = next;
		if (!strcmp(name, ".") || !strcmp(name, ".."))
			continue;
		stale = !strncmp(name, prefix, strlen(prefix)) &&
			(!keep || strcmp(name, keep));
		if (!stale && now && io_dir_lstat(s->io, d, name, &st) == 0)
			stale = st.st_ctim.tv_sec + MAX_AGE < now->tv_sec;
		if (stale)
			io_unlinkat(s->io, dfd, name, false);
	}
	io_closedir(d);
}

/*
 * last-good: the newest good version; the cache entry is a link to it
 * (best effort: without one the next open looks for it again).
 */
static int view_last_good(struct store *s, int dfd, const char *relpath,
			  const struct rule_policy *pol, const char *key)
{
	struct salvage_stats stats = { 0 };
	int vfd, ret;

	ret = salvage_last_good(s->io, s->versionsfd, relpath, pol->format,
				&vfd, &stats);
	if (ret < 0)
		return ret;
	io_link_fd(s->io, vfd, dfd, key);
	return vfd;
}

/*
 * salvage: the view is built under a temporary name, then renamed to @key,
 * so that no partial view is ever found under a real name.
 */
static int view_salvage(struct store *s, int dfd, int fd, const char *relpath,
			const struct rule_policy *pol, const char *key)
{
	struct salvage_stats stats;
	char tmp[64];
	int data, out, vfd, ret;

	snprintf(tmp, sizeof(tmp), TMP_PREFIX "%ld-%lu", (long)getpid(),
		 atomic_fetch_add(&s->seq, 1));
	out = io_openat(s->io, dfd, tmp, O_RDWR | O_CREAT | O_EXCL, 0600);
	if (out < 0)
		return out;
	data = io_reopen(s->io, fd, O_RDONLY);
	ret = data < 0 ? data
		       : salvage_build(s->io, s->versionsfd, relpath, data, pol,
				       out, &stats);
	/* Damage in no record: the "view" would be the damaged file itself. */
	if (ret == 0 && stats.how == RULE_RECOVER_SALVAGE && !stats.dropped)
		ret = -ENOENT;
	if (ret == 0)
		ret = io_renameat(s->io, dfd, tmp, dfd, key, 0);
	vfd = ret == 0 ? io_reopen(s->io, out, O_RDONLY) : ret;
	if (ret < 0 || vfd < 0)
		io_unlinkat(s->io, dfd, ret < 0 ? tmp : key, false);
	if (data >= 0)
		io_close(s->io, data);
	io_close(s->io, out);
	return vfd;
}

int store_recovered_view(struct store *s, int fd, int *view_fd,
			 struct stat *view_st)
{
	char relpath[PATH_MAX], key[KEY_MAX], prefix[KEY_MAX];
	struct rule_policy pol;
	enum rule_recover how;
	struct timespec now;
	struct stat st;
	int dfd, vfd, ret;

	ret = io_fstatat_empty(s->io, fd, &st);
	if (ret < 0)
		return ret;
	if (!S_ISREG(st.st_mode) || !store_known_damaged(s, fd, &st))
		return 0;
	ret = io_relpath(s->io, fd, relpath, sizeof(relpath));
	if (ret < 0)
		return ret == -ENOENT ? 0 : ret;
	salvage_policy(s->io, fd, s->rules, relpath, &pol);
	how = salvage_method(&pol);
	if (how == RULE_RECOVER_OFF)
		return 0;
	cache_key(&st, &pol, how, key, sizeof(key));
	ret = open_cache_dir(s, true, &dfd);
	if (ret < 0)
		return ret;
	vfd = io_openat(s->io, dfd, key, O_RDONLY, 0);
	if (vfd == -ENOENT) {
		/* Views of older states of this file are stale from now on. */
		key_prefix(&st, prefix, sizeof(prefix));
		clock_gettime(CLOCK_REALTIME, &now);
		prune(s, dfd, prefix, key, &now);
		vfd = how == RULE_RECOVER_LAST_GOOD
			      ? view_last_good(s, dfd, relpath, &pol, key)
			      : view_salvage(s, dfd, fd, relpath, &pol, key);
	}
	ret = vfd < 0 ? vfd : io_fstat(s->io, vfd, view_st);
	if (ret == 0) {
		*view_fd = vfd;
		ret = 1;
	} else if (vfd >= 0) {
		io_close(s->io, vfd);
	}
	io_close(s->io, dfd);
	return ret;
}

void store_recovered_forget(struct store *s, const struct stat *st)
{
	char prefix[KEY_MAX];
	int dfd;

	if (open_cache_dir(s, false, &dfd) < 0)
		return;
	key_prefix(st, prefix, sizeof(prefix));
	prune(s, dfd, prefix, NULL, NULL);
	io_close(s->io, dfd);
}
