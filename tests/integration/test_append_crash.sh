#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Crash consistency of append mode.  Each round a writer (appendwriter.py
# crash-writer) appends numbered JSON lines to c.jsonl through an O_APPEND
# fd, each line split over 2-4 write()s, fsync()ing after some of them and
# logging how many lines each fsync() that returned 0 made durable; then
# the daemon dies: SIGKILL at a random moment, or, in some rounds, the
# crash point HYDRAFS_FAULTS=write:N:CRASH (the daemon's N-th backing write
# writes half its bytes, then the daemon kills itself).  After each remount:
# staging is empty; c.jsonl is a whole number of the stream's lines from
# the first (so numbered consecutively), the same in the backing dir, and
# holds at least every line an fsync() acknowledged; every new orphan named
# for c.jsonl under .backups/.orphans is a torn append: the file's content
# followed by the orphan is a prefix of the stream.  The daemon must exit 0
# at the final clean unmount.
#   APPEND_CRASH_ROUNDS=N  rounds (default 15)
#   APPEND_CRASH_SEED=N    the seed of a run to repeat (the test prints it):
#                          the same kill delays, crash points and write
#                          splits; the timing still varies
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

need_cmd "$PYTHON"
if [ -n "${HYDRAFS_STANDIN:-}" ]; then
	skip "append mode and crash recovery need hydrafs itself"
fi

AW=$TESTDIR/appendwriter.py
PY=$("$PYTHON" -c 'import sys; print(sys.executable or "")')
PY=${PY:-$PYTHON}
FILE=c.jsonl
ROUNDS=${APPEND_CRASH_ROUNDS:-15}
SEED=${APPEND_CRASH_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$((SEED % 32768))
ACKS=$T/acks
SEEN=$T/orphans-seen.json
WRITER_PID=
round=0

# The daemon of a crash point dies on its own, and bash reports a child
# killed by a signal on its stderr at its next command: the loops that
# wait while it may die have their stderr sent to /dev/null, so they only
# poll, and report after.

# start_fault_daemon FAULTS: mount_fs with HYDRAFS_FAULTS=FAULTS, except
# that a daemon that dies before the mount is live (the crash point was
# reached while it started) returns 1.  A daemon that refuses the fault
# list fails the test.
start_fault_daemon()
{
	local i rc=0 state=timeout
	daemon_argv "$BACKING" "$MNT" ""
	DAEMON_LOG=$T/daemon.log
	HYDRAFS_FAULTS=$1 "${DAEMON_ARGV[@]}" </dev/null >"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	MOUNTED=$MNT
	for ((i = 0; i < 100; i++)); do
		if is_mounted "$MNT"; then
			state=mounted
			break
		fi
		if ! is_alive "$DAEMON_PID"; then
			state=dead
			break
		fi
		sleep 0.1
	done 2>/dev/null
	case $state in
	mounted)
		return 0
		;;
	timeout)
		show_daemon_log
		fail "round $round: $MNT not mounted after 10 s"
		;;
	esac
	wait "$DAEMON_PID" 2>/dev/null || rc=$?
	DAEMON_PID=
	MOUNTED=
	if [ "$rc" -ne 137 ]; then
		show_daemon_log
		fail "round $round: the daemon exited $rc with" \
			"HYDRAFS_FAULTS=$1 (is the CRASH fault known?)"
	fi
	cleanup_mounts
	return 1
}

# Starts the writer and waits (10 s at most) for its first write; a writer
# that stops on an error is fine only when the daemon is dead already.
start_writer()
{
	local i state=timeout
	rm -f "$T/ready" "$T/writer.err"
	"$PY" "$AW" crash-writer "$MNT/$FILE" "$ACKS" "$T/ready" \
		"$((SEED * 1000 + round))" 2>"$T/writer.err" &
	WRITER_PID=$!
	track_pid "$WRITER_PID"
	for ((i = 0; i < 1000; i++)); do
		if [ -e "$T/ready" ]; then
			state=ready
			break
		fi
		if ! is_alive "$WRITER_PID"; then
			state=stopped
			break
		fi
		sleep 0.01
	done 2>/dev/null
	case $state in
	ready) ;;
	stopped)
		if is_alive "$DAEMON_PID"; then
			cat "$T/writer.err" >&2
			fail "round $round: the writer stopped before writing"
		fi
		;;
	*)
		fail "round $round: the writer did not start"
		;;
	esac
}

