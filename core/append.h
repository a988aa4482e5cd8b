/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * append: append mode, the cheap record-by-record commit of files that are
 * only appended to (logs).  DESIGN.md, "Append mode".
 *
 * A file in append mode is written in place, at its committed length, never
 * copied.  Each writing handle (struct append_writer) feeds its bytes to
 * its own validator in record mode and keeps its incomplete record; the
 * complete ones join the file's queue, valid ones in order, invalid ones
 * set aside for .backups/.rejected (unless the rules accept them).  A
 * commit (every commit interval, on fsync and on close) writes the queue at
 * the committed length with one pwrite, extends the running checksum (never
 * re-reading what was committed) and records the new length, mtime and sum
 * in the file's record (record.h): the cost grows with the bytes appended,
 * not with the file's size.
 *
 * Readers see the committed length; a writer sees its own bytes too (the
 * committed ones, the queue and its incomplete record).
 *
 * Crash: a marker in staging/ names each file in append mode.  At the next
 * mount (store_open()), a file longer than its record (an append written
 * but not recorded, or torn) is cut back to the recorded length and the
 * bytes past it are kept under .orphans.
 *
 * Versions of a log are its prefixes: checkpoints (append_checkpoint())
 * are small marker files among the versions naming a length of the file;
 * through the mount they read as that prefix (store_checkpoint_*()).
 *
 * Thread-safe: each append has its own lock; the committer thread of an
 * append_set commits the files with queued records every interval.
 */
#ifndef HYDRAFS_APPEND_H
#define HYDRAFS_APPEND_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "store.h"

struct append_set;
struct append;
struct append_writer;

/* The xattr of a checkpoint: the prefix length, in decimal. */
#define CHECKPOINT_XATTR "user.hydrafs.checkpoint"
/* And what it is a prefix of: "<inode> <sum or ->". */
#define CHECKPOINT_OF_XATTR "user.hydrafs.prefix-of"

/* The default commit interval, in milliseconds. */
#define APPEND_INTERVAL_MS 100

/*
 * Told after commits changed the committed length from @old_len to
 * @new_len, with no lock of the append held.  @idle: from the committer
 * thread, which holds no lock at all (the caller's locks are unknown else).
 */
typedef void append_commit_fn(void *arg, uint64_t old_len, uint64_t new_len,
			      bool idle);

/*
 * The files in append mode of one store, and the thread that commits them
 * every @interval_ms milliseconds (0: only on fsync and close).
 */
int append_set_new(struct store *s, unsigned int interval_ms,
		   struct append_set **out);
/* Stops the thread; every append of the set must be closed. */
void append_set_free(struct append_set *set);

/*
 * Whether the file at @relpath (in the backing dir) may be appended to in
 * append mode: its format has records or checks nothing (not json).
 * @is_log: its rules say mode = log.
 */
bool append_eligible(struct store *s, const char *relpath, bool *is_log);

/*
 * Starts append mode on the protected file behind O_PATH handle @fd.
 * @who: who starts it, for the journal.  @cb (may be NULL) is told of each
 * commit.  -ENOTSUP when the file is not eligible (see append_eligible()),
 * -errno on failure.  Caller frees with append_close().
 */
int append_open(struct append_set *set, int fd, const struct who *who,
		append_commit_fn *cb, void *arg, struct append **out);

/* A writing handle of @a; freed with append_writer_free(). */
int append_writer_new(struct append *a, struct append_writer **out);
/*
 * Frees @w (after append_writer_flush() or append_leave()); an incomplete
 * record it still holds is dropped.
 */
void append_writer_free(struct append_writer *w);
/* Whether @w still belongs to a file in append mode. */
bool append_writer_attached(const struct append_writer *w);

/*
 * Appends @buf as @w's bytes; complete records are queued (committed at
 * once when the queue is large).  @len or -errno; -EXFULL (nothing taken)
 * when @w's incomplete record would grow past its limit in a format that
 * must not be cut: the file must leave append mode (append_leave()).
 */
ssize_t append_write(struct append *a, struct append_writer *w,
		     const void *buf, size_t len);

/*
 * close() of @w (FLUSH: the handle may live on in another process): the
 * queue is committed, with @w's incomplete record when it is whole on its
 * own (text and opaque: always; other formats: when it validates as a
 * record).  0 or -errno.
 */
int append_writer_flush(struct append *a, struct append_writer *w);

/*
 * The handle @w is gone (its last close): its incomplete record ends
 * whatever it holds (an invalid one is set aside), the queue is committed
 * and @w detached (free it next).  0 or -errno.
 */
int append_writer_release(struct append *a, struct append_writer *w);

/* Commits the queue; @durable: fsync (what fsync() of a writer asks). */
int append_commit(struct append *a, bool durable);

/* The committed length (what readers see). */
uint64_t append_committed(struct append *a);
/* The length @w sees: committed, queued, and its incomplete record. */
uint64_t append_size(struct append *a, const struct append_writer *w);
/*
 * The writer's process (a stat carries no handle: see append_size_for()).
 */
void append_writer_set_pid(struct append_writer *w, pid_t pid);
/*
 * The length a stat by process @pid sees: @append_size() of its writer
 * when it has one, else the committed length.
 */
uint64_t append_size_for(struct append *a, pid_t pid);
/* Reads as @w sees the file. */
ssize_t append_read(struct append *a, const struct append_writer *w,
		    void *buf, size_t size, off_t off);

/*
 * Leaves append mode (a write elsewhere, a truncate): commits the queue,
 * then passes every writer's incomplete record to @take, in order, and
 * detaches the writers.  0 or -errno (then still in append mode).  Close
 * @a with append_close() next.
 */
int append_leave(struct append *a,
		 int (*take)(void *arg, const void *buf, size_t len),
		 void *arg);

/*
 * The file was replaced by a commit (a truncate: the whole old content is
 * a version): appends go on at the end of the object behind O_PATH handle
 * @fd, the writers keeping their incomplete records.  0 or -errno.
 */
int append_rebase(struct append *a, int fd);

/*
 * Ends append mode (the last writer is gone): commits, keeps a checkpoint,
 * removes the crash marker, frees @a.  0, or the failed commit's -errno
 * (the queued records are then lost and kept nowhere: never when the
 * writers flushed first).
 */
int append_close(struct append *a);

/*
 * Checkpoints through the mount: whether the version file behind O_PATH
 * handle @fd is a checkpoint (then *@len is its prefix length): 1, 0 or
 * -errno.
 */
int store_checkpoint_len(struct store *s, int fd, uint64_t *len);
/*
 * An O_RDONLY fd of the content the checkpoint behind @fd (at @relpath in
 * the versions tree) is a prefix of: the file itself, or the version that
 * holds it since.  -ENOENT when it is gone.
 */
int store_checkpoint_open(struct store *s, int fd, int *out);

#endif
