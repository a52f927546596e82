#!/usr/bin/env bash
# The dashboard in a real browser: headless Chromium (Debian's package, installed if missing)
# driven over the DevTools protocol by test_dashboard.py against a real `rtk serve`, with two
# `rtk join` peers coming and going. Screenshots go to tests/dashboard/.artifacts/.
#
#   bash tests/dashboard/run.sh        # RTK_BIN, else target/debug/rtk (cargo build -p rtk-cli)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
RTK_BIN=${RTK_BIN:-${CARGO_TARGET_DIR:-$root/target}/debug/rtk}
[ -x "$RTK_BIN" ] || (cd "$root" && cargo build -p rtk-cli)
if ! command -v chromium >/dev/null 2>&1; then
  echo "== installing chromium (Debian)"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
venv="$here/.venv"
if ! cmp -s "$here/requirements.txt" "$venv/.requirements" 2>/dev/null; then
  python3 -m venv --clear "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$here/requirements.txt"
  cp "$here/requirements.txt" "$venv/.requirements"
fi
rm -rf "$here/.artifacts"
mkdir -p "$here/.artifacts"
RTK_BIN="$RTK_BIN" "$venv/bin/python" "$here/test_dashboard.py" --artifacts "$here/.artifacts"
