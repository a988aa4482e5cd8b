/* SPDX-License-Identifier: GPL-2.0-or-later */
/* store's internals, shared by store.c (commits) and check.c (open-time checks). */
#ifndef HYDRAFS_STORE_INTERNAL_H
#define HYDRAFS_STORE_INTERNAL_H

#include "journal.h"
#include "record.h"
#include "rules.h"
#include "store.h"

#include <pthread.h>
#include <stdatomic.h>

struct store {
	struct io *io;
	int statefd;	/* O_PATH: .hydrafs */
	int stagingfd;	/* O_PATH: .hydrafs/staging */
	int versionsfd;	/* O_PATH: .hydrafs/versions */
	struct journal *journal;
	const struct rules *rules;	/* borrowed; NULL: defaults */
	atomic_ulong seq;

	/* Group commit of directory syncs (see sync_dir()). */
	pthread_mutex_t sync_lock;
	pthread_cond_t sync_done;
	bool syncing;
	dev_t sync_dev;
	ino_t sync_ino;
	unsigned long sync_started, sync_finished;
	int sync_ret;
};

/* Appends a journal record; a journal that cannot be written is ignored. */
void store_journal_note(struct store *s, enum journal_event ev,
			const char *path, int64_t size, const char *sum,
			const char *prev, const char *detail,
			const struct who *who);

/*
 * Opens (making) versions/@relpath/, resp. versions/.rejected/@relpath/,
 * each level with the owner and mode of what it mirrors (the last: of the
 * file @st); *@out is an O_PATH fd, caller closes.
 */
int store_version_dir(struct store *s, const char *relpath,
		      const struct stat *st, int *out);
int store_rejected_dir(struct store *s, const char *relpath,
		       const struct stat *st, int *out);
/* Opens (making) versions/.orphans/. */
int store_orphans_dir(struct store *s, int *out);

/*
 * Creates a new empty file (O_RDWR, mode 0600) in @dirfd named as a
 * version of @file kept now (version.h; @name, @size bytes, gets it);
 * the fd or -errno.
 */
int store_create_version(struct store *s, int dirfd, const char *file,
			 char *name, size_t size);

/*
 * Whether the file behind @fd (@st its stat) is flagged damaged as it is
 * now (STATE_XATTR names its identity: check.c).
 */
bool store_known_damaged(struct store *s, int fd, const struct stat *st);

/* The record of the file behind @fd, when it has a valid one. */
bool store_record_of(struct store *s, int fd, struct record *r);

/* The hash state saved with a file that may be appended to (append.c). */
#define HASH_XATTR "user.hydrafs.hash"
/* The name of an append marker in staging/ starts with this. */
#define APPEND_MARKER_PREFIX "append."

/*
 * After a crash: the file the append marker @name (in staging/) names is
 * cut back to its committed length, the bytes past it kept under
 * .orphans (append.c).  0 or -errno.
 */
int append_recover(struct store *s, const char *name);

#endif
