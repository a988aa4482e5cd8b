/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bgcheck: the validation and hashing of a big stage's shadow on a thread
 * of its own (store.c), so that a writer's write() does not wait for the
 * validator: the thread reads the shadow back (from the page cache, just
 * written) and feeds the check as the writes come, and the commit only
 * finishes what is left.
 *
 * The thread owns the check while it runs.  A change of the shadow at an
 * offset it already read (or is reading) makes it start over from byte 0,
 * as the commit would.  Internal to the store; thread-safe between the
 * stage's owner and the thread.
 */
#ifndef HYDRAFS_BGCHECK_H
#define HYDRAFS_BGCHECK_H

#include <stdint.h>

#include "format.h"
#include "io.h"

struct bgcheck;

/*
 * Starts the thread on the shadow open as @fd (borrowed), with @c (taken)
 * having fed its bytes [0, @fed), the shadow @size bytes long.  On failure
 * (-errno) @c stays the caller's.
 */
int bgcheck_start(struct io *io, int fd, struct format_check *c, uint64_t fed,
		  uint64_t size, struct bgcheck **out);

/*
 * The shadow changed from @off on and is now @size bytes long (a write,
 * a truncate, an fallocate).
 */
void bgcheck_changed(struct bgcheck *b, uint64_t off, uint64_t size);

/* The shadow's bytes [@off, @end) were written. */
void bgcheck_wrote(struct bgcheck *b, uint64_t off, uint64_t end);

/*
 * Stops the thread and frees @b: *@c is the check back (NULL when it ran
 * out of memory), having fed the shadow's bytes [0, *@fed).
 */
void bgcheck_stop(struct bgcheck *b, struct format_check **c, uint64_t *fed);

#endif
