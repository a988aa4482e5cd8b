/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hydractl: what the subcommands share.
 *
 * target: where a path given on the command line lives: in a hydrafs mount
 * (found in /proc/self/mountinfo as type fuse.hydrafs, the backing dir its
 * source) or in a backing dir (a dir holding .hydrafs/versions), mounted or
 * not.  walk: a tree walk that never follows symlinks.  vlist: the versions
 * of one file.  out: JSON and human output.
 *
 * Exit codes of every command: EXIT_OK, EXIT_FOUND (what the command's
 * page says: damage found, no versions, a refused restore), EXIT_USAGE,
 * EXIT_FAILURE_OP (something could not be read or written).
 * Single-threaded.
 */
#ifndef HYDRACTL_H
#define HYDRACTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/stat.h>

#include "core/format.h"
#include "core/io.h"
#include "core/rules.h"

enum {
	EXIT_OK = 0,
	EXIT_FOUND = 1,
	EXIT_USAGE = 2,
	EXIT_FAILURE_OP = 3,
};

/* A path resolved to its hydrafs. */
struct target {
	char *root;	/* absolute: the mount point, or the backing dir */
	char *backing;	/* absolute backing dir, NULL when not known */
	char *rel;	/* from @root, no leading '/', "" for the root itself */
	bool is_mount;	/* @root is a mount point (else a backing dir) */
};

/*
 * Resolves @path (which need not exist, but its parent must); prints why
 * not to stderr and returns -errno (-ENODEV: not in a hydrafs) on failure.
 * Caller releases with target_release().
 */
int target_resolve(const char *path, struct target *t);
void target_release(struct target *t);
/*
 * The versions tree: MOUNT/.backups, or BACKING/.hydrafs/versions; with
 * @prefer_backing, the backing dir's even for a mount when it is readable.
 * Caller frees.
 */
char *target_versions_dir(const struct target *t, bool prefer_backing);
/* The full path of @rel under @dir ("" is @dir); caller frees. */
char *target_join(const char *dir, const char *rel);
/*
 * The rules of the backing dir (its .hydrafs/rules) when there is one and
 * it is readable and valid, else NULL (the defaults).  Caller frees with
 * rules_free().
 */
struct rules *target_rules(const struct target *t);

/* One hydrafs mount of /proc/self/mountinfo. */
struct mount_entry {
	char *point;
	char *source;	/* the backing dir when absolute */
};

/* All hydrafs mounts; 0 or -errno.  Caller frees with mounts_free(). */
int mounts_list(struct mount_entry **out, size_t *n);
void mounts_free(struct mount_entry *m, size_t n);

/*
 * Called for every entry under the walk's start: @rel is its path from the
 * io's root, @st its lstat, @err 0 or the -errno that kept it (or the dir
 * it would be in) from being read.  Dirs are reported before their content.
 */
typedef void walk_fn(void *ctx, const char *rel, const struct stat *st,
		     int err);

/*
 * Walks @rel ("" for the root) of @io, never following symlinks.  Names in
 * @skip (NULL-terminated, may be NULL) are skipped in the root dir of @io
 * only.  0, -ENOMEM, or the -errno of @rel itself.
 */
int walk_tree(struct io *io, const char *rel, const char *const *skip,
	      walk_fn *fn, void *ctx);

/* One version of a file. */
struct vlist_entry {
	char *name;		/* "2026-11-24T03-11-49.601Z.json" */
	int64_t ms;		/* its time: ms since the epoch, UTC */
	struct stat st;
};

/*
 * The versions of @rel (a file's path from the root) in the versions tree
 * @vdir, oldest first (by name); *@n is 0 when it has none.  0 or -errno.
 * Caller frees with vlist_free().
 */
int vlist_load(const char *vdir, const char *rel, struct vlist_entry **out,
	       size_t *n);
void vlist_free(struct vlist_entry *v, size_t n);

/*
 * Parses a time: a version name's ("2026-11-24T03-11-49.601Z", anything
 * after it ignored) or ISO 8601 ("2026-11-24T03:11:49Z", "...49.601+01:00",
 * "2026-11-24 03:11", "2026-11-24"); without a zone it is UTC.  0 or
 * -EINVAL.
 */
int vlist_parse_time(const char *s, int64_t *ms);
/* Formats @ms as "2026-11-24T03:11:49.601Z" into @buf (32 bytes). */
void vlist_format_time(int64_t ms, char *buf);

/* Writes @s as a JSON string, quotes included. */
void out_json_str(FILE *f, const char *s);
/* "1.2 MB" style, into @buf (16 bytes). */
void out_size(uint64_t bytes, char *buf);
/* Prints the one-line --help hint for @cmd and returns EXIT_USAGE. */
int out_usage_error(const char *cmd);

/*
 * copy.c: writes all of @src (read from offset 0) into @dst, hashing it
 * (*@sum, *@size), then fsync and close @dst (always closed): through a
 * mount, hydrafs commits at that close.  0 or -errno, *@stage naming the
 * step that failed ("copy", "read", "write", "fsync", "close").
 */
int copy_commit(int src, int dst, struct format_sum *sum, uint64_t *size,
		const char **stage);
/* Whether a failure of copy_commit() is hydrafs refusing the content. */
bool copy_refused(int ret, const char *stage);
/* Where --to writes: PATH, or PATH/<name of FILE> when PATH is a dir. */
char *copy_destination(const char *to, const char *rel);
/* Says why hydrafs refused @dest (@what: "content", "view"). */
void copy_explain_refusal(const char *dest, const char *what);

int cmd_verify(int argc, char *argv[]);
int cmd_versions(int argc, char *argv[]);
int cmd_restore(int argc, char *argv[]);
int cmd_recover(int argc, char *argv[]);
int cmd_status(int argc, char *argv[]);

#endif
