// SPDX-License-Identifier: GPL-2.0-or-later
/* Open files: create, open, read, write, flush, release, fsync and friends. */
#include "config.h"

#include "fs.h"
#include "kernel.h"

#include "core/recovered.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

int fs_kill_suidgid(struct io *io, int fd)
{
	struct stat st;
	mode_t kill = S_ISUID;
	int ret;

	if (!fs_kernel_kill_suidgid())
		return 0;
	ret = io_fstatat_empty(io, fd, &st);
	if (ret < 0)
		return ret;
	if (st.st_mode & S_IXGRP)
		kill |= S_ISGID;
	if (!(st.st_mode & kill))
		return 0;
	return io_chmod_fd(io, fd, st.st_mode & 07777 & ~kill);
}

static int file_install(struct hydrafs *h, struct fs_inode *inode, int fd,
			bool staged, struct fuse_file_info *fi)
{
	struct fs_file *f = malloc(sizeof(*f));

	if (!f) {
		io_close(h->io, fd);
		return -ENOMEM;
	}
	f->fd = fd;
	f->staged = staged;
	f->flushed = false;
	f->append = fi->flags & O_APPEND;
	/* See open_trunc(): an appender's truncation is committed at once. */
	f->trunc = (fi->flags & O_TRUNC) && !(fi->flags & O_APPEND);
	f->aw = NULL;
	f->limit = -1;
	f->obj = inode->ino;
	fs_inode_pin(inode);
	pthread_mutex_lock(&h->files_lock);
	f->next = h->files.next;
	f->prev = &h->files;
	f->next->prev = f;
	h->files.next = f;
	pthread_mutex_unlock(&h->files_lock);
	fi->fh = (uintptr_t)f;
	/*
	 * O_DIRECT was accepted by the backing fs (so its errno is the
	 * backing fs's); our own I/O then goes through the backing page cache,
	 * since FUSE buffers are not aligned, while the kernel bypasses its
	 * cache for this handle.
	 */
	if (fi->flags & O_DIRECT) {
		fi->direct_io = 1;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_DIRECT);
	}
	return 0;
}

static void fs_create(fuse_req_t req, fuse_ino_t parent, const char *name,
		      mode_t mode, struct fuse_file_info *fi)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct hydrafs *h = fs_of(req);
	struct fs_inode *p = fs_inode(req, parent);
	struct fuse_entry_param e;
	struct stat pst;
	int fd, pfd, ret;

	pfd = fs_check_change(h, p, name);
	if (pfd == 0)
		pfd = fs_fd_hold(p);
	fd = pfd < 0 ? pfd
		     : io_openat(h->io, pfd, name, fi->flags | O_CREAT, mode);
	if (fd < 0) {
		fs_fd_drop(p, pfd);
		fuse_reply_err(req, -fd);
		return;
	}
	ret = 0;
	/* A new file is the caller's (see give_to_caller in ops_entry.c). */
	if (h->is_root && (ctx->uid != 0 || ctx->gid != 0)) {
		ret = io_fstatat_empty(h->io, pfd, &pst);
		if (ret == 0)
			ret = io_fchown(h->io, fd, ctx->uid,
					pst.st_mode & S_ISGID ? (gid_t)-1
							      : ctx->gid);
	}
	if (ret == 0)
		ret = fs_lookup_entry(req, p, name, &e);
	if (ret == 0) {
		struct fs_inode *inode = (struct fs_inode *)(uintptr_t)e.ino;
		bool staged = !store_is_scratch(name);

		/* An appender's bytes must not reach readers through the cache. */
		if (staged && (fi->flags & O_APPEND))
			fi->direct_io = 1;
		ret = file_install(h, inode, fd, staged, fi);
		if (ret == 0 && staged) {
			pthread_mutex_lock(&inode->lock);
			inode->writers++;
			inode->active++;
			pthread_mutex_unlock(&inode->lock);
		}
		if (ret < 0)
			fs_inodes_forget(&h->inodes,
					 (struct fs_inode *)(uintptr_t)e.ino, 1);
		fd = -1;
	}
	if (ret < 0) {
		if (fd >= 0)
			io_close(h->io, fd);
		io_unlinkat(h->io, pfd, name, false);
		fs_fd_drop(p, pfd);
		fuse_reply_err(req, -ret);
		return;
	}
	fs_fd_drop(p, pfd);
	fuse_reply_create(req, &e, fi);
}

