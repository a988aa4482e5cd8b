// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include "io_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

struct io_dir {
	DIR *dp;
	off_t pos; /* position of the next entry readdir() returns */
};

static const char *const kind_names[IO_KIND_COUNT] = {
	[IO_OPEN] = "open",	    [IO_CLOSE] = "close",
	[IO_READ] = "read",	    [IO_WRITE] = "write",
	[IO_STAT] = "stat",	    [IO_FSYNC] = "fsync",
	[IO_TRUNCATE] = "truncate", [IO_MKDIR] = "mkdir",
	[IO_MKNOD] = "mknod",	    [IO_SYMLINK] = "symlink",
	[IO_READLINK] = "readlink", [IO_UNLINK] = "unlink",
	[IO_RMDIR] = "rmdir",	    [IO_RENAME] = "rename",
	[IO_LINK] = "link",	    [IO_CHMOD] = "chmod",
	[IO_CHOWN] = "chown",	    [IO_UTIMENS] = "utimens",
	[IO_STATFS] = "statfs",	    [IO_XATTR] = "xattr",
	[IO_FALLOCATE] = "fallocate", [IO_LSEEK] = "lseek",
	[IO_COPY] = "copy",	    [IO_READDIR] = "readdir",
};

const char *io_kind_name(enum io_kind kind)
{
	if ((unsigned int)kind >= IO_KIND_COUNT)
		return NULL;
	return kind_names[kind];
}

int io_enter(struct io *io, enum io_kind kind)
{
	struct io_fault *f = &io->faults[kind];
	unsigned long n = atomic_fetch_add(&io->calls[kind], 1) + 1;
	int err = atomic_load(&f->err);

	if (!err)
		return 0;
	if (!atomic_load(&f->always) && atomic_load(&f->at) != n)
		return 0;
	/* A crash point: a write does half its work first (io_pwrite()). */
	if (err == IO_FAULT_CRASH && kind != IO_WRITE)
		io_crash();
	return -err;
}

void io_crash(void)
{
	kill(getpid(), SIGKILL);
	for (;;)
		pause();
}

void io_fault_set(struct io *io, enum io_kind kind, unsigned long nth, int err)
{
	struct io_fault *f;

	if ((unsigned int)kind >= IO_KIND_COUNT)
		return;
	f = &io->faults[kind];
	atomic_store(&f->err, 0);
	atomic_store(&f->always, nth == 0);
	atomic_store(&f->at, atomic_load(&io->calls[kind]) + nth);
	atomic_store(&f->err, err);
}

unsigned long io_calls(const struct io *io, enum io_kind kind)
{
	if ((unsigned int)kind >= IO_KIND_COUNT)
		return 0;
	return atomic_load(&io->calls[kind]);
}

static const struct {
	const char *name;
	int err;
} errno_names[] = {
	{ "EIO", EIO },	      { "ENOSPC", ENOSPC }, { "EDQUOT", EDQUOT },
	{ "EACCES", EACCES }, { "EPERM", EPERM },   { "EROFS", EROFS },
	{ "EINTR", EINTR },   { "EAGAIN", EAGAIN }, { "EBUSY", EBUSY },
	{ "ESTALE", ESTALE }, { "ENOENT", ENOENT }, { "ENOMEM", ENOMEM },
	{ "EFBIG", EFBIG },   { "ETIMEDOUT", ETIMEDOUT },
	{ "ENOTCONN", ENOTCONN },
};

static int parse_errno(const char *s, size_t len)
{
	char *end;
	long v;

	if (len == 5 && !strncmp(s, "CRASH", 5))
		return IO_FAULT_CRASH;
	for (size_t i = 0; i < sizeof(errno_names) / sizeof(errno_names[0]); i++)
		if (strlen(errno_names[i].name) == len &&
		    !strncmp(errno_names[i].name, s, len))
			return errno_names[i].err;
	if (len == 0 || len > 4 || s[0] < '1' || s[0] > '9')
		return -EINVAL;
	v = strtol(s, &end, 10);
	if (end != s + len || v <= 0 || v > 4095)
		return -EINVAL;
	return (int)v;
}

static int parse_kind(const char *s, size_t len)
{
	for (int k = 0; k < IO_KIND_COUNT; k++)
		if (strlen(kind_names[k]) == len && !strncmp(kind_names[k], s, len))
			return k;
	return -EINVAL;
}

