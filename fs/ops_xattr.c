// SPDX-License-Identifier: GPL-2.0-or-later
/* Extended attributes, passed through to the backing object. */
#include "config.h"

#include "fs.h"

#include "core/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

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

/*
 * SCRUB_XATTR: the file verified from its backing content (a reader found
 * it damaged), flagged when it is.  The size asked first is the longest
 * answer's, so that the scrub runs once.  Not while the file is being
 * written (its stage or append session owns its record): EBUSY.
 */
static void scrub(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	static const char damaged[] = "damaged", ok[] = "ok";
	struct fs_inode *inode = fs_inode(req, ino);
	struct hydrafs *h = fs_of(req);
	struct who who;
	char comm[32];
	bool busy;
	int fd, ret;

	if (inode->ro || !S_ISREG(inode->type)) {
		fuse_reply_err(req, ENODATA);
		return;
	}
	if (size == 0) {
		fuse_reply_xattr(req, sizeof(damaged) - 1);
		return;
	}
	pthread_mutex_lock(&inode->lock);
	busy = inode->stage || inode->append;
	pthread_mutex_unlock(&inode->lock);
	fd = busy ? -EBUSY : fs_fd_hold(inode);
	fs_who(req, &who, comm, sizeof(comm));
	ret = fd < 0 ? fd : store_scrub(h->store, fd, &who);
	if (fd >= 0)
		fs_fd_drop(inode, fd);
	if (ret >= 0) {
		/*
		 * Read as the view (damaged) or as it is (whole, again): the
		 * kernel forgets the pages and size it cached of the other.
		 */
		if (ret == 0) {
			pthread_mutex_lock(&inode->lock);
			inode->view_size = -1;
			pthread_mutex_unlock(&inode->lock);
		}
		fuse_lowlevel_notify_inval_inode(h->se, ino, 0, 0);
	}
	if (ret < 0)
		fuse_reply_err(req, -ret);
	else if (ret && size < sizeof(damaged) - 1)
		fuse_reply_err(req, ERANGE);
	else
		fuse_reply_buf(req, ret ? damaged : ok,
			       ret ? sizeof(damaged) - 1 : sizeof(ok) - 1);
}

static void fs_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name,
			size_t size)
{
	char *buf = NULL;
	ssize_t n;
	int fd;

	if (!strcmp(name, SCRUB_XATTR)) {
		scrub(req, ino, size);
		return;
	}
	fd = xattr_fd(req, ino, ENODATA);
	n = fd;
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
