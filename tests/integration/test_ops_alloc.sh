#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The mount behaves like a plain dir for: fallocate modes, SEEK_DATA/SEEK_HOLE,
# copy_file_range, files past 4 GiB.
# opcheck.py runs its "alloc" group on a plain dir and on the mount; the outputs
# must be identical, and after the unmount so must the two trees.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

mount_fs
opcheck_compare alloc
unmount_fs
tree_compare alloc
