#!/bin/bash
# Builds the parser fuzz targets with clang and libFuzzer (ASan + UBSan) and
# runs each for SECONDS (default 60) from the seed corpus in tests/fuzz/corpus.
# Exits non-zero when a target crashes, leaks, hangs or fails to build.
# SECONDS=0 only builds (then reproduce with $out/fuzz_TARGET INPUT).
#
#   bash tests/fuzz/run.sh [SECONDS]
# Needs clang-14 and libfuzzer-14-dev (apt-get install -y clang-14 libfuzzer-14-dev).
set -euo pipefail

seconds=${1:-60}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "usage: run.sh [SECONDS]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${KILN_FUZZ_OUT:-${TMPDIR:-/tmp}/kiln-fuzz}
cxx=${CXX_FUZZ:-clang++-14}
command -v "$cxx" >/dev/null || { echo "run.sh: $cxx not found" >&2; exit 2; }

mkdir -p "$out/obj"
common=(-std=c++20 -O1 -g -fno-omit-frame-pointer -I"$root"
        -fsanitize=address,undefined -fno-sanitize-recover=all)

# The parser and the one base source it needs, built once for all targets.
objs=()
for src in "$root"/parser/*.cpp "$root"/base/result.cpp; do
  obj="$out/obj/$(basename "$(dirname "$src")")_$(basename "$src" .cpp).o"
  if [[ ! -f $obj || $src -nt $obj || -n $(find "$root/parser" -name '*.hpp' -newer "$obj") ]]; then
    "$cxx" "${common[@]}" -fsanitize=fuzzer-no-link -c "$src" -o "$obj"
  fi
  objs+=("$obj")
done

status=0
for target in parser expander ignore regex; do
  bin="$out/fuzz_$target"
  "$cxx" "${common[@]}" -fsanitize=fuzzer "$root/tests/fuzz/fuzz_$target.cpp" "${objs[@]}" -o "$bin"
  [[ $seconds == 0 ]] && continue
  # Work on a copy so new inputs do not land in the checked-in seed corpus.
  work="$out/corpus_$target"
  mkdir -p "$work"
  cp -n "$root/tests/fuzz/corpus/$target"/* "$work"/ 2>/dev/null || true
  echo "== fuzz_$target for ${seconds}s"
  if ! (cd "$out" && "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
          -max_len=8192 -print_final_stats=1 "$work"); then
    echo "fuzz_$target FAILED (crash input saved in $out)" >&2
    status=1
  fi
done
exit $status
