#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Append mode (logs): a file only appended to is committed record by record.
#   a. one logger (one O_RDWR|O_APPEND fd, 3000 JSON lines each split over
#      2-3 write()s) and a tailing reader: every poll ends on a line end,
#      stat shows record boundaries only, the reader sees every line once,
#      in order; the writer reads its own bytes, and lseek(SEEK_END) and
#      fstat() on its fd give its size.  Beware: Linux sends fstat() to
#      the daemon as a GETATTR without the file handle, like stat(), so
#      the daemon cannot tell the writer's fstat() from a reader's stat();
#      lseek(SEEK_END) and reads do carry the handle
#   b. a complete line shows to a reader within 2 s (prints p50/p99), for
#      an O_APPEND writer and for a non-empty .txt first written at its
#      end; a new file written from 0 shows nothing before close
#   c. four processes append 500 records each, each record in 2 write()s:
#      all 2000 whole, none lost or interleaved, each writer's in order
#   d. invalid records of a .jsonl and a .csv are quarantined one by one in
#      .backups/.rejected/<path>/ (the journal says reject), the valid ones
#      around them are appended in order; write() and close() succeed;
#      json is never in append mode (an appended second value: EIO)
#   e. a final record without a newline at close: kept for .log and for a
#      valid .jsonl value, quarantined for an invalid .jsonl one
#   f. checkpoints: .backups/<log>/ lists prefixes of the log (the xattr
#      user.hydrafs.checkpoint says their length), from each session's
#      start and close; .backups stays read-only (EROFS)
#   g. a write not at the end, or a truncate, ends append mode: the whole
#      old file is kept as an ordinary version
#   h. logrotate's rename-and-reopen and copytruncate lose nothing
#   i. -o commit_interval=20 is accepted, -o commit_interval=abc refused
# Sub-tests a-h share one mount and are all run; the test fails at the end
# naming those that failed.
#   APPEND_TESTS="a c"  run only these sub-tests (i included when named)
#   APPEND_SEED=N       repeat a run's random choices (the test prints it)
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

need_cmd "$PYTHON" getfattr truncate
if [ -n "${HYDRAFS_STANDIN:-}" ]; then
	skip "append mode needs hydrafs itself"
fi

AW=$TESTDIR/appendwriter.py
# The interpreter itself, not a wrapper (pyenv's shim costs 0.5 s a start).
PY=$("$PYTHON" -c 'import sys; print(sys.executable or "")')
PY=${PY:-$PYTHON}
JOURNAL=$BACKING/.hydrafs/journal.jsonl
SEED=${APPEND_SEED:-$((RANDOM * 32768 + RANDOM))}
WANT=${APPEND_TESTS:-a b c d e f g h i}
FAILED=()

# aw CMD ARG...: runs appendwriter.py; its problems are on stderr.
aw()
{
	"$PY" "$AW" "$@"
}

# sess PATH FLAGS OP...: one session of appendwriter.py; every call must
# return 0.
sess()
{
	local out
	out=$(aw session "$@") || fail "session on ${1#"$MNT"/} ($2): $out"
}

# expect PATH DATA: the file holds exactly DATA (Python escapes).
expect()
{
	aw expect "$1" "$2" || fail "${1#"$MNT"/}: wrong content"
}

# rejects PATH: the journal's reject records for PATH.
rejects()
{
	aw journal "$JOURNAL" reject "$1" || fail "the journal is not JSON lines"
}

# ckpt PATH: user.hydrafs.checkpoint of PATH through getfattr, or "".
ckpt()
{
	getfattr --absolute-names --only-values -n user.hydrafs.checkpoint \
		"$1" 2>/dev/null || true
}

wanted()
{
	case " $WANT " in
	*" $1 "*) return 0 ;;
	esac
	return 1
}

