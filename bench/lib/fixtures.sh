# bench/lib/fixtures.sh: what the workloads need, set up once per run on demand.
#   need_registry / need_registry2   docker-registry (TLS + htpasswd) as $REG / $REG2
#   need_nginx                       the read-only nginx registry as $NGX
#   need_big_image                   the ~1 GiB, 4-layer image layout as $BIG (tag 1)
#   need_big_in_registry             $REG/bench/big:1
#   need_bases_in_registry           $REG/bench/busybox:latest, $REG/bench/debian:bookworm
#   warm_big REG|NGX                 bench/big's blobs read into the page cache where
#                                    that registry serves them from
#   seed_kiln_store STORE REF...     a kiln store holding REF (kiln pull, else skopeo)
#   buildah_store_reset ROOT REF...  an empty buildah storage holding REF
# Variables used in the timed commands are exported (the commands run in bash -c).

export BENCH_DIR KILN BENCH_USER BENCH_PASS

need_tls() {
  [ -n "${AUTHFILE:-}" ] && return 0
  make_tls
  # global flags of kiln and skopeo for the loopback registries
  KFLAGS="--authfile $AUTHFILE --cert-dir $CERT_DIR"
  SFLAGS="--authfile $AUTHFILE --src-cert-dir $CERT_DIR --dest-cert-dir $CERT_DIR"
  export KFLAGS SFLAGS
}

need_registry() {
  [ -n "${REG:-}" ] && return 0
  need_tls
  registry_start main "$BENCH_REG_PORT"
  export REG=127.0.0.1:$BENCH_REG_PORT
}
need_registry2() {
  [ -n "${REG2:-}" ] && return 0
  need_tls
  registry_start second "$BENCH_REG2_PORT"
  export REG2=127.0.0.1:$BENCH_REG2_PORT
}

# registry_has HOST:PORT REPO TAG
registry_has() {
  curl -fsS -o /dev/null -I --cacert "$CA_CRT" -u "$BENCH_USER:$BENCH_PASS" \
    -H 'Accept: application/vnd.oci.image.manifest.v1+json' "https://$1/v2/$2/manifests/$3" 2>/dev/null
}

need_big_image() {
  export BIG=$DATA/big-image
  local gen=$BENCH_DIR/gen
  cache_ok "$BIG" "$gen/tree.py" "$gen/oci-image.sh" && return 0
  local per=$(( 320 * 1024 * 1024 )) files i dirs=()
  per=$(scaled "$per"); files=$(scaled 5000)
  log "generating the 4-layer image ($files files, $(( per >> 20 )) MiB raw per layer) in $BIG"
  for i in 1 2 3 4; do
    "$gen/tree.py" "$DATA/big-tree/layer$i" "$files" "$per" --seed "$i" || die "tree"
    dirs+=("$DATA/big-tree/layer$i")
  done
  "$gen/oci-image.sh" "$BIG" 1 "${dirs[@]}" || die "oci-image.sh"
  rm -rf "$DATA/big-tree"
  cache_done "$BIG" "$gen/tree.py" "$gen/oci-image.sh"
}

need_big_in_registry() {
  need_registry; need_big_image
  registry_has "$REG" bench/big 1 || registry_seed main "$BIG" 1 bench/big:1
}

need_bases_in_registry() {
  need_registry; make_bases
  registry_has "$REG" bench/busybox latest || registry_seed main "$BASE_BUSYBOX" latest bench/busybox:latest
  registry_has "$REG" bench/debian bookworm || registry_seed main "$BASE_DEBIAN" bookworm bench/debian:bookworm
}

need_nginx() {
  [ -n "${NGX:-}" ] && return 0
  need_tls; need_big_image
  nginx_registry_start "$BIG" bench/big
  export NGX=127.0.0.1:$BENCH_NGINX_PORT
}

# warm_big REG|NGX: read the big image's blobs where that registry keeps them, so
# the server answers from memory. This host pages out page cache left unread for
# about a minute (DAMON reclaim), and a server that waits on its disk is not the
# registry the goals measure against: whichever tool ran first after a pause
# would pay for the disk. Every entry reading $REG or $NGX warms in its prep.
warm_big() {
  local storage=$RUN/registry-main/storage/docker/registry/v2/blobs/sha256 f hex n=0
  for f in "$BIG"/blobs/sha256/*; do
    hex=${f##*/}
    case $1 in
      NGX) ;;
      REG) f=$storage/${hex:0:2}/$hex/data; [ -f "$f" ] || continue ;;
      *) die "warm_big: REG or NGX, not $1" ;;
    esac
    cat "$f" > /dev/null && n=$((n + 1))
  done
  [ "$n" -gt 0 ] || die "warm_big $1: none of bench/big's blobs found"
}

# seed_kiln_store STORE REF...: an empty kiln store, then each REF pulled into it,
# by `kiln pull` when kiln has it, else by skopeo into the store's OCI layout
# (ref.name annotation = the full reference, as DESIGN.md says kiln names images).
seed_kiln_store() {
  local store=$1 ref; shift
  fresh_dir "$store"
  for ref in "$@"; do
    if kiln_has pull; then
      "$KILN" --root "$store" $KFLAGS pull -q "$ref" >/dev/null || return 1
    else
      skopeo copy -q $SFLAGS "docker://$ref" "oci:$store:$ref" >/dev/null || return 1
    fi
  done
}

# The storage driver for buildah: overlay when it works here, else vfs.
buildah_driver() {
  [ -n "${BUILDAH_DRIVER:-}" ] && { echo "$BUILDAH_DRIVER"; return; }
  local t=$RUN/buildah-probe d=vfs
  make_bases
  if buildah --root "$t/root" --runroot "$t/run" --storage-driver overlay \
       from --pull-never -q --name probe "oci:$BASE_BUSYBOX:latest" >/dev/null 2>&1 &&
     buildah --root "$t/root" --runroot "$t/run" --storage-driver overlay \
       run --isolation chroot probe -- /bin/true >/dev/null 2>&1; then
    d=overlay
  fi
  buildah --root "$t/root" --runroot "$t/run" --storage-driver overlay rm -a >/dev/null 2>&1
  unmount_under "$t"; rm -rf --one-file-system "$t"
  BUILDAH_DRIVER=$d
  echo "$d"
}

# buildah_store_reset ROOT REF...: empty storage at ROOT (runroot ROOT-run), REFs pulled.
buildah_store_reset() {
  local root=$1 ref; shift
  if [ -d "$root" ]; then
    buildah --root "$root" --runroot "$root-run" --storage-driver "$BUILDAH_DRIVER" rm -a >/dev/null 2>&1
    unmount_under "$root"; unmount_under "$root-run"
    rm -rf --one-file-system "$root" "$root-run"
  fi
  mkdir -p "$root"
  for ref in "$@"; do
    buildah --root "$root" --runroot "$root-run" --storage-driver "$BUILDAH_DRIVER" pull -q \
      --authfile "$AUTHFILE" --cert-dir "$CERT_DIR" "docker://$ref" >/dev/null || return 1
  done
}
