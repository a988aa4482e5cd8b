// SPDX-License-Identifier: GPL-2.0-or-later
/* Names: lookup, readdir, mkdir, rmdir, unlink, rename, links, mknod. */
#include "config.h"

#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int fs_take_ownership(const char *path, int fd, bool is_dir)
{
	struct fuse_context *ctx = fuse_get_context();
	struct hydrafs *h = ctx->private_data;
	const char *rel = fs_rel(path);
	char parent[4096];
	const char *slash;
	struct stat st;
	gid_t gid = ctx->gid;
	int ret;

	if (ctx->uid == 0 && ctx->gid == 0)
		return 0;
	/* In a set-group-ID dir the new entry keeps the dir's group. */
	slash = strrchr(rel, '/');
	if (slash && (size_t)(slash - rel) < sizeof(parent)) {
		memcpy(parent, rel, (size_t)(slash - rel));
		parent[slash - rel] = '\0';
	} else {
		strcpy(parent, ".");
	}
	ret = io_lstat(h->io, parent, &st);
	if (ret < 0)
		return ret;
	if (st.st_mode & S_ISGID)
		gid = (gid_t)-1;
	if (fd >= 0)
		return io_fchown(h->io, fd, ctx->uid, gid);
	(void)is_dir;
	return io_chown(h->io, rel, ctx->uid, gid);
}

static int fs_getattr(const char *path, struct stat *st,
		      struct fuse_file_info *fi)
{
	struct hydrafs *h = fs_data();

	if (fi && fi->fh)
		return io_fstat(h->io, fs_file_of(fi)->fd, st);
	return io_lstat(h->io, fs_rel(path), st);
}

static int fs_opendir(const char *path, struct fuse_file_info *fi)
{
	struct io_dir *d;
	int ret = io_opendir(fs_data()->io, fs_rel(path), &d);

	if (ret < 0)
		return ret;
	fi->fh = (uintptr_t)d;
	return 0;
}

static int fs_readdir(const char *path, void *buf, fuse_fill_dir_t fill,
		      off_t off, struct fuse_file_info *fi,
		      enum fuse_readdir_flags flags)
{
	struct hydrafs *h = fs_data();
	struct io_dir *d = (struct io_dir *)(uintptr_t)fi->fh;
	bool plus = flags & FUSE_READDIR_PLUS;
	const char *name;
	unsigned char type;
	off_t next;
	int ret;

	for (;;) {
		struct stat st = { 0 };
		enum fuse_fill_dir_flags fill_flags = 0;

		ret = io_readdir(h->io, d, off, &name, &type, &next);
		if (ret <= 0)
			return ret;
		if (plus && strcmp(name, ".") && strcmp(name, "..") &&
		    io_dir_lstat(h->io, d, name, &st) == 0) {
			fill_flags = FUSE_FILL_DIR_PLUS;
		} else {
			st.st_mode = (mode_t)DTTOIF(type);
		}
		if (fill(buf, name, &st, next, fill_flags))
			return 0;
		off = next;
	}
}

static int fs_releasedir(const char *path, struct fuse_file_info *fi)
{
	io_closedir((struct io_dir *)(uintptr_t)fi->fh);
	return 0;
}

static int fs_fsyncdir(const char *path, int datasync,
		       struct fuse_file_info *fi)
{
	return io_dir_fsync(fs_data()->io, (struct io_dir *)(uintptr_t)fi->fh,
			    datasync);
}

static int fs_mkdir(const char *path, mode_t mode)
{
	struct hydrafs *h = fs_data();
	int ret = io_mkdir(h->io, fs_rel(path), mode);

	if (ret < 0 || !h->is_root)
		return ret;
	ret = fs_take_ownership(path, -1, true);
	if (ret < 0)
		io_rmdir(h->io, fs_rel(path));
	return ret;
}

static int fs_mknod(const char *path, mode_t mode, dev_t dev)
{
	struct hydrafs *h = fs_data();
	int ret = io_mknod(h->io, fs_rel(path), mode, dev);

	if (ret < 0 || !h->is_root)
		return ret;
	ret = fs_take_ownership(path, -1, false);
	if (ret < 0)
		io_unlink(h->io, fs_rel(path));
	return ret;
}

static int fs_symlink(const char *target, const char *path)
{
	struct hydrafs *h = fs_data();
	int ret = io_symlink(h->io, target, fs_rel(path));

	if (ret < 0 || !h->is_root)
		return ret;
	ret = fs_take_ownership(path, -1, false);
	if (ret < 0)
		io_unlink(h->io, fs_rel(path));
	return ret;
}

static int fs_readlink(const char *path, char *buf, size_t size)
{
	ssize_t n = io_readlink(fs_data()->io, fs_rel(path), buf, size);

	return n < 0 ? (int)n : 0;
}

static int fs_unlink(const char *path)
{
	return io_unlink(fs_data()->io, fs_rel(path));
}

static int fs_rmdir(const char *path)
{
	return io_rmdir(fs_data()->io, fs_rel(path));
}

static int fs_rename(const char *from, const char *to, unsigned int flags)
{
	return io_rename(fs_data()->io, fs_rel(from), fs_rel(to), flags);
}

static int fs_link(const char *from, const char *to)
{
	return io_link(fs_data()->io, fs_rel(from), fs_rel(to));
}

static int fs_statfs(const char *path, struct statvfs *st)
{
	return io_statvfs(fs_data()->io, fs_rel(path), st);
}

void fs_init_ops_dir(struct fuse_operations *ops)
{
	ops->getattr = fs_getattr;
	ops->opendir = fs_opendir;
	ops->readdir = fs_readdir;
	ops->releasedir = fs_releasedir;
	ops->fsyncdir = fs_fsyncdir;
	ops->mkdir = fs_mkdir;
	ops->mknod = fs_mknod;
	ops->symlink = fs_symlink;
	ops->readlink = fs_readlink;
	ops->unlink = fs_unlink;
	ops->rmdir = fs_rmdir;
	ops->rename = fs_rename;
	ops->link = fs_link;
	ops->statfs = fs_statfs;
}