int io_fault_parse(struct io *io, const char *spec)
{
	struct {
		int kind, err;
		unsigned long nth;
	} items[IO_KIND_COUNT * 4];
	size_t n = 0;
	const char *p = spec;

	while (*p) {
		const char *c1 = strchr(p, ':'), *c2, *end;
		char *numend;
		int kind, err;
		unsigned long nth;

		if (!c1 || !(c2 = strchr(c1 + 1, ':')))
			return -EINVAL;
		end = strchr(c2 + 1, ',');
		if (!end)
			end = c2 + 1 + strlen(c2 + 1);
		kind = parse_kind(p, (size_t)(c1 - p));
		if (kind < 0 || c1[1] < '0' || c1[1] > '9')
			return -EINVAL;
		/* One entry per kind: a second one would replace the first. */
		for (size_t i = 0; i < n; i++)
			if (items[i].kind == kind)
				return -EINVAL;
		errno = 0;
		nth = strtoul(c1 + 1, &numend, 10);
		if (numend != c2 || errno)
			return -EINVAL;
		err = parse_errno(c2 + 1, (size_t)(end - c2 - 1));
		if (err < 0 || n == sizeof(items) / sizeof(items[0]))
			return -EINVAL;
		items[n].kind = kind;
		items[n].err = err;
		items[n].nth = nth;
		n++;
		p = *end ? end + 1 : end;
		if (*end && !*p)
			return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		io_fault_set(io, items[i].kind, items[i].nth, items[i].err);
	return 0;
}

int io_new(const char *path, struct io **out)
{
	struct io *io = calloc(1, sizeof(*io));

	if (!io)
		return -ENOMEM;
	io->rootfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (io->rootfd < 0) {
		int ret = -errno;

		free(io);
		return ret;
	}
	/* open_by_handle_at() wants an fd that is not O_PATH; -1 is none. */
	io->mountfd = openat(io->rootfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	*out = io;
	return 0;
}

void io_free(struct io *io)
{
	if (!io)
		return;
	if (io->mountfd >= 0)
		close(io->mountfd);
	close(io->rootfd);
	free(io);
}

int io_rootfd(const struct io *io)
{
	return io->rootfd;
}

static atomic_bool no_openat2;

/*
 * The open flags openat2() accepts: it refuses any other bit with EINVAL,
 * where open(2) ignores them (the kernel's FUSE passes internal ones such as
 * __FMODE_EXEC when a program is executed).
 */
#define IO_OPEN_FLAGS                                                        \
	(O_ACCMODE | O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_APPEND |       \
	 O_NONBLOCK | O_DSYNC | O_SYNC | O_DIRECT | O_LARGEFILE | O_DIRECTORY | \
	 O_NOFOLLOW | O_NOATIME | O_CLOEXEC | O_PATH | O_TMPFILE | FASYNC)

int io_open_flags(int flags)
{
	return flags & IO_OPEN_FLAGS;
}

static bool takes_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

/* Refuses what can never name something beneath the root. */
static int check_path(const char *path)
{
	if (path[0] == '/')
		return -EINVAL;
	return 0;
}

/* openat2() beneath the root, never through a symlink; fd or -errno. */
static int open_beneath(struct io *io, const char *path, int flags,
			mode_t mode)
{
	struct open_how how = {
		.flags = (uint64_t)((flags & IO_OPEN_FLAGS) | O_CLOEXEC),
		.mode = takes_mode(flags) ? (mode & 07777) : 0,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS |
			   RESOLVE_NO_MAGICLINKS,
	};
	int fd = check_path(path);

	if (fd < 0)
		return fd;
	flags &= IO_OPEN_FLAGS;
	if (!atomic_load(&no_openat2)) {
		fd = (int)syscall(SYS_openat2, io->rootfd, path, &how,
				  sizeof(how));
		if (fd >= 0)
			return fd;
		if (errno != ENOSYS)
			return errno == EXDEV ? -EACCES : -errno;
		atomic_store(&no_openat2, true);
	}
	/* Old kernels: walk the components, none followed. */
	{
		char buf[PATH_MAX];
		char *comp, *save = NULL, *next;
		int dfd = io->rootfd, ret;

		if (strlen(path) >= sizeof(buf))
			return -ENAMETOOLONG;
		strcpy(buf, path);
		comp = strtok_r(buf, "/", &save);
		if (!comp)
			return -ENOENT;
		for (;;) {
			next = strtok_r(NULL, "/", &save);
			if (!strcmp(comp, "..")) {
				ret = -EACCES;
				break;
			}
			if (!next) {
				ret = openat(dfd, comp,
					     flags | O_CLOEXEC | O_NOFOLLOW,
					     mode);
				ret = ret < 0 ? -errno : ret;
				break;
			}
			ret = openat(dfd, comp,
				     O_PATH | O_DIRECTORY | O_NOFOLLOW |
					     O_CLOEXEC);
			if (ret < 0) {
				ret = errno == ELOOP ? -ENOTDIR : -errno;
				break;
			}
			if (dfd != io->rootfd)
				close(dfd);
			dfd = ret;
			comp = next;
		}
		if (dfd != io->rootfd)
			close(dfd);
		return ret;
	}
}

/* A path split into an fd of its parent dir and its last component. */
struct at {
	int dirfd;
	bool own;
	const char *name;
	char buf[PATH_MAX];	/* the parent's path */
	char trimmed[PATH_MAX];	/* the path without trailing slashes */
};

static int at_resolve(struct io *io, const char *path, struct at *at)
{
	const char *slash;
	size_t len = strlen(path);
	int fd;

	at->own = false;
	at->dirfd = io->rootfd;
	if (check_path(path) < 0)
		return -EINVAL;
	/* "a/b/" names b, as in the syscalls. */
	if (len > 1 && path[len - 1] == '/') {
		while (len > 1 && path[len - 1] == '/')
			len--;
		if (len >= sizeof(at->buf))
			return -ENAMETOOLONG;
		memcpy(at->trimmed, path, len);
		at->trimmed[len] = '\0';
		path = at->trimmed;
	}
	slash = strrchr(path, '/');
	if (!slash) {
		at->name = *path ? path : ".";
		if (!strcmp(at->name, ".."))
			return -EACCES;
		return 0;
	}
	len = (size_t)(slash - path);
	if (len >= sizeof(at->buf))
		return -ENAMETOOLONG;
	memcpy(at->buf, path, len);
	at->buf[len] = '\0';
	at->name = slash + 1;
	if (!*at->name)
		at->name = ".";
	if (!strcmp(at->name, ".."))
		return -EACCES;
	if (len == 0)
		return 0;
	fd = open_beneath(io, at->buf, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return fd == -ELOOP ? -ENOTDIR : fd;
	at->dirfd = fd;
	at->own = true;
	return 0;
}

static void at_release(struct at *at)
{
	if (at->own)
		close(at->dirfd);
}

#define RET(x) ((x) < 0 ? -errno : 0)

int io_lstat(struct io *io, const char *path, struct stat *st)
{
	struct at at;
	int ret = io_enter(io, IO_STAT);

	if (ret < 0 || (ret = at_resolve(io, path, &at)) < 0)
		return ret;
	ret = RET(fstatat(at.dirfd, at.name, st, AT_SYMLINK_NOFOLLOW));
	at_release(&at);
	return ret;
}

int io_open(struct io *io, const char *path, int flags, mode_t mode)
{
	int ret = io_enter(io, IO_OPEN);

	if (ret < 0)
		return ret;
	if (!*path || !strcmp(path, "."))
		path = ".";
	return open_beneath(io, path, flags, mode);
}

int io_mkdir(struct io *io, const char *path, mode_t mode)
{
	struct at at;
	int ret = io_enter(io, IO_MKDIR);

	if (ret < 0 || (ret = at_resolve(io, path, &at)) < 0)
		return ret;
	ret = RET(mkdirat(at.dirfd, at.name, mode));
	at_release(&at);
	return ret;
}

int io_mknod(struct io *io, const char *path, mode_t mode, dev_t dev)
{
	struct at at;
	int ret = io_enter(io, IO_MKNOD);

	if (ret < 0 || (ret = at_resolve(io, path, &at)) < 0)
		return ret;
	ret = RET(mknodat(at.dirfd, at.name, mode, dev));
	at_release(&at);
	return ret;
}

int io_symlink(struct io *io, const char *target, const char *path)
{
	struct at at;
	int ret = io_enter(io, IO_SYMLINK);

	if (ret < 0 || (ret = at_resolve(io, path, &at)) < 0)
		return ret;
	ret = RET(symlinkat(target, at.dirfd, at.name));
	at_release(&at);
	return ret;
}

ssize_t io_readlink(struct io *io, const char *path, char *buf, size_t size)
{
	struct at at;
	ssize_t n;
	int ret = io_enter(io, IO_READLINK);

	if (ret < 0 || (ret = at_resolve(io, path, &at)) < 0)
		return ret;
	if (size == 0) {
		at_release(&at);
		return -EINVAL;
	}
	n = readlinkat(at.dirfd, at.name, buf, size - 1);
	n = n < 0 ? -errno : n;
	at_release(&at);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

int io_unlink(struct io *io, const char *path)
{
	struct at at;
	int ret = io_enter(io, IO_UNLINK);

	if (ret < 0 || (ret = at_resolve(io, path, &at)) < 0)
		return ret;
	ret = RET(unlinkat(at.dirfd, at.name, 0));
	at_release(&at);
	return ret;
}

int io_rmdir(struct io *io, const char *path)
{
	struct at at;
	int ret = io_enter(io, IO_RMDIR);

	if (ret < 0 || (ret = at_resolve(io, path, &at)) < 0)
		return ret;
	ret = RET(unlinkat(at.dirfd, at.name, AT_REMOVEDIR));
	at_release(&at);
	return ret;
}

int io_rename(struct io *io, const char *from, const char *to,
	      unsigned int flags)
{
	struct at a, b;
	int ret = io_enter(io, IO_RENAME);

	if (ret < 0 || (ret = at_resolve(io, from, &a)) < 0)
		return ret;
	ret = at_resolve(io, to, &b);
	if (ret < 0)
		goto out_release_a;
	if (flags)
		ret = RET(renameat2(a.dirfd, a.name, b.dirfd, b.name, flags));
	else
		ret = RET(renameat(a.dirfd, a.name, b.dirfd, b.name));
	at_release(&b);
out_release_a:
	at_release(&a);
	return ret;
}

int io_link(struct io *io, const char *from, const char *to)
{
	struct at a, b;
	int ret = io_enter(io, IO_LINK);

	if (ret < 0 || (ret = at_resolve(io, from, &a)) < 0)
		return ret;
	ret = at_resolve(io, to, &b);
	if (ret < 0)
		goto out_release_a;
	ret = RET(linkat(a.dirfd, a.name, b.dirfd, b.name, 0));
	at_release(&b);
out_release_a:
	at_release(&a);
	return ret;
}

int io_chmod(struct io *io, const char *path, mode_t mode)
{
	struct at at;
	int ret = io_enter(io, IO_CHMOD);

	if (ret < 0 || (ret = at_resolve(io, path, &at)) < 0)
		return ret;
	/* Symlinks have no mode of their own: EOPNOTSUPP, like Linux. */
	ret = RET(fchmodat(at.dirfd, at.name, mode, AT_SYMLINK_NOFOLLOW));
	at_release(&at);
	return ret;
}

int io_chown(struct io *io, const char *path, uid_t uid, gid_t gid)
{
	struct at at;
	int ret = io_enter(io, IO_CHOWN);

	if (ret < 0 || (ret = at_resolve(io, path, &at)) < 0)
		return ret;
	ret = RET(fchownat(at.dirfd, at.name, uid, gid, AT_SYMLINK_NOFOLLOW));
	at_release(&at);
	return ret;
}

int io_truncate(struct io *io, const char *path, off_t size)
{
	int fd, ret = io_enter(io, IO_TRUNCATE);

	if (ret < 0)
		return ret;
	fd = open_beneath(io, path, O_WRONLY | O_NONBLOCK, 0);
	if (fd < 0)
		return fd;
	ret = RET(ftruncate(fd, size));
	close(fd);
	return ret;
}

int io_utimens(struct io *io, const char *path, const struct timespec ts[2])
{
	struct at at;
	int ret = io_enter(io, IO_UTIMENS);

	if (ret < 0 || (ret = at_resolve(io, path, &at)) < 0)
		return ret;
	ret = RET(utimensat(at.dirfd, at.name, ts, AT_SYMLINK_NOFOLLOW));
	at_release(&at);
	return ret;
}

int io_statvfs(struct io *io, const char *path, struct statvfs *st)
{
	int fd, ret = io_enter(io, IO_STATFS);

	if (ret < 0)
		return ret;
	fd = open_beneath(io, *path ? path : ".", O_PATH | O_NOFOLLOW, 0);
	if (fd < 0)
		return fd;
	ret = RET(fstatvfs(fd, st));
	close(fd);
	return ret;
}

/*
 * xattr calls on an O_PATH fd of the object itself, reached through its
 * /proc/self/fd link, so a symlink is acted on, never followed.
 */
static int xattr_path(struct io *io, const char *path, char *buf, size_t size)
{
	int fd = open_beneath(io, *path ? path : ".", O_PATH | O_NOFOLLOW, 0);

	if (fd < 0)
		return fd;
	snprintf(buf, size, "/proc/self/fd/%d", fd);
	return fd;
}

int io_setxattr(struct io *io, const char *path, const char *name,
		const void *value, size_t size, int flags)
{
	char p[64];
	int fd, ret = io_enter(io, IO_XATTR);

	if (ret < 0 || (fd = xattr_path(io, path, p, sizeof(p))) < 0)
		return ret < 0 ? ret : fd;
	ret = RET(setxattr(p, name, value, size, flags));
	close(fd);
	return ret;
}

ssize_t io_getxattr(struct io *io, const char *path, const char *name,
		    void *value, size_t size)
{
	char p[64];
	ssize_t n;
	int fd, ret = io_enter(io, IO_XATTR);

	if (ret < 0 || (fd = xattr_path(io, path, p, sizeof(p))) < 0)
		return ret < 0 ? ret : fd;
	n = getxattr(p, name, value, size);
	n = n < 0 ? -errno : n;
	close(fd);
	return n;
}

ssize_t io_listxattr(struct io *io, const char *path, char *list, size_t size)
{
	char p[64];
	ssize_t n;
	int fd, ret = io_enter(io, IO_XATTR);

	if (ret < 0 || (fd = xattr_path(io, path, p, sizeof(p))) < 0)
		return ret < 0 ? ret : fd;
	n = listxattr(p, list, size);
	n = n < 0 ? -errno : n;
	close(fd);
	return n;
}

int io_removexattr(struct io *io, const char *path, const char *name)
{
	char p[64];
	int fd, ret = io_enter(io, IO_XATTR);

	if (ret < 0 || (fd = xattr_path(io, path, p, sizeof(p))) < 0)
		return ret < 0 ? ret : fd;
	ret = RET(removexattr(p, name));
	close(fd);
	return ret;
}

int io_opendir(struct io *io, const char *path, struct io_dir **out)
{
	struct io_dir *d;
	int fd, ret = io_enter(io, IO_READDIR);

	if (ret < 0)
		return ret;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	fd = open_beneath(io, *path ? path : ".", O_RDONLY | O_DIRECTORY, 0);
	if (fd < 0) {
		free(d);
		return fd;
	}
	d->dp = fdopendir(fd);
	if (!d->dp) {
		ret = -errno;
		close(fd);
		free(d);
		return ret;
	}
	*out = d;
	return 0;
}

int io_opendir_fd(struct io *io, int fd, struct io_dir **out)
{
	struct io_dir *d;
	int dfd, ret = io_enter(io, IO_READDIR);

	if (ret < 0)
		return ret;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		ret = -errno;
		free(d);
		return ret;
	}
	d->dp = fdopendir(dfd);
	if (!d->dp) {
		ret = -errno;
		close(dfd);
		free(d);
		return ret;
	}
	*out = d;
	return 0;
}

int io_readdir(struct io *io, struct io_dir *d, off_t pos, const char **name,
	       unsigned char *type, off_t *next, ino_t *ino)
{
	struct dirent *de;
	int ret = io_enter(io, IO_READDIR);

	if (ret < 0)
		return ret;
	if (pos != d->pos) {
		if (pos == 0)
			rewinddir(d->dp);
		else
			seekdir(d->dp, pos);
		d->pos = pos;
	}
	errno = 0;
	de = readdir(d->dp);
	if (!de)
		return errno ? -errno : 0;
	d->pos = de->d_off;
	*name = de->d_name;
	*type = de->d_type;
	*next = de->d_off;
	if (ino)
		*ino = de->d_ino;
	return 1;
}

int io_dir_lstat(struct io *io, struct io_dir *d, const char *name,
		 struct stat *st)
{
	int ret = io_enter(io, IO_STAT);

	if (ret < 0)
		return ret;
	/* One name in this dir, nothing that walks out of it. */
	if (!*name || strchr(name, '/') || !strcmp(name, ".."))
		return -EINVAL;
	return RET(fstatat(dirfd(d->dp), name, st, AT_SYMLINK_NOFOLLOW));
}

int io_dir_fsync(struct io *io, struct io_dir *d, bool datasync)
{
	int ret = io_enter(io, IO_FSYNC);

	if (ret < 0)
		return ret;
	return RET(datasync ? fdatasync(dirfd(d->dp)) : fsync(dirfd(d->dp)));
}

void io_closedir(struct io_dir *d)
{
	if (!d)
		return;
	closedir(d->dp);
	free(d);
}

int io_close(struct io *io, int fd)
{
	int ret = io_enter(io, IO_CLOSE);

	/* The fd is released even when a fault is reported. */
	if (close(fd) < 0 && ret == 0 && errno != EINTR)
		ret = -errno;
	return ret;
}

ssize_t io_pread(struct io *io, int fd, void *buf, size_t size, off_t off)
{
	ssize_t n;
	int ret = io_enter(io, IO_READ);

	if (ret < 0)
		return ret;
	do
		n = pread(fd, buf, size, off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

ssize_t io_pwrite(struct io *io, int fd, const void *buf, size_t size,
		  off_t off)
{
	ssize_t n;
	int ret = io_enter(io, IO_WRITE);

	if (ret == -IO_FAULT_CRASH) {
		/* A torn write: half of it reaches the file, then the crash. */
		if (pwrite(fd, buf, size / 2, off) < 0)
			(void)0;
		io_crash();
	}
	if (ret < 0)
		return ret;
	do
		n = pwrite(fd, buf, size, off);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

int io_fstat(struct io *io, int fd, struct stat *st)
{
	int ret = io_enter(io, IO_STAT);

	if (ret < 0)
		return ret;
	return RET(fstat(fd, st));
}

int io_fsync(struct io *io, int fd, bool datasync)
{
	int ret = io_enter(io, IO_FSYNC);

	if (ret < 0)
		return ret;
	return RET(datasync ? fdatasync(fd) : fsync(fd));
}

int io_ftruncate(struct io *io, int fd, off_t size)
{
	int ret = io_enter(io, IO_TRUNCATE);

	if (ret < 0)
		return ret;
	return RET(ftruncate(fd, size));
}

int io_futimens(struct io *io, int fd, const struct timespec ts[2])
{
	int ret = io_enter(io, IO_UTIMENS);

	if (ret < 0)
		return ret;
	return RET(futimens(fd, ts));
}

int io_fchmod(struct io *io, int fd, mode_t mode)
{
	int ret = io_enter(io, IO_CHMOD);

	if (ret < 0)
		return ret;
	return RET(fchmod(fd, mode));
}

int io_fchown(struct io *io, int fd, uid_t uid, gid_t gid)
{
	int ret = io_enter(io, IO_CHOWN);

	if (ret < 0)
		return ret;
	return RET(fchown(fd, uid, gid));
}

int io_fallocate(struct io *io, int fd, int mode, off_t off, off_t len)
{
	int ret = io_enter(io, IO_FALLOCATE);

	if (ret < 0)
		return ret;
	return RET(fallocate(fd, mode, off, len));
}

off_t io_lseek(struct io *io, int fd, off_t off, int whence)
{
	off_t r;
	int ret = io_enter(io, IO_LSEEK);

	if (ret < 0)
		return ret;
	r = lseek(fd, off, whence);
	return r < 0 ? -errno : r;
}

ssize_t io_copy_file_range(struct io *io, int fd_in, off_t *off_in,
			   int fd_out, off_t *off_out, size_t len,
			   unsigned int flags)
{
	ssize_t n;
	int ret = io_enter(io, IO_COPY);

	if (ret < 0)
		return ret;
	n = copy_file_range(fd_in, off_in, fd_out, off_out, len, flags);
	return n < 0 ? -errno : n;
}

int io_flush(struct io *io, int fd)
{
	int dup_fd, ret = io_enter(io, IO_CLOSE);

	if (ret < 0)
		return ret;
	dup_fd = dup(fd);
	if (dup_fd < 0)
		return -errno;
	if (close(dup_fd) < 0 && errno != EINTR)
		return -errno;
	return 0;
}