# run_sub X: runs sub-test X in a subshell (its fail() ends the subshell
# only), notes its result and goes on.
run_sub()
{
	local x=$1 rc start=$SECONDS
	wanted "$x" || return 0
	note "--- $x: $(sub_title "$x")"
	set +e
	(
		set -e
		"sub_$x"
	)
	rc=$?
	set -e
	if [ "$rc" -eq 0 ]; then
		note "ok $x ($((SECONDS - start)) s)"
	else
		echo "FAIL: $(basename "$0"): sub-test $x: $(sub_title "$x")" >&2
		FAILED+=("$x")
	fi
}

sub_title()
{
	case $1 in
	a) echo "one logger, one tailing reader" ;;
	b) echo "visibility within the commit interval" ;;
	c) echo "four appending processes" ;;
	d) echo "invalid records are quarantined" ;;
	e) echo "a final record without newline at close" ;;
	f) echo "checkpoints" ;;
	g) echo "leaving append mode keeps the old file" ;;
	h) echo "log rotation" ;;
	i) echo "-o commit_interval" ;;
	esac
}

sub_a()
{
	aw tail "$MNT/app.jsonl" "$SEED" 3000 "$BACKING/app.jsonl" ||
		fail "a: see the problems above"
}

sub_b()
{
	aw latency "$MNT/vis.log" "$SEED" 30 2 ||
		fail "b: a complete line was not visible within 2 s"
	# A non-empty file of any format (not json) whose first write lands
	# at its end is in append mode too.
	printf 'first\n' >"$MNT/notes.txt"
	aw latency "$MNT/notes.txt" "$SEED" 10 2 atend ||
		fail "b: notes.txt, written at its end without O_APPEND:" \
			"a complete line was not visible within 2 s"
	# A new file written from 0 without O_APPEND: an ordinary commit,
	# nothing shows before close.
	"$PY" - "$MNT/plain.txt" <<'PY' || fail "b: plain.txt"
import os, sys, time
p = sys.argv[1]
fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.write(fd, b"x\n")
time.sleep(0.4)
early = open(p, "rb").read()
os.close(fd)
late = open(p, "rb").read()
if early != b"" or late != b"x\n":
    raise SystemExit("plain.txt: %r before close, %r after; want b'' and "
                     "b'x\\n' (an ordinary commit at close)" % (early, late))
PY
}

sub_c()
{
	aw multi "$MNT/multi.log" "$SEED" 4 500 || fail "c: see the problems above"
}

sub_d()
{
	local n out
	mkdir -p "$MNT/d"
	# Records cut across write()s, invalid ones among them.
	sess "$MNT/d/app.jsonl" wronly+append+creat \
		'a:{"id":1}\n' 'a:not json\n{"i' 'a:d":2}\n' \
		'a:{"id":3,}' 'a:\n{"id":4}\n'
	expect "$MNT/d/app.jsonl" '{"id":1}\n{"id":2}\n{"id":4}\n'
	expect "$BACKING/d/app.jsonl" '{"id":1}\n{"id":2}\n{"id":4}\n'
	aw rejected "$MNT/.backups/.rejected/d/app.jsonl" \
		'not json\n' '{"id":3,}\n' ||
		fail "d: app.jsonl: the invalid lines are not quarantined one by one"
	n=$(rejects d/app.jsonl)
	assert_eq 2 "$n" "d: the journal's reject records for d/app.jsonl"

	# CSV: a header, a short row, a quoted newline cut between write()s.
	sess "$MNT/d/t.csv" wronly+append+creat \
		'a:a,b,c\n1,2,3\n' 'a:4,5\n6,"x' 'a:\ny",8\n'
	expect "$MNT/d/t.csv" 'a,b,c\n1,2,3\n6,"x\ny",8\n'
	aw rejected "$MNT/.backups/.rejected/d/t.csv" '4,5\n' ||
		fail "d: t.csv: the short row is not quarantined"
	n=$(rejects d/t.csv)
	assert_eq 1 "$n" "d: the journal's reject records for d/t.csv"

	# A second session appends after what the first committed.
	sess "$MNT/d/app.jsonl" wronly+append 'a:[5]\n' 'a:[6,]\n'
	expect "$MNT/d/app.jsonl" '{"id":1}\n{"id":2}\n{"id":4}\n[5]\n'
	aw rejected "$MNT/.backups/.rejected/d/app.jsonl" \
		'not json\n' '{"id":3,}\n' '[6,]\n' ||
		fail "d: app.jsonl: the third invalid line is not quarantined"

	# json never uses append mode: appending a second value is refused
	# at close, as a whole, and the file keeps its content.
	printf '{"a":1}\n' >"$MNT/d/j.json"
	out=$(aw session "$MNT/d/j.json" wronly+append 'a:{"b":2}\n') &&
		fail "d: j.json: appending a second JSON value was accepted"
	assert_eq "a=0 close=EIO" "$out" "d: j.json: an append to a json file"
	expect "$MNT/d/j.json" '{"a":1}\n'
}

