# bench/workloads/layer.sh: snapshot a 20k-file, 1 GiB tree into a zstd and a gzip
# layer. kiln has no snapshot command, so `kiln import DIR -t REF` (a one-layer
# image) stands in; limits: `tar -c | zstd -T0` and `tar -c | pigz`.

# layer_sizes GROUP FILE TOOL: the output sizes of the last runs, so a ratio is
# read next to how hard each side compressed (the largest blob in kiln's store is
# its layer).
layer_sizes() {
  local k=- t=-
  [ -d "$W/k-layer/blobs" ] && k=$(find "$W/k-layer/blobs" -type f -printf '%s\n' | sort -n | tail -1)
  [ -f "$2" ] && t=$(stat -c %s "$2")
  NOTES+=("$1: output size: kiln $(fmt_mib "$(( ${k/-/0} / 1024 ))"), $3 $(fmt_mib "$(( ${t/-/0} / 1024 ))") (input $(du -sb "$TREE" | awk '{printf "%.1f MiB", $1/1048576}'))")
}

wl_layer() {
  export TREE=$DATA/layer-tree
  local gen=$BENCH_DIR/gen
  if ! cache_ok "$TREE" "$gen/tree.py"; then
    log "generating the layer tree ($(scaled 20000) files, $(( $(scaled $(( 1 << 30 ))) >> 20 )) MiB)"
    "$gen/tree.py" "$TREE" "$(scaled 20000)" "$(scaled $(( 1 << 30 )))" --seed 31 || die "layer tree"
    cache_done "$TREE" "$gen/tree.py"
  fi
  local has_import=0 has_comp=0
  kiln_has import && has_import=1
  kiln_has_flag import --compression && has_comp=1

  group "layer (zstd)"
  local zcmd='$KILN --root $W/k-layer import $TREE -t bench/layer:zstd --compression zstd'
  if (( has_comp )); then entry kiln kiln 'fresh_dir $W/k-layer' "$zcmd"
  elif (( has_import )); then notyet kiln "'kiln import' has no --compression" "$zcmd"
  else notyet kiln "no 'kiln import'" "$zcmd"; fi
  entry ceiling "tar+zstd -T0" 'rm -f $W/layer.tar.zst' 'tar -C $TREE -cf - . | zstd -T0 -q -c > $W/layer.tar.zst'
  goal wall "tar+zstd -T0" 1.3
  goal_abs rss 65536 "64 MiB"
  run_group
  layer_sizes "layer (zstd)" "$W/layer.tar.zst" "tar+zstd -T0"

  group "layer (gzip)"
  if (( has_comp )); then
    entry kiln kiln 'fresh_dir $W/k-layer' '$KILN --root $W/k-layer import $TREE -t bench/layer:gzip --compression gzip'
  elif (( has_import )); then
    # no flag: the default compression (gzip per DESIGN.md)
    entry kiln kiln 'fresh_dir $W/k-layer' '$KILN --root $W/k-layer import $TREE -t bench/layer:gzip'
  else notyet kiln "no 'kiln import'" '$KILN --root $W/k-layer import $TREE -t bench/layer:gzip --compression gzip'; fi
  entry ceiling "tar+pigz" 'rm -f $W/layer.tar.gz' 'tar -C $TREE -cf - . | pigz -c > $W/layer.tar.gz'
  goal wall "tar+pigz" 1.0
  goal_abs rss 65536 "64 MiB"
  run_group
  layer_sizes "layer (gzip)" "$W/layer.tar.gz" "tar+pigz"
}
