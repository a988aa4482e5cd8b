#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Crash consistency of staged writes.  Each round a writer (crashwriter.py)
# rewrites six files with self-checking contents (O_TRUNC and write()s, or
# pwrite()s of a new content of the same length; some fsynced before the
# close) and the daemon is killed with SIGKILL at a random moment.  After
# each remount: staging is empty; every file has one link and holds one
# whole content, no older than any of its versions; every content whose
# fsync() or close() returned 0 is the file or a version; every version is
# a whole content of its file; every orphan is named for its file (an empty
# empty one with no file name is let pass: killed before it was named); every
# content whose write()s all returned is the file, a version or an orphan,
# or was replaced in its stage, uncommitted, by a later content committed
# before the crash.  At the end all of .backups is read again and the
# daemon must exit 0 at a clean unmount.
#   CRASH_ROUNDS=N   rounds (default 50)
#   CRASH_SEED=N     the seed of a run to repeat (the test prints it): the
#                    same contents and kill delays; the timing still varies
# The daemon keeps few inode handles open (HYDRAFS_FD_CACHE=64), so that
# files are reopened from their file handles all the time.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

need_cmd "$PYTHON"
if [ -n "${HYDRAFS_STANDIN:-}" ]; then
	skip "staging and crash recovery need hydrafs itself"
fi

CRASHWRITER=$TESTDIR/crashwriter.py
# The interpreter itself, not a wrapper (pyenv's shim costs 0.5 s a start).
PY=$("$PYTHON" -c 'import sys; print(sys.executable or "")')
PY=${PY:-$PYTHON}
FILES=(f0.txt f1.bin f2 f3.dat sub/f4.txt sub/deeper/f5)
ROUNDS=${CRASH_ROUNDS:-50}
export HYDRAFS_FD_CACHE=${HYDRAFS_FD_CACHE:-64}
SEED=${CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$((SEED % 32768))
LOG=$T/log
WRITER_PID=
round=0

# Starts the writer of this round and waits (10 s at most) until it writes.
start_writer()
{
	local i
	rm -f "$T/ready" "$T/writer.err"
	"$PY" "$CRASHWRITER" write "$MNT" "$LOG" "$T/ready" \
		"$((SEED * 1000 + round))" "$round" "${FILES[@]}" \
		2>"$T/writer.err" &
	WRITER_PID=$!
	track_pid "$WRITER_PID"
	for ((i = 0; i < 1000; i++)); do
		[ -e "$T/ready" ] && return 0
		[ -s "$T/writer.err" ] && break
		sleep 0.01
	done
	cat "$T/writer.err" >&2
	fail "round $round: the writer did not start"
}

# Kills the daemon with SIGKILL, then stops the writer (its calls fail with
# ENOTCONN by then) and detaches the dead mount.
crash()
{
	local rc=0
	if [ -s "$T/writer.err" ]; then
		cat "$T/writer.err" >&2
		fail "round $round: the writer failed while the daemon was alive"
	fi
	kill -KILL "$DAEMON_PID"
	wait "$DAEMON_PID" 2>/dev/null || rc=$?
	DAEMON_PID=
	if [ "$rc" -ne 137 ]; then
		show_daemon_log
		fail "round $round: the daemon exited with $rc before it was killed"
	fi
	kill -KILL "$WRITER_PID" 2>/dev/null || true
	wait "$WRITER_PID" 2>/dev/null || true
	WRITER_PID=
	HYDRA_PIDS=() # the writer was the only one
	unmount_lazy
}

# check_mount [full]: what the mount shows after a remount ($after says
# after what); full: read all of .backups again, not only what is new.
check_mount()
{
	local cache=$T/seen.json
	[ "${1:-}" = full ] && cache=-
	assert_eq "" "$(ls -A "$BACKING/.hydrafs/staging")" \
		"staging $after"
	if ! "$PY" "$CRASHWRITER" check "$MNT" "$BACKING" "$LOG" "$cache" \
		"${FILES[@]}" >"$T/check.out" 2>"$T/check.err"; then
		cat "$T/check.err" >&2
		fail "$(grep -c . "$T/check.err") problems $after" \
			"($(cat "$T/check.out"))"
	fi
}

note "seed $SEED (CRASH_SEED=$SEED repeats its random choices), $ROUNDS rounds"
mount_fs
mkdir -p "$MNT/sub/deeper"
"$PY" "$CRASHWRITER" init "$MNT" "${FILES[@]}"
unmount_fs
: >"$LOG"

after="after the setup"
start=$SECONDS
for ((round = 1; round <= ROUNDS; round++)); do
	mount_fs >/dev/null
	check_mount
	start_writer
	ms=$((50 + RANDOM % 551))
	sleep "0.$(printf %03d "$ms")"
	crash
	after="after the crash of round $round ($ms ms into its writer)"
done
mount_fs
check_mount full
note "$ROUNDS crashes in $((SECONDS - start)) s: $(cat "$T/check.out")"
unmount_fs
