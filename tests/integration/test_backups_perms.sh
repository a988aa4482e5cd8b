#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Versions keep their file's owner and mode, .backups dirs those of the
# dirs they mirror: with allow_other (and so default_permissions) a user
# reads their own history and nobody else's.  Checked as non-root users.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

need_cmd setpriv stat
if [ "$(id -u)" != 0 ]; then
	skip "needs root to act as other users"
fi
if [ -n "${HYDRAFS_STANDIN:-}" ]; then
	skip "versions need hydrafs itself"
fi

as() {
	local uid=$1
	shift
	setpriv --reuid="$uid" --regid="$uid" --clear-groups -- "$@"
}

chmod 755 "$T" "$BACKING" "$MNT"
mount_fs allow_other
mkdir "$MNT/alice"
chown 1001:1001 "$MNT/alice"
chmod 700 "$MNT/alice"

as 1001 sh -c "umask 077; echo first >'$MNT/alice/diary.txt'; echo second >'$MNT/alice/diary.txt'"
assert_eq second "$(as 1001 cat "$MNT/alice/diary.txt")" "alice's rewrite"
v=$(as 1001 ls "$MNT/.backups/alice/diary.txt")
[ -n "$v" ] || fail "alice sees no version of her file"
assert_eq first "$(as 1001 cat "$MNT/.backups/alice/diary.txt/$v")" "alice reads her version"
assert_eq "1001:1001 600" "$(stat -c '%u:%g %a' "$MNT/.backups/alice/diary.txt/$v")" \
	"the version's owner and mode"
assert_eq "1001:1001 700" "$(stat -c '%u:%g %a' "$MNT/.backups/alice")" \
	"the mirror of alice's dir"
assert_eq "1001:1001 600" "$(stat -c '%u:%g %a' "$MNT/alice/diary.txt")" \
	"the committed file keeps its owner and mode"

if as 1002 ls "$MNT/.backups/alice" >/dev/null 2>&1; then
	fail "bob lists alice's history"
fi
if as 1002 cat "$MNT/.backups/alice/diary.txt/$v" >/dev/null 2>&1; then
	fail "bob reads alice's version"
fi
if as 1001 sh -c "echo x >>'$MNT/.backups/alice/diary.txt/$v'" 2>/dev/null; then
	fail "alice could change her version"
fi
unmount_fs
