// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Append mode as the FUSE requests see it (core/append does the work).
 *
 * A protected file goes into append mode at a write that appends: through
 * an O_APPEND handle, at the end of a non-empty file, or at the end of any
 * file whose rules say mode = log.  Its writable handles then each get an
 * append_writer.  A write anywhere else, a truncate or an O_TRUNC open
 * makes it leave append mode for an ordinary whole-file stage (holding
 * what was committed, then every handle's incomplete record); the last
 * writer's release ends it.  All under the inode's lock.
 *
 * What the kernel caches: readers of a file in append mode (or of a log)
 * bypass the page cache, and each commit makes the kernel forget the
 * file's attributes (and, from the committer thread, its pages past the
 * old end), so that a reader sees each commit and never a partial record.
 */
#include "config.h"

#include "fs.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <sys/stat.h>

static struct hydrafs *hydrafs_of_inode(struct fs_inode *inode)
{
	/* The table is a member of the struct hydrafs: its address is aligned. */
	return (struct hydrafs *)(void *)((char *)inode->table -
					  offsetof(struct hydrafs, inodes));
}

static void on_commit(void *arg, uint64_t old_len, uint64_t new_len,
		      bool idle)
{
	struct fs_inode *inode = arg;
	struct hydrafs *h = hydrafs_of_inode(inode);

	(void)new_len;
	if (atomic_load(&h->exiting))
		return;
	/*
	 * Pages only from the committer, which holds no lock: a request's
	 * caller may hold the pages a write is filling.
	 */
	fuse_lowlevel_notify_inval_inode(h->se, (fuse_ino_t)(uintptr_t)inode,
					 idle ? (off_t)(old_len & ~4095ull) : -1,
					 0);
}

bool fs_is_log(struct hydrafs *h, struct fs_inode *inode)
{
	if (inode->log_mode < 0) {
		char path[PATH_MAX];
		bool is_log = false;
		int fd = fs_fd_hold(inode);

		if (fd >= 0 && io_relpath(h->io, fd, path, sizeof(path)) == 0)
			is_log = append_eligible(h->store, path, &is_log) &&
				 is_log;
		fs_fd_drop(inode, fd);
		inode->log_mode = is_log;
	}
	return inode->log_mode > 0;
}

/* The stage's end: where an incomplete record goes when leaving. */
static int take_into_stage(void *arg, const void *buf, size_t len)
{
	struct fs_inode *inode = arg;
	struct hydrafs *h = hydrafs_of_inode(inode);
	struct stat st;
	ssize_t n;
	int ret = io_fstat(h->io, stage_fd(inode->stage), &st);

	if (ret < 0)
		return ret;
	n = stage_pwrite(h->store, inode->stage, buf, len, st.st_size);
	return n < 0 ? (int)n : n < (ssize_t)len ? -EIO : 0;
}

int fs_append_leave(struct hydrafs *h, struct fs_inode *inode)
{
	struct append *a = inode->append;
	int fd, ret;

	if (!a)
		return 0;
	/* What is queued goes into the file first: the stage copies it. */
	ret = append_commit(a, false);
	if (ret < 0)
		return ret;
	fd = fs_fd_hold(inode);
	ret = fd < 0 ? fd : stage_begin(h->store, fd, false, &inode->stage);
	fs_fd_drop(inode, fd);
	if (ret == 0)
		ret = append_leave(a, take_into_stage, inode);
	if (ret < 0) {
		/* Still in append mode; the stage holds nothing new yet. */
		if (inode->stage) {
			stage_free(h->store, inode->stage);
			inode->stage = NULL;
		}
		return ret;
	}
	inode->append = NULL;
	inode->written = true;
	return append_close(a);
}

