// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * salvage: the recovered view of a damaged file, from its valid records or
 * from its newest version that verifies (salvage.h).
 */
#include "config.h"

#include "salvage.h"

#include "append.h"
#include "record.h"
#include "verify.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK (256 * 1024)
/* The scans may read this much more than the file (see salvage.h). */
#define RESCAN_FACTOR 4
#define RESCAN_SLACK (16ULL << 20)

/* Why a salvage falls back to the last good version. */
#define WHY_HEADER "the header is damaged"
#define WHY_NO_RECORD "no record is valid"

/* A strict UTF-8 decoder, one byte at a time, for text lines. */
struct utf8 {
	unsigned int need;	/* continuation bytes still expected */
	unsigned char lo, hi;	/* the range of the next one */
};

struct salvage {
	struct io *io;
	int src, out;
	const struct format_ops *ops;
	void *state;		/* the validator's */
	bool has_header;	/* csv, tsv */
	bool is_text;
	unsigned char *buf;	/* the chunk being fed */
	unsigned char *copy;	/* for bytes outside it */
	uint64_t chunk_off;	/* file offset of buf[0] */
	size_t chunk_len;	/* 0: buf holds no file bytes */
	/*
	 * The validator's offsets plus @delta are the file's; offsets up to
	 * @skip_below are the header fed again before a rescan.
	 */
	uint64_t delta;
	uint64_t skip_below;
	bool stop;		/* this scan ends: ignore further records */
	uint64_t restart;	/* where the next scan starts, 0: none */
	uint64_t read_total, read_budget;
	/* Kept bytes not written yet: [run_from, run_to) of the file. */
	uint64_t run_from, run_to;
	uint64_t out_off;
	uint64_t header_end;	/* 0: no header kept (yet) */
	bool header_bad;
	uint64_t kept_data;	/* records kept, the header aside */
	int err;		/* first failure inside a callback */
	/* text */
	struct utf8 u;
	uint64_t scanned;	/* bytes of the file the decoder has seen */
	const char *line_bad;	/* why the current line is dropped, or NULL */
	struct salvage_stats *stats;
};

static void utf8_reset(struct utf8 *u)
{
	u->need = 0;
	u->lo = 0x80;
	u->hi = 0xbf;
}

/* Feeds one byte; false when the byte makes the sequence invalid. */
static bool utf8_step(struct utf8 *u, unsigned char c)
{
	if (u->need) {
		if (c < u->lo || c > u->hi)
			return false;
		u->need--;
		u->lo = 0x80;
		u->hi = 0xbf;
		return true;
	}
	if (c < 0x80)
		return true;
	if (c >= 0xc2 && c <= 0xdf)
		u->need = 1;
	else if (c >= 0xe0 && c <= 0xef)
		u->need = 2;
	else if (c >= 0xf0 && c <= 0xf4)
		u->need = 3;
	else
		return false;
	/* The second byte's range rules out overlongs, surrogates, > U+10FFFF. */
	if (c == 0xe0)
		u->lo = 0xa0;
	else if (c == 0xed)
		u->hi = 0x9f;
	else if (c == 0xf0)
		u->lo = 0x90;
	else if (c == 0xf4)
		u->hi = 0x8f;
	return true;
}

/*
 * Text: runs the decoder over the file's bytes up to @to (they are in the
 * current chunk: the decoder always catches up at the end of a feed).
 */
static void text_scan_to(struct salvage *s, uint64_t to)
{
	const unsigned char *p, *end;

	if (s->scanned >= to || s->scanned < s->chunk_off)
		return;
	p = s->buf + (s->scanned - s->chunk_off);
	end = s->buf + (to - s->chunk_off);
	for (; p < end && !s->line_bad; p++) {
		if (!*p)
			s->line_bad = "nul byte";
		else if (!utf8_step(&s->u, *p))
			s->line_bad = "invalid utf-8";
	}
	s->scanned = to;
}

/*
 * The source's bytes from @from (before @to): in the chunk being scanned,
 * else read again; *@p points at them.  Their count, or -errno (-ESTALE:
 * the file is shorter than it was).
 */
