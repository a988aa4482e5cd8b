/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * salvage: the recovered view of a damaged file (DESIGN.md, "Corruption and
 * the recovered view"): what a read should return instead of the damaged
 * bytes.  Pure computation over fds through core/io; memory is bounded
 * (the file is streamed in chunks, whatever its size).  Thread-safe (no
 * shared state).
 *
 * How the view is made depends on the file's policy (rules.h, "recover"):
 *
 *  - salvage, for the record formats (jsonl, csv, tsv, text): the file's
 *    valid records, in order, byte for byte, with the invalid ones dropped.
 *    The validators run in record mode (format.h) and resynchronise after
 *    damage:
 *      . an invalid record is dropped;
 *      . an invalid record that spans several lines (a CSV quote opened and
 *        never closed, or closed lines later) loses its first line only:
 *        the rest is scanned again from the line after it, so a broken
 *        quote never swallows the rows after it.  To bound the work on
 *        hostile input, once the scans read more than 4 times the file
 *        (plus 16 MiB), a multi-line invalid record is dropped whole;
 *      . csv and tsv: the first record, the header, gives the field count,
 *        also to the scans that start again after a broken quote (they are
 *        fed the header first).  A damaged header (invalid itself) leaves
 *        no way to tell a row's fields: the view is then the newest version
 *        that verifies, as for last-good;
 *      . text: any bytes are valid text, so a line is kept unless it holds
 *        a NUL byte or invalid UTF-8 (strict: no overlong forms, no
 *        surrogates, nothing past U+10FFFF), which is how bit rot shows in
 *        text.  A text file that is not UTF-8 (Latin-1) loses its lines with
 *        non-ASCII bytes: the view is for damaged files only;
 *      . a salvage that keeps no record (the CSV/TSV header aside) while it
 *        dropped some is no view of the file: the newest version that
 *        verifies is used instead, as for last-good.
 *    A final record without its line end is kept as it is when valid.
 *    Every record of a csv/tsv view has the header's field count, so the
 *    view is valid in its format as a whole.
 *
 *  - last-good, for json and opaque and any format whose rules say so: the
 *    newest version under versions/<relpath>/ (names as version.h makes
 *    them: the newest sorts last) that verifies (verify.h: not damaged,
 *    and not content a rule accepted invalid).  Append checkpoints (marker
 *    files naming a prefix, append.h) are not versions of the content and
 *    are skipped.
 *
 *  - off: no view.
 *
 * "No view" is -ENOENT: recover = off, no version verifies, or nothing
 * valid to salvage and no version.
 */
#ifndef HYDRAFS_SALVAGE_H
#define HYDRAFS_SALVAGE_H

#include <stdint.h>

#include "format.h"
#include "io.h"
#include "rules.h"
#include "version.h"

/* What a view is made of. */
struct salvage_stats {
	enum format_kind format;	/* the format salvaged in */
	enum rule_recover how;		/* SALVAGE (records) or LAST_GOOD */
	uint64_t kept;			/* records kept (a header counts) */
	uint64_t dropped;		/* records dropped */
	uint64_t bytes;			/* bytes of the view */
	uint64_t dropped_bytes;		/* bytes of the file not in the view */
	uint64_t first_offset;		/* where the first dropped record began */
	const char *first_reason;	/* why it was dropped (static), or NULL */
	/* LAST_GOOD: the version's name in versions/<relpath>/. */
	char version[VERSION_NAME_MAX];
	/* Static: why the view is a version (a fallback) or why none; or NULL. */
	const char *why;
};

/*
 * The policy to recover the file at @relpath behind @fd (an O_PATH handle
 * or an open fd) by: its rules (@rules may be NULL: defaults), with the
 * format of the file's record (record.h) when it has one, as verify does
 * (a daemon's -o rules=FILE may differ from the rules given here).  When
 * the record's format is not the rules', a recover policy that is the
 * default of the rules' format becomes the default of the record's.
 */
void salvage_policy(struct io *io, int fd, const struct rules *rules,
		    const char *relpath, struct rule_policy *out);

/*
 * How @pol recovers: RULE_RECOVER_SALVAGE for a record format whose rules
 * say salvage, RULE_RECOVER_LAST_GOOD for json and opaque or when the
 * rules say so, RULE_RECOVER_OFF.
 */
enum rule_recover salvage_method(const struct rule_policy *pol);

/*
 * Writes the recovered view of the file at @relpath into @out_fd, open
 * for writing (written from offset 0, then cut to the view's length);
 * @fd is the damaged file open for reading (read with pread: its offset
 * is not used), @versionsfd the versions tree (an O_PATH fd of
 * .hydrafs/versions) for last-good.  *@stats says what the view is made
 * of.  0, -ENOENT (no view; @out_fd may then hold anything), -ENOMEM, or
 * the -errno of a read or a write (-ESTALE: the file shrank meanwhile).
 */
int salvage_build(struct io *io, int versionsfd, const char *relpath, int fd,
		  const struct rule_policy *pol, int out_fd,
		  struct salvage_stats *stats);

/*
 * The newest version of @relpath that verifies (its format @kind unless
 * it has a record): *@out is an O_RDONLY fd of it (caller closes), its
 * name in @stats->version (and @stats->how, ->bytes set).  0, -ENOENT
 * when no version verifies (or there is none), or -errno.
 */
int salvage_last_good(struct io *io, int versionsfd, const char *relpath,
		      enum format_kind kind, int *out,
		      struct salvage_stats *stats);

#endif