int fs_append_truncate(fuse_req_t req, struct fs_inode *inode, off_t size)
{
	struct hydrafs *h = fs_of(req);
	struct append *a = inode->append;
	int fd, ret;

	ret = append_commit(a, false);
	if (ret < 0)
		return ret;
	fd = fs_fd_hold(inode);
	ret = fd < 0 ? fd : stage_begin(h->store, fd, size == 0, &inode->stage);
	fs_fd_drop(inode, fd);
	if (ret == 0 && size)
		ret = stage_truncate(h->store, inode->stage, size);
	inode->written = true;
	if (ret == 0)
		ret = fs_stage_commit(req, inode, false);
	if (inode->stage) {
		/* Not committed: the file and its appends stay as they were. */
		stage_free(h->store, inode->stage);
		inode->stage = NULL;
		inode->written = false;
		return ret < 0 ? ret : -EIO;
	}
	fd = fs_fd_hold(inode);
	ret = fd < 0 ? fd : append_rebase(a, fd);
	fs_fd_drop(inode, fd);
	return ret;
}

/* Whether a write at @off through @f appends to the file (size @size). */
static bool appends(struct hydrafs *h, struct fs_inode *inode,
		    struct fs_file *f, off_t off, uint64_t size)
{
	if (f->trunc)
		return false;
	if (f->append)
		return true;
	if ((uint64_t)off != size)
		return false;
	return size > 0 || fs_is_log(h, inode);
}

/* Starts append mode at @f's first append; 1, 0 (not a candidate), -errno. */
static int start(fuse_req_t req, struct fs_inode *inode, struct fs_file *f,
		 off_t off)
{
	struct hydrafs *h = fs_of(req);
	struct stat st;
	struct who who;
	char comm[32];
	int fd, ret;

	fd = fs_fd_hold(inode);
	if (fd < 0)
		return fd;
	ret = io_fstatat_empty(h->io, fd, &st);
	if (ret == 0 && appends(h, inode, f, off, (uint64_t)st.st_size)) {
		fs_who(req, &who, comm, sizeof(comm));
		ret = append_open(h->appends, fd, &who, on_commit, inode,
				  &inode->append);
		ret = ret == -ENOTSUP ? 0 : ret < 0 ? ret : 1;
	}
	fs_fd_drop(inode, fd);
	return ret;
}

int fs_append_write(fuse_req_t req, struct fs_inode *inode, struct fs_file *f,
		    const char *buf, size_t size, off_t off, ssize_t *n)
{
	struct hydrafs *h = fs_of(req);
	int ret;

	if (inode->stage)
		return 0;
	if (!inode->append) {
		ret = start(req, inode, f, off);
		if (ret <= 0)
			return ret;
	}
	/* A handle from before: it writes as a writer of this session now. */
	if (f->aw && !append_writer_attached(f->aw)) {
		append_writer_free(f->aw);
		f->aw = NULL;
	}
	if (!f->append &&
	    (uint64_t)off != append_size(inode->append, f->aw))
		goto leave;
	if (!f->aw) {
		ret = append_writer_new(inode->append, &f->aw);
		if (ret < 0)
			return ret;
		append_writer_set_pid(f->aw, fuse_req_ctx(req)->pid);
	}
	*n = append_write(inode->append, f->aw, buf, size);
	if (*n != -EXFULL)
		return 1;
leave:
	ret = fs_append_leave(h, inode);
	return ret < 0 ? ret : 0;
}

int fs_append_flush(struct fs_inode *inode, struct fs_file *f)
{
	if (!inode->append || !f->aw || !append_writer_attached(f->aw))
		return inode->append ? append_commit(inode->append, false) : 0;
	return append_writer_flush(inode->append, f->aw);
}

void fs_append_release(struct fs_inode *inode, struct fs_file *f)
{
	if (f->aw) {
		if (inode->append && append_writer_attached(f->aw))
			append_writer_release(inode->append, f->aw);
		append_writer_free(f->aw);
		f->aw = NULL;
	}
	if (inode->append && inode->writers == 0) {
		append_close(inode->append);
		inode->append = NULL;
	}
}

int64_t fs_append_size(struct fs_inode *inode, struct fs_file *f, pid_t pid)
{
	if (!inode->append)
		return -1;
	if (!f)
		return (int64_t)append_size_for(inode->append, pid);
	if (!f->staged)
		return (int64_t)append_committed(inode->append);
	return (int64_t)append_size(inode->append,
				    f->aw && append_writer_attached(f->aw)
					    ? f->aw
					    : NULL);
}
