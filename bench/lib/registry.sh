# bench/lib/registry.sh: Debian's docker-registry on 127.0.0.1 over TLS with
# htpasswd Basic auth; started, reset (empty storage) and stopped by name.
#
# Quirk: docker-registry reads every REGISTRY_* environment variable as a config
# override, so it is started with a clean environment (env -i).

declare -A REG_PID REG_PORT

registry_start() { # NAME PORT
  local name=$1 port=$2 d=$RUN/registry-$1
  port_in_use "$port" && die "port $port is in use (set BENCH_REG_PORT/BENCH_REG2_PORT)"
  mkdir -p "$d/storage"
  cat > "$d/config.yml" <<YML
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $d/storage
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$port
  secret: kiln-bench-secret
  tls:
    certificate: $SERVER_CRT
    key: $SERVER_KEY
auth:
  htpasswd:
    realm: kiln-bench
    path: $HTPASSWD
YML
  env -i /usr/bin/docker-registry serve "$d/config.yml" >>"$d/log" 2>&1 &
  local pid=$!
  register_pid "$pid"
  REG_PID[$name]=$pid REG_PORT[$name]=$port
  local i
  for i in $(seq 100); do
    curl -fsS --cacert "$CA_CRT" -u "$BENCH_USER:$BENCH_PASS" -o /dev/null \
      "https://127.0.0.1:$port/v2/" 2>/dev/null && return 0
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  tail -5 "$d/log" >&2
  die "docker-registry $name did not start on 127.0.0.1:$port"
}

registry_stop() { # NAME
  local pid=${REG_PID[$1]:-}
  [ -n "$pid" ] && kill_pid "$pid"
  REG_PID[$1]=
}

# registry_reset NAME: restart with empty storage (a push then uploads every byte).
registry_reset() {
  local port=${REG_PORT[$1]}
  registry_stop "$1"
  rm -rf --one-file-system "$RUN/registry-$1/storage"
  registry_start "$1" "$port"
}

# registry_seed NAME LAYOUT TAG REPO:TAG: copy an OCI layout image into the registry.
registry_seed() {
  skopeo copy -q --dest-authfile "$AUTHFILE" --dest-cert-dir "$CERT_DIR" \
    "oci:$2:$3" "docker://127.0.0.1:${REG_PORT[$1]}/$4" >/dev/null \
    || die "seeding $4 into registry $1 failed"
}
