# bench/workloads/layer.sh: snapshot a 20k-file, 1 GiB tree into a zstd and a gzip
# layer. kiln has no snapshot command, so `kiln import DIR -t REF` (a one-layer
# image) stands in; limits: `tar -c | zstd -T0` and `tar -c | pigz`.

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
  if (( has_comp )); then
    entry kiln kiln 'fresh_dir $W/k-layer' '$KILN --root $W/k-layer import $TREE -t bench/layer:zstd --compression zstd'
  elif (( has_import )); then notyet kiln "'kiln import' has no --compression"
  else notyet kiln "no 'kiln import'"; fi
  entry ceiling "tar+zstd -T0" 'rm -f $W/layer.tar.zst' 'tar -C $TREE -cf - . | zstd -T0 -q -c > $W/layer.tar.zst'
  goal wall "tar+zstd -T0" 1.3
  goal_abs rss 65536 "64 MiB"
  run_group

  group "layer (gzip)"
  if (( has_comp )); then
    entry kiln kiln 'fresh_dir $W/k-layer' '$KILN --root $W/k-layer import $TREE -t bench/layer:gzip --compression gzip'
  elif (( has_import )); then
    # no flag: the default compression (gzip per DESIGN.md)
    entry kiln kiln 'fresh_dir $W/k-layer' '$KILN --root $W/k-layer import $TREE -t bench/layer:gzip'
  else notyet kiln "no 'kiln import'"; fi
  entry ceiling "tar+pigz" 'rm -f $W/layer.tar.gz' 'tar -C $TREE -cf - . | pigz -c > $W/layer.tar.gz'
  goal wall "tar+pigz" 1.0
  goal_abs rss 65536 "64 MiB"
  run_group
}