static ssize_t source_at(struct salvage *s, uint64_t from, uint64_t to,
			 const unsigned char **p)
{
	uint64_t chunk_end = s->chunk_off + s->chunk_len;
	size_t len;
	ssize_t n;

	if (s->chunk_len && from >= s->chunk_off && from < chunk_end) {
		*p = s->buf + (from - s->chunk_off);
		return (ssize_t)((to < chunk_end ? to : chunk_end) - from);
	}
	len = to - from < CHUNK ? (size_t)(to - from) : CHUNK;
	n = io_pread(s->io, s->src, s->copy, len, (off_t)from);
	if (n <= 0)
		return n < 0 ? n : -ESTALE;
	*p = s->copy;
	return n;
}

/* Writes bytes [@from, @to) of the source to the view. */
static int copy_out(struct salvage *s, uint64_t from, uint64_t to)
{
	const unsigned char *p;
	ssize_t len, w;

	while (from < to) {
		len = source_at(s, from, to, &p);
		if (len < 0)
			return (int)len;
		for (ssize_t done = 0; done < len; done += w) {
			w = io_pwrite(s->io, s->out, p + done, (size_t)(len - done),
				      (off_t)(s->out_off + (uint64_t)done));
			if (w < 0)
				return (int)w;
			if (w == 0)
				return -EIO;
		}
		s->out_off += (uint64_t)len;
		from += (uint64_t)len;
	}
	return 0;
}

/* Writes the kept bytes not written yet. */
static int flush_run(struct salvage *s)
{
	int ret = copy_out(s, s->run_from, s->run_to);

	s->run_from = s->run_to;
	return ret;
}

/* The offset just after the first '\n' in [@from, @to) of the source, or 0. */
static int64_t first_line_end(struct salvage *s, uint64_t from, uint64_t to)
{
	const unsigned char *p, *nl;
	ssize_t len;

	while (from < to) {
		len = source_at(s, from, to, &p);
		if (len < 0)
			return len;
		nl = memchr(p, '\n', (size_t)len);
		if (nl)
			return (int64_t)(from + (uint64_t)(nl - p) + 1);
		from += (uint64_t)len;
	}
	return 0;
}

static void keep(struct salvage *s, uint64_t from, uint64_t to)
{
	if (s->has_header && from == 0)
		s->header_end = to;
	else
		s->kept_data++;
	if (from != s->run_to) {
		s->err = flush_run(s);
		s->run_from = from;
	}
	s->run_to = to;
	s->stats->kept++;
}

static void drop(struct salvage *s, uint64_t from, uint64_t to,
		 const char *reason)
{
	struct salvage_stats *st = s->stats;
	int64_t nl;

	if (s->has_header && from == 0) {
		/* Without its header a row's fields mean nothing: last-good. */
		s->header_bad = true;
		s->stop = true;
		return;
	}
	s->err = flush_run(s);
	if (!st->dropped++) {
		st->first_offset = from;
		st->first_reason = reason;
	}
	/* Several lines: only the first is lost, the rest is scanned again. */
	nl = first_line_end(s, from, to);
	if (nl < 0) {
		s->err = (int)nl;
		return;
	}
	if (nl > 0 && (uint64_t)nl < to && s->read_total <= s->read_budget) {
		s->stop = true;
		s->restart = (uint64_t)nl;
		to = (uint64_t)nl;
	}
	st->dropped_bytes += to - from;
	s->run_from = s->run_to = to;
}

static void on_record(void *ctx, uint64_t start, uint64_t end,
		      const struct format_error *err)
{
	struct salvage *s = ctx;
	const char *reason = err ? err->reason : NULL;

	if (s->stop || s->err || end <= s->skip_below)
		return;
	start += s->delta;
	end += s->delta;
	if (s->is_text) {
		text_scan_to(s, end);
		/* A sequence cut by the end of the content is invalid too. */
		if (!s->line_bad && s->u.need)
			s->line_bad = "invalid utf-8";
		reason = s->line_bad;
		s->line_bad = NULL;
		utf8_reset(&s->u);
	}
	if (err || reason)
		drop(s, start, end, reason ? reason : "invalid");
	else
		keep(s, start, end);
}

