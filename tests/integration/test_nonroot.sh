#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Other users through a mount with allow_other,default_permissions: uid 1001
# works in its own dir and what it creates is owned by 1001:1001 in the
# backing dir; it is refused in uid 1002's private dir; the sticky bit of a
# world-writable dir keeps 1002 from deleting or renaming 1001's file.
# No user accounts are needed: setpriv switches to bare uids.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

[ "$(id -u)" = 0 ] || skip "needs root to switch uids"
need_cmd setpriv

# as UID CMD...: runs CMD as uid and gid UID with no supplementary groups.
as()
{
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"
}

# refused WHAT EXPECTED-ERROR UID CMD...: CMD must fail, saying EXPECTED-ERROR.
refused()
{
	local what=$1 msg=$2
	shift 2
	if as "$@" >"$T/out" 2>&1; then
		fail "$what: succeeded, expected '$msg'"
	fi
	grep -q "$msg" "$T/out" ||
		fail "$what: expected '$msg', got: $(cat "$T/out")"
}

owner()
{
	stat -c %u:%g "$1"
}

chmod 755 "$T" "$BACKING" "$MNT"
mount_fs allow_other,default_permissions
chmod 755 "$MNT"
mkdir "$MNT/alice" "$MNT/bob" "$MNT/shared"
chown 1001:1001 "$MNT/alice"
chown 1002:1002 "$MNT/bob"
chmod 700 "$MNT/alice" "$MNT/bob"
chmod 1777 "$MNT/shared"
echo secret >"$MNT/bob/secret"
chown 1002:1002 "$MNT/bob/secret"
assert_eq 1001:1001 "$(owner "$BACKING/alice")" "chown through the mount"

# uid 1001 in its own dir.
a=$MNT/alice
echo hello | as 1001 tee "$a/f1" >/dev/null || fail "1001 cannot create"
echo more | as 1001 tee -a "$a/f1" >/dev/null || fail "1001 cannot append"
assert_eq "hello
more" "$(as 1001 cat "$a/f1")" "1001 reads its file"
as 1001 mv "$a/f1" "$a/f2" || fail "1001 cannot rename"
as 1001 mkdir "$a/sub" || fail "1001 cannot mkdir"
as 1001 ln -s f2 "$a/sl" || fail "1001 cannot symlink"
as 1001 ln "$a/f2" "$a/hard" || fail "1001 cannot link"
as 1001 mkfifo "$a/fifo" || fail "1001 cannot mkfifo"
as 1001 touch "$a/sub/inner" || fail "1001 cannot create in subdir"
for name in f2 sub sl hard fifo sub/inner; do
	assert_eq 1001:1001 "$(owner "$BACKING/alice/$name")" \
		"owner in backing of alice/$name created by uid 1001"
done
assert_eq 644 "$(stat -c %a "$BACKING/alice/f2")" \
	"mode of a file created by 1001 (umask 022)"
as 1001 chmod 600 "$a/f2" || fail "1001 cannot chmod its file"
assert_eq 600 "$(stat -c %a "$BACKING/alice/f2")" "mode after chmod by 1001"
refused "1001 chown to 1002" "Operation not permitted" \
	1001 chown 1002 "$a/f2"
as 1001 rm "$a/f2" "$a/sl" "$a/hard" "$a/fifo" "$a/sub/inner" ||
	fail "1001 cannot delete"
as 1001 rmdir "$a/sub" || fail "1001 cannot rmdir"
assert_eq "" "$(ls -A "$BACKING/alice")" "alice empty in backing"

# uid 1001 in uid 1002's private dir.
refused "1001 reads bob/secret" "Permission denied" 1001 cat "$MNT/bob/secret"
refused "1001 creates in bob" "Permission denied" 1001 touch "$MNT/bob/new"
refused "1001 lists bob" "Permission denied" 1001 ls "$MNT/bob"
refused "1001 deletes bob/secret" "Permission denied" \
	1001 rm -f "$MNT/bob/secret"
if [ -e "$BACKING/bob/new" ] || [ ! -e "$BACKING/bob/secret" ]; then
	fail "bob's dir changed in the backing dir"
fi
# A file readable by mode alone: 1001 may read, not write.
echo public >"$MNT/shared/public"
chown 1002:1002 "$MNT/shared/public"
chmod 644 "$MNT/shared/public"
assert_eq public "$(as 1001 cat "$MNT/shared/public")" "1001 reads 0644 file"
refused "1001 writes 1002's 0644 file" "Permission denied" \
	1001 tee -a "$MNT/shared/public" </dev/null

# The sticky bit.
s=$MNT/shared
echo mine | as 1001 tee "$s/a" >/dev/null || fail "1001 cannot create in shared"
assert_eq 1001:1001 "$(owner "$BACKING/shared/a")" "owner of shared/a"
refused "1002 deletes 1001's file in a sticky dir" "Operation not permitted" \
	1002 rm -f "$s/a"
refused "1002 renames 1001's file in a sticky dir" "Operation not permitted" \
	1002 mv "$s/a" "$s/b"
refused "1002 writes 1001's 0644 file" "Permission denied" \
	1002 tee "$s/a" </dev/null
[ -e "$BACKING/shared/a" ] || fail "shared/a vanished"
assert_eq mine "$(cat "$BACKING/shared/a")" "shared/a content"
as 1001 rm "$s/a" || fail "1001 cannot delete its own file in a sticky dir"

unmount_fs
