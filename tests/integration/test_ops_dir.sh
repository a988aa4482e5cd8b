#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The mount behaves like a plain dir for: mkdir/rmdir, mknod/mkfifo/sockets,
# readdir d_type, a 5,000-entry dir, telldir/seekdir.
# opcheck.py runs its "dir" group on a plain dir and on the mount; the outputs
# must be identical, and after the unmount so must the two trees.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

mount_fs
opcheck_compare dir
unmount_fs
tree_compare dir
