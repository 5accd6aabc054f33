# bench/workloads/transfer.sh: push, pull, copy, pull-unpack of the ~1 GiB,
# 4-layer image (kiln vs skopeo, ceilings: raw parallel curl).
#
# skopeo keeps a blob-info cache (/var/lib/containers/cache for root) that tells it
# which repositories already hold a blob; it is left as it is, as a user has it.

BIGREF='$REG/bench/big:1'

wl_push() {
  need_big_in_registry
  group push
  if kiln_has push; then
    seed_kiln_store "$W/k-push" "$REG/bench/big:1" || die "seeding the kiln store for push"
  fi
  kiln_entry push 'registry_reset main' "\$KILN --root \$W/k-push \$KFLAGS push $BIGREF \$REG/bench/pushed:1"
  entry peer skopeo 'registry_reset main' \
    'skopeo copy $SFLAGS oci:$BIG:1 docker://$REG/bench/pushed:1'
  entry ceiling curl 'registry_reset main' \
    '$BENCH_DIR/ceiling/curl-push.sh $BIG 1 $REG bench/pushed'
  goal wall curl 1.05
  goal cpu skopeo 0.5
  goal_abs rss 65536 "64 MiB"
  run_group

  # The same push again: the registry already has every blob and the manifest.
  need_big_in_registry
  registry_has "$REG" bench/pushed 1 || registry_seed main "$BIG" 1 bench/pushed:1
  group "push (already there)"
  kiln_entry push '' "\$KILN --root \$W/k-push \$KFLAGS push $BIGREF \$REG/bench/pushed:1"
  entry peer skopeo '' 'skopeo copy $SFLAGS oci:$BIG:1 docker://$REG/bench/pushed:1'
  goal wall skopeo 0.3
  run_group
}

wl_pull() {
  need_big_in_registry
  need_nginx
  local src name
  for src in REG NGX; do
    name="pull (docker-registry)"; [ $src = NGX ] && name="pull (nginx)"
    group "$name"
    kiln_entry pull "warm_big $src; fresh_dir \$W/k-pull" "\$KILN --root \$W/k-pull \$KFLAGS pull \$$src/bench/big:1"
    entry peer skopeo "warm_big $src; rm -rf \$W/s-pull" "skopeo copy \$SFLAGS docker://\$$src/bench/big:1 oci:\$W/s-pull:1"
    if [ $src = REG ]; then
      entry ceiling curl 'warm_big REG; rm -rf $W/c-pull' \
        'CURL_AUTH=$BENCH_USER:$BENCH_PASS $BENCH_DIR/ceiling/curl-pull.sh $REG bench/big 1 $W/c-pull'
      goal wall curl 1.05
    else
      entry ceiling curl 'warm_big NGX; rm -rf $W/c-pull' '$BENCH_DIR/ceiling/curl-pull.sh $NGX bench/big 1 $W/c-pull'
      goal wall skopeo 0.5
    fi
    goal cpu skopeo 0.5
    goal_abs rss 65536 "64 MiB"
    run_group
  done
}

wl_copy() {
  need_big_in_registry
  # Between two repositories of one registry: each run copies to a new repository,
  # so nothing is there yet; blobs may be mounted from bench/big (no bytes move).
  COPY_N=0
  group "copy (repo → repo)"
  kiln_entry copy 'COPY_N=$((COPY_N+1)); export DEST=bench/copy-$COPY_N' \
    "\$KILN \$KFLAGS copy $BIGREF \$REG/\$DEST:1"
  entry peer skopeo 'COPY_N=$((COPY_N+1)); export DEST=bench/copy-$COPY_N' \
    "skopeo copy \$SFLAGS docker://$BIGREF docker://\$REG/\$DEST:1"
  entry ceiling curl 'COPY_N=$((COPY_N+1)); export DEST=bench/copy-$COPY_N' \
    '$BENCH_DIR/ceiling/curl-mount.sh $REG bench/big 1 $DEST'
  run_group

  # To a second, empty registry: every byte moves.
  need_registry2
  group "copy (registry → registry)"
  kiln_entry copy 'registry_reset second; warm_big REG' "\$KILN \$KFLAGS copy $BIGREF \$REG2/bench/big:1"
  entry peer skopeo 'registry_reset second; warm_big REG' "skopeo copy \$SFLAGS docker://$BIGREF docker://\$REG2/bench/big:1"
  entry ceiling curl 'registry_reset second; warm_big REG' '$BENCH_DIR/ceiling/curl-copy.sh $REG bench/big 1 $REG2 bench/big'
  goal_abs rss 65536 "64 MiB"
  run_group
}

wl_pull_unpack() {
  need_big_in_registry
  group pull-unpack
  # kiln goes registry → rootfs in one command: layers streamed into the
  # directory, nothing stored (the store stays empty).
  kiln_entry "unpack" 'warm_big REG; fresh_dir $W/k-pu; rm -rf $W/k-pu-out' \
    "\$KILN --root \$W/k-pu \$KFLAGS unpack docker://$BIGREF \$W/k-pu-out"
  entry peer "skopeo+umoci" 'warm_big REG; rm -rf $W/s-pu $W/s-pu-out' \
    "skopeo copy \$SFLAGS docker://$BIGREF oci:\$W/s-pu:1 && umoci unpack --image \$W/s-pu:1 \$W/s-pu-out"
  goal wall "skopeo+umoci" 0.4
  goal_abs rss 65536 "64 MiB"
  run_group
}
