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
		cc -O2 -o "$build/workload" "$here/workload.c" -lm &&
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

# One run of workload $1 on target $2 (run number $3): records each line the
# driver prints as "name target run seconds" in $runs_file, or FAIL.
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
	if [ "$target" != raw ] && ! start_daemon "$daemon" "$backing" "$mnt"; then
		record "$wl" "$target" "$r" FAIL
		return
	fi
	if mkdir "$dir"; then
		sync
		# In the background, so that a signal's trap runs at once.
		BENCH_RUN=$r timeout -k 10 "$tmo" "$build/workload" "$wl" "$dir" \
			>"$work/workload.out" 2>"$work/workload.err" &
		wl_pid=$!
		wait "$wl_pid" || rc=$?
		wl_pid=''
	else
		rc=1
	fi
	if [ "$target" != raw ] && ! stop_daemon; then
		log "$target exited with an error after $wl run $r:"
		tail -n 20 "$work/daemon.log" >&2
		[ "$rc" != 0 ] || rc=1
	fi
	if [ "$rc" = 124 ]; then
		log "$wl on $target, run $r: timed out after ${tmo}s"
	elif [ "$rc" != 0 ]; then
		log "$wl on $target, run $r: failed ($rc):"
	fi
	if [ "$rc" != 0 ]; then
		tail -n 20 "$work/workload.err" >&2
		record "$wl" "$target" "$r" FAIL
		return
	fi
	while read -r name secs; do
		[ -n "$secs" ] || { secs=$name; name=$wl; }
		record "$name" "$target" "$r" "$secs"
	done <"$work/workload.out"
}

declare -A times
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
	printf '%-18s %10s %12s %14s %10s | %11s %12s %-14s %s\n' workload raw \
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
		printf '%-18s %10s %11s%s %14s %10s | %11s %12s %-14s %s\n' "$name" \
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
# hydrafs's commit, so only hydrafs and raw (for reference).
targets_of() {
	local t
	case $1 in
	commit-jsonl)
		for t in $targets; do
			case $t in raw | hydrafs) printf '%s ' "$t" ;; esac
		done ;;
	*) printf '%s' "$targets" ;;
	esac
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
	[ "${#rows[@]}" = 0 ] || { print_table; print_commit_ratios; }
	[ "$validators" = 0 ] || run_validators
	[ "$failed" = 0 ] || die "some runs failed (FAIL in the table, or validators)"
}

main "$@"
