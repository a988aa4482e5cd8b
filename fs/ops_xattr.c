// SPDX-License-Identifier: GPL-2.0-or-later
/* Extended attributes, passed through to the backing object. */
#include "config.h"

#include "fs.h"

#include "core/record.h"

#include <errno.h>
#include <stdlib.h>

/*
 * A symlink's own xattrs cannot be reached race-free through its O_PATH
 * handle: a symlink then has none, and takes none (-@err_if_link), as
 * user.* xattrs on Linux.
 */
static int xattr_fd(fuse_req_t req, fuse_ino_t ino, int err_if_link)
{
	struct fs_inode *inode = fs_inode(req, ino);

	return S_ISLNK(inode->type) ? -err_if_link : fs_fd_hold(inode);
}

static void xattr_fd_drop(fuse_req_t req, fuse_ino_t ino, int fd)
{
	fs_fd_drop(fs_inode(req, ino), fd);
}

static void fs_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			const char *value, size_t size, int flags)
{
	int fd = fs_inode(req, ino)->ro ? -EROFS
		 : record_is_own_xattr(name) ? -EPERM
					     : xattr_fd(req, ino, EPERM);
	int ret = fd;

	if (fd >= 0)
		ret = io_setxattr_fd(fs_of(req)->io, fd, name, value, size,
				     flags);
	xattr_fd_drop(req, ino, fd);
	fuse_reply_err(req, ret < 0 ? -ret : 0);
}

/* Replies with the size (when @size is 0) or the bytes @get produced. */
static void reply_sized(fuse_req_t req, ssize_t n, const char *buf,
			size_t size)
{
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else if (size == 0)
		fuse_reply_xattr(req, (size_t)n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

static void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	int fd = xattr_fd(req, ino, ENODATA);
	char *buf = NULL;
	ssize_t n = fd;

	if (fd >= 0 && size && !(buf = malloc(size)))
		n = -ENOMEM;
	else if (fd >= 0)
		n = io_getxattr_fd(fs_of(req)->io, fd, name, buf, size);
	xattr_fd_drop(req, ino, fd);
	reply_sized(req, n, buf, size);
	free(buf);
}

/*
 * The names of @fd's xattrs without hydrafs's own (which getxattr still
 * shows by name): into *@out (caller frees), its length or -errno.
 */
static ssize_t list_names(struct io *io, int fd, char **out)
{
	char *buf = NULL;
	ssize_t n;

	/* Sized, then read; grown again when the list grew meanwhile. */
	do {
		free(buf);
		buf = NULL;
		n = io_listxattr_fd(io, fd, NULL, 0);
		if (n <= 0)
			break;
		buf = malloc((size_t)n);
		if (!buf)
			return -ENOMEM;
		n = io_listxattr_fd(io, fd, buf, (size_t)n);
	} while (n == -ERANGE);
	if (n < 0) {
		free(buf);
		return n;
	}
	*out = buf;
	return (ssize_t)record_hide_own_xattrs(buf, (size_t)n);
}

static void fs_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct fs_inode *inode = fs_inode(req, ino);
	char *buf = NULL;
	ssize_t n = 0;
	int fd;

	if (!S_ISLNK(inode->type)) { /* a symlink has none, see xattr_fd() */
		fd = fs_fd_hold(inode);
		n = fd < 0 ? fd : list_names(fs_of(req)->io, fd, &buf);
		fs_fd_drop(inode, fd);
	}
	if (n > 0 && size && (size_t)n > size)
		n = -ERANGE;
	reply_sized(req, n, buf, size);
	free(buf);
}

static void fs_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	int fd = fs_inode(req, ino)->ro ? -EROFS
		 : record_is_own_xattr(name) ? -EPERM
					     : xattr_fd(req, ino, EPERM);
	int ret = fd;

	if (fd >= 0)
		ret = io_removexattr_fd(fs_of(req)->io, fd, name);
	xattr_fd_drop(req, ino, fd);
	fuse_reply_err(req, ret < 0 ? -ret : 0);
}

void fs_init_ops_xattr(struct fuse_lowlevel_ops *ops)
{
	ops->setxattr = fs_setxattr;
	ops->getxattr = fs_getxattr;
	ops->listxattr = fs_listxattr;
	ops->removexattr = fs_removexattr;
}
