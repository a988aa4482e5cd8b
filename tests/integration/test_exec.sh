#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Programs run from the mount: a script and a copied binary execute (the
# kernel opens them with internal flags that the backing open must accept),
# and a program cannot be replaced while it runs (ETXTBSY), as on the
# backing filesystem.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

need_cmd sleep cp
mount_fs

# shellcheck disable=SC2016 # the script's own $1
printf '#!/bin/sh\necho "ran with $1"\n' >"$MNT/hello.sh"
chmod 755 "$MNT/hello.sh"
assert_eq "ran with x" "$("$MNT/hello.sh" x)" "a script run from the mount"

cp "$(command -v sleep)" "$MNT/sleeper"
"$MNT/sleeper" 5 &
pid=$!
track_pid "$pid"
sleep 0.3
if ! kill -0 "$pid" 2>/dev/null; then
	fail "a binary copied into the mount did not run"
fi
if (echo x >"$MNT/sleeper") 2>/dev/null; then
	fail "a running binary was writable (expected ETXTBSY)"
fi
kill "$pid"
wait "$pid" 2>/dev/null || true
cmp "$(command -v sleep)" "$BACKING/sleeper" ||
	fail "the binary in the backing dir is not the one copied in"

unmount_fs
