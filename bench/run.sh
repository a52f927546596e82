#!/usr/bin/env bash
# Whole-server benchmarks for rtk: prints every figure BENCHMARKS.md records, as a Markdown
# table, with the machine it ran on. Installs its own load tool (wrk, from Debian's packages).
#
#   bench/run.sh                 # the full run (release build; SQLite and PostgreSQL)
#   bench/run.sh --db sqlite     # one backend
#   bench/run.sh --smoke         # a short pass on small numbers (debug build), for CI
#   bench/run.sh --smoke --db "sqlite postgres"   # the same on both backends
#   bench/run.sh --only livestream   # one section: endpoints, gateway, crash, webhooks, livestream, nodes
#
# Never part of `cargo test`. Everything listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=0
DBS="sqlite postgres"
ONLY=""
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1; DBS="sqlite" ;;
    --db) shift; DBS="$1" ;;
    --only) shift; ONLY="$1" ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

case "$ONLY" in
  "" | endpoints | gateway | crash | webhooks | livestream | nodes) ;;
  *) echo "unknown section $ONLY (endpoints, gateway, crash, webhooks, livestream, nodes)" >&2; exit 2 ;;
esac
want() { [ -z "$ONLY" ] || [ "$ONLY" = "$1" ]; }

if [ "$SMOKE" = 1 ]; then
  PROFILE=debug; DUR=1; CONNS=16; BIG=200; MANY=2000; GW_N=100; GW_RATE=200; CRASH_N=40
  NODES_PEERS=30; NODES_MEETINGS=6; NODES_LEASE=2
else
  PROFILE=release; DUR=10; CONNS=64; BIG=10000; MANY=1000000; GW_N=10000; GW_RATE=2000; CRASH_N=1000
  NODES_PEERS=300; NODES_MEETINGS=30; NODES_LEASE=10
fi
PG_ADMIN=${RTK_BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}

ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
if ! command -v wrk >/dev/null 2>&1; then
  echo "== installing wrk" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >&2
fi
echo "== building ($PROFILE)" >&2
if [ "$PROFILE" = release ]; then
  cargo build -q --release -p rtk-cli -p rtk-bench
else
  cargo build -q -p rtk-cli -p rtk-bench
fi
BIN=target/$PROFILE

