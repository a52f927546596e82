#!/usr/bin/env bash
# Whole-server benchmarks for rtk: prints every figure BENCHMARKS.md records, as a Markdown
# table, with the machine it ran on. Installs its own load tool (wrk, from Debian's packages).
#
#   bench/run.sh                 # the full run (release build; SQLite and PostgreSQL)
#   bench/run.sh --db sqlite     # one backend
#   bench/run.sh --smoke         # seconds-long pass on small numbers (debug build), for CI
#
# Never part of `cargo test`. Everything listens on 127.0.0.1 only.
set -euo pipefail
cd "$(dirname "$0")/.."

SMOKE=0
DBS="sqlite postgres"
while [ $# -gt 0 ]; do
  case "$1" in
    --smoke) SMOKE=1; DBS="sqlite" ;;
    --db) shift; DBS="$1" ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

if [ "$SMOKE" = 1 ]; then
  PROFILE=debug; DUR=1; CONNS=16; BIG=200; MANY=2000; GW_N=100; GW_RATE=200; CRASH_N=40
else
  PROFILE=release; DUR=10; CONNS=64; BIG=10000; MANY=1000000; GW_N=10000; GW_RATE=2000; CRASH_N=1000
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
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# wrk URL [auth header] -> "rps p50_ms p99_ms"
load() {
  local url=$1 auth=${2:-}
  local out
  if [ -n "$auth" ]; then
    out=$(wrk -t2 -c"$CONNS" -d"${DUR}s" --latency -H "Authorization: Bearer $auth" "$url")
  else
    out=$(wrk -t2 -c"$CONNS" -d"${DUR}s" --latency "$url")
  fi
  local errors
  errors=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  if [ -n "$errors" ]; then echo "wrk saw $errors non-2xx answers for $url" >&2; echo "$out" >&2; exit 1; fi
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

j() { python3 -c "import json,sys; print(json.load(open('$1'))['$2'])"; }

ROWS=()
row() { ROWS+=("| $1 | $2 | $3 | $4 | $5 |"); echo "$1: $2 req/s, p50 $3 ms, p99 $4 ms $5" >&2; }

for DB in $DBS; do
  echo "== $DB: seeding 10 ended sessions, a live session of 2 and one of $BIG peers" >&2
  URL=$(new_db "$DB" small)
  "$BIN/rtk-bench" seed --database-url "$URL" --ended 10 --participants "$BIG" >"$WORK/seed-small.json"
  serve "$URL" "$WORK/srv-$DB-small"
  ACC=$(j "$WORK/seed-small.json" account); TOK=$(j "$WORK/seed-small.json" token); APP=$(j "$WORK/seed-small.json" app)
  KIT="$BASE/client/v4/accounts/$ACC/realtime/kit/$APP"
  SMALL="$KIT/sessions/$(j "$WORK/seed-small.json" small_session)"
  BIGS="$KIT/sessions/$(j "$WORK/seed-small.json" big_session)"
  curl -sf -H "Authorization: Bearer $TOK" "$SMALL" >"$WORK/body.json"
  read -r RPS P50 P99 < <(load "$SMALL" "$TOK")
  row "GET session details, $DB, 2 participants, 10 ended sessions" "$RPS" "$P50" "$P99" ""
  if [ "$DB" = sqlite ]; then
    BPORT=$(free_port)
    "$BIN/rtk-bench" baseline --listen "127.0.0.1:$BPORT" --body-file "$WORK/body.json" 2>/dev/null &
    PIDS+=("$!"); BPID=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$BPORT/" >/dev/null && break; sleep 0.05; done
    read -r BRPS BP50 BP99 < <(load "http://127.0.0.1:$BPORT/")
    row "minimal hyper server, same bytes from memory (same run)" "$BRPS" "$BP50" "$BP99" ""
    kill "$BPID"
    RATIO=$(python3 -c "print(f'{$RPS/$BRPS:.2f} of the req/s; p99 {$P99/$BP99:.2f}x')")
    row "ratio rtk / hyper" "" "" "" "$RATIO"
  fi
  read -r RPS P50 P99 < <(load "$BIGS" "$TOK")
  row "GET session details, $DB, $BIG participants" "$RPS" "$P50" "$P99" ""
  stop

  echo "== $DB: seeding $MANY ended sessions" >&2
  URL=$(new_db "$DB" many)
  T0=$(date +%s)
  "$BIN/rtk-bench" seed --database-url "$URL" --ended "$MANY" --participants 2 >"$WORK/seed-many.json"
  echo "   seeded in $(( $(date +%s) - T0 )) s" >&2
  serve "$URL" "$WORK/srv-$DB-many"
  ACC=$(j "$WORK/seed-many.json" account); TOK=$(j "$WORK/seed-many.json" token); APP=$(j "$WORK/seed-many.json" app)
  KIT="$BASE/client/v4/accounts/$ACC/realtime/kit/$APP"
  read -r RPS P50 P99 < <(load "$KIT/sessions/$(j "$WORK/seed-many.json" small_session)" "$TOK")
  row "GET session details, $DB, 2 participants, $MANY ended sessions" "$RPS" "$P50" "$P99" ""
  read -r RPS P50 P99 < <(load "$KIT/sessions/$(j "$WORK/seed-many.json" ended_session)" "$TOK")
  row "GET session details of an ended one, $DB, $MANY ended sessions" "$RPS" "$P50" "$P99" ""
  read -r RPS P50 P99 < <(load "$KIT/sessions?per_page=100" "$TOK")
  row "GET sessions first page (100 per page), $DB, $MANY sessions" "$RPS" "$P50" "$P99" ""
  DEEP=$(( MANY / 100 - 1 ))
  read -r RPS P50 P99 < <(load "$KIT/sessions?per_page=100&page_no=$DEEP" "$TOK")
  row "GET sessions page $DEEP (100 per page), $DB, $MANY sessions" "$RPS" "$P50" "$P99" ""
  stop
done

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
  ROWS+=("| gateway join storm: $n participants, $((n / m)) per meeting, offered at $r/s | | | | $GW |")
  stop
}
storm "$GW_N" "$((GW_N / 10))" "$GW_RATE"
# Offered above the target: what the machine (server and client together) can take.
storm "$GW_N" "$((GW_N / 10))" "$((GW_RATE * 3 / 2))"
storm "$GW_N" "$((GW_N / 100 > 0 ? GW_N / 100 : 1))" "$GW_RATE"

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
ROWS+=("| crash: kill -9 with $CRASH_N peers connected, restart | | | | $CR |")

echo
echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB; $(uname -sr); $(date -u +%Y-%m-%dT%H:%MZ); profile $PROFILE; wrk -t2 -c$CONNS -d${DUR}s"
echo
echo "| figure | req/s | p50 ms | p99 ms | notes |"
echo "|---|---|---|---|---|"
printf '%s\n' "${ROWS[@]}"
