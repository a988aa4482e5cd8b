/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fs: the FUSE daemon, on libfuse's low-level API.  Translation only: each
 * fs_<op> turns a request into calls on core/ and replies with core's result
 * unchanged.
 *
 * Every object the kernel knows is a struct fs_inode holding an O_PATH
 * handle of the backing object; one per backing (st_dev, st_ino), so hard
 * links share one kernel inode and its attributes, as on a local
 * filesystem.  The FUSE node id is the struct's address (the root is
 * FUSE_ROOT_ID).
 *
 * Thread-safe: libfuse serves requests on several threads; the inode table
 * has its own lock, and an inode stays valid while the kernel holds lookups
 * on it.
 */
#ifndef HYDRAFS_FS_H
#define HYDRAFS_FS_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/append.h"
#include "core/io.h"
#include "core/rules.h"
#include "core/store.h"

struct fs_inode {
	struct fs_inode *next;	/* hash chain, under the table lock */
	struct fs_inodes *table;
	/*
	 * O_PATH handle of the backing object, under @fd_lock; -1 while
	 * closed to save descriptors, reopened from @handle (NULL where the
	 * filesystem has no file handles: then @fd is never closed).
	 */
	int fd;
	struct file_handle *handle;
	unsigned int fd_users;	/* requests using @fd itself, under @fd_lock */
	unsigned int pins;	/* open files, under @fd_lock: @fd stays */
	bool referenced;	/* @fd used since the last sweep */
	dev_t dev;
	ino_t ino;
	mode_t type;		/* S_IFMT bits */
	uint64_t nlookup;	/* the kernel's references, under the lock */
	bool hashed;		/* findable by (dev, ino), under the lock */
	bool ro;		/* in .backups: read-only, its own entry */
	bool kept;		/* unlinked or replaced, alive as a version */

	/* Staged writes (regular files), under @lock. */
	pthread_mutex_t lock;
	struct stage *stage;	/* the shadow all writable handles share */
	bool written;		/* the stage got more than an O_TRUNC */
	int data_fd;		/* open fd of the current content, or -1 */
	/*
	 * Guards @fd of a regular file, which a commit replaces: requests
	 * outside @lock use a dup of it (fs_fd_hold()).
	 */
	pthread_mutex_t fd_lock;
	/* Append mode (core/append.h), instead of @stage; under @lock. */
	struct append *append;
	/* -1 not known yet, 0, 1: the rules say mode = log (readers then
	   bypass the page cache: a log may be appended to any time). */
	signed char log_mode;
	/*
	 * A damaged file served as its recovered view (core/recovered.h):
	 * the view's size while the file keeps the size and mtime it had
	 * (@view_raw_size, @view_raw_mtime); @view_size -1: none.  Under @lock.
	 */
	int64_t view_size;
	off_t view_raw_size;
	struct timespec view_raw_mtime;
	unsigned int writers;	/* writable handles open */
	unsigned int active;	/* of those, not flushed since their last write */
};

struct fs_inodes {
	struct store *store;	/* where a stage left at exit is kept */
	struct io *io;
	dev_t dev;		/* of the backing dir: handles only there */
	bool use_handles;	/* file handles work (the daemon may open them) */
	/*
	 * Open O_PATH handles of inodes, and how many may stay open: past
	 * that, the least recently used ones that have a file handle are
	 * closed (fs_fd_hold() reopens them).
	 */
	atomic_ulong open_fds;
	unsigned long max_fds;
	size_t sweep_at;	/* the clock hand: next bucket, under @lock */
	pthread_mutex_t lock;
	struct fs_inode **buckets;
	size_t nbuckets;
	size_t count;
};

