#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# More inodes than the daemon keeps handles open for: with HYDRAFS_FD_CACHE=32
# the daemon closes the O_PATH handles of inodes it has not used lately and
# reopens them from file handles.  Thousands of files are made, rewritten
# (their versions must be named by their path, also after their dir is
# renamed), read back and listed in .backups, while the daemon's open
# descriptors stay bounded; a file deleted while open stays usable.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

if [ -n "${HYDRAFS_STANDIN:-}" ]; then
	skip "the handle cache is hydrafs's own"
fi
need_cmd find sort wc

DIRS=20
PER=50
CACHE=32

export HYDRAFS_FD_CACHE=$CACHE
mount_fs

max_fds=0
count_fds()
{
	local n
	n=$(find "/proc/$DAEMON_PID/fd" -mindepth 1 | wc -l)
	[ "$n" -gt "$max_fds" ] && max_fds=$n
	return 0
}

for ((d = 0; d < DIRS; d++)); do
	mkdir "$MNT/d$d"
	for ((i = 0; i < PER; i++)); do
		echo "v1 d$d f$i" >"$MNT/d$d/f$i.txt"
	done
	count_fds
done
note "made $((DIRS * PER)) files"

# A file deleted while open: only its open file keeps it.
exec 7<"$MNT/d0/f0.txt"
rm "$MNT/d0/f0.txt"

for ((d = 0; d < DIRS; d++)); do
	for ((i = 0; i < PER; i++)); do
		[ "$d$i" = 00 ] && continue
		echo "v2 d$d f$i" >"$MNT/d$d/f$i.txt"
	done
	count_fds
done

# The deleted file is still readable and stat-able through its descriptor.
assert_eq "v1 d0 f0" "$(cat <&7)" "a deleted open file, after its handle's neighbours were closed"
[ "$(stat -L -c %s /dev/fd/7)" = 9 ] || fail "fstat of a deleted open file"
exec 7<&-

# A renamed dir: its files' versions follow the new name.
mv "$MNT/d5" "$MNT/e5"
for ((i = 0; i < PER; i++)); do
	echo "v3 e5 f$i" >"$MNT/e5/f$i.txt"
done
count_fds

bad=0
for ((d = 0; d < DIRS; d++)); do
	dir=d$d
	[ "$d" = 5 ] && dir=e5
	for ((i = 0; i < PER; i++)); do
		[ "$d$i" = 00 ] && continue
		want="v2 d$d f$i"
		[ "$d" = 5 ] && want="v3 e5 f$i"
		got=
		read -r got <"$MNT/$dir/f$i.txt" || true
		[ "$got" = "$want" ] || { bad=$((bad + 1)); note "$dir/f$i.txt: '$got'"; }
	done
done
[ "$bad" -eq 0 ] || fail "$bad files read back wrong"
count_fds

# Every rewrite kept the old content as a version, named by the file's path.
nver=$(find "$MNT/.backups" -path "$MNT/.backups/.orphans" -prune -o -type f -print | wc -l)
assert_eq "$((DIRS * PER + PER))" "$nver" "versions in .backups"
assert_eq "v1 d3 f7" "$(cat "$MNT"/.backups/d3/f7.txt/*)" "a version of d3/f7.txt"
assert_eq "v1 d0 f0" "$(cat "$MNT"/.backups/d0/f0.txt/*)" "the version of the deleted file"
n5=$(find "$MNT/.backups/e5" -type f | wc -l)
assert_eq "$PER" "$n5" "versions named after the renamed dir"
assert_eq "v2 d5 f9" "$(cat "$MNT"/.backups/e5/f9.txt/*)" "a version made after the rename"
count_fds

note "the daemon held at most $max_fds descriptors (cache $CACHE)"
# The cache, the root and state dir handles, libfuse's and stdio: well below
# one per inode.
[ "$max_fds" -le $((CACHE + 40)) ] ||
	fail "the daemon held $max_fds descriptors for a cache of $CACHE"
unmount_fs
