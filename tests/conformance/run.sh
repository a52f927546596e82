#!/usr/bin/env bash
# Conformance: the official Cloudflare SDKs, unchanged, against rtk.
#
#   python  cloudflare==5.0.0 and cloudflare==5.9.0 (one virtualenv each, the same pytest files)
#   node    cloudflare@7.3.0 (node --test)
#
# Builds the rtk binary (cargo decides whether anything changed) unless RTK_BIN names one,
# creates or reuses the virtualenvs (tests/conformance/.venv-X.Y.Z), runs `npm ci`, then every
# suite, each writing a JUnit report to tests/conformance/.results/; then compat.py turns the
# reports into docs/compatibility.md (skipped when PYTEST_ARGS narrows the run). Exits non-zero
# if any suite fails or runs no tests, or the generator fails.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
start=$(date +%s)

if [ -z "${RTK_BIN:-}" ]; then
  echo "== cargo build -p rtk-cli"
  (cd "$root" && cargo build -p rtk-cli)
  RTK_BIN="${CARGO_TARGET_DIR:-$root/target}/debug/rtk"
fi
export RTK_BIN
[ -x "$RTK_BIN" ] || { echo "no rtk binary at $RTK_BIN" >&2; exit 1; }

python=${PYTHON:-python3}
command -v "$python" >/dev/null || { echo "conformance: $python is required" >&2; exit 1; }
command -v node >/dev/null && command -v npm >/dev/null || { echo "conformance: node (>= 20) and npm are required" >&2; exit 1; }
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || { echo "conformance: node >= 20 is required, found $(node --version)" >&2; exit 1; }

py_versions=(5.0.0 5.9.0)

# A virtualenv per SDK version, reused while it holds exactly the pinned requirements.
for v in "${py_versions[@]}"; do
  venv="$here/.venv-$v"
  req="$here/python/requirements-$v.txt"
  stamp="$venv/.requirements"
  if [ -x "$venv/bin/python" ] && cmp -s "$req" "$stamp" \
    && "$venv/bin/python" -c "import cloudflare, pytest, sys; sys.exit(cloudflare.__version__ != '$v')" 2>/dev/null; then
    echo "== reusing $venv"
  else
    echo "== creating $venv"
    "$python" -m venv --clear "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
    cp "$req" "$stamp"
  fi
done

echo "== npm ci (node suite)"
(cd "$here/node" && npm ci --no-audit --no-fund --loglevel=error)

results="$here/.results"
rm -rf "$results"
mkdir -p "$results"

failed=()
summary=()
run_suite() {
  local name=$1
  shift
  local t0 rc=0
  t0=$(date +%s)
  echo
  echo "== $name"
  "$@" || rc=$?
  summary+=("$(printf '%-22s %s (%ss)' "$name" "$([ $rc -eq 0 ] && echo ok || echo "FAILED (exit $rc)")" $(($(date +%s) - t0)))")
  [ $rc -eq 0 ] || failed+=("$name")
}

# pytest exits 5 when it collected no tests: like any non-zero status, a failure here.
for v in "${py_versions[@]}"; do
  run_suite "python cloudflare==$v" bash -c 'cd "$1/python" && "$2/bin/python" -m pytest "${@:3}"' _ \
    "$here" "$here/.venv-$v" --junitxml="$results/python-$v.xml" ${PYTEST_ARGS:-}
done

# The pytest example in docs/testing-with-rtk.md, exactly as written (current SDK).
run_suite "docs pytest example" "$here/.venv-5.9.0/bin/python" "$here/docs_examples.py" "$root/docs/testing-with-rtk.md"

# node --test exits 0 when it finds no test files; demand at least one passing test.
ts_version=$(node -p 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).version' "$here/node/node_modules/cloudflare/package.json")
node_suite() {
  local tap rc=0 passed
  tap=$(mktemp)
  (cd "$here/node" && node --test --test-reporter=spec --test-reporter-destination=stdout \
    --test-reporter=tap --test-reporter-destination="$tap" \
    --test-reporter=junit --test-reporter-destination="$results/node-$ts_version.xml" test/) || rc=$?
  passed=$(awk '/^# pass / { print $3 }' "$tap")
  rm -f "$tap"
  [ $rc -eq 0 ] || return $rc
  if [ "${passed:-0}" -eq 0 ]; then
    echo "node: no tests ran" >&2
    return 5
  fi
}
run_suite "node cloudflare@$ts_version" node_suite
run_suite "docs node example" node "$here/node/docs-example.mjs" "$root/docs/testing-with-rtk.md"

# docs/compatibility.md from the reports, when every test ran.
if [ -z "${PYTEST_ARGS:-}" ]; then
  run_suite "compat.py" "$python" "$here/compat.py" --results "$results" --rtk-bin "$RTK_BIN" \
    --out "$root/docs/compatibility.md"
else
  summary+=("$(printf '%-22s %s' compat.py "skipped (PYTEST_ARGS narrows the run)")")
fi

echo
echo "== conformance summary ($(($(date +%s) - start))s in all)"
printf '  %s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "conformance: FAILED: ${failed[*]}" >&2
  exit 1
fi
