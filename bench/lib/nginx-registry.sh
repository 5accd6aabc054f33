# bench/lib/nginx-registry.sh: a fast read-only registry: nginx over TLS serving
# an OCI image layout, with the distribution API paths mapped to the blob files:
#   /v2/                              200 {} (no auth)
#   /v2/<name>/manifests/<tag>        the manifest named <tag> in index.json
#   /v2/<name>/manifests/sha256:<hex> blobs/sha256/<hex>, manifest media type
#   /v2/<name>/blobs/sha256:<hex>     blobs/sha256/<hex>, application/octet-stream
# Every response carries Docker-Content-Digest where the digest is known.

NGINX_PID=

nginx_registry_start() { # LAYOUT REPO
  local layout=$1 repo=$2 d=$RUN/nginx port=$BENCH_NGINX_PORT
  port_in_use "$port" && die "port $port is in use (set BENCH_NGINX_PORT)"
  mkdir -p "$d/tmp"
  {
    cat <<CONF
daemon off;
user root root;
worker_processes 2;
pid $d/nginx.pid;
error_log $d/error.log warn;
events { worker_connections 256; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 10000;
  client_body_temp_path $d/tmp/body;
  proxy_temp_path $d/tmp/proxy;
  fastcgi_temp_path $d/tmp/fastcgi;
  uwsgi_temp_path $d/tmp/uwsgi;
  scgi_temp_path $d/tmp/scgi;
  types { }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:$port ssl;
    ssl_certificate $SERVER_CRT;
    ssl_certificate_key $SERVER_KEY;
    add_header Docker-Distribution-API-Version registry/2.0 always;
    location = /v2/ {
      default_type application/json;
      return 200 '{}';
    }
    location ~ "^/v2/.+/blobs/sha256:([0-9a-f]{64})\$" {
      alias $layout/blobs/sha256/\$1;
      add_header Docker-Distribution-API-Version registry/2.0 always;
      add_header Docker-Content-Digest sha256:\$1 always;
    }
    location ~ "^/v2/.+/manifests/sha256:([0-9a-f]{64})\$" {
      alias $layout/blobs/sha256/\$1;
      default_type application/vnd.oci.image.manifest.v1+json;
      add_header Docker-Distribution-API-Version registry/2.0 always;
      add_header Docker-Content-Digest sha256:\$1 always;
    }
CONF
    local tag digest mt
    while read -r tag digest mt; do
      cat <<CONF
    location = /v2/$repo/manifests/$tag {
      alias $layout/blobs/sha256/${digest#sha256:};
      default_type $mt;
      add_header Docker-Distribution-API-Version registry/2.0 always;
      add_header Docker-Content-Digest $digest always;
    }
CONF
    done < <(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] != null)
        | "\(.annotations["org.opencontainers.image.ref.name"]) \(.digest) \(.mediaType)"' \
        "$layout/index.json")
    echo "    location / { return 404; }"
    echo "  }"
    echo "}"
  } > "$d/nginx.conf"
  nginx -t -q -c "$d/nginx.conf" -p "$d" 2>>"$d/error.log" || { cat "$d/error.log" >&2; die "nginx config"; }
  nginx -c "$d/nginx.conf" -p "$d" 2>>"$d/error.log" &
  NGINX_PID=$!
  register_pid "$NGINX_PID"
  local i
  for i in $(seq 50); do
    curl -fsS --cacert "$CA_CRT" -o /dev/null "https://127.0.0.1:$port/v2/" 2>/dev/null && return 0
    sleep 0.1
  done
  cat "$d/error.log" >&2
  die "nginx registry did not start on 127.0.0.1:$port"
}