/* Feeds bytes [@from, @to) of the source to the validator, chunk by chunk. */
static int feed_range(struct salvage *s, uint64_t from, uint64_t to,
		      bool priming)
{
	ssize_t n;
	int ret;

	while (from < to && !s->stop) {
		size_t want = to - from < CHUNK ? (size_t)(to - from) : CHUNK;

		n = io_pread(s->io, s->src, s->buf, want, (off_t)from);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return priming ? -ESTALE : 0;
		/* The header fed again is not the file's bytes at its offsets. */
		s->chunk_off = from;
		s->chunk_len = priming ? 0 : (size_t)n;
		s->read_total += (uint64_t)n;
		ret = s->ops->feed(s->state, s->buf, (size_t)n);
		if (ret == -ENOMEM)
			return ret;
		if (s->is_text)
			text_scan_to(s, from + (uint64_t)n);
		if (s->err)
			return s->err;
		if (!priming && !s->stop) {
			ret = flush_run(s);
			if (ret < 0)
				return ret;
		}
		from += (uint64_t)n;
	}
	return 0;
}

/*
 * One scan of the validator from @from to the end of the file; it stops
 * early at a multi-line invalid record (s->restart says where to go on).
 */
static int scan_from(struct salvage *s, uint64_t from)
{
	struct format_error e;
	int ret;

	ret = s->ops->init(s->state, on_record, s);
	if (ret < 0)
		return ret;
	s->stop = false;
	s->restart = 0;
	s->delta = from;
	s->skip_below = 0;
	s->run_from = s->run_to = from;
	if (from > 0 && s->header_end) {
		/* The header first, so that rows are checked against it. */
		s->skip_below = s->header_end;
		s->delta = from - s->header_end;
		ret = feed_range(s, 0, s->header_end, true);
	}
	if (ret == 0)
		ret = feed_range(s, from, UINT64_MAX, false);
	/* Reports the final record, without its line end. */
	if (ret == 0 && !s->stop && s->ops->finish(s->state, &e) == -ENOMEM)
		ret = -ENOMEM;
	if (ret == 0)
		ret = s->err;
	if (ret == 0)
		ret = flush_run(s);
	s->ops->release(s->state);
	return ret;
}

/* Salvages the records of @fd into @out; see salvage.h. */
static int salvage_records(struct salvage *s)
{
	uint64_t from = 0;
	struct stat st;
	int ret;

	ret = io_fstat(s->io, s->src, &st);
	if (ret < 0)
		return ret;
	s->read_budget = RESCAN_FACTOR * (uint64_t)st.st_size + RESCAN_SLACK;
	s->state = malloc(s->ops->state_size);
	s->buf = malloc(CHUNK);
	s->copy = malloc(CHUNK);
	if (!s->state || !s->buf || !s->copy) {
		ret = -ENOMEM;
		goto out_free;
	}
	utf8_reset(&s->u);
	do {
		ret = scan_from(s, from);
		from = s->restart;
	} while (ret == 0 && from && !s->header_bad);
out_free:
	free(s->copy);
	free(s->buf);
	free(s->state);
	return ret;
}

/* Copies all of @src into @out from offset 0; its length in *@len. */
static int copy_file(struct io *io, int src, int out, uint64_t *len)
{
	unsigned char *buf = malloc(CHUNK);
	uint64_t off = 0;
	ssize_t n, w;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while ((n = io_pread(io, src, buf, CHUNK, (off_t)off)) > 0) {
		for (ssize_t done = 0; done < n; done += w) {
			w = io_pwrite(io, out, buf + done, (size_t)(n - done),
				      (off_t)off + done);
			if (w <= 0) {
				ret = w < 0 ? (int)w : -EIO;
				goto out_free;
			}
		}
		off += (uint64_t)n;
	}
	if (n < 0)
		ret = (int)n;
	*len = off;
out_free:
	free(buf);
	return ret;
}

