// SPDX-License-Identifier: GPL-2.0-or-later
/* Attributes: chmod, chown, truncate, utimens, access. */
#include "config.h"

#include "fs.h"

#include "core/perm.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static int fs_chmod(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct hydrafs *h = fs_data();

	if (fi && fi->fh)
		return io_fchmod(h->io, fs_file_of(fi)->fd, mode);
	return io_chmod(h->io, fs_rel(path), mode);
}

static int fs_chown(const char *path, uid_t uid, gid_t gid,
		    struct fuse_file_info *fi)
{
	struct hydrafs *h = fs_data();

	if (fi && fi->fh)
		return io_fchown(h->io, fs_file_of(fi)->fd, uid, gid);
	return io_chown(h->io, fs_rel(path), uid, gid);
}

static int fs_truncate(const char *path, off_t size, struct fuse_file_info *fi)
{
	struct hydrafs *h = fs_data();

	int fd, ret;

	if (fi && fi->fh) {
		fd = fs_file_of(fi)->fd;
		ret = io_ftruncate(h->io, fd, size);
		return ret < 0 ? ret : fs_kill_suidgid(fd);
	}
	fd = io_open(h->io, fs_rel(path), O_WRONLY | O_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	ret = io_ftruncate(h->io, fd, size);
	if (ret == 0)
		ret = fs_kill_suidgid(fd);
	io_close(h->io, fd);
	return ret;
}

static int fs_utimens(const char *path, const struct timespec ts[2],
		      struct fuse_file_info *fi)
{
	struct hydrafs *h = fs_data();

	if (fi && fi->fh)
		return io_futimens(h->io, fs_file_of(fi)->fd, ts);
	return io_utimens(h->io, fs_rel(path), ts);
}

static int fs_access(const char *path, int mask)
{
	struct fuse_context *ctx = fuse_get_context();
	struct hydrafs *h = ctx->private_data;
	gid_t groups[64];
	struct stat st;
	int n, ret;

	ret = io_lstat(h->io, fs_rel(path), &st);
	if (ret < 0 || mask == F_OK)
		return ret;
	n = fuse_getgroups(64, groups);
	if (n < 0 || n > 64)
		n = 0;
	return perm_allows(&st, ctx->uid, ctx->gid, groups, n, mask) ? 0
								     : -EACCES;
}

void fs_init_ops_attr(struct fuse_operations *ops)
{
	ops->chmod = fs_chmod;
	ops->chown = fs_chown;
	ops->truncate = fs_truncate;
	ops->utimens = fs_utimens;
	ops->access = fs_access;
}
