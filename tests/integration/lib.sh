# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
#
# The mount helper every integration test sources.
#
# Gives each test a private work dir $T (removed on exit) holding:
#   $T/backing   the backing dir          ($BACKING)
#   $T/mnt       the mount point          ($MNT)
#   $T/ref       a plain dir to compare with ($REF)
# mount_fs starts the daemon in the foreground, in the background of the
# test; unmount_fs unmounts it and fails the test when the daemon exits
# non-zero (that is how a sanitizer report in the daemon fails a test).
# An EXIT trap (also run on INT and TERM) always unmounts whatever is mounted
# under $T, stops the daemon and every process registered with track_pid, by
# pid, and removes $T.
#
# Environment:
#   HYDRAFS              the daemon binary (make check sets it)
#   HYDRAFS_STANDIN=pll  run libfuse's passthrough_ll example instead; it is
#                        built on first use into $HYDRAFS_PLL (default
#                        ${TMPDIR:-/tmp}/hydrafs-pll)
#   HYDRAFS_STANDIN_OPTS extra -o options for the stand-in (e.g. xattr)
#   HYDRAFS_DEBUG=1      pass -d to the daemon (its log is in $T/daemon.log)
#   HYDRA_KEEP=1         keep $T after the test, for a post-mortem
#   CI=true              a skipped test is an error (exit 99)
#   PYTHON               python interpreter (default python3)

set -euo pipefail

TESTDIR=${TESTDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}
PYTHON=${PYTHON:-python3}
OPCHECK=$TESTDIR/opcheck.py
DAEMON_PID=
DAEMON_LOG=
MOUNTED=
HYDRA_PIDS=()

fail()
{
	echo "FAIL: $(basename "$0"): $*" >&2
	exit 1
}

# Exit 77 only for environment reasons; CI must have FUSE, so there it is an
# error.
skip()
{
	if [ "${CI:-}" = true ]; then
		echo "ERROR: $(basename "$0"): would skip on CI: $*" >&2
		exit 99
	fi
	echo "SKIP: $(basename "$0"): $*" >&2
	exit 77
}

# A broken harness or build rather than a failing filesystem.
hard_error()
{
	echo "ERROR: $(basename "$0"): $*" >&2
	exit 99
}

assert_eq()
{
	if [ "$1" != "$2" ]; then
		fail "$3: expected '$1', got '$2'"
	fi
}

note()
{
	echo "# $*"
}

# Registers a background process for the EXIT trap to stop.
track_pid()
{
	HYDRA_PIDS+=("$1")
}

need_cmd()
{
	local c
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || skip "'$c' is not installed"
	done
}

# Mount points under $1 in /proc/mounts, deepest first. Paths here have no
# spaces (mktemp names), so the octal escaping of /proc/mounts never applies.
mounts_under()
{
	awk -v top="$1" '$2 == top || index($2, top "/") == 1 { print $2 }' \
		/proc/mounts | sort -r
}

is_mounted()
{
	awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/mounts
}

is_alive()
{
	[ -n "$1" ] && kill -0 "$1" 2>/dev/null
}

show_daemon_log()
{
	if [ -n "$DAEMON_LOG" ] && [ -s "$DAEMON_LOG" ]; then
		echo "--- daemon log ($DAEMON_LOG) ---" >&2
		tail -n 200 "$DAEMON_LOG" >&2
		echo "--- end of daemon log ---" >&2
	fi
}

# Builds libfuse's passthrough_ll example once, atomically, for the stand-in.
pll_binary()
{
	local bin=${HYDRAFS_PLL:-${TMPDIR:-/tmp}/hydrafs-pll}
	local src=/usr/share/doc/libfuse3-dev/examples/passthrough_ll.c
	local tmp
	if [ ! -x "$bin" ]; then
		[ -r "$src" ] || hard_error "stand-in: $src missing (libfuse3-dev)"
		tmp=$bin.$$
		# shellcheck disable=SC2046
		cc -O2 -Wall $(pkg-config fuse3 --cflags) "$src" -o "$tmp" \
			$(pkg-config fuse3 --libs) >&2 ||
			hard_error "stand-in: cannot build $src"
		mv -f "$tmp" "$bin"
	fi
	echo "$bin"
}

