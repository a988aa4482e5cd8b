// SPDX-License-Identifier: GPL-2.0-or-later
/* Names and attributes: lookup, forget, getattr, setattr, links, mknod... */
#include "config.h"

#include "fs.h"
#include "kernel.h"

#include "core/perm.h"
#include "core/version.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

bool fs_is_root(const struct hydrafs *h, const struct fs_inode *dir)
{
	return dir == &h->root;
}

int fs_check_change(struct hydrafs *h, const struct fs_inode *dir,
		    const char *name)
{
	if (dir->ro)
		return -EROFS;
	if (fs_is_root(h, dir) && name) {
		if (!strcmp(name, BACKUPS_NAME))
			return -EROFS;
		if (!strcmp(name, STATE_DIR))
			return -EPERM;
	}
	return 0;
}

void fs_who(fuse_req_t req, struct who *who, char *comm, size_t size)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	char path[64];
	ssize_t n = -1;
	int fd;

	who->uid = ctx->uid;
	who->pid = ctx->pid;
	who->comm = NULL;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)ctx->pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, comm, size - 1);
		close(fd);
	}
	if (n > 0) {
		comm[n] = '\0';
		comm[strcspn(comm, "\n")] = '\0';
		who->comm = comm;
	}
}

/* A checkpoint in .backups has the size of its prefix. */
static void checkpoint_attr(struct hydrafs *h, int fd, struct stat *st)
{
	uint64_t len;

	if (store_checkpoint_len(h->store, fd, &len) == 1) {
		st->st_size = (off_t)len;
		st->st_blocks = (blkcnt_t)((len + 511) / 512);
	}
}

int fs_lookup_entry(fuse_req_t req, struct fs_inode *parent,
		    const char *name, struct fuse_entry_param *e)
{
	struct hydrafs *h = fs_of(req);
	struct fs_inode *inode;
	struct stat st;
	bool ro = parent->ro;
	int fd, ret;

	if (fs_is_root(h, parent) && !strcmp(name, STATE_DIR))
		return -ENOENT;
	if (fs_is_root(h, parent) && !strcmp(name, BACKUPS_NAME)) {
		/* The versions tree, read-only: what .backups shows. */
		fd = dup(store_versions_fd(h->store));
		if (fd < 0)
			return -errno;
		ret = io_fstatat_empty(h->io, fd, &st);
		if (ret < 0) {
			close(fd);
			return ret;
		}
		ro = true;
	} else {
		int pfd = fs_fd_hold(parent);

		ret = pfd < 0 ? pfd : io_lookup(h->io, pfd, name, &fd, &st);
		fs_fd_drop(parent, pfd);
		if (ret < 0)
			return ret;
	}
	if (ro && S_ISREG(st.st_mode))
		checkpoint_attr(h, fd, &st);
	inode = fs_inodes_get(&h->inodes, fd, &st, ro);
	if (!inode)
		return -ENOMEM;
	memset(e, 0, sizeof(*e));
	e->ino = (uintptr_t)inode;
	e->attr = st;
	/* A file in append mode: the kernel asks for its size each time. */
	e->attr_timeout = h->attr_timeout;
	if (S_ISREG(st.st_mode) && !ro) {
		pthread_mutex_lock(&inode->lock);
		fs_view_attr(inode, &e->attr);
		if (inode->append) {
			e->attr_timeout = 0;
			e->attr.st_size = fs_append_size(inode, NULL,
							 fuse_req_ctx(req)->pid);
		}
		pthread_mutex_unlock(&inode->lock);
	}
	e->entry_timeout = h->entry_timeout;
	return 0;
}

static void fs_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct fuse_entry_param e;
	int ret = fs_lookup_entry(req, fs_inode(req, parent), name, &e);

	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_entry(req, &e);
}

static void fs_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	if (ino != FUSE_ROOT_ID)
		fs_inodes_forget(&fs_of(req)->inodes, fs_inode(req, ino),
				 nlookup);
	fuse_reply_none(req);
}

static void fs_forget_multi(fuse_req_t req, size_t count,
			    struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		if (forgets[i].ino != FUSE_ROOT_ID)
			fs_inodes_forget(&fs_of(req)->inodes,
					 fs_inode(req, forgets[i].ino),
					 forgets[i].nlookup);
	fuse_reply_none(req);
}

/* The attributes of @ino: a staged file has the size and times of its stage. */
static int stat_of(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi,
		   struct stat *st)
{
	struct hydrafs *h = fs_of(req);
	struct fs_inode *inode = fs_inode(req, ino);
	struct stat sh;
	int ret;

	int fd;

