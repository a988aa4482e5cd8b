#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Benchmarks hydrafs against the raw directory and libfuse's two passthrough
# examples, in one run on one backing disk, and prints median times and ratios.
# The pseudo-workload "validators" runs validators.c (in memory, no mount):
# throughput of the format validators against XXH3 and memcpy.
#   tests/bench/run.sh            (or `make bench`; see tests/bench/README.md)
# Environment:
#   HYDRAFS=PATH        the daemon (default: fs/hydrafs of this tree; when that
#                       is missing, passthrough_ll stands in for it, labelled so)
#   HYDRAFS_OPTS=OPTS   passed to it as -o OPTS
#   HYDRACTL=PATH       hydractl, for verify-small and verify-big (default:
#                       tools/hydractl of $HYDRAFS's build tree)
#   BENCH_BUILD=DIR     where to build the driver and examples (default: temp dir)
#   BENCH_TOP_BUILD=DIR the build root holding core/libhydracore.a, for
#                       "validators" (default: two levels above $HYDRAFS)
#   BENCH_VALIDATE_MB=N MB per format for "validators" (default 200 x scale)
#   BENCH_DIR=DIR       where the work dir goes (default /var/tmp)
#   BENCH_LOOP=FSTYPE   run on a fresh FSTYPE (ext4, xfs, btrfs) loop image
#                       in the work dir instead (BENCH_LOOP_SIZE, default 4G)
#   BENCH_RUNS=N        runs per workload and target, median taken (default 3)
#   BENCH_SCALE=F       size multiplier, e.g. 0.05 for a smoke test (default 1)
#   BENCH_ONLY=a,b      workloads to run (default all; `workload list` names
#                       them, and "validators")
#   BENCH_TARGETS=a,b   of raw,passthrough,passthrough_ll,hydrafs (default all)
#   BENCH_RESULTS=FILE  TSV of the table (default bench-results.tsv in BENCH_BUILD
#                       or else here); every run's time goes to FILE-runs.tsv
#   BENCH_TIMEOUT=S     limit for one workload run (default 1800)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
examples=/usr/share/doc/libfuse3-dev/examples
all_targets="raw passthrough passthrough_ll hydrafs"

srcdir=$(cd "$here/../.." && pwd)
hydrafs=${HYDRAFS:-$srcdir/fs/hydrafs}
hydractl=${HYDRACTL:-$(dirname "$(dirname "$hydrafs")")/tools/hydractl}
top_build=${BENCH_TOP_BUILD:-$(dirname "$(dirname "$hydrafs")")}
runs=${BENCH_RUNS:-3}
scale=${BENCH_SCALE:-1}
results=${BENCH_RESULTS:-${BENCH_BUILD:-.}/bench-results.tsv}
runs_file=${results%.tsv}-runs.tsv
tmo=${BENCH_TIMEOUT:-1800}
export BENCH_SCALE=$scale

build='' build_is_temp=0 work='' loop_mnt='' base=''
cur_pid='' cur_mnt='' wl_pid=''

