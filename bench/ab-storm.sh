#!/usr/bin/env bash
# A/B: the same gateway join storm against two rtk binaries, alternating (same client for both).
# Usage: OLD=path/to/target/release NEW=path/to/target/release bench/ab-storm.sh
set -euo pipefail
# Two release builds to compare (clones of the repository, each built by bench/run.sh).
NEW=${NEW:?set NEW to a release target dir}; OLD=${OLD:?set OLD to a release target dir}
BENCH=$NEW/rtk-bench
W=$(mktemp -d)
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
j() { python3 -c "import json,sys; print(json.load(open('$1'))['$2'])"; }
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
run() { # label bin rate
  local label=$1 bin=$2 rate=$3 d; d=$(mktemp -d -p "$W")
  "$bin/rtk-bench" seed --database-url "sqlite://$d/rtk.db" --ended 0 --participants 0 >"$d/seed.json"
  local port; port=$(free_port)
  RTK_LOG=warn "$bin/rtk" serve --listen 127.0.0.1:$port --data-dir "$d" --database-url "sqlite://$d/rtk.db" --log-format json >/dev/null 2>"$d/err.log" &
  local pid=$!
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.05; done
  "$BENCH" gateway --base-url "http://127.0.0.1:$port" --account "$(j $d/seed.json account)" --token "$(j $d/seed.json token)" \
    --app "$(j $d/seed.json app)" --participants 10000 --meetings 1000 --rate "$rate" --server-pid $pid >"$d/gw.json"
  python3 -c "
import json; g=json.load(open('$d/gw.json'))
print(f\"$label rate=$rate: {g['achieved_joins_per_sec']:.0f} joins/s p99 {g['join_ms_p99']:.0f} ms server CPU/join {g['server_cpu_ms_per_join']:.3f} ms client {g['client_cpu_ms_per_join']:.3f} ms RSS {g['server_rss_mib']:.0f} MiB exact={g['exact']}\")"
  kill $pid; wait $pid 2>/dev/null || true
}
for i in 1 2; do
  run old $OLD 3000; run new $NEW 3000
done
for i in 1 2; do
  run new $NEW 2000; run old $OLD 2000
done
rm -rf "$W"
