#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Concurrent writers to disjoint regions of one file, with readers of the same
# file running all along, through the mount: a reader never sees a byte that
# is neither zero (not written yet) nor the expected byte, and the final file
# is byte-exact, through the mount and in the backing dir.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

need_cmd "$PYTHON" dd cmp
writers=4
region=$((6 * 1024 * 1024))
# Block sizes per writer: page-sized, large, odd (unaligned), tiny.
bsizes=(4096 1048576 1000 333)

for ((i = 0; i < writers; i++)); do
	head -c "$region" /dev/urandom >"$REF/part$i"
	cat "$REF/part$i" >>"$REF/expected"
done

mount_fs
: >"$MNT/f"

# Readers run until the stop file appears; each prints how many passes it
# made and exits 1 on the first impossible byte.
reader='
import os, sys
path, expected, stop = sys.argv[1:4]
exp = open(expected, "rb").read()
passes = 0
while True:
    done = os.path.exists(stop)
    with open(path, "rb") as f:
        data = f.read()
    if len(data) > len(exp):
        sys.exit("reader: file longer than expected: %d" % len(data))
    if data != exp[:len(data)]:
        for off in range(0, len(data), 4096):
            got, want = data[off:off + 4096], exp[off:off + 4096]
            if got == want or not any(got):
                continue
            for k, (x, y) in enumerate(zip(got, want)):
                if x != y and x != 0:
                    sys.exit("reader: byte %d is %d, expected %d or 0"
                             % (off + k, x, y))
    passes += 1
    if done:
        break
print("reader: %d passes" % passes)
'
readers=()
for ((i = 0; i < 2; i++)); do
	"$PYTHON" -c "$reader" "$MNT/f" "$REF/expected" "$T/stop" \
		>"$T/reader$i.log" 2>&1 &
	readers+=($!)
	track_pid "$!"
done

pids=()
for ((i = 0; i < writers; i++)); do
	dd if="$REF/part$i" of="$MNT/f" bs="${bsizes[$i]}" \
		seek=$((i * region)) oflag=seek_bytes conv=notrunc status=none \
		2>"$T/writer$i.log" &
	pids+=($!)
	track_pid "$!"
done
for ((i = 0; i < writers; i++)); do
	if ! wait "${pids[$i]}"; then
		cat "$T/writer$i.log" >&2
		fail "writer $i (bs ${bsizes[$i]}) failed"
	fi
done
touch "$T/stop"
for ((i = 0; i < ${#readers[@]}; i++)); do
	if ! wait "${readers[$i]}"; then
		cat "$T/reader$i.log" >&2
		fail "reader $i saw content that no writer wrote"
	fi
	note "$(cat "$T/reader$i.log")"
done

assert_eq "$((writers * region))" "$(stat -c %s "$MNT/f")" "size via mount"
cmp "$REF/expected" "$MNT/f" || fail "content via the mount differs"
unmount_fs
assert_eq "$((writers * region))" "$(stat -c %s "$BACKING/f")" \
	"size in backing"
cmp "$REF/expected" "$BACKING/f" || fail "content in the backing dir differs"

# Several processes appending 64-byte records through O_APPEND: every record
# lands whole, none is lost, each writer's records keep their order.
mount_fs
pids=()
for ((i = 0; i < writers; i++)); do
	"$PYTHON" -c '
import os, sys
i = int(sys.argv[2])
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
for n in range(500):
    rec = ("writer %d record %04d " % (i, n)).ljust(63, ".") + "\n"
    assert os.write(fd, rec.encode()) == 64
os.close(fd)
' "$MNT/log" "$i" &
	pids+=($!)
	track_pid "$!"
done
for ((i = 0; i < writers; i++)); do
	wait "${pids[$i]}" || fail "appender $i failed"
done
assert_eq "$((writers * 500 * 64))" "$(stat -c %s "$MNT/log")" "log size"
for ((i = 0; i < writers; i++)); do
	n=$(grep -c "^writer $i record [0-9]\{4\} \.*\$" "$MNT/log" || true)
	assert_eq 500 "$n" "whole records of appender $i"
done
unmount_fs
assert_eq "$((writers * 500 * 64))" "$(stat -c %s "$BACKING/log")" \
	"log size in backing"
awk '{ if ($4 != next_rec[$2] + 0) bad++; next_rec[$2] = $4 + 1 }
	END { exit bad > 0 }' "$BACKING/log" ||
	fail "appended records out of order or missing in the backing log"