WORK=$(mktemp -d)
PIDS=()
PG_DBS=()
cleanup() {
  [ -f "$WORK/restarted.pid" ] && PIDS+=("$(cat "$WORK/restarted.pid")")
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  for d in "${PG_DBS[@]:-}"; do
    [ -n "$d" ] && psql "$PG_ADMIN" -qc "DROP DATABASE IF EXISTS $d WITH (FORCE)" >/dev/null 2>&1 || true
  done
  if [ -n "${RTK_BENCH_KEEP:-}" ]; then echo "kept $WORK" >&2; else rm -rf "$WORK"; fi
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# wrk URL [auth header] [connections] [script] -> "rps p50_ms p99_ms"; fails the run on any
# answer that is not 2xx (wrk counts >= 400; the write's script counts everything else too).
load() {
  local url=$1 auth=${2:-} conns=${3:-$CONNS} script=${4:-}
  local args=(-t2 -c"$conns" -d"${DUR}s" --latency)
  [ -n "$auth" ] && args+=(-H "Authorization: Bearer $auth")
  [ -n "$script" ] && args+=(-s "$script")
  local out errors
  out=$(wrk "${args[@]}" "$url")
  errors=$(echo "$out" | awk '/Non-2xx/ {print $NF} /^Not 2xx:/ && $NF != 0 {print $NF}')
  if [ -n "$errors" ]; then echo "wrk saw non-2xx answers ($errors) for $url" >&2; echo "$out" >&2; exit 1; fi
  if [ -n "$script" ] && ! echo "$out" | grep -q '^Not 2xx: 0$'; then
    echo "the script's count of non-2xx answers is missing for $url" >&2; echo "$out" >&2; exit 1
  fi
  echo "$out" | awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    END { printf "%.0f %.3f %.3f\n", rps, p50, p99 }'
}

new_db() { # backend name -> URL
  local db=$1 name=$2
  if [ "$db" = sqlite ]; then
    mkdir -p "$WORK/$name"
    echo "sqlite://$WORK/$name/rtk.db"
  else
    local d="rtk_bench_${name}_$$"
    psql "$PG_ADMIN" -qc "CREATE DATABASE $d" >/dev/null
    PG_DBS+=("$d")
    echo "${PG_ADMIN%/*}/$d"
  fi
}

SERVER_PID=
SERVE_CMD=
serve() { # URL datadir [rtk serve flags…] -> sets BASE, SERVER_PID and SERVE_CMD (to start it again)
  local url=$1 dir=$2 port
  shift 2
  port=$(free_port)
  mkdir -p "$dir"
  SERVE_CMD="RTK_LOG=warn $BIN/rtk serve --listen 127.0.0.1:$port --data-dir $dir --database-url $url --log-format json $*"
  RTK_LOG=warn "$BIN/rtk" serve --listen "127.0.0.1:$port" --data-dir "$dir" --database-url "$url" --log-format json "$@" \
    >"$dir/out.log" 2>"$dir/err.log" &
  SERVER_PID=$!
  PIDS+=("$SERVER_PID")
  BASE="http://127.0.0.1:$port"
  for _ in $(seq 1 200); do curl -sf "$BASE/readyz" >/dev/null && return 0; sleep 0.05; done
  echo "rtk did not become ready" >&2; cat "$dir/err.log" >&2; exit 1
}
stop() { kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; }

j() { python3 -c "import json,sys; d=json.load(open('$1'))
for k in '$2'.split('.'): d=d[k]
print(d)"; }

# Rows of the table. Endpoint rows get their ratio to the hyper baseline when the table is
# printed (the baseline is measured before and after them; the mean is used), and PostgreSQL
# rows their ratio to the SQLite row with the same key.
ROWS=(); R_KEY=(); R_HYPER=(); R_PG=(); R_DB=(); R_LABEL=(); R_RPS=(); R_P50=(); R_P99=(); R_NOTE=()
declare -A SQLITE_RPS=()
row() { # key db label rps p50 p99 [note]; key "" = no ratios
  R_KEY+=("$1"); R_DB+=("$2"); R_LABEL+=("$3"); R_RPS+=("$4"); R_P50+=("$5"); R_P99+=("$6"); R_NOTE+=("${7:-}")
  [ "$2" = sqlite ] && [ -n "$1" ] && SQLITE_RPS[$1]=$4
  echo "$3: $4 req/s, p50 $5 ms, p99 $6 ms ${7:-}" >&2
}
measure() { # key label url [connections] [script]: one wrk run, one row
  local key=$1 label=$2 url=$3 rps p50 p99
  read -r rps p50 p99 < <(load "$url" "$TOK" "${4:-$CONNS}" "${5:-}")
  row "$key" "$DB" "$label, $DB" "$rps" "$p50" "$p99"
  LAST_RPS=$rps
}
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }

BPID=
BASE_RPS=(); BASE_P99=()
baseline_row() { # when
  local rps p50 p99
  read -r rps p50 p99 < <(load "http://127.0.0.1:$BPORT/" "" "$CONNS")
  BASE_RPS+=("$rps"); BASE_P99+=("$p99")
  row "" "" "minimal hyper server, same bytes from memory (same run), $1" "$rps" "$p50" "$p99"
}

if want endpoints; then
for DB in $DBS; do
  echo "== $DB: seeding 10 ended sessions, a live session of 2 and one of $BIG peers; the lists app (20 of each)" >&2
  URL=$(new_db "$DB" small)
  "$BIN/rtk-bench" seed --database-url "$URL" --ended 10 --participants "$BIG" --lists 20 >"$WORK/seed-small.json"
  # The seeded peers have no sockets: a day's heartbeat timeout keeps them (and their
  # sessions) live through the run instead of the reaper ending them at the first tick.
  serve "$URL" "$WORK/srv-$DB-small" --heartbeat-timeout-secs 86400
  S="$WORK/seed-small.json"
  ACC=$(j "$S" account); TOK=$(j "$S" token); APP=$(j "$S" app)
  KIT="$BASE/client/v4/accounts/$ACC/realtime/kit"
  SMALL="$KIT/$APP/sessions/$(j "$S" small_session)"
  BIGS="$KIT/$APP/sessions/$(j "$S" big_session)"
  L="$KIT/$(j "$S" lists.app)"
  CROWD_M="$L/meetings/$(j "$S" lists.crowd_meeting)"
  CROWD_S="$L/sessions/$(j "$S" lists.crowd_session)"
  if [ -z "$BPID" ]; then
    curl -sf -H "Authorization: Bearer $TOK" "$SMALL" >"$WORK/body.json"
    BPORT=$(free_port)
    "$BIN/rtk-bench" baseline --listen "127.0.0.1:$BPORT" --body-file "$WORK/body.json" 2>/dev/null &
    BPID=$!; PIDS+=("$BPID")
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$BPORT/" >/dev/null && break; sleep 0.05; done
    baseline_row "before the endpoint rows"
  fi
  measure details "GET session details, 2 participants, 10 ended sessions" "$SMALL"
  measure details-big "GET session details, $BIG participants" "$BIGS"
  measure details-breakout "GET session details ?include_breakout_rooms=true (2 rooms)" "$CROWD_S?include_breakout_rooms=true"
  measure meeting "GET meeting by id" "$CROWD_M"
  measure participant "GET participant" "$CROWD_M/participants/$(j "$S" lists.participant)"
  measure preset "GET preset" "$L/presets/$(j "$S" lists.preset)"
  measure active-session "GET active session (20 peers, 2 breakout rooms)" "$CROWD_M/active-session"
  measure list-meetings "GET meetings (20 per page of 24)" "$L/meetings?per_page=20"
  measure list-presets "GET presets (20 per page of 20)" "$L/presets?per_page=20"
  measure list-participants "GET participants of a meeting (20 per page of 20)" "$CROWD_M/participants?per_page=20"
  measure list-sessions "GET sessions (20 per page of 23)" "$L/sessions?per_page=20"
  measure list-session-participants "GET session participants (20 per page), 20-peer session" "$CROWD_S/participants?per_page=20"
  for SORT in "joinedAt ASC" "joinedAt DESC" "duration ASC" "duration DESC"; do
    read -r BY ORDER <<<"$SORT"
    Q="participants?per_page=20&sort_by=$BY&sort_order=$ORDER"
    measure "sp-20-$BY-$ORDER" "GET session participants page 1 (20 per page, $BY $ORDER), 20-peer session" "$CROWD_S/$Q"
    R20=$LAST_RPS
    measure "sp-big-$BY-$ORDER" "GET session participants page 1 (20 per page, $BY $ORDER), $BIG-peer session" "$BIGS/$Q"
    R_NOTE[-1]="$(ratio "$LAST_RPS" "$R20") of the 20-peer session's req/s"
  done
  # The views read in memory (one row per participant over the breakout rooms; a substring
  # search): what they cost as a session grows.
  for V in "consolidated view=consolidated" "search search=User%201"; do
    read -r NAME Q <<<"$V"
    measure "sp-20-$NAME" "GET session participants page 1 (20 per page, $Q), 20-peer session" "$CROWD_S/participants?per_page=20&$Q"
    R20=$LAST_RPS
    measure "sp-big-$NAME" "GET session participants page 1 (20 per page, $Q), $BIG-peer session" "$BIGS/participants?per_page=20&$Q"
    R_NOTE[-1]="$(ratio "$LAST_RPS" "$R20") of the 20-peer session's req/s"
  done
  measure add-participant "POST add participant (unique custom_participant_id each, 16 connections)" \
    "$L/meetings/$(j "$S" lists.write_meeting)/participants" 16 bench/add-participant.lua
  stop

  echo "== $DB: seeding $MANY ended sessions" >&2
  URL=$(new_db "$DB" many)
  T0=$(date +%s)
  "$BIN/rtk-bench" seed --database-url "$URL" --ended "$MANY" --participants 2 >"$WORK/seed-many.json"
  echo "   seeded in $(( $(date +%s) - T0 )) s" >&2
  serve "$URL" "$WORK/srv-$DB-many" --heartbeat-timeout-secs 86400
  S="$WORK/seed-many.json"
  ACC=$(j "$S" account); TOK=$(j "$S" token); APP=$(j "$S" app)
  KIT="$BASE/client/v4/accounts/$ACC/realtime/kit/$APP"
  measure details-many "GET session details, 2 participants, $MANY ended sessions" "$KIT/sessions/$(j "$S" small_session)"
  measure details-ended "GET session details of an ended one, $MANY ended sessions" "$KIT/sessions/$(j "$S" ended_session)"
  measure sessions-100-first "GET sessions first page (100 per page), $MANY sessions" "$KIT/sessions?per_page=100"
  DEEP=$(( MANY / 100 - 1 ))
  measure sessions-100-deep "GET sessions page $DEEP (100 per page), $MANY sessions" "$KIT/sessions?per_page=100&page_no=$DEEP"
  # Day-wise analytics read the maintained daily rows: the seeded sessions span a year.
  measure analytics-30 "GET analytics/daywise (default: 30 days), $MANY sessions" "$KIT/analytics/daywise"
  measure analytics-365 "GET analytics/daywise (365 days), $MANY sessions" \
    "$KIT/analytics/daywise?start_date=$(date -u -d '364 days ago' +%F)&end_date=$(date -u +%F)"
  stop
done
baseline_row "after the endpoint rows"
kill "$BPID"
mean() { python3 -c "import sys; r=[float(x) for x in sys.argv[1:]]; print(f'{sum(r)/len(r):.3f}')" "$@"; }
BASE_MEAN=$(mean "${BASE_RPS[@]}" | cut -d. -f1)
BASE_P99_MEAN=$(mean "${BASE_P99[@]}")
fi

storm() { # participants meetings rate
  local n=$1 m=$2 r=$3
  echo "== gateway: $n participants in $m meetings joining at $r/s (SQLite)" >&2
  URL=$(new_db sqlite "gw$m")
  "$BIN/rtk-bench" seed --database-url "$URL" --ended 0 --participants 0 >"$WORK/seed-gw.json"
  serve "$URL" "$WORK/srv-gw$m"
  "$BIN/rtk-bench" gateway --base-url "$BASE" --account "$(j "$WORK/seed-gw.json" account)" \
    --token "$(j "$WORK/seed-gw.json" token)" --app "$(j "$WORK/seed-gw.json" app)" \
    --participants "$n" --meetings "$m" --rate "$r" --server-pid "$SERVER_PID" >"$WORK/gw.json"
  GW=$(python3 -c "
import json; g = json.load(open('$WORK/gw.json'))
print(f\"{g['joined']}/{g['participants']} joined, {g['lost']} lost; all acknowledged at {g['achieved_joins_per_sec']:.0f} joins/s, join p50 {g['join_ms_p50']:.0f} ms, p99 {g['join_ms_p99']:.0f} ms; live {g['live_participants']}, exact counts={g['exact']}; CPU per join: server {g['server_cpu_ms_per_join']:.2f} ms, client {g['client_cpu_ms_per_join']:.2f} ms; server RSS {g['server_rss_mib']:.0f} MiB, client RSS {g['client_rss_mib']:.0f} MiB\")")
  ROWS+=("| gateway join storm: $n participants, $((n / m)) per meeting, offered at $r/s | | | | | | $GW |")
  stop
}
if want gateway; then
storm "$GW_N" "$((GW_N / 10))" "$GW_RATE"
# Offered above the target: what the machine (server and client together) can take.
storm "$GW_N" "$((GW_N / 10))" "$((GW_RATE * 3 / 2))"
storm "$GW_N" "$((GW_N / 100 > 0 ? GW_N / 100 : 1))" "$GW_RATE"
fi

if want crash; then
# Crash: kill -9 with peers connected, restart on the same store (heartbeat timeout 5 s so the
# abandoned sessions end within seconds), check that nothing acknowledged was lost.
echo "== crash: kill -9 with $CRASH_N peers connected (SQLite)" >&2
URL=$(new_db sqlite crash)
"$BIN/rtk-bench" seed --database-url "$URL" --ended 0 --participants 0 >"$WORK/seed-crash.json"
serve "$URL" "$WORK/srv-crash" --heartbeat-timeout-secs 5
"$BIN/rtk-bench" crash --base-url "$BASE" --account "$(j "$WORK/seed-crash.json" account)" \
  --token "$(j "$WORK/seed-crash.json" token)" --app "$(j "$WORK/seed-crash.json" app)" \
  --peers "$CRASH_N" --meetings "$((CRASH_N / 10))" --server-pid "$SERVER_PID" \
  --restart "$SERVE_CMD >>$WORK/srv-crash/out.log 2>>$WORK/srv-crash/err.log & echo \$! >$WORK/restarted.pid" >"$WORK/crash.json"
CR=$(python3 -c "
import json; c = json.load(open('$WORK/crash.json'))
print(f\"{c['acknowledged_joins']} joins and {c['acknowledged_chats']} messages acknowledged, {c['peers_in_store']} and {c['chats_in_store']} in the store after restart; restart {c['restart_secs']:.2f} s; {c['resumed']} resumed; {c['abandoned_sessions_ended']}/{c['abandoned_sessions']} abandoned sessions ended, at last heartbeat {c['end_minus_last_heartbeat_ms_min']}..{c['end_minus_last_heartbeat_ms_max']} ms; exact={c['exact']}\")")
ROWS+=("| crash: kill -9 with $CRASH_N peers connected, restart | | | | | | $CR |")
fi

# Webhooks: a receiver on loopback subscribed to every session event, a join storm, then
# everyone leaves. Checked against the store: every event once (after dedup on rtk-uuid when a
# node was killed), in order per session.
hooks_row() { # label json
  HK=$(python3 -c "
import json; h = json.load(open('$2'))
r = f\"{h['events_delivered']}/{h['events_expected']} events, {h['duplicates']} duplicate requests, {h['out_of_order_sessions']} sessions out of order; {h['events_per_sec']:.0f} events/s over {h['run_secs']:.1f} s; change to receiver p50 {h['latency_ms_p50']} ms, p99 {h['latency_ms_p99']} ms, max {h['latency_ms_max']} ms; outbox depth at most {h['max_outbox_depth']}; {h['joined']} joined, {h['joins_failed']} joins refused\"
if h['killed']: r += f\"; killed and ready again in {h['restart_secs']:.2f} s\"
print(r + f\"; exact={h['exact']}\")")
  ROWS+=("| $1 | | | | | | $HK |")
}
if want webhooks; then
HOOK_N=$GW_N; HOOK_M=$((GW_N / 10)); HOOK_RATE=$GW_RATE
hooks_target() { # seed json
  echo --base-url "$BASE" --account "$(j "$1" account)" --token "$(j "$1" token)" --app "$(j "$1" app)"
}
echo "== webhooks: $HOOK_N participants in $HOOK_M meetings joining at $HOOK_RATE/s (SQLite)" >&2
URL=$(new_db sqlite hooks)
"$BIN/rtk-bench" seed --database-url "$URL" --ended 0 --participants 0 >"$WORK/seed-hooks.json"
serve "$URL" "$WORK/srv-hooks" --heartbeat-timeout-secs 5
# shellcheck disable=SC2046
"$BIN/rtk-bench" webhooks $(hooks_target "$WORK/seed-hooks.json") --participants "$HOOK_N" --meetings "$HOOK_M" \
  --rate "$HOOK_RATE" >"$WORK/hooks.json"
hooks_row "webhooks during a join storm: $HOOK_N joins and leaves at $HOOK_RATE/s, SQLite" "$WORK/hooks.json"
stop

echo "== webhooks: kill -9 mid-storm (SQLite)" >&2
URL=$(new_db sqlite hookskill)
"$BIN/rtk-bench" seed --database-url "$URL" --ended 0 --participants 0 >"$WORK/seed-hookskill.json"
serve "$URL" "$WORK/srv-hookskill" --heartbeat-timeout-secs 5
# The crash run's restarted server is done with.
[ -f "$WORK/restarted.pid" ] && kill "$(cat "$WORK/restarted.pid")" 2>/dev/null || true
rm -f "$WORK/restarted.pid"
# shellcheck disable=SC2046
"$BIN/rtk-bench" webhooks $(hooks_target "$WORK/seed-hookskill.json") --participants "$HOOK_N" --meetings "$HOOK_M" \
  --rate "$HOOK_RATE" --kill-after "$((HOOK_N / 3))" --server-pid "$SERVER_PID" \
  --restart "$SERVE_CMD >>$WORK/srv-hookskill/out.log 2>>$WORK/srv-hookskill/err.log & echo \$! >$WORK/restarted.pid" \
  >"$WORK/hookskill.json"
hooks_row "webhooks through kill -9 once $((HOOK_N / 3)) events had arrived, restart on the same store, SQLite" "$WORK/hookskill.json"
[ -f "$WORK/restarted.pid" ] && kill "$(cat "$WORK/restarted.pid")" 2>/dev/null || true
fi

# Livestream: one RTMP ingest (rtk-bench publishing an ffmpeg-encoded FLV in real time) to N
# HTTP-FLV viewers; latency is from the publisher's send of a video tag to its arrival at a
# viewer (one clock), so it is the server's path without encoder or player buffers.
if want livestream; then
if ! command -v ffmpeg >/dev/null 2>&1; then
  echo "== installing ffmpeg" >&2
  apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends ffmpeg >&2
fi
if [ "$SMOKE" = 1 ]; then LV_SIZE=320x180; LV_KBPS=500; LV_N=10; LV_SECS=2; else LV_SIZE=1280x720; LV_KBPS=3900; LV_N=100; LV_SECS=30; fi
echo "== livestream: one ${LV_KBPS} kbit/s ingest to $LV_N HTTP-FLV viewers (SQLite)" >&2
ffmpeg -hide_banner -loglevel error -f lavfi -i "testsrc2=size=$LV_SIZE:rate=30" -f lavfi -i sine=frequency=440:sample_rate=44100 \
  -t 10 -c:v libx264 -preset veryfast -b:v "${LV_KBPS}k" -maxrate "${LV_KBPS}k" -bufsize "${LV_KBPS}k" -g 60 \
  -c:a aac -b:a 96k -f flv "$WORK/live.flv"
URL=$(new_db sqlite live)
"$BIN/rtk-bench" seed --database-url "$URL" --ended 0 --participants 0 >"$WORK/seed-live.json"
serve "$URL" "$WORK/srv-live" --rtmp-listen "127.0.0.1:$(free_port)"
"$BIN/rtk-bench" livestream --base-url "$BASE" --account "$(j "$WORK/seed-live.json" account)" \
  --token "$(j "$WORK/seed-live.json" token)" --app "$(j "$WORK/seed-live.json" app)" \
  --media "$WORK/live.flv" --viewers "$LV_N" --secs "$LV_SECS" --server-pid "$SERVER_PID" >"$WORK/live.json"
LV=$(python3 -c "
import json; l = json.load(open('$WORK/live.json'))
print(f\"{l['dropped_viewers']}/{l['viewers']} viewers dropped; media {l['media_kbps']:.0f} kbit/s, {l['per_viewer_mbps']} Mbit/s received per viewer; server CPU {l['server_cpu_pct_ingest_only']}% of a core for the ingest alone, {l['server_cpu_pct_with_viewers']}% with the viewers ({l['server_cpu_pct_per_viewer']}% per viewer); RSS {l['server_rss_mib_ingest_only']} then {l['server_rss_mib_with_viewers']} MiB; send to viewer p50 {l['latency_ms_p50']} ms, p99 {l['latency_ms_p99']} ms, max {l['latency_ms_max']} ms over {l['latency_samples']} tags; viewer_seconds by the API {l['api_viewer_seconds']} for {l['watched_secs']:.0f} s watched\")")
ROWS+=("| livestream: one ingest to $LV_N HTTP-FLV viewers for ${LV_SECS} s | | | | | | $LV |")
stop
fi

if want webhooks && { echo "$DBS" | grep -q postgres || [ "$SMOKE" = 1 ]; } && psql "$PG_ADMIN" -qc 'SELECT 1' >/dev/null 2>&1; then
  echo "== webhooks: two rtk processes delivering from one PostgreSQL outbox" >&2
  URL=$(new_db postgres hooks2)
  "$BIN/rtk-bench" seed --database-url "$URL" --ended 0 --participants 0 >"$WORK/seed-hooks2.json"
  serve "$URL" "$WORK/srv-hooks2b" --heartbeat-timeout-secs 5
  FIRST_PID=$SERVER_PID; FIRST_BASE=$BASE
  # The second node shares the first's key file (every node on one database needs the same).
  serve "$URL" "$WORK/srv-hooks2a" --heartbeat-timeout-secs 5 --signing-key-file "$WORK/srv-hooks2b/signing.key"
  # shellcheck disable=SC2046
  "$BIN/rtk-bench" webhooks $(hooks_target "$WORK/seed-hooks2.json") --participants "$HOOK_N" --meetings "$HOOK_M" \
    --rate "$HOOK_RATE" >"$WORK/hooks2.json"
  delivered() { curl -sf "$1/metrics" | awk '/^webhook_deliveries_total/ && /outcome="delivered"/ {n += $NF} END {print n + 0}'; }
  hooks_row "webhooks with two rtk processes on one PostgreSQL (peers on one, both delivering): $HOOK_N joins at $HOOK_RATE/s" "$WORK/hooks2.json"
  ROWS[-1]="${ROWS[-1]% |} — delivered by the peers' node $(delivered "$BASE"), by the other $(delivered "$FIRST_BASE") |"
  stop
  kill "$FIRST_PID" 2>/dev/null || true
fi

if want nodes && { echo "$DBS" | grep -q postgres || [ "$SMOKE" = 1 ]; } && psql "$PG_ADMIN" -qc 'SELECT 1' >/dev/null 2>&1; then
  echo "== nodes: $NODES_PEERS peers of $NODES_MEETINGS meetings over 3 rtk processes on one PostgreSQL, then kill -9 of one" >&2
  URL=$(new_db postgres nodes)
  "$BIN/rtk-bench" seed --database-url "$URL" --ended 0 --participants 0 >"$WORK/seed-nodes.json"
  NODE_BASES=()
  for k in 0 1 2; do
    # Every node on one database shares the first one's key file.
    key=()
    [ "$k" != 0 ] && key=(--signing-key-file "$WORK/srv-nodes0/signing.key")
    serve "$URL" "$WORK/srv-nodes$k" --node-lease-secs "$NODES_LEASE" "${key[@]}"
    NODE_BASES+=(--base-url "$BASE")
  done
  # PostgreSQL restarted during the joins, when it is this machine's own cluster.
  RESTART=()
  if command -v pg_ctlcluster >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && echo "$PG_ADMIN" | grep -q '@127.0.0.1:5432/'; then
    CLUSTER=$(pg_lsclusters -h | awk '$3 == 5432 && $4 == "online" {print $1, $2; exit}')
    [ -n "$CLUSTER" ] && RESTART=(--db-restart "pg_ctlcluster $CLUSTER restart")
  fi
  "$BIN/rtk-bench" nodes "${NODE_BASES[@]}" --account "$(j "$WORK/seed-nodes.json" account)" \
    --token "$(j "$WORK/seed-nodes.json" token)" --app "$(j "$WORK/seed-nodes.json" app)" \
    --peers "$NODES_PEERS" --meetings "$NODES_MEETINGS" --kill-pid "$SERVER_PID" --lease-secs "$NODES_LEASE" \
    "${RESTART[@]}" >"$WORK/nodes.json"
  NODES=$(python3 -c "import json; n=json.load(open('$WORK/nodes.json'))
print(f\"{'PostgreSQL restarted during the joins (' + str(n['join_retries']) + ' join attempts failed and were retried); ' if n['db_restarted'] else ''}exact from every node; {n['actions']} cross-node deliveries (mute, poll, kick) p50 {n['action_ms_p50']:.1f} ms, p99 {n['action_ms_p99']:.1f} ms, max {n['action_ms_max']:.1f} ms; kill -9 of a node with {n['killed_peers']} peers: all left {n['ghost_secs']:.1f} s after the kill (lease {n['lease_secs']:.0f} s), each at most {n['left_before_kill_ms_max']} ms before it\")")
  ROWS+=("| nodes: $NODES_PEERS peers of $NODES_MEETINGS meetings over 3 nodes on one PostgreSQL | | | | | | $NODES |")
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
fi

for i in "${!R_KEY[@]}"; do
  [ -z "${R_KEY[$i]}" ] && continue
  R_HYPER[$i]=$(ratio "${R_RPS[$i]}" "$BASE_MEAN")
  if [ "${R_DB[$i]}" = postgres ] && [ -n "${SQLITE_RPS[${R_KEY[$i]}]:-}" ]; then
    R_PG[$i]=$(ratio "${R_RPS[$i]}" "${SQLITE_RPS[${R_KEY[$i]}]}")
  fi
  if [ "${R_KEY[$i]}" = details ]; then
    R_NOTE[$i]="p99 $(ratio "${R_P99[$i]}" "$BASE_P99_MEAN")x the baseline's (mean p99 $BASE_P99_MEAN ms)"
  fi
done

echo
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(uname -sr); $(date -u +%Y-%m-%dT%H:%MZ); profile $PROFILE; wrk -t2 -c$CONNS -d${DUR}s (the write: -c16); $SECONDS s in all"
echo
if want endpoints; then
  echo "Ratios to hyper divide by the mean of the baseline's two runs (before and after the endpoint rows): $BASE_MEAN req/s."
  echo
fi
[ -n "$ONLY" ] && echo "Only the $ONLY section (--only $ONLY)." && echo
echo "| figure | req/s | p50 ms | p99 ms | ÷ hyper | PostgreSQL ÷ SQLite | notes |"
echo "|---|---|---|---|---|---|---|"
for i in "${!R_KEY[@]}"; do
  echo "| ${R_LABEL[$i]} | ${R_RPS[$i]} | ${R_P50[$i]} | ${R_P99[$i]} | ${R_HYPER[$i]:-} | ${R_PG[$i]:-} | ${R_NOTE[$i]} |"
done
printf '%s\n' "${ROWS[@]}"