sub_e()
{
	mkdir -p "$MNT/e"
	sess "$MNT/e/x.log" wronly+append+creat 'a:one\n' 'a:two, no newline'
	expect "$MNT/e/x.log" 'one\ntwo, no newline'
	sess "$MNT/e/x.jsonl" wronly+append+creat 'a:{"a":1}\n' 'a:{"b":' 'a:2}'
	expect "$MNT/e/x.jsonl" '{"a":1}\n{"b":2}'
	sess "$MNT/e/y.jsonl" wronly+append+creat 'a:{"a":1}\n' 'a:{"b":'
	expect "$MNT/e/y.jsonl" '{"a":1}\n'
	aw rejected "$MNT/.backups/.rejected/e/y.jsonl" '{"b":' ||
		fail "e: y.jsonl: the invalid final record is not quarantined"
	assert_eq 1 "$(rejects e/y.jsonl)" "e: the journal's reject records for e/y.jsonl"
	sess "$MNT/e/z.csv" wronly+append+creat 'a:a,b\n1,2\n' 'a:3,4'
	expect "$MNT/e/z.csv" 'a,b\n1,2\n3,4'
}

sub_f()
{
	local l0 l1 l2 d=$MNT/.backups/f/f.log e cp found
	mkdir -p "$MNT/f"
	# Sizes from the content, not stat (the kernel may cache attributes).
	printf 'alpha\nbeta\n' >"$MNT/f/f.log"
	l0=11
	sess "$MNT/f/f.log" wronly+append 'a:gamma\n' 'a:del' 'a:ta\n'
	l1=$((l0 + 12))
	sess "$MNT/f/f.log" wronly+append 'a:epsilon\n'
	l2=$((l1 + 8))
	expect "$MNT/f/f.log" 'alpha\nbeta\ngamma\ndelta\nepsilon\n'
	note "f: f.log was $l0, $l1, then $l2 bytes"
	aw checkpoints "$d" "$MNT/f/f.log" "$l0" "$l1" "$l2" ||
		fail "f: the checkpoints of f.log"
	# getfattr says the same as the helper's getxattr.
	found=
	for e in "$d"/*; do
		cp=$(ckpt "$e")
		if [ "$cp" = "$l0" ] && [ "$(stat -c %s "$e")" = "$l0" ]; then
			found=${e##*/}
		fi
	done
	[ -n "$found" ] ||
		fail "f: getfattr shows no user.hydrafs.checkpoint of $l0 in $d"
	aw erofs "$d/$found" "$d/new.log" "$MNT/.backups/f/new.log" ||
		fail "f: .backups is writable"
	# hydractl versions lists them as checkpoints of their prefix, verified.
	local v n
	v=$("$HYDRACTL" versions "$MNT/f/f.log") ||
		fail "f: hydractl versions failed: $v"
	n=$(grep -c "checkpoint, ok" <<<"$v" || true)
	[ "$n" -ge 3 ] || fail "f: hydractl versions shows $n verified checkpoints: $v"
	grep -q "  *$l0  .*checkpoint, ok" <<<"$v" ||
		fail "f: no checkpoint of $l0 bytes in: $v"
	grep -q damaged <<<"$v" && fail "f: a checkpoint is damaged: $v"
	true
}

