# bench/lib/bases.sh: the base images, made offline and cached in $BENCH_CACHE:
#   busybox: /bin/busybox from busybox-static plus a symlink per applet
#   debian:  debootstrap --variant=minbase bookworm (downloaded once, then cached)
# Each becomes a one-layer OCI layout ($BASE_BUSYBOX:latest, $BASE_DEBIAN:bookworm).

debian_mirror() {
  local m
  m=$(grep -hs '^URIs:' /etc/apt/sources.list.d/debian.sources | head -1 | awk '{print $2}')
  [ -n "$m" ] || m=$(grep -hsE '^deb +(\[[^]]*\] +)?https?://[^ ]+ +bookworm +' /etc/apt/sources.list \
                     | head -1 | sed -E 's/^deb +(\[[^]]*\] +)?//' | awk '{print $1}')
  echo "${m:-http://deb.debian.org/debian}"
}

make_busybox_rootfs() { # DIR
  local d=$1 a
  rm -rf "$d"; mkdir -p "$d"/{bin,sbin,usr/bin,usr/sbin,etc,root,tmp,var,dev,proc,sys}
  chmod 1777 "$d/tmp"; chmod 700 "$d/root"
  cp /bin/busybox "$d/bin/busybox"
  for a in $("$d/bin/busybox" --list-full); do
    [ "$a" = bin/busybox ] || [ -e "$d/$a" ] || ln -s /bin/busybox "$d/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > "$d/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$d/etc/group"
}

make_bases() {
  BASE_BUSYBOX=$BENCH_CACHE/base/busybox
  BASE_DEBIAN=$BENCH_CACHE/base/debian
  local gen=$BENCH_DIR/gen/oci-image.sh me=$BENCH_DIR/lib/bases.sh
  if ! BENCH_SCALE=any cache_ok "$BASE_BUSYBOX" "$gen" "$me" /bin/busybox; then
    log "making the busybox base (busybox-static)"
    make_busybox_rootfs "$BENCH_CACHE/busybox-rootfs"
    "$gen" "$BASE_BUSYBOX" latest "$BENCH_CACHE/busybox-rootfs" || die "busybox base"
    BENCH_SCALE=any cache_done "$BASE_BUSYBOX" "$gen" "$me" /bin/busybox
  fi
  local rootfs=$BENCH_CACHE/debian-rootfs
  if [ ! -f "$rootfs.done" ]; then
    local mirror; mirror=$(debian_mirror)
    log "debootstrap --variant=minbase bookworm from $mirror (once; cached in $rootfs)"
    rm -rf "$rootfs.tmp"
    debootstrap --variant=minbase bookworm "$rootfs.tmp" "$mirror" > "$BENCH_CACHE/debootstrap.log" 2>&1 \
      || { tail -5 "$BENCH_CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $BENCH_CACHE/debootstrap.log)"; }
    rm -rf "$rootfs"; mv "$rootfs.tmp" "$rootfs"
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*_Packages
    touch "$rootfs.done"
  fi
  if ! BENCH_SCALE=any cache_ok "$BASE_DEBIAN" "$gen" "$me" "$rootfs.done"; then
    log "making the debian base image"
    "$gen" "$BASE_DEBIAN" bookworm "$rootfs" || die "debian base"
    BENCH_SCALE=any cache_done "$BASE_DEBIAN" "$gen" "$me" "$rootfs.done"
  fi
  export BASE_BUSYBOX BASE_DEBIAN
}
