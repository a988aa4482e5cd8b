/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * io: the one place that calls the backing store.
 *
 * Every call is relative to an fd of the backing dir.  Paths are relative to
 * that dir ("." is the dir itself, "a/b" a file in it); no component of a path
 * is ever followed through a symlink, so nothing can escape the backing dir,
 * and the last component is never followed either (callers act on links
 * themselves, like lstat).
 *
 * Every call counts against a fault table: tests can make the Nth call of a
 * kind fail with any errno (io_fault_set(), or HYDRAFS_FAULTS in the daemon's
 * environment, see io_fault_parse()).
 *
 * Returns: 0 or -errno; sizes and fds are >= 0 or -errno.  Never -1 + errno.
 * Thread-safe: one struct io is shared by all FUSE threads; the fault table
 * uses atomics.
 */
#ifndef HYDRAFS_IO_H
#define HYDRAFS_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/types.h>
#include <time.h>

/* The kinds of call a fault can be injected into; names in io_kind_name(). */
enum io_kind {
	IO_OPEN,
	IO_CLOSE,
	IO_READ,
	IO_WRITE,
	IO_STAT,
	IO_FSYNC,
	IO_TRUNCATE,
	IO_MKDIR,
	IO_MKNOD,
	IO_SYMLINK,
	IO_READLINK,
	IO_UNLINK,
	IO_RMDIR,
	IO_RENAME,
	IO_LINK,
	IO_CHMOD,
	IO_CHOWN,
	IO_UTIMENS,
	IO_STATFS,
	IO_XATTR,
	IO_FALLOCATE,
	IO_LSEEK,
	IO_COPY,
	IO_READDIR,
	IO_KIND_COUNT
};

struct io;

/*
 * Opens the backing dir @path (following symlinks in @path itself, as a user
 * naming it expects).  Caller frees with io_free().
 */
int io_new(const char *path, struct io **out);
void io_free(struct io *io);

/* The backing dir's fd, borrowed. */
int io_rootfd(const struct io *io);

/* Name of @kind ("open", "write"...), or NULL when out of range. */
const char *io_kind_name(enum io_kind kind);

/*
 * Makes call number @nth (1-based, counted from now) of @kind fail with
 * -@err; @nth 0 makes every call fail; @err 0 clears the entry.
 */
void io_fault_set(struct io *io, enum io_kind kind, unsigned long nth, int err);

/*
 * A fault that is a crash: the call kills the process with SIGKILL, as a
 * power cut or kill -9 would stop it; a write first writes the first half
 * of its bytes (a torn write).  For crash tests.
 */
#define IO_FAULT_CRASH 10000
void io_crash(void) __attribute__((noreturn));

/*
 * Parses a fault list "KIND:N:ERRNO[,KIND:N:ERRNO...]" (ERRNO a name such as
 * EIO, a number, or CRASH: see IO_FAULT_CRASH; N 0 means always; each KIND
 * at most once) and arms it.
 * An empty list arms nothing.  -EINVAL on a bad list, with nothing armed.
 */
int io_fault_parse(struct io *io, const char *spec);

/* Calls of @kind made so far (faulted ones included). */
unsigned long io_calls(const struct io *io, enum io_kind kind);

/* Path calls.  @path is relative to the backing dir, "." for itself. */
int io_lstat(struct io *io, const char *path, struct stat *st);
int io_open(struct io *io, const char *path, int flags, mode_t mode);
int io_mkdir(struct io *io, const char *path, mode_t mode);
int io_mknod(struct io *io, const char *path, mode_t mode, dev_t dev);
int io_symlink(struct io *io, const char *target, const char *path);
/*
 * Writes the target, cut to at most @size - 1 bytes, and a NUL; returns the
 * number of bytes written before the NUL.
 */
ssize_t io_readlink(struct io *io, const char *path, char *buf, size_t size);
int io_unlink(struct io *io, const char *path);
int io_rmdir(struct io *io, const char *path);
/* @flags: 0, RENAME_NOREPLACE or RENAME_EXCHANGE. */
int io_rename(struct io *io, const char *from, const char *to,
	      unsigned int flags);
int io_link(struct io *io, const char *from, const char *to);
int io_chmod(struct io *io, const char *path, mode_t mode);
/* (uid_t)-1 / (gid_t)-1 leave that id unchanged. */
int io_chown(struct io *io, const char *path, uid_t uid, gid_t gid);
int io_truncate(struct io *io, const char *path, off_t size);
int io_utimens(struct io *io, const char *path, const struct timespec ts[2]);
int io_statvfs(struct io *io, const char *path, struct statvfs *st);
int io_setxattr(struct io *io, const char *path, const char *name,
		const void *value, size_t size, int flags);
ssize_t io_getxattr(struct io *io, const char *path, const char *name,
		    void *value, size_t size);
ssize_t io_listxattr(struct io *io, const char *path, char *list,
		     size_t size);
int io_removexattr(struct io *io, const char *path, const char *name);

/*
 * Calls relative to a dir fd and ONE name (no '/', never '.' or '..', never
 * followed when a symlink), or on an O_PATH handle of the object itself.
 */

/* Opens an O_PATH handle of @name in @dirfd (caller closes) and stats it. */
int io_lookup(struct io *io, int dirfd, const char *name, int *fd_out,
	      struct stat *st);
