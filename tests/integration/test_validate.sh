#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Format validation and checksums at commit: a valid rewrite commits with a
# record (user.hydrafs.record) whose sum is the content's XXH3-128 (as
# xxh128sum prints it) and a journal commit line with the same sum; invalid
# json, jsonl, csv and tsv is refused: close() and fsync() return EIO, the
# file keeps its old content, the refused content is kept byte for byte
# under .backups/.rejected/<path>/, the file is flagged
# (user.hydrafs.rejected) and the journal says where and why.  Empty files,
# text and opaque files are always accepted; rules files (BACKING/.hydrafs/
# rules, -o rules=FILE) change formats and policies, and a bad one stops the
# mount (exit 2).  Out-of-order writes give the same verdict as in-order
# ones; user.hydrafs.* cannot be set or removed through the mount.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

need_cmd "$PYTHON" xxh128sum getfattr setfattr
if [ -n "${HYDRAFS_STANDIN:-}" ]; then
	skip "validation needs hydrafs itself"
fi

JOURNAL=$BACKING/.hydrafs/journal.jsonl
VNAME='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}-[0-9]{2}-[0-9]{2}\.[0-9]{3}Z'

# The writer: opens PATH with O_WRONLY|O_CREAT|O_TRUNC, writes the bytes of
# SRC as MODE says and prints the errno of each step that reports one
# ("close=0", "close=EIO", "fsync=EIO close=0").
#   seq      write() in one go (looping on short writes)
#   4k       write() in 4 KiB pieces
#   reverse  pwrite() in 7-byte chunks from the end to the start
#   fsync    write(), then fsync(), then close()
cat >"$T/writer.py" <<'PY'
import errno, os, sys

mode, path, src = sys.argv[1:4]
data = open(src, "rb").read()
out = []

def step(name, fn, *args):
    try:
        fn(*args)
        out.append(name + "=0")
        return True
    except OSError as e:
        out.append(name + "=" + errno.errorcode.get(e.errno, str(e.errno)))
        return False

def write_all(fd, buf):
    while buf:
        n = os.write(fd, buf)
        buf = buf[n:]

def write_4k(fd, buf):
    for off in range(0, len(buf), 4096):
        write_all(fd, buf[off:off + 4096])

def write_reverse(fd, buf):
    off = (len(buf) - 1) // 7 * 7
    while off >= 0:
        chunk = buf[off:off + 7]
        if os.pwrite(fd, chunk, off) != len(chunk):
            raise SystemExit("short pwrite")
        off -= 7

fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
if mode == "seq" or mode == "fsync":
    write_all(fd, data)
elif mode == "4k":
    write_4k(fd, data)
elif mode == "reverse":
    write_reverse(fd, data)
else:
    raise SystemExit("writer: unknown mode " + mode)
if mode == "fsync":
    step("fsync", os.fsync, fd)
step("close", os.close, fd)
print(" ".join(out))
PY

# The journal: the last record of EVENT for PATH, its keys KEY... printed
# tab-separated ("-" for a missing key); every line must be JSON.
cat >"$T/journal.py" <<'PY'
import json, sys

jpath, event, path = sys.argv[1:4]
keys = sys.argv[4:]
found = None
for n, line in enumerate(open(jpath, encoding="utf-8"), 1):
    try:
        rec = json.loads(line)
    except ValueError as e:
        raise SystemExit("journal line %d is not JSON: %s: %r" % (n, e, line))
    if rec.get("event") == event and rec.get("path") == path:
        found = rec
if found is None:
    raise SystemExit("no %s record for %s in the journal" % (event, path))
print("\t".join(str(found.get(k, "-")) for k in keys))
PY

# write_file MODE PATH SRC: runs the writer; prints what it printed.
write_file()
{
	"$PYTHON" "$T/writer.py" "$@" || fail "writer $1 $2 crashed"
}

xattr()
{
	getfattr --absolute-names --only-values -n "$1" "$2" 2>/dev/null || true
}