	if (fi && fi->fh && !fs_file_of(fi)->staged && !inode->append &&
	    !inode->ro)
		return io_fstat(h->io, fs_file_of(fi)->fd, st);
	fd = fs_fd_hold(inode);
	if (fd < 0)
		return fd;
	ret = io_fstatat_empty(h->io, fd, st);
	if (ret == 0 && inode->ro && S_ISREG(st->st_mode))
		checkpoint_attr(h, fd, st);
	fs_fd_drop(inode, fd);
	if (ret < 0 || !S_ISREG(st->st_mode) || inode->ro)
		return ret;
	/* Deleted through the mount: its version's link is not a name. */
	if (inode->kept && st->st_nlink > 0)
		st->st_nlink--;
	pthread_mutex_lock(&inode->lock);
	fs_view_attr(inode, st);
	if (inode->append) {
		/* Readers see what is committed; a writer its own bytes too. */
		st->st_size = fs_append_size(inode,
					     fi && fi->fh ? fs_file_of(fi) : NULL,
					     fuse_req_ctx(req)->pid);
	} else if (inode->stage &&
		   io_fstat(h->io, stage_fd(inode->stage), &sh) == 0) {
		st->st_size = sh.st_size;
		st->st_blocks = sh.st_blocks;
		st->st_mtim = sh.st_mtim;
		st->st_ctim = sh.st_ctim;
	}
	pthread_mutex_unlock(&inode->lock);
	return ret;
}

static void fs_getattr(fuse_req_t req, fuse_ino_t ino,
		       struct fuse_file_info *fi)
{
	struct stat st;
	int ret = stat_of(req, ino, fi, &st);

	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_attr(req, &st, fs_inode(req, ino)->append
						  ? 0
						  : fs_of(req)->attr_timeout);
}

static void times_of(const struct stat *attr, int valid, struct timespec ts[2])
{
	ts[0].tv_sec = 0;
	ts[1].tv_sec = 0;
	ts[0].tv_nsec = UTIME_OMIT;
	ts[1].tv_nsec = UTIME_OMIT;
	if (valid & FUSE_SET_ATTR_ATIME_NOW)
		ts[0].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_ATIME)
		ts[0] = attr->st_atim;
	if (valid & FUSE_SET_ATTR_MTIME_NOW)
		ts[1].tv_nsec = UTIME_NOW;
	else if (valid & FUSE_SET_ATTR_MTIME)
		ts[1] = attr->st_mtim;
}

static int setattr(fuse_req_t req, struct fs_inode *inode, struct stat *attr,
		   int valid, struct fuse_file_info *fi)
{
	struct io *io = fs_of(req)->io;
	int fd = fi && fi->fh ? fs_file_of(fi)->fd : -1;
	int ifd = fs_fd_hold(inode), ret = 0;

	if (ifd < 0)
		return ifd;

	if (valid & FUSE_SET_ATTR_MODE)
		ret = fd >= 0 ? io_fchmod(io, fd, attr->st_mode)
			      : io_chmod_fd(io, ifd, attr->st_mode);
	if (ret == 0 && (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID))) {
		uid_t uid = valid & FUSE_SET_ATTR_UID ? attr->st_uid : (uid_t)-1;
		gid_t gid = valid & FUSE_SET_ATTR_GID ? attr->st_gid : (gid_t)-1;

		ret = io_chown_fd(io, ifd, uid, gid);
	}
	if (ret == 0 && (valid & FUSE_SET_ATTR_SIZE)) {
		ret = fd >= 0 ? io_ftruncate(io, fd, attr->st_size)
			      : io_truncate_fd(io, ifd, attr->st_size);
		if (ret == 0)
			ret = fs_kill_suidgid(io, ifd);
	}
	if (ret == 0 && (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME |
				  FUSE_SET_ATTR_ATIME_NOW |
				  FUSE_SET_ATTR_MTIME_NOW))) {
		struct timespec ts[2];

		times_of(attr, valid, ts);
		ret = fd >= 0 ? io_futimens(io, fd, ts)
			      : io_utimens_fd(io, ifd, ts);
	}
	fs_fd_drop(inode, ifd);
	return ret;
}

static void fs_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr,
		       int valid, struct fuse_file_info *fi)
{
	struct fs_inode *inode = fs_inode(req, ino);
	struct stat st;
	int ret = inode->ro ? -EROFS : 0;

	/* A size change of a protected file is a staged write: see stage.c. */
	if (ret == 0 && (valid & FUSE_SET_ATTR_SIZE)) {
		ret = fs_stage_truncate(req, inode, fi, attr->st_size);
		if (ret == 0)
			valid &= ~FUSE_SET_ATTR_SIZE;
		else if (ret == -ENOTSUP)
			ret = 0;
	}
	if (ret == 0)
		ret = setattr(req, inode, attr, valid, fi);

	if (ret == 0)
		ret = stat_of(req, ino, fi, &st);
	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_attr(req, &st, fs_of(req)->attr_timeout);
}