log() { printf 'bench: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }
skip() { log "skipped: $*"; exit 77; }

is_mounted() {
	awk -v m="$1" '$2 == m { found = 1 } END { exit !found }' /proc/self/mounts
}

# Unmounts the current mount and stops its daemon by pid; returns the
# daemon's exit status (nonzero also when it had to be killed).
stop_daemon() {
	local pid=$cur_pid mnt=$cur_mnt rc=0
	[ -n "$pid" ] || return 0
	if is_mounted "$mnt"; then
		for _ in 1 2 3 4 5; do
			fusermount3 -u "$mnt" 2>/dev/null && break
			sleep 0.2
		done
		is_mounted "$mnt" && { fusermount3 -u -z "$mnt" 2>/dev/null || true; }
	fi
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "daemon $pid did not exit after unmount: killing it"
		kill "$pid" 2>/dev/null || true
		sleep 0.5
		kill -9 "$pid" 2>/dev/null || true
		rc=1
	fi
	wait "$pid" 2>/dev/null || rc=$?
	cur_pid='' cur_mnt=''
	return "$rc"
}

cleanup() {
	local rc=$?
	set +e
	trap - EXIT INT TERM
	if [ -n "$wl_pid" ]; then
		kill "$wl_pid" 2>/dev/null
		wait "$wl_pid" 2>/dev/null
	fi
	stop_daemon
	[ -n "$loop_mnt" ] && umount "$loop_mnt"
	if [ -n "$work" ] && [ -d "$work" ]; then
		if grep -qF " $work/" /proc/self/mounts; then
			log "something is still mounted under $work: leaving it"
		else
			rm -rf --one-file-system "$work"
		fi
	fi
	[ "$build_is_temp" = 1 ] && rm -rf "$build"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Checks that comma list $2 only names words of $3; prints it space separated.
pick() {
	local what=$1 list=$2 known=$3 w
	for w in ${list//,/ }; do
		case " $known " in
		*" $w "*) printf '%s ' "$w" ;;
		*) die "unknown $what '$w' (known: $known)" ;;
		esac
	done
}

median() {
	tr ' ' '\n' | grep . | sort -g | awk '
		{ v[NR] = $1 }
		END {
			if (NR == 0) exit 1
			if (NR % 2) printf "%.6f\n", v[(NR + 1) / 2]
			else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2
		}'
}

setup_build() {
	local fuse_cflags fuse_libs
	command -v cc >/dev/null || skip "no C compiler"
	pkg-config --exists fuse3 || skip "no fuse3 pkg-config (libfuse3-dev)"
	[ -f "$examples/passthrough_ll.c" ] || skip "no $examples"
	if [ -n "${BENCH_BUILD:-}" ]; then
		build=$BENCH_BUILD
		mkdir -p "$build"
	else
		build=$(mktemp -d "${TMPDIR:-/tmp}/hydrafs-bench-build.XXXXXX")
		build_is_temp=1
	fi
	fuse_cflags=$(pkg-config --cflags fuse3)
	fuse_libs=$(pkg-config --libs fuse3)
	# shellcheck disable=SC2086 # pkg-config output is a list of words
	{
		cc -O2 -pthread -o "$build/workload" "$here/workload.c" \
			"$here/workload_logs.c" "$here/workload_verify.c" -lm &&
		cc -O2 $fuse_cflags -I"$examples" -o "$build/passthrough" \
			"$examples/passthrough.c" $fuse_libs &&
		cc -O2 $fuse_cflags -o "$build/passthrough_ll" \
			"$examples/passthrough_ll.c" $fuse_libs
	} || die "build failed"
}

# Starts target $1's daemon on backing dir $2 at mount point $3 and waits
# until it is mounted; sets cur_pid and cur_mnt.
start_daemon() {
	local target=$1 backing=$2 mnt=$3 logf=$work/daemon.log cmd
	case $target in
	passthrough) cmd=("$build/passthrough" -f "$mnt") ;;
	passthrough_ll | standin_ll)
		cmd=("$build/passthrough_ll" -f -o source="$backing" "$mnt") ;;
	hydrafs)
		cmd=("$hydrafs" "$backing" "$mnt" -f
			${HYDRAFS_OPTS:+-o "$HYDRAFS_OPTS"}) ;;
	esac
	# A simple command, so that $! is the daemon's own pid.
	"${cmd[@]}" </dev/null >"$logf" 2>&1 &
	cur_pid=$! cur_mnt=$mnt
	for _ in $(seq 200); do
		is_mounted "$mnt" && return 0
		kill -0 "$cur_pid" 2>/dev/null || break
		sleep 0.05
	done
	log "$target did not mount on $mnt; its output:"
	tail -n 20 "$logf" >&2
	stop_daemon || true
	return 1
}

# Makes a fresh file system of type $1 in an image in the work dir and
# mounts it (with a loop device that goes away on unmount) as $base.
setup_loop() {
	local fstype=$1 img=$work/fs.img force=-f
	command -v "mkfs.$fstype" >/dev/null || skip "no mkfs.$fstype"
	[ "$fstype" = ext4 ] && force=-F
	truncate -s "${BENCH_LOOP_SIZE:-4G}" "$img"
	"mkfs.$fstype" -q "$force" "$img" >/dev/null || die "mkfs.$fstype failed"
	mkdir "$work/fs"
	mount -o loop "$img" "$work/fs" || skip "cannot mount a loop image"
	loop_mnt=$work/fs base=$work/fs
}

