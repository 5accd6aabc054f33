# bench/lib/measure.sh: groups of commands doing the same job, run alternately
# (A B C A B C …), timed, summarised and printed as table rows.
#
#   group NAME                 start a group (one block of table rows)
#   entry KIND TOOL PREP CMD   KIND kiln|peer|ceiling; PREP runs untimed in this
#                              shell before every run of CMD (reset state), CMD
#                              runs timed in `bash -eo pipefail -c`
#   notyet TOOL WHY [CMD]      kiln cannot do this yet: the row says `kiln: not yet`;
#                              CMD (what it will run) goes to the results file
#   goal METRIC TOOL MAX       issue target: kiln METRIC / TOOL METRIC <= MAX
#                              (METRIC wall|cpu|rss)
#   goal_abs METRIC MAX TEXT   issue target on kiln alone (wall in s, rss in KiB)
#   run_group                  warm-up rounds, counted rounds, then the rows
#
# Wall time comes from bash's $EPOCHREALTIME around the run, less the harness's
# own cost (GNU time and `bash -c` starting: ~17 ms here, which would otherwise
# pull every ratio of a short command towards 1); calibrate_harness measures it
# once per run as the median of 11 runs of `true`, as hyperfine does with its
# shell. User+sys CPU time and peak RSS (the largest single process of the
# command's tree, as wait4 reports it) come from GNU time. Before each timed run the page cache is written back (`sync`), so
# one tool's dirty data is not flushed during the next tool's run.

G_NAME=
E_KIND=() E_TOOL=() E_PREP=() E_CMD=() E_STATE=() E_MSG=() E_WALL=() E_CPU=() E_RSS=()
G_GOALS=()
NOTES=()        # lines printed under the table
COMMANDS=()     # "workload | tool | command" for the results file

