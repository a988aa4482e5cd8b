#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hydractl recover: files of every format are written through the mount,
# damaged in the backing dir while unmounted (bytes flipped in the middle,
# cut short, garbage appended, a CSV quote opened and never closed, bit rot
# that keeps size and mtime), then recovered through the mount: each ends
# up exactly as its salvage says (its valid records; for json and opaque
# its newest version that verifies), the damaged bytes are a version under
# .backups/<path>/ (named in the output), verify finds the file ok, and a
# second recover says it is not damaged.  A file that is not damaged, or
# without a view (nothing valid and no version, recover = off) is left
# alone; --to writes elsewhere; a backing path is refused while mounted and
# recovered with the same commit (a version, the journal) once unmounted;
# a recovery is undone with hydractl restore.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

need_cmd "$PYTHON" truncate touch cmp
if [ -n "${HYDRAFS_STANDIN:-}" ]; then
	skip "hydractl needs hydrafs itself"
fi
[ -n "${HYDRACTL:-}" ] || hard_error "HYDRACTL is not set"
[ -x "$HYDRACTL" ] || hard_error "HYDRACTL='$HYDRACTL' is not executable"

VERSIONS=$BACKING/.hydrafs/versions
mkdir "$T/want" "$T/damaged"

# jv EXPR: EXPR evaluated with d = the JSON document in $T/out.
jv()
{
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
print(eval(sys.argv[2]))' "$T/out" "$1" || fail "jv $1: $(head -c 300 "$T/out")"
}

# put NAME PRINTF-TEXT: writes the file through the mount and what it must
# look like after its recovery (the same, unless want says otherwise).
put()
{
	# shellcheck disable=SC2059 # the text is a printf format on purpose
	printf "$2" >"$MNT/$1"
}

# want NAME PRINTF-TEXT: the content NAME must have once recovered.
want()
{
	# shellcheck disable=SC2059
	printf "$2" >"$T/want/$1"
}

# damage FILE OP [ARG]: changes the backing file FILE behind the mount.
#   flip OFF     XOR 0x80 into the byte at OFF (size kept, mtime changes)
#   rot OFF [B]  the same, or byte B (decimal), then size and mtime put back
#   cut LEN      truncates to LEN bytes
#   append TEXT  appends the printf TEXT
#   replace A B  replaces the bytes A with B (python bytes literals)
# shellcheck disable=SC2059 # TEXT is a printf format on purpose
damage()
{
	local f=$BACKING/$1 op=$2
	case $op in
	flip | rot)
		cp -p "$f" "$T/stamp"
		"$PYTHON" - "$f" "$3" "${4:-}" <<'PY' || fail "damage $f"
import sys
p, off, b = sys.argv[1], int(sys.argv[2]), sys.argv[3]
with open(p, "r+b") as f:
    f.seek(off)
    c = f.read(1)[0]
    f.seek(off)
    f.write(bytes([int(b) if b else c ^ 0x80]))
PY
		if [ "$op" = rot ]; then
			touch -r "$T/stamp" "$f"
		fi
		;;
	cut) truncate -s "$3" "$f" ;;
	append) printf "$3" >>"$f" ;;
	replace)
		"$PYTHON" - "$f" "$3" "$4" <<'PY' || fail "damage $f"
import ast, sys
p, a, b = sys.argv[1], ast.literal_eval(sys.argv[2]), ast.literal_eval(sys.argv[3])
data = open(p, "rb").read()
assert a in data
open(p, "wb").write(data.replace(a, b, 1))
PY
		;;
	esac
}

# verify_file_ok PATH: verify finds the file itself ok (versions of it may
# be damaged: the damaged content kept as one is).
verify_file_ok()
{
	local rc=0
	"$HYDRACTL" verify --json "$1" >"$T/out" 2>"$T/err" || rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 1 ] || fail "verify $1: exit $rc: $(cat "$T/err")"
	assert_eq "1 [] [] []" \
		"$(jv 'd["files"], [x["path"] for x in d["damaged"] if x["kind"] == "file"], d["changed"], d["errors"]' |
			tr -d "(),")" "verify $1: the file is ok"
}

# recovered NAME: recovers NAME through the mount and checks the result.
recovered()
{
	local f=$1 kept said
	cp "$BACKING/$f" "$T/damaged/$f"
	ctl 0 recover --json "$MNT/$f"
	said=$(jv 'd["how"], d["kept"], d["dropped"], d["version"], d["why"]')
	assert_eq "True True" "$(jv 'd["damaged"], d["recovered"]' | tr -d "(),'")" \
		"recover $f: damaged and recovered"
	cmp "$MNT/$f" "$T/want/$f" || fail "recover $f: wrong content through the mount"
	cmp "$BACKING/$f" "$T/want/$f" || fail "recover $f: wrong content in the backing dir"
	assert_eq "$(stat -c %s "$T/want/$f")" "$(jv 'd["size"]')" "recover $f: size"
	kept=$(jv 'd["kept_as"]')
	[ "$kept" != None ] || fail "recover $f: the damaged content's version is not named"
	cmp "$MNT/.backups/$f/$kept" "$T/damaged/$f" ||
		fail "recover $f: .backups/$f/$kept is not the damaged content"
	verify_file_ok "$MNT/$f"
	ctl 0 recover "$MNT/$f"
	grep -q "is not damaged (ok): nothing to recover" "$T/out" ||
		fail "recover $f again: $(cat "$T/out")"
	note "recovered $f: $said"
}

