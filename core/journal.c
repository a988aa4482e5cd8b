// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define RECORD_MAX 8192

struct journal {
	struct io *io;
	int fd;
};

static const char *const event_names[] = {
	[JOURNAL_COMMIT] = "commit",   [JOURNAL_VERSION] = "version",
	[JOURNAL_REJECT] = "reject",   [JOURNAL_RECOVER] = "recover",
	[JOURNAL_ORPHAN] = "orphan",   [JOURNAL_ADOPT] = "adopt",
	[JOURNAL_DAMAGE] = "damage",
};

int journal_open(struct io *io, int dirfd, const char *name,
		 struct journal **out)
{
	struct journal *j = calloc(1, sizeof(*j));

	if (!j)
		return -ENOMEM;
	j->io = io;
	j->fd = io_openat(io, dirfd, name, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (j->fd < 0) {
		int ret = j->fd;

		free(j);
		return ret;
	}
	*out = j;
	return 0;
}

void journal_close(struct journal *j)
{
	if (!j)
		return;
	io_close(j->io, j->fd);
	free(j);
}

struct out {
	char *p, *end;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->full || (size_t)(o->end - o->p) < n) {
		o->full = true;
		return;
	}
	memcpy(o->p, s, n);
	o->p += n;
}

static void __attribute__((format(printf, 2, 3)))
putf(struct out *o, const char *fmt, ...)
{
	char tmp[128];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		o->full = true;
	else
		put(o, tmp, (size_t)n);
}

/* A JSON string: quotes, escapes, control bytes as \u00XX. */
static void put_str(struct out *o, const char *s)
{
	put(o, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\') {
			char e[2] = { '\\', (char)c };

			put(o, e, 2);
		} else if (c < 0x20 || c == 0x7f) {
			putf(o, "\\u%04x", c);
		} else {
			put(o, s, 1);
		}
	}
	put(o, "\"", 1);
}

static void put_field(struct out *o, const char *key, const char *val)
{
	if (!val)
		return;
	putf(o, ",\"%s\":", key);
	put_str(o, val);
}

ssize_t journal_format(char *buf, size_t size, const struct timespec *now,
		       const struct journal_record *r)
{
	struct out o = { buf, buf + size, false };
	struct tm tm;
	char when[64];

	gmtime_r(&now->tv_sec, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &tm);
	putf(&o, "{\"time\":\"%s.%03ldZ\",\"event\":\"%s\"", when,
	     now->tv_nsec / 1000000, event_names[r->event]);
	put_field(&o, "path", r->path ? r->path : "");
	if (r->size >= 0)
		putf(&o, ",\"size\":%" PRId64, r->size);
	put_field(&o, "xxh128", r->checksum);
	put_field(&o, "prev", r->prev);
	put_field(&o, "detail", r->detail);
	put_field(&o, "format", r->format);
	if (r->line > 0)
		putf(&o, ",\"line\":%" PRIu64, r->line);
	if (r->line > 0 || r->reason)
		putf(&o, ",\"offset\":%" PRIu64, r->offset);
	put_field(&o, "reason", r->reason);
	putf(&o, ",\"uid\":%u,\"pid\":%d", (unsigned int)r->uid, (int)r->pid);
	put_field(&o, "comm", r->comm);
	put(&o, "}\n", 2);
	if (o.full)
		return -ENAMETOOLONG;
	return o.p - buf;
}

int journal_append(struct journal *j, const struct journal_record *r)
{
	char buf[RECORD_MAX];
	struct timespec now;
	ssize_t n, w;

	clock_gettime(CLOCK_REALTIME, &now);
	n = journal_format(buf, sizeof(buf), &now, r);
	if (n < 0)
		return (int)n;
	/* O_APPEND: the offset is ignored, the record lands whole at the end. */
	w = io_pwrite(j->io, j->fd, buf, (size_t)n, 0);
	if (w < 0)
		return (int)w;
	return w == n ? 0 : -EIO;
}
