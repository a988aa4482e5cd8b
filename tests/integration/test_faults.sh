#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Fault injection through core/io reaches programs as the backing store's
# errno would: HYDRAFS_FAULTS makes the 2nd backing write fail with EIO and
# the 1st fsync with ENOSPC; the writer sees exactly those errors, the other
# writes land, and a bad fault list is refused at mount.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

need_cmd "$PYTHON"

if [ -n "${HYDRAFS_STANDIN:-}" ]; then
	skip "fault injection needs hydrafs itself"
fi

if HYDRAFS_FAULTS="write:x:EIO" "$HYDRAFS" "$BACKING" "$MNT" -f \
	2>"$T/bad.err"; then
	fail "a bad HYDRAFS_FAULTS was accepted"
fi
grep -q "^hydrafs: bad HYDRAFS_FAULTS" "$T/bad.err" ||
	fail "no clear message for a bad fault list: $(cat "$T/bad.err")"

export HYDRAFS_FAULTS="write:2:EIO,fsync:1:ENOSPC"
mount_fs
unset HYDRAFS_FAULTS

"$PYTHON" - "$MNT/f" >"$T/out" <<'PY'
import errno, os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT, 0o644)
for i in range(3):
    try:
        os.pwrite(fd, b"%d" % i * 10, i * 10)
        print("write", i, "ok")
    except OSError as e:
        print("write", i, errno.errorcode[e.errno])
for i in range(2):
    try:
        os.fsync(fd)
        print("fsync", i, "ok")
    except OSError as e:
        print("fsync", i, errno.errorcode[e.errno])
os.close(fd)
PY
cat >"$T/expected" <<'OUT'
write 0 ok
write 1 EIO
write 2 ok
fsync 0 ENOSPC
fsync 1 ok
OUT
diff -u "$T/expected" "$T/out" || fail "the writer did not see the injected errors"
unmount_fs
# The first and third writes landed; the second left a hole of zeros.
printf '0000000000\0\0\0\0\0\0\0\0\0\0002222222222' | cmp - "$BACKING/f" ||
	fail "backing file content after injected faults"
