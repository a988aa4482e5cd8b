#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A 2 GiB file of real data through the mount: written, then 4 KiB changed
# in the middle; the commit keeps the whole old content as a version (one
# hard link, no copy of it) and the new content differs in exactly those
# bytes.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

need_cmd dd cmp head
if [ -n "${HYDRAFS_STANDIN:-}" ]; then
	skip "versions need hydrafs itself"
fi
mount_fs
f=$MNT/big.bin
# 2 GiB: 64 MiB of random data, repeated, so the whole file is data.
head -c $((64 << 20)) /dev/urandom >"$T/chunk"
for _ in $(seq 32); do cat "$T/chunk"; done | dd of="$f" bs=1M iflag=fullblock status=none
assert_eq $((2 << 30)) "$(stat -c %s "$f")" "size of the 2 GiB file"

head -c 4096 /dev/urandom >"$T/patch"
off=$(((1 << 30) + 12345))
dd if="$T/patch" of="$f" bs=4096 seek="$off" oflag=seek_bytes conv=notrunc status=none
v=$(find "$MNT/.backups/big.bin" -type f | head -n 1)
[ -n "$v" ] || fail "no version of the 2 GiB file"
assert_eq $((2 << 30)) "$(stat -c %s "$v")" "the version's size"
# The version is the old content: the chunk at the patched offset.
dd if="$v" bs=4096 skip="$off" count=1 iflag=skip_bytes status=none >"$T/old"
dd if="$T/chunk" bs=4096 skip=$((off % (64 << 20))) count=1 iflag=skip_bytes \
	status=none >"$T/expected_old"
cmp "$T/expected_old" "$T/old" || fail "the version does not hold the old bytes"
dd if="$f" bs=4096 skip="$off" count=1 iflag=skip_bytes status=none >"$T/new"
cmp "$T/patch" "$T/new" || fail "the file does not hold the new bytes"
# Everything else is unchanged: compare the 1 MiB around the patch.
cmp -n $((1 << 20)) <(dd if="$f" bs=1M skip=2047 status=none) \
	<(dd if="$v" bs=1M skip=2047 status=none) ||
	fail "the file's tail changed"
unmount_fs
