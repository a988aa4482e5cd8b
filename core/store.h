/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * store: the protected store behind a mount: the state dir (.hydrafs: the
 * staging area, the versions tree, the journal), staged writes and the
 * commit protocol.
 *
 * Files are named by O_PATH handles of the backing objects (as the daemon
 * holds them); their paths, for naming versions, come from the handle, so a
 * rename through or behind the mount is followed.
 *
 * Commit: the shadow's content becomes the file's atomically.  The current
 * content is kept as a version by hard link (zero copy), the shadow takes
 * the file's mode, owner and xattrs, and is renamed over the file.  A crash
 * at any point leaves the file at its old or its new content: the rename is
 * the one step that switches.  A shadow left behind is moved to .orphans at
 * the next mount (store_open()); a version link made just before the crash
 * stays, a second name of the current content (store_is_version_link()).
 *
 * Thread-safe for different stages; one stage is used under its owner's
 * lock.
 */
#ifndef HYDRAFS_STORE_H
#define HYDRAFS_STORE_H

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "format.h"
#include "io.h"

struct rules;
struct store;
struct stage;

/* Who made a change, for the journal. */
struct who {
	uid_t uid;
	pid_t pid;
	const char *comm;	/* borrowed; NULL when unknown */
};

/*
 * Opens the store of the backing dir behind @io (borrowed), making the
 * state dir when missing, and resolves what a crash left behind.
 * Caller frees with store_close().
 */
int store_open(struct io *io, struct store **out);
void store_close(struct store *s);

/* Gives the store the rules to follow (borrowed; NULL: the defaults). */
void store_set_rules(struct store *s, const struct rules *rules);

/* O_PATH fd of the versions tree (shown as .backups), borrowed. */
int store_versions_fd(const struct store *s);

/* Whether @name is a scratch file's name (editors' swap files, *~, *.tmp). */
bool store_is_scratch(const char *name);

/*
 * Whether the file behind O_PATH handle @fd (@st its lstat) is protected:
 * a regular file with one link (or two, the other a version a crash left)
 * and no scratch name.  Protected files are staged and committed, the
 * others written in place.  1 (then @relpath, @size bytes, holds its path),
 * 0, or -errno: an error must not quietly turn protection off.
 */
int store_is_protected(struct store *s, int fd, const struct stat *st,
		       char *relpath, size_t size);

/*
 * Keeps the current content of the regular file behind O_PATH handle @fd
 * as a version (before it is unlinked or replaced); 0 or -errno.
 */
int store_keep(struct store *s, int fd, const struct who *who);

/*
 * Whether one of the names of the file @st at @relpath is a version of it
 * (a crash between a commit's version link and its rename leaves one): such
 * a file is still protected, not a file with several links.
 */
bool store_is_version_link(struct store *s, const char *relpath,
			   const struct stat *st);

/*
 * The check of a file opened through the mount (O_PATH handle @fd): when
 * the record of its last commit (record.h) still describes it (same size,
 * mtime and inode) nothing is read.  Otherwise (changed behind the mount,
 * or never committed through one) a protected file (see
 * store_is_scratch(); one link) is read once and verified
 * (verify.h): a valid file is adopted (its new record written, the journal
 * says "adopt"); a damaged one is flagged with STATE_XATTR and the journal
 * says "damage", once for that identity.  A record a scrub marked damaged
 * (store_scrub()) is not trusted.  Returns 0 (ok, adopted), 1 (damaged) or
 * -errno (it could not be read).
 */
int store_check(struct store *s, int fd, const struct who *who);

/*
 * The scrub of one protected file (O_PATH handle @fd) that a reader (hydractl
 * verify through the mount) found damaged: verified again here, from the
 * backing file, whatever its record says.  When damaged, it is flagged as
 * store_check() flags it and its record marked damaged, so that opens from
 * now on serve its recovered view.  Returns 1 (damaged), 0 (not damaged:
 * nothing done, or adopted when changed and valid) or -errno.
 */
int store_scrub(struct store *s, int fd, const struct who *who);

/*
 * Keeps a copy of the content of the regular file behind @fd as a version
 * (before a file with several links is truncated in place); 0 or -errno.
 */
int store_keep_copy(struct store *s, int fd, const struct who *who);

/*
 * Starts staging the regular file behind O_PATH handle @fd: a shadow on
 * the same filesystem holding its content (empty with @truncate), made the
 * cheapest way (reflink, else copy_file_range).  Caller frees with
 * stage_free() (which keeps an uncommitted shadow as an orphan).
 */
int stage_begin(struct store *s, int fd, bool truncate, struct stage **out);

/*
 * The shadow's fd, open for reading and writing; borrowed.  Change its
 * content only through stage_pwrite(), stage_truncate() and
 * stage_fallocate(): they validate and hash the content as it is written
 * in order, so that a commit reads only what was written elsewhere.
 */
int stage_fd(const struct stage *st);
/* The format the file's content is checked against (rules, extension). */
enum format_kind stage_format(const struct stage *st);
ssize_t stage_pwrite(struct store *s, struct stage *st, const void *buf,
		     size_t len, off_t off);
int stage_truncate(struct store *s, struct stage *st, off_t size);
int stage_fallocate(struct store *s, struct stage *st, int mode, off_t off,
		    off_t len);

/*
 * Commits @st over the file behind O_PATH handle @fd.  @durable: the new
 * content survives a crash of the machine once this returns (fsync).
 *
 * The content is validated in the file's format (see rules.h) and hashed
 * (XXH3-128); the commit records both with the file (record.h), and the
 * journal says who wrote what.  Invalid content that the rules refuse is
 * not committed: it is kept under .backups/.rejected/<path>/<version>, the
 * file is flagged with REJECTED_XATTR and 1 is returned (the stage is
 * consumed; the writer gets EIO).  An empty file is always accepted.
 *
 * On success (0) the stage is consumed, and *@new_fd is an O_PATH handle
 * of the file's new object (caller closes) with its attributes in
 * *@new_st, or -1 when the content was identical and nothing changed.
 * On failure (-errno) the stage stays and nothing is lost.
 */
int stage_commit(struct store *s, struct stage *st, int fd,
		 const struct who *who, bool durable, int *new_fd,
		 struct stat *new_st);

/*
 * Frees @st; a shadow never committed is kept under .backups/.orphans
 * (@path names it there) with a journal record.
 */
void stage_free(struct store *s, struct stage *st);

#endif
