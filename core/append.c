// SPDX-License-Identifier: GPL-2.0-or-later
/* Append mode: see append.h. */
#include "config.h"

#include "append.h"
#include "store_internal.h"

#include "format.h"
#include "journal.h"
#include "record.h"
#include "rules.h"
#include "version.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/*
 * An incomplete record may grow to PARTIAL_MAX bytes: past it a text line is
 * committed as it is, and a record of a stricter format makes the file leave
 * append mode (it is staged whole).  A queue past QUEUE_MAX is committed at
 * once, so memory stays bounded whatever the writers do.
 */
#define PARTIAL_MAX (1u << 20)
#define QUEUE_MAX (4u << 20)
/* How far the header of a CSV or TSV file is looked for. */
#define HEADER_MAX (64u * 1024)
#define CHUNK (256 * 1024)
/* A checkpoint at least this often while a file is appended to. */
#define CHECKPOINT_EVERY_SEC 3600
/* The length of the last checkpoint, on the file: no twin of it is made. */
#define CHECKPOINTED_XATTR "user.hydrafs.checkpointed"

struct append_set {
	struct store *s;
	unsigned int interval_ms;
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* the committer's timer; and stop */
	pthread_cond_t idle;	/* an append's last committer reference went */
	struct append *list;
	bool stop;
	bool running;
	pthread_t thread;
};

/* A record refused, kept until the commit files it under .rejected. */
struct reject {
	struct reject *next;
	uint64_t pos;		/* where it would have gone in the file */
	const char *reason;
	size_t len;
	char data[];
};

struct append {
	struct append_set *set;
	struct store *s;
	pthread_mutex_t lock;
	struct append *next;	/* on set->list, under set->lock */
	unsigned int refs;	/* the committer's, under set->lock */
	bool closing;		/* under set->lock */

	int fd;			/* the file, O_RDWR */
	char relpath[PATH_MAX];
	struct rule_policy policy;
	uint64_t committed;
	bool invalid;		/* holds records accepted though invalid */
	struct format_hasher *hash;	/* of [0, committed); NULL: no sum */
	struct format_hasher *spare;	/* to undo a failed commit */

	char *queue;		/* complete records, in order */
	size_t qlen, qcap;
	bool queue_invalid;
	struct reject *rejects, **rejects_tail;
	struct append_writer *writers;

	char marker[NAME_MAX + 1];	/* in staging/ */
	uint64_t checkpointed;	/* length of the last checkpoint */
	time_t checkpoint_time;

	append_commit_fn *cb;
	void *cb_arg;
	uint64_t told;		/* the length @cb was last told of */
	/* Bumped when a record without its line end is queued (see prime()). */
	unsigned long epoch;
	uid_t uid;
	pid_t pid;
	char comm[32];
};

struct append_writer {
	struct append *a;	/* NULL once detached */
	struct append_writer *next;
	const struct format_ops *ops;	/* record mode; NULL: opaque */
	void *state;
	bool priming;		/* feeding the file's header and tail */
	uint64_t prime_end;	/* priming: where the first record ended */
	unsigned long epoch;	/* a->epoch when its validator was primed */
	int error;		/* from the record callback */
	uint64_t base;		/* validator offset of buf[0] */
	uint64_t done;		/* validator offset past the last record */
	char *buf;		/* the incomplete record */
	size_t len, cap;
	pid_t pid;		/* the process that writes through it */
};

/* Buffers. */

static int grow(char **buf, size_t *cap, size_t need)
{
	size_t n = *cap ? *cap : 4096;
	char *p;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	p = realloc(*buf, n);
	if (!p)
		return -ENOMEM;
	*buf = p;
	*cap = n;
	return 0;
}

static int queue_add(struct append *a, const void *data, size_t len,
		     bool invalid)
{
	int ret = grow(&a->queue, &a->qcap, a->qlen + len);

	if (ret < 0)
		return ret;
	memcpy(a->queue + a->qlen, data, len);
	a->qlen += len;
	a->queue_invalid |= invalid;
	return 0;
}

static int reject_add(struct append *a, const void *data, size_t len,
		      const char *reason)
{
	struct reject *r = malloc(sizeof(*r) + len);

	if (!r)
		return -ENOMEM;
	r->next = NULL;
	r->pos = a->committed + a->qlen;
	r->reason = reason ? reason : "invalid";
	r->len = len;
	memcpy(r->data, data, len);
	*a->rejects_tail = r;
	a->rejects_tail = &r->next;
	return 0;
}

/* Writers' validators. */

/* A complete record of @w: queued, or set aside when invalid. */
static void on_record(void *ctx, uint64_t start, uint64_t end,
		      const struct format_error *err)
{
	struct append_writer *w = ctx;
	struct append *a = w->a;
	const char *data;
	size_t len;
	int ret;

	if (w->priming) {
		if (!w->prime_end)
			w->prime_end = end;
		return;
	}
	if (end <= w->base)
		return;
	/*
	 * A record begun in the file (its last record had no line end): the
	 * appended part goes in if the whole record is valid, else aside.
	 */
	if (start < w->base)
		start = w->base;
	data = w->buf + (start - w->base);
	len = (size_t)(end - start);
	if (err && a->policy.invalid != RULE_INVALID_ACCEPT)
		ret = reject_add(a, data, len, err->reason);
	else
		ret = queue_add(a, data, len, err != NULL);
	if (ret < 0 && !w->error)
		w->error = ret;
	w->done = end;
}

/* Copies what of [@from, @from + @len) of @src falls in the read. */
static size_t copy_part(char *buf, size_t size, uint64_t off, const char *src,
			uint64_t from, size_t len)
{
	uint64_t end = off + size, lo, hi;

	if (off >= from + len || end <= from)
		return 0;
	lo = off > from ? off : from;
	hi = end < from + len ? end : from + len;
	memcpy(buf + (lo - off), src + (lo - from), (size_t)(hi - lo));
	return (size_t)(hi - lo);
}

/*
 * Reads the content as the queue will leave it (the committed bytes, then
 * the queue), under a->lock; short only at its end or on an error.
 */
