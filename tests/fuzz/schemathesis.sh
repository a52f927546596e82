#!/usr/bin/env bash
# schemathesis against a running `rtk serve`: the served OpenAPI document, every check
# (`--checks all`: server errors, status codes, content types, headers, response schemas,
# positive and negative data, auth, methods, …), bounded in examples and time. Any failure
# it reports fails the run.
#
#   RTK_BIN                  the rtk binary (default: cargo build -p rtk-cli, then target/debug/rtk)
#   RTK_FUZZ_MAX_EXAMPLES    examples per operation (default 20)
#   RTK_FUZZ_TIMEOUT         hard limit on the whole schemathesis run, seconds (default 480)
#
# The server runs on SQLite in a temporary data directory, with fixed credentials made by
# `rtk account create` / `rtk token create --value` (docs/testing-with-rtk.md), on a manual
# clock with an admin token, so rtk's admin routes are in the document too (schemathesis
# calls them with the API token: they must refuse it). An app, presets, a meeting with a live
# session (a participant joined through the gateway) are seeded first, and their ids given
# for the path parameters; with a recording of the session and a transcript segment.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)

if [ -z "${RTK_BIN:-}" ]; then
  echo "== cargo build -p rtk-cli"
  (cd "$root" && cargo build -p rtk-cli)
  RTK_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/rtk"
fi
[ -x "$RTK_BIN" ] || { echo "no rtk binary at $RTK_BIN" >&2; exit 1; }
python=${PYTHON:-python3}

venv="$here/.venv"
req="$here/requirements.txt"
if [ -x "$venv/bin/schemathesis" ] && cmp -s "$req" "$venv/.requirements"; then
  echo "== reusing $venv"
else
  echo "== creating $venv"
  "$python" -m venv --clear "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
  cp "$req" "$venv/.requirements"
fi

data=$(mktemp -d)
server_pid=""
join_pid=""
cleanup() {
  [ -n "$join_pid" ] && kill "$join_pid" 2>/dev/null || true
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$data"
}
trap cleanup EXIT

account=acc-fuzz
token=fuzz-token-0001
"$RTK_BIN" account create --data-dir "$data" --id "$account" >/dev/null
"$RTK_BIN" token create --data-dir "$data" --account "$account" --email fuzz@example.com --value "$token" >/dev/null
port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
"$RTK_BIN" serve --data-dir "$data" --listen "127.0.0.1:$port" --log-format json \
  --clock manual=2026-01-01T00:00:00Z --admin-token fuzz-admin-0001 2>"$data/serve.log" &
server_pid=$!
for _ in $(seq 1 100); do
  curl -fs "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { cat "$data/serve.log" >&2; echo "rtk serve exited" >&2; exit 1; }
  sleep 0.1
done
curl -fs "$base/readyz" >/dev/null || { echo "rtk serve did not become ready" >&2; exit 1; }

api() {
  local method=$1 path=$2 body=${3:-}
  curl -fsS -X "$method" -H "Authorization: Bearer $token" -H 'content-type: application/json' \
    ${body:+-d "$body"} "$base/accounts/$account/realtime/kit$path"
}
field() { "$python" -c 'import json, sys; d = json.load(sys.stdin)["data"]
for k in sys.argv[1].split("."): d = d[k]
print(d)' "$1"; }

echo "== seeding"
app=$(api POST /apps '{"name": "fuzz"}' | field app.id)
preset=$(api POST "/$app/presets" "$(cat "$here/preset.json")" | field id)
meeting=$(api POST "/$app/meetings" '{"title": "fuzz"}' | field id)
ptoken=$(api POST "/$app/meetings/$meeting/participants" '{"custom_participant_id": "p1", "preset_name": "host", "name": "P"}' | field token)
# A live session: a participant joins through the gateway and stays while schemathesis runs.
"$RTK_BIN" join --base-url "$base" --token "$ptoken" --device '{"os": "linux"}' >"$data/join.log" 2>&1 &
join_pid=$!
session=""
peer=""
for _ in $(seq 1 100); do
  if grep -q '"joined"' "$data/join.log" 2>/dev/null; then
    session=$(grep -m1 '"joined"' "$data/join.log" | "$python" -c 'import json, sys; print(json.loads(sys.stdin.readline())["session_id"])')
    peer=$(grep -m1 '"joined"' "$data/join.log" | "$python" -c 'import json, sys; print(json.loads(sys.stdin.readline())["peer_id"])')
    break
  fi
  sleep 0.1
done
[ -n "$session" ] || { cat "$data/join.log" >&2; echo "the seeded participant did not join" >&2; exit 1; }
# A recording of it, and a transcript segment (the clock is manual: the session started at its
# start time, and a segment of its first instant lies within it).
recording=$(api POST "/$app/recordings" "{\"meeting_id\": \"$meeting\"}" | field id)
api POST "/$app/sessions/$session/transcript" \
  '{"segments": [{"speaker": "P", "text": "hello", "start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:00:00Z"}]}' >/dev/null
echo "   app $app, preset $preset, meeting $meeting, session $session, peer $peer, recording $recording"

export RTK_FUZZ_ACCOUNT=$account RTK_FUZZ_APP=$app RTK_FUZZ_PRESET=$preset RTK_FUZZ_MEETING=$meeting \
  RTK_FUZZ_SESSION=$session RTK_FUZZ_PEER=$peer RTK_FUZZ_RECORDING=$recording

echo "== schemathesis $("$venv/bin/schemathesis" --version | awk '{print $NF}') against $base/openapi.json"
rc=0
# From the temporary directory: schemathesis keeps a cache of past failures where it runs.
cd "$data"
timeout --kill-after=10 "${RTK_FUZZ_TIMEOUT:-480}" \
  "$venv/bin/schemathesis" --config-file "$here/schemathesis.toml" run "$base/openapi.json" \
    --url "$base" \
    --checks all \
    --header "Authorization: Bearer $token" \
    --max-examples "${RTK_FUZZ_MAX_EXAMPLES:-20}" \
    --seed "${RTK_FUZZ_SEED:-16}" \
    --workers 1 \
    --request-timeout 10 \
    --generation-database none \
    --no-color \
    --report junit --report-dir "$here/.results" || rc=$?
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
  echo "schemathesis: did not finish within ${RTK_FUZZ_TIMEOUT:-480}s" >&2
fi
if ! kill -0 "$server_pid" 2>/dev/null; then
  echo "rtk serve died during the run:" >&2
  tail -n 50 "$data/serve.log" >&2
  rc=1
fi
exit $rc
