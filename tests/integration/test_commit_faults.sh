#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Faults on the commit path: each backing-store call a write and its commit
# make fails in turn, with EIO and with ENOSPC, and the writer and the store
# stay consistent.
#
# A round is one daemon started with HYDRAFS_FAULTS=KIND:N:ERRNO (call N of
# KIND, counted from the daemon's start, fails; N 0: every call).
# faultwriter.py writes content A then B to two files, "a" through close()
# (open O_TRUNC, write, close) and "b" through fsync() (B without O_TRUNC:
# its stage starts as a copy; write, fsync, close), recording what every
# call returned; after a step that saw an error it waits for the release
# (which retries a failed commit, or keeps the stage under .orphans).
# The invariants, checked on the backing dir once every handle is released:
#   - the writer saw the injected errno or success, nothing else;
#   - a file holds its old or its new content, never anything else (empty
#     only when its first content failed, or after an O_TRUNC open whose
#     write failed); the new one once fsync() or close() returned 0, and
#     already when that call returns: so a commit that failed was reported,
#     by fsync() if called, else by close() (a retry may commit it later);
#   - nothing is lost: each content the daemon accepted in a write is the
#     file's, one of its versions or an orphan, and a commit reported done
#     and since replaced is a version; versions and orphans hold nothing
#     that was not written;
#   - nothing stays staged: each stage was committed or is an orphan.
# Then (N > 0) a probe drives the fault out if it is still pending, with
# calls of KIND on scratch files, and the live daemon must show each file's
# content and commit one more write C to each (the same invariants hold
# with C).  The daemon must exit 0 at the unmount, and a remount without
# faults must show the same through the mount and its .backups, with the
# staging dir empty.
#
# A sweep runs rounds N = 1, 2, ... of one KIND and ERRNO until the probe
# found the fault still pending in two rounds in a row: N is then past every
# call the mount and the scenario make, whatever their number.  A fault that
# stops the daemon's start is an outcome, not a failure.  With N 0 the
# release's retry fails too and the stage must become an orphan (or, when
# orphan() fails as well, stay staged and become one at the next mount).
#
# Each round has its dir $T/KIND-N-ERRNO (backing dir, writer.json, out,
# daemon.log), kept when the round broke an invariant (all with
# HYDRA_KEEP=1); HYDRA_FAULT_KINDS="stat open ..." runs only those kinds.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

need_cmd "$PYTHON"
if [ -n "${HYDRAFS_STANDIN:-}" ]; then
	skip "fault injection needs hydrafs itself"
fi

KINDS=${HYDRA_FAULT_KINDS:-}
# A sweep that has not ended here is broken (the probe misses its kind).
MAX_N=150
# Kinds the scenario's writes and commits call: a fault in each must reach
# the writer in some round.  Not read: the scenario writes each content in
# order from offset 0, so it is validated and hashed as it is written and
# the commit reads nothing (read faults still sweep, for the invariants).
ON_PATH="stat open close write fsync xattr chown chmod link rename mkdir copy"
BAD_ROUNDS=()
ROUNDS=0

# One faultwriter.py for the whole test, fed one command per line: a
# process per round would cost more than the round.
coproc FW { exec "$PYTHON" "$TESTDIR/faultwriter.py" serve; }
track_pid "$FW_PID"

# Writes ARGS... to faultwriter.py as one line, separated by tabs.
fw_send()
{
	local IFS=$'\t'
	[ -n "${FW[1]:-}" ] || hard_error "faultwriter.py exited"
	echo "$*" >&"${FW[1]}"
}