# Runs the driver with arguments "$@" in the background (so that a signal's
# trap runs at once), its output in $1.out and $1.err; returns its status.
drive() {
	local out=$1 rc=0
	shift
	BENCH_RUN=$r BENCH_MOUNT=$mnt BENCH_HYDRACTL=$hydractl \
		timeout -k 10 "$tmo" "$build/workload" "$@" \
		>"$out.out" 2>"$out.err" &
	wl_pid=$!
	wait "$wl_pid" || rc=$?
	wl_pid=''
	return "$rc"
}

# Logs what a successful driver run printed on stderr (its detail).
relay() {
	local line
	while IFS= read -r line; do
		log "  $line"
	done <"$1"
}

# Unmounts target $1 and mounts it again on backing dir $2 at $3, so that a
# workload's timed part meets a fresh daemon and no cached inode.
remount() {
	if ! stop_daemon; then
		log "$1 exited with an error at the remount:"
		tail -n 20 "$work/daemon.log" >&2
		return 1
	fi
	start_daemon "$1" "$2" "$3"
}

# One run of workload $1 on target $2 (run number $3): records each line the
# driver prints as "name target run seconds" in $runs_file, or FAIL; its
# "count:name value" lines as counts for the summaries. A workload with a
# setup has it run first, then (FUSE targets) a remount. Exit 77: skipped.
run_one() {
	local wl=$1 target=$2 r=$3 backing=$base/backing mnt=$work/mnt
	local daemon=$target dir rc=0 name secs
	[ "$target" = hydrafs ] && [ "$standin" = 1 ] && daemon=standin_ll
	rm -rf --one-file-system "$backing"
	mkdir -p "$backing" "$mnt"
	case $target in
	raw) dir=$backing/run ;;
	passthrough) dir=$mnt$backing/run ;;
	*) dir=$mnt/run ;;
	esac
	rm -f "$work"/setup.* "$work"/workload.*
	if [ "$target" != raw ] && ! start_daemon "$daemon" "$backing" "$mnt"; then
		record "$wl" "$target" "$r" FAIL
		return
	fi
	if ! mkdir "$dir"; then
		rc=1
	elif [[ " $setups " == *" $wl "* ]]; then
		sync
		drive "$work/setup" --setup "$wl" "$dir" || rc=$?
		if [ "$rc" = 0 ] && [ "$target" != raw ]; then
			remount "$daemon" "$backing" "$mnt" || rc=1
		fi
		sync
		[ "$rc" != 0 ] || drive "$work/workload" --timed "$wl" "$dir" || rc=$?
	else
		sync
		drive "$work/workload" "$wl" "$dir" || rc=$?
	fi
	cat "$work/setup.err" "$work/workload.err" >"$work/errors" 2>/dev/null || true
	if [ "$target" != raw ] && ! stop_daemon; then
		log "$target exited with an error after $wl run $r:"
		tail -n 20 "$work/daemon.log" >&2
		[ "$rc" != 0 ] || rc=1
	fi
	if [ "$rc" = 77 ]; then
		log "$wl on $target: skipped"
		relay "$work/errors"
		return
	elif [ "$rc" = 124 ]; then
		log "$wl on $target, run $r: timed out after ${tmo}s"
	elif [ "$rc" != 0 ]; then
		log "$wl on $target, run $r: failed ($rc):"
	fi
	if [ "$rc" != 0 ]; then
		tail -n 20 "$work/errors" >&2
		record "$wl" "$target" "$r" FAIL
		return
	fi
	relay "$work/errors"
	while read -r name secs; do
		[ -n "$secs" ] || { secs=$name; name=$wl; }
		case $name in
		count:*) counts[${name#count:}|$target]+=" $secs" ;;
		*) record "$name" "$target" "$r" "$secs" ;;
		esac
	done <"$work/workload.out"
}

declare -A times counts
rows=()
failed=0
record() {
	local name=$1 target=$2 r=$3 secs=$4
	case " ${rows[*]} " in
	*" $name "*) ;;
	*) rows+=("$name") ;;
	esac
	if [ "$secs" = FAIL ]; then
		times[$name|$target|fail]=1
		failed=1
	else
		times[$name|$target]+=" $secs"
	fi
	printf '%s\t%s\t%s\t%s\n' "$name" "$target" "$r" "$secs" >>"$runs_file"
}

