#!/bin/bash
# tar-unpack.sh LAYOUT TAG DIR: the unpack floor. Each layer of the image, in
# order, through `pigz -dc | tar -x` into DIR (no whiteout handling, no
# verification; the bench images have no whiteouts).
set -euo pipefail
layout=$1 tag=$2 dir=$3
mdg=$(jq -r --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$t) | .digest' "$layout/index.json")
mkdir -p "$dir"
for dg in $(jq -r '.layers[].digest' "$layout/blobs/sha256/${mdg#sha256:}"); do
  pigz -dc "$layout/blobs/sha256/${dg#sha256:}" | tar -x --numeric-owner -C "$dir"
done