static ssize_t read_content(struct append *a, void *buf, size_t size,
			    uint64_t off)
{
	uint64_t total = a->committed + a->qlen;
	ssize_t n;

	if (off >= total)
		return 0;
	if (size > total - off)
		size = (size_t)(total - off);
	if (off < a->committed) {
		size_t want = a->committed - off < size
				      ? (size_t)(a->committed - off)
				      : size;

		n = io_pread(a->s->io, a->fd, buf, want, (off_t)off);
		if (n < (ssize_t)want)
			return n;
	}
	copy_part(buf, size, off, a->queue, a->committed, a->qlen);
	return (ssize_t)size;
}

/* Feeds [@from, @to) of the file to @w's validator, @one byte at a time
 * until a record ends; the bytes fed. */
static int64_t feed_file(struct append *a, struct append_writer *w,
			 uint64_t from, uint64_t to, bool one)
{
	unsigned char buf[4096];
	uint64_t off = from;

	while (off < to && !(one && w->prime_end)) {
		size_t want = to - off < sizeof(buf) ? (size_t)(to - off)
						     : sizeof(buf);
		ssize_t n = read_content(a, buf, want, off);

		if (n <= 0)
			return n < 0 ? n : -EIO;
		for (ssize_t i = 0; i < n && !(one && w->prime_end);
		     i += one ? 1 : n) {
			size_t k = one ? 1 : (size_t)n;

			if (w->ops->feed(w->state, buf + i, k) == -ENOMEM)
				return -ENOMEM;
			off += k;
		}
	}
	return (int64_t)(off - from);
}

/*
 * Where the file's last record begins when it has no line end (a final
 * record committed at a close), else the committed length: looked for in
 * the last HEADER_MAX bytes only.
 */
static uint64_t open_tail(struct append *a)
{
	unsigned char buf[4096];
	uint64_t total = a->committed + a->qlen, end = total, low;

	low = end > HEADER_MAX ? end - HEADER_MAX : 0;
	while (end > low) {
		size_t want = end - low < sizeof(buf) ? (size_t)(end - low)
						      : sizeof(buf);
		ssize_t n = read_content(a, buf, want, end - want);

		if (n < (ssize_t)want)
			return total;
		for (size_t i = want; i > 0; i--)
			if (buf[i - 1] == '\n')
				return end - want + i;
		end -= want;
	}
	return low == 0 ? 0 : total;
}

/*
 * Brings @w's validator to where the file's content leaves it, without
 * reporting records: the header of a CSV or TSV file (its first record,
 * fed a byte at a time so that the validator stops right after it,
 * quoted newlines and all), then the file's last record when it has no
 * line end, so that what the writer appends continues it (and is checked
 * with it: see on_record()).
 */
static int prime(struct append *a, struct append_writer *w)
{
	uint64_t total = a->committed + a->qlen, header = 0, tail;
	int64_t n = 0, fed = 0;

	w->epoch = a->epoch;
	w->base = w->done = 0;
	if (total == 0)
		return 0;
	w->priming = true;
	w->prime_end = 0;
	if (a->policy.format == FORMAT_CSV || a->policy.format == FORMAT_TSV) {
		n = feed_file(a, w, 0, total < HEADER_MAX ? total : HEADER_MAX,
			      true);
		header = n > 0 ? (uint64_t)n : 0;
		fed = n;
	}
	tail = open_tail(a);
	if (tail < header)
		tail = header;
	if (n >= 0 && tail < total) {
		n = feed_file(a, w, tail, total, false);
		fed += n > 0 ? n : 0;
	}
	w->priming = false;
	w->base = w->done = (uint64_t)(fed > 0 ? fed : 0);
	return n < 0 ? (int)n : 0;
}

static int writer_start(struct append *a, struct append_writer *w)
{
	int ret;

	w->base = w->done = 0;
	w->len = 0;
	if (!w->ops)
		return 0;
	ret = w->ops->init(w->state, on_record, w);
	return ret < 0 ? ret : prime(a, w);
}

static void *state_alloc(const struct format_ops *ops)
{
	size_t align = _Alignof(max_align_t);

	return aligned_alloc(align, (ops->state_size + align - 1) & ~(align - 1));
}

int append_writer_new(struct append *a, struct append_writer **out)
{
	struct append_writer *w = calloc(1, sizeof(*w));
	const struct format_ops *ops;
	int ret;

	if (!w)
		return -ENOMEM;
	ops = format_ops_of(a->policy.format);
	if (ops && ops->has_records) {
		w->ops = ops;
		w->state = state_alloc(ops);
		if (!w->state) {
			free(w);
			return -ENOMEM;
		}
	}
	w->a = a;
	pthread_mutex_lock(&a->lock);
	ret = writer_start(a, w);
	if (ret == 0) {
		w->next = a->writers;
		a->writers = w;
	}
	pthread_mutex_unlock(&a->lock);
	if (ret < 0) {
		if (w->ops)
			w->ops->release(w->state);
		free(w->state);
		free(w);
		return ret;
	}
	*out = w;
	return 0;
}

/* Takes @w off its file's list; under a->lock. */
static void writer_detach(struct append_writer *w)
{
	struct append_writer **p;

	if (!w->a)
		return;
	for (p = &w->a->writers; *p; p = &(*p)->next)
		if (*p == w) {
			*p = w->next;
			break;
		}
	w->a = NULL;
	w->len = 0;
}

static void writer_destroy(struct append_writer *w)
{
	if (w->ops)
		w->ops->release(w->state);
	free(w->state);
	free(w->buf);
	free(w);
}

void append_writer_free(struct append_writer *w)
{
	struct append *a;

	if (!w)
		return;
	a = w->a;
	if (a) {
		pthread_mutex_lock(&a->lock);
		writer_detach(w);
		pthread_mutex_unlock(&a->lock);
	}
	writer_destroy(w);
}

bool append_writer_attached(const struct append_writer *w)
{
	return w && w->a;
}

/* Drops the bytes of @w's buffer that records took. */
static void writer_compact(struct append_writer *w)
{
	size_t used = (size_t)(w->done - w->base);

	if (w->done <= w->base)
		return;
	memmove(w->buf, w->buf + used, w->len - used);
	w->len -= used;
	w->base = w->done;
}

