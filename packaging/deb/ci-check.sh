#!/usr/bin/env bash
# CI: builds the Debian package from an rtk binary, installs it with dpkg -i, checks what it
# installed (user, data directory mode, unit), starts the service as its unit does, probes
# /healthz, and removes the package. Needs root (CI runs as root).
#
#   packaging/deb/ci-check.sh target/debug/rtk
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=${1:?usage: ci-check.sh RTK_BINARY}
out=$(mktemp -d)
deb=$("$root/packaging/deb/build.sh" --binary "$binary" --out "$out")
echo "built $deb"
dpkg-deb --info "$deb" | sed -n '1,/^ Description/p' | grep -E 'Package|Version|Architecture|Depends' || true
dpkg -i "$deb" >/dev/null
fail() { echo "deb check: $*" >&2; exit 1; }
cleanup() {
  [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null || true
  [ -d /run/systemd/system ] && systemctl stop rtk.service 2>/dev/null || true
  dpkg -r rtk >/dev/null 2>&1 || true
  rm -rf "$out"
}
trap cleanup EXIT

getent passwd rtk >/dev/null || fail "no rtk user"
[ "$(stat -c '%a %U' /var/lib/rtk)" = "700 rtk" ] || fail "/var/lib/rtk is $(stat -c '%a %U' /var/lib/rtk), not 700 rtk"
[ -x /usr/bin/rtk ] || fail "no /usr/bin/rtk"
if command -v systemd-analyze >/dev/null 2>&1; then
  systemd-analyze verify /lib/systemd/system/rtk.service || fail "systemd-analyze rejects the unit"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
if [ -d /run/systemd/system ]; then
  echo "RTK_LISTEN=127.0.0.1:$port" >>/etc/default/rtk
  systemctl restart rtk.service
else
  # No systemd here (a container): run what the unit's ExecStart runs, as its user, with its umask.
  exec_start=$(sed -n 's/^ExecStart=//p' /lib/systemd/system/rtk.service)
  # shellcheck disable=SC2086
  (cd /var/lib/rtk && umask 0077 && RTK_LISTEN="127.0.0.1:$port" exec setpriv --reuid=rtk --regid=rtk --init-groups -- $exec_start >"$out/rtk.log" 2>&1) &
  pid=$!
fi
for _ in $(seq 1 200); do
  curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break
  sleep 0.1
done
body=$(curl -sf "http://127.0.0.1:$port/healthz") || { cat "$out/rtk.log" >&2 || true; fail "no answer on /healthz"; }
echo "healthz: $body"
echo "$body" | grep -q '"status":"ok"' || fail "unexpected /healthz answer: $body"
[ "$(stat -c '%a %U' /var/lib/rtk/credentials.json)" = "600 rtk" ] || fail "credentials.json is $(stat -c '%a %U' /var/lib/rtk/credentials.json)"
if [ -n "${pid:-}" ]; then
  [ "$(stat -c '%U' "/proc/$pid")" = rtk ] || fail "the server does not run as rtk"
  kill -TERM "$pid"
  wait "$pid" || fail "rtk did not exit cleanly on SIGTERM"
  pid=""
  grep -q '"rtk stopped"' "$out/rtk.log" || fail "no clean stop in the log"
fi
echo "deb check: installed, started as rtk on 127.0.0.1:$port, /healthz ok, data dir 0700, credentials 0600"
