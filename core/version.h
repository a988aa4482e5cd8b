/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * version: the names hydrafs gives to versions, and the names of the state
 * dir's parts.  Pure functions, thread-safe.
 *
 * A version of "report.csv" kept at 2026-11-23 11:05:09.123 UTC is named
 * "2026-11-23T11-05-09.123Z.csv": sortable, filesystem-safe, the file's
 * extension kept.  A second version within the same millisecond is
 * "2026-11-23T11-05-09.123Z~001.csv" (sorting after the first, up to ~999).
 */
#ifndef HYDRAFS_VERSION_H
#define HYDRAFS_VERSION_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define STATE_DIR ".hydrafs"	     /* in the backing dir, never shown */
#define STATE_STAGING "staging"	     /* shadows */
#define STATE_VERSIONS "versions"    /* shown read-only as .backups */
#define STATE_JOURNAL "journal.jsonl"
#define BACKUPS_NAME ".backups"	     /* in the mount's root */
#define ORPHANS_NAME ".orphans"	     /* in versions/: staged, never committed */
#define RULES_NAME "rules"	     /* in the state dir: the default rules file */
#define REJECTED_NAME ".rejected"    /* in versions/: content refused at commit */
#define VERSION_NAME_MAX 96

/* The extension of @file ("" for none or a dot-file), borrowed from it. */
const char *version_ext(const char *file);

/*
 * Writes the name of a version of @file kept at @t (@seq 1 to 999: the
 * seq-th extra one in that millisecond) into @buf; 0, -ENAMETOOLONG, or
 * -EINVAL for a @seq over 999.
 */
int version_name(char *buf, size_t size, const struct timespec *t,
		 const char *file, unsigned int seq);

/* Whether @name is one of the names version_name() makes. */
bool version_name_is_valid(const char *name);

#endif