sub_g()
{
	mkdir -p "$MNT/g"
	# Written at its end, then at 0: an ordinary commit at close.
	printf 'l1\nl2\nl3\n' >"$MNT/g/g.log"
	sess "$MNT/g/g.log" rdwr 'e:l4\n' 'p:0:XX'
	expect "$MNT/g/g.log" 'XX\nl2\nl3\nl4\n'
	# Contract 6 says "the whole old file": before the session, or with
	# the appended line when it was committed before the pwrite.
	aw version "$MNT/.backups/g/g.log" 'l1\nl2\nl3\n' 'l1\nl2\nl3\nl4\n' ||
		fail "g: g.log: the old file is not kept as an ordinary version"
	# A log appended to, then truncated.
	printf 'a\nb\n' >"$MNT/g/t.log"
	sess "$MNT/g/t.log" wronly+append 'a:c\n'
	truncate -s 0 "$MNT/g/t.log"
	assert_eq 0 "$(stat -c %s "$MNT/g/t.log")" "g: t.log size after truncate -s 0"
	aw version "$MNT/.backups/g/t.log" 'a\nb\nc\n' ||
		fail "g: t.log: the truncated file is not kept as an ordinary version"
	# An O_TRUNC open of a log (a shell's >).
	printf 'x\ny\n' >"$MNT/g/t.log"
	printf 'z\n' >"$MNT/g/t.log"
	expect "$MNT/g/t.log" 'z\n'
	aw version "$MNT/.backups/g/t.log" 'x\ny\n' ||
		fail "g: t.log: the file an O_TRUNC open replaced is not kept"
}

sub_h()
{
	mkdir -p "$MNT/h"
	aw rotate-rename "$MNT/h" "$SEED" || fail "h: rename-and-reopen"
	aw rotate-copytruncate "$MNT/h" "$MNT/.backups/h/ct.log" "$SEED" ||
		fail "h: copytruncate"
}

sub_i_bad()
{
	local rc=0 msg
	timeout -k 5 10 "$HYDRAFS" "$BACKING" "$MNT" -f -o commit_interval=abc \
		</dev/null >"$T/bad.out" 2>"$T/bad.err" || rc=$?
	if [ -n "$(mounts_under "$T")" ]; then
		fail "i: mounted with -o commit_interval=abc"
	fi
	msg=$(head -n 1 "$T/bad.err")
	note "i: commit_interval=abc: exit $rc: $msg"
	if [ "$rc" -eq 0 ] || [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		fail "i: -o commit_interval=abc: exit status $rc"
	fi
	case $msg in
	*"unknown option"*)
		fail "i: -o commit_interval is not a known option: $msg" ;;
	"hydrafs: "*commit_interval*) ;;
	*)
		fail "i: -o commit_interval=abc: no clear message: $(cat "$T/bad.err")" ;;
	esac
}

note "seed $SEED (APPEND_SEED=$SEED repeats its random choices)"
[ -x "${HYDRAFS:-}" ] || hard_error "HYDRAFS is not set or not executable"
mount_fs
for x in a b c d e f g h; do
	run_sub "$x"
done
unmount_fs
assert_eq "" "$(ls -A "$BACKING/.hydrafs/staging" 2>/dev/null)" "staging empty after unmount"

if wanted i; then
	note "--- i: $(sub_title i)"
	ok=1
	if ! (sub_i_bad); then
		ok=0
	fi
	if try_mount commit_interval=20; then
		if ! aw latency "$MNT/fast.log" "$SEED" 20 2; then
			echo "FAIL: $(basename "$0"): i: with commit_interval=20" \
				"a line was not visible within 2 s" >&2
			ok=0
		fi
		unmount_fs
	else
		echo "FAIL: $(basename "$0"): i:" \
			"-o commit_interval=20 was refused" >&2
		ok=0
	fi
	if [ "$ok" = 1 ]; then
		note "ok i"
	else
		FAILED+=(i)
	fi
fi

if [ ${#FAILED[@]} -gt 0 ]; then
	fail "sub-tests failed: ${FAILED[*]} (seed $SEED)"
fi