/*
 * When the .backups file behind @inode is a checkpoint: *@fd (open on the
 * marker) becomes an fd of the content it is a prefix of, *@limit its
 * length.
 */
static int open_checkpoint(struct hydrafs *h, struct fs_inode *inode, int *fd,
			   off_t *limit)
{
	uint64_t len;
	int ifd = fs_fd_hold(inode), data, ret;

	ret = ifd < 0 ? ifd : store_checkpoint_len(h->store, ifd, &len);
	if (ret == 1) {
		ret = store_checkpoint_open(h->store, ifd, &data);
		ret = ret < 0 ? ret : 1;
	}
	fs_fd_drop(inode, ifd);
	if (ret <= 0) {
		if (ret < 0)
			io_close(h->io, *fd);
		return ret;
	}
	io_close(h->io, *fd);
	*fd = data;
	*limit = (off_t)len;
	return 0;
}

/*
 * A damaged file (behind @ifd) is read as its recovered view: a reader's
 * fd becomes the view (*@fd); a writable handle reads through the inode's
 * data fd, which becomes the view until a stage (made from the view)
 * takes over.  The inode shows the view's size, and the kernel forgets the
 * raw file's pages and attributes.  Without a view (none can be made, or
 * recover = off) the file is read as it is.
 */
static int open_view(struct hydrafs *h, struct fs_inode *inode, int ifd,
		     int *fd, bool staged)
{
	struct stat vst, raw;
	int vfd, ret;

	if (staged && inode->stage)
		return 0; /* its stage was made from the view already */
	ret = store_recovered_view(h->store, ifd, &vfd, &vst);
	if (ret <= 0)
		return ret == -ENOENT ? 0 : ret;
	if (io_fstatat_empty(h->io, ifd, &raw) == 0) {
		inode->view_size = vst.st_size;
		inode->view_raw_size = raw.st_size;
		inode->view_raw_mtime = raw.st_mtim;
	}
	if (staged) {
		if (inode->data_fd >= 0)
			io_close(h->io, inode->data_fd);
		inode->data_fd = vfd;
	} else {
		io_close(h->io, *fd);
		*fd = vfd;
	}
	/*
	 * No page is locked by the kernel for an open: dropping the raw
	 * file's pages here is safe, and reads then fill them from the view
	 * (mmap works), up to the view's size, which the next getattr gives.
	 */
	fuse_lowlevel_notify_inval_inode(h->se,
					 (fuse_ino_t)(uintptr_t)inode, 0, 0);
	return 0;
}

void fs_view_attr(struct fs_inode *inode, struct stat *st)
{
	if (inode->view_size < 0)
		return;
	if (st->st_size != inode->view_raw_size ||
	    st->st_mtim.tv_sec != inode->view_raw_mtime.tv_sec ||
	    st->st_mtim.tv_nsec != inode->view_raw_mtime.tv_nsec) {
		inode->view_size = -1; /* changed since: checked again at open */
		return;
	}
	st->st_size = (off_t)inode->view_size;
	st->st_blocks = (blkcnt_t)((inode->view_size + 511) / 512);
}

/*
 * The work of an O_TRUNC open is an ordinary (whole-file) commit.  An
 * appender that truncates first (O_TRUNC | O_APPEND, a logger starting
 * over) has its truncation committed at once instead, the old content
 * kept as a version, and what it writes next is appended (append mode).
 */
static int open_trunc(fuse_req_t req, struct fs_inode *inode, int flags)
{
	struct hydrafs *h = fs_of(req);
	bool fresh = !inode->stage && !inode->writers;
	int ret;

	if ((flags & O_APPEND) && inode->append)
		return fs_append_truncate(req, inode, 0);
	ret = fs_append_leave(h, inode);
	if (ret == 0)
		ret = fs_stage_open_trunc(h, inode);
	if (ret == 0 && fresh && (flags & O_APPEND)) {
		inode->written = true;
		ret = fs_stage_commit(req, inode, false);
	}
	return ret;
}

static bool is_writable(int flags)
{
	return (flags & O_ACCMODE) != O_RDONLY || (flags & O_TRUNC);
}

