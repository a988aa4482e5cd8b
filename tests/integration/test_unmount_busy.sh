#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Unmounting while a writer holds a file open and keeps writing:
#  1. a plain unmount is refused (busy) and changes nothing; after the writer
#     finishes, the unmount succeeds and the whole file is in the backing dir;
#  2. a lazy unmount (fusermount3 -u -z) returns at once, the writer's open
#     file keeps working, and once the writer is stopped the daemon exits 0
#     and every byte a write() acknowledged is in the backing file.
# Nothing may hang: every wait here is bounded.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

need_cmd "$PYTHON"

# The writer appends 4 KiB records (record n is "%015d\n" % n, 256 times)
# until TERM or until it has written MAX bytes, fsyncs every 16 records, and
# logs "w BYTES" after each acknowledged write, "s BYTES" after each fsync,
# and "closed BYTES" when it closed the file.
writer='
import os, signal, sys, time
path, log, limit = sys.argv[1], sys.argv[2], int(sys.argv[3])
stop = []
signal.signal(signal.SIGTERM, lambda *a: stop.append(1))
lg = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
def say(s):
    os.write(lg, (s + "\n").encode())
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
n = 0
try:
    while not stop and n * 4096 < limit:
        w = os.write(fd, b"%015d\n" % n * 256)
        if w != 4096:
            say("short %d" % w)
            break
        n += 1
        say("w %d" % (n * 4096))
        if n % 16 == 0:
            os.fsync(fd)
            say("s %d" % (n * 4096))
            time.sleep(0.002)
    os.close(fd)
    say("closed %d" % (n * 4096))
except OSError as e:
    say("error after %d: %s" % (n * 4096, e.strerror))
    sys.exit(1)
'

# Checks that FILE holds exactly the records the writer logged as written.
verify='
import sys
path, nbytes = sys.argv[1], int(sys.argv[2])
data = open(path, "rb").read()
if len(data) < nbytes:
    sys.exit("%s: %d bytes, the writer had %d acknowledged"
             % (path, len(data), nbytes))
for n in range(len(data) // 4096):
    if data[n * 4096:(n + 1) * 4096] != b"%015d\n" % n * 256:
        sys.exit("%s: record %d is wrong" % (path, n))
if len(data) % 4096:
    sys.exit("%s: %d bytes, not whole records" % (path, len(data)))
print("%d bytes, all %d records intact" % (len(data), len(data) // 4096))
'

# last LOG KIND: the byte count of the last complete "KIND N" line among
# the log's last lines (the writer may be half-way through a line).
last()
{
	local data
	data=$(tail -n 100 "$1"; echo .)
	data=${data%.}
	data=${data%"${data##*$'\n'}"}
	awk -v k="$2" '$1 == k { n = $2 } END { print n + 0 }' <<<"$data"
}

# wait_progress LOG BYTES: waits (20 s at most) until the writer has more
# than BYTES acknowledged.
wait_progress()
{
	local i
	for ((i = 0; i < 200; i++)); do
		if [ "$(last "$1" w)" -gt "$2" ]; then
			return 0
		fi
		sleep 0.1
	done
	fail "writer made no progress past $2 bytes: $(tail -n 2 "$1")"
}

# wait_pid PID WHAT: waits (20 s at most) for PID to exit; fails unless 0.
wait_pid()
{
	local pid=$1 i rc=0
	for ((i = 0; i < 200; i++)); do
		is_alive "$pid" || break
		sleep 0.1
	done
	if is_alive "$pid"; then
		fail "$2 (pid $pid) still running after 20 s"
	fi
	wait "$pid" || rc=$?
	assert_eq 0 "$rc" "$2 exit status"
}

# 1. A busy plain unmount is refused; unmount after the writer finished.
mount_fs
: >"$T/one.log"
"$PYTHON" -c "$writer" "$MNT/one" "$T/one.log" $((16 * 1024 * 1024)) &
wpid=$!
track_pid "$wpid"
wait_progress "$T/one.log" 65536
if timeout 20 fusermount3 -u "$MNT" 2>"$T/busy.err"; then
	fail "plain unmount succeeded while a file was open for writing"
fi
note "busy unmount refused: $(cat "$T/busy.err")"
is_mounted "$MNT" || fail "mount gone after a refused unmount"
before=$(last "$T/one.log" w)
wait_progress "$T/one.log" "$before"
wait_pid "$wpid" "writer 1"
grep -q "^closed $((16 * 1024 * 1024))\$" "$T/one.log" ||
	fail "writer 1 did not finish: $(tail -n 2 "$T/one.log")"
unmount_fs
result=$("$PYTHON" -c "$verify" "$BACKING/one" $((16 * 1024 * 1024))) ||
	fail "writer 1's file is incomplete in the backing dir"
note "writer 1: $result"

# 2. Lazy unmount while the writer is writing.
mount_fs
: >"$T/two.log"
"$PYTHON" -c "$writer" "$MNT/two" "$T/two.log" $((1024 * 1024 * 1024)) &
wpid=$!
track_pid "$wpid"
wait_progress "$T/two.log" 262144
unmount_lazy
at_unmount=$(last "$T/two.log" w)
note "lazy unmount done with $at_unmount bytes acknowledged"
wait_progress "$T/two.log" "$at_unmount"
kill -TERM "$wpid"
wait_pid "$wpid" "writer 2"
written=$(last "$T/two.log" w)
synced=$(last "$T/two.log" s)
grep -q "^closed $written\$" "$T/two.log" ||
	fail "writer 2 did not close cleanly: $(tail -n 2 "$T/two.log")"
note "writer 2: $written bytes acknowledged, $synced fsynced"
wait_daemon
result=$("$PYTHON" -c "$verify" "$BACKING/two" "$written") ||
	fail "writer 2's acknowledged bytes are not all in the backing dir"
note "writer 2: $result"
assert_eq "$written" "$(stat -c %s "$BACKING/two")" "size of the backing file"
