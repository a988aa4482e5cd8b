/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * perm: the classic Unix permission check, for answering access(2) on behalf
 * of a caller (the daemon itself usually runs as root).  Pure functions,
 * thread-safe.
 */
#ifndef HYDRAFS_PERM_H
#define HYDRAFS_PERM_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

/*
 * Whether a caller with @uid, @gid and supplementary @groups (@ngroups of
 * them, borrowed) may access @st with @mask (R_OK, W_OK, X_OK bits; F_OK is
 * 0).  Root may read and write anything, and execute what has an x bit or
 * is a directory.
 */
bool perm_allows(const struct stat *st, uid_t uid, gid_t gid,
		 const gid_t *groups, int ngroups, int mask);

#endif
