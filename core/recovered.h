/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * recovered: the store's recovered views (salvage.h) of damaged files, for
 * the daemon to serve to readers instead of the damaged bytes.
 *
 * A view is built once per state of the damaged file and kept in the cache
 * dir .hydrafs/recovered/ (mode 0700, made on first use), named by the
 * file's identity and how it is recovered:
 * "<dev>-<ino>-<size>-<mtime s>.<mtime ns>-<format>-<salvage|last-good>".
 * Any change of the file (a commit replaces its inode; a write behind the
 * mount changes its size or mtime) or of its format or recover policy
 * gives another name, so a stale view is never served.  Entries are
 * removed when a view of another state of the same inode is built, when
 * older than a day (ctime) at any build, and by store_recovered_forget().
 * A salvage is built under a temporary name and renamed into place, so a
 * crash leaves no partial view under a real name (stale temporary names
 * are removed with the old entries).  A last-good view is a hard link to
 * the version (zero copy; a copy where links fail).
 *
 * Bit rot that keeps size and mtime also keeps the name: a view of such a
 * file is only rebuilt once the file changes or the entry ages out.
 *
 * Thread-safe: concurrent builds of one view each use their own temporary
 * name; the last rename wins, with the same content.
 */
#ifndef HYDRAFS_RECOVERED_H
#define HYDRAFS_RECOVERED_H

#include <sys/stat.h>

#include "store.h"

#define STATE_RECOVERED "recovered"	/* in the state dir: the views */

/*
 * The recovered view of the file behind O_PATH handle @fd, when it is
 * flagged damaged as it is now (STATE_XATTR, set by store_check()):
 *  - 1: *@view_fd is an O_RDONLY fd of the view (caller closes), its
 *    attributes in *@view_st (the size to serve);
 *  - 0: no view to serve: not a regular file, not flagged damaged (or
 *    flagged for another state of the file), recover = off, or deleted;
 *  - -ENOENT: damaged, but no view can be made (no valid record and no
 *    version that verifies, or the damage is in no record): serve the
 *    file as it is rather than fail;
 *  - -errno: the view could not be built (read, write, space).
 */
int store_recovered_view(struct store *s, int fd, int *view_fd,
			 struct stat *view_st);

/*
 * Drops the cached views of the object @st (its dev and inode), e.g. once
 * a commit replaced a damaged file.  Best effort.
 */
void store_recovered_forget(struct store *s, const struct stat *st);

#endif
