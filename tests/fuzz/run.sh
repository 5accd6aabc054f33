#!/bin/bash
# Builds the fuzz targets with clang and libFuzzer (ASan + UBSan) and runs
# each for SECONDS from the seed corpus in tests/fuzz/corpus/<target>.
# SECONDS is the argument, else $KILN_FUZZ_SECONDS, else 20: a cold build
# takes about 3 minutes of CPU (under 2 minutes on two cores), so eight
# targets and the build stay under five minutes.
# Exits non-zero when a target crashes, leaks, hangs or fails to build.
# SECONDS=0 only builds (then reproduce with $out/fuzz_TARGET INPUT).
#
#   bash tests/fuzz/run.sh [SECONDS]
# Needs clang-14, libfuzzer-14-dev, and the headers kiln builds with
# (libarchive-dev, libssl-dev, nlohmann-json3-dev).
set -euo pipefail

seconds=${1:-${KILN_FUZZ_SECONDS:-20}}
[[ $seconds =~ ^[0-9]+$ ]] || { echo "usage: run.sh [SECONDS]" >&2; exit 2; }
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${KILN_FUZZ_OUT:-${TMPDIR:-/tmp}/kiln-fuzz}
cxx=${CXX_FUZZ:-clang++-14}
command -v "$cxx" >/dev/null || { echo "run.sh: $cxx not found" >&2; exit 2; }

mkdir -p "$out/obj"
common=(-std=c++20 -O1 -g -fno-omit-frame-pointer -I"$root"
        -fsanitize=address,undefined -fno-sanitize-recover=all)

# What each target links besides its own fuzz_TARGET.cpp: kiln sources
# (relative to the root; each compiled once, shared by every target that
# names it) and system libraries.
parser_srcs="$(cd "$root" && echo parser/*.cpp) base/platform.cpp base/result.cpp"
declare -A srcs=(
  [parser]=$parser_srcs [expander]=$parser_srcs [ignore]=$parser_srcs [regex]=$parser_srcs
  [tar]="layers/tar_reader.cpp layers/tar_entry.cpp base/stream.cpp base/sha256.cpp
         base/result.cpp"
  [manifest]="oci/manifest.cpp oci/descriptor.cpp oci/config.cpp oci/digest.cpp oci/json.cpp
              oci/media_types.cpp oci/platform.cpp base/platform.cpp base/sha256.cpp
              base/result.cpp"
  [reference]="oci/reference.cpp oci/digest.cpp base/sha256.cpp base/result.cpp"
  [www_authenticate]="registry/www_authenticate.cpp registry/url.cpp registry/scope.cpp
                      base/result.cpp"
)
declare -A libs=([tar]="-larchive -lcrypto" [manifest]=-lcrypto [reference]=-lcrypto)
targets=(parser expander ignore regex tar manifest reference www_authenticate)

# Whether OUTPUT must be made again: it is missing, or a file it was made
# from (its dependency file, written by -MMD, lists the kiln ones) is newer.
stale() {
  local output=$1 deps=$2 f
  [[ -f $output && -f $deps ]] || return 0
  for f in $(sed -e 's/^[^:]*://' -e 's/\\$//' "$deps"); do
    [[ $f -nt $output ]] && return 0
  done
  return 1
}

object_of() { local o="$out/obj/${1//\//_}"; echo "${o%.cpp}.o"; }

# The objects first, on every core; each is shared by the targets naming it.
declare -A seen=()
pids=()
for target in "${targets[@]}"; do
  for src in ${srcs[$target]}; do
    [[ -n ${seen[$src]:-} ]] && continue
    seen[$src]=1
    obj=$(object_of "$src")
    stale "$obj" "${obj%.o}.d" || continue
    while (($(jobs -rp | wc -l) >= ${KILN_FUZZ_JOBS:-$(nproc)})); do sleep 0.2; done
    "$cxx" "${common[@]}" -fsanitize=fuzzer-no-link -MMD -MF "${obj%.o}.d" -c "$root/$src" \
      -o "$obj" &
    pids+=($!)
  done
done
for pid in "${pids[@]}"; do
  wait "$pid" || { echo "run.sh: a kiln source failed to build" >&2; exit 1; }
done

status=0
for target in "${targets[@]}"; do
  objs=()
  relink=0
  for src in ${srcs[$target]}; do
    obj=$(object_of "$src")
    [[ $obj -nt $out/fuzz_$target ]] && relink=1
    objs+=("$obj")
  done
  bin="$out/fuzz_$target"
  if ((relink)) || stale "$bin" "$bin.d"; then
    # shellcheck disable=SC2086  # libs are separate words
    "$cxx" "${common[@]}" -fsanitize=fuzzer -MMD -MF "$bin.d" \
      "$root/tests/fuzz/fuzz_$target.cpp" "${objs[@]}" ${libs[$target]:-} -o "$bin"
  fi
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
