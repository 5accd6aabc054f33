# bench/workloads/unpack.sh: the ~1 GiB, 4-layer image from the local store into a
# directory (kiln unpack vs umoci unpack; floor: pigz -dc | tar -x per layer).
#
# kiln's store is prepared once (kiln pull, or skopeo into the store's layout when
# kiln has no pull yet) and hard-link copied before each run, so any unpacked-layer
# cache kiln keeps in its store starts empty every time.

wl_unpack() {
  need_big_in_registry
  group unpack
  if kiln_has unpack; then
    seed_kiln_store "$W/k-unpack-pristine" "$REG/bench/big:1" || die "seeding the kiln store for unpack"
  fi
  kiln_entry unpack 'rm -rf $W/k-unpack $W/k-unpack-out && cp -al $W/k-unpack-pristine $W/k-unpack' \
    '$KILN --root $W/k-unpack unpack $REG/bench/big:1 $W/k-unpack-out'
  entry peer umoci 'rm -rf $W/u-unpack-out' 'umoci unpack --image $BIG:1 $W/u-unpack-out'
  entry ceiling "pigz+tar" 'rm -rf $W/t-unpack-out' '$BENCH_DIR/ceiling/tar-unpack.sh $BIG 1 $W/t-unpack-out'
  goal wall "pigz+tar" 1.3
  goal_abs rss 65536 "64 MiB"
  run_group
}
