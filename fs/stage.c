// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Staged writes, as the FUSE requests see them: which handles write through
 * a shadow, when the shadow is made, and when it is committed (core/store
 * does the work).
 *
 * A regular file with one link, not in .backups and not a scratch file, is
 * protected: its writable handles share the inode's stage, made at the first
 * write (or a truncating open, or a truncate); the last writable handle's
 * close (FLUSH), or any fsync, commits it.  Other files are written in place.
 * All of it under the inode's lock.
 */
#include "config.h"

#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

static int is_protected(struct hydrafs *h, int fd)
{
	char path[PATH_MAX];
	struct stat st;
	int ret = io_fstatat_empty(h->io, fd, &st);

	return ret < 0 ? ret : store_is_protected(h->store, fd, &st, path,
						  sizeof(path));
}

int fs_is_protected(struct hydrafs *h, struct fs_inode *inode)
{
	int fd, ret;

	if (inode->ro || !S_ISREG(inode->type))
		return 0;
	fd = fs_fd_hold(inode);
	if (fd < 0)
		return fd;
	ret = is_protected(h, fd);
	fs_fd_drop(inode, fd);
	return ret;
}

/* The stage of @inode, made when missing; under inode->lock. */
static int stage_of(struct hydrafs *h, struct fs_inode *inode, bool truncate,
		    int *fd)
{
	int ret;

	if (!inode->stage) {
		int ifd = fs_fd_hold(inode);

		ret = ifd < 0 ? ifd
			      : stage_begin(h->store, ifd, truncate, &inode->stage);
		fs_fd_drop(inode, ifd);
		if (ret < 0)
			return ret;
	} else if (truncate) {
		ret = stage_truncate(h->store, inode->stage, 0);
		if (ret < 0)
			return ret;
	}
	*fd = stage_fd(inode->stage);
	return 0;
}

/* An fd to read @inode's current content through; under inode->lock. */
int fs_stage_read_fd(struct hydrafs *h, struct fs_inode *inode)
{
	if (inode->stage)
		return stage_fd(inode->stage);
	if (inode->data_fd < 0) {
		int ifd = fs_fd_hold(inode);

		inode->data_fd = ifd < 0 ? ifd : io_reopen(h->io, ifd, O_RDONLY);
		fs_fd_drop(inode, ifd);
	}
	return inode->data_fd;
}

int fs_stage_write_fd(struct hydrafs *h, struct fs_inode *inode, int *fd)
{
	int ret = stage_of(h, inode, false, fd);

	if (ret == 0)
		inode->written = true;
	return ret;
}

/* Commits @inode's stage; under inode->lock. */
int fs_stage_commit(fuse_req_t req, struct fs_inode *inode, bool durable)
{
	struct hydrafs *h = fs_of(req);
	struct stat st;
	struct who who;
	char comm[32];
	int ifd, nfd, ret;

	if (!inode->stage || inode->kept)
		return 0; /* a deleted file's stage is kept at release */
	fs_who(req, &who, comm, sizeof(comm));
	ifd = fs_fd_hold(inode);
	if (ifd < 0)
		return ifd;
	ret = stage_commit(h->store, inode->stage, ifd, &who, durable, &nfd,
			   &st);
	fs_fd_drop(inode, ifd);
	if (ret < 0)
		return ret;
	inode->stage = NULL;
	inode->written = false;
	/*
	 * Refused (kept under .backups/.rejected): the file is as it was,
	 * and the kernel must forget the size and pages it was written with.
	 */
	if (ret == 1) {
		fuse_lowlevel_notify_inval_inode(h->se,
						 (fuse_ino_t)(uintptr_t)inode,
						 0, 0);
		return -EIO;
	}
	if (nfd < 0)
		return 0;
	fs_inodes_rekey(&h->inodes, inode, nfd, &st);
	inode->view_size = -1;
	if (inode->data_fd >= 0) {
		io_close(h->io, inode->data_fd);
		inode->data_fd = -1;
	}
	/* The inode number and times changed: the kernel asks again. */
	fuse_lowlevel_notify_inval_inode(h->se, (fuse_ino_t)(uintptr_t)inode,
					 -1, 0);
	return 0;
}

/*
 * The last writable handle is gone (release): commit what is left; what
 * cannot be committed is kept under .backups/.orphans.
 */
void fs_stage_release(fuse_req_t req, struct fs_inode *inode)
{
	struct hydrafs *h = fs_of(req);

	if (inode->stage && fs_stage_commit(req, inode, false) < 0) {
		stage_free(h->store, inode->stage);
		inode->stage = NULL;
		inode->written = false;
	}
}

int fs_stage_open_trunc(struct hydrafs *h, struct fs_inode *inode)
{
	int fd;

	return stage_of(h, inode, true, &fd);
}

int fs_keep_before_truncate(fuse_req_t req, struct fs_inode *inode)
{
	struct hydrafs *h = fs_of(req);
	char path[PATH_MAX], comm[32];
	const char *base;
	struct who who;
	int fd, ret = 0;

	if (inode->ro || !S_ISREG(inode->type))
		return 0;
	fd = fs_fd_hold(inode);
	if (fd < 0)
		return fd;
	if (io_relpath(h->io, fd, path, sizeof(path)) < 0)
		goto out_drop;
	base = strrchr(path, '/');
	if (store_is_scratch(base ? base + 1 : path))
		goto out_drop;
	fs_who(req, &who, comm, sizeof(comm));
	ret = store_keep_copy(h->store, fd, &who);
out_drop:
	fs_fd_drop(inode, fd);
	return ret;
}

int fs_stage_truncate(fuse_req_t req, struct fs_inode *inode,
		      struct fuse_file_info *fi, off_t size)
{
	struct hydrafs *h = fs_of(req);
	struct fs_file *f = fi && fi->fh ? fs_file_of(fi) : NULL;
	int fd, ret;

	pthread_mutex_lock(&inode->lock);
	ret = f ? f->staged : inode->writers || inode->stage || inode->append ? 1
						 : fs_is_protected(h, inode);
	if (ret < 0) {
		pthread_mutex_unlock(&inode->lock);
		return ret;
	}
	if (!ret) {
		/* Truncated in place: a copy of what is cut is kept first. */
		ret = fs_keep_before_truncate(req, inode);
		pthread_mutex_unlock(&inode->lock);
		return ret < 0 ? ret : -ENOTSUP;
	}
	if (inode->append) {
		ret = fs_append_truncate(req, inode, size);
		pthread_mutex_unlock(&inode->lock);
		return ret;
	}
	ret = stage_of(h, inode, size == 0, &fd);
	if (ret == 0 && size)
		ret = stage_truncate(h->store, inode->stage, size);
	if (ret == 0)
		inode->written = true;
	/*
	 * Through a writable handle the close commits; else it is one change,
	 * committed now unless a writer is still active: writers already
	 * closed (their RELEASE still to come) must not leave it staged, or a
	 * reader opened next would read the content from before it.
	 */
	if (ret == 0 && !f && inode->active == 0)
		ret = fs_stage_commit(req, inode, false);
	pthread_mutex_unlock(&inode->lock);
	return ret;
}
