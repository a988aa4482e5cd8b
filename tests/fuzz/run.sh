#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Builds every tests/fuzz/fuzz_*.c with clang's libFuzzer under ASan+UBSan and
# runs each for FUZZ_SECONDS (default 20).  Exits non-zero on any crash.
#   tests/fuzz/run.sh [TARGET...]      (run from a configured build dir or
#                                       give BUILDDIR; needs config.h)
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILDDIR:-$PWD}
out=${FUZZ_OUT:-$build/tests/fuzz}
secs=${FUZZ_SECONDS:-20}
cc=${FUZZ_CC:-clang}
[ -f "$build/config.h" ] || { echo "fuzz: no config.h in '$build' (run configure, or set BUILDDIR)" >&2; exit 2; }
command -v "$cc" >/dev/null || { echo "fuzz: '$cc' not found (Debian package clang)" >&2; exit 2; }
mkdir -p "$out"

# Every target links all of core/ (the library); a target names in its
# header what it needs beyond it ("fuzz-sources:", "fuzz-pkg:").
core_sources=()
for f in "$src"/core/*.c; do core_sources+=("core/$(basename "$f")"); done
read -ra xxh_cflags <<<"$(pkg-config --cflags libxxhash)"
read -ra xxh_libs <<<"$(pkg-config --libs libxxhash)"
flags=(-g -O1 "-fsanitize=fuzzer,address,undefined" -fno-sanitize-recover=all
	-I"$src" -I"$build" "${xxh_cflags[@]}")
libs=("${xxh_libs[@]}" -lcsv)

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	for f in "$src"/tests/fuzz/fuzz_*.c; do
		targets+=("$(basename "$f" .c)")
	done
fi
status=0
for t in "${targets[@]}"; do
	bin=$out/$t
	# A target names what it needs beyond core/ in its header comment.
	extra=$(sed -n 's|.*fuzz-sources: *||p' "$src/tests/fuzz/$t.c")
	pkgs=$(sed -n 's|.*fuzz-pkg: *||p' "$src/tests/fuzz/$t.c")
	extra_src=()
	for f in $extra; do
		case $f in core/*) ;; *) extra_src+=("$src/$f") ;; esac
	done
	# shellcheck disable=SC2046,SC2086 # pkg-config output is word lists
	"$cc" "${flags[@]}" ${pkgs:+$(pkg-config --cflags $pkgs)} \
		"$src/tests/fuzz/$t.c" "${core_sources[@]/#/$src/}" \
		"${extra_src[@]}" -o "$bin" "${libs[@]}" \
		${pkgs:+$(pkg-config --libs $pkgs)}
	corpus=$out/$t.corpus
	mkdir -p "$corpus"
	if [ -d "$src/tests/fuzz/seeds/$t" ]; then
		cp -n "$src/tests/fuzz/seeds/$t"/* "$corpus"/
	fi
	echo "fuzz: $t for ${secs}s"
	if ! "$bin" -max_total_time="$secs" -max_len=4096 -print_final_stats=0 -close_fd_mask=2 \
		-artifact_prefix="$out/$t-" "$corpus" >"$out/$t.log" 2>&1; then
		echo "fuzz: $t FAILED:" >&2
		tail -n 40 "$out/$t.log" >&2
		status=1
	else
		grep -E '^Done|#[0-9]+.*DONE' "$out/$t.log" | tail -n 1 || true
	fi
done
exit $status
