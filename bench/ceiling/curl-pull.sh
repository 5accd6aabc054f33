#!/bin/bash
# curl-pull.sh REGISTRY REPO TAG OUTDIR: the download ceiling. GET the manifest,
# then every blob at once (one curl, --parallel, one HTTP/1.1 connection per
# blob) into OUTDIR, no verification. Uses $CA_CRT and, when $CURL_AUTH is set
# (user:password), Basic auth.
set -euo pipefail
reg=$1 repo=$2 tag=$3 out=$4
C=(curl -fsSL --cacert "$CA_CRT")
[ -n "${CURL_AUTH:-}" ] && C+=(-u "$CURL_AUTH")
mkdir -p "$out"
"${C[@]}" -H 'Accept: application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' \
  -o "$out/manifest.json" "https://$reg/v2/$repo/manifests/$tag"
args=()
for dg in $(jq -r '.config.digest, .layers[].digest' "$out/manifest.json"); do
  args+=(-o "$out/${dg#sha256:}" "https://$reg/v2/$repo/blobs/$dg")
done
"${C[@]}" --no-progress-meter --http1.1 --parallel --parallel-immediate --parallel-max 16 "${args[@]}"
