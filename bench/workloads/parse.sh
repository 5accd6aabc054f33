# bench/workloads/parse.sh: the parser and ignore-matcher figures of issue 3.
#
# bench/parse/ (owned by the parser work) measures the parser and the matcher in
# process; when bench/parse/run.sh exists it is run and its output reported. Until
# then the figures come from the command line: `kiln parse` of a 10,000-line
# Containerfile (goal < 20 ms) and `kiln context ls` of a 100,000-file context
# with 50 ignore patterns (goal > 1 M path checks/s; the command also walks the
# tree and starts a process, so its rate is a lower bound). `find` over the same
# context is the floor of the walk.

parse_inputs() {
  export PARSE_IN=$DATA/parse-inputs
  local gen=$BENCH_DIR/gen/parse-inputs.py
  if ! cache_ok "$PARSE_IN" "$gen"; then
    log "generating the parse inputs (10,000 lines; $(scaled 100000)-file context)"
    rm -rf "$PARSE_IN"
    "$gen" "$PARSE_IN" 10000 "$(scaled 100000)" || die "parse inputs"
    cache_done "$PARSE_IN" "$gen"
  fi
}

# run_parse_suite WORKLOAD: bench/parse/run.sh's report, kept for the results file.
run_parse_suite() {
  # Its one argument is where it builds its 100,000-path context (once).
  local out=$LOGS/parse-run.txt ctx=$W/parse-context
  log "$1: running bench/parse/run.sh $ctx"
  if KILN=$KILN "$BENCH_DIR/parse/run.sh" "$ctx" > "$out" 2>&1; then
    NOTES+=("$1: bench/parse/run.sh $ctx:")
  else
    NOTES+=("$1: bench/parse/run.sh $ctx failed (exit $?):")
  fi
  while IFS= read -r l; do NOTES+=("    $l"); done < <(tail -40 "$out")
}

wl_parse() {
  if [ -z "${PROFILE:-}" ] && [ -x "$BENCH_DIR/parse/run.sh" ]; then run_parse_suite parse; return; fi
  parse_inputs
  group parse
  kiln_entry parse '' '$KILN parse $PARSE_IN/Containerfile --format json > /dev/null'
  entry ceiling "cat" '' 'cat $PARSE_IN/Containerfile > /dev/null'
  entry ceiling "true" '' 'true'   # the cost of starting a process, here and now
  goal_abs wall 0.020 "20 ms"
  run_group
}

wl_ignore() {
  if [ -z "${PROFILE:-}" ] && [ -x "$BENCH_DIR/parse/run.sh" ]; then run_parse_suite ignore; return; fi
  parse_inputs
  local n; n=$(scaled 100000)
  group ignore
  kiln_entry context '' '$KILN context ls $PARSE_IN/ctx > /dev/null'
  entry ceiling "find" '' 'find $PARSE_IN/ctx > /dev/null'
  entry ceiling "true" '' 'true'   # the cost of starting a process, here and now
  # > 1 M checks/s over n paths means a wall time under n / 1e6 s
  goal_abs wall "$(awk -v n="$n" 'BEGIN{printf "%.6f", n/1e6}')" \
    "$(awk -v n="$n" 'BEGIN{printf "%g ms", n/1e3}') ($n paths at 1 M checks/s)"
  run_group
}
