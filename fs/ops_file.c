// SPDX-License-Identifier: GPL-2.0-or-later
/* Open files: create, open, read, write, flush, release, fsync and friends. */
#include "config.h"

#include "fs.h"
#include "kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

int fs_kill_suidgid(int fd)
{
	struct io *io = fs_data()->io;
	struct stat st;
	mode_t kill = S_ISUID;
	int ret;

	if (!fs_kernel_kill_suidgid())
		return 0;
	ret = io_fstat(io, fd, &st);
	if (ret < 0)
		return ret;
	if (st.st_mode & S_IXGRP)
		kill |= S_ISGID;
	if (!(st.st_mode & kill))
		return 0;
	return io_fchmod(io, fd, st.st_mode & 07777 & ~kill);
}

static int file_install(int fd, int flags, struct fuse_file_info *fi)
{
	struct fs_file *f = malloc(sizeof(*f));

	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	f->fd = fd;
	fi->fh = (uintptr_t)f;
	/*
	 * O_DIRECT was accepted by the backing fs (so its errno is the
	 * backing fs's); our own I/O then goes through the backing page cache,
	 * since FUSE buffers are not aligned, while the kernel bypasses its
	 * cache for this handle.
	 */
	if (flags & O_DIRECT) {
		fi->direct_io = 1;
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_DIRECT);
	}
	return 0;
}

static int fs_create(const char *path, mode_t mode, struct fuse_file_info *fi)
{
	struct hydrafs *h = fs_data();
	int fd, ret;

	fd = io_open(h->io, fs_rel(path), fi->flags | O_CREAT, mode);
	if (fd < 0)
		return fd;
	if (h->is_root) {
		ret = fs_take_ownership(path, fd, false);
		if (ret < 0) {
			close(fd);
			io_unlink(h->io, fs_rel(path));
			return ret;
		}
	}
	return file_install(fd, fi->flags, fi);
}

static int fs_open(const char *path, struct fuse_file_info *fi)
{
	struct hydrafs *h = fs_data();
	int fd;

	int ret;

	fd = io_open(h->io, fs_rel(path), fi->flags & ~O_CREAT, 0);
	if (fd < 0)
		return fd;
	if (fi->flags & O_TRUNC) {
		ret = fs_kill_suidgid(fd);
		if (ret < 0) {
			io_close(h->io, fd);
			return ret;
		}
	}
	return file_install(fd, fi->flags, fi);
}

static int fs_read(const char *path, char *buf, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	return (int)io_pread(fs_data()->io, fs_file_of(fi)->fd, buf, size, off);
}

static int fs_write(const char *path, const char *buf, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	int fd = fs_file_of(fi)->fd;
	int ret = fs_kill_suidgid(fd);

	if (ret < 0)
		return ret;
	return (int)io_pwrite(fs_data()->io, fd, buf, size, off);
}

static int fs_flush(const char *path, struct fuse_file_info *fi)
{
	return io_flush(fs_data()->io, fs_file_of(fi)->fd);
}

static int fs_release(const char *path, struct fuse_file_info *fi)
{
	struct fs_file *f = fs_file_of(fi);

	io_close(fs_data()->io, f->fd);
	free(f);
	return 0;
}

static int fs_fsync(const char *path, int datasync, struct fuse_file_info *fi)
{
	return io_fsync(fs_data()->io, fs_file_of(fi)->fd, datasync);
}

static int fs_fallocate(const char *path, int mode, off_t off, off_t len,
			struct fuse_file_info *fi)
{
	return io_fallocate(fs_data()->io, fs_file_of(fi)->fd, mode, off, len);
}

static off_t fs_lseek(const char *path, off_t off, int whence,
		      struct fuse_file_info *fi)
{
	return io_lseek(fs_data()->io, fs_file_of(fi)->fd, off, whence);
}

static ssize_t fs_copy_file_range(const char *path_in,
				  struct fuse_file_info *fi_in, off_t off_in,
				  const char *path_out,
				  struct fuse_file_info *fi_out, off_t off_out,
				  size_t len, int flags)
{
	return io_copy_file_range(fs_data()->io, fs_file_of(fi_in)->fd,
				  &off_in, fs_file_of(fi_out)->fd, &off_out,
				  len, (unsigned int)flags);
}

void fs_init_ops_file(struct fuse_operations *ops)
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