/* @w's incomplete record, queued as it is (text, opaque: any bytes do). */
static int writer_cut(struct append *a, struct append_writer *w)
{
	int ret = w->len ? queue_add(a, w->buf, w->len, false) : 0;

	if (ret == 0 && w->len)
		a->epoch++; /* the file now ends inside a line */

	if (ret == 0)
		ret = writer_start(a, w);
	return ret;
}

/* Commits; the caller tells the callback when the length changed. */
static int commit_locked(struct append *a, bool durable);

/*
 * Tells the callback of a new committed length; under a->lock, which it is
 * called without.  Not from a write: the kernel may hold the pages being
 * written while it waits for it (the committer tells of those commits).
 */
static void tell_unlock_from(struct append *a, bool idle)
{
	uint64_t old_len = a->told, new_len = a->committed;

	a->told = new_len;
	pthread_mutex_unlock(&a->lock);
	if (a->cb && old_len != new_len)
		a->cb(a->cb_arg, old_len, new_len, idle);
}

static void tell_unlock(struct append *a)
{
	tell_unlock_from(a, false);
}

/* @w's bytes: complete records go to the queue, the rest stays. */
static int feed_bytes(struct append *a, struct append_writer *w,
		      const void *buf, size_t len)
{
	int ret = grow(&w->buf, &w->cap, w->len + len);

	if (ret < 0)
		return ret;
	memcpy(w->buf + w->len, buf, len);
	w->len += len;
	w->error = 0;
	ret = w->ops->feed(w->state, buf, len);
	if (ret == -EINVAL)
		ret = 0; /* record mode: the verdicts went to on_record() */
	if (ret == 0)
		ret = w->error;
	writer_compact(w);
	if (ret == 0 && a->policy.format == FORMAT_TEXT && w->len > PARTIAL_MAX)
		ret = writer_cut(a, w);
	return ret;
}

/*
 * A record without its line end was committed since @w's validator was
 * primed: @w's bytes now continue that record, so it starts over from the
 * file's new end and takes its incomplete record again.
 */
static int writer_refeed(struct append *a, struct append_writer *w)
{
	char *old = w->buf;
	size_t len = w->len;
	int ret;

	w->buf = NULL;
	w->len = w->cap = 0;
	w->ops->release(w->state);
	ret = writer_start(a, w);
	if (ret == 0 && len)
		ret = feed_bytes(a, w, old, len);
	free(old);
	return ret;
}

ssize_t append_write(struct append *a, struct append_writer *w,
		     const void *buf, size_t len)
{
	bool strict = a->policy.format != FORMAT_TEXT && w->ops;
	int ret = 0;

	pthread_mutex_lock(&a->lock);
	if (!w->ops) {
		/* Opaque: no records; every write is one. */
		ret = queue_add(a, buf, len, false);
		goto out_commit;
	}
	/*
	 * Memory stays bounded: an incomplete record may not grow past
	 * PARTIAL_MAX (plus one write) in a format whose records must stay
	 * whole; the file then leaves append mode.
	 */
	if (strict && w->len && w->len + len > PARTIAL_MAX) {
		pthread_mutex_unlock(&a->lock);
		return -EXFULL;
	}
	if (w->epoch != a->epoch)
		ret = writer_refeed(a, w);
	if (ret == 0)
		ret = feed_bytes(a, w, buf, len);
out_commit:
	if (ret == 0 && a->qlen >= QUEUE_MAX)
		ret = commit_locked(a, false);
	pthread_mutex_unlock(&a->lock);
	return ret < 0 ? ret : (ssize_t)len;
}

/*
 * Whether @data validates as one record of @a's file on its own (after the
 * file's header): a fresh validator, so that @w's is not disturbed.
 */
/* valid_alone()'s records: priming as on_record(), then any error counts. */
static void check_record(void *ctx, uint64_t start, uint64_t end,
			 const struct format_error *err)
{
	struct append_writer *t = ctx;

	(void)start;
	if (t->priming) {
		if (!t->prime_end)
			t->prime_end = end;
		return;
	}
	if (err && end > t->base)
		t->error = -EINVAL;
}


static bool valid_alone(struct append *a, const struct append_writer *w,
			const char *data, size_t len)
{
	struct append_writer t = { .a = a, .ops = w->ops };
	struct format_error err;
	bool valid = false;

	t.state = state_alloc(w->ops);
	if (!t.state)
		return false;
	if (w->ops->init(t.state, check_record, &t) == 0) {
		if (prime(a, &t) == 0 &&
		    w->ops->feed(t.state, (const unsigned char *)data, len) !=
			    -ENOMEM &&
		    w->ops->finish(t.state, &err) == 0)
			valid = t.error == 0;
		w->ops->release(t.state);
	}
	free(t.state);
	return valid;
}

/*
 * Ends @w's incomplete record.  @final: the handle is gone, an invalid one
 * is set aside; else (a close() while the handle may go on) only one that
 * is whole on its own ends: a process that forks and closes its copy must
 * not cut its parent's record in two.
 */
static int writer_end(struct append *a, struct append_writer *w, bool final)
{
	struct format_error err = { 0 };
	int ret;

	if (!w->len)
		return 0;
	if (!w->ops || a->policy.format == FORMAT_TEXT)
		return writer_cut(a, w);
	if (!final && !valid_alone(a, w, w->buf, w->len))
		return 0;
	w->error = 0;
	ret = w->ops->finish(w->state, &err);
	if (ret == 0)
		ret = w->error;
	if (ret < 0)
		return ret;
	/* Committed without its line end: the other writers must know. */
	a->epoch++;
	w->ops->release(w->state);
	return writer_start(a, w);
}

int append_writer_flush(struct append *a, struct append_writer *w)
{
	int ret;

	pthread_mutex_lock(&a->lock);
	ret = writer_end(a, w, false);
	if (ret == 0)
		ret = commit_locked(a, false);
	tell_unlock(a);
	return ret;
}

/* The handle is gone: its incomplete record ends whatever it holds. */
static int writer_release(struct append *a, struct append_writer *w)
{
	int ret = writer_end(a, w, true);

	writer_detach(w);
	return ret;
}

/* Commits. */