cell() {
	local name=$1 target=$2
	if [ -n "${times[$name|$target|fail]:-}" ]; then
		echo FAIL
	elif [ -n "${times[$name|$target]:-}" ]; then
		median <<<"${times[$name|$target]}"
	else
		echo -
	fi
}

is_num() { [[ $1 =~ ^[0-9.]+$ ]]; }

# Prints a/b with 2 decimals, or - when either is not a number.
ratio() {
	if is_num "$1" && is_num "$2"; then
		awk -v a="$1" -v b="$2" 'BEGIN {
			if (b > 0) printf "%.2f\n", a / b; else print "-" }'
	else
		echo -
	fi
}

print_table() {
	local name raw pt ll hy best bestname mark fsync_rows=" seqwrite randwrite fsyncwrite "
	{
		printf '# hydrafs benchmark %s, scale %s, %s runs, median seconds\n' \
			"$(date -u +%FT%TZ)" "$scale" "$runs"
		printf '# load average %s at start, %s at end\n' "$load_start" \
			"$(cut -d' ' -f1 /proc/loadavg)"
		printf '# kernel %s, backing %s (%s), hydrafs %s\n' "$(uname -r)" \
			"$base" "$(findmnt -no FSTYPE -T "$base" 2>/dev/null)" \
			"$([ "$standin" = 1 ] && echo "stand-in: passthrough_ll" || echo "$hydrafs")"
		printf 'workload\traw\tpassthrough\tpassthrough_ll\thydrafs\thydrafs/raw\thydrafs/best_example\tbest_example\tspeed_vs_best_example\n'
	} >"$results"
	echo
	echo "Median seconds of $runs runs, scale $scale, backing $base" \
		"($(findmnt -no FSTYPE -T "$base" 2>/dev/null))."
	case " $targets " in *" hydrafs "*)
		[ "$standin" = 1 ] &&
			echo "hydrafs: STAND-IN (passthrough_ll), $hydrafs not found." ;;
	esac
	echo "Load average $load_start at start, $(cut -d' ' -f1 /proc/loadavg) at end."
	echo "Ratios are hydrafs time / other time: < 1.0 means hydrafs is faster."
	echo "speed vs best example = best example time / hydrafs time:" \
		">= 1.0 meets the target."
	echo
	printf '%-21s %10s %12s %14s %10s | %11s %12s %-14s %s\n' workload raw \
		passthrough passthrough_ll hydrafs hydrafs/raw hydrafs/best \
		best-example "speed vs best example"
	for name in "${rows[@]}"; do
		raw=$(cell "$name" raw)
		pt=$(cell "$name" passthrough)
		ll=$(cell "$name" passthrough_ll)
		hy=$(cell "$name" hydrafs)
		best=- bestname=-
		if is_num "$pt" && { ! is_num "$ll" || awk -v a="$pt" -v b="$ll" 'BEGIN { exit !(a < b) }'; }; then
			best=$pt bestname=passthrough
		elif is_num "$ll"; then
			best=$ll bestname=passthrough_ll
		fi
		mark=" "
		case $fsync_rows in *" $name "*) is_num "$pt" && mark="*" ;; esac
		printf '%-21s %10s %11s%s %14s %10s | %11s %12s %-14s %s\n' "$name" \
			"$raw" "$pt" "$mark" "$ll" "$hy" "$(ratio "$hy" "$raw")" \
			"$(ratio "$hy" "$best")" "$bestname" "$(ratio "$best" "$hy")"
		printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$raw" "$pt" \
			"$ll" "$hy" "$(ratio "$hy" "$raw")" "$(ratio "$hy" "$best")" \
			"$bestname" "$(ratio "$best" "$hy")" >>"$results"
	done
	echo
	echo "* passthrough's fsync does nothing (libfuse example): its times in" \
		"these rows leave out the flush to disk that the others pay."
	echo "Table: $results; every run: $runs_file"
}

# The targets workload $1 runs on, of $targets: commit-jsonl measures
# hydrafs's commit, so only hydrafs and raw (for reference); verify-* run
# hydractl, so only a real hydrafs ($verify is 1).
targets_of() {
	local t
	case $1 in
	commit-jsonl)
		for t in $targets; do
			case $t in raw | hydrafs) printf '%s ' "$t" ;; esac
		done ;;
	verify-*)
		[ "$verify" = 1 ] || return 0
		case " $targets " in *" hydrafs "*) printf 'hydrafs' ;; esac ;;
	*) printf '%s' "$targets" ;;
	esac
}