group() {
  G_NAME=$1
  E_KIND=() E_TOOL=() E_PREP=() E_CMD=() E_STATE=() E_MSG=() E_WALL=() E_CPU=() E_RSS=()
  G_GOALS=()
}
entry() {
  E_KIND+=("$1") E_TOOL+=("$2") E_PREP+=("$3") E_CMD+=("$4")
  E_STATE+=(ok) E_MSG+=("") E_WALL+=("") E_CPU+=("") E_RSS+=("")
  COMMANDS+=("$G_NAME|$2|$4")
}
notyet() {
  [ -n "${3:-}" ] && COMMANDS+=("$G_NAME|$1 (not yet)|$3")
  E_KIND+=(kiln) E_TOOL+=("$1") E_PREP+=("") E_CMD+=("")
  E_STATE+=(notyet) E_MSG+=("$2") E_WALL+=("") E_CPU+=("") E_RSS+=("")
}
# kiln_entry "SUB..." PREP CMD: kiln's entry when kiln has every listed subcommand,
# else a `not yet` row naming the missing ones.
kiln_entry() {
  local s missing=()
  for s in $1; do kiln_has "$s" || missing+=("$s"); done
  if [ ${#missing[@]} -eq 0 ]; then entry kiln kiln "$2" "$3"
  else notyet kiln "no $(printf "'kiln %s' " "${missing[@]}" | sed 's/ $//')" "$3"; fi
}
goal() { G_GOALS+=("rel|$1|$2|$3"); }
goal_abs() { G_GOALS+=("abs|$1|$2|$3"); }

HARNESS_WALL=0

# calibrate_harness: HARNESS_WALL = median wall time of measuring `true`
calibrate_harness() {
  local i walls=""
  HARNESS_WALL=0
  for i in $(seq 11); do
    measure true "$LOGS/harness"
    walls+="$M_WALL "
  done
  read -r HARNESS_WALL _ _ < <(stats "$walls")
}

# measure CMD LOGBASE: sets M_WALL (s, less HARNESS_WALL), M_CPU (s), M_RSS (KiB), M_RC
measure() {
  local tf=$RUN/time.out t0 t1 u s m
  : > "$tf"
  t0=$EPOCHREALTIME
  /usr/bin/time -o "$tf" -f '%U %S %M' bash -eo pipefail -c "$1" >>"$2.out" 2>>"$2.err"
  M_RC=$?
  t1=$EPOCHREALTIME
  read -r u s m < <(tail -1 "$tf")
  M_WALL=$(awk -v a="$t0" -v b="$t1" -v h="$HARNESS_WALL" 'BEGIN{w=b-a-h; printf "%.4f", (w > 0 ? w : 0)}')
  M_CPU=$(awk -v u="${u:-0}" -v s="${s:-0}" 'BEGIN{printf "%.2f", u+s}')
  M_RSS=${m:-0}
}

# stats "v v v" -> "median min max"
stats() {
  tr ' ' '\n' <<<"$1" | grep . | sort -g | awk '{v[NR]=$1} END{
    if (NR==0) {print "- - -"; exit}
    m = (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2
    print m, v[1], v[NR]}'
}
fmt_s() { awk -v x="$1" 'BEGIN{ if (x=="-") print "-"; else if (x<0.1) printf "%.1f ms", x*1000; else if (x<10) printf "%.3f s", x; else printf "%.2f s", x }'; }
fmt_mib() { awk -v x="$1" 'BEGIN{ if (x=="-") print "-"; else printf "%.1f MiB", x/1024 }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a=="-"||b=="-"||b<=0) print "-"; else printf "%.2f×", a/b }'; }

TABLE_HEADER='| workload | tool | runs | wall median | wall min | wall max | CPU u+s median | peak RSS | kiln/tool wall | kiln/tool CPU |'
TABLE_RULE='|---|---|---:|---:|---:|---:|---:|---:|---:|---:|'
TABLE_ROWS=()
table_row() { TABLE_ROWS+=("$1"); printf '%s\n' "$1"; }

# "pull (nginx)" -> "pull-nginx", for file names
group_slug() { printf '%s' "$G_NAME" | tr -cs 'a-zA-Z0-9' '-' | sed 's/-$//'; }

run_group() {
  local n=${#E_TOOL[@]} i r rounds=$(( WARMUP + RUNS )) base
  local slug; slug=$(group_slug)
  if [ -n "${PROFILE:-}" ]; then profile_group; return; fi
  for (( r = 0; r < rounds; r++ )); do
    for (( i = 0; i < n; i++ )); do
      [ "${E_STATE[$i]}" = ok ] || continue
      base=$LOGS/$slug.${E_TOOL[$i]//[^a-zA-Z0-9]/_}
      if [ -n "${E_PREP[$i]}" ]; then
        if ! eval "${E_PREP[$i]}" >>"$base.prep" 2>&1; then
          E_STATE[$i]=failed
          E_MSG[$i]="preparation failed: $(tail -1 "$base.prep")"
          continue
        fi
      fi
      sync
      measure "${E_CMD[$i]}" "$base"
      if [ "$M_RC" -ne 0 ]; then
        E_STATE[$i]=failed
        E_MSG[$i]="exit $M_RC: $(grep -v '^$' "$base.err" | tail -1 | cut -c1-200)"
        continue
      fi
      local tag=warm-up
      if (( r >= WARMUP )); then
        tag="run $(( r - WARMUP + 1 ))"
        E_WALL[$i]+="$M_WALL " E_CPU[$i]+="$M_CPU " E_RSS[$i]+="$M_RSS "
      fi
      log "$G_NAME: ${E_TOOL[$i]} $tag: ${M_WALL}s wall, ${M_CPU}s cpu, $(fmt_mib "$M_RSS")"
    done
  done
  print_group
}

print_group() {
  local n=${#E_TOOL[@]} i kw=- kc=- kr=- w c rr runs
  # kiln's medians, for the ratio columns
  for (( i = 0; i < n; i++ )); do
    if [ "${E_KIND[$i]}" = kiln ] && [ "${E_STATE[$i]}" = ok ]; then
      read -r kw _ _ < <(stats "${E_WALL[$i]}")
      read -r kc _ _ < <(stats "${E_CPU[$i]}")
      read -r kr _ _ < <(stats "${E_RSS[$i]}")
    fi
  done
  declare -A MW MC MR
  for (( i = 0; i < n; i++ )); do
    local tool=${E_TOOL[$i]} label
    label=$tool
    [ "${E_KIND[$i]}" = ceiling ] && label="$tool (ceiling)"
    case ${E_STATE[$i]} in
      notyet)
        table_row "| $G_NAME | $label | - | kiln: not yet | | | | | | |"
        NOTES+=("$G_NAME: kiln: not yet (${E_MSG[$i]})")
        continue ;;
      failed)
        table_row "| $G_NAME | $label | - | failed | | | | | | |"
        NOTES+=("$G_NAME: $tool failed: ${E_MSG[$i]}")
        continue ;;
    esac
    local wmed wmin wmax cmed rmed rmax
    read -r wmed wmin wmax < <(stats "${E_WALL[$i]}")
    read -r cmed _ _ < <(stats "${E_CPU[$i]}")
    read -r _ _ rmax < <(stats "${E_RSS[$i]}")
    runs=$(wc -w <<<"${E_WALL[$i]}")
    MW[$tool]=$wmed MC[$tool]=$cmed MR[$tool]=$rmax
    if [ "${E_KIND[$i]}" = kiln ]; then w=— c=—; else w=$(ratio "$kw" "$wmed") c=$(ratio "$kc" "$cmed"); fi
    table_row "| $G_NAME | $label | $runs | $(fmt_s "$wmed") | $(fmt_s "$wmin") | $(fmt_s "$wmax") | $(fmt_s "$cmed") | $(fmt_mib "$rmax") | $w | $c |"
  done
  # kiln's peak RSS over all runs, for the goals
  for (( i = 0; i < n; i++ )); do
    [ "${E_KIND[$i]}" = kiln ] && [ "${E_STATE[$i]}" = ok ] && read -r _ _ kr < <(stats "${E_RSS[$i]}")
  done
  local gl kind metric ref max have val verdict texts=()
  for gl in "${G_GOALS[@]}"; do
    IFS='|' read -r kind metric ref max <<<"$gl"   # abs: ref = threshold, max = its text
    if [ "$kind" = rel ]; then texts+=("$metric ≤ ${max}× $ref"); else texts+=("$metric < $max"); fi
  done
  if [ "$kw" = - ]; then
    [ ${#texts[@]} -gt 0 ] && NOTES+=("$G_NAME: goals (kiln not measured yet): $(IFS=';'; echo "${texts[*]}" | sed 's/;/, /g')")
    return 0
  fi
  for gl in "${G_GOALS[@]}"; do
    IFS='|' read -r kind metric ref max <<<"$gl"
    case $metric in wall) have=$kw ;; cpu) have=$kc ;; rss) have=$kr ;; esac
    if [ "$kind" = rel ]; then
      local other
      case $metric in wall) other=${MW[$ref]:--} ;; cpu) other=${MC[$ref]:--} ;; rss) other=${MR[$ref]:--} ;; esac
      val=$(ratio "$have" "$other")
      verdict=$(awk -v a="$have" -v b="$other" -v m="$max" 'BEGIN{ if (a=="-"||b=="-"||b<=0) print "not measured"; else print (a/b <= m ? "met" : "NOT met") }')
      NOTES+=("$G_NAME: goal kiln $metric ≤ ${max}× $ref: ${val} → $verdict")
    else
      case $metric in
        wall) val=$(fmt_s "$have") ;;
        rss) val=$(fmt_mib "$have") ;;
        *) val=$have ;;
      esac
      verdict=$(awk -v a="$have" -v m="$ref" 'BEGIN{ if (a=="-") print "not measured"; else print (a <= m ? "met" : "NOT met") }')
      NOTES+=("$G_NAME: goal kiln $metric < $max: $val → $verdict")
    fi
  done
}

