/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * journal: the audit journal, JSON Lines under the state dir, one record per
 * commit, version, rejection and recovery.
 *
 * Each record is written with one write(2) on an O_APPEND fd, so records
 * from several threads never interleave, and a crash leaves at most one
 * torn last line (readers skip a line that does not end in '\n').
 * Thread-safe.
 */
#ifndef HYDRAFS_JOURNAL_H
#define HYDRAFS_JOURNAL_H

#include <stdint.h>
#include <sys/types.h>

#include "io.h"

struct journal;

/* What happened, the record's "event". */
enum journal_event {
	JOURNAL_COMMIT,	  /* a file got new content */
	JOURNAL_VERSION,  /* content kept as a version (unlink, rename over) */
	JOURNAL_REJECT,	  /* content refused (kept under .rejected) */
	JOURNAL_RECOVER,  /* crash recovery resolved something */
	JOURNAL_ORPHAN,	  /* staged data kept under .orphans */
	JOURNAL_ADOPT,	  /* a file changed behind the mount, valid: recorded */
	JOURNAL_DAMAGE,	  /* a file found damaged */
};

struct journal_record {
	enum journal_event event;
	const char *path;	/* relative to the backing dir */
	int64_t size;		/* -1: not known */
	const char *checksum;	/* XXH3-128, 32 hex digits, or NULL */
	const char *prev;	/* the version the old content went to, or NULL */
	const char *detail;	/* a short reason, or NULL */
	const char *format;	/* the content's format, or NULL */
	/*
	 * Where content is invalid: line 0 when not said; the offset is
	 * written with a line or a reason.
	 */
	uint64_t line;		/* 1-based */
	uint64_t offset;	/* byte offset */
	const char *reason;	/* why, or NULL */
	uid_t uid;
	pid_t pid;
	const char *comm;	/* the writer's command name, or NULL */
};

/*
 * Opens (creating) the journal @name in dir @dirfd (borrowed).
 * Caller frees with journal_close().
 */
int journal_open(struct io *io, int dirfd, const char *name,
		 struct journal **out);
void journal_close(struct journal *j);

/* Appends @r with the current time; 0 or -errno. */
int journal_append(struct journal *j, const struct journal_record *r);

/*
 * Formats @r as one JSON line (with '\n') into @buf; returns its length, or
 * -ENAMETOOLONG when @size is too small.  Strings are escaped as JSON.
 */
ssize_t journal_format(char *buf, size_t size, const struct timespec *now,
		       const struct journal_record *r);

#endif
