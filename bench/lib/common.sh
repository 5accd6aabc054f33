# bench/lib/common.sh: settings, scale, logging, cleanup and kiln feature detection.
# Sourced by bench/run; every other lib file relies on the variables set here.

export LC_ALL=C
umask 022

BENCH_DIR=${BENCH_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
KILN=${KILN:-/work/main/build/cli/kiln}
# Generated inputs (base images, trees, images) are kept here between runs.
BENCH_CACHE=${BENCH_CACHE:-/var/cache/kiln-bench}
# Per-run state (registries, stores, outputs); removed at exit except logs/results.
BENCH_WORK=${BENCH_WORK:-/var/tmp/kiln-bench}
BENCH_OUT=${BENCH_OUT:-$BENCH_WORK/results}
# Loopback ports: docker-registry, a second docker-registry (copy target), nginx.
BENCH_REG_PORT=${BENCH_REG_PORT:-45443}
BENCH_REG2_PORT=${BENCH_REG2_PORT:-45444}
BENCH_NGINX_PORT=${BENCH_NGINX_PORT:-45445}
BENCH_USER=bench
BENCH_PASS=bench-password

# Scale: full (the sizes of issue 7) or small (sizes / 50, 1 warm-up + 2 runs).
set_scale() {
  case "$1" in
    small) BENCH_SCALE=small; DIV=50; WARMUP=${BENCH_WARMUP:-1}; RUNS=${BENCH_RUNS:-2} ;;
    full)  BENCH_SCALE=full;  DIV=1;  WARMUP=${BENCH_WARMUP:-1}; RUNS=${BENCH_RUNS:-5} ;;
    *) die "unknown scale '$1' (small|full)" ;;
  esac
  DATA=$BENCH_CACHE/data-$BENCH_SCALE
}

# scaled N: N divided by the scale divisor, at least 1.
scaled() { local v=$(( $1 / DIV )); (( v < 1 )) && v=1; echo "$v"; }

log()  { printf '[bench %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
warn() { printf '[bench] warning: %s\n' "$*" >&2; }
die()  { printf '[bench] error: %s\n' "$*" >&2; exit 1; }

# ---- cleanup: every background process we start is registered by pid ----------
BENCH_PIDS=()
BENCH_CLEAN_DIRS=()
register_pid() { BENCH_PIDS+=("$1"); }
register_clean_dir() { BENCH_CLEAN_DIRS+=("$1"); }
kill_pid() { # pid: TERM, wait up to 5 s, then KILL; only that pid.
  local p=$1 i
  kill -0 "$p" 2>/dev/null || return 0
  kill "$p" 2>/dev/null
  for i in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$p" 2>/dev/null && kill -9 "$p" 2>/dev/null
  wait "$p" 2>/dev/null
  # forget it, so a later cleanup never signals a reused pid
  local keep=() q
  for q in "${BENCH_PIDS[@]}"; do [ "$q" = "$p" ] || keep+=("$q"); done
  BENCH_PIDS=("${keep[@]}")
  return 0
}
bench_cleanup() {
  local p d
  for p in "${BENCH_PIDS[@]}"; do kill_pid "$p"; done
  for d in "${BENCH_CLEAN_DIRS[@]}"; do unmount_under "$d"; done
  BENCH_PIDS=()
  for d in "${BENCH_CLEAN_DIRS[@]}"; do
    [ -n "$d" ] && [ -d "$d" ] && rm -rf --one-file-system "$d"
  done
}

# ---- kiln feature detection --------------------------------------------------
# CLI11 prints the main help for `kiln UNKNOWN --help` (exit 0), so a subcommand
# is detected from the "Subcommands:" list of `kiln --help`.
kiln_subcommands() {
  [ -x "$KILN" ] || return 0
  "$KILN" --help 2>/dev/null | awk '/^Subcommands:/{s=1; next} s && /^  [a-z]/{print $1}'
}
KILN_SUBS=
kiln_has() { # SUB...: all listed subcommands exist
  local s
  [ -n "$KILN_SUBS" ] || KILN_SUBS=" $(kiln_subcommands | tr '\n' ' ') "
  for s in "$@"; do [[ "$KILN_SUBS" == *" $s "* ]] || return 1; done
}
kiln_has_flag() { # SUB FLAG: the subcommand's help mentions FLAG
  kiln_has "$1" && "$KILN" "$1" --help 2>/dev/null | grep -q -- "$2"
}
kiln_version() {
  [ -x "$KILN" ] && "$KILN" --version 2>/dev/null | head -1 || echo "not built ($KILN)"
}

# Unmount whatever a tool left mounted under DIR (buildah overlay, kiln sandbox).
unmount_under() {
  local m
  [ -d "$1" ] || return 0
  for m in $(awk -v d="$(realpath "$1")/" 'index($2, d) == 1 {print $2}' /proc/self/mounts | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
}
# Fresh empty directory (removed first).
fresh_dir() { unmount_under "$1"; rm -rf --one-file-system "$1" && mkdir -p "$1"; }

# Cached generated data: DIR/.stamp holds a hash of the scripts that made it, so
# a change to a generator rebuilds what it made and nothing else.
stamp_of() { { echo "$BENCH_SCALE"; cat "$@"; } | sha256sum | cut -c1-16; }
cache_ok() { # DIR SCRIPT...: DIR is complete and made by these scripts
  [ -f "$1/.stamp" ] && [ "$(cat "$1/.stamp")" = "$(stamp_of "${@:2}")" ]
}
cache_done() { stamp_of "${@:2}" > "$1/.stamp"; }
