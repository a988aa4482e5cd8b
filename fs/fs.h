/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs: the FUSE daemon's operations.  Translation only: each fs_<op> turns a
 * FUSE request into calls on core/ and passes core's result back unchanged.
 *
 * Paths from libfuse start with '/'; fs_rel() turns them into paths relative
 * to the backing dir, as core/io takes them.
 * Thread-safe: libfuse runs operations on several threads at once; the only
 * shared state is struct hydrafs, read-only after mount.
 */
#ifndef HYDRAFS_FS_H
#define HYDRAFS_FS_H

#define FUSE_USE_VERSION 314
#include <fuse.h>
#include <stdbool.h>

#include "core/io.h"

struct hydrafs {
	struct io *io;
	bool is_root;		/* the daemon runs as root: new files get the caller's ids */
	double entry_timeout;	/* seconds the kernel may cache names */
	double attr_timeout;	/* seconds the kernel may cache attributes */
	bool timeouts_set;	/* the user chose the timeouts: keep them */
};

/* An open file: the backing fd. */
struct fs_file {
	int fd;
};

static inline struct hydrafs *fs_data(void)
{
	return fuse_get_context()->private_data;
}

static inline struct fs_file *fs_file_of(const struct fuse_file_info *fi)
{
	return (struct fs_file *)(uintptr_t)fi->fh;
}

/* "/a/b" -> "a/b", "/" -> "." */
static inline const char *fs_rel(const char *path)
{
	if (!path || !path[0] || !path[1])
		return ".";
	return path + 1;
}

/*
 * Clears set-user-ID (and set-group-ID with group exec) on @fd when the
 * kernel asked for it for the current request (see kernel.h).
 */
int fs_kill_suidgid(int fd);

/* Gives a new entry at @path the caller's owner (daemon running as root). */
int fs_take_ownership(const char *path, int fd, bool is_dir);

void fs_init_ops_file(struct fuse_operations *ops);
void fs_init_ops_dir(struct fuse_operations *ops);
void fs_init_ops_xattr(struct fuse_operations *ops);
void fs_init_ops_attr(struct fuse_operations *ops);

#endif
