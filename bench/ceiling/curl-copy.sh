#!/bin/bash
# curl-copy.sh SRC_REG SRC_REPO TAG DST_REG DST_REPO: the copy ceiling between two
# registries. The manifest GET, one curl starting an upload per blob, then every
# blob at once streamed from a GET straight into a PUT (chunked, nothing on disk),
# then the manifest PUT. Uses $CA_CRT, $BENCH_USER, $BENCH_PASS.
set -euo pipefail
src=$1 srepo=$2 tag=$3 dst=$4 drepo=$5
C=(curl -fsSL --no-progress-meter --cacert "$CA_CRT" -u "$BENCH_USER:$BENCH_PASS" -H 'Expect:')
mt='application/vnd.oci.image.manifest.v1+json'
manifest=$("${C[@]}" -H "Accept: $mt" "https://$src/v2/$srepo/manifests/$tag")
digests=($(jq -r '.config.digest, .layers[].digest' <<<"$manifest"))
post=()
for dg in "${digests[@]}"; do post+=(-o /dev/null "https://$dst/v2/$drepo/blobs/uploads/"); done
mapfile -t locs < <("${C[@]}" -X POST -w '%header{location}\n' "${post[@]}")
pids=()
for i in "${!digests[@]}"; do
  loc=${locs[$i]%$'\r'} dg=${digests[$i]}
  case $loc in http*) ;; *) loc="https://$dst$loc" ;; esac
  sep='?'; [[ $loc == *\?* ]] && sep='&'
  { "${C[@]}" --http1.1 "https://$src/v2/$srepo/blobs/$dg" \
      | "${C[@]}" --http1.1 -X PUT -H 'Content-Type: application/octet-stream' -T - -o /dev/null "$loc${sep}digest=$dg"; } &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p"; done
printf '%s' "$manifest" | "${C[@]}" -X PUT -H "Content-Type: $mt" --data-binary @- -o /dev/null \
  "https://$dst/v2/$drepo/manifests/$tag"