/* The record of the committed content, on the file. */
static int put_record(struct append *a, const struct stat *st)
{
	char text[RECORD_TEXT_MAX], saved[FORMAT_HASHER_SAVED_MAX];
	struct record rec = {
		.format = a->policy.format,
		.state = a->invalid ? RECORD_INVALID : RECORD_OK,
		.size = a->committed,
		.mtime_sec = st->st_mtim.tv_sec,
		.mtime_nsec = (uint32_t)st->st_mtim.tv_nsec,
		.ino = st->st_ino,
		.has_sum = a->hash != NULL,
	};
	size_t n;
	int ret;

	if (a->hash) {
		format_hasher_sum(a->hash, &rec.sum);
		n = format_hasher_save(a->hash, saved, sizeof(saved));
		/* Without it the next session hashes the file once. */
		if (n)
			io_fsetxattr(a->s->io, a->fd, HASH_XATTR, saved, n, 0);
	}
	n = record_format(&rec, text);
	ret = io_fsetxattr(a->s->io, a->fd, RECORD_XATTR, text, n, 0);
	return ret;
}

/* Files the refused records under .rejected, in order. */
static void file_rejects(struct append *a)
{
	const char *base = strrchr(a->relpath, '/');
	char name[VERSION_NAME_MAX], where[PATH_MAX + VERSION_NAME_MAX + 16];
	struct stat st;
	int dfd = -1;

	base = base ? base + 1 : a->relpath;
	if (io_fstat(a->s->io, a->fd, &st) < 0 ||
	    store_rejected_dir(a->s, a->relpath, &st, &dfd) < 0)
		dfd = -1;
	while (a->rejects) {
		struct reject *r = a->rejects;
		int fd = dfd < 0 ? -EIO
				 : store_create_version(a->s, dfd, base, name,
							sizeof(name));

		if (fd >= 0) {
			io_pwrite(a->s->io, fd, r->data, r->len, 0);
			io_fchown(a->s->io, fd, st.st_uid, st.st_gid);
			io_fchmod(a->s->io, fd, st.st_mode & 07777);
			io_close(a->s->io, fd);
			snprintf(where, sizeof(where), "%s/%s/%s", REJECTED_NAME,
				 a->relpath, name);
		}
		journal_append(a->s->journal, &(struct journal_record){
			.event = JOURNAL_REJECT, .path = a->relpath,
			.size = (int64_t)r->len,
			.prev = fd >= 0 ? where : NULL,
			.detail = fd >= 0 ? "record refused, kept under "
					    BACKUPS_NAME "/" REJECTED_NAME
					  : "record refused; it could not be kept",
			.format = format_kind_name(a->policy.format),
			.offset = r->pos, .reason = r->reason,
			.uid = a->uid, .pid = a->pid, .comm = a->comm,
		});
		if (fd >= 0) {
			char flag[sizeof(where) + 64];
			int n = snprintf(flag, sizeof(flag),
					 "record refused at byte %" PRIu64
					 "; kept as %s/%s",
					 r->pos, BACKUPS_NAME, where);

			io_fsetxattr(a->s->io, a->fd, REJECTED_XATTR, flag,
				     n < (int)sizeof(flag) ? (size_t)n
							   : sizeof(flag) - 1,
				     0);
		}
		a->rejects = r->next;
		free(r);
	}
	a->rejects_tail = &a->rejects;
	if (dfd >= 0)
		close(dfd);
}

static int checkpoint(struct append *a);

/* Writes all of @buf at @off. */
static int write_all(struct io *io, int fd, const char *buf, size_t len,
		     uint64_t off)
{
	while (len) {
		ssize_t n = io_pwrite(io, fd, buf, len, (off_t)off);

		if (n < 0)
			return (int)n;
		if (n == 0)
			return -EIO;
		buf += n;
		len -= (size_t)n;
		off += (uint64_t)n;
	}
	return 0;
}

static int commit_locked(struct append *a, bool durable)
{
	uint64_t len = a->qlen;
	struct stat st;
	int ret = 0;

	if (a->rejects)
		file_rejects(a);
	if (len) {
		if (a->hash) {
			format_hasher_copy(a->spare, a->hash);
			format_hasher_update(a->hash, a->queue, len);
		}
		ret = write_all(a->s->io, a->fd, a->queue, len, a->committed);
		if (ret == 0)
			ret = io_fstat(a->s->io, a->fd, &st);
		if (ret == 0) {
			a->committed += len;
			a->invalid |= a->queue_invalid;
			ret = put_record(a, &st);
			if (ret < 0)
				a->committed -= len;
		}
		if (ret < 0) {
			/*
			 * Not recorded: not committed (the queue is kept).  The
			 * cut changes the mtime: the record follows it, or the
			 * file would look changed behind the mount.
			 */
			if (io_ftruncate(a->s->io, a->fd, (off_t)a->committed) == 0 &&
			    io_fstat(a->s->io, a->fd, &st) == 0) {
				if (a->hash)
					format_hasher_copy(a->hash, a->spare);
				put_record(a, &st);
			} else if (a->hash) {
				format_hasher_copy(a->hash, a->spare);
			}
			return ret;
		}
		a->qlen = 0;
		a->queue_invalid = false;
	}
	if (durable)
		ret = io_fsync(a->s->io, a->fd, false);
	if (ret == 0 && a->committed != a->checkpointed &&
	    time(NULL) - a->checkpoint_time >= CHECKPOINT_EVERY_SEC)
		checkpoint(a);
	return ret;
}

int append_commit(struct append *a, bool durable)
{
	int ret;

	pthread_mutex_lock(&a->lock);
	ret = commit_locked(a, durable);
	tell_unlock(a);
	return ret;
}

/* Checkpoints. */

/*
 * A checkpoint of the committed content: a marker among the versions that
 * names its length (and the file and sum it is a prefix of).  Best effort:
 * the content itself is safe in the file.
 */
