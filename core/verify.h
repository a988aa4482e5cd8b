/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * verify: checks a file's content against the record of its last commit
 * (record.h): re-hashes and re-validates it, in one pass, and says whether
 * it is what was committed, changed behind the mount but still valid, or
 * damaged.  Used by hydractl verify (the scrub) and, later, by the daemon's
 * open-time check.  Thread-safe (no shared state).
 */
#ifndef HYDRAFS_VERIFY_H
#define HYDRAFS_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "format.h"
#include "io.h"
#include "record.h"

enum verify_state {
	VERIFY_OK,		/* its record's content: same checksum, valid */
	VERIFY_UNRECORDED,	/* no record (never committed through a mount): valid */
	VERIFY_CHANGED,		/* changed behind the mount (size, mtime or inode), still valid */
	VERIFY_DAMAGED,		/* invalid in its format, or damaged in place */
};

struct verify_result {
	enum verify_state state;
	enum format_kind format;	/* the record's, else the default given */
	bool has_record;
	struct record record;		/* when @has_record */
	struct format_sum sum;		/* of the content as read */
	uint64_t size;			/* bytes read */
	struct format_error err;	/* when invalid in its format */
	const char *why;		/* static: what is wrong, or NULL */
};

/* Called with the bytes read so far (for a progress bar). */
typedef void verify_progress_fn(void *ctx, uint64_t bytes);

/*
 * Verifies the regular file open for reading at @fd (@st its stat), whose
 * format is @kind unless it has a record.  *@out is filled; 0 or -errno
 * (a read error: the file could not be checked).
 */
int verify_fd(struct io *io, int fd, const struct stat *st,
	      enum format_kind kind, verify_progress_fn *progress, void *ctx,
	      struct verify_result *out);

/* A word for @state: "ok", "unrecorded", "changed", "damaged". */
const char *verify_state_name(enum verify_state state);

#endif
