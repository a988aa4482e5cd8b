// SPDX-License-Identifier: GPL-2.0-or-later
/* The inode table: one struct fs_inode per backing (st_dev, st_ino). */
#include "config.h"

#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <unistd.h>

#define INITIAL_BUCKETS 1024

struct fs_inode *fs_inode(fuse_req_t req, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &fs_of(req)->root;
	return (struct fs_inode *)(uintptr_t)ino;
}

/* Whether handles of the backing dir's filesystem can be made and opened. */
static bool handles_work(struct io *io)
{
	struct file_handle *fh;
	int fd;

	if (io_handle_of(io, io_rootfd(io), true, &fh) < 0)
		return false;
	fd = io_open_handle(io, fh);
	free(fh);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int fs_inodes_init(struct fs_inodes *t, struct io *io, unsigned long max_fds)
{
	struct stat st;

	if (fstat(io_rootfd(io), &st) < 0)
		return -errno;
	t->buckets = calloc(INITIAL_BUCKETS, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->nbuckets = INITIAL_BUCKETS;
	t->count = 0;
	t->io = io;
	t->dev = st.st_dev;
	t->max_fds = max_fds;
	t->use_handles = max_fds > 0 && handles_work(io);
	atomic_store(&t->open_fds, 0);
	t->sweep_at = 0;
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

/*
 * Whether @n is a file with several names: reopened from its file handle,
 * it could come back under any of them, and its path names its versions
 * (a crash leaves a version link beside a file): such a handle stays open.
 */
static bool has_links(struct fs_inode *n)
{
	struct stat st;

	if (S_ISDIR(n->type))
		return false;
	return fstatat(n->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ||
	       st.st_nlink > 1;
}

/*
 * Under @t->lock: closes the handles of inodes not used since the last
 * sweep (a clock over the buckets) until a quarter of the limit is free.
 */
static void sweep(struct fs_inodes *t)
{
	unsigned long target = t->max_fds - t->max_fds / 4;

	for (size_t seen = 0; seen < 2 * t->nbuckets &&
	     atomic_load(&t->open_fds) > target; seen++) {
		size_t k = t->sweep_at++ & (t->nbuckets - 1);

		for (struct fs_inode *n = t->buckets[k]; n; n = n->next) {
			pthread_mutex_lock(&n->fd_lock);
			if (n->fd >= 0 && n->handle && !n->fd_users && !n->pins &&
			    !has_links(n)) {
				if (n->referenced) {
					n->referenced = false;
				} else {
					close(n->fd);
					n->fd = -1;
					atomic_fetch_sub(&t->open_fds, 1);
				}
			}
			pthread_mutex_unlock(&n->fd_lock);
		}
	}
}

static void sweep_if_full(struct fs_inodes *t)
{
	if (!t->use_handles || atomic_load(&t->open_fds) <= t->max_fds)
		return;
	pthread_mutex_lock(&t->lock);
	sweep(t);
	pthread_mutex_unlock(&t->lock);
}

/* Under @n->fd_lock: opens @n->fd again from its file handle. */
static int reopen(struct fs_inode *n)
{
	int fd;

	if (n->fd >= 0)
		return 0;
	if (!n->handle)
		return -EBADF;
	fd = io_open_handle(n->table->io, n->handle);
	if (fd < 0)
		return fd == -ENOENT ? -ESTALE : fd;
	n->fd = fd;
	atomic_fetch_add(&n->table->open_fds, 1);
	return 0;
}

/* A new inode's file handle, so that its O_PATH handle can be closed. */
static void take_handle(struct fs_inodes *t, struct fs_inode *n)
{
	struct file_handle *fh;

	if (!t->use_handles || n->dev != t->dev ||
	    io_handle_of(t->io, n->fd, S_ISDIR(n->type), &fh) < 0)
		return;
	pthread_mutex_lock(&n->fd_lock);
	free(n->handle);
	n->handle = fh;
	pthread_mutex_unlock(&n->fd_lock);
}

static void inode_free(struct fs_inodes *t, struct fs_inode *n)
{
	/* Staged data never committed (an unclean unmount) becomes an orphan. */
	if (n->stage)
		stage_free(t->store, n->stage);
	/* At exit, with writers never released: what they queued commits. */
	if (n->append)
		append_close(n->append);
	if (n->fd >= 0) {
		close(n->fd);
		atomic_fetch_sub(&t->open_fds, 1);
	}
	free(n->handle);
	if (n->data_fd >= 0)
		close(n->data_fd);
	pthread_mutex_destroy(&n->fd_lock);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

void fs_inodes_release(struct fs_inodes *t)
{
	if (!t->buckets)
		return;
	for (size_t i = 0; i < t->nbuckets; i++) {
		struct fs_inode *n, *next;

		for (n = t->buckets[i]; n; n = next) {
			next = n->next;
			inode_free(t, n);
		}
	}
	free(t->buckets);
	t->buckets = NULL;
	pthread_mutex_destroy(&t->lock);
}

static size_t bucket_of(const struct fs_inodes *t, dev_t dev, ino_t ino)
{
	uint64_t h = (uint64_t)ino * 0x9e3779b97f4a7c15ULL ^ (uint64_t)dev;

	return (size_t)(h ^ (h >> 29)) & (t->nbuckets - 1);
}

/* Doubles the buckets when the table is full; keeps it as is when out of memory. */
static void grow(struct fs_inodes *t)
{
	size_t n = t->nbuckets * 2;
	struct fs_inode **b = calloc(n, sizeof(*b));
	struct fs_inode **old = t->buckets;
	size_t oldn = t->nbuckets;

	if (!b)
		return;
	t->buckets = b;
	t->nbuckets = n;
	for (size_t i = 0; i < oldn; i++) {
		struct fs_inode *node, *next;

		for (node = old[i]; node; node = next) {
			size_t k = bucket_of(t, node->dev, node->ino);

			next = node->next;
			node->next = b[k];
			b[k] = node;
		}
	}
	free(old);
}

struct fs_inode *fs_inodes_get(struct fs_inodes *t, int fd,
			       const struct stat *st, bool ro)
{
	struct fs_inode *n;
	bool stale;
	size_t k;

	pthread_mutex_lock(&t->lock);
	k = bucket_of(t, st->st_dev, st->st_ino);
	for (struct fs_inode **pp = &t->buckets[k]; (n = *pp); pp = &n->next) {
		struct stat old;

		if (n->dev != st->st_dev || n->ino != st->st_ino || n->ro != ro)
			continue;
		/*
		 * An inode number is reused once its file is gone; a deleted
		 * file that is still open keeps its entry, which must not be
		 * handed out for the new file: unhash it instead.
		 */
		pthread_mutex_lock(&n->fd_lock);
		stale = reopen(n) == -ESTALE ||
			(n->fd >= 0 &&
			 fstatat(n->fd, "", &old, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 &&
			 old.st_nlink == 0 && st->st_nlink > 0);
		pthread_mutex_unlock(&n->fd_lock);
		if (stale) {
			*pp = n->next;
			n->hashed = false;
			t->count--;
			break;
		}
		n->nlookup++;
		pthread_mutex_unlock(&t->lock);
		close(fd);
		sweep_if_full(t);	/* the check above may have reopened it */
		return n;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		pthread_mutex_unlock(&t->lock);
		close(fd);
		return NULL;
	}
	n->table = t;
	n->fd = fd;
	n->referenced = true;
	atomic_fetch_add(&t->open_fds, 1);
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->type = st->st_mode & S_IFMT;
	n->nlookup = 1;
	n->hashed = true;
	n->ro = ro;
	n->data_fd = -1;
	n->log_mode = -1;
	n->view_size = -1;
	pthread_mutex_init(&n->lock, NULL);
	pthread_mutex_init(&n->fd_lock, NULL);
	n->next = t->buckets[k];
	t->buckets[k] = n;
	if (++t->count > t->nbuckets)
		grow(t);
	pthread_mutex_unlock(&t->lock);
	take_handle(t, n);
	sweep_if_full(t);
	return n;
}

void fs_inodes_forget(struct fs_inodes *t, struct fs_inode *inode, uint64_t n)
{
	struct fs_inode **pp;
	size_t k;

	pthread_mutex_lock(&t->lock);
	if (inode->nlookup > n) {
		inode->nlookup -= n;
		pthread_mutex_unlock(&t->lock);
		return;
	}
	k = bucket_of(t, inode->dev, inode->ino);
	for (pp = &t->buckets[k]; inode->hashed && *pp; pp = &(*pp)->next) {
		if (*pp == inode) {
			*pp = inode->next;
			t->count--;
			break;
		}
	}
	pthread_mutex_unlock(&t->lock);
	inode_free(t, inode);
}

static void unhash(struct fs_inodes *t, struct fs_inode *inode)
{
	struct fs_inode **pp = &t->buckets[bucket_of(t, inode->dev, inode->ino)];

	for (; inode->hashed && *pp; pp = &(*pp)->next) {
		if (*pp == inode) {
			*pp = inode->next;
			inode->hashed = false;
			t->count--;
			return;
		}
	}
}

void fs_inodes_rekey(struct fs_inodes *t, struct fs_inode *inode, int fd,
		     const struct stat *st)
{
	size_t k;
	int old;

	pthread_mutex_lock(&t->lock);
	unhash(t, inode);
	pthread_mutex_lock(&inode->fd_lock);
	old = inode->fd;
	inode->fd = fd;
	if (old < 0)
		atomic_fetch_add(&t->open_fds, 1);
	free(inode->handle);
	inode->handle = NULL;
	pthread_mutex_unlock(&inode->fd_lock);
	inode->dev = st->st_dev;
	inode->ino = st->st_ino;
	k = bucket_of(t, inode->dev, inode->ino);
	inode->next = t->buckets[k];
	t->buckets[k] = inode;
	inode->hashed = true;
	t->count++;
	pthread_mutex_unlock(&t->lock);
	/* Requests that read the old handle hold their own dup of it. */
	if (old >= 0)
		close(old);
	take_handle(t, inode);
}

int fs_fd_hold(struct fs_inode *inode)
{
	bool reopened;
	int fd;

	pthread_mutex_lock(&inode->fd_lock);
	reopened = inode->fd < 0;
	fd = reopen(inode);
	if (fd == 0) {
		inode->referenced = true;
		if (S_ISREG(inode->type)) {
			fd = fcntl(inode->fd, F_DUPFD_CLOEXEC, 0);
			if (fd < 0)
				fd = -errno;
		} else {
			fd = inode->fd;
			inode->fd_users++;
		}
	}
	pthread_mutex_unlock(&inode->fd_lock);
	if (reopened && fd >= 0 && inode->table)
		sweep_if_full(inode->table);
	return fd;
}

void fs_fd_drop(struct fs_inode *inode, int fd)
{
	if (fd < 0)
		return;
	if (S_ISREG(inode->type)) {
		close(fd);
		return;
	}
	pthread_mutex_lock(&inode->fd_lock);
	inode->fd_users--;
	pthread_mutex_unlock(&inode->fd_lock);
}

void fs_inode_pin(struct fs_inode *inode)
{
	pthread_mutex_lock(&inode->fd_lock);
	reopen(inode);	/* best effort: a failure shows at the next hold */
	inode->pins++;
	pthread_mutex_unlock(&inode->fd_lock);
}

void fs_inode_unpin(struct fs_inode *inode)
{
	pthread_mutex_lock(&inode->fd_lock);
	inode->pins--;
	pthread_mutex_unlock(&inode->fd_lock);
}

void fs_inodes_mark_kept(struct fs_inodes *t, const struct stat *st)
{
	struct fs_inode *n;

	pthread_mutex_lock(&t->lock);
	for (n = t->buckets[bucket_of(t, st->st_dev, st->st_ino)]; n;
	     n = n->next)
		if (n->dev == st->st_dev && n->ino == st->st_ino && !n->ro)
			n->kept = true;
	pthread_mutex_unlock(&t->lock);
}