static int checkpoint(struct append *a)
{
	const char *base = strrchr(a->relpath, '/');
	char name[VERSION_NAME_MAX], text[64], of[80], sum[33] = "-";
	struct format_sum fs;
	struct stat st;
	int vfd, fd, n, ret;

	base = base ? base + 1 : a->relpath;
	ret = io_fstat(a->s->io, a->fd, &st);
	if (ret == 0)
		ret = store_version_dir(a->s, a->relpath, &st, &vfd);
	if (ret < 0)
		return ret;
	fd = store_create_version(a->s, vfd, base, name, sizeof(name));
	close(vfd);
	if (fd < 0)
		return fd;
	if (a->hash) {
		format_hasher_sum(a->hash, &fs);
		format_sum_hex(&fs, sum);
	}
	n = snprintf(text, sizeof(text), "%" PRIu64, a->committed);
	ret = io_fsetxattr(a->s->io, fd, CHECKPOINT_XATTR, text, (size_t)n, 0);
	n = snprintf(of, sizeof(of), "%" PRIu64 " %s", (uint64_t)st.st_ino,
		     sum);
	if (ret == 0)
		ret = io_fsetxattr(a->s->io, fd, CHECKPOINT_OF_XATTR, of,
				   (size_t)n, 0);
	if (ret == 0)
		ret = io_fchown(a->s->io, fd, st.st_uid, st.st_gid);
	if (ret == 0)
		ret = io_fchmod(a->s->io, fd, st.st_mode & 07777);
	io_close(a->s->io, fd);
	if (ret < 0) {
		/* A marker without its length would read as an empty version. */
		int dfd;

		if (store_version_dir(a->s, a->relpath, &st, &dfd) == 0) {
			io_unlinkat(a->s->io, dfd, name, false);
			close(dfd);
		}
		return ret;
	}
	a->checkpointed = a->committed;
	a->checkpoint_time = time(NULL);
	n = snprintf(text, sizeof(text), "%" PRIu64, a->committed);
	io_fsetxattr(a->s->io, a->fd, CHECKPOINTED_XATTR, text, (size_t)n, 0);
	journal_append(a->s->journal, &(struct journal_record){
		.event = JOURNAL_VERSION, .path = a->relpath,
		.size = (int64_t)a->committed,
		.checksum = a->hash ? sum : NULL, .prev = name,
		.detail = "checkpoint: a prefix of the file",
		.uid = a->uid, .pid = a->pid, .comm = a->comm,
	});
	return 0;
}

int store_checkpoint_len(struct store *s, int fd, uint64_t *len)
{
	char text[32], *end;
	ssize_t n = io_getxattr_fd(s->io, fd, CHECKPOINT_XATTR, text,
				   sizeof(text) - 1);
	unsigned long long v;

	if (n == -ENODATA || n == -ENOTSUP || n == -ERANGE)
		return 0;
	if (n < 0)
		return (int)n;
	text[n] = '\0';
	errno = 0;
	v = strtoull(text, &end, 10);
	if (n == 0 || *end != '\0' || errno || text[0] < '0' || text[0] > '9')
		return 0;
	*len = v;
	return 1;
}

/* The entry of the dir behind @dfd whose inode is @ino, opened O_RDONLY. */
static int open_by_ino(struct store *s, int dfd, ino_t ino)
{
	struct io_dir *d;
	const char *name;
	unsigned char type;
	off_t pos = 0, next;
	ino_t got;
	int fd = -ENOENT;

	if (io_opendir_fd(s->io, dfd, &d) < 0)
		return -ENOENT;
	while (fd == -ENOENT &&
	       io_readdir(s->io, d, pos, &name, &type, &next, &got) == 1) {
		pos = next;
		if (got == ino && type == DT_REG)
			fd = io_openat(s->io, dfd, name, O_RDONLY | O_NOFOLLOW,
				       0);
	}
	io_closedir(d);
	return fd;
}

int store_checkpoint_open(struct store *s, int fd, int *out)
{
	char of[80], path[PATH_MAX], *slash, *end;
	const char *rel;
	size_t plen = strlen(STATE_DIR "/" STATE_VERSIONS "/");
	struct stat st;
	ssize_t n = io_getxattr_fd(s->io, fd, CHECKPOINT_OF_XATTR, of,
				   sizeof(of) - 1);
	ino_t ino;
	int dfd, ret;

	if (n <= 0)
		return n < 0 ? (int)n : -ENOENT;
	of[n] = '\0';
	errno = 0;
	ino = (ino_t)strtoull(of, &end, 10);
	if (errno || end == of)
		return -ENOENT;
	/* .hydrafs/versions/<file's path>/<checkpoint> */
	ret = io_relpath(s->io, fd, path, sizeof(path));
	if (ret < 0)
		return ret;
	if (strncmp(path, STATE_DIR "/" STATE_VERSIONS "/", plen))
		return -ENOENT;
	slash = strrchr(path, '/');
	*slash = '\0';
	rel = path + plen;
	/* The file itself, while it is still that file... */
	ret = io_open(s->io, rel, O_RDONLY | O_NOFOLLOW, 0);
	if (ret >= 0 && (io_fstat(s->io, ret, &st) < 0 || st.st_ino != ino ||
			 !S_ISREG(st.st_mode))) {
		io_close(s->io, ret);
		ret = -ENOENT;
	}
	/* ...else the version that holds that content since. */
	if (ret < 0) {
		dfd = io_open(s->io, path, O_PATH | O_DIRECTORY, 0);
		if (dfd < 0)
			return dfd;
		ret = open_by_ino(s, dfd, ino);
		close(dfd);
	}
	if (ret < 0)
		return ret;
	*out = ret;
	return 0;
}

/* Opening and closing. */

bool append_eligible(struct store *s, const char *relpath, bool *is_log)
{
	struct rule_policy pol;

	rules_lookup(s->rules, relpath, &pol);
	*is_log = pol.mode == RULE_MODE_LOG;
	return pol.format != FORMAT_JSON;
}

/* Hashes [0, @len) of the file once: it was saved by no earlier session. */
static int hash_file(struct append *a, uint64_t len)
{
	char *buf = malloc(CHUNK);
	uint64_t off = 0;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (off < len) {
		size_t want = len - off < CHUNK ? (size_t)(len - off) : CHUNK;
		ssize_t n = io_pread(a->s->io, a->fd, buf, want, (off_t)off);

		if (n <= 0) {
			ret = n < 0 ? (int)n : -EIO;
			break;
		}
		format_hasher_update(a->hash, buf, (size_t)n);
		off += (uint64_t)n;
	}
	free(buf);
	return ret;
}

