#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A 5 GiB sparse file through the mount: blocks written at a few offsets,
# one straddling 4 GiB and one ending exactly at 5 GiB; the size is exact,
# holes read as zeros, little space is used, every region reads back, and
# SEEK_DATA/SEEK_HOLE through the mount agree with the backing file.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

need_cmd "$PYTHON" dd cmp
G=$((1024 * 1024 * 1024))
size=$((5 * G))
# Offsets of the written blocks: start, 1 GiB + an odd amount, straddling
# 4 GiB, 4.5 GiB, and the last 64 KiB before 5 GiB.
offsets=(0 $((G + 12345)) $((4 * G - 32768)) $((4 * G + G / 2))
	$((size - 65536)))
len=65536

for ((i = 0; i < ${#offsets[@]}; i++)); do
	head -c "$len" /dev/urandom >"$REF/block$i"
done

mount_fs
f=$MNT/big
: >"$f"
for ((i = 0; i < ${#offsets[@]}; i++)); do
	dd if="$REF/block$i" of="$f" bs=$len seek="${offsets[$i]}" \
		oflag=seek_bytes conv=notrunc status=none ||
		fail "write of block $i at ${offsets[$i]} failed"
done

assert_eq "$size" "$(stat -c %s "$f")" "size via mount"
used=$(($(stat -c %b "$f") * $(stat -c %B "$f")))
if [ "$used" -gt $((64 * 1024 * 1024)) ]; then
	fail "sparse file uses $used bytes"
fi
note "5 GiB sparse file uses $used bytes"

check_regions()
{
	local file=$1 i
	for ((i = 0; i < ${#offsets[@]}; i++)); do
		cmp -n "$len" -i "${offsets[$i]}:0" "$file" "$REF/block$i" ||
			fail "$file: block $i at ${offsets[$i]} differs"
	done
	# Holes: between the blocks, around 4 GiB and 4.5 GiB, and up to the
	# last block.
	for hole in $((len)) $((G / 2)) $((G + 12345 + len)) $((3 * G)) \
		$((4 * G + 32768)) $((4 * G + G / 4)) $((4 * G + G / 2 + len)) \
		$((size - 65536 - 1048576)); do
		cmp -n 1048576 -i "$hole:0" "$file" /dev/zero ||
			fail "$file: hole at $hole does not read as zeros"
	done
}
check_regions "$f"

seeks='
import os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
for off in map(int, sys.argv[2:]):
    for name, how in (("DATA", os.SEEK_DATA), ("HOLE", os.SEEK_HOLE)):
        try:
            r = os.lseek(fd, off, how)
        except OSError as e:
            r = "ERR " + e.strerror
        print("seek %s %d -> %s" % (name, off, r))
'
points=(0 $((len)) $((G)) $((G + 12345)) $((2 * G)) $((4 * G - 32768))
	$((4 * G)) $((4 * G + 1)) $((4 * G + G / 2)) $((size - 65536))
	$((size - 1)) "$size")
"$PYTHON" -c "$seeks" "$f" "${points[@]}" >"$T/seek.mnt"
# Whatever the backing fs's granularity, the first data is at 0, data
# exists at 4.5 GiB, and the last hole is at EOF.
grep -qx "seek DATA 0 -> 0" "$T/seek.mnt" || fail "SEEK_DATA 0 is not 0"
grep -qx "seek DATA $((4 * G + 1)) -> $((4 * G + 1))" "$T/seek.mnt" ||
	fail "SEEK_DATA in the block straddling 4 GiB is wrong"
grep -qx "seek HOLE $((size - 65536)) -> $size" "$T/seek.mnt" ||
	fail "SEEK_HOLE in the last block is not EOF"
if grep -q "seek DATA $((2 * G)) -> $((2 * G))\$" "$T/seek.mnt"; then
	fail "SEEK_DATA reports data in the hole at 2 GiB"
fi

unmount_fs
assert_eq "$size" "$(stat -c %s "$BACKING/big")" "size in backing"
check_regions "$BACKING/big"
"$PYTHON" -c "$seeks" "$BACKING/big" "${points[@]}" >"$T/seek.backing"
if ! diff -u "$T/seek.backing" "$T/seek.mnt"; then
	fail "SEEK_DATA/SEEK_HOLE through the mount differ from the backing file"
fi