/* Opens versions/@relpath/ one component at a time, never through a symlink. */
static int open_version_dir(struct io *io, int versionsfd, const char *relpath)
{
	char path[PATH_MAX], *comp, *save = NULL;
	int dfd = versionsfd, nfd;

	if (strlen(relpath) >= sizeof(path))
		return -ENAMETOOLONG;
	strcpy(path, relpath);
	for (comp = strtok_r(path, "/", &save); comp;
	     comp = strtok_r(NULL, "/", &save)) {
		nfd = io_openat(io, dfd, comp, O_PATH | O_DIRECTORY, 0);
		if (dfd != versionsfd)
			io_close(io, dfd);
		if (nfd < 0)
			return nfd;
		dfd = nfd;
	}
	return dfd == versionsfd ? -EINVAL : dfd;
}

static int cmp_newest_first(const void *a, const void *b)
{
	return strcmp(*(char *const *)b, *(char *const *)a);
}

/* The names of the versions in @dfd, newest first; caller frees each and *@out. */
static int list_versions(struct io *io, int dfd, char ***out, size_t *n_out)
{
	struct io_dir *d;
	const char *name;
	unsigned char type;
	off_t pos = 0, next;
	char **v = NULL, **grown;
	size_t n = 0, cap = 0;
	int ret;

	ret = io_opendir_fd(io, dfd, &d);
	if (ret < 0)
		return ret;
	while ((ret = io_readdir(io, d, pos, &name, &type, &next, NULL)) == 1) {
		pos = next;
		if (!version_name_is_valid(name))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown) {
				ret = -ENOMEM;
				break;
			}
			v = grown;
		}
		v[n] = strdup(name);
		if (!v[n]) {
			ret = -ENOMEM;
			break;
		}
		n++;
	}
	io_closedir(d);
	if (ret < 0) {
		while (n)
			free(v[--n]);
		free(v);
		return ret;
	}
	qsort(v, n, sizeof(*v), cmp_newest_first);
	*out = v;
	*n_out = n;
	return 0;
}

/*
 * Whether the version open at @fd is good content: it verifies, was not
 * accepted invalid by a rule, and is a version, not an append checkpoint.
 */
static int is_good_version(struct io *io, int fd, enum format_kind kind,
			   struct stat *st)
{
	struct verify_result v;
	int ret;

	ret = io_fstat(io, fd, st);
	if (ret < 0)
		return ret;
	if (!S_ISREG(st->st_mode))
		return 0;
	if (io_getxattr_fd(io, fd, CHECKPOINT_XATTR, NULL, 0) >= 0)
		return 0;
	ret = verify_fd(io, fd, st, kind, NULL, NULL, &v);
	if (ret < 0)
		return ret;
	if (v.state == VERIFY_DAMAGED)
		return 0;
	return !(v.has_record && v.record.state == RECORD_INVALID);
}

int salvage_last_good(struct io *io, int versionsfd, const char *relpath,
		      enum format_kind kind, int *out,
		      struct salvage_stats *stats)
{
	struct stat st;
	char **names;
	size_t n = 0, i;
	int dfd, fd = -1, ret;

	dfd = open_version_dir(io, versionsfd, relpath);
	if (dfd < 0)
		return dfd == -ENOTDIR ? -ENOENT : dfd;
	ret = list_versions(io, dfd, &names, &n);
	for (i = 0; ret == 0 && i < n; i++) {
		fd = io_openat(io, dfd, names[i], O_RDONLY, 0);
		if (fd < 0)
			continue;
		ret = is_good_version(io, fd, kind, &st);
		if (ret > 0)
			break;
		io_close(io, fd);
		fd = -1;
		/* A version that cannot be read is not good; the next may be. */
		if (ret != -ENOMEM)
			ret = 0;
	}
	if (ret > 0) {
		stats->how = RULE_RECOVER_LAST_GOOD;
		stats->bytes = (uint64_t)st.st_size;
		strcpy(stats->version, names[i]);
		*out = fd;
		ret = 0;
	} else if (ret == 0) {
		ret = -ENOENT;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	if (n)
		free(names);
	io_close(io, dfd);
	return ret;
}

/*
 * The view is the newest good version, copied into @out; @why says why,
 * @why_none why there is no view when no version is good.
 */
static int build_last_good(struct io *io, int versionsfd, const char *relpath,
			   const struct rule_policy *pol, int out,
			   const char *why, const char *why_none,
			   struct salvage_stats *stats)
{
	uint64_t len = 0;
	int vfd, ret;