/*
 * The running sum of the committed content: the saved state when it is
 * the state of exactly that content, else the file hashed once.  -ESTALE
 * when the file does not match its record's sum (damaged: not appended to).
 */
static int load_hash(struct append *a, const struct record *rec)
{
	char saved[FORMAT_HASHER_SAVED_MAX];
	struct format_sum sum;
	ssize_t n;
	int ret;

	if (!rec->has_sum)
		return 0;
	ret = format_hasher_new(&a->hash);
	if (ret == 0)
		ret = format_hasher_new(&a->spare);
	if (ret < 0)
		return ret;
	n = io_getxattr_fd(a->s->io, a->fd, HASH_XATTR, saved, sizeof(saved));
	if (n > 0 && format_hasher_load(a->hash, saved, (size_t)n) == 0 &&
	    format_hasher_len(a->hash) == rec->size) {
		format_hasher_sum(a->hash, &sum);
		if (sum.high == rec->sum.high && sum.low == rec->sum.low)
			return 0;
	}
	format_hasher_free(a->hash);
	ret = format_hasher_new(&a->hash);
	if (ret == 0)
		ret = hash_file(a, rec->size);
	if (ret < 0)
		return ret;
	format_hasher_sum(a->hash, &sum);
	return sum.high == rec->sum.high && sum.low == rec->sum.low ? 0
								    : -ESTALE;
}

