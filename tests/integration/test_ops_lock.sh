#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The mount behaves like a plain dir for: flock, POSIX and OFD locks, conflicts
# seen from a child process.
# opcheck.py runs its "lock" group on a plain dir and on the mount; the outputs
# must be identical, and after the unmount so must the two trees.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

mount_fs
opcheck_compare lock
unmount_fs
tree_compare lock
