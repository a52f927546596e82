#!/usr/bin/env bash
# A/B: GET session details against two rtk binaries, alternating, and the hyper baseline.
# Usage: OLD=path/to/target/release NEW=path/to/target/release bench/ab-details.sh
set -euo pipefail
# Two release builds to compare (clones of the repository, each built by bench/run.sh).
NEW=${NEW:?set NEW to a release target dir}; OLD=${OLD:?set OLD to a release target dir}
W=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
j() { python3 -c "import json,sys; print(json.load(open('$1'))['$2'])"; }
run() { # label bin
  local label=$1 bin=$2 d; d=$(mktemp -d -p "$W")
  "$bin/rtk-bench" seed --database-url "sqlite://$d/rtk.db" --ended 10 --participants 2 >"$d/seed.json"
  local port; port=$(free_port)
  RTK_LOG=warn "$bin/rtk" serve --listen 127.0.0.1:$port --data-dir "$d" --database-url "sqlite://$d/rtk.db" --log-format json >/dev/null 2>"$d/err.log" &
  local pid=$!
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.05; done
  local url="http://127.0.0.1:$port/client/v4/accounts/$(j $d/seed.json account)/realtime/kit/$(j $d/seed.json app)/sessions/$(j $d/seed.json small_session)"
  curl -sf -H "Authorization: Bearer $(j $d/seed.json token)" "$url" > "$d/body.json"
  echo "$label: $(wrk -t2 -c64 -d10s --latency -H "Authorization: Bearer $(j $d/seed.json token)" "$url" | awk '/Requests\/sec/ {r=$2} $1=="99%" {p=$2} END {print r " req/s, p99 " p}')"
  if [ "$label" = new ]; then
    local bport; bport=$(free_port)
    "$bin/rtk-bench" baseline --listen 127.0.0.1:$bport --body-file "$d/body.json" 2>/dev/null & local bpid=$!
    for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$bport/" >/dev/null && break; sleep 0.05; done
    echo "hyper: $(wrk -t2 -c64 -d10s --latency "http://127.0.0.1:$bport/" | awk '/Requests\/sec/ {r=$2} $1=="99%" {p=$2} END {print r " req/s, p99 " p}')"
    kill $bpid
  fi
  kill $pid; wait $pid 2>/dev/null || true
}
for i in 1 2 3; do run old $OLD; run new $NEW; done
rm -rf "$W"