# fw COMMAND ARGS...: runs a faultwriter.py command, its output appended
# to $OUT; returns 1 on violations, a broken helper is a hard error.
# Notes what "round" reports in ROUND_PENDING, ROUND_ERRORS, ROUND_WRITER.
fw()
{
	local line rc=
	fw_send "$@"
	while IFS= read -r line <&"${FW[0]}"; do
		case $line in
		"status: "*)
			rc=${line#status: }
			break
			;;
		"probe: pending") ROUND_PENDING=1 ;;
		"errors: "*) ROUND_ERRORS=${line#errors: } ;;
		"writer: "*) ROUND_WRITER+=${ROUND_WRITER:+; }${line#writer: } ;;
		esac
		echo "$line" >>"$OUT"
	done
	case $rc in
	0 | 1) return "$rc" ;;
	*)
		cat "$OUT" >&2
		hard_error "faultwriter.py $1 failed (status '$rc')"
		;;
	esac
}

# Whether $1 is in /proc/mounts, without a process (lib.sh's is_mounted
# runs awk): mounts are polled every 10 ms here.
mounted()
{
	local mnt
	while read -r _ mnt _; do
		if [ "$mnt" = "$1" ]; then
			return 0
		fi
	done </proc/mounts
	return 1
}

# start_daemon BACKING FAULTS: mount_fs for BACKING with
# HYDRAFS_FAULTS=FAULTS, except that a daemon that exits before the mount
# (the fault hit its start) returns 1 instead of failing the test.
start_daemon()
{
	local i rc=0
	daemon_argv "$1" "$MNT" ""
	DAEMON_LOG=${1%/*}/daemon.log
	HYDRAFS_FAULTS=$2 "${DAEMON_ARGV[@]}" </dev/null >"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	MOUNTED=$MNT
	for ((i = 0; i < 1000; i++)); do
		if mounted "$MNT"; then
			return 0
		fi
		if ! is_alive "$DAEMON_PID"; then
			wait "$DAEMON_PID" || rc=$?
			DAEMON_PID=
			MOUNTED=
			if [ "$rc" -eq 0 ]; then
				show_daemon_log
				fail "daemon exited 0 without mounting ($2)"
			fi
			return 1
		fi
		sleep 0.01
	done
	show_daemon_log
	fail "$MNT not mounted after 10 s ($2)"
}

# stop_daemon: unmount_fs, polling every 10 ms.
stop_daemon()
{
	local i rc=0
	for ((i = 0; i < 100; i++)); do
		if fusermount3 -u "$MNT" 2>"$T/umount.err"; then
			break
		fi
		sleep 0.1
	done
	if mounted "$MNT"; then
		cat "$T/umount.err" >&2
		fail "cannot unmount $MNT"
	fi
	# shellcheck disable=SC2034 # lib.sh's EXIT trap reads it
	MOUNTED=
	for ((i = 0; i < 2000; i++)); do
		is_alive "$DAEMON_PID" || break
		sleep 0.01
	done
	if is_alive "$DAEMON_PID"; then
		show_daemon_log
		fail "daemon (pid $DAEMON_PID) still running 20 s after the unmount"
	fi
	wait "$DAEMON_PID" || rc=$?
	DAEMON_PID=
	if [ "$rc" -ne 0 ]; then
		show_daemon_log
		fail "daemon exited with status $rc"
	fi
}

# round KIND N ERRNO: one faulted daemon, the scenario and the checks, then
# a remount without faults and the checks through it.  Each round has its
# own dir $T/KIND-N-ERRNO (backing dir, writer log, output, daemon log).
# Sets ROUND_STARTED, ROUND_PENDING, ROUND_ERRORS (calls of the scenario
# that failed), ROUND_WRITER (its steps that saw a failure) and ROUND_BAD.
round()
{
	local kind=$1 n=$2 err=$3 spec=$1:$2:$3 dir=$T/$1-$2-$3
	local backing=$dir/backing log=$dir/writer.json
	ROUND_STARTED=1
	ROUND_PENDING=0
	ROUND_ERRORS=0
	ROUND_WRITER=
	ROUND_BAD=0
	ROUNDS=$((ROUNDS + 1))
	mkdir -p "$backing"
	OUT=$dir/out
	if start_daemon "$backing" "$spec"; then
		round_checks "$kind" "$n" "$err" "$backing" "$log"
	else
		ROUND_STARTED=0
	fi
	# Hundreds of rounds: only a broken one's dir is kept for a post-mortem.
	if [ "$ROUND_BAD" = 0 ] && [ "${HYDRA_KEEP:-}" != 1 ]; then
		rm -rf --one-file-system "$dir"
	fi
}

# round_checks KIND N ERRNO BACKING LOG: the rest of a round whose daemon
# started.
round_checks()
{
	local kind=$1 n=$2 err=$3 spec=$1:$2:$3 backing=$4 log=$5 bad=0 line
	fw round "$MNT" "$backing" "$spec" "$kind" "$n" "$err" "$log" || bad=1
	stop_daemon
	start_daemon "$backing" "" ||
		fail "$spec: the daemon does not start without faults afterwards"
	fw check "$MNT" "$MNT/.backups" "$backing/.hydrafs/staging" "$err" \
		"$log" || bad=1
	stop_daemon
	if [ "$bad" = 1 ]; then
		ROUND_BAD=1
		BAD_ROUNDS+=("$spec")
		echo "# $spec: BROKEN"
		while IFS= read -r line; do
			case $line in
			violation:* | writer:* | note:*) echo "#   $line" ;;
			esac
		done <"$OUT"
	elif [ "$ROUND_ERRORS" -gt 0 ]; then
		echo "# $spec: $ROUND_WRITER"
	fi
}

# Whether rounds of kind $1 run (HYDRA_FAULT_KINDS).
wanted()
{
	case " ${KINDS:-$1} " in
	*" $1 "*) return 0 ;;
	*) return 1 ;;
	esac
}

# sweep KIND ERRNO: rounds N = 1, 2, ... until the fault was still pending
# after the scenario in two rounds in a row.
sweep()
{
	local kind=$1 err=$2 n pending=0 starts=0 errs=0 bad=0
	wanted "$kind" || return 0
	for ((n = 1; pending < 2; n++)); do
		if [ "$n" -gt "$MAX_N" ]; then
			fail "$kind:N:$err: still firing within the scenario at N = $MAX_N"
		fi
		round "$kind" "$n" "$err"
		if [ "$ROUND_PENDING" = 1 ]; then
			pending=$((pending + 1))
		else
			pending=0
		fi
		if [ "$ROUND_STARTED" = 0 ]; then
			starts=$((starts + 1))
		fi
		if [ "$ROUND_ERRORS" -gt 0 ]; then
			errs=$((errs + 1))
		fi
		bad=$((bad + ROUND_BAD))
	done
	note "sweep $kind:N:$err: N = 1..$((n - 1)): $starts stopped the" \
		"daemon's start, $errs reached the writer, $bad broke an invariant"
	case " $ON_PATH " in
	*" $kind "*)
		if [ "$errs" -eq 0 ]; then
			fail "$kind:N:$err: no round reached the writer"
		fi
		;;
	esac
}

# truncate and unlink are not on this path: their sweeps end at N = 2,
# unless a call of theirs appears in it.
for kind in stat open close read write fsync xattr chown chmod link rename \
	mkdir copy truncate unlink; do
	sweep "$kind" EIO
done
for kind in open write fsync xattr copy link mkdir rename; do
	sweep "$kind" ENOSPC
done
# Every call fails, for the kinds the daemon can start without.
for spec in close:EIO read:EIO write:EIO fsync:EIO xattr:EIO chown:EIO \
	chmod:EIO link:EIO rename:EIO copy:EIO truncate:EIO unlink:EIO \
	write:ENOSPC fsync:ENOSPC xattr:ENOSPC link:ENOSPC copy:ENOSPC; do
	wanted "${spec%:*}" || continue
	round "${spec%:*}" 0 "${spec#*:}"
	if [ "$ROUND_STARTED" = 0 ]; then
		note "every call $spec: the daemon did not start"
	fi
done
note "$ROUNDS rounds in $SECONDS s"

if [ ${#BAD_ROUNDS[@]} -gt 0 ]; then
	fail "${#BAD_ROUNDS[@]} round(s) broke an invariant: ${BAD_ROUNDS[*]}"
fi