sum_of()
{
	local s
	# Its stderr has a progress display.
	s=$(xxh128sum "$1" 2>"$T/xxh.err") || fail "xxh128sum $1: $(cat "$T/xxh.err")"
	echo "${s%% *}"
}

# tabs WORD...: the words joined by tabs.
tabs()
{
	local IFS=$'\t'
	echo "$*"
}

# jrec EVENT PATH KEY...: see journal.py.
jrec()
{
	"$PYTHON" "$T/journal.py" "$JOURNAL" "$@" || fail "journal: $*"
}

# Version names are made by hydrafs: no odd characters to guard against.
# shellcheck disable=SC2012
count() { ls -A "$1" 2>/dev/null | wc -l; }
# shellcheck disable=SC2012
newest() { ls "$1" | tail -n 1; }

# check_record FILE FORMAT STATE: the record of FILE (through the mount)
# describes its content in the backing dir: format, state, size, mtime,
# inode and the XXH3-128 that xxh128sum prints.
check_record()
{
	local f=$1 format=$2 state=$3 rec want
	rec=$(xattr user.hydrafs.record "$MNT/$f")
	[ -n "$rec" ] || fail "$f: no user.hydrafs.record"
	want=$("$PYTHON" -c '
import os, sys
st = os.stat(sys.argv[1])
print("size=%d mtime=%d.%09d ino=%d" % (st.st_size, st.st_mtime_ns // 10**9,
      st.st_mtime_ns % 10**9, st.st_ino))' "$BACKING/$f")
	assert_eq "v1 format=$format state=$state $want sum=$(sum_of "$BACKING/$f")" \
		"$rec" "$f: record"
	assert_eq "$rec" "$(xattr user.hydrafs.record "$BACKING/$f")" \
		"$f: record through the mount and in the backing dir"
}

# check_commit FILE: the journal's last commit of FILE has its checksum.
check_commit()
{
	assert_eq "$(sum_of "$BACKING/$1")" "$(jrec commit "$1" xxh128)" \
		"$1: the journal commit's xxh128"
}

# check_rejected FILE SRC OLD FORMAT LINE OFFSET REASON N: SRC was refused
# for FILE, which still holds the content of file OLD; the N-th refused
# content of FILE is kept, byte for byte, with the file's owner and mode; the
# flag and the journal say where and why.
check_rejected()
{
	local f=$1 src=$2 old=$3 format=$4 line=$5 offset=$6 reason=$7 n=$8
	local rdir=$MNT/.backups/.rejected/$f v flag
	cmp -s "$old" "$MNT/$f" || fail "$f: not its old content through the mount: $(head -c 200 "$MNT/$f")"
	cmp -s "$old" "$BACKING/$f" || fail "$f: not its old content in the backing dir"
	assert_eq "$(stat -c %s "$old")" "$(stat -c %s "$MNT/$f")" "$f: size after the refusal"
	assert_eq "$n" "$(count "$rdir")" "$f: refused contents kept"
	v=$(newest "$rdir")
	echo "$v" | grep -Eq "^$VNAME\\.${f##*.}\$" || fail "$f: rejected version name '$v'"
	cmp -s "$src" "$rdir/$v" || fail "$f: the rejected copy differs from what was written"
	assert_eq "$(stat -c '%u:%g %a' "$MNT/$f")" "$(stat -c '%u:%g %a' "$rdir/$v")" \
		"$f: owner and mode of the rejected copy"
	flag=$(xattr user.hydrafs.rejected "$MNT/$f")
	assert_eq "invalid $format at line $line, byte $offset: $reason; kept as .backups/.rejected/$f/$v" \
		"$flag" "$f: user.hydrafs.rejected"
	assert_eq "$(tabs "$format" "$line" "$offset" "$reason" \
		".rejected/$f/$v" "$(sum_of "$src")" "$(stat -c %s "$src")")" \
		"$(jrec reject "$f" format line offset reason prev xxh128 size)" \
		"$f: the journal's reject record"
	note "$f refused: $flag"
}

# put NAME CONTENT: a file $T/src/NAME holding CONTENT (printf format).
mkdir "$T/src"
put()
{
	# shellcheck disable=SC2059 # CONTENT is a format on purpose
	printf "$2" >"$T/src/$1"
}

# --- A bad rules file stops the mount, before anything else is mounted. ---
# run_bad NAME ARGS...: the daemon must refuse with exit 2 and one line.
run_bad()
{
	local name=$1 rc=0
	shift
	timeout -k 5 10 "$HYDRAFS" "$BACKING" "$MNT" -f "$@" </dev/null \
		>"$T/$name.out" 2>"$T/$name.err" || rc=$?
	if [ -n "$(mounts_under "$T")" ]; then
		fail "$name: mounted with a bad rules file"
	fi
	assert_eq 2 "$rc" "$name: exit status"
	assert_eq 1 "$(grep -c '' "$T/$name.err")" "$name: stderr lines"
	grep -q "^hydrafs: rules file '.*' line 2: " "$T/$name.err" ||
		fail "$name: message: $(cat "$T/$name.err")"
	note "$name: $(cat "$T/$name.err")"
}
[ -x "${HYDRAFS:-}" ] || hard_error "HYDRAFS is not set or not executable"
require_fuse
printf '[*.json]\nformat = yaml\n' >"$T/bad.rules"
run_bad bad-rules-option -o "rules=$T/bad.rules"
grep -q "'$T/bad.rules'" "$T/bad-rules-option.err" ||
	fail "the message does not name the rules file"
mkdir -p "$BACKING/.hydrafs"
cp "$T/bad.rules" "$BACKING/.hydrafs/rules"
run_bad bad-rules-statedir
rm "$BACKING/.hydrafs/rules"
assert_eq "" "$(ls -A "$MNT")" "mount point untouched by the failed mounts"

mount_fs

# --- 1. A valid rewrite commits, with its record and checksum. ---
put v1.json '{"a": [1, 2, 3]}\n'
put v2.json '{\n  "a": [1, 2, 3],\n  "b": {"c": null, "d": "\\u00e9t\xc3\xa9"}\n}\n'
assert_eq close=0 "$(write_file seq "$MNT/x.json" "$T/src/v1.json")" "x.json: first write"
check_record x.json json ok
assert_eq close=0 "$(write_file seq "$MNT/x.json" "$T/src/v2.json")" "x.json: valid rewrite"
cmp -s "$T/src/v2.json" "$MNT/x.json" || fail "x.json: not the new content"
cmp -s "$T/src/v2.json" "$BACKING/x.json" || fail "x.json: not committed"
check_record x.json json ok
check_commit x.json
assert_eq 1 "$(count "$MNT/.backups/x.json")" "x.json: versions after a rewrite"
cmp -s "$T/src/v1.json" "$MNT/.backups/x.json/$(newest "$MNT/.backups/x.json")" ||
	fail "x.json: the version is not the old content"
commits=$(grep -c '"event":"commit","path":"x.json"' "$JOURNAL")
write_file seq "$MNT/x.json" "$T/src/v2.json" >/dev/null
assert_eq 1 "$(count "$MNT/.backups/x.json")" "x.json: an identical rewrite adds no version"
assert_eq "$commits" "$(grep -c '"event":"commit","path":"x.json"' "$JOURNAL")" \
	"x.json: an identical rewrite commits nothing"
note "x.json: $(xattr user.hydrafs.record "$MNT/x.json")"

# --- 2. Invalid JSON is refused. ---
# Through a shell redirection (close()'s error is lost there, not the refusal).
put bad1.json '{"a":1,}'
chmod 640 "$MNT/x.json"
if [ "$(id -u)" = 0 ]; then
	chown 1234:5678 "$MNT/x.json"
fi
if cat "$T/src/bad1.json" 2>"$T/cat.err" >"$MNT/x.json"; then
	fail "x.json: cat of invalid JSON exited 0"
fi
grep -q "Input/output error" "$T/cat.err" || fail "x.json: cat: $(cat "$T/cat.err")"
check_rejected x.json "$T/src/bad1.json" "$T/src/v2.json" json 1 7 "trailing comma" 1
assert_eq "640" "$(stat -c %a "$MNT/.backups/.rejected/x.json/$(newest "$MNT/.backups/.rejected/x.json")")" \
	"x.json: mode of the rejected copy"
# Through a writer that sees close()'s error; the line is counted.
put bad2.json '{\n  "a": 1,\n}\n'
assert_eq close=EIO "$(write_file seq "$MNT/x.json" "$T/src/bad2.json")" \
	"x.json: close() of invalid JSON"
check_rejected x.json "$T/src/bad2.json" "$T/src/v2.json" json 3 12 "trailing comma" 2
check_record x.json json ok
assert_eq 1 "$(count "$MNT/.backups/x.json")" "x.json: a refusal adds no version"
# A new file with invalid content stays empty.
assert_eq close=EIO "$(write_file seq "$MNT/new.json" "$T/src/bad1.json")" \
	"new.json: close() of invalid JSON"
check_rejected new.json "$T/src/bad1.json" /dev/null json 1 7 "trailing comma" 1

# --- 3. JSONL, CSV and TSV. ---
put ok.jsonl '{"a":1}\n{"b":2}\n'
put bad.jsonl '{"a":1}\n{"b":2,}\n{"c":3}\n'
put ok.csv 'a,b\n1,2\n'
put bad.csv 'a,b\n1,2\n3\n'
put ok.tsv 'a\tb\n1\t2\n'
put bad.tsv 'a\tb\n1\t2\n3\n'
for ext in jsonl csv tsv; do
	assert_eq close=0 "$(write_file seq "$MNT/x.$ext" "$T/src/ok.$ext")" "x.$ext: valid"
	check_record "x.$ext" "$ext" ok
	assert_eq close=EIO "$(write_file seq "$MNT/x.$ext" "$T/src/bad.$ext")" \
		"x.$ext: close() of invalid content"
done
check_rejected x.jsonl "$T/src/bad.jsonl" "$T/src/ok.jsonl" jsonl 2 15 "trailing comma" 1
check_rejected x.csv "$T/src/bad.csv" "$T/src/ok.csv" csv 3 8 "wrong field count" 1
check_rejected x.tsv "$T/src/bad.tsv" "$T/src/ok.tsv" tsv 3 8 "wrong field count" 1
put ok.ndjson '[1]\n"x"\n'
put bad.ndjson '[1]\n"x\n'
assert_eq close=0 "$(write_file seq "$MNT/x.ndjson" "$T/src/ok.ndjson")" "x.ndjson: valid"
check_record x.ndjson jsonl ok
assert_eq close=EIO "$(write_file seq "$MNT/x.ndjson" "$T/src/bad.ndjson")" \
	"x.ndjson: close() of invalid content"
assert_eq "$(tabs jsonl 2)" "$(jrec reject x.ndjson format line)" "x.ndjson: format and line"
cmp -s "$T/src/ok.ndjson" "$MNT/x.ndjson" || fail "x.ndjson: not its old content"

# --- 4. fsync() of invalid content returns EIO. ---
put f1.json '{"f": 1}'
put fbad.json '{"f": tru}'
write_file seq "$MNT/f.json" "$T/src/f1.json" >/dev/null
r=$(write_file fsync "$MNT/f.json" "$T/src/fbad.json")
case $r in
"fsync=EIO close="*) note "f.json: $r" ;;
*) fail "f.json: fsync() of invalid JSON: expected fsync=EIO, got '$r'" ;;
esac
check_rejected f.json "$T/src/fbad.json" "$T/src/f1.json" json 1 9 "invalid literal" 1
r=$(write_file fsync "$MNT/f.json" "$T/src/v1.json")
assert_eq "fsync=0 close=0" "$r" "f.json: fsync() of valid JSON"
cmp -s "$T/src/v1.json" "$BACKING/f.json" || fail "f.json: valid content not committed"
check_record f.json json ok

