// SPDX-License-Identifier: GPL-2.0-or-later
/* Tree walks and the versions of one file. */
#include "config.h"

#include "hydractl.h"

#include "core/version.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static bool is_skipped(const char *name, const char *const *skip)
{
	for (; skip && *skip; skip++) {
		if (!strcmp(name, *skip))
			return true;
	}
	return false;
}

/* Walks the content of dir @rel; 0 or -ENOMEM (other errors go to @fn). */
static int walk_dir(struct io *io, const char *rel, const char *const *skip,
		    walk_fn *fn, void *ctx)
{
	struct io_dir *d;
	unsigned char type;
	const char *name;
	off_t pos = 0;
	int ret;

	ret = io_opendir(io, *rel ? rel : ".", &d);
	if (ret < 0) {
		fn(ctx, rel, NULL, ret);
		return 0;
	}
	while ((ret = io_readdir(io, d, pos, &name, &type, &pos, NULL)) > 0) {
		struct stat st;
		char *child;

		if (!strcmp(name, ".") || !strcmp(name, "..") ||
		    (!*rel && is_skipped(name, skip)))
			continue;
		child = target_join(rel, name);
		if (!child) {
			ret = -ENOMEM;
			break;
		}
		ret = io_dir_lstat(io, d, name, &st);
		if (ret < 0)
			fn(ctx, child, NULL, ret);
		else
			fn(ctx, child, &st, 0);
		if (ret == 0 && S_ISDIR(st.st_mode))
			ret = walk_dir(io, child, skip, fn, ctx);
		free(child);
		if (ret == -ENOMEM)
			break;
		ret = 0;
	}
	if (ret < 0 && ret != -ENOMEM)
		fn(ctx, rel, NULL, ret);
	io_closedir(d);
	return ret == -ENOMEM ? ret : 0;
}

int walk_tree(struct io *io, const char *rel, const char *const *skip,
	      walk_fn *fn, void *ctx)
{
	struct stat st;
	int ret;

	ret = io_lstat(io, *rel ? rel : ".", &st);
	if (ret < 0)
		return ret;
	fn(ctx, rel, &st, 0);
	if (!S_ISDIR(st.st_mode))
		return 0;
	return walk_dir(io, rel, skip, fn, ctx);
}

static int by_name(const void *a, const void *b)
{
	const struct vlist_entry *x = a, *y = b;

	return strcmp(x->name, y->name);
}

int vlist_load(const char *vdir, const char *rel, struct vlist_entry **out,
	       size_t *n)
{
	struct vlist_entry *v = NULL, *grown;
	size_t count = 0;
	struct dirent *de;
	char *path;
	DIR *dp;
	int fd, ret = 0;

	path = target_join(vdir, rel);
	if (!path)
		return -ENOMEM;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	free(path);
	if (fd < 0 && errno == ENOENT) {
		*out = NULL;
		*n = 0;
		return 0;
	}
	if (fd < 0)
		return -errno;
	dp = fdopendir(fd);
	if (!dp) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(dp))) {
		struct vlist_entry e = { 0 };

		if (!version_name_is_valid(de->d_name) ||
		    fstatat(fd, de->d_name, &e.st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(e.st.st_mode) ||
		    vlist_parse_time(de->d_name, &e.ms) < 0)
			continue;
		e.name = strdup(de->d_name);
		grown = e.name ? realloc(v, (count + 1) * sizeof(*v)) : NULL;
		if (!grown) {
			free(e.name);
			ret = -ENOMEM;
			break;
		}
		v = grown;
		v[count++] = e;
	}
	closedir(dp);
	if (ret < 0) {
		vlist_free(v, count);
		return ret;
	}
	if (count)
		qsort(v, count, sizeof(*v), by_name);
	*out = v;
	*n = count;
	return 0;
}

void vlist_free(struct vlist_entry *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].name);
	free(v);
}

/* Reads exactly @width digits; -1 when they are not there. */
static int digits(const char **s, int width)
{
	int v = 0;

	for (int i = 0; i < width; i++, (*s)++) {
		if (!isdigit((unsigned char)**s))
			return -1;
		v = v * 10 + (**s - '0');
	}
	return v;
}

/* Reads @sep or one of the separators in @alt; false when neither. */
static bool sep(const char **s, const char *alt)
{
	if (**s && strchr(alt, **s)) {
		(*s)++;
		return true;
	}
	return false;
}

/* The zone after a time: "Z", "+HH:MM", "-HHMM", "" (UTC); seconds east. */
static int parse_zone(const char *s, long *east)
{
	int h, m = 0, sign;

	*east = 0;
	if (!*s || ((*s == 'Z' || *s == 'z') && !s[1]))
		return 0;
	if (*s != '+' && *s != '-')
		return -EINVAL;
	sign = *s++ == '-' ? -1 : 1;
	h = digits(&s, 2);
	if (*s == ':')
		s++;
	if (*s)
		m = digits(&s, 2);
	if (h < 0 || m < 0 || *s || h > 23 || m > 59)
		return -EINVAL;
	*east = sign * (h * 3600L + m * 60L);
	return 0;
}

int vlist_parse_time(const char *s, int64_t *ms)
{
	struct tm tm = { 0 };
	int year, mon, day, h = 0, min = 0, sec = 0, frac = 0;
	bool name_form = false;
	long east = 0;
	time_t t;

	year = digits(&s, 4);
	mon = sep(&s, "-") ? digits(&s, 2) : -1;
	day = sep(&s, "-") ? digits(&s, 2) : -1;
	if (year < 0 || mon < 1 || mon > 12 || day < 1 || day > 31)
		return -EINVAL;
	if (sep(&s, "T t")) {
		h = digits(&s, 2);
		name_form = *s == '-';
		min = sep(&s, name_form ? "-" : ":") ? digits(&s, 2) : -1;
		if (sep(&s, name_form ? "-" : ":"))
			sec = digits(&s, 2);
		if (h < 0 || h > 23 || min < 0 || min > 59 || sec < 0 ||
		    sec > 60)
			return -EINVAL;
		if (sep(&s, ".,")) {
			int n = 0;

			for (; isdigit((unsigned char)*s); s++, n++) {
				if (n < 3)
					frac = frac * 10 + (*s - '0');
			}
			if (n == 0)
				return -EINVAL;
			for (; n < 3; n++)
				frac *= 10;
		}
	}
	/* A version name: its extension and ~NNN follow the Z. */
	if (name_form) {
		if (*s != 'Z')
			return -EINVAL;
	} else if (parse_zone(s, &east) < 0) {
		return -EINVAL;
	}
	tm.tm_year = year - 1900;
	tm.tm_mon = mon - 1;
	tm.tm_mday = day;
	tm.tm_hour = h;
	tm.tm_min = min;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*ms = ((int64_t)t - east) * 1000 + frac;
	return 0;
}

void vlist_format_time(int64_t ms, char *buf)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	size_t len;

	if (!gmtime_r(&t, &tm)) {
		strcpy(buf, "?");
		return;
	}
	len = strftime(buf, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + len, 32 - len, ".%03uZ", (unsigned int)(ms % 1000) % 1000);
}
