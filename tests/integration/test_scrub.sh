#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Bit rot found by a scrub reaches the open-time check.  Files are written
# through the mount, then damaged in the backing dir keeping size and mtime
# (the open check trusts a matching record, so reads still get the raw,
# damaged bytes).  hydractl verify through the mount finds them and has
# hydrafs verify them again from the backing file (user.hydrafs.scrub): it
# flags them (record state damaged, user.hydrafs.state, a journal line), and
# from then on reads get the recovered view (jsonl: its valid lines; json:
# its newest version that verifies).  A second verify still reports them
# damaged, from the raw file, not the view.  Asked of an undamaged file the
# scrub answers ok and changes nothing; a flagged file whose bytes come back
# is recorded anew and read as it is; a rewrite through the mount ends it
# (the damaged bytes stay as a version, reported damaged).
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

need_cmd "$PYTHON" getfattr cmp
if [ -n "${HYDRAFS_STANDIN:-}" ]; then
	skip "the scrub needs hydrafs itself"
fi
[ -n "${HYDRACTL:-}" ] || hard_error "HYDRACTL is not set"
[ -x "$HYDRACTL" ] || hard_error "HYDRACTL='$HYDRACTL' is not executable"

# jv EXPR: EXPR evaluated with d = the JSON document in $T/out.
jv()
{
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$T/out" "$1" || fail "jv $1: $(head -c 300 "$T/out")"
}

# rot FILE OFF BYTE: byte OFF of the backing FILE becomes BYTE (decimal),
# size and mtime kept: damage only a scrub can see.
rot()
{
	"$PYTHON" - "$BACKING/$1" "$2" "$3" <<'PY' || fail "rot $1"
import os, sys
p, off, b = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
st = os.stat(p)
with open(p, "r+b") as f:
    f.seek(off)
    f.write(bytes([b]))
os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
PY
}

# The kernel keeps attributes for 1 s: changes behind the mount show after.
settle() { sleep 1.2; }

mount_fs

printf '{"n":1}\n{"n":2}\n{"n":3}\n' >"$MNT/log.jsonl"
printf '{"v":"old"}\n' >"$MNT/conf.json"
printf '{"v":"new"}\n' >"$MNT/conf.json"
printf '{"fine":true}\n' >"$MNT/ok.json"
cp "$BACKING/log.jsonl" "$T/log.orig"

# Line 2's '{' becomes 'x'; "new" becomes "nex" (still valid JSON).
rot log.jsonl 8 120
rot conf.json 8 120
settle

# The open check trusts the records: the damaged bytes are read.
cmp -s "$MNT/log.jsonl" "$BACKING/log.jsonl" ||
	fail "before the scrub the raw file is read"
grep -q '"nex"' "$MNT/conf.json" || fail "before the scrub conf.json is raw"

# The scrub through the daemon, by hand: ok for a whole file.
ans=$(getfattr --only-values -n user.hydrafs.scrub "$MNT/ok.json") ||
	fail "getfattr user.hydrafs.scrub ok.json"
assert_eq ok "$ans" "scrub of an undamaged file"
getfattr -n user.hydrafs.record --only-values "$BACKING/ok.json" |
	grep -q 'state=ok' || fail "ok.json's record untouched"

ctl 1 verify --json "$MNT"
assert_eq "['$MNT/conf.json', '$MNT/log.jsonl']" \
	"$(jv 'sorted(x["path"] for x in d["damaged"])')" "verify: the damaged files"
assert_eq "[True, True]" "$(jv '[x["flagged"] for x in d["damaged"]]')" \
	"verify: both flagged"
jv '[x["reason"] for x in d["damaged"]]' | grep -q checksum ||
	fail "verify: the reason: $(cat "$T/out")"

# Flagged in the backing dir: the record and the state xattr.
getfattr -n user.hydrafs.record --only-values "$BACKING/log.jsonl" |
	grep -q 'state=damaged' || fail "log.jsonl's record says damaged"
getfattr -n user.hydrafs.state --only-values "$BACKING/log.jsonl" |
	grep -q '^damaged size=24 ' || fail "log.jsonl's state xattr"
grep -q '"event":"damage".*log.jsonl' "$BACKING/.hydrafs/journal.jsonl" ||
	fail "journal: no damage line for log.jsonl"

# From now on reads get the views; the raw bytes are untouched.
assert_eq '{"n":1}
{"n":3}' "$(cat "$MNT/log.jsonl")" "log.jsonl read as its valid lines"
assert_eq '{"v":"old"}' "$(cat "$MNT/conf.json")" "conf.json read as its last good version"
grep -q '^x"n":2}' "$BACKING/log.jsonl" || fail "the damaged bytes stay in the backing file"

# Verified again through the mount: still damaged, from the raw file.
ctl 1 verify "$MNT"
grep -q "^damaged file: $MNT/log.jsonl: checksum differs.*; flagged" "$T/out" ||
	fail "verify again: $(cat "$T/out")"
grep -q ": 2 damaged, " "$T/out" || fail "verify again: $(cat "$T/out")"

# log.jsonl's bytes come back (size and mtime kept): recorded anew, raw.
rot log.jsonl 8 123
settle
cmp -s "$BACKING/log.jsonl" "$T/log.orig" || fail "log.jsonl's bytes back"
ans=$(getfattr --only-values -n user.hydrafs.scrub "$MNT/log.jsonl") ||
	fail "getfattr user.hydrafs.scrub log.jsonl"
assert_eq ok "$ans" "scrub of a file whose bytes came back"
getfattr -n user.hydrafs.record --only-values "$BACKING/log.jsonl" |
	grep -q 'state=ok' || fail "log.jsonl recorded anew"
cmp -s "$MNT/log.jsonl" "$T/log.orig" || fail "log.jsonl read as it is again"

# A rewrite through the mount ends conf.json's damage; its damaged bytes
# are kept as a version, which verify reports as such.
printf '{"v":"fixed"}\n' >"$MNT/conf.json"
assert_eq '{"v":"fixed"}' "$(cat "$MNT/conf.json")" "conf.json rewritten"
ctl 1 verify --json "$MNT"
assert_eq "['version']" "$(jv '[x["kind"] for x in d["damaged"]]')" \
	"verify after the repairs: only the damaged bytes kept as a version"
jv 'd["damaged"][0]["path"]' | grep -q "^$MNT/.backups/conf.json/" ||
	fail "the damaged version: $(cat "$T/out")"

# A directory has nothing to scrub.
getfattr -n user.hydrafs.scrub "$MNT" >/dev/null 2>&1 &&
	fail "scrub of a directory answered"

unmount_fs
note "scrub: all checks passed"
