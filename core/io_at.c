// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * io calls relative to a dir fd and one name, or on an O_PATH handle of the
 * object itself: what the FUSE daemon uses, since it holds an O_PATH fd per
 * inode it has told the kernel about.  A name is one component: never
 * empty, never '.', '..' or containing '/', never followed when a symlink.
 */
#include "config.h"

#include "io_internal.h"

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <linux/magic.h>
#include <sys/ioctl.h>
#include <sys/vfs.h>
#include <sys/xattr.h>
#include <unistd.h>

static int check_name(const char *name)
{
	if (!name[0] || strchr(name, '/') || !strcmp(name, ".") ||
	    !strcmp(name, ".."))
		return -EINVAL;
	return 0;
}

/* Counts the call, then checks the name. */
static int enter_name(struct io *io, enum io_kind kind, const char *name)
{
	int ret = io_enter(io, kind);

	return ret < 0 ? ret : check_name(name);
}

/* "/proc/self/fd/N": reaches the object of an O_PATH fd. */
static void proc_path(char *buf, size_t size, int fd)
{
	snprintf(buf, size, "/proc/self/fd/%d", fd);
}

int io_lookup(struct io *io, int dirfd, const char *name, int *fd_out,
	      struct stat *st)
{
	int fd, ret = enter_name(io, IO_STAT, name);

	if (ret < 0)
		return ret;
	fd = openat(dirfd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0) {
		ret = -errno;
		close(fd);
		return ret;
	}
	*fd_out = fd;
	return 0;
}