# --- 5. A nested path. ---
mkdir -p "$MNT/sub/dir"
write_file seq "$MNT/sub/dir/x.json" "$T/src/v1.json" >/dev/null
assert_eq close=EIO "$(write_file seq "$MNT/sub/dir/x.json" "$T/src/bad2.json")" \
	"sub/dir/x.json: close() of invalid JSON"
check_rejected sub/dir/x.json "$T/src/bad2.json" "$T/src/v1.json" json 3 12 "trailing comma" 1

# --- 6. An empty file is always accepted. ---
: >"$T/src/empty"
assert_eq close=0 "$(write_file seq "$MNT/x.json" "$T/src/empty")" "x.json: emptied"
assert_eq 0 "$(stat -c %s "$MNT/x.json")" "x.json: size after emptying"
assert_eq 0 "$(stat -c %s "$BACKING/x.json")" "x.json: backing size after emptying"
check_record x.json json ok
check_commit x.json
assert_eq "" "$(xattr user.hydrafs.rejected "$MNT/x.json")" \
	"x.json: the refusal flag is cleared by a commit"
assert_eq 2 "$(count "$MNT/.backups/x.json")" "x.json: the emptied content is a version"
cmp -s "$T/src/v2.json" "$MNT/.backups/x.json/$(newest "$MNT/.backups/x.json")" ||
	fail "x.json: the version before emptying is not v2"