# The largest of the counts $1 of target $2 over the runs, or -.
count() {
	local v=${counts[$1|$2]:-}
	[ -n "$v" ] || { echo -; return; }
	tr ' ' '\n' <<<"$v" | grep . | sort -g | tail -n 1
}

has_row() { [[ " ${rows[*]} " == *" $1 "* ]]; }

# $1 x BENCH_SCALE, at least $2 (as workload.c's scaled_min()).
scaled() {
	awk -v n="$1" -v s="$scale" -v m="$2" 'BEGIN {
		v = int(n * s + 0.5); printf "%d\n", v < m ? m : v }'
}

# Prints "PASS" or "MISS": whether awk condition $1 holds, or nothing when
# one of the numbers $2... is not one.
verdict() {
	local cond=$1 v
	shift
	for v; do is_num "$v" || return 0; done
	if awk -v a="$1" -v b="${2:-0}" "BEGIN { exit !($cond) }"; then
		echo PASS
	else
		echo MISS
	fi
}

# openappend-1g / openappend-1m per target (target <= 1.2 on hydrafs).
print_openappend_ratios() {
	local t a b rat
	has_row openappend-1m || has_row openappend-1g || return 0
	echo
	echo "openappend: mean open(O_APPEND) + write a line + close on big.log" \
		"of $(scaled 1024 1) MiB / of 1 MiB, median times; target <= 1.2" \
		"on hydrafs"
	printf '%-15s %12s %12s %8s\n' target 1m-ms 1g-ms 1g/1m
	for t in $targets; do
		a=$(cell openappend-1m "$t") b=$(cell openappend-1g "$t")
		[ "$a$b" = -- ] && continue
		rat=$(ratio "$b" "$a")
		printf '%-15s %12s %12s %8s %s\n' "$t" "$(ms "$a")" "$(ms "$b")" \
			"$rat" "$([ "$t" = hydrafs ] && verdict 'a <= 1.2' "$rat")"
	done
}

# Seconds $1 as milliseconds with 3 decimals, or $1 when not a number.
ms() {
	if is_num "$1"; then
		awk -v s="$1" 'BEGIN { printf "%.3f\n", s * 1000 }'
	else
		echo "$1"
	fi
}

# append1fd as rates: lines/s per target, hydrafs's / the examples'
# (target >= 0.8 against the faster example).
print_append1fd_rates() {
	local t n hy pt ll best
	has_row append1fd || return 0
	n=$(scaled 100000 1)
	hy=$(cell append1fd hydrafs) pt=$(cell append1fd passthrough)
	ll=$(cell append1fd passthrough_ll)
	echo
	echo "append1fd: $n lines through one O_APPEND descriptor, lines/s of" \
		"the median time"
	for t in $targets; do
		printf '%-15s %12s\n' "$t" "$(rate "$n" "$(cell append1fd "$t")")"
	done
	best=$pt
	is_num "$ll" && { ! is_num "$pt" || awk -v a="$ll" -v b="$pt" \
		'BEGIN { exit !(a < b) }'; } && best=$ll
	echo "hydrafs rate / passthrough rate: $(ratio "$pt" "$hy")," \
		"/ passthrough_ll rate: $(ratio "$ll" "$hy");" \
		"target >= 0.8 against the faster:" \
		"$(verdict 'a >= 0.8' "$(ratio "$best" "$hy")")"
}

# $1 / seconds $2 with no decimals, or -.
rate() {
	if is_num "$1" && is_num "$2"; then
		awk -v n="$1" -v s="$2" 'BEGIN {
			if (s > 0) printf "%.0f\n", n / s; else print "-" }'
	else
		echo -
	fi
}

