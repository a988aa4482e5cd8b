/* SPDX-License-Identifier: GPL-2.0-or-later */
/* store's internals, shared by store.c (commits) and check.c (open-time checks). */
#ifndef HYDRAFS_STORE_INTERNAL_H
#define HYDRAFS_STORE_INTERNAL_H

#include "journal.h"
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

#endif