for ext in csv jsonl; do
	assert_eq close=0 "$(write_file seq "$MNT/x.$ext" "$T/src/empty")" "x.$ext: emptied"
	assert_eq 0 "$(stat -c %s "$BACKING/x.$ext")" "x.$ext: backing size after emptying"
done

# --- 7. Text and opaque files are not validated. ---
put junk '{"a":1,}\n\xff\xfe\x00 not json, "unbalanced\n'
for f in x.txt x.log x.bin noext; do
	write_file seq "$MNT/$f" "$T/src/v1.json" >/dev/null
	assert_eq close=0 "$(write_file seq "$MNT/$f" "$T/src/junk")" "$f: junk"
	cmp -s "$T/src/junk" "$BACKING/$f" || fail "$f: junk not committed"
done
check_record x.txt text ok
check_record x.log text ok
check_record x.bin opaque ok
check_record noext opaque ok
check_commit x.bin
assert_eq 0 "$(count "$MNT/.backups/.rejected/x.txt")" "x.txt: nothing refused"

# --- 9. Out-of-order writes: the same verdict as in order. ---
"$PYTHON" - "$T/src/big.json" "$T/src/bigbad.json" <<'PY'
import json, sys
doc = {"items": [{"id": i, "name": "n%03d\u00e9" % i, "tags": ["a", "b"] * (i % 4),
                  "v": i * 1.5, "ok": i % 2 == 0, "z": None} for i in range(300)]}
