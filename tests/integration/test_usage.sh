#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The daemon's command line: --help and --version succeed; every wrong
# invocation exits non-zero with one line on stderr starting "hydrafs: " and
# leaves nothing mounted; an unusable /dev/fuse is reported as such.
# This tests $HYDRAFS itself, never the stand-in.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

HYDRAFS_STANDIN=
[ -n "${HYDRAFS:-}" ] || hard_error "HYDRAFS is not set"
[ -x "$HYDRAFS" ] || hard_error "HYDRAFS='$HYDRAFS' is not executable"

# run NAME ARGS...: runs the daemon (10 s at most) with ARGS, leaving its
# status in $rc and its output in $T/NAME.out and $T/NAME.err.
run()
{
	local name=$1
	shift
	rc=0
	timeout -k 5 10 "$@" </dev/null >"$T/$name.out" 2>"$T/$name.err" ||
		rc=$?
}

nothing_mounted()
{
	if [ -n "$(mounts_under "$T")" ]; then
		fail "$1: left a mount behind: $(mounts_under "$T")"
	fi
}

# expect_error NAME ARGS...: the daemon must refuse ARGS.
expect_error()
{
	local name=$1 lines first
	shift
	run "$name" "$HYDRAFS" "$@"
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		fail "$name: still running after 10 s instead of refusing"
	fi
	if [ "$rc" -eq 0 ]; then
		fail "$name: exited 0"
	fi
	lines=$(grep -c '' "$T/$name.err" || true)
	first=$(head -n 1 "$T/$name.err")
	if [ "$lines" -ne 1 ] || [ "${first#hydrafs: }" = "$first" ]; then
		echo "--- stderr of: hydrafs $* ---" >&2
		cat "$T/$name.err" >&2
		fail "$name: wanted one stderr line starting 'hydrafs: '," \
			"got $lines lines"
	fi
	nothing_mounted "$name"
	note "$name: exit $rc: $first"
}

run help "$HYDRAFS" --help
assert_eq 0 "$rc" "--help exit status"
grep -qi usage "$T/help.out" || fail "--help prints no usage on stdout"

run version "$HYDRAFS" --version
assert_eq 0 "$rc" "--version exit status"
grep -Eq '[0-9]+\.[0-9]+' "$T/version.out" ||
	fail "--version prints no version on stdout: $(cat "$T/version.out")"
note "version: $(head -n 1 "$T/version.out")"

run noargs "$HYDRAFS"
if [ "$rc" -eq 0 ]; then fail "no arguments: exited 0"; fi
run onearg "$HYDRAFS" "$BACKING" -f
if [ "$rc" -eq 0 ]; then fail "one argument: exited 0"; fi
nothing_mounted "missing arguments"

: >"$T/file"
mkdir "$T/full" "$BACKING/inner" "$T/outer" "$T/outer/b"
: >"$T/full/x"
expect_error backing-missing "$T/nope" "$MNT" -f
expect_error backing-is-file "$T/file" "$MNT" -f
expect_error mountpoint-missing "$BACKING" "$T/nomnt" -f
expect_error mountpoint-is-file "$BACKING" "$T/file" -f
expect_error mountpoint-not-empty "$BACKING" "$T/full" -f
expect_error mountpoint-in-backing "$BACKING" "$BACKING/inner" -f
expect_error mountpoint-is-backing "$BACKING" "$BACKING" -f
expect_error backing-in-mountpoint "$T/outer/b" "$T/outer" -f
expect_error unknown-option "$BACKING" "$MNT" -f -o bogus_option
assert_eq "" "$(ls -A "$MNT")" "mount point untouched"

if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	# A private mount namespace where /dev/fuse is /dev/null.  In a chroot
	# "/" is no mount point, so make /dev private instead; never bind
	# anything unless the namespace is private (it would reach the host).
	# shellcheck disable=SC2016 # expanded by the inner bash
	run nodevfuse unshare -m --propagation unchanged bash -c \
		'{ mount --make-rprivate / 2>/dev/null ||
		   mount --make-rprivate /dev; } || exit 200
		 mount --bind /dev/null /dev/fuse && exec "$0" "$1" "$2" -f' \
		"$HYDRAFS" "$BACKING" "$MNT"
	if [ "$rc" -eq 200 ]; then
		hard_error "cannot make a private mount namespace for the /dev/fuse case"
	fi
	if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		fail "unusable /dev/fuse: exit status $rc"
	fi
	grep -q /dev/fuse "$T/nodevfuse.err" ||
		fail "unusable /dev/fuse: not mentioned: $(cat "$T/nodevfuse.err")"
	nothing_mounted "unusable /dev/fuse"
	note "unusable /dev/fuse: exit $rc: $(head -n 1 "$T/nodevfuse.err")"
else
	note "not root: the unusable /dev/fuse case is not checked"
fi

# The same binary mounts and unmounts cleanly when the arguments are right.
mount_fs
echo ok >"$MNT/probe"
unmount_fs
assert_eq ok "$(cat "$BACKING/probe")" "file written through a good mount"
