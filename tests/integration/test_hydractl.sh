#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# hydractl verify, versions, restore and status, through a mount and on the
# backing dir (mounted, then unmounted).  verify finds silent damage that kept
# size and mtime (checksum against the record), JSON damaged in its syntax
# (with line and offset), damaged versions, and lists files changed behind
# the mount (still valid) as changed, exit 0; versions lists exactly the
# versions, with the sizes and checksums xxh128sum gives; restore brings old
# bytes back through the mount (the replaced content becoming a version),
# --at picks the newest version at or before a time, --to writes elsewhere, a
# backing path is refused, a refused restore exits 1; status counts versions,
# rejections and orphans.  Every --json output parses; usage errors exit 2.
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "${TESTDIR:-$(dirname "$0")}/lib.sh"

need_cmd "$PYTHON" xxh128sum getfattr
if [ -n "${HYDRAFS_STANDIN:-}" ]; then
	skip "hydractl needs hydrafs itself"
fi
[ -n "${HYDRACTL:-}" ] || hard_error "HYDRACTL is not set"
[ -x "$HYDRACTL" ] || hard_error "HYDRACTL='$HYDRACTL' is not executable"

VERSIONS=$BACKING/.hydrafs/versions

# jv EXPR: EXPR evaluated with d = the JSON document in $T/out (a tuple
# printed as its items separated by spaces).
jv()
{
	"$PYTHON" -c 'import json, sys
d = json.load(open(sys.argv[1]))
r = eval(sys.argv[2])
print(" ".join(map(str, r)) if isinstance(r, tuple) else r)' "$T/out" "$1" || fail "jv $1: $(head -c 300 "$T/out")"
}

sum_of()
{
	local s
	s=$(xxh128sum "$1" 2>/dev/null) || fail "xxh128sum $1"
	echo "${s%% *}"
}

# flip FILE OFFSET: changes one byte of FILE in place, keeping its size and
# mtime (silent damage).
flip()
{
	"$PYTHON" - "$1" "$2" <<'PY' || fail "flip $1"
import os, sys
p, off = sys.argv[1], int(sys.argv[2])
st = os.stat(p)
with open(p, "r+b") as f:
    f.seek(off)
    b = f.read(1)
    f.seek(off)
    f.write(bytes([b[0] ^ 0x01]))
os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
PY
}

# Versions in the backing tree (not .rejected, not .orphans).
count_versions()
{
	find "$VERSIONS" \( -path "$VERSIONS/.rejected" -o \
		-path "$VERSIONS/.orphans" \) -prune -o -type f -print | wc -l
}

# shellcheck disable=SC2012 # version names are hydrafs's: no odd characters
vnames() { ls "$VERSIONS/$1"; }

# The kernel keeps attributes for 1 s: changes made behind the mount show
# after that.
settle() { sleep 1.2; }

mount_fs

# --- Files through the mount, rewritten to make versions. ---
mkdir "$MNT/sub"
printf '{"a": 1}\n' >"$MNT/data.json"
sleep 1.1
printf '{"a": 22}\n' >"$MNT/data.json"
sleep 1.1
printf '{"a": 333}\n' >"$MNT/data.json"
printf '{"ok": true}\n' >"$MNT/conf.json"
printf 'h1,h2\n1,2\n' >"$MNT/sub/table.csv"
printf 'h1,h2\n1,2\n3,4\n' >"$MNT/sub/table.csv"
printf 'first\n' >"$MNT/sub/notes.txt"
printf 'second\n' >"$MNT/sub/notes.txt"
head -c 200000 /dev/urandom >"$T/blob1"
head -c 300000 /dev/urandom >"$T/blob2"
cp "$T/blob1" "$MNT/blob.bin"
cp "$T/blob2" "$MNT/blob.bin"
printf '{bad\n' >"$MNT/raw.dat"
printf 'fine\n' >"$MNT/raw.dat"