# append-visibility: p50 and p99 latency per target (p99 < 200 ms).
print_visibility() {
	local t p50 p99
	has_row append-visibility || return 0
	echo
	echo "append-visibility: from the end of the write completing a line" \
		"to a reader (own descriptor, polling every 1 ms) having read it;" \
		"medians of runs; torn: polls that ended inside a line, late:" \
		"lines seen only after the writer closed (most of any run);" \
		"target p99 < 200 ms on hydrafs"
	printf '%-15s %10s %10s %7s %7s\n' target p50-ms p99-ms torn late
	for t in $targets; do
		p50=$(cell append-visibility-p50 "$t")
		p99=$(cell append-visibility "$t")
		[ "$p50$p99" = -- ] && continue
		printf '%-15s %10s %10s %7s %7s %s\n' "$t" "$(ms "$p50")" \
			"$(ms "$p99")" "$(count append-visibility-torn "$t")" \
			"$(count append-visibility-late "$t")" \
			"$([ "$t" = hydrafs ] && verdict 'a < 0.2' "$p99")"
	done
}

# hydractl verify: files/s and MB/s of the median time, per workload.
print_verify() {
	local wl secs files bytes
	has_row verify-small || has_row verify-big || return 0
	echo
	echo "hydractl verify on the hydrafs mount, page cache dropped" \
		"$([ "$(id -u)" = 0 ] || echo "(NOT: not root) ")before each run," \
		"timed as a whole; files include versions"
	printf '%-13s %8s %10s %10s %10s %10s\n' workload files MB seconds \
		files/s MB/s
	for wl in verify-small verify-big; do
		has_row "$wl" || continue
		secs=$(cell "$wl" hydrafs)
		files=$(count "$wl-files" hydrafs)
		bytes=$(count "$wl-bytes" hydrafs)
		printf '%-13s %8s %10s %10s %10s %10s\n' "$wl" "$files" \
			"$(awk -v b="$bytes" 'BEGIN { printf "%.1f\n", b / 1e6 }')" \
			"$secs" "$(rate "$files" "$secs")" \
			"$(rate "$(awk -v b="$bytes" 'BEGIN { print b / 1e6 }')" "$secs")"
	done
}

# Prints commit-jsonl's ratios jsonl / opaque per target (target <= 1.2).
print_commit_ratios() {
	local t tot cls verdict
	case " ${rows[*]} " in *" commit-jsonl "*) ;; *) return 0 ;; esac
	echo
	echo "commit-jsonl: big.jsonl (validated) / big.bin (opaque), the same" \
		"bytes, median times; target <= 1.2 on hydrafs"
	printf '%-10s %12s %12s\n' target write+close close
	for t in raw hydrafs; do
		tot=$(ratio "$(cell commit-jsonl "$t")" "$(cell commit-bin "$t")")
		cls=$(ratio "$(cell commit-jsonl-close "$t")" \
			"$(cell commit-bin-close "$t")")
		[ "$tot$cls" = -- ] && continue
		verdict=''
		if [ "$t" = hydrafs ] && is_num "$tot" && is_num "$cls"; then
			verdict=PASS
			awk -v a="$tot" -v b="$cls" 'BEGIN { exit !(a > 1.2 || b > 1.2) }' &&
				verdict=MISS
		fi
		printf '%-10s %12s %12s %s\n' "$t" "$tot" "$cls" "$verdict"
	done
}

# Builds validators.c against the build tree's core library; dies when
# validators were asked for by name, else skips them.
build_validators() {
	local lib=$top_build/core/libhydracore.a
	local named=$1
	if [ ! -f "$lib" ]; then
		[ "$named" = 1 ] && die "no $lib: build the tree or set BENCH_TOP_BUILD"
		log "skipped validators: no $lib (set BENCH_TOP_BUILD)"
		return 1
	fi
	pkg-config --exists libxxhash || die "no libxxhash pkg-config"
	# shellcheck disable=SC2046 # pkg-config output is a list of words
	cc -O2 -I"$srcdir" -o "$build/validators" "$here/validators.c" "$lib" \
		$(pkg-config --libs libxxhash) -lcsv || die "validators: build failed"
}