/* lstat of the object @fd (an O_PATH handle) refers to. */
int io_fstatat_empty(struct io *io, int fd, struct stat *st);
int io_openat(struct io *io, int dirfd, const char *name, int flags,
	      mode_t mode);
/* A new fd with @flags of the regular file behind O_PATH handle @fd. */
int io_reopen(struct io *io, int fd, int flags);
/*
 * A file handle of the object behind O_PATH handle @fd, stable while the
 * object lives, that reopens it under a known path: a directory's, a
 * connectable one for another object (Linux 6.13), or a plain one on
 * tmpfs; caller frees.  -EOPNOTSUPP where there is no such handle.
 */
int io_handle_of(struct io *io, int fd, bool is_dir,
		 struct file_handle **out);
/*
 * An O_PATH handle (caller closes) of the object behind @fh, which must be
 * on the backing dir's filesystem; -ESTALE once it is gone, -EPERM without
 * CAP_DAC_READ_SEARCH.
 */
int io_open_handle(struct io *io, struct file_handle *fh);
int io_mkdirat(struct io *io, int dirfd, const char *name, mode_t mode);
int io_mknodat(struct io *io, int dirfd, const char *name, mode_t mode,
	       dev_t dev);
int io_symlinkat(struct io *io, const char *target, int dirfd,
		 const char *name);
/* The target of the symlink behind O_PATH handle @fd, as io_readlink(). */
ssize_t io_readlink_fd(struct io *io, int fd, char *buf, size_t size);
int io_unlinkat(struct io *io, int dirfd, const char *name, bool is_dir);
int io_renameat(struct io *io, int olddir, const char *oldname, int newdir,
		const char *newname, unsigned int flags);
/* A new name @newname in @newdir for the object behind handle @fd. */
int io_link_fd(struct io *io, int fd, int newdir, const char *newname);
int io_chmod_fd(struct io *io, int fd, mode_t mode);
int io_chown_fd(struct io *io, int fd, uid_t uid, gid_t gid);
int io_truncate_fd(struct io *io, int fd, off_t size);
int io_utimens_fd(struct io *io, int fd, const struct timespec ts[2]);
int io_statvfs_fd(struct io *io, int fd, struct statvfs *st);
int io_setxattr_fd(struct io *io, int fd, const char *name,
		   const void *value, size_t size, int flags);
ssize_t io_getxattr_fd(struct io *io, int fd, const char *name, void *value,
		       size_t size);
ssize_t io_listxattr_fd(struct io *io, int fd, char *list, size_t size);
int io_removexattr_fd(struct io *io, int fd, const char *name);

/*
 * The path, relative to the backing dir, of the object behind O_PATH handle
 * @fd, into @buf; -ENOENT when it was deleted or is outside the dir.
 */
int io_relpath(struct io *io, int fd, char *buf, size_t size);

/*
 * Makes @dst_fd's content a copy of @src_fd's (both open files): a reflink
 * (FICLONE) where the filesystem shares blocks, else copy_file_range.
 */
int io_clone(struct io *io, int src_fd, int dst_fd);

/* Syncs the dir behind handle @dirfd (an O_PATH fd will do). */
int io_fsync_dir(struct io *io, int dirfd);

int io_fsetxattr(struct io *io, int fd, const char *name, const void *value,
		 size_t size, int flags);
int io_fremovexattr(struct io *io, int fd, const char *name);

/* Directory streams (opendir/readdir through one call kind: IO_READDIR). */
struct io_dir;
int io_opendir(struct io *io, const char *path, struct io_dir **out);
/* A stream on the dir behind handle @fd. */
int io_opendir_fd(struct io *io, int fd, struct io_dir **out);
/*
 * Next entry at or after position @pos (0 = start): fills @name (borrowed
 * until the next call), @type (DT_*), @next, the position after it, and
 * @ino (may be NULL), its inode number.
 * Returns 1 for an entry, 0 at the end, or -errno.
 */
int io_readdir(struct io *io, struct io_dir *d, off_t pos, const char **name,
	       unsigned char *type, off_t *next, ino_t *ino);
/* fstatat relative to the stream's dir, for readdirplus. */
int io_dir_lstat(struct io *io, struct io_dir *d, const char *name,
		 struct stat *st);
int io_dir_fsync(struct io *io, struct io_dir *d, bool datasync);
void io_closedir(struct io_dir *d);

/* Descriptor calls, on fds from io_open(). */
int io_close(struct io *io, int fd);
ssize_t io_pread(struct io *io, int fd, void *buf, size_t size, off_t off);
ssize_t io_pwrite(struct io *io, int fd, const void *buf, size_t size,
		  off_t off);
int io_fstat(struct io *io, int fd, struct stat *st);
int io_fsync(struct io *io, int fd, bool datasync);
int io_ftruncate(struct io *io, int fd, off_t size);
int io_futimens(struct io *io, int fd, const struct timespec ts[2]);
int io_fchmod(struct io *io, int fd, mode_t mode);
int io_fchown(struct io *io, int fd, uid_t uid, gid_t gid);
int io_fallocate(struct io *io, int fd, int mode, off_t off, off_t len);
off_t io_lseek(struct io *io, int fd, off_t off, int whence);
ssize_t io_copy_file_range(struct io *io, int fd_in, off_t *off_in,
			   int fd_out, off_t *off_out, size_t len,
			   unsigned int flags);
/* What close(dup(fd)) does: releases POSIX locks, reports delayed errors. */
int io_flush(struct io *io, int fd);

#endif
