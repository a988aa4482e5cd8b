/* SPDX-License-Identifier: GPL-2.0-or-later */
/* io's internals, shared by io.c (paths) and io_at.c (dir fds, handles). */
#ifndef HYDRAFS_IO_INTERNAL_H
#define HYDRAFS_IO_INTERNAL_H

#include "io.h"

#include <errno.h>
#include <stdatomic.h>

struct io_fault {
	atomic_ulong at; /* call count that fails; 0: none armed */
	atomic_int err;
	atomic_bool always;
};

struct io {
	int rootfd;
	int mountfd;	/* the root opened for reading (file handles), or -1 */
	struct io_fault faults[IO_KIND_COUNT];
	atomic_ulong calls[IO_KIND_COUNT];
};

/* Counts a call of @kind; -errno when a fault is armed for it. */
int io_enter(struct io *io, enum io_kind kind);

/* The open flags openat2() accepts (see io.c). */
int io_open_flags(int flags);

#define IO_RET(x) ((x) < 0 ? -errno : 0)

#endif