static void fs_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct fs_inode *inode = fs_inode(req, ino);
	char buf[PATH_MAX + 1];
	int fd = fs_fd_hold(inode);
	ssize_t n = fd < 0 ? fd : io_readlink_fd(fs_of(req)->io, fd, buf,
						  sizeof(buf));

	fs_fd_drop(inode, fd);
	if (n < 0)
		fuse_reply_err(req, (int)-n);
	else
		fuse_reply_readlink(req, buf);
}

/*
 * A new entry made by the daemon running as root belongs to the caller, and
 * to the parent's group in a set-group-ID dir (the kernel already gave it
 * that group), as when the caller makes it on a local filesystem.
 */
static int give_to_caller(fuse_req_t req, struct fs_inode *parent,
			  struct fuse_entry_param *e)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	struct hydrafs *h = fs_of(req);
	struct fs_inode *inode = (struct fs_inode *)(uintptr_t)e->ino;
	struct stat pst;
	gid_t gid = ctx->gid;
	int fd, ret;

	if (!h->is_root || (ctx->uid == 0 && ctx->gid == 0))
		return 0;
	fd = fs_fd_hold(parent);
	ret = fd < 0 ? fd : io_fstatat_empty(h->io, fd, &pst);
	fs_fd_drop(parent, fd);
	if (ret < 0)
		return ret;
	if (pst.st_mode & S_ISGID)
		gid = (gid_t)-1;
	fd = fs_fd_hold(inode);
	ret = fd < 0 ? fd : io_chown_fd(h->io, fd, ctx->uid, gid);
	if (ret == 0)
		ret = io_fstatat_empty(h->io, fd, &e->attr);
	fs_fd_drop(inode, fd);
	return ret;
}

/* Replies to a request that made @name in @parent (made is 0 or -errno). */
static void reply_made(fuse_req_t req, struct fs_inode *parent,
		       const char *name, int made, bool is_dir)
{
	struct hydrafs *h = fs_of(req);
	struct fuse_entry_param e;
	int ret = made;

	if (ret == 0)
		ret = fs_lookup_entry(req, parent, name, &e);
	if (made == 0 && ret == 0) {
		ret = give_to_caller(req, parent, &e);
		if (ret < 0)
			fs_inodes_forget(&h->inodes,
					 (struct fs_inode *)(uintptr_t)e.ino, 1);
	}
	if (made == 0 && ret < 0) {
		int fd = fs_fd_hold(parent);

		if (fd >= 0)
			io_unlinkat(h->io, fd, name, is_dir);
		fs_fd_drop(parent, fd);
	}
	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_entry(req, &e);
}

static void fs_mknod(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode, dev_t rdev)
{
	struct fs_inode *p = fs_inode(req, parent);

	int ret = fs_check_change(fs_of(req), p, name);
	int fd = ret ? ret : fs_fd_hold(p);

	ret = fd < 0 ? fd : io_mknodat(fs_of(req)->io, fd, name, mode, rdev);
	fs_fd_drop(p, fd);
	reply_made(req, p, name, ret,
		   false);
}

static void fs_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name,
		     mode_t mode)
{
	struct fs_inode *p = fs_inode(req, parent);

	int ret = fs_check_change(fs_of(req), p, name);
	int fd = ret ? ret : fs_fd_hold(p);

	ret = fd < 0 ? fd : io_mkdirat(fs_of(req)->io, fd, name, mode);
	fs_fd_drop(p, fd);
	reply_made(req, p, name, ret,
		   true);
}

static void fs_symlink(fuse_req_t req, const char *target, fuse_ino_t parent,
		       const char *name)
{
	struct fs_inode *p = fs_inode(req, parent);

	int ret = fs_check_change(fs_of(req), p, name);
	int fd = ret ? ret : fs_fd_hold(p);

	ret = fd < 0 ? fd : io_symlinkat(fs_of(req)->io, target, fd, name);
	fs_fd_drop(p, fd);
	reply_made(req, p, name, ret,
		   false);
}

static void fs_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent,
		    const char *newname)
{
	struct fs_inode *p = fs_inode(req, newparent);
	struct fs_inode *inode = fs_inode(req, ino);
	struct fuse_entry_param e;
	int ret = inode->ro ? -EROFS : fs_check_change(fs_of(req), p, newname);

	if (ret == 0) {
		int fd = fs_fd_hold(inode);
		int pfd = fs_fd_hold(p);

		ret = fd < 0 ? fd : pfd < 0 ? pfd
			: io_link_fd(fs_of(req)->io, fd, pfd, newname);
		fs_fd_drop(p, pfd);
		fs_fd_drop(inode, fd);
	}

	if (ret == 0)
		ret = fs_lookup_entry(req, p, newname, &e);
	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_entry(req, &e);
}