int io_fstatat_empty(struct io *io, int fd, struct stat *st)
{
	int ret = io_enter(io, IO_STAT);

	if (ret < 0)
		return ret;
	return IO_RET(fstatat(fd, "", st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
}

int io_openat(struct io *io, int dirfd, const char *name, int flags,
	      mode_t mode)
{
	int fd, ret = enter_name(io, IO_OPEN, name);

	if (ret < 0)
		return ret;
	fd = openat(dirfd, name, io_open_flags(flags) | O_NOFOLLOW | O_CLOEXEC,
		    mode & 07777);
	return fd < 0 ? -errno : fd;
}

int io_reopen(struct io *io, int fd, int flags)
{
	char p[64];
	int nfd, ret = io_enter(io, IO_OPEN);

	if (ret < 0)
		return ret;
	proc_path(p, sizeof(p), fd);
	flags = io_open_flags(flags) & ~(O_CREAT | O_EXCL | O_NOFOLLOW);
	nfd = open(p, flags | O_CLOEXEC);
	return nfd < 0 ? -errno : nfd;
}

int io_mkdirat(struct io *io, int dirfd, const char *name, mode_t mode)
{
	int ret = enter_name(io, IO_MKDIR, name);

	return ret < 0 ? ret : IO_RET(mkdirat(dirfd, name, mode));
}

int io_mknodat(struct io *io, int dirfd, const char *name, mode_t mode,
	       dev_t dev)
{
	int ret = enter_name(io, IO_MKNOD, name);

	return ret < 0 ? ret : IO_RET(mknodat(dirfd, name, mode, dev));
}

int io_symlinkat(struct io *io, const char *target, int dirfd,
		 const char *name)
{
	int ret = enter_name(io, IO_SYMLINK, name);

	return ret < 0 ? ret : IO_RET(symlinkat(target, dirfd, name));
}

ssize_t io_readlink_fd(struct io *io, int fd, char *buf, size_t size)
{
	ssize_t n;
	int ret = io_enter(io, IO_READLINK);

	if (ret < 0)
		return ret;
	if (size == 0)
		return -EINVAL;
	n = readlinkat(fd, "", buf, size - 1);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return n;
}

int io_unlinkat(struct io *io, int dirfd, const char *name, bool is_dir)
{
	int ret = enter_name(io, is_dir ? IO_RMDIR : IO_UNLINK, name);

	if (ret < 0)
		return ret;
	return IO_RET(unlinkat(dirfd, name, is_dir ? AT_REMOVEDIR : 0));
}

int io_renameat(struct io *io, int olddir, const char *oldname, int newdir,
		const char *newname, unsigned int flags)
{
	int ret = enter_name(io, IO_RENAME, oldname);

	if (ret < 0 || (ret = check_name(newname)) < 0)
		return ret;
	if (flags)
		return IO_RET(renameat2(olddir, oldname, newdir, newname,
					flags));
	return IO_RET(renameat(olddir, oldname, newdir, newname));
}

int io_link_fd(struct io *io, int fd, int newdir, const char *newname)
{
	char p[64];
	int ret = enter_name(io, IO_LINK, newname);

	if (ret < 0)
		return ret;
	/* AT_EMPTY_PATH needs CAP_DAC_READ_SEARCH; the proc link does not. */
	if (linkat(fd, "", newdir, newname, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOENT && errno != EPERM)
		return -errno;
	proc_path(p, sizeof(p), fd);
	return IO_RET(linkat(AT_FDCWD, p, newdir, newname, AT_SYMLINK_FOLLOW));
}

int io_chmod_fd(struct io *io, int fd, mode_t mode)
{
	char p[64];
	int ret = io_enter(io, IO_CHMOD);

	if (ret < 0)
		return ret;
	proc_path(p, sizeof(p), fd);
	return IO_RET(chmod(p, mode));
}

int io_chown_fd(struct io *io, int fd, uid_t uid, gid_t gid)
{
	int ret = io_enter(io, IO_CHOWN);

	if (ret < 0)
		return ret;
	return IO_RET(fchownat(fd, "", uid, gid,
			       AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
}

int io_truncate_fd(struct io *io, int fd, off_t size)
{
	char p[64];
	int ret = io_enter(io, IO_TRUNCATE);

	if (ret < 0)
		return ret;
	proc_path(p, sizeof(p), fd);
	return IO_RET(truncate(p, size));
}

int io_utimens_fd(struct io *io, int fd, const struct timespec ts[2])
{
	int ret = io_enter(io, IO_UTIMENS);

	if (ret < 0)
		return ret;
	return IO_RET(utimensat(fd, "", ts,
				AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
}

int io_statvfs_fd(struct io *io, int fd, struct statvfs *st)
{
	int ret = io_enter(io, IO_STATFS);

	return ret < 0 ? ret : IO_RET(fstatvfs(fd, st));
}

int io_setxattr_fd(struct io *io, int fd, const char *name,
		   const void *value, size_t size, int flags)
{
	char p[64];
	int ret = io_enter(io, IO_XATTR);

	if (ret < 0)
		return ret;
	proc_path(p, sizeof(p), fd);
	return IO_RET(setxattr(p, name, value, size, flags));
}

ssize_t io_getxattr_fd(struct io *io, int fd, const char *name, void *value,
		       size_t size)
{
	char p[64];
	ssize_t n;
	int ret = io_enter(io, IO_XATTR);

	if (ret < 0)
		return ret;
	proc_path(p, sizeof(p), fd);
	n = getxattr(p, name, value, size);
	return n < 0 ? -errno : n;
}

ssize_t io_listxattr_fd(struct io *io, int fd, char *list, size_t size)
{
	char p[64];
	ssize_t n;
	int ret = io_enter(io, IO_XATTR);

	if (ret < 0)
		return ret;
	proc_path(p, sizeof(p), fd);
	n = listxattr(p, list, size);
	return n < 0 ? -errno : n;
}

int io_removexattr_fd(struct io *io, int fd, const char *name)
{
	char p[64];
	int ret = io_enter(io, IO_XATTR);

	if (ret < 0)
		return ret;
	proc_path(p, sizeof(p), fd);
	return IO_RET(removexattr(p, name));
}

/* lstat of absolute @path, which must lie in the backing dir @root. */
static int stat_beneath(struct io *io, const char *path, const char *root,
			size_t rootlen, struct stat *st)
{
	const char *rel = path + (strcmp(root, "/") ? rootlen : 0);

	if (strncmp(path, root, rootlen) || *rel != '/')
		return -ENOENT;
	return io_lstat(io, rel + 1, st);
}

int io_relpath(struct io *io, int fd, char *buf, size_t size)
{
	char p[64], root[PATH_MAX], path[PATH_MAX];
	ssize_t rn, n;
	int ret = io_enter(io, IO_STAT);

	if (ret < 0)
		return ret;
	proc_path(p, sizeof(p), io->rootfd);
	rn = readlink(p, root, sizeof(root) - 1);
	proc_path(p, sizeof(p), fd);
	n = readlink(p, path, sizeof(path) - 1);
	if (rn < 0 || n < 0)
		return -errno;
	root[rn] = '\0';
	path[n] = '\0';
	if (n >= 10 && !strcmp(path + n - 10, " (deleted)")) {
		/* The kernel's mark, unless the name really ends so. */
		struct stat a, b;
		int r = fstatat(fd, "", &a, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);

		if (r < 0 || stat_beneath(io, path, root, (size_t)rn, &b) < 0 ||
		    a.st_dev != b.st_dev || a.st_ino != b.st_ino)
			return -ENOENT;
	}
	if (!strcmp(root, "/"))
		rn = 0;
	if (strncmp(path, root, (size_t)rn) || (path[rn] && path[rn] != '/'))
		return -ENOENT;
	if (!path[rn])
		return snprintf(buf, size, ".") < (int)size ? 0 : -ENAMETOOLONG;
	if (strlen(path + rn + 1) >= size)
		return -ENAMETOOLONG;
	strcpy(buf, path + rn + 1);
	return 0;
}

int io_clone(struct io *io, int src_fd, int dst_fd)
{
	off_t in = 0, out = 0;
	struct stat st;
	ssize_t n;
	int ret = io_enter(io, IO_COPY);

	if (ret < 0)
		return ret;
	if (ioctl(dst_fd, FICLONE, src_fd) == 0)
		return 0;
	if (fstat(src_fd, &st) < 0)
		return -errno;
	/* Data extents only, so that holes stay holes; then the size. */
	for (;;) {
		off_t data = lseek(src_fd, in, SEEK_DATA), hole;

		if (data < 0) {
			if (errno == ENXIO)
				break;
			return -errno;
		}
		hole = lseek(src_fd, data, SEEK_HOLE);
		if (hole < 0)
			return -errno;
		in = out = data;
		while (in < hole) {
			n = copy_file_range(src_fd, &in, dst_fd, &out,
					    (size_t)(hole - in), 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0)
				return -errno;
			if (n == 0)
				break;
		}
		if (in < hole)
			break; /* the file shrank meanwhile */
	}
	return IO_RET(ftruncate(dst_fd, st.st_size));
}

int io_fsetxattr(struct io *io, int fd, const char *name, const void *value,
		 size_t size, int flags)
{
	int ret = io_enter(io, IO_XATTR);

	return ret < 0 ? ret : IO_RET(fsetxattr(fd, name, value, size, flags));
}

int io_fsync_dir(struct io *io, int dirfd)
{
	int fd, ret = io_enter(io, IO_FSYNC);

	if (ret < 0)
		return ret;
	fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	ret = IO_RET(fsync(fd));
	close(fd);
	return ret;
}

int io_fremovexattr(struct io *io, int fd, const char *name)
{
	int ret = io_enter(io, IO_XATTR);

	return ret < 0 ? ret : IO_RET(fremovexattr(fd, name));
}

#ifndef AT_HANDLE_CONNECTABLE
#define AT_HANDLE_CONNECTABLE 0x002	/* Linux 6.13 */
#endif

int io_handle_of(struct io *io, int fd, bool is_dir,
		 struct file_handle **out)
{
	struct file_handle *fh;
	int mount_id, ret = io_enter(io, IO_STAT);

	if (ret < 0)
		return ret;
	fh = malloc(sizeof(*fh) + MAX_HANDLE_SZ);
	if (!fh)
		return -ENOMEM;
	fh->handle_bytes = MAX_HANDLE_SZ;
	/*
	 * A connectable handle reopens with its path known (io_relpath()):
	 * the kernel makes one from a path (through the fd's magic link),
	 * not from the fd alone.
	 */
	ret = -1;
	errno = EINVAL;
	if (!is_dir) {
		char link[64];
		struct statfs sfs;

		proc_path(link, sizeof(link), fd);
		ret = name_to_handle_at(AT_FDCWD, link, fh, &mount_id,
					AT_SYMLINK_FOLLOW | AT_HANDLE_CONNECTABLE);
		/*
		 * Without a connectable handle a file reopened after its
		 * dentry was evicted has no path: only where dentries are
		 * the storage itself (tmpfs) is a plain handle as good.
		 */
		if (ret < 0 && (errno == EINVAL || errno == EOPNOTSUPP) &&
		    (fstatfs(fd, &sfs) < 0 || sfs.f_type != TMPFS_MAGIC)) {
			free(fh);
			return -EOPNOTSUPP;
		}
	}
	if (ret < 0 && (errno == EINVAL || errno == EOPNOTSUPP)) {
		fh->handle_bytes = MAX_HANDLE_SZ;
		ret = name_to_handle_at(fd, "", fh, &mount_id, AT_EMPTY_PATH);
	}
	if (ret < 0) {
		ret = -errno;
		free(fh);
		return ret;
	}
	*out = fh;
	return 0;
}

int io_open_handle(struct io *io, struct file_handle *fh)
{
	int fd, ret = io_enter(io, IO_OPEN);

	if (ret < 0)
		return ret;
	if (io->mountfd < 0)
		return -EOPNOTSUPP;
	fd = open_by_handle_at(io->mountfd, fh, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}
