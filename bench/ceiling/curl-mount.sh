#!/bin/bash
# curl-mount.sh REGISTRY SRC_REPO TAG DST_REPO: the floor of a copy between two
# repositories of one registry: the manifest GET, one cross-repository mount per
# blob (one curl, one connection; no bytes move), the manifest PUT.
# Uses $CA_CRT, $BENCH_USER, $BENCH_PASS.
set -euo pipefail
reg=$1 srepo=$2 tag=$3 drepo=$4
C=(curl -fsS --no-progress-meter --cacert "$CA_CRT" -u "$BENCH_USER:$BENCH_PASS")
mt='application/vnd.oci.image.manifest.v1+json'
manifest=$("${C[@]}" -H "Accept: $mt" "https://$reg/v2/$srepo/manifests/$tag")
args=()
for dg in $(jq -r '.config.digest, .layers[].digest' <<<"$manifest"); do
  args+=(-o /dev/null "https://$reg/v2/$drepo/blobs/uploads/?mount=$dg&from=$srepo")
done
codes=$("${C[@]}" -X POST -w '%{http_code} ' "${args[@]}")
[ -z "$(tr -d '201 ' <<<"$codes")" ] || { echo "mount answers: $codes (want 201 each)" >&2; exit 1; }
printf '%s' "$manifest" | "${C[@]}" -X PUT -H "Content-Type: $mt" --data-binary @- -o /dev/null \
  "https://$reg/v2/$drepo/manifests/$tag"
