// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "perm.h"

#include <unistd.h>

static bool in_groups(gid_t g, gid_t gid, const gid_t *groups, int ngroups)
{
	if (g == gid)
		return true;
	for (int i = 0; i < ngroups; i++)
		if (groups[i] == g)
			return true;
	return false;
}

bool perm_allows(const struct stat *st, uid_t uid, gid_t gid,
		 const gid_t *groups, int ngroups, int mask)
{
	mode_t bits;

	mask &= R_OK | W_OK | X_OK;
	if (uid == 0) {
		if (!(mask & X_OK))
			return true;
		return S_ISDIR(st->st_mode) ||
		       (st->st_mode & (S_IXUSR | S_IXGRP | S_IXOTH));
	}
	if (st->st_uid == uid)
		bits = (st->st_mode >> 6) & 7;
	else if (in_groups(st->st_gid, gid, groups, ngroups))
		bits = (st->st_mode >> 3) & 7;
	else
		bits = st->st_mode & 7;
	return ((mode_t)mask & ~bits) == 0;
}
