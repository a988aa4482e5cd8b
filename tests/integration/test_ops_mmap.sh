#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The mount behaves like a plain dir for: shared and private mappings, msync,
# map/read coherence.
# opcheck.py runs its "mmap" group on a plain dir and on the mount; the outputs
# must be identical, and after the unmount so must the two trees.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

mount_fs
opcheck_compare mmap
unmount_fs
tree_compare mmap
