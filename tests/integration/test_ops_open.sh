#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The mount behaves like a plain dir for: create/open flags, read/write,
# O_APPEND/O_TRUNC/O_EXCL/O_DIRECT/O_NOFOLLOW, flush and fsync.
# opcheck.py runs its "open" group on a plain dir and on the mount; the outputs
# must be identical, and after the unmount so must the two trees.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

mount_fs
opcheck_compare open
unmount_fs
tree_compare open