good = json.dumps(doc, indent=2, ensure_ascii=False).encode() + b"\n"
open(sys.argv[1], "wb").write(good)
# Break it deep inside: a comma before the closing brace of item 200.
at = good.index(b'"id": 200')
at = good.index(b'"z": null', at) + len(b'"z": null')
open(sys.argv[2], "wb").write(good[:at] + b"," + good[at:])
PY
write_file seq "$MNT/ooo.json" "$T/src/v1.json" >/dev/null
assert_eq close=0 "$(write_file reverse "$MNT/ooo.json" "$T/src/big.json")" \
	"ooo.json: valid JSON written backwards"
cmp -s "$T/src/big.json" "$BACKING/ooo.json" || fail "ooo.json: not committed"
check_record ooo.json json ok
check_commit ooo.json
write_file seq "$MNT/seq.json" "$T/src/v1.json" >/dev/null
assert_eq close=EIO "$(write_file seq "$MNT/seq.json" "$T/src/bigbad.json")" \
	"seq.json: invalid JSON written in order"
assert_eq close=EIO "$(write_file reverse "$MNT/ooo.json" "$T/src/bigbad.json")" \
	"ooo.json: invalid JSON written backwards"
cmp -s "$T/src/big.json" "$MNT/ooo.json" || fail "ooo.json: lost its old content"
want=$(jrec reject seq.json line offset reason xxh128)
assert_eq "$want" "$(jrec reject ooo.json line offset reason xxh128)" \
	"the same verdict in order and backwards"