# The one place that knows the daemon's command line: sets DAEMON_ARGV for
# backing $1, mount point $2 and comma-separated options $3.
daemon_argv()
{
	local backing=$1 mnt=$2 opts=$3
	local debug=()
	if [ "${HYDRAFS_DEBUG:-}" = 1 ]; then
		debug=(-d)
	fi
	case ${HYDRAFS_STANDIN:-} in
	pll)
		opts=source=$backing${opts:+,$opts}
		opts+=${HYDRAFS_STANDIN_OPTS:+,$HYDRAFS_STANDIN_OPTS}
		DAEMON_ARGV=("$(pll_binary)" -f "${debug[@]}" -o "$opts" "$mnt")
		;;
	'')
		[ -n "${HYDRAFS:-}" ] || hard_error "HYDRAFS is not set"
		[ -x "$HYDRAFS" ] || hard_error "HYDRAFS='$HYDRAFS' is not executable"
		DAEMON_ARGV=("$HYDRAFS" "$backing" "$mnt" -f "${debug[@]}")
		if [ -n "$opts" ]; then
			DAEMON_ARGV+=(-o "$opts")
		fi
		;;
	*)
		hard_error "unknown HYDRAFS_STANDIN='$HYDRAFS_STANDIN'"
		;;
	esac
}

# Checks that FUSE can be used here at all.
require_fuse()
{
	need_cmd fusermount3
	[ -c /dev/fuse ] || skip "/dev/fuse is missing"
	if [ "$(stat -L -c %t:%T /dev/fuse)" != a:e5 ]; then
		skip "/dev/fuse is not the FUSE device (10:229)"
	fi
	if ! { : <>/dev/fuse; } 2>/dev/null; then
		skip "/dev/fuse cannot be opened"
	fi
}

# try_mount [OPTS]: mounts $BACKING on $MNT and waits (10 s at most) until
# the mount is live; returns 1 (the daemon's log in $T/daemon.log) when the
# daemon exits before that.
try_mount()
{
	local opts=${1:-} i rc=0
	[ -z "$MOUNTED" ] || hard_error "try_mount: $MNT is already mounted"
	require_fuse
	daemon_argv "$BACKING" "$MNT" "$opts"
	DAEMON_LOG=$T/daemon.log
	note "mount: ${DAEMON_ARGV[*]}"
	"${DAEMON_ARGV[@]}" </dev/null >"$DAEMON_LOG" 2>&1 &
	DAEMON_PID=$!
	MOUNTED=$MNT
	for ((i = 0; i < 100; i++)); do
		if is_mounted "$MNT"; then
			return 0
		fi
		if ! is_alive "$DAEMON_PID"; then
			wait "$DAEMON_PID" || rc=$?
			DAEMON_PID=
			MOUNTED=
			note "the daemon exited $rc before mounting: $(head -c 300 "$DAEMON_LOG")"
			return 1
		fi
		sleep 0.1
	done
	show_daemon_log
	fail "$MNT not mounted after 10 s"
}

# shellcheck disable=SC2120 # OPTS is optional
# mount_fs [OPTS]: try_mount, and a daemon that exits first fails the test.
mount_fs()
{
	try_mount "${1:-}" && return 0
	show_daemon_log
	fail "daemon exited before $MNT was mounted"
}

# ctl EXPECTED-EXIT ARGS...: runs $HYDRACTL, output in $T/out and $T/err;
# another exit status fails the test.
ctl()
{
	local want=$1 rc=0
	shift
	"$HYDRACTL" "$@" >"$T/out" 2>"$T/err" || rc=$?
	if [ "$rc" != "$want" ]; then
		sed 's/^/#   out: /' "$T/out"
		sed 's/^/#   err: /' "$T/err"
		fail "hydractl $*: exit $rc, expected $want"
	fi
}

# wait_daemon: waits (20 s at most) for the daemon to exit after an unmount;
# fails the test when it exits non-zero or does not exit.
wait_daemon()
{
	local i rc=0 pid=$DAEMON_PID
	[ -n "$pid" ] || return 0
	for ((i = 0; i < 200; i++)); do
		is_alive "$pid" || break
		sleep 0.1
	done
	if is_alive "$pid"; then
		show_daemon_log
		fail "daemon (pid $pid) still running 20 s after the unmount"
	fi
	wait "$pid" || rc=$?
	DAEMON_PID=
	if [ "$rc" -ne 0 ]; then
		show_daemon_log
		fail "daemon exited with status $rc"
	fi
	if [ -s "$DAEMON_LOG" ]; then
		note "daemon exited 0; its log:"
		sed 's/^/#   /' "$DAEMON_LOG"
	fi
}

# unmount_fs: unmounts cleanly (retrying while busy) and checks the daemon's
# exit status.
unmount_fs()
{
	local i
	[ -n "$MOUNTED" ] || hard_error "unmount_fs: nothing mounted"
	for ((i = 0; i < 10; i++)); do
		if fusermount3 -u "$MNT" 2>"$T/umount.err"; then
			break
		fi
		sleep 0.5
	done
	if is_mounted "$MNT"; then
		cat "$T/umount.err" >&2
		fail "cannot unmount $MNT"
	fi
	MOUNTED=
	wait_daemon
}