/*
 * Before @name in @dir is unlinked or replaced: a regular file's content is
 * kept as a version (scratch files excepted).  Nothing is removed when that
 * fails.
 */
static int keep_before_loss(fuse_req_t req, int dirfd, const char *name)
{
	struct hydrafs *h = fs_of(req);
	struct stat st;
	struct who who;
	char comm[32];
	int fd, ret;

	if (store_is_scratch(name))
		return 0;
	ret = io_lookup(h->io, dirfd, name, &fd, &st);
	if (ret < 0)
		return ret == -ENOENT ? 0 : ret;
	/* With other names left the content is not lost: no version. */
	if (S_ISREG(st.st_mode) && st.st_nlink == 1) {
		fs_who(req, &who, comm, sizeof(comm));
		ret = store_keep(h->store, fd, &who);
		if (ret == 0)
			fs_inodes_mark_kept(&h->inodes, &st);
	}
	close(fd);
	return ret;
}

static void fs_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct hydrafs *h = fs_of(req);
	struct fs_inode *dir = fs_inode(req, parent);
	int ret = fs_check_change(h, dir, name);
	int fd = ret ? ret : fs_fd_hold(dir);

	ret = fd < 0 ? fd : keep_before_loss(req, fd, name);
	if (ret == 0)
		ret = io_unlinkat(h->io, fd, name, false);
	fs_fd_drop(dir, fd);
	fuse_reply_err(req, -ret);
}

static void fs_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct hydrafs *h = fs_of(req);
	struct fs_inode *dir = fs_inode(req, parent);
	int ret = fs_check_change(h, dir, name);
	int fd = ret ? ret : fs_fd_hold(dir);

	ret = fd < 0 ? fd : io_unlinkat(h->io, fd, name, true);
	fs_fd_drop(dir, fd);
	fuse_reply_err(req, -ret);
}

static void fs_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname,
		      unsigned int flags)
{
	struct hydrafs *h = fs_of(req);
	struct fs_inode *from = fs_inode(req, parent);
	struct fs_inode *to = fs_inode(req, newparent);
	int ret = fs_check_change(h, from, name);
	int fd_from = -1, fd_to = -1;

	if (ret == 0)
		ret = fs_check_change(h, to, newname);
	if (ret == 0)
		ret = fd_from = fs_fd_hold(from);
	if (ret >= 0)
		ret = fd_to = fs_fd_hold(to);
	if (ret >= 0 && !(flags & (RENAME_EXCHANGE | RENAME_NOREPLACE)))
		ret = keep_before_loss(req, fd_to, newname);
	if (ret >= 0)
		ret = io_renameat(h->io, fd_from, name, fd_to, newname, flags);
	fs_fd_drop(to, fd_to);
	fs_fd_drop(from, fd_from);
	fuse_reply_err(req, -ret);
}

static void fs_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct statvfs st;
	struct fs_inode *inode = fs_inode(req, ino);
	int fd = fs_fd_hold(inode);
	int ret = fd < 0 ? fd : io_statvfs_fd(fs_of(req)->io, fd, &st);

	fs_fd_drop(inode, fd);

	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_statfs(req, &st);
}

/* Only asked without default_permissions: answer for the caller. */
static void fs_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	gid_t groups[64];
	struct stat st;
	int n, ret;

	struct fs_inode *inode = fs_inode(req, ino);
	int fd = fs_fd_hold(inode);

	ret = fd < 0 ? fd : io_fstatat_empty(fs_of(req)->io, fd, &st);
	fs_fd_drop(inode, fd);
	if (ret == 0 && mask != F_OK) {
		n = fuse_req_getgroups(req, 64, groups);
		if (n < 0 || n > 64)
			n = 0;
		if (!perm_allows(&st, ctx->uid, ctx->gid, groups, n, mask))
			ret = -EACCES;
	}
	fuse_reply_err(req, -ret);
}

void fs_init_ops_entry(struct fuse_lowlevel_ops *ops)
{
	ops->lookup = fs_lookup;
	ops->forget = fs_forget;
	ops->forget_multi = fs_forget_multi;
	ops->getattr = fs_getattr;
	ops->setattr = fs_setattr;
	ops->readlink = fs_readlink;
	ops->mknod = fs_mknod;
	ops->mkdir = fs_mkdir;
	ops->symlink = fs_symlink;
	ops->link = fs_link;
	ops->unlink = fs_unlink;
	ops->rmdir = fs_rmdir;
	ops->rename = fs_rename;
	ops->statfs = fs_statfs;
	ops->access = fs_access;
}