read -r line offset _ <<<"$want"
check_rejected ooo.json "$T/src/bigbad.json" "$T/src/big.json" json "$line" "$offset" \
	"trailing comma" 1
want=$("$PYTHON" -c '
import sys
d = open(sys.argv[1], "rb").read()
at = d.index(b"\"z\": null,", d.index(b"\"id\": 200")) + len(b"\"z\": null,")
at = d.index(b"}", at)
print(d.count(b"\n", 0, at) + 1, at)' "$T/src/bigbad.json")
assert_eq "$want" "$line $offset" "ooo.json: line and offset of the trailing comma"

# --- 10. user.hydrafs.* cannot be changed through the mount. ---
"$PYTHON" - "$MNT/x.tsv" <<'PY' || fail "user.hydrafs.* xattrs"
import errno, os, sys
p = sys.argv[1]
for name in ("user.hydrafs.record", "user.hydrafs.rejected", "user.hydrafs.new"):
    for what, fn in (("set", lambda: os.setxattr(p, name, b"x")),
                     ("remove", lambda: os.removexattr(p, name))):
        try:
            fn()
        except OSError as e:
            if e.errno != errno.EPERM:
                raise SystemExit("%s %s: %s, not EPERM" % (what, name, e))
        else:
            raise SystemExit("%s %s: allowed" % (what, name))
os.setxattr(p, "user.other", b"fine")
assert os.getxattr(p, "user.other") == b"fine"
os.removexattr(p, "user.other")
PY
rec=$(xattr user.hydrafs.record "$MNT/x.tsv")
if setfattr -n user.hydrafs.record -v x "$MNT/x.tsv" 2>"$T/setfattr.err"; then
	fail "setfattr user.hydrafs.record allowed"
fi
grep -q "Operation not permitted" "$T/setfattr.err" ||
	fail "setfattr: $(cat "$T/setfattr.err")"
if setfattr -x user.hydrafs.record "$MNT/x.tsv" 2>"$T/setfattr.err"; then
	fail "setfattr -x user.hydrafs.record allowed"
fi
grep -q "Operation not permitted" "$T/setfattr.err" ||
	fail "setfattr -x: $(cat "$T/setfattr.err")"
assert_eq "$rec" "$(xattr user.hydrafs.record "$MNT/x.tsv")" "x.tsv: record unchanged"
# Read by name, never listed (cp -a and rsync -X would copy them, refused).
if getfattr -d -m - "$MNT/x.tsv" 2>/dev/null | grep -q '^user\.hydrafs\.'; then
	fail "x.tsv: user.hydrafs.* listed by listxattr"
fi
[ -n "$(xattr user.hydrafs.rejected "$MNT/x.tsv")" ] ||
	fail "x.tsv: user.hydrafs.rejected not readable by name"

# --- 11. 1 MiB of JSONL in 4 KiB writes. ---
"$PYTHON" - "$T/src/big.jsonl" "$T/src/bigbad.jsonl" <<'PY'
import json, sys
lines, size, i = [], 0, 0
while size < 1 << 20:
    line = json.dumps({"i": i, "s": "x" * (i % 97), "u": "\u20ac" * (i % 5),
                       "l": list(range(i % 7))}, ensure_ascii=False).encode() + b"\n"
    lines.append(line)
    size += len(line)
    i += 1
open(sys.argv[1], "wb").write(b"".join(lines))
# An unterminated string on line 5000.
lines[4999] = lines[4999].replace(b'"s": "', b'"s": "\n', 1)
bad = b"".join(lines)
open(sys.argv[2], "wb").write(bad)
PY
write_file seq "$MNT/big.jsonl" "$T/src/ok.jsonl" >/dev/null
assert_eq close=0 "$(write_file 4k "$MNT/big.jsonl" "$T/src/big.jsonl")" "big.jsonl"
cmp -s "$T/src/big.jsonl" "$BACKING/big.jsonl" || fail "big.jsonl: not committed"
check_record big.jsonl jsonl ok
check_commit big.jsonl
note "big.jsonl: $(stat -c %s "$BACKING/big.jsonl") bytes, $(jrec commit big.jsonl xxh128)"
assert_eq close=EIO "$(write_file 4k "$MNT/big.jsonl" "$T/src/bigbad.jsonl")" \
	"big.jsonl: 1 MiB with a bad line 5000"
want=$("$PYTHON" -c '
import sys
d = open(sys.argv[1], "rb").read()
start = 0
for _ in range(4999):
    start = d.index(b"\n", start) + 1
print(5000, d.index(b"\n", start))' "$T/src/bigbad.jsonl")
read -r line offset <<<"$want"
check_rejected big.jsonl "$T/src/bigbad.jsonl" "$T/src/big.jsonl" jsonl "$line" "$offset" \
	"unterminated string" 1

unmount_fs
assert_eq "" "$(ls -A "$BACKING/.hydrafs/staging")" "staging empty after unmount"

# --- 8. Rules files. ---
# BACKING/.hydrafs/rules: *.dat is JSON, refused when invalid.
printf '# test rules\n[*.dat]\nformat = json\n' >"$BACKING/.hydrafs/rules"
mount_fs
assert_eq close=0 "$(write_file seq "$MNT/x.dat" "$T/src/v1.json")" "x.dat: valid JSON"
check_record x.dat json ok
assert_eq close=EIO "$(write_file seq "$MNT/x.dat" "$T/src/bad2.json")" \
	"x.dat: invalid JSON by the state dir's rules"
check_rejected x.dat "$T/src/bad2.json" "$T/src/v1.json" json 3 12 "trailing comma" 1
if [ -e "$MNT/.hydrafs/rules" ]; then
	fail "the rules file is visible through the mount"
fi
unmount_fs

# -o rules=FILE: invalid JSON accepted; it replaces the state dir's rules.
printf '[*.json]\ninvalid = accept\n' >"$T/accept.rules"
mount_fs "rules=$T/accept.rules"
assert_eq close=0 "$(write_file seq "$MNT/acc.json" "$T/src/v1.json")" "acc.json: valid"
check_record acc.json json ok
assert_eq close=0 "$(write_file seq "$MNT/acc.json" "$T/src/bad2.json")" \
	"acc.json: invalid JSON accepted by a rule"
cmp -s "$T/src/bad2.json" "$BACKING/acc.json" || fail "acc.json: not committed"
check_record acc.json json invalid
check_commit acc.json
assert_eq "invalid json at line 3, byte 12: trailing comma; accepted by a rule" \
	"$(jrec commit acc.json detail)" "acc.json: the journal's commit detail"
assert_eq 0 "$(count "$MNT/.backups/.rejected/acc.json")" "acc.json: nothing refused"
assert_eq "" "$(xattr user.hydrafs.rejected "$MNT/acc.json")" "acc.json: not flagged"
# csv keeps its default (reject) under these rules.
assert_eq close=EIO "$(write_file seq "$MNT/x.csv" "$T/src/bad.csv")" \
	"x.csv: still refused under -o rules"
# The state dir's [*.dat] rule no longer applies: .dat is opaque.
assert_eq close=0 "$(write_file seq "$MNT/x.dat" "$T/src/bad2.json")" \
	"x.dat: opaque under -o rules"
check_record x.dat opaque ok
unmount_fs