# unmount_lazy: detaches the mount at once (fusermount3 -u -z, 20 s at
# most) while files may still be open on it; the daemon exits when the last
# one is closed: wait_daemon checks that.
unmount_lazy()
{
	[ -n "$MOUNTED" ] || hard_error "unmount_lazy: nothing mounted"
	timeout 20 fusermount3 -u -z "$MNT" ||
		fail "lazy unmount of $MNT failed or hung"
	if is_mounted "$MNT"; then
		fail "$MNT still in /proc/mounts after a lazy unmount"
	fi
	MOUNTED=
}

# Unmounts everything under $T, lazily if it has to.
cleanup_mounts()
{
	local m
	for m in $(mounts_under "$T"); do
		fusermount3 -u "$m" 2>/dev/null ||
			fusermount3 -u -z "$m" 2>/dev/null ||
			umount -l "$m" 2>/dev/null ||
			echo "cleanup: cannot unmount $m" >&2
	done
}

# True when $1 is a live (or zombie) child of this shell: a pid that was
# already reaped may since belong to someone else, who must not be killed.
is_our_child()
{
	local st
	st=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
	st=${st##*) }
	# shellcheck disable=SC2086 # split the fields after the command name
	set -- $st
	[ "$2" = "$$" ]
}

# Sends TERM to our child $1, then KILL when it is still there after 5 s;
# reaps it.
stop_pid()
{
	local pid=$1 i
	if ! is_our_child "$pid"; then
		wait "$pid" 2>/dev/null || true
		return 0
	fi
	kill -TERM "$pid" 2>/dev/null || true
	for ((i = 0; i < 50; i++)); do
		is_alive "$pid" || break
		sleep 0.1
	done
	if is_alive "$pid"; then
		echo "cleanup: pid $pid ignored TERM, killing it" >&2
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" 2>/dev/null || true
}

hydra_cleanup()
{
	local rc=$? pid
	set +e
	trap - EXIT INT TERM
	for pid in "${HYDRA_PIDS[@]}"; do
		stop_pid "$pid"
	done
	if [ -n "$MOUNTED" ] && [ "$rc" -ne 0 ]; then
		show_daemon_log
	fi
	cleanup_mounts
	if [ -n "$DAEMON_PID" ]; then
		stop_pid "$DAEMON_PID"
	fi
	if [ -n "$(mounts_under "$T")" ]; then
		echo "cleanup: still mounted, leaving $T:" >&2
		mounts_under "$T" >&2
	elif [ "${HYDRA_KEEP:-}" = 1 ]; then
		echo "cleanup: keeping $T" >&2
	else
		rm -rf --one-file-system "$T"
	fi
	exit "$rc"
}

# opcheck_compare GROUP: runs the opcheck group on $REF and on $MNT, and
# fails on any difference or on output too short to be a real run.
opcheck_compare()
{
	local group=$1 side dir n problems=()
	need_cmd "$PYTHON"
	for side in ref mnt; do
		dir=$REF
		[ "$side" = mnt ] && dir=$MNT
		if ! "$PYTHON" "$OPCHECK" "$group" "$dir" \
			>"$T/$group.$side.out"; then
			problems+=("opcheck $group on $side exited non-zero")
		fi
		n=$(wc -l <"$T/$group.$side.out")
		if [ "$n" -lt 20 ] ||
			[ "$(tail -n 1 "$T/$group.$side.out")" != "# end $group" ]; then
			problems+=("opcheck $group on $side: incomplete ($n lines)")
		fi
	done
	if ! diff -u "$T/$group.ref.out" "$T/$group.mnt.out" >"$T/$group.diff"
	then
		cat "$T/$group.diff"
		problems+=("opcheck $group: the mount differs from a plain dir")
	fi
	if [ ${#problems[@]} -gt 0 ]; then
		local msg
		msg=$(printf '%s; ' "${problems[@]}")
		fail "${msg%; }"
	fi
	note "opcheck $group: $n lines, identical on a plain dir and the mount"
}

# tree_compare NAME: after an unmount, the backing tree under NAME must be
# what the same operations left in the plain dir.
tree_compare()
{
	local name=$1
	"$PYTHON" "$OPCHECK" tree "$REF/$name" >"$T/$name.ref.tree"
	"$PYTHON" "$OPCHECK" tree "$BACKING/$name" >"$T/$name.backing.tree"
	if ! diff -u "$T/$name.ref.tree" "$T/$name.backing.tree" \
		>"$T/$name.tree.diff"; then
		cat "$T/$name.tree.diff"
		fail "tree $name: the backing dir differs from the plain dir"
	fi
	note "tree $name: backing dir identical to the plain dir"
}

T=$(mktemp -d "${TMPDIR:-/tmp}/hydrafs-test.XXXXXX")
T=$(realpath "$T")
BACKING=$T/backing
MNT=$T/mnt
REF=$T/ref
mkdir "$BACKING" "$MNT" "$REF"
trap hydra_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
cd "$T"
