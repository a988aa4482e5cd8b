// SPDX-License-Identifier: GPL-2.0-or-later
/* Directory streams: opendir, readdir, readdirplus, releasedir, fsyncdir. */
#include "config.h"

#include "fs.h"

#include "core/version.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static struct io_dir *dir_of(const struct fuse_file_info *fi)
{
	return (struct io_dir *)(uintptr_t)fi->fh;
}

static void fs_opendir(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct fs_inode *inode = fs_inode(req, ino);
	struct io_dir *d;
	int fd = fs_fd_hold(inode);
	int ret = fd < 0 ? fd : io_opendir_fd(fs_of(req)->io, fd, &d);

	fs_fd_drop(inode, fd);

	if (ret < 0) {
		fuse_reply_err(req, -ret);
		return;
	}
	fi->fh = (uintptr_t)d;
	fuse_reply_open(req, fi);
}

static bool is_dot(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

/*
 * Adds one entry to @p (@rem bytes left); returns its size, or 0 when it
 * does not fit (nothing then added, no lookup kept) or -errno.
 */
static ssize_t add_entry(fuse_req_t req, struct fs_inode *dir, char *p,
			 size_t rem, const char *name, unsigned char type,
			 ino_t ino, off_t next, bool plus)
{
	struct fuse_entry_param e = { 0 };
	size_t n;
	int ret;

	if (!plus) {
		struct stat st = { 0 };

		st.st_mode = (mode_t)DTTOIF(type);
		st.st_ino = ino;
		n = fuse_add_direntry(req, p, rem, name, &st, next);
		return n > rem ? 0 : (ssize_t)n;
	}
	if (is_dot(name)) {
		/* Node id 0: the kernel takes no attributes for it. */
		e.attr.st_mode = (mode_t)DTTOIF(type);
		e.attr.st_ino = ino;
	} else {
		ret = fs_lookup_entry(req, dir, name, &e);
		if (ret == -ENOENT)
			return -ENOENT; /* gone since readdir: skip it */
		if (ret < 0)
			return ret;
	}
	n = fuse_add_direntry_plus(req, p, rem, name, &e, next);
	if (n > rem) {
		if (e.ino)
			fs_inodes_forget(&fs_of(req)->inodes,
					 (struct fs_inode *)(uintptr_t)e.ino, 1);
		return 0;
	}
	return (ssize_t)n;
}

static void readdir_common(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi, bool plus)
{
	struct hydrafs *h = fs_of(req);
	struct fs_inode *dir = fs_inode(req, ino);
	struct io_dir *d = dir_of(fi);
	char *buf = malloc(size), *p = buf;
	size_t rem = size;
	int ret = 0;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	for (;;) {
		const char *name;
		unsigned char type;
		off_t next;
		ino_t dino;
		ssize_t n;

		ret = io_readdir(h->io, d, off, &name, &type, &next, &dino);
		if (ret <= 0)
			break;
		/* The state dir is never shown. */
		if (fs_is_root(h, dir) && !strcmp(name, STATE_DIR)) {
			off = next;
			continue;
		}
		n = add_entry(req, dir, p, rem, name, type, dino, next, plus);
		if (n == 0)
			break;
		if (n < 0 && n != -ENOENT) {
			ret = (int)n;
			break;
		}
		if (n > 0) {
			p += n;
			rem -= (size_t)n;
		}
		off = next;
	}
	/* An error after some entries: give those; the next call sees it. */
	if (ret < 0 && p == buf)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_buf(req, buf, size - rem);
	free(buf);
}

static void fs_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, false);
}

static void fs_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size,
			   off_t off, struct fuse_file_info *fi)
{
	readdir_common(req, ino, size, off, fi, true);
}

static void fs_releasedir(fuse_req_t req, fuse_ino_t ino,
			  struct fuse_file_info *fi)
{
	io_closedir(dir_of(fi));
	fuse_reply_err(req, 0);
}

static void fs_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync,
			struct fuse_file_info *fi)
{
	fuse_reply_err(req, -io_dir_fsync(fs_of(req)->io, dir_of(fi),
					  datasync));
}

void fs_init_ops_dir(struct fuse_lowlevel_ops *ops)
{
	ops->opendir = fs_opendir;
	ops->readdir = fs_readdir;
	ops->readdirplus = fs_readdirplus;
	ops->releasedir = fs_releasedir;
	ops->fsyncdir = fs_fsyncdir;
}
