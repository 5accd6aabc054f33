#!/bin/bash
# curl-copy.sh SRC_REG SRC_REPO TAG DST_REG DST_REPO: the copy ceiling between two
# registries. Every blob streams at once from a GET straight into a PUT (chunked,
# nothing on disk), then the manifest. Uses $CA_CRT, $BENCH_USER, $BENCH_PASS.
set -euo pipefail
src=$1 srepo=$2 tag=$3 dst=$4 drepo=$5
C=(curl -fsSL --cacert "$CA_CRT" -u "$BENCH_USER:$BENCH_PASS" -H 'Expect:')
mt='application/vnd.oci.image.manifest.v1+json'
manifest=$("${C[@]}" -H "Accept: $mt" "https://$src/v2/$srepo/manifests/$tag")
copy() {
  local dg=$1 loc sep
  loc=$("${C[@]}" -X POST -D - -o /dev/null "https://$dst/v2/$drepo/blobs/uploads/" \
        | tr -d '\r' | awk 'tolower($1)=="location:" {print $2}')
  case $loc in http*) ;; *) loc="https://$dst$loc" ;; esac
  sep='?'; [[ $loc == *\?* ]] && sep='&'
  "${C[@]}" "https://$src/v2/$srepo/blobs/$dg" \
    | "${C[@]}" -X PUT -H 'Content-Type: application/octet-stream' -T - -o /dev/null "$loc${sep}digest=$dg"
}
pids=()
for dg in $(jq -r '.config.digest, .layers[].digest' <<<"$manifest"); do copy "$dg" & pids+=($!); done
for p in "${pids[@]}"; do wait "$p"; done
printf '%s' "$manifest" | "${C[@]}" -X PUT -H "Content-Type: $mt" --data-binary @- -o /dev/null \
  "https://$dst/v2/$drepo/manifests/$tag"