/* An open file: the backing fd, on the list of open files. */
struct fs_file {
	int fd;
	bool staged;	/* writable, writing through the inode's stage */
	bool flushed;	/* staged: closed (FLUSH) and not written since */
	bool append;	/* O_APPEND: writes land at the end */
	bool trunc;	/* opened with O_TRUNC: its work is a whole-file commit */
	struct append_writer *aw;	/* in append mode: its bytes; or NULL */
	/* A checkpoint in .backups: reads end at @limit (else -1). */
	off_t limit;
	ino_t obj;	/* the backing object @fd was opened on */
	struct fs_file *prev, *next;
};

struct hydrafs {
	struct io *io;
	struct store *store;
	struct fuse_session *se;
	struct fs_inode root;	/* the backing dir; fd borrowed from io */
	struct fs_inodes inodes;
	struct rules *rules;	/* NULL: the defaults */
	struct append_set *appends;	/* the files in append mode */
	atomic_bool exiting;	/* the session is going: no more notifications */
	double entry_timeout;	/* seconds the kernel may cache names */
	double attr_timeout;	/* seconds the kernel may cache attributes */
	bool is_root;		/* the daemon runs as root */
	/*
	 * Open files, so that the ones the kernel never releases (a lazy
	 * unmount with files still open) are closed at exit.
	 */
	pthread_mutex_t files_lock;
	struct fs_file files;	/* list head */
};

static inline struct hydrafs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static inline struct fs_file *fs_file_of(const struct fuse_file_info *fi)
{
	return (struct fs_file *)(uintptr_t)fi->fh;
}

/*
 * An fd of @inode's object for one request: @inode->fd itself (kept open
 * until fs_fd_drop()), or a dup of it for a regular file (a commit may
 * replace it meanwhile); reopened when it was closed to save descriptors.
 * Give it back with fs_fd_drop().  -errno on failure.
 */
int fs_fd_hold(struct fs_inode *inode);
void fs_fd_drop(struct fs_inode *inode, int fd);

/* An open file of @inode keeps its handle open (deleted files have no other). */
void fs_inode_pin(struct fs_inode *inode);
void fs_inode_unpin(struct fs_inode *inode);

/* The inode behind node id @ino. */
struct fs_inode *fs_inode(fuse_req_t req, fuse_ino_t ino);

/*
 * @io: borrowed; @max_fds: how many O_PATH handles may stay open (0: no
 * limit).
 */
int fs_inodes_init(struct fs_inodes *t, struct io *io, unsigned long max_fds);
void fs_inodes_release(struct fs_inodes *t);

/*
 * The inode of backing object @st, with one more lookup; takes ownership of
 * @fd (closed when the inode already exists).  NULL when out of memory
 * (@fd closed).
 */
struct fs_inode *fs_inodes_get(struct fs_inodes *t, int fd,
			       const struct stat *st, bool ro);
/*
 * Gives @inode the backing object behind @fd (its content was replaced by
 * a commit): takes ownership of @fd, closes the old handle.
 */
/* Marks the inode of @st (if the kernel knows it) as kept as a version. */
void fs_inodes_mark_kept(struct fs_inodes *t, const struct stat *st);
void fs_inodes_rekey(struct fs_inodes *t, struct fs_inode *inode, int fd,
		     const struct stat *st);
/* Drops @n lookups; frees the inode at zero. */
void fs_inodes_forget(struct fs_inodes *t, struct fs_inode *inode,
		      uint64_t n);

/*
 * Looks @name up in @parent and fills @e (one more lookup on its inode);
 * 0 or -errno.
 */
int fs_lookup_entry(fuse_req_t req, struct fs_inode *parent,
		    const char *name, struct fuse_entry_param *e);

/* Whether @dir is the mount's root. */
bool fs_is_root(const struct hydrafs *h, const struct fs_inode *dir);

/*
 * 0 when @name (may be NULL) in @dir may be made, changed or removed:
 * -EROFS in .backups, -EPERM for the state dir's name in the root.
 */
int fs_check_change(struct hydrafs *h, const struct fs_inode *dir,
		    const char *name);