# crash [fault]: kills the daemon with SIGKILL (fault: waits up to 5 s for
# the crash point first), then the writer, and detaches the dead mount.
crash()
{
	local rc=0 i
	if [ "${1:-}" = fault ]; then
		for ((i = 0; i < 500; i++)); do
			is_alive "$DAEMON_PID" || break
			sleep 0.01
		done 2>/dev/null
		if is_alive "$DAEMON_PID"; then
			how="crash point not reached in 5 s, SIGKILL"
		else
			how="$how, reached after $((i * 10)) ms"
		fi
	fi
	if [ -s "$T/writer.err" ] && is_alive "$DAEMON_PID"; then
		cat "$T/writer.err" >&2
		fail "round $round: the writer failed while the daemon was alive"
	fi
	kill -KILL "$DAEMON_PID" 2>/dev/null || true
	wait "$DAEMON_PID" 2>/dev/null || rc=$?
	DAEMON_PID=
	if [ "$rc" -ne 137 ]; then
		show_daemon_log
		fail "round $round: the daemon exited $rc, not by SIGKILL ($how)"
	fi
	kill -KILL "$WRITER_PID" 2>/dev/null || true
	wait "$WRITER_PID" 2>/dev/null || true
	WRITER_PID=
	HYDRA_PIDS=() # the writer was the only one
	unmount_lazy
}

# check: what the mount shows after the crash ($after says which).
check()
{
	assert_eq "" "$(ls -A "$BACKING/.hydrafs/staging" 2>/dev/null)" \
		"staging $after"
	if ! "$PY" "$AW" crash-check "$MNT" "$BACKING" "$FILE" "$ACKS" "$SEEN" \
		>"$T/check.out" 2>"$T/check.err"; then
		cat "$T/check.err" >&2
		fail "$(grep -c . "$T/check.err") problems $after" \
			"($(cat "$T/check.out")); seed $SEED"
	fi
}

note "seed $SEED (APPEND_CRASH_SEED=$SEED repeats its random choices), $ROUNDS rounds"
: >"$ACKS"
after="after the first mount"
faults=0
start=$SECONDS
for ((round = 1; round <= ROUNDS; round++)); do
	mount_fs >/dev/null
	check
	# A third of the rounds (never the first) crash at a crash point.
	mode="kill"
	if [ "$round" -gt 1 ] && [ $((RANDOM % 3)) -eq 0 ]; then
		mode="fault"
	fi
	if [ "$mode" = fault ]; then
		n=$((1 + RANDOM % 60))
		how="HYDRAFS_FAULTS=write:$n:CRASH"
		unmount_fs >/dev/null
		if ! start_fault_daemon "write:$n:CRASH"; then
			note "round $round: $how was reached while mounting"
			after="after a crash while mounting (round $round, $how)"
			mount_fs >/dev/null
			check
			mode="kill"
		else
			faults=$((faults + 1))
		fi
	fi
	start_writer
	if [ "$mode" = kill ]; then
		ms=$((50 + RANDOM % 751))
		how="SIGKILL $ms ms into the writer"
		sleep "$((ms / 1000)).$(printf %03d $((ms % 1000)))"
		crash
	else
		crash fault
	fi
	after="after the crash of round $round ($how)"
	note "round $round: $how; before it: $(cat "$T/check.out")"
done
mount_fs >/dev/null
check
note "$ROUNDS crashes ($faults at a crash point) in $((SECONDS - start)) s: $(cat "$T/check.out")"
unmount_fs
