#!/bin/bash
# Builds and runs the parser micro-benchmark: parse a 10,000-line
# Containerfile (target < 20 ms) and check 100,000 context paths against 50
# ignore patterns (target > 1M checks/s). Prints the figures.
#
#   bash bench/parse/run.sh [CONTEXT_DIR]   (default /tmp/kiln-bench-context, created once)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${TMPDIR:-/tmp}/kiln-bench-parse
mkdir -p "$out"
cxx=${CXX:-g++}
"$cxx" -std=c++20 -O2 -DNDEBUG -I"$root" -o "$out/bench_parse" \
  "$root/bench/parse/bench_parse.cpp" "$root"/parser/*.cpp "$root/base/result.cpp"
"$out/bench_parse" "$@"