/* Who sent @req, for the journal; @comm (@size bytes) holds its name. */
void fs_who(fuse_req_t req, struct who *who, char *comm, size_t size);

/* 1 when writes to @inode go through a stage (see stage.c), 0, -errno. */
int fs_is_protected(struct hydrafs *h, struct fs_inode *inode);

/* Under inode->lock: fds to read and write @inode's staged content. */
int fs_stage_read_fd(struct hydrafs *h, struct fs_inode *inode);
int fs_stage_write_fd(struct hydrafs *h, struct fs_inode *inode, int *fd);
/* Under inode->lock: an O_TRUNC open empties the stage. */
int fs_stage_open_trunc(struct hydrafs *h, struct fs_inode *inode);
/* Under inode->lock: commits the stage (@durable: fsync). */
int fs_stage_commit(fuse_req_t req, struct fs_inode *inode, bool durable);
/* Under inode->lock: the last writable handle went away. */
void fs_stage_release(fuse_req_t req, struct fs_inode *inode);

/*
 * Append mode (fs/append.c), all under inode->lock.  A staged write of
 * @size bytes at @off through @f: taken in append mode when the file is or
 * may go into it (1: done, *@n the result), else 0: the caller stages it
 * (the file left append mode if it was in it), or -errno.
 */
int fs_append_write(fuse_req_t req, struct fs_inode *inode, struct fs_file *f,
		    const char *buf, size_t size, off_t off, ssize_t *n);
/* Leaves append mode for a whole-file stage (a truncate, a write elsewhere). */
int fs_append_leave(struct hydrafs *h, struct fs_inode *inode);
/*
 * A truncate of a file in append mode (a log rotated by copytruncate): an
 * ordinary commit now (the whole old file is kept as a version), then the
 * writers append to the new content, keeping their incomplete records.
 */
int fs_append_truncate(fuse_req_t req, struct fs_inode *inode, off_t size);
/* close() of a writable handle; 0 or -errno. */
int fs_append_flush(struct fs_inode *inode, struct fs_file *f);
/* The handle @f is released; the last writer ends append mode. */
void fs_append_release(struct fs_inode *inode, struct fs_file *f);
/*
 * The size @f (NULL: a stat by @pid) sees; -1 when not in append mode.  A
 * stat carries no handle, so a process that writes to the file through a
 * handle sees its own bytes in its stats.
 */
int64_t fs_append_size(struct fs_inode *inode, struct fs_file *f, pid_t pid);
/*
 * The size to show for @inode whose backing attributes are @st: its
 * recovered view's when it is served as one; under inode->lock.
 */
void fs_view_attr(struct fs_inode *inode, struct stat *st);

/* Whether readers of @inode should bypass the page cache (a log). */
bool fs_is_log(struct hydrafs *h, struct fs_inode *inode);

/*
 * Before a file written in place (several links) is truncated: a copy of
 * its content is kept as a version (scratch files excepted).
 */
int fs_keep_before_truncate(fuse_req_t req, struct fs_inode *inode);

/*
 * A size change of @inode: staged like a write when the file is protected
 * (then 0); -ENOTSUP when it is a plain passthrough, -errno on failure.
 */
int fs_stage_truncate(fuse_req_t req, struct fs_inode *inode,
		      struct fuse_file_info *fi, off_t size);

/*
 * Clears set-user-ID (and set-group-ID with group exec) of the object behind
 * O_PATH handle @fd when the kernel asked for it for the current request
 * (see kernel.h).
 */
int fs_kill_suidgid(struct io *io, int fd);

/* Closes every file still open, at exit. */
void fs_files_release(struct hydrafs *h);

void fs_init_ops_entry(struct fuse_lowlevel_ops *ops);
void fs_init_ops_file(struct fuse_lowlevel_ops *ops);
void fs_init_ops_dir(struct fuse_lowlevel_ops *ops);
void fs_init_ops_xattr(struct fuse_lowlevel_ops *ops);

#endif