# --- A clean tree verifies. ---
ctl 0 verify "$MNT"
grep -q '^verified 6 files and ' "$T/out" || fail "verify summary: $(cat "$T/out")"
ctl 0 verify --json "$MNT"
assert_eq 6 "$(jv 'd["files"]')" "verify --json: files"
assert_eq "$(count_versions)" "$(jv 'd["versions"]')" "verify --json: versions"
assert_eq "0 0 0" "$(jv 'len(d["damaged"]), len(d["changed"]), len(d["errors"])')" \
	"verify --json: nothing damaged, changed or unreadable"
[ "$(jv 'd["bytes"]')" -gt 500000 ] || fail "verify --json: bytes $(jv 'd["bytes"]')"
ctl 0 verify --json "$MNT/sub"
assert_eq "2 2" "$(jv 'd["files"], d["versions"]')" "verify of a dir in the mount"
(cd "$MNT/sub" && ctl 0 verify --json)
assert_eq "2 2" "$(jv 'd["files"], d["versions"]')" "verify of the current dir"
ctl 0 verify --json "$MNT/data.json"
assert_eq "1 2" "$(jv 'd["files"], d["versions"]')" "verify of one file"

# --- versions: exactly the versions, with sizes and checksums. ---
ctl 0 versions --json "$MNT/data.json"
mapfile -t names < <(vnames data.json)
assert_eq 2 "${#names[@]}" "data.json: versions in the backing dir"
assert_eq "${names[*]}" "$(jv '" ".join(v["name"] for v in d)')" "versions: names, oldest first"
for i in 0 1; do
	v=$VERSIONS/data.json/${names[$i]}
	assert_eq "$(stat -c %s "$v") $(sum_of "$v") ok" \
		"$(jv "d[$i][\"size\"], d[$i][\"xxh128\"], d[$i][\"state\"]")" \
		"versions: version $i"
done
cmp -s "$VERSIONS/data.json/${names[0]}" <(printf '{"a": 1}\n') ||
	fail "the oldest version is not the first content"
ctl 0 versions "$MNT/data.json"
assert_eq 2 "$(grep -c "ok\$" "$T/out")" "versions: human output"
grep -q "^${names[0]} .* $(sum_of "$VERSIONS/data.json/${names[0]}")  ok\$" "$T/out" ||
	fail "versions: human line: $(cat "$T/out")"
ctl 0 versions --json "$BACKING/data.json"
assert_eq 2 "$(jv 'len(d)')" "versions of a backing path"
ctl 1 versions --json "$MNT/conf.json"
assert_eq 0 "$(jv 'len(d)')" "versions of a file without any"
ctl 1 versions "$MNT/conf.json"
grep -q "no versions" "$T/out" || fail "versions: no versions: $(cat "$T/out")"

# --- restore ---
before=$(sum_of "$MNT/data.json")
ctl 0 restore --version "${names[0]}" --to "$T/copy.json" "$MNT/data.json"
cmp -s "$T/copy.json" "$VERSIONS/data.json/${names[0]}" || fail "restore --to: wrong bytes"
assert_eq "$before" "$(sum_of "$MNT/data.json")" "restore --to leaves the file alone"
assert_eq 2 "$(vnames data.json | wc -l)" "restore --to keeps no version"
mkdir "$T/outdir"
ctl 0 restore --to "$T/outdir" "$MNT/data.json"
cmp -s "$T/outdir/data.json" "$VERSIONS/data.json/${names[1]}" ||
	fail "restore --to DIR: not the newest version"

# --at: a version name's time, ISO 8601, the second before (the older one).
v2=${names[1]%.json}
iso=$(echo "$v2" | sed -E 's/T([0-9]{2})-([0-9]{2})-([0-9]{2})/T\1:\2:\3/')
sec=${iso%.*}Z
for at in "$v2" "$iso" "${names[1]}"; do
	ctl 0 restore --at "$at" --to "$T/at.json" "$MNT/data.json"
	cmp -s "$T/at.json" "$VERSIONS/data.json/${names[1]}" || fail "restore --at $at: wrong version"
done
ctl 0 restore --at "$sec" --to "$T/at.json" --json "$MNT/data.json"
assert_eq "${names[0]}" "$(jv 'd["version"]')" "restore --at $sec"
cmp -s "$T/at.json" "$VERSIONS/data.json/${names[0]}" || fail "restore --at $sec: wrong bytes"
ctl 3 restore --at 2001-01-01T00:00:00Z --to "$T/at.json" "$MNT/data.json"

