// SPDX-License-Identifier: GPL-2.0-or-later
/* The inode table: one struct fs_inode per backing (st_dev, st_ino). */
#include "config.h"

#include "fs.h"

#include <errno.h>
#include <fcntl.h>
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

int fs_inodes_init(struct fs_inodes *t)
{
	t->buckets = calloc(INITIAL_BUCKETS, sizeof(*t->buckets));
	if (!t->buckets)
		return -ENOMEM;
	t->nbuckets = INITIAL_BUCKETS;
	t->count = 0;
	pthread_mutex_init(&t->lock, NULL);
	return 0;
}

static void inode_free(struct fs_inodes *t, struct fs_inode *n)
{
	/* Staged data never committed (an unclean unmount) becomes an orphan. */
	if (n->stage)
		stage_free(t->store, n->stage);
	close(n->fd);
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
		if (fstatat(n->fd, "", &old, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == 0 &&
		    old.st_nlink == 0 && st->st_nlink > 0) {
			*pp = n->next;
			n->hashed = false;
			t->count--;
			break;
		}
		n->nlookup++;
		pthread_mutex_unlock(&t->lock);
		close(fd);
		return n;
	}
	n = calloc(1, sizeof(*n));
	if (!n) {
		pthread_mutex_unlock(&t->lock);
		close(fd);
		return NULL;
	}
	n->fd = fd;
	n->dev = st->st_dev;
	n->ino = st->st_ino;
	n->type = st->st_mode & S_IFMT;
	n->nlookup = 1;
	n->hashed = true;
	n->ro = ro;
	n->data_fd = -1;
	pthread_mutex_init(&n->lock, NULL);
	pthread_mutex_init(&n->fd_lock, NULL);
	n->next = t->buckets[k];
	t->buckets[k] = n;
	if (++t->count > t->nbuckets)
		grow(t);
	pthread_mutex_unlock(&t->lock);
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
	close(old);
}

int fs_fd_hold(struct fs_inode *inode)
{
	int fd;

	if (!S_ISREG(inode->type))
		return inode->fd;
	pthread_mutex_lock(&inode->fd_lock);
	fd = fcntl(inode->fd, F_DUPFD_CLOEXEC, 0);
	pthread_mutex_unlock(&inode->fd_lock);
	return fd < 0 ? -errno : fd;
}

void fs_fd_drop(struct fs_inode *inode, int fd)
{
	if (S_ISREG(inode->type) && fd >= 0)
		close(fd);
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