/* staging/append.<inode>.<seq>: "<inode>\n<path>", until append_close(). */
static int make_marker(struct append *a, ino_t ino)
{
	char text[PATH_MAX + 32];
	int fd, n, ret;

	snprintf(a->marker, sizeof(a->marker), APPEND_MARKER_PREFIX "%" PRIu64
		 ".%lu", (uint64_t)ino, atomic_fetch_add(&a->s->seq, 1));
	fd = io_openat(a->s->io, a->s->stagingfd, a->marker,
		       O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return fd;
	n = snprintf(text, sizeof(text), "%" PRIu64 "\n%s", (uint64_t)ino,
		     a->relpath);
	ret = write_all(a->s->io, fd, text, (size_t)n, 0);
	io_close(a->s->io, fd);
	if (ret < 0)
		io_unlinkat(a->s->io, a->s->stagingfd, a->marker, false);
	return ret;
}

static void append_free(struct append *a)
{
	while (a->rejects) {
		struct reject *r = a->rejects;

		a->rejects = r->next;
		free(r);
	}
	if (a->fd >= 0)
		io_close(a->s->io, a->fd);
	format_hasher_free(a->hash);
	format_hasher_free(a->spare);
	free(a->queue);
	pthread_mutex_destroy(&a->lock);
	free(a);
}

int append_open(struct append_set *set, int fd, const struct who *who,
		append_commit_fn *cb, void *arg, struct append **out)
{
	struct store *s = set->s;
	struct append *a = calloc(1, sizeof(*a));
	char text[32];
	struct record rec;
	struct stat st;
	ssize_t n;
	int ret;

	if (!a)
		return -ENOMEM;
	a->set = set;
	a->s = s;
	a->fd = -1;
	a->rejects_tail = &a->rejects;
	a->cb = cb;
	a->cb_arg = arg;
	if (who) {
		a->uid = who->uid;
		a->pid = who->pid;
		snprintf(a->comm, sizeof(a->comm), "%s",
			 who->comm ? who->comm : "");
	}
	pthread_mutex_init(&a->lock, NULL);
	ret = io_relpath(s->io, fd, a->relpath, sizeof(a->relpath));
	if (ret < 0)
		goto out_free;
	rules_lookup(s->rules, a->relpath, &a->policy);
	ret = -ENOTSUP;
	if (a->policy.format == FORMAT_JSON)
		goto out_free;
	a->fd = io_reopen(s->io, fd, O_RDWR);
	ret = a->fd < 0 ? a->fd : io_fstat(s->io, a->fd, &st);
	if (ret < 0)
		goto out_free;
	/*
	 * Only a file as its last commit left it: the record's length is the
	 * committed one (a file changed behind the mount is checked at open,
	 * and staged whole if it still does not match).
	 */
	if (store_record_of(s, a->fd, &rec) && record_matches(&rec, &st) &&
	    rec.format == a->policy.format) {
		a->committed = a->told = rec.size;
		a->invalid = rec.state == RECORD_INVALID;
		ret = load_hash(a, &rec);
		if (ret == -ESTALE)
			ret = -ENOTSUP;
	} else if (st.st_size == 0) {
		/* A new file: nothing committed yet, nothing to check. */
		ret = format_hasher_new(&a->hash);
		if (ret == 0)
			ret = format_hasher_new(&a->spare);
	} else {
		ret = -ENOTSUP;
	}
	if (ret == 0)
		ret = make_marker(a, st.st_ino);
	if (ret < 0)
		goto out_free;
	n = io_getxattr_fd(s->io, a->fd, CHECKPOINTED_XATTR, text,
			   sizeof(text) - 1);
	text[n > 0 ? n : 0] = '\0';
	a->checkpointed = n > 0 ? strtoull(text, NULL, 10) : 0;
	a->checkpoint_time = time(NULL);
	/* The content before this session, unless a checkpoint holds it. */
	if (a->committed && a->committed != a->checkpointed)
		checkpoint(a);
	pthread_mutex_lock(&set->lock);
	a->next = set->list;
	set->list = a;
	pthread_mutex_unlock(&set->lock);
	*out = a;
	return 0;
out_free:
	append_free(a);
	return ret;
}

/* Takes @a off its set, once the committer no longer uses it. */
static void unregister(struct append *a)
{
	struct append_set *set = a->set;
	struct append **p;

	pthread_mutex_lock(&set->lock);
	for (p = &set->list; *p; p = &(*p)->next)
		if (*p == a) {
			*p = a->next;
			break;
		}
	a->closing = true;
	while (a->refs)
		pthread_cond_wait(&set->idle, &set->lock);
	pthread_mutex_unlock(&set->lock);
}

int append_rebase(struct append *a, int fd)
{
	struct record rec;
	struct stat st;
	int nfd, ret;

	pthread_mutex_lock(&a->lock);
	nfd = io_reopen(a->s->io, fd, O_RDWR);
	ret = nfd < 0 ? nfd : io_fstat(a->s->io, nfd, &st);
	if (ret == 0 && (!store_record_of(a->s, nfd, &rec) ||
			 !record_matches(&rec, &st)))
		ret = -ESTALE;
	if (ret < 0) {
		if (nfd >= 0)
			io_close(a->s->io, nfd);
		pthread_mutex_unlock(&a->lock);
		return ret;
	}
	io_close(a->s->io, a->fd);
	a->fd = nfd;
	a->committed = a->told = rec.size;
	a->invalid = rec.state == RECORD_INVALID;
	format_hasher_free(a->hash);
	format_hasher_free(a->spare);
	a->hash = a->spare = NULL;
	ret = load_hash(a, &rec);
	if (ret < 0) {
		/* Appends go on without a sum rather than not at all. */
		format_hasher_free(a->hash);
		format_hasher_free(a->spare);
		a->hash = a->spare = NULL;
	}
	/* The marker names the new inode; the old one was committed whole. */
	io_unlinkat(a->s->io, a->s->stagingfd, a->marker, false);
	ret = make_marker(a, st.st_ino);
	a->checkpointed = a->committed;
	a->checkpoint_time = time(NULL);
	pthread_mutex_unlock(&a->lock);
	return ret;
}

int append_leave(struct append *a,
		 int (*take)(void *arg, const void *buf, size_t len),
		 void *arg)
{
	int ret;

	pthread_mutex_lock(&a->lock);
	ret = commit_locked(a, false);
	while (ret == 0 && a->writers) {
		struct append_writer *w = a->writers;

		if (w->len)
			ret = take(arg, w->buf, w->len);
		if (ret == 0)
			writer_detach(w);
	}
	tell_unlock(a);
	return ret;
}

int append_close(struct append *a)
{
	int ret = 0;

	if (!a)
		return 0;
	unregister(a);
	pthread_mutex_lock(&a->lock);
	/* Writers never released (an unmount with files open) go with it. */
	while (a->writers) {
		struct append_writer *w = a->writers;
		int r = writer_release(a, w);

		if (r < 0 && ret == 0)
			ret = r;
		writer_destroy(w);
	}
	if (ret == 0)
		ret = commit_locked(a, false);
	if (ret == 0 && a->committed != a->checkpointed)
		checkpoint(a);
	tell_unlock(a);
	if (ret == 0)
		io_unlinkat(a->s->io, a->s->stagingfd, a->marker, false);
	append_free(a);
	return ret;
}

int append_writer_release(struct append *a, struct append_writer *w)
{
	int ret;

	pthread_mutex_lock(&a->lock);
	ret = writer_release(a, w);
	if (ret == 0)
		ret = commit_locked(a, false);
	tell_unlock(a);
	return ret;
}

/* Lengths and reads. */

uint64_t append_committed(struct append *a)
{
	uint64_t len;

	pthread_mutex_lock(&a->lock);
	len = a->committed;
	pthread_mutex_unlock(&a->lock);
	return len;
}

uint64_t append_size(struct append *a, const struct append_writer *w)
{
	uint64_t len;

	pthread_mutex_lock(&a->lock);
	len = a->committed + a->qlen + (w && w->a == a ? w->len : 0);
	pthread_mutex_unlock(&a->lock);
	return len;
}

void append_writer_set_pid(struct append_writer *w, pid_t pid)
{
	w->pid = pid;
}

uint64_t append_size_for(struct append *a, pid_t pid)
{
	const struct append_writer *w;
	uint64_t len;

	pthread_mutex_lock(&a->lock);
	len = a->committed;
	for (w = a->writers; w; w = w->next)
		if (w->pid == pid) {
			len += a->qlen + w->len;
			break;
		}
	pthread_mutex_unlock(&a->lock);
	return len;
}


ssize_t append_read(struct append *a, const struct append_writer *w,
		    void *buf, size_t size, off_t off)
{
	uint64_t o = (uint64_t)off, total;
	ssize_t n = 0;

	pthread_mutex_lock(&a->lock);
	total = a->committed + a->qlen + (w && w->a == a ? w->len : 0);
	if (o < total) {
		if (size > total - o)
			size = (size_t)(total - o);
		uint64_t shared = a->committed + a->qlen;
		ssize_t want = o >= shared ? 0
			       : (ssize_t)(shared - o < size ? shared - o : size);

		n = read_content(a, buf, size, o);
		/* The writer's own bytes follow only a whole read of the rest. */
		if (n == want && w && w->a == a) {
			copy_part(buf, size, o, w->buf, a->committed + a->qlen,
				  w->len);
			n = (ssize_t)size;
		}
	}
	pthread_mutex_unlock(&a->lock);
	return n;
}

/* The committer. */

static void *committer(void *arg)
{
	struct append_set *set = arg;

	pthread_mutex_lock(&set->lock);
	while (!set->stop) {
		struct timespec at;
		struct append *a, **due = NULL;
		size_t n = 0, cap = 0;

		clock_gettime(CLOCK_REALTIME, &at);
		at.tv_nsec += (long)(set->interval_ms % 1000) * 1000000;
		at.tv_sec += set->interval_ms / 1000 + at.tv_nsec / 1000000000;
		at.tv_nsec %= 1000000000;
		pthread_cond_timedwait(&set->wake, &set->lock, &at);
		if (set->stop)
			break;
		for (a = set->list; a; a = a->next) {
			if (n == cap) {
				void *p = realloc(due, (cap = cap ? 2 * cap : 16) *
							       sizeof(*due));

				if (!p)
					break;
				due = p;
			}
			a->refs++;
			due[n++] = a;
		}
		pthread_mutex_unlock(&set->lock);
		for (size_t i = 0; i < n; i++) {
			/* A failure stays queued: fsync and close report it. */
			pthread_mutex_lock(&due[i]->lock);
			commit_locked(due[i], false);
			tell_unlock_from(due[i], true);
		}
		pthread_mutex_lock(&set->lock);
		for (size_t i = 0; i < n; i++)
			if (--due[i]->refs == 0 && due[i]->closing)
				pthread_cond_broadcast(&set->idle);
		free(due);
	}
	pthread_mutex_unlock(&set->lock);
	return NULL;
}

int append_set_new(struct store *s, unsigned int interval_ms,
		   struct append_set **out)
{
	struct append_set *set = calloc(1, sizeof(*set));

	if (!set)
		return -ENOMEM;
	set->s = s;
	set->interval_ms = interval_ms;
	pthread_mutex_init(&set->lock, NULL);
	pthread_cond_init(&set->wake, NULL);
	pthread_cond_init(&set->idle, NULL);
	if (interval_ms) {
		int ret = pthread_create(&set->thread, NULL, committer, set);

		if (ret) {
			append_set_free(set);
			return -ret;
		}
		set->running = true;
	}
	*out = set;
	return 0;
}

void append_set_free(struct append_set *set)
{
	if (!set)
		return;
	if (set->running) {
		pthread_mutex_lock(&set->lock);
		set->stop = true;
		pthread_cond_broadcast(&set->wake);
		pthread_mutex_unlock(&set->lock);
		pthread_join(set->thread, NULL);
	}
	pthread_cond_destroy(&set->idle);
	pthread_cond_destroy(&set->wake);
	pthread_mutex_destroy(&set->lock);
	free(set);
}

/* Crash recovery. */

/* Copies [@from, @to) of @src into the new file @dst. */
static int copy_range(struct io *io, int src, int dst, uint64_t from,
		      uint64_t to)
{
	char *buf = malloc(CHUNK);
	uint64_t off = from;
	int ret = 0;

	if (!buf)
		return -ENOMEM;
	while (ret == 0 && off < to) {
		size_t want = to - off < CHUNK ? (size_t)(to - off) : CHUNK;
		ssize_t n = io_pread(io, src, buf, want, (off_t)off);

		if (n <= 0)
			ret = n < 0 ? (int)n : -EIO;
		else
			ret = write_all(io, dst, buf, (size_t)n, off - from);
		off += n > 0 ? (uint64_t)n : 0;
	}
	free(buf);
	return ret;
}

/* Cuts the file at @relpath back to its record's length. */
static int cut_torn(struct store *s, const char *relpath, ino_t ino)
{
	char oname[NAME_MAX + 1], vname[VERSION_NAME_MAX], detail[96];
	const char *base = strrchr(relpath, '/');
	struct timespec now;
	struct record rec;
	struct stat st;
	int fd, ofd, dst, ret;

	base = base ? base + 1 : relpath;
	fd = io_open(s->io, relpath, O_RDWR | O_NOFOLLOW, 0);
	if (fd < 0)
		return 0; /* gone, or no file there any more: nothing to cut */
	ret = io_fstat(s->io, fd, &st);
	if (ret < 0 || st.st_ino != ino || !S_ISREG(st.st_mode) ||
	    !store_record_of(s, fd, &rec) || rec.ino != st.st_ino ||
	    (uint64_t)st.st_size <= rec.size)
		goto out_close; /* not the file, or nothing past its commit */
	ret = store_orphans_dir(s, &ofd);
	if (ret < 0)
		goto out_close;
	clock_gettime(CLOCK_REALTIME, &now);
	version_name(vname, sizeof(vname), &now, "", 0);
	snprintf(oname, sizeof(oname), "%s-append-%.150s", vname, base);
	dst = io_openat(s->io, ofd, oname, O_WRONLY | O_CREAT | O_EXCL, 0600);
	ret = dst;
	if (dst >= 0) {
		ret = copy_range(s->io, fd, dst, rec.size, (uint64_t)st.st_size);
		if (ret == 0)
			ret = io_fchown(s->io, dst, st.st_uid, st.st_gid);
		if (ret == 0)
			ret = io_fchmod(s->io, dst, st.st_mode & 07777);
		if (ret == 0)
			ret = io_fsync(s->io, dst, false);
		io_close(s->io, dst);
		if (ret < 0)
			io_unlinkat(s->io, ofd, oname, false);
	}
	close(ofd);
	/* The bytes are safe as an orphan before they leave the file. */
	if (ret == 0)
		ret = io_ftruncate(s->io, fd, (off_t)rec.size);
	/* The cut file is the committed content: its record follows it. */
	if (ret == 0 && io_fstat(s->io, fd, &st) == 0) {
		char text[RECORD_TEXT_MAX];
		size_t n;

		rec.mtime_sec = st.st_mtim.tv_sec;
		rec.mtime_nsec = (uint32_t)st.st_mtim.tv_nsec;
		n = record_format(&rec, text);
		io_fsetxattr(s->io, fd, RECORD_XATTR, text, n, 0);
		ret = io_fsync(s->io, fd, false);
	}
	if (ret == 0) {
		snprintf(detail, sizeof(detail),
			 "append past the last commit cut at byte %" PRIu64,
			 rec.size);
		store_journal_note(s, JOURNAL_RECOVER, relpath,
				   (int64_t)rec.size, NULL, oname, detail,
				   NULL);
	}
out_close:
	io_close(s->io, fd);
	return ret;
}

int append_recover(struct store *s, const char *name)
{
	char text[PATH_MAX + 32], *nl, *end;
	ino_t ino;
	ssize_t n;
	int fd, ret = 0;

	fd = io_openat(s->io, s->stagingfd, name, O_RDONLY | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd;
	n = io_pread(s->io, fd, text, sizeof(text) - 1, 0);
	io_close(s->io, fd);
	if (n < 0)
		return (int)n;
	text[n] = '\0';
	nl = strchr(text, '\n');
	errno = 0;
	ino = (ino_t)strtoull(text, &end, 10);
	/* A marker cut short by the crash names nothing: it just goes. */
	if (nl && end == nl && !errno && nl[1])
		ret = cut_torn(s, nl + 1, ino);
	/*
	 * A file that could not be cut (a read or write error) keeps its
	 * marker for the next mount; the mount goes on either way (the open
	 * check then sees the file as changed behind the mount).
	 */
	if (ret == 0)
		io_unlinkat(s->io, s->stagingfd, name, false);
	return 0;
}
