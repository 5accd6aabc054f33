# bench/lib/tls.sh: a throwaway CA and a server certificate for 127.0.0.1, an
# htpasswd file and a containers-auth.json, all under $RUN/tls.
#   $CERT_DIR  holds only ca.crt: the --cert-dir of kiln, skopeo and buildah
#              (a *.key there would be taken for a client certificate)
#   $AUTHFILE  auth.json with Basic credentials for every loopback registry

make_tls() {
  local d=$RUN/tls
  mkdir -p "$d/certs"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=kiln-bench CA" \
    -keyout "$d/ca.key" -out "$d/certs/ca.crt" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign \
    >/dev/null 2>&1 || die "openssl: CA"
  openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$d/server.key" -out "$d/server.csr" >/dev/null 2>&1 || die "openssl: server key"
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' > "$d/ext.cnf"
  openssl x509 -req -in "$d/server.csr" -CA "$d/certs/ca.crt" -CAkey "$d/ca.key" \
    -CAcreateserial -days 2 -extfile "$d/ext.cnf" -out "$d/server.crt" >/dev/null 2>&1 \
    || die "openssl: server cert"
  # bcrypt cost 5 (htpasswd's default, stated): the registry checks it on every request.
  htpasswd -Bbn -C 5 "$BENCH_USER" "$BENCH_PASS" > "$d/htpasswd" 2>/dev/null || die "htpasswd"
  local b64 p
  b64=$(printf '%s:%s' "$BENCH_USER" "$BENCH_PASS" | base64 -w0)
  {
    printf '{"auths":{'
    local sep=
    for p in "$BENCH_REG_PORT" "$BENCH_REG2_PORT" "$BENCH_NGINX_PORT"; do
      printf '%s"127.0.0.1:%s":{"auth":"%s"}' "$sep" "$p" "$b64"; sep=,
    done
    printf '}}\n'
  } > "$d/auth.json"
  CERT_DIR=$d/certs CA_CRT=$d/certs/ca.crt AUTHFILE=$d/auth.json
  SERVER_CRT=$d/server.crt SERVER_KEY=$d/server.key HTPASSWD=$d/htpasswd
  export CERT_DIR CA_CRT AUTHFILE SERVER_CRT SERVER_KEY HTPASSWD
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
