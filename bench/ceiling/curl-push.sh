#!/bin/bash
# curl-push.sh LAYOUT TAG REGISTRY REPO: the upload ceiling. One curl starts an
# upload per blob (POST, one connection), one curl then sends every blob at once
# (--parallel, one HTTP/1.1 connection per blob, monolithic PUT of the file), then
# the manifest. Uses $CA_CRT, $BENCH_USER, $BENCH_PASS.
set -euo pipefail
layout=$1 tag=$2 reg=$3 repo=$4
C=(curl -fsS --no-progress-meter --cacert "$CA_CRT" -u "$BENCH_USER:$BENCH_PASS" -H 'Expect:')
mdg=$(jq -r --arg t "$tag" '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"]==$t) | .digest' "$layout/index.json")
mf=$layout/blobs/sha256/${mdg#sha256:}
digests=($(jq -r '.config.digest, .layers[].digest' "$mf"))
post=()
for dg in "${digests[@]}"; do post+=(-o /dev/null "https://$reg/v2/$repo/blobs/uploads/"); done
mapfile -t locs < <("${C[@]}" -X POST -w '%header{location}\n' "${post[@]}")
put=()
for i in "${!digests[@]}"; do
  loc=${locs[$i]%$'\r'}
  case $loc in http*) ;; *) loc="https://$reg$loc" ;; esac
  sep='?'; [[ $loc == *\?* ]] && sep='&'
  put+=(-T "$layout/blobs/sha256/${digests[$i]#sha256:}" -o /dev/null "$loc${sep}digest=${digests[$i]}")
done
"${C[@]}" --http1.1 --parallel --parallel-immediate --parallel-max 16 \
  -H 'Content-Type: application/octet-stream' "${put[@]}"
"${C[@]}" -X PUT -H "Content-Type: $(jq -r .mediaType "$mf")" --data-binary "@$mf" \
  -o /dev/null "https://$reg/v2/$repo/manifests/$tag"
