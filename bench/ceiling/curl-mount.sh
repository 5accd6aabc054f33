#!/bin/bash
# curl-mount.sh REGISTRY SRC_REPO TAG DST_REPO: the floor of a copy between two
# repositories of one registry: a cross-repository mount per blob (no bytes move),
# then the manifest. Uses $CA_CRT, $BENCH_USER, $BENCH_PASS.
set -euo pipefail
reg=$1 srepo=$2 tag=$3 drepo=$4
C=(curl -fsS --cacert "$CA_CRT" -u "$BENCH_USER:$BENCH_PASS")
mt='application/vnd.oci.image.manifest.v1+json'
manifest=$("${C[@]}" -H "Accept: $mt" "https://$reg/v2/$srepo/manifests/$tag")
pids=()
for dg in $(jq -r '.config.digest, .layers[].digest' <<<"$manifest"); do
  code=$("${C[@]}" -X POST -o /dev/null -w '%{http_code}' \
    "https://$reg/v2/$drepo/blobs/uploads/?mount=$dg&from=$srepo")
  [ "$code" = 201 ] || { echo "mount of $dg: HTTP $code" >&2; exit 1; }
done
printf '%s' "$manifest" | "${C[@]}" -X PUT -H "Content-Type: $mt" --data-binary @- -o /dev/null \
  "https://$reg/v2/$drepo/manifests/$tag"
