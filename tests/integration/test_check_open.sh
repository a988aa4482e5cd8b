#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The open-time check: a file whose record (user.hydrafs.record) still
# describes it is not read when opened; one changed behind the mount (or
# never committed through one) is verified once: adopted when valid (a new
# record, a journal "adopt"), flagged when damaged (user.hydrafs.state, one
# journal "damage" however often it is opened).  Reads are counted with a
# fault: HYDRAFS_FAULTS=read:1:EIO fails the daemon's first read of file
# data, so a read done by the open shows as a read that does not fail.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

if [ -n "${HYDRAFS_STANDIN:-}" ]; then
	skip "the open-time check is hydrafs's own"
fi
need_cmd "$PYTHON" getfattr head dd
JOURNAL=$BACKING/.hydrafs/journal.jsonl

# Prints "EIO" when the first read of $1 fails, else "ok".  O_DIRECT: the
# kernel sends exactly that read (a failed readahead would be retried).
first_read()
{
	if dd if="$1" of=/dev/null bs=4096 count=1 iflag=direct 2>"$T/dd.err"; then
		echo ok
	elif grep -q 'Input/output error' "$T/dd.err"; then
		echo EIO
	else
		cat "$T/dd.err" >&2
		echo other
	fi
}

# Opens and closes $1 without reading.
touch_open()
{
	"$PYTHON" -c 'import os, sys; os.close(os.open(sys.argv[1], os.O_RDONLY))' "$1"
}

count()
{
	grep -c "\"event\":\"$1\",\"path\":\"$2\"" "$JOURNAL" || true
}

# 1. Files put in the backing dir before the mount.
printf '{"a": [1, 2]}\n' >"$BACKING/plain.json"
printf 'a,b\n1,2\n3\n' >"$BACKING/bad.csv"
mount_fs
assert_eq '{"a": [1, 2]}' "$(cat "$MNT/plain.json")" "plain.json through the mount"
assert_eq 1 "$(count adopt plain.json)" "plain.json adopted"
getfattr --only-values -n user.hydrafs.record "$BACKING/plain.json" |
	grep -q '^v1 format=json state=ok size=14 ' ||
	fail "plain.json has no record after its adoption"
cat "$MNT/bad.csv" >/dev/null
cat "$MNT/bad.csv" >/dev/null
assert_eq 1 "$(count damage bad.csv)" "bad.csv found damaged once"
state=$(getfattr --only-values -n user.hydrafs.state "$MNT/bad.csv")
case $state in
"damaged size=10 "*"wrong field count at line 3, byte 8)") ;;
*) fail "bad.csv's state: '$state'" ;;
esac
# Opened again, the adopted file is not adopted again.
cat "$MNT/plain.json" >/dev/null
assert_eq 1 "$(count adopt plain.json)" "plain.json adopted once"

# 2. A big file committed through the mount, and a 1 GiB one (sparse, so
# that writing it is cheap; its record is checked all the same).
head -c $((64 << 20)) /dev/urandom >"$MNT/big.bin"
head -c $((1 << 20)) /dev/urandom >"$MNT/huge.bin"
truncate -s 1G "$MNT/huge.bin"
printf 'x\n' >"$MNT/small.txt"
unmount_fs

# 3. Changed behind the mount, still valid: adopted again, with the reason.
printf '{"a": [3]}\n' >"$BACKING/plain.json"
HYDRAFS_FAULTS=read:1:EIO mount_fs
# The unchanged 64 MiB file: the open reads nothing, so the first read of
# data is the one that fails.
touch_open "$MNT/big.bin"
assert_eq EIO "$(first_read "$MNT/big.bin")" "the first read after opening an unchanged file"
unmount_fs
HYDRAFS_FAULTS=read:1:EIO mount_fs
touch_open "$MNT/huge.bin"
assert_eq EIO "$(first_read "$MNT/huge.bin")" "the first read after opening an unchanged 1 GiB file"
unmount_fs

HYDRAFS_FAULTS=read:1:EIO mount_fs
# The changed file: its open verifies it, and that read takes the fault.
touch_open "$MNT/plain.json"
assert_eq ok "$(first_read "$MNT/plain.json")" "a read after the open that verified the file"
assert_eq 2 "$(count adopt plain.json)" "plain.json adopted after its change"
grep '"event":"adopt","path":"plain.json"' "$JOURNAL" | tail -n 1 |
	grep -q 'changed behind the mount, valid' ||
	fail "the second adoption does not say the file changed"
unmount_fs