static void fs_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct hydrafs *h = fs_of(req);
	struct fs_inode *inode = fs_inode(req, ino);
	bool writable = is_writable(fi->flags), staged = false;
	int fd = -1, ifd, ret = 0, damaged = 0;
	ino_t obj = 0;

	if (writable && inode->ro) {
		fuse_reply_err(req, EROFS);
		return;
	}
	ifd = fs_fd_hold(inode);
	if (ifd < 0) {
		fuse_reply_err(req, -ifd);
		return;
	}
	/*
	 * Under the inode's lock, so that no commit changes the file between
	 * the decision and the open; a file that already has writers keeps
	 * their mode (a commit in progress links it twice for a moment).
	 */
	pthread_mutex_lock(&inode->lock);
	/*
	 * A file not as its last commit left it (changed or damaged behind
	 * the mount) is verified once; what it is being written from is the
	 * stage's business.
	 */
	if (!inode->ro && S_ISREG(inode->type) && !inode->stage &&
	    !inode->append) {
		struct who who;
		char comm[32];

		fs_who(req, &who, comm, sizeof(comm));
		/* A file that cannot be read says so at its reads. */
		damaged = store_check(h->store, ifd, &who);
	}
	if (writable) {
		ret = inode->writers || inode->stage ? 1
						     : fs_is_protected(h, inode);
		staged = ret > 0;
		ret = ret < 0 ? ret : 0;
	}
	if (ret == 0 && writable && !staged && (fi->flags & O_TRUNC))
		ret = fs_keep_before_truncate(req, inode);
	/* A protected file is never truncated in place: its stage is. */
	if (ret == 0) {
		fd = io_reopen(h->io, ifd,
			       staged ? fi->flags & ~O_TRUNC : fi->flags);
		ret = fd < 0 ? fd : 0;
	}
	/* A damaged file is read as its recovered view. */
	if (ret == 0 && damaged == 1 && (!writable || staged) &&
	    !(fi->flags & O_TRUNC))
		ret = open_view(h, inode, ifd, &fd, staged);
	obj = inode->ino;	/* what @fd was opened on, under the lock */
	if (ret == 0 && (fi->flags & O_TRUNC))
		ret = fs_kill_suidgid(h->io, ifd);
	if (ret == 0 && staged && (fi->flags & O_TRUNC))
		ret = open_trunc(req, inode, fi->flags);
	if (ret == 0 && staged) {
		inode->writers++;
		inode->active++;
	}
	/*
	 * A reader opened while the file is written reads the version it
	 * opened.  Writers already closed (flushed, their RELEASE still to
	 * come) have committed: a reader after them may map the file.
	 */
	if (!writable && (inode->active || inode->append ||
			  (S_ISREG(inode->type) && !inode->ro &&
			   fs_is_log(h, inode))))
		fi->direct_io = 1;
	/* An appender's bytes must not reach readers through the cache. */
	if (staged && (fi->flags & O_APPEND))
		fi->direct_io = 1;
	pthread_mutex_unlock(&inode->lock);
	fs_fd_drop(inode, ifd);
	if (ret == 0) {
		off_t limit = -1;

		/* A checkpoint in .backups reads as its prefix of the file. */
		if (inode->ro && S_ISREG(inode->type))
			ret = open_checkpoint(h, inode, &fd, &limit);
		if (ret == 0)
			ret = file_install(h, inode, fd, staged, fi);
		if (ret == 0) {
			fs_file_of(fi)->limit = limit;
			fs_file_of(fi)->obj = obj;
		}
		fd = -1;
		if (ret < 0 && staged) {
			pthread_mutex_lock(&inode->lock);
			inode->writers--;
			inode->active--;
			pthread_mutex_unlock(&inode->lock);
		}
	}
	if (fd >= 0)
		io_close(h->io, fd);
	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_open(req, fi);
}

/* Read buffers: one per thread, grown to the largest read it served. */
static pthread_key_t buf_key;
static pthread_once_t buf_once = PTHREAD_ONCE_INIT;

struct read_buf {
	size_t size;
	char data[];
};

static void buf_key_init(void)
{
	pthread_key_create(&buf_key, free);
}

static char *read_buf(size_t size)
{
	struct read_buf *b;

	pthread_once(&buf_once, buf_key_init);
	b = pthread_getspecific(buf_key);
	if (b && b->size >= size)
		return b->data;
	free(b);
	b = malloc(sizeof(*b) + size);
	pthread_setspecific(buf_key, b);
	if (!b)
		return NULL;
	b->size = size;
	return b->data;
}

