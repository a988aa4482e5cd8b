/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * kernel: a shim on /dev/fuse for kernel features libfuse 3.14 cannot name
 * (FUSE_HANDLE_KILLPRIV_V2: no GETXATTR round trip before every write).
 * Thread-safe; fs_kernel_kill_suidgid() answers for the calling thread's
 * current request.
 */
#ifndef HYDRAFS_KERNEL_H
#define HYDRAFS_KERNEL_H

#define FUSE_USE_VERSION 314
#include <fuse_lowlevel.h>
#include <stdbool.h>

/* Puts the shim between @se and its /dev/fuse fd; after fuse_mount(). */
int fs_kernel_install(struct fuse_session *se);

/* Whether the request being served asks to clear set-ID bits. */
bool fs_kernel_kill_suidgid(void);

#endif
