#!/bin/bash
# oci-image.sh LAYOUT TAG DIR...: write an OCI image layout at LAYOUT holding one
# image named TAG whose layers are the given directories, in order (gzip, PAX tar,
# entries sorted, numeric owners as on disk, no atime/ctime; /dev, /proc and /sys
# contents left out). Made with GNU tar, pigz and sha256sum; no peer involved, so
# every tool under test reads the same bytes.
set -euo pipefail
layout=$1 tag=$2
shift 2
[ $# -ge 1 ] || { echo "usage: oci-image.sh LAYOUT TAG DIR..." >&2; exit 2; }
rm -rf "$layout"
mkdir -p "$layout/blobs/sha256"
tmp=$layout/.layer.tar
diffids=() layers=() history=()
arch=$(dpkg --print-architecture 2>/dev/null || echo amd64)

put_blob() { # FILE -> prints "digest size" and moves FILE into the layout
  local dg size
  dg=$(sha256sum < "$1" | cut -d' ' -f1)
  size=$(stat -c %s "$1")
  mv "$1" "$layout/blobs/sha256/$dg"
  echo "sha256:$dg $size"
}

for dir in "$@"; do
  tar -C "$dir" --sort=name --numeric-owner --format=pax \
    --pax-option=delete=atime,delete=ctime \
    --exclude='./dev/*' --exclude='./proc/*' --exclude='./sys/*' -cf "$tmp" .
  diffids+=("sha256:$(sha256sum < "$tmp" | cut -d' ' -f1)")
  pigz -n -6 < "$tmp" > "$tmp.gz"
  rm -f "$tmp"
  read -r dg size < <(put_blob "$tmp.gz")
  layers+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"$dg\",\"size\":$size}")
  history+=("{\"created\":\"1970-01-01T00:00:00Z\",\"created_by\":\"kiln-bench oci-image.sh $(basename "$dir")\"}")
done

join() { local IFS=,; echo "$*"; }
ids=$(printf '"%s",' "${diffids[@]}"); ids=${ids%,}
printf '{"architecture":"%s","os":"linux","created":"1970-01-01T00:00:00Z","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":[%s]},"history":[%s]}' \
  "$arch" "$ids" "$(join "${history[@]}")" > "$layout/.config"
read -r cdg csize < <(put_blob "$layout/.config")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"%s","size":%s},"layers":[%s]}' \
  "$cdg" "$csize" "$(join "${layers[@]}")" > "$layout/.manifest"
read -r mdg msize < <(put_blob "$layout/.manifest")
printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}\n' \
  "$mdg" "$msize" "$tag" > "$layout/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$layout/oci-layout"
