#!/usr/bin/env bash
# bench/layers/run.sh [--small] [--rounds N] [KILN]
#
# The Performance figures of issue 4, kiln next to the plain tools on the same
# 20,000-file, 1 GiB tree (bench/gen/tree.py; --small: 400 files, 20 MiB):
#   write zstd   kiln import DIR --compression zstd   vs  tar -c | zstd -T0   (goal ≤ 1.3×)
#   write gzip   kiln import DIR --compression gzip   vs  tar -c | pigz       (goal < 1.0×)
#   apply zstd   kiln unpack IMAGE DIR                vs  zstd -dc | tar -x   (goal ≤ 1.3×)
#                (layer cache emptied first: the blob is applied into it, then
#                copied out; kiln-unpack-cached is a second unpack, a copy only)
#   peak RSS of every kiln run                                                (goal < 64 MiB)
# Runs alternate (kiln, tool, kiln, tool, …); the median wall time is reported.
# The page cache is left warm for both sides (dropping it would disturb others).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
small=0 rounds=3 kiln=/work/build-layers/cli/kiln
while [ $# -gt 0 ]; do
  case $1 in
    --small) small=1 ;;
    --rounds) rounds=$2; shift ;;
    *) kiln=$1 ;;
  esac
  shift
done
W=${BENCH_LAYERS_DIR:-/var/tmp/kiln-bench-layers}
files=20000 bytes=$((1 << 30))
((small)) && files=400 bytes=$((20 << 20))
tree=$W/tree-$files
mkdir -p "$W"
if [ ! -f "$tree.done" ]; then
  echo "generating $files files, $((bytes >> 20)) MiB in $tree" >&2
  rm -rf "$tree"
  "$here/../gen/tree.py" "$tree" "$files" "$bytes" --seed 31
  touch "$tree.done"
fi

# timed LABEL PREP CMD: one run; appends "wall maxrss_kib" to $W/LABEL.times.
timed() {
  local label=$1 prep=$2 cmd=$3
  bash -c "$prep"
  /usr/bin/time -f "%e %M" -o "$W/.t" bash -c "$cmd" >/dev/null
  cat "$W/.t" >> "$W/$label.times"
}
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
col() { awk -v c="$2" '{print $c}' "$W/$1.times"; }

rm -f "$W"/*.times
store=$W/store
for ((i = 0; i < rounds; i++)); do
  timed kiln-zstd "rm -rf $store" "$kiln --root $store import $tree -t bench/layer:zstd --compression zstd"
  timed tar-zstd "rm -f $W/l.tar.zst" "tar -C $tree -cf - . | zstd -T0 -q -c > $W/l.tar.zst"
  timed kiln-gzip "rm -rf $store.gz" "$kiln --root $store.gz import $tree -t bench/layer:gzip --compression gzip"
  timed tar-pigz "rm -f $W/l.tar.gz" "tar -C $tree -cf - . | pigz -c > $W/l.tar.gz"
done
for ((i = 0; i < rounds; i++)); do
  timed kiln-unpack "rm -rf $W/u $store/kiln/layers" "$kiln --root $store unpack bench/layer:zstd $W/u"
  timed kiln-unpack-cached "rm -rf $W/u" "$kiln --root $store unpack bench/layer:zstd $W/u"
  timed zstd-tar-x "rm -rf $W/x && mkdir $W/x" "zstd -dc $W/l.tar.zst | tar -x -C $W/x"
done
rm -rf "$W/u" "$W/x"

kz=$(find "$store/blobs" -type f -printf '%s\n' | sort -n | tail -1)
kg=$(find "$store.gz/blobs" -type f -printf '%s\n' | sort -n | tail -1)
printf '%-28s %9s %10s %9s\n' workload "wall s" "ratio" "RSS MiB"
row() {  # LABEL BASELINE
  local w r b
  w=$(col "$1" 1 | median)
  r=$(col "$1" 2 | sort -n | tail -1)
  if [ -n "${2:-}" ]; then b=$(col "$2" 1 | median); else b=$w; fi
  printf '%-28s %9.2f %9.2fx %9.1f\n' "$1" "$w" "$(echo "$w / $b" | bc -l)" "$(echo "$r / 1024" | bc -l)"
}
row kiln-zstd tar-zstd; row tar-zstd
row kiln-gzip tar-pigz; row tar-pigz
row kiln-unpack zstd-tar-x; row kiln-unpack-cached zstd-tar-x; row zstd-tar-x
echo "sizes: kiln zstd $((kz >> 20)) MiB, tar+zstd $(($(stat -c %s "$W/l.tar.zst") >> 20)) MiB," \
  "kiln gzip $((kg >> 20)) MiB, tar+pigz $(($(stat -c %s "$W/l.tar.gz") >> 20)) MiB;" \
  "tree $(du -sm "$tree" | cut -f1) MiB, $files files; $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg)"