# Runs the validators benchmark (sized by BENCH_VALIDATE_MB, else 200 MB x
# scale) and keeps its table next to the results.
run_validators() {
	local mb out=${results%.tsv}-validators.txt
	mb=${BENCH_VALIDATE_MB:-$(awk -v s="$scale" 'BEGIN {
		v = 200 * s; printf "%g\n", v < 1 ? 1 : v }')}
	log "validators: $mb MB per format"
	if ! BENCH_VALIDATE_MB=$mb "$build/validators" >"$out"; then
		log "validators failed"
		failed=1
		return
	fi
	echo
	echo "Validators, in memory, $mb MB per format:"
	cat "$out"
	echo "Validators table: $out"
}

# Sets verify to 1 when the verify-* workloads among $1 can run: on a real
# hydrafs, with hydractl; dies when they were named in BENCH_ONLY and
# cannot.
check_verify() {
	local why=''
	verify=0
	[[ " $1 " == *" verify-"* ]] || return 0
	case " $targets " in *" hydrafs "*) ;; *) return 0 ;; esac
	if [ "$standin" = 1 ]; then
		why="hydrafs is a stand-in"
	elif [ ! -x "$hydractl" ]; then
		why="no hydractl at $hydractl (set HYDRACTL)"
	fi
	if [ -z "$why" ]; then
		verify=1
	elif [[ ,${BENCH_ONLY:-}, == *,verify-* ]]; then
		die "verify-small, verify-big: $why"
	else
		log "skipped verify-small, verify-big: $why"
	fi
}

main() {
	local workloads wl r t validators=0
	[[ $runs =~ ^[1-9][0-9]*$ ]] || die "bad BENCH_RUNS '$runs'"
	[[ ${BENCH_DIR:-/var/tmp} != *[[:space:]]* ]] ||
		die "BENCH_DIR must not contain white space"
	targets=$(pick target "${BENCH_TARGETS:-${all_targets// /,}}" "$all_targets")
	if [ "$targets" != "raw " ]; then
		[ -e /dev/fuse ] || skip "no /dev/fuse"
		command -v fusermount3 >/dev/null || skip "no fusermount3"
	fi

	setup_build
	BENCH_SCALE=$scale "$build/workload" list >/dev/null 2>&1 ||
		die "bad BENCH_SCALE '$scale'"
	workloads=$(pick workload "${BENCH_ONLY:-$("$build/workload" list | paste -sd,),validators}" \
		"$("$build/workload" list | paste -sd' ') validators")
	case " $workloads " in *" validators "*)
		workloads=" $workloads"
		workloads=${workloads/ validators / }
		[[ ,${BENCH_ONLY:-}, == *,validators,* ]] && validators=1
		build_validators "$validators" && validators=1 ;;
	esac

	standin=0
	if [ ! -x "$hydrafs" ]; then
		[ -z "${HYDRAFS:-}" ] || die "HYDRAFS '$HYDRAFS' is not an executable"
		standin=1
		case " $targets " in *" hydrafs "*)
			log "$hydrafs not found: passthrough_ll stands in for hydrafs" ;;
		esac
	fi
	setups=$("$build/workload" setups | paste -sd' ')
	check_verify "$workloads"

	mkdir -p "${BENCH_DIR:-/var/tmp}"
	work=$(mktemp -d "${BENCH_DIR:-/var/tmp}/hydrafs-bench.XXXXXX")
	work=$(cd "$work" && pwd -P)
	base=$work
	[ -z "${BENCH_LOOP:-}" ] || setup_loop "$BENCH_LOOP"
	printf 'workload\ttarget\trun\tseconds\n' >"$runs_file"
	log "scale $scale, $runs runs, targets: $targets, in $base"
	load_start=$(cut -d' ' -f1 /proc/loadavg)
	awk -v l="$load_start" 'BEGIN { exit !(l >= 0.5) }' &&
		log "load average $load_start: other work on this machine makes times noisy"
	# The order of the targets turns by one each run, so that none always
	# follows the same other (whose deletes and writeback still load the
	# disk when the next one starts).
	for wl in $workloads; do
		read -ra tlist <<<"$(targets_of "$wl")"
		for r in $(seq "$runs"); do
			for ((i = 0; i < ${#tlist[@]}; i++)); do
				t=${tlist[(i + r - 1) % ${#tlist[@]}]}
				log "$wl: run $r on $t"
				run_one "$wl" "$t" "$r"
			done
		done
	done
	if [ "${#rows[@]}" != 0 ]; then
		print_table
		print_commit_ratios
		print_openappend_ratios
		print_append1fd_rates
		print_visibility
		print_verify
	fi
	[ "$validators" = 0 ] || run_validators
	[ "$failed" = 0 ] || die "some runs failed (FAIL in the table, or validators)"
}

main "$@"