# Through the mount: the old bytes are back, the replaced ones a version.
ctl 0 restore --json --version "${names[0]}" "$MNT/data.json"
assert_eq "$(sum_of "$VERSIONS/data.json/${names[0]}")" "$(jv 'd["xxh128"]')" "restore --json: xxh128"
cmp -s "$MNT/data.json" "$VERSIONS/data.json/${names[0]}" || fail "restore: old bytes not back"
cmp -s "$BACKING/data.json" <(printf '{"a": 1}\n') || fail "restore: backing file"
assert_eq 3 "$(vnames data.json | wc -l)" "restore keeps the replaced content"
newest=$(vnames data.json | tail -n 1)
cmp -s "$VERSIONS/data.json/$newest" <(printf '{"a": 333}\n') ||
	fail "restore: the pre-restore content is not the newest version"
ctl 3 restore "$BACKING/data.json"
grep -q "backing dir" "$T/err" || fail "restore of a backing path: $(cat "$T/err")"
cmp -s "$BACKING/data.json" <(printf '{"a": 1}\n') || fail "refused restore changed the file"
ctl 3 restore --version 1999-01-01T00-00-00.000Z.json "$MNT/data.json"

# --- status: one rejection, no orphans. ---
if "$PYTHON" -c 'import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_TRUNC)
os.write(fd, b"{\"a\": }\n")
os.close(fd)' "$MNT/conf.json" 2>/dev/null; then
	fail "invalid JSON was not refused"
fi
ctl 0 status "$MNT"
grep -q '^rejections: 1$' "$T/out" || fail "status: $(cat "$T/out")"
grep -q '^orphans: *0$' "$T/out" || fail "status: $(cat "$T/out")"
grep -q "^damaged: *0 " "$T/out" || fail "status: $(cat "$T/out")"
grep -q "^versions: *$(count_versions) " "$T/out" || fail "status: $(cat "$T/out")"
ctl 0 status --json "$MNT"
assert_eq "$MNT $BACKING $(count_versions) 1 0 0" \
	"$(jv 'd[0]["mount"], d[0]["backing"], d[0]["versions"], d[0]["rejections"], d[0]["orphans"], d[0]["damaged"]')" \
	"status --json"
(cd "$MNT/sub" && ctl 0 status --json)
assert_eq "1 $MNT" "$(jv 'len(d), d[0]["mount"]')" "status in a mount: that mount alone"

# --- Changed behind the mount, still valid: listed, exit 0. ---
printf 'changed behind the mount\n' >"$BACKING/sub/notes.txt"
settle
ctl 0 verify --json "$MNT"
assert_eq "0 ['$MNT/sub/notes.txt']" "$(jv 'len(d["damaged"]), [c["path"] for c in d["changed"]]')" \
	"verify: a changed file"

# Through a mount, the open of a file changed behind it has hydrafs record
# it anew (the open-time check): verify says changed once, the next verify
# finds it recorded.
ctl 0 verify --json "$MNT/sub/notes.txt"
assert_eq "[]" "$(jv '[c["path"] for c in d["changed"]]')" "verify: changed, then recorded anew"