static void fs_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	char *buf = read_buf(size);
	ssize_t n;

	if (!buf) {
		fuse_reply_err(req, ENOMEM);
		return;
	}
	if (fs_file_of(fi)->staged) {
		struct hydrafs *h = fs_of(req);
		struct fs_inode *inode = fs_inode(req, ino);
		struct fs_file *f = fs_file_of(fi);
		int fd;

		pthread_mutex_lock(&inode->lock);
		if (inode->append) {
			n = append_read(inode->append,
					f->aw && append_writer_attached(f->aw)
						? f->aw
						: NULL,
					buf, size, off);
		} else {
			fd = fs_stage_read_fd(h, inode);
			n = fd < 0 ? fd : io_pread(h->io, fd, buf, size, off);
		}
		pthread_mutex_unlock(&inode->lock);
	} else {
		struct fs_inode *inode = fs_inode(req, ino);
		off_t end = fs_file_of(fi)->limit;

		/*
		 * In append mode a reader of the file sees only what is
		 * committed (one of an older version reads all of it).
		 */
		if (inode->append) {
			pthread_mutex_lock(&inode->lock);
			if (inode->append && fs_file_of(fi)->obj == inode->ino)
				end = (off_t)append_committed(inode->append);
			pthread_mutex_unlock(&inode->lock);
		}
		if (end >= 0)
			size = off >= end ? 0
			       : (off_t)size > end - off ? (size_t)(end - off)
							 : size;
		n = size ? io_pread(fs_of(req)->io, fs_file_of(fi)->fd, buf,
				    size, off)
			 : 0;
	}
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_buf(req, buf, (size_t)n);
}

static void fs_write(fuse_req_t req, fuse_ino_t ino, const char *buf,
		     size_t size, off_t off, struct fuse_file_info *fi)
{
	struct hydrafs *h = fs_of(req);
	struct fs_inode *inode = fs_inode(req, ino);
	struct fs_file *f = fs_file_of(fi);
	ssize_t n = 0;
	struct stat st;
	int fd;

	if (fs_kernel_kill_suidgid()) {
		fd = fs_fd_hold(inode);
		n = fd < 0 ? fd : fs_kill_suidgid(h->io, fd);
		fs_fd_drop(inode, fd);
	}

	if (n == 0 && f->staged) {
		pthread_mutex_lock(&inode->lock);
		if (f->flushed) {
			f->flushed = false;
			inode->active++;
		}
		if (fs_append_write(req, inode, f, buf, size, off, &n) != 0)
			goto out_unlock; /* taken in append mode, or failed */
		n = fs_stage_write_fd(h, inode, &fd);
		/* O_APPEND: at the end of what is staged, whoever wrote it. */
		if (n == 0 && f->append) {
			n = io_fstat(h->io, fd, &st);
			off = st.st_size;
		}
		if (n == 0)
			n = stage_pwrite(h->store, inode->stage, buf, size, off);
out_unlock:
		pthread_mutex_unlock(&inode->lock);
	} else if (n == 0) {
		n = io_pwrite(h->io, f->fd, buf, size, off);
	}
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

/*
 * close(): only FLUSH's result reaches the program, so the last writable
 * handle's close commits here, and a failed commit is its error.
 */
static void fs_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_inode *inode = fs_inode(req, ino);
	struct fs_file *f = fs_file_of(fi);
	int ret = io_flush(fs_of(req)->io, f->fd);

	/*
	 * Not after an O_TRUNC open with nothing written yet: shells flush the
	 * fd they dup2() away before writing, and committing the emptied file
	 * then would show readers an empty file and keep a needless version.
	 * The release commits it if nothing more comes.
	 */
	/*
	 * "Last" counts handles not closed since their last write: a handle
	 * already closed whose RELEASE has not arrived yet must not stop the
	 * commit (close() would return before its content is the file's).
	 */
	if (ret == 0 && f->staged) {
		pthread_mutex_lock(&inode->lock);
		if (!f->flushed) {
			f->flushed = true;
			inode->active--;
		}
		ret = fs_append_flush(inode, f);
		if (ret == 0 && inode->active == 0 && inode->written)
			ret = fs_stage_commit(req, inode, false);
		pthread_mutex_unlock(&inode->lock);
	}
	fuse_reply_err(req, -ret);
}

static void file_unlink(struct hydrafs *h, struct fs_file *f)
{
	pthread_mutex_lock(&h->files_lock);
	f->prev->next = f->next;
	f->next->prev = f->prev;
	pthread_mutex_unlock(&h->files_lock);
}

