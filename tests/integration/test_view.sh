#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The recovered view: a file flagged damaged by the open-time check is
# served as its view.  Files are written through the mount (so they have
# records), then damaged in the backing dir, and read through the mount;
# the view each must have is computed here, independently of hydrafs, by
# viewcheck.py from the rules of core/salvage.h.
#  1. jsonl, csv, tsv damaged while unmounted (bytes flipped in a record,
#     cut short in the last record, garbage appended, a CSV quote opened
#     and never closed, or closed lines later): reads (in chunks, pread,
#     one read) give the salvage; stat and fstat give its size; the state
#     xattr says damaged; the journal has one "damage" line per file
#     however often and across mounts it is opened; reads change neither
#     the raw bytes nor their mtime.  A damaged CSV header, or a jsonl with
#     no valid record, is served as its newest good version, or as it is
#     without one.  Text is valid whatever its bytes, so a NUL or invalid
#     UTF-8 written behind the mount is adopted (served as it is), and bit
#     rot that keeps size and mtime is not read at open.
#  2. json: the view is the newest version that verifies (a damaged
#     version is skipped); without one the raw bytes are served, without
#     an error.  Opaque content is always valid: adopted, served as it is.
#  3. Damage made while mounted is served as a view from the next open.
#  4. Rules: recover = off serves the raw bytes (.hydrafs/rules and
#     -o rules=FILE, which replaces it); recover = last-good for a jsonl
#     serves its newest good version.
#  5. An O_APPEND write to a damaged jsonl (and csv), and a write in the
#     middle, start from the view: the file becomes the view plus the
#     write, valid, through the mount and in the backing dir; the damaged
#     bytes are kept as a version in .backups/<path>/, byte for byte; the
#     state xattr is gone; hydractl verify finds the file ok.
#  6. An O_TRUNC rewrite of a damaged file gives the new content; the
#     damaged bytes are kept as a version.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

if [ -n "${HYDRAFS_STANDIN:-}" ]; then
	skip "the recovered view is hydrafs's own"
fi
need_cmd "$PYTHON" getfattr stat cmp
[ -n "${HYDRACTL:-}" ] || hard_error "HYDRACTL is not set"
[ -x "$HYDRACTL" ] || hard_error "HYDRACTL='$HYDRACTL' is not executable"

VC=$TESTDIR/viewcheck.py
JOURNAL=$BACKING/.hydrafs/journal.jsonl
VERSIONS=$BACKING/.hydrafs/versions
export HYDRACTL
mkdir "$T/want" "$T/raw" "$T/v"

vc()
{
	"$PYTHON" "$VC" "$@"
}

# put NAME PRINTF-TEXT: writes NAME through the mount.
put()
{
	# shellcheck disable=SC2059 # the text is a printf format on purpose
	printf "$2" >"$MNT/$1" || fail "put $1"
}

# want NAME PRINTF-TEXT: what NAME must read as (when not its salvage).
want()
{
	# shellcheck disable=SC2059
	printf "$2" >"$T/want/$1"
}

# snap NAME...: keeps a copy of the raw (damaged) bytes and their mtime.
snap()
{
	local f
	for f in "$@"; do
		cp "$BACKING/$f" "$T/raw/$f"
		stat -c %.9Y "$BACKING/$f" | tr -d . >"$T/raw/$f.mtime"
	done
}

# check KIND:NAME...: what the mount serves (see viewcheck.py check).
check()
{
	vc check "$T" "$MNT" "$BACKING" "$@" >/dev/null ||
		fail "check ${*:1:2}${3:+ ...}: not what the mount must serve (above)"
}

# count EVENT NAME: journal lines of EVENT for NAME.
count()
{
	grep -c "\"event\":\"$1\",\"path\":\"$2\"" "$JOURNAL" || true
}

# once EVENT NAME...: exactly one EVENT line in the journal for each.
once()
{
	local ev=$1 f
	shift
	for f in "$@"; do
		assert_eq 1 "$(count "$ev" "$f")" "$f: $ev lines in the journal"
	done
}

