#!/bin/bash
# curl-push.sh LAYOUT TAG REGISTRY REPO: the upload ceiling. Every blob of the
# image goes up at once (POST an upload, then one monolithic PUT of the file),
# then the manifest. Uses $CA_CRT, $BENCH_USER, $BENCH_PASS.
set -euo pipefail
layout=$1 tag=$2 reg=$3 repo=$4
C=(curl -fsS --cacert "$CA_CRT" -u "$BENCH_USER:$BENCH_PASS" -H 'Expect:')
mdg=$(jq -r --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$t) | .digest' "$layout/index.json")
mf=$layout/blobs/sha256/${mdg#sha256:}
upload() {
  local dg=$1 loc sep
  loc=$("${C[@]}" -X POST -D - -o /dev/null "https://$reg/v2/$repo/blobs/uploads/" \
        | tr -d '\r' | awk 'tolower($1)=="location:" {print $2}')
  case $loc in http*) ;; *) loc="https://$reg$loc" ;; esac
  sep='?'; [[ $loc == *\?* ]] && sep='&'
  "${C[@]}" -X PUT -H 'Content-Type: application/octet-stream' \
    -T "$layout/blobs/sha256/${dg#sha256:}" -o /dev/null "$loc${sep}digest=$dg"
}
pids=()
for dg in $(jq -r '.config.digest, .layers[].digest' "$mf"); do upload "$dg" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done
"${C[@]}" -X PUT -H "Content-Type: $(jq -r .mediaType "$mf")" --data-binary "@$mf" \
  -o /dev/null "https://$reg/v2/$repo/manifests/$tag"
