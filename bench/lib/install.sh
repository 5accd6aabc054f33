# bench/lib/install.sh: install the peers and tools from Debian's archive.

BENCH_PACKAGES=(
  buildah skopeo umoci docker-registry apache2-utils openssl curl ca-certificates
  pigz zstd time nginx-light debootstrap busybox-static linux-perf valgrind
  python3 jq tar coreutils
)
# command -> package, to see what is missing without asking apt every time.
declare -A BENCH_CMD_PKG=(
  [buildah]=buildah [skopeo]=skopeo [umoci]=umoci [docker-registry]=docker-registry
  [htpasswd]=apache2-utils [openssl]=openssl [curl]=curl [pigz]=pigz [zstd]=zstd
  [/usr/bin/time]=time [nginx]=nginx-light [debootstrap]=debootstrap
  [/bin/busybox]=busybox-static [perf]=linux-perf [valgrind]=valgrind
  [python3]=python3 [jq]=jq
)

install_deps() {
  local missing=() c
  for c in "${!BENCH_CMD_PKG[@]}"; do
    command -v "$c" >/dev/null 2>&1 || missing+=("${BENCH_CMD_PKG[$c]}")
  done
  # busybox-static provides /bin/busybox; the dynamic busybox package does too,
  # so check the package itself.
  dpkg -s busybox-static >/dev/null 2>&1 || missing+=(busybox-static)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" = 0 ] || die "missing packages (${missing[*]}); run as root to install them"
  log "installing: ${missing[*]}"
  apt-get update -qq >/dev/null || warn "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${BENCH_PACKAGES[@]}" >/dev/null || die "apt-get install failed"
  # Debian's packages start their services where an init system runs; the bench
  # runs its own instances on loopback ports and leaves the system ones alone.
}

peer_versions() {
  echo "- buildah: $(buildah --version 2>/dev/null)"
  echo "- skopeo: $(skopeo --version 2>/dev/null)"
  echo "- umoci: $(umoci --version 2>/dev/null)"
  echo "- docker-registry: $(docker-registry --version 2>/dev/null)"
  echo "- nginx: $(nginx -v 2>&1)"
  echo "- curl: $(curl --version 2>/dev/null | head -1)"
  echo "- zstd: $(zstd --version 2>/dev/null)"
  echo "- pigz: $(pigz --version 2>&1)"
  echo "- tar: $(tar --version | head -1)"
}