# kept_version NAME: one version of NAME in .backups is its raw bytes.
kept_version()
{
	local v
	for v in "$MNT/.backups/$1"/*; do
		if cmp -s "$v" "$T/raw/$1"; then
			return 0
		fi
	done
	ls -l "$MNT/.backups/$1" >&2
	fail "$1: the damaged bytes are not kept as a version in .backups/$1"
}

# --- Files written through the mount. ---
mount_fs
put j-flip.jsonl '{"n": 1}\n{"n": 2}\n{"n": 3}\n'
put j-cut.jsonl '{"n": 1}\n{"n": 2}\n{"n": 3, "s": "three"}\n'
put j-junk.jsonl '{"n": 1}\n\n{"n": 2}\r\n'
put j-many.jsonl '{"a": [1, 2]}\n"\\u00e9t\xc3\xa9"\n{"b": {"c": null}}\n[true, false]\n  \n{"d": 4}\n{"e": 5}'
put c-flip.csv 'id,name\n1,alice\n2,bob\n3,carol\n'
put c-cut.csv 'id,name\n1,alice\n2,bob\n3,"carol"\n'
put c-junk.csv 'id,name\n1,alice\n'
put c-quote.csv 'id,name\n1,alice\n2,bob\n3,carol\n4,dave\n'
put c-later.csv 'id,name\r\n1,alice\r\n2,bob\r\n3,carol\r\n4,dave\r\n5,eve\r\n'
put c-crlf.csv 'id,note\r\n1,"a, ""b""\r\nc"\r\n2,x\r\n3,y\r\n'
put t-flip.tsv 'a\tb\n1\t2\n3\t4\n'
put t-cut.tsv 'a\tb\n1\t2\n3\t4\n'
put t-junk.tsv 'a\tb\n1\t2\n'
put x-nul.txt 'one\ntwo\nthree\n'
put x-utf8.txt 'caf\xc3\xa9\nbar\n'
put x-rot.txt 'first line\nsecond line\n'
for v in 1 2 3; do
	put d.json "{\"v\": $v}\n"
	put d2.json "{\"v\": $v}\n"
done
put n.json '{"only": 1}\n'
put c-head.csv 'id,name\n1,alice\n'
put c-head.csv 'id,name\n1,alice\n2,bob\n'
put j-none.jsonl '{"a": 1}\n'
put j-none.jsonl '{"a": 2}\n{"a": 3}\n'
put j-nov.jsonl '{"a": 1}\n{"a": 2}\n'
head -c 3000 /dev/urandom >"$MNT/b.bin"
head -c 3000 /dev/urandom >"$MNT/b.bin"
put r-off.jsonl '{"n": 1}\n{"n": 2}\n'
put r-lg.jsonl '{"v": 1}\n'
put r-lg.jsonl '{"v": 2}\n{"w": 2}\n'
put r-lg.jsonl '{"v": 3}\n{"w": 3}\n'
put w-app.jsonl '{"n": 1}\n{"n": 2}\n{"n": 3}\n'
put w-app.csv 'id,name\n1,alice\n2,bob\n'
put w-mid.jsonl '{"n": 1}\n{"n": 2}\n{"n": 3}\n'
put w-trunc.csv 'id,name\n1,alice\n2,bob\n'
put m.jsonl '{"n": 1}\n{"n": 2}\n'
put m.csv 'k,v\na,1\nb,2\n'
unmount_fs
# A json file never committed through a mount, invalid: no version at all.
printf '{"raw": [1, 2,]}\n' >"$BACKING/nv.json"

# --- Damaged, unmounted (paths from $T, the test's work dir). ---
# shellcheck disable=SC2012 # version names are hydrafs's; the newest last
d2v=$(ls "$VERSIONS/d2.json" | tail -n 1)
{
	cat <<'SPEC'
backing/j-flip.jsonl flip 13
backing/j-cut.jsonl cut 30
backing/j-junk.jsonl append 'b"\x01\xfe garbage {\n[1, 2\n{\"ok\": true}\n{\"x\": \"\xff\"}\n"'
backing/j-many.jsonl replace 'b"[true, false]"' 'b"[true, fals\x00]"'
backing/j-many.jsonl replace 'b"{\"e\": 5}"' 'b"{\"e\": 5}}"'
backing/c-flip.csv flip 17
backing/c-cut.csv cut 28
backing/c-junk.csv append 'b"\x00\xff\xfegarbage\n,,,\n3,carl\n"'
backing/c-quote.csv replace 'b"2,bob"' 'b"2,\"bob"'
backing/c-later.csv replace 'b"2,bob"' 'b"2,\"bob"'
backing/c-later.csv replace 'b"4,dave"' 'b"4,da\"ve"'
backing/c-crlf.csv replace 'b"2,x\r\n"' 'b"2,x\r"'
backing/t-flip.tsv flip 5
backing/t-cut.tsv cut 9
backing/t-junk.tsv append 'b"x\ty\tz\n\n5\t6\n"'
backing/x-nul.txt set 5 0
backing/x-utf8.txt set 4 0x41
backing/x-rot.txt rot set 13 0
backing/d.json cut 5
backing/d2.json replace 'b"3}"' 'b"3,}"'
backing/n.json flip 2
backing/c-head.csv replace 'b"id,name"' 'b"id,\"name"'
backing/j-none.jsonl replace 'b"2}"' 'b"2"'
backing/j-none.jsonl replace 'b"3}"' 'b"3"'
backing/j-nov.jsonl replace 'b"1}"' 'b"1"'
backing/j-nov.jsonl replace 'b"2}"' 'b"2"'
backing/b.bin flip 1500
backing/r-off.jsonl flip 13
backing/r-lg.jsonl replace 'b"{\"w\": 3}"' 'b"{\"w\": 3"'
backing/w-app.jsonl flip 13
backing/w-app.csv flip 17
backing/w-mid.jsonl flip 13
backing/w-trunc.csv cut 17
SPEC
	# Its newest version (v2) damaged too: v1 is the view.
	echo "backing/.hydrafs/versions/d2.json/$d2v replace 'b\"2}\"' 'b\"2]\"'"
} >"$T/damage.spec"
vc damage <"$T/damage.spec" || fail "damage"
printf '[r-off.jsonl]\nrecover = off\n[r-lg.jsonl]\nrecover = last-good\n' \
	>"$BACKING/.hydrafs/rules"

SALVAGED=(j-flip.jsonl j-cut.jsonl j-junk.jsonl j-many.jsonl c-flip.csv
	c-cut.csv c-junk.csv c-quote.csv c-later.csv c-crlf.csv t-flip.tsv
	t-cut.tsv t-junk.tsv)
WRITTEN=(w-app.jsonl w-app.csv w-mid.jsonl w-trunc.csv)
snap "${SALVAGED[@]}" "${WRITTEN[@]}" x-nul.txt x-utf8.txt x-rot.txt d.json \
	d2.json n.json nv.json b.bin r-off.jsonl r-lg.jsonl c-head.csv j-none.jsonl \
	j-nov.jsonl
vc salvage "$T" "${SALVAGED[@]}" w-app.jsonl || hard_error "salvage"
# The views that are versions; and a few salvages written out, to check
# the model against the rules' words.
want d.json '{"v": 2}\n'
want d2.json '{"v": 1}\n'
want r-lg.jsonl '{"v": 2}\n{"w": 2}\n'
# A damaged header, or nothing valid: the newest good version.
want c-head.csv 'id,name\n1,alice\n'
want j-none.jsonl '{"a": 1}\n'
printf 'id,name\n1,alice\n3,carol\n4,dave\n' >"$T/v/c-quote.csv"
printf 'id,name\r\n1,alice\r\n3,carol\r\n5,eve\r\n' >"$T/v/c-later.csv"
printf 'id,note\r\n1,"a, ""b""\r\nc"\r\n' >"$T/v/c-crlf.csv"
printf '{"n": 1}\n\n{"n": 2}\r\n{"ok": true}\n' >"$T/v/j-junk.jsonl"
printf '{"a": [1, 2]}\n"\\u00e9t\xc3\xa9"\n{"b": {"c": null}}\n  \n{"d": 4}\n' >"$T/v/j-many.jsonl"
for f in c-quote.csv c-later.csv c-crlf.csv j-junk.jsonl j-many.jsonl; do
	cmp -s "$T/v/$f" "$T/want/$f" || hard_error "the salvage model is wrong for $f"
done

# --- 1, 2, 4. Remounted: damaged files served as their views. ---
mount_fs
specs=()
for f in "${SALVAGED[@]}" d.json d2.json r-lg.jsonl c-head.csv j-none.jsonl; do
	specs+=("view:$f")
done
# Each twice: the second open finds the file flagged already.
check "${specs[@]}" "${specs[@]}"
once damage "${SALVAGED[@]}" d.json d2.json r-lg.jsonl c-head.csv j-none.jsonl
# A fresh lookup, past the attribute cache, shows the view's size, and so
# does a listing.
sleep 1.1
for f in "${SALVAGED[@]}"; do
	assert_eq "$(stat -c %s "$T/want/$f")" "$(stat -c %s "$MNT/./$f")" \
		"$f: size after the attribute cache expired"
done
ls -l "$MNT" >"$T/ls"
assert_eq "$(stat -c %s "$T/want/c-quote.csv")" \
	"$(awk '$NF == "c-quote.csv" { print $5 }' "$T/ls")" "c-quote.csv: size in ls -l"
# The views are cached in the state dir.
assert_eq 700 "$(stat -c %a "$BACKING/.hydrafs/recovered")" \
	"mode of .hydrafs/recovered"

# No version that verifies (json, or a jsonl with no valid record): served
# as it is; recover = off too.
check damraw:n.json damraw:nv.json damraw:j-nov.jsonl damraw:r-off.jsonl
once damage n.json nv.json j-nov.jsonl r-off.jsonl
# Text and opaque content is valid whatever its bytes: a NUL or invalid
# UTF-8 written behind the mount is adopted, served as it is; bit rot that
# keeps size and mtime is not read at open (hydractl verify finds it).
check adopted:x-nul.txt adopted:x-utf8.txt adopted:b.bin adopted:x-rot.txt
once adopt x-nul.txt x-utf8.txt b.bin
rc=0
"$HYDRACTL" verify --json "$MNT/x-rot.txt" >"$T/out" 2>&1 || rc=$?
assert_eq 1 "$rc" "hydractl verify of x-rot.txt: exit"
grep -q '"damaged":\[{"path":"[^"]*x-rot.txt","kind":"file","reason":"checksum differs' \
	"$T/out" || fail "hydractl verify x-rot.txt: $(cat "$T/out")"

# --- 3. Damaged while mounted: a view from the next open. ---
cat "$MNT/m.jsonl" "$MNT/m.csv" >/dev/null
stat "$MNT/m.jsonl" "$MNT/m.csv" >/dev/null
cat >"$T/damage.spec" <<'SPEC'
backing/m.jsonl replace 'b"{\"n\": 2}"' 'b"{\"n\": 2,}"'
backing/m.csv append 'b"c\n"'
SPEC
vc damage <"$T/damage.spec" || fail "damage while mounted"
snap m.jsonl m.csv
vc salvage "$T" m.jsonl m.csv || hard_error "salvage"
check view:m.jsonl # at once: every open reaches the daemon
sleep 1.1
check view:m.csv view:m.jsonl
once damage m.jsonl m.csv

# --- 5. Writes to a damaged file start from its view. ---
check view:w-app.jsonl
printf '{"n": 9}\n' >>"$MNT/w-app.jsonl" || fail "append to w-app.jsonl"
want w-app.jsonl '{"n": 1}\n{"n": 3}\n{"n": 9}\n'
# Not opened before: the view is made for the write.
printf '9,zoe\n' >>"$MNT/w-app.csv" || fail "append to w-app.csv"
want w-app.csv 'id,name\n1,alice\n9,zoe\n'
# A write in the middle (no O_APPEND, no O_TRUNC): over the view.
printf '{"n": 0}' | dd of="$MNT/w-mid.jsonl" conv=notrunc status=none ||
	fail "write into w-mid.jsonl"
want w-mid.jsonl '{"n": 0}\n{"n": 3}\n'
# --- 6. An O_TRUNC rewrite: the new content. ---
put w-trunc.csv 'id,name\n7,new\n'
want w-trunc.csv 'id,name\n7,new\n'
specs=()
for f in "${WRITTEN[@]}"; do
	specs+=("new:$f")
	kept_version "$f"
done
check "${specs[@]}"
once damage "${WRITTEN[@]}"
unmount_fs

# --- Remounted: still views, no new damage line. ---
mount_fs
specs=()
for f in "${SALVAGED[@]}" d.json d2.json r-lg.jsonl m.jsonl m.csv c-head.csv \
	j-none.jsonl; do
	specs+=("view:$f")
done
for f in "${WRITTEN[@]}"; do
	specs+=("new:$f")
done
check "${specs[@]}"
once damage "${SALVAGED[@]}" d.json d2.json r-lg.jsonl m.jsonl m.csv
unmount_fs

# --- 4. -o rules=FILE, in place of .hydrafs/rules: recover = off. ---
printf '[*.jsonl]\nrecover = off\n' >"$T/rules"
mount_fs "rules=$T/rules"
check damraw:j-flip.jsonl damraw:j-junk.jsonl damraw:r-lg.jsonl \
	damraw:m.jsonl view:c-quote.csv view:d.json
unmount_fs
once damage "${SALVAGED[@]}" r-lg.jsonl
note "recovered views: all checks passed"