# --profile: one run of kiln's command under perf (callgrind if perf fails).
profile_group() {
  local n=${#E_TOOL[@]} i out
  for (( i = 0; i < n; i++ )); do
    [ "${E_KIND[$i]}" = kiln ] || continue
    if [ "${E_STATE[$i]}" != ok ]; then
      warn "$G_NAME: kiln: not yet (${E_MSG[$i]}); nothing to profile"; continue
    fi
    out=$BENCH_OUT/profile-$(group_slug)
    if [ -n "${E_PREP[$i]}" ]; then eval "${E_PREP[$i]}" >>"$LOGS/profile.prep" 2>&1 || warn "preparation failed"; fi
    sync
    log "$G_NAME: profiling: ${E_CMD[$i]}"
    if perf record ${BENCH_PERF_OPTS:--F 999 -g} -o "$out.perf.data" -- bash -eo pipefail -c "${E_CMD[$i]}" \
         >>"$LOGS/profile.out" 2>>"$LOGS/profile.err"; then
      perf report -i "$out.perf.data" --stdio --no-children --percent-limit 0.5 > "$out.perf.txt" 2>/dev/null
      log "perf profile: $out.perf.data (report: $out.perf.txt; perf report -i $out.perf.data)"
    else
      warn "perf record failed ($(tail -1 "$LOGS/profile.err")); using callgrind"
      if [ -n "${E_PREP[$i]}" ]; then eval "${E_PREP[$i]}" >>"$LOGS/profile.prep" 2>&1; fi
      valgrind --tool=callgrind --trace-children=yes --callgrind-out-file="$out.callgrind.%p" \
        bash -eo pipefail -c "${E_CMD[$i]}" >>"$LOGS/profile.out" 2>>"$LOGS/profile.err" \
        && log "callgrind profiles: $out.callgrind.* (callgrind_annotate FILE)" \
        || warn "callgrind failed too; see $LOGS/profile.err"
    fi
  done
}
