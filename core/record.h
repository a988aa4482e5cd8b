/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * record: what a commit records with a file (the xattr RECORD_XATTR on the
 * file itself, so that it moves with the content at the commit's rename):
 * the content's size, mtime, inode, XXH3-128 and format, and whether it
 * was valid.  A file whose size, mtime and inode still match its record
 * has the content the record describes, unless damaged behind our back
 * (which only a scrub finds: it then sets the record's state to damaged,
 * and the open-time check serves the recovered view).
 *
 * Text, one line: "v1 format=json state=ok size=12 mtime=1795431909.5
 * ino=42 sum=<32 hex digits or ->" (mtime as in struct timespec: seconds,
 * maybe negative, then nanoseconds).  Unknown keys are ignored (later
 * versions may add some); a key given twice is an error.  Pure functions,
 * thread-safe.
 */
#ifndef HYDRAFS_RECORD_H
#define HYDRAFS_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "format.h"

#define RECORD_XATTR "user.hydrafs.record"
/* Set on a file whose last rewrite was refused: when, where and why. */
#define REJECTED_XATTR "user.hydrafs.rejected"
/*
 * Set on a file found damaged: "damaged size=N mtime=S.N ino=I: why", the
 * identity it was found with (so that it is checked once, not at every
 * open) and the reason.
 */
#define STATE_XATTR "user.hydrafs.state"
/*
 * Not stored: read through the mount (getxattr), it has the daemon scrub
 * the file from its backing content (store_scrub()) and answer "damaged"
 * (flagged: opens serve its recovered view) or "ok".  What hydractl verify
 * asks of a file it found damaged through the mount.
 */
#define SCRUB_XATTR "user.hydrafs.scrub"
/* Longest record text, NUL included. */
#define RECORD_TEXT_MAX 256

enum record_state {
	RECORD_OK,		/* valid in its format */
	RECORD_INVALID,		/* invalid, accepted by a rule */
	RECORD_DAMAGED,		/* a scrub found the content is not this any
				   more: damaged in place (STATE_XATTR says how) */
};

struct record {
	enum format_kind format;
	enum record_state state;
	uint64_t size;
	int64_t mtime_sec;
	uint32_t mtime_nsec;
	uint64_t ino;
	bool has_sum;		/* false: not hashed (large, written in place) */
	struct format_sum sum;
};

/* Formats @r into @buf (RECORD_TEXT_MAX bytes); returns the length. */
size_t record_format(const struct record *r, char *buf);

/* Parses @len bytes of @text; 0 or -EINVAL. */
int record_parse(const char *text, size_t len, struct record *r);

/*
 * Whether xattr @name is hydrafs's own (user.hydrafs.*): readable by name
 * through the mount, never listed, set or removed through it.
 */
bool record_is_own_xattr(const char *name);

/*
 * Removes hydrafs's own names from @list, a listxattr() result of @len
 * bytes, in place; returns the new length.  Listing them would have cp -a
 * and rsync -X copy them, and be refused.
 */
size_t record_hide_own_xattrs(char *list, size_t len);

/* Whether @st (size, mtime, inode) is the content @r describes. */
bool record_matches(const struct record *r, const struct stat *st);

#endif