# --- Files of every format, written through the mount. ---
mount_fs
put lines.jsonl '{"n": 1}\n{"n": 2}\n{"n": 3}\n'
want lines.jsonl '{"n": 1}\n{"n": 3}\n'
put cut.jsonl '{"n": 1}\n{"n": 2}\n{"n": 3}\n'
want cut.jsonl '{"n": 1}\n{"n": 2}\n'
put junk.jsonl '{"n": 1}\n'
want junk.jsonl '{"n": 1}\n'
put flip.csv 'id,name\n1,alice\n2,bob\n3,carol\n'
want flip.csv 'id,name\n1,alice\n3,carol\n'
put cut.csv 'id,name\n1,alice\n2,bob\n3,carol\n'
want cut.csv 'id,name\n1,alice\n2,bob\n'
put junk.csv 'id,name\n1,alice\n'
want junk.csv 'id,name\n1,alice\n'
put quote.csv 'id,name\n1,alice\n2,bob\n3,carol\n4,dave\n'
want quote.csv 'id,name\n1,alice\n3,carol\n4,dave\n'
put rot.csv 'id,name\n1,alice\n2,bob\n3,carol\n'
want rot.csv 'id,name\n1,alice\n2,bob\n'
put t.tsv 'a\tb\n1\t2\n3\t4\n'
want t.tsv 'a\tb\n1\t2\n'
put cut.tsv 'a\tb\n1\t2\n3\t4\n'
want cut.tsv 'a\tb\n1\t2\n'
put notes.txt 'first line\nsecond line\nthird line\n'
want notes.txt 'first line\nthird line\n'
put nul.txt 'one\ntwo\nthree\n'
want nul.txt 'one\nthree\n'
put d.json '{"v": 1}\n'
put d.json '{"v": 2}\n'
want d.json '{"v": 1}\n'
head -c 3000 /dev/urandom >"$T/blob1"
head -c 4000 /dev/urandom >"$T/blob2"
cp "$T/blob1" "$MNT/b.bin"
cp "$T/blob2" "$MNT/b.bin"
cp "$T/blob1" "$T/want/b.bin"
put none.jsonl '{"a": 1}\n'
put off.csv 'id,name\n1,alice\n'
put ok.csv 'id,name\n1,alice\n'
put to.csv 'id,name\n1,alice\n2,bob\n'
want to.csv 'id,name\n1,alice\n'
put changed.txt 'ok\n'
put offline.csv 'id,name\n1,alice\n2,bob\n3,carol\n'
want offline.csv 'id,name\n1,alice\n3,carol\n'
unmount_fs

# --- Damage behind the mount. ---
damage lines.jsonl flip 9
damage cut.jsonl cut 22
damage junk.jsonl append '\x01\xfe garbage {\n[1, 2\n'
damage flip.csv flip 17
damage cut.csv cut 23
damage junk.csv append '\x00\xff\xfegarbage\n,,,\n'
damage quote.csv replace "b'2,bob'" "b'2,\"bob'"
damage rot.csv rot 23
damage t.tsv flip 9
damage cut.tsv cut 9
damage notes.txt rot 11
damage nul.txt rot 5 0
damage d.json cut 5
damage b.bin rot 2000
damage none.jsonl replace "b'1}'" "b'}'"
damage off.csv flip 9
damage to.csv flip 17
damage changed.txt append 'more\n'
damage offline.csv flip 17
printf '[off.csv]\nrecover = off\n' >"$BACKING/.hydrafs/rules"

# --- Recovered through the mount. ---
mount_fs
for f in lines.jsonl cut.jsonl junk.jsonl flip.csv cut.csv junk.csv \
	quote.csv rot.csv t.tsv cut.tsv notes.txt nul.txt d.json b.bin; do
	recovered "$f"
done
ctl 0 recover --json "$MNT/quote.csv"
assert_eq "ok False" "$(jv 'd["state"], d["recovered"]' | tr -d "(),'")" "recover: not damaged"
# json and opaque: their newest version that verifies, the first content.
for f in d.json b.bin; do
	# shellcheck disable=SC2012 # version names are hydrafs's
	cmp "$VERSIONS/$f/$(ls "$VERSIONS/$f" | head -n 1)" "$T/want/$f" ||
		fail "$f: the view is not its oldest version"
done

