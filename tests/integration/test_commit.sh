#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Staged writes and the .backups tree: a rewrite keeps the old content as a
# version, an identical rewrite keeps none, unlink and rename-over keep the
# replaced content, scratch files keep nothing, .backups is read-only, the
# state dir is invisible, and the journal records each change.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

need_cmd "$PYTHON"
if [ -n "${HYDRAFS_STANDIN:-}" ]; then
	skip "versions need hydrafs itself"
fi
mount_fs

# Version names are made by hydrafs: no odd characters to guard against.
# shellcheck disable=SC2012
versions() { ls "$MNT/.backups/$1" 2>/dev/null | wc -l; }
# shellcheck disable=SC2012
only_version() { cat "$MNT/.backups/$1/$(ls "$MNT/.backups/$1" | tail -n 1)"; }

echo v1 >"$MNT/f.txt"
assert_eq 0 "$(versions f.txt)" "a new file has no versions"
echo v2 >"$MNT/f.txt"
assert_eq v2 "$(cat "$MNT/f.txt")" "content after a rewrite"
assert_eq 1 "$(versions f.txt)" "versions after one rewrite"
assert_eq v1 "$(only_version f.txt)" "the version holds the old content"
# shellcheck disable=SC2010
ls "$MNT/.backups/f.txt" | grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}\.[0-9]{3}Z\.txt$' ||
	fail "version name: $(ls "$MNT/.backups/f.txt")"

echo v2 >"$MNT/f.txt"
assert_eq 1 "$(versions f.txt)" "an identical rewrite adds no version"

# A partial overwrite keeps the rest of the file.
printf 'abcdefgh' >"$MNT/p"
printf 'XY' | dd of="$MNT/p" bs=1 seek=3 conv=notrunc status=none
assert_eq abcXYfgh "$(cat "$MNT/p")" "partial overwrite"
assert_eq abcdefgh "$(only_version p)" "the version before the overwrite"

# Two writers of one file: both writes survive, one commit at the last close.
"$PYTHON" - "$MNT/two" <<'PY'
import os, sys
p = sys.argv[1]
open(p, "wb").write(b"." * 8)
a = os.open(p, os.O_WRONLY)
b = os.open(p, os.O_WRONLY)
os.pwrite(a, b"AA", 0)
os.pwrite(b, b"BB", 6)
os.close(a)
os.close(b)
PY
assert_eq "AA....BB" "$(cat "$MNT/two")" "two writers"

# fsync commits before close; a reader opened before it keeps its version.
"$PYTHON" - "$MNT/s" "$BACKING/s" <<'PY'
import os, sys
m, b = sys.argv[1], sys.argv[2]
open(m, "wb").write(b"old!")
w = os.open(m, os.O_WRONLY | os.O_TRUNC)
r = os.open(m, os.O_RDONLY)
os.write(w, b"new content")
assert open(b, "rb").read() == b"old!", "written but not committed"
os.fsync(w)
assert open(b, "rb").read() == b"new content", "fsync commits"
assert os.pread(r, 100, 0) == b"old!", "a reader keeps its version: %r" % os.pread(r, 100, 0)
os.close(r)
os.close(w)
PY

# unlink and rename over keep the replaced content.
echo gone >"$MNT/d.txt"
rm "$MNT/d.txt"
assert_eq gone "$(only_version d.txt)" "a deleted file stays restorable"
echo target >"$MNT/t"
echo temp >"$MNT/t.new"
mv "$MNT/t.new" "$MNT/t"
assert_eq temp "$(cat "$MNT/t")" "rename over"
assert_eq target "$(only_version t)" "the replaced target is kept"
assert_eq 0 "$(versions t.new)" "the temp file has no versions"

# Scratch files are not versioned.
for n in .f.txt.swp 4913 f.txt~ .#f.txt x.tmp; do
	echo 1 >"$MNT/$n"
	echo 2 >"$MNT/$n"
	rm "$MNT/$n"
	assert_eq 0 "$(versions "$n")" "scratch file $n"
done

# A file with two links is written in place: both names see the write; a
# truncation keeps a copy of what it cut.
echo one >"$MNT/h1"
ln "$MNT/h1" "$MNT/h2"
printf 'two' | dd of="$MNT/h1" bs=1 seek=0 conv=notrunc status=none
assert_eq two "$(cat "$MNT/h2")" "a write through one link shows in the other"
assert_eq 0 "$(versions h1)" "in-place writes keep no version"
echo three >"$MNT/h2"
assert_eq three "$(cat "$MNT/h1")" "O_TRUNC rewrite through the other link"
# The copy is filed under one of the file's names (here the first used).
assert_eq two "$(only_version h1)" "the truncated content is kept"
rm "$MNT/h1"
assert_eq 1 "$(versions h1)" "unlinking one of two names keeps nothing more"
assert_eq 1 "$(stat -c %h "$MNT/h2")" "h2's link count after rm h1"

# .backups is read-only; the state dir is invisible.
for cmd in "touch $MNT/.backups/f.txt/x" "rm -f $MNT/.backups/f.txt/$(ls "$MNT/.backups/f.txt")" \
	"mkdir $MNT/.backups/new" "chmod 777 $MNT/.backups/f.txt" \
	"mv $MNT/.backups/f.txt $MNT/moved" "rmdir $MNT/.backups"; do
	if err=$($cmd 2>&1); then
		fail "allowed in .backups: $cmd"
	fi
	case $err in
	*"Read-only file system"*) ;;
	*) fail "'$cmd' failed without EROFS: $err" ;;
	esac
done
if (echo x >>"$MNT/.backups/f.txt/$(ls "$MNT/.backups/f.txt")") 2>/dev/null; then
	fail "a version was writable"
fi
if [ -n "$(find "$MNT" -maxdepth 1 -name .hydrafs)" ]; then
	fail "the state dir is listed"
fi
if stat "$MNT/.hydrafs" 2>/dev/null; then
	fail "the state dir is reachable"
fi
if mkdir "$MNT/.hydrafs" 2>/dev/null; then
	fail "a .hydrafs could be made in the root"
fi

unmount_fs
# Nothing left staged; the journal has the commits, with checksums.
assert_eq "" "$(ls -A "$BACKING/.hydrafs/staging")" "staging empty after unmount"
grep -q '"event":"commit","path":"f.txt","size":3,"xxh128":"[0-9a-f]\{32\}","prev":"' \
	"$BACKING/.hydrafs/journal.jsonl" || fail "no commit record for f.txt"
grep -q '"event":"version","path":"d.txt"' "$BACKING/.hydrafs/journal.jsonl" ||
	fail "no version record for d.txt"