# --- Damage: a byte flipped (size and mtime kept), broken JSON, a version. ---
flip "$BACKING/blob.bin" 1000
printf '{"ok": true,}\n' >"$BACKING/conf.json"
vt=$(vnames sub/table.csv | head -n 1)
flip "$VERSIONS/sub/table.csv/$vt" 3
settle
check_damage()
{
	local root=$1 vroot=$2 changed=${3:-}
	ctl 1 verify --json "$root"
	assert_eq 3 "$(jv 'len(d["damaged"])')" "verify $root: damaged count"
	assert_eq "file" "$(jv "[x['kind'] for x in d['damaged'] if x['path'] == '$root/blob.bin'][0]")" \
		"verify $root: blob.bin listed"
	jv "[x['reason'] for x in d['damaged'] if x['path'] == '$root/blob.bin'][0]" |
		grep -q checksum || fail "verify $root: blob.bin reason"
	assert_eq "json 1 12" \
		"$(jv "[(x['format'], x['line'], x['offset']) for x in d['damaged'] if x['path'] == '$root/conf.json'][0]" | tr -d "(),'")" \
		"verify $root: conf.json line and offset"
	assert_eq "version" \
		"$(jv "[x['kind'] for x in d['damaged'] if x['path'] == '$vroot/sub/table.csv/$vt'][0]")" \
		"verify $root: the damaged version"
	if [ -n "$changed" ]; then
		assert_eq "['$root/$changed']" "$(jv '[c["path"] for c in d["changed"]]')" \
			"verify $root: changed"
	fi
	ctl 1 verify "$root"
	grep -q "^damaged file: $root/blob.bin: checksum" "$T/out" || fail "verify: human: $(cat "$T/out")"
	grep -q "^damaged file: $root/conf.json: .*line 1, byte 12" "$T/out" ||
		fail "verify: human: $(cat "$T/out")"
	grep -q "^damaged version: $vroot/sub/table.csv/$vt" "$T/out" || fail "verify: human: $(cat "$T/out")"
	grep -q ": 3 damaged, " "$T/out" || fail "verify: summary: $(cat "$T/out")"
}
check_damage "$MNT" "$MNT/.backups"
check_damage "$BACKING" "$VERSIONS"
# conf.json, changed and invalid, was flagged by hydrafs at its open: the
# journal says so (blob.bin kept its identity: only verify finds it).
ctl 0 status --json "$MNT"
assert_eq True "$(jv 'd[0]["damaged"] >= 1')" "status: damaged files from the journal"
ctl 0 versions --json "$MNT/sub/table.csv"
assert_eq "damaged" "$(jv 'd[0]["state"]')" "versions: a damaged version"

# A restore the daemon refuses (a rule made .dat json): exit 1.
unmount_fs
printf '[*.dat]\nformat = json\n' >"$BACKING/.hydrafs/rules"
mount_fs
ctl 1 restore --version "$(vnames raw.dat | head -n 1)" "$MNT/raw.dat"
grep -q "refused" "$T/err" || fail "refused restore: $(cat "$T/err")"
cmp -s "$MNT/raw.dat" <(printf 'fine\n') || fail "refused restore changed the file"
ctl 0 status --json "$MNT"
assert_eq 2 "$(jv 'd[0]["rejections"]')" "status: the refused restore is a rejection"
unmount_fs
rm "$BACKING/.hydrafs/rules"

# --- Unmounted: verify, versions, status on the backing dir. ---
printf 'changed while unmounted\n' >"$BACKING/sub/notes.txt"
check_damage "$BACKING" "$VERSIONS" sub/notes.txt
ctl 1 verify --json "$BACKING/sub"
assert_eq "2 1" "$(jv 'd["files"], len(d["damaged"])')" "verify of a dir in the backing dir"
ctl 0 versions --json "$BACKING/data.json"
assert_eq 3 "$(jv 'len(d)')" "versions unmounted"
ctl 0 status --json "$BACKING"
assert_eq "None 2 0" "$(jv 'd[0]["mount"], d[0]["rejections"], d[0]["orphans"]')" "status unmounted"
ctl 0 restore --to "$T/off.json" --version "${names[1]}" "$BACKING/data.json"
cmp -s "$T/off.json" "$VERSIONS/data.json/${names[1]}" || fail "restore --to unmounted"
ctl 3 verify "$T/src-none"
mkdir "$T/plain"
ctl 3 verify "$T/plain"

# --- Usage ---
ctl 2
ctl 2 frobnicate
ctl 2 verify --bogus
ctl 2 versions
ctl 2 versions a b
ctl 2 restore
ctl 2 restore --version x --at 2026-01-01 "$BACKING/data.json"
ctl 2 restore --at yesterday "$BACKING/data.json"
ctl 2 status --bogus
for c in verify versions restore status; do
	ctl 0 "$c" --help
	grep -q "^Usage: hydractl $c" "$T/out" || fail "$c --help"
done
ctl 0 --help
note "hydractl: all checks passed"