# Human output.
damage lines.jsonl append '{oops\n'
want lines.jsonl '{"n": 1}\n{"n": 3}\n'
sleep 1.2 # the kernel's attribute cache
cp "$BACKING/lines.jsonl" "$T/damaged/lines.jsonl"
ctl 0 recover "$MNT/lines.jsonl"
grep -q "^recovered '$MNT/lines.jsonl': kept 2 records of jsonl, dropped 1 " "$T/out" ||
	fail "recover: human output: $(cat "$T/out")"
grep -q "^the damaged content is kept as version " "$T/out" ||
	fail "recover: human output: $(cat "$T/out")"
cmp "$MNT/lines.jsonl" "$T/want/lines.jsonl" || fail "recover lines.jsonl again"

# --- Undone with restore: the damaged bytes come back. ---
# shellcheck disable=SC2012
kept=$(ls "$VERSIONS/nul.txt" | tail -n 1)
cmp "$VERSIONS/nul.txt/$kept" "$T/damaged/nul.txt" || fail "nul.txt: the damaged version"
ctl 0 restore --version "$kept" "$MNT/nul.txt"
cmp "$MNT/nul.txt" "$T/damaged/nul.txt" || fail "restore of the damaged content"

# --- Left alone: not damaged, no view, recover = off. ---
before=$(find "$VERSIONS" | wc -l)
ctl 0 recover "$MNT/ok.csv"
grep -q "'$MNT/ok.csv' is not damaged (ok): nothing to recover" "$T/out" ||
	fail "recover ok.csv: $(cat "$T/out")"
ctl 0 recover --json "$MNT/changed.txt"
assert_eq "changed False False" "$(jv 'd["state"], d["damaged"], d["recovered"]' | tr -d "(),'")" \
	"recover of a file changed behind the mount, valid"
cp "$BACKING/none.jsonl" "$T/none"
ctl 1 recover --json "$MNT/none.jsonl"
assert_eq "True False" "$(jv 'd["damaged"], d["recovered"]' | tr -d "(),'")" "recover none.jsonl"
jv 'd["why"]' | grep -q "no record is valid, no version verifies" ||
	fail "recover none.jsonl: why: $(cat "$T/out")"
grep -q "no recovered view of '$MNT/none.jsonl'" "$T/err" || fail "recover none.jsonl: $(cat "$T/err")"
cmp "$BACKING/none.jsonl" "$T/none" || fail "recover none.jsonl changed it"
cp "$BACKING/off.csv" "$T/off"
ctl 1 recover "$MNT/off.csv"
grep -q "recover = off" "$T/err" || fail "recover off.csv: $(cat "$T/err")"
cmp "$BACKING/off.csv" "$T/off" || fail "recover off.csv changed it"
assert_eq "$before" "$(find "$VERSIONS" | wc -l)" "no version kept by recovers that did nothing"

# --- --to: the view elsewhere, the file left alone. ---
cp "$BACKING/to.csv" "$T/to"
ctl 0 recover --to "$T/view.csv" "$MNT/to.csv"
cmp "$T/view.csv" "$T/want/to.csv" || fail "recover --to: wrong view"
cmp "$BACKING/to.csv" "$T/to" || fail "recover --to changed the file"
grep -q "^wrote the recovered view of '$MNT/to.csv' to '$T/view.csv'" "$T/out" ||
	fail "recover --to: $(cat "$T/out")"

# --- A backing path: refused while mounted, recovered once unmounted. ---
ctl 3 recover "$BACKING/offline.csv"
grep -q "mounted at '$MNT'" "$T/err" || fail "recover of a mounted backing path: $(cat "$T/err")"
unmount_fs
cp "$BACKING/offline.csv" "$T/damaged/offline.csv"
ctl 0 recover --json "$BACKING/offline.csv"
cmp "$BACKING/offline.csv" "$T/want/offline.csv" || fail "recover offline: wrong content"
kept=$(jv 'd["kept_as"]')
cmp "$VERSIONS/offline.csv/$kept" "$T/damaged/offline.csv" || fail "recover offline: the damaged version"
tail -n 1 "$BACKING/.hydrafs/journal.jsonl" | grep -q '"event":"commit","path":"offline.csv".*"comm":"hydractl"' ||
	fail "recover offline: journal: $(tail -n 1 "$BACKING/.hydrafs/journal.jsonl")"
verify_file_ok "$BACKING/offline.csv"
ctl 0 recover "$BACKING/offline.csv"
grep -q "is not damaged" "$T/out" || fail "recover offline again: $(cat "$T/out")"
# The files recovered through the mount verify unmounted too.
verify_file_ok "$BACKING/quote.csv"

# --- Usage ---
ctl 2 recover
ctl 2 recover a b
ctl 2 recover --bogus "$BACKING/ok.csv"
ctl 0 recover --help
grep -q "^Usage: hydractl recover" "$T/out" || fail "recover --help"
ctl 3 recover "$T/nowhere.csv"
note "hydractl recover: all checks passed"