void fs_files_release(struct hydrafs *h)
{
	while (h->files.next != &h->files) {
		struct fs_file *f = h->files.next;

		file_unlink(h, f);
		io_close(h->io, f->fd);
		free(f);
	}
}

static void fs_release(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct hydrafs *h = fs_of(req);
	struct fs_inode *inode = fs_inode(req, ino);
	struct fs_file *f = fs_file_of(fi);

	if (f->staged) {
		pthread_mutex_lock(&inode->lock);
		if (!f->flushed)
			inode->active--;
		inode->writers--;
		fs_append_release(inode, f);
		if (inode->writers == 0)
			fs_stage_release(req, inode);
		pthread_mutex_unlock(&inode->lock);
	}
	file_unlink(h, f);
	io_close(h->io, f->fd);
	free(f);
	fs_inode_unpin(inode);
	fuse_reply_err(req, 0);
}

static void fs_fsync(fuse_req_t req, fuse_ino_t ino, int datasync,
		     struct fuse_file_info *fi)
{
	struct fs_inode *inode = fs_inode(req, ino);
	struct fs_file *f = fs_file_of(fi);
	int ret;

	if (!f->staged) {
		fuse_reply_err(req, -io_fsync(fs_of(req)->io, f->fd, datasync));
		return;
	}
	pthread_mutex_lock(&inode->lock);
	ret = inode->append ? append_commit(inode->append, true) : 0;
	if (ret == 0 && inode->stage)
		ret = fs_stage_commit(req, inode, true);
	pthread_mutex_unlock(&inode->lock);
	fuse_reply_err(req, -ret);
}

static void fs_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t off,
			 off_t len, struct fuse_file_info *fi)
{
	struct hydrafs *h = fs_of(req);
	struct fs_inode *inode = fs_inode(req, ino);
	int fd = fs_file_of(fi)->fd, ret = 0;

	if (fs_file_of(fi)->staged) {
		pthread_mutex_lock(&inode->lock);
		if (fs_file_of(fi)->flushed) {
			fs_file_of(fi)->flushed = false;
			inode->active++;
		}
		ret = fs_append_leave(h, inode);
		if (ret == 0)
			ret = fs_stage_write_fd(h, inode, &fd);
		if (ret == 0)
			ret = stage_fallocate(h->store, inode->stage, mode, off,
					      len);
		pthread_mutex_unlock(&inode->lock);
	} else {
		ret = io_fallocate(h->io, fd, mode, off, len);
	}
	fuse_reply_err(req, -ret);
}

static void fs_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	struct hydrafs *h = fs_of(req);
	struct fs_inode *inode = fs_inode(req, ino);
	off_t r;

	if (fs_file_of(fi)->staged) {
		pthread_mutex_lock(&inode->lock);
		r = fs_stage_read_fd(h, inode);
		if (r >= 0)
			r = io_lseek(h->io, (int)r, off, whence);
		pthread_mutex_unlock(&inode->lock);
	} else {
		r = io_lseek(h->io, fs_file_of(fi)->fd, off, whence);
	}

	if (r < 0)
		fuse_reply_err(req, (int)-r);
	else
		fuse_reply_lseek(req, r);
}

static void fs_copy_file_range(fuse_req_t req, fuse_ino_t ino_in,
			       off_t off_in, struct fuse_file_info *fi_in,
			       fuse_ino_t ino_out, off_t off_out,
			       struct fuse_file_info *fi_out, size_t len,
			       int flags)
{
	ssize_t n;

	/* Into or out of a stage: the kernel falls back to read and write. */
	if (fs_file_of(fi_in)->staged || fs_file_of(fi_out)->staged) {
		fuse_reply_err(req, EOPNOTSUPP);
		return;
	}
	n = io_copy_file_range(fs_of(req)->io, fs_file_of(fi_in)->fd, &off_in,
			       fs_file_of(fi_out)->fd, &off_out, len,
			       (unsigned int)flags);

	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_write(req, (size_t)n);
}

void fs_init_ops_file(struct fuse_lowlevel_ops *ops)
{
	ops->create = fs_create;
	ops->open = fs_open;
	ops->read = fs_read;
	ops->write = fs_write;
	ops->flush = fs_flush;
	ops->release = fs_release;
	ops->fsync = fs_fsync;
	ops->fallocate = fs_fallocate;
	ops->lseek = fs_lseek;
	ops->copy_file_range = fs_copy_file_range;
}