	stats->why = why;
	ret = salvage_last_good(io, versionsfd, relpath, pol->format, &vfd,
				stats);
	if (ret == -ENOENT) {
		stats->why = why_none;
		return ret;
	}
	if (ret < 0)
		return ret;
	ret = copy_file(io, vfd, out, &len);
	io_close(io, vfd);
	if (ret == 0) {
		stats->bytes = len;
		ret = io_ftruncate(io, out, (off_t)len);
	}
	return ret;
}

/* rules.h's default: salvage for the formats with records. */
static enum rule_recover default_recover(enum format_kind kind)
{
	const struct format_ops *ops = format_ops_of(kind);

	return ops && ops->has_records ? RULE_RECOVER_SALVAGE
				       : RULE_RECOVER_LAST_GOOD;
}

void salvage_policy(struct io *io, int fd, const struct rules *rules,
		    const char *relpath, struct rule_policy *out)
{
	char text[RECORD_TEXT_MAX];
	struct record r;
	ssize_t n;

	rules_lookup(rules, relpath, out);
	n = io_getxattr_fd(io, fd, RECORD_XATTR, text, sizeof(text));
	if (n <= 0 || record_parse(text, (size_t)n, &r) < 0 ||
	    r.format == out->format)
		return;
	/* A default follows the format, as in rules_lookup(). */
	if (out->recover == default_recover(out->format))
		out->recover = default_recover(r.format);
	out->format = r.format;
}

enum rule_recover salvage_method(const struct rule_policy *pol)
{
	const struct format_ops *ops = format_ops_of(pol->format);

	if (pol->recover == RULE_RECOVER_OFF)
		return RULE_RECOVER_OFF;
	if (pol->recover == RULE_RECOVER_LAST_GOOD || !ops ||
	    !ops->has_records)
		return RULE_RECOVER_LAST_GOOD;
	return RULE_RECOVER_SALVAGE;
}

int salvage_build(struct io *io, int versionsfd, const char *relpath, int fd,
		  const struct rule_policy *pol, int out_fd,
		  struct salvage_stats *stats)
{
	struct salvage s = {
		.io = io, .src = fd, .out = out_fd,
		.ops = format_ops_of(pol->format),
		.has_header = pol->format == FORMAT_CSV ||
			      pol->format == FORMAT_TSV,
		.is_text = pol->format == FORMAT_TEXT,
		.stats = stats,
	};
	int ret;

	memset(stats, 0, sizeof(*stats));
	stats->format = pol->format;
	stats->how = salvage_method(pol);
	if (stats->how == RULE_RECOVER_OFF) {
		stats->why = "recover = off";
		return -ENOENT;
	}
	if (stats->how == RULE_RECOVER_LAST_GOOD)
		return build_last_good(io, versionsfd, relpath, pol, out_fd,
				       NULL, "no version verifies", stats);
	ret = salvage_records(&s);
	if (ret < 0)
		return ret;
	if (s.header_bad || (stats->dropped && !s.kept_data)) {
		/* No view of the file from its records: its last good content. */
		memset(stats, 0, sizeof(*stats));
		stats->format = pol->format;
		if (s.header_bad)
			return build_last_good(io, versionsfd, relpath, pol,
					       out_fd, WHY_HEADER,
					       WHY_HEADER ", no version verifies",
					       stats);
		return build_last_good(io, versionsfd, relpath, pol, out_fd,
				       WHY_NO_RECORD,
				       WHY_NO_RECORD ", no version verifies",
				       stats);
	}
	stats->bytes = s.out_off;
	return io_ftruncate(io, out_fd, (off_t)s.out_off);
}
