#!/usr/bin/env bash
# One run of every issue 18 measurement, in a fixed order, each command's output saved under
# OUT (default benchmarks/results/issue18-<UTC time>). Run it on an idle machine after
# `npm run build`; run it three times for the table in docs/BENCHMARKS.md.
#   DATABASE_URL=postgres://postgres@127.0.0.1:5432/test bash benchmarks/issue18-run.sh [OUT]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-benchmarks/results/issue18-$(date -u +%Y%m%dT%H%M%SZ)}"
mkdir -p "$out"
step() {
  local name="$1"; shift
  echo "== $name: $*" >&2
  { echo "# $(date -u +%FT%TZ) load $(cut -d' ' -f1 /proc/loadavg): $*"; "$@"; } >"$out/$name.txt" 2>&1
}
step rows node benchmarks/rows.mjs
step run node benchmarks/run.mjs --only W1,W2,W3
step w2-processes node benchmarks/w2-processes.mjs 6
step floor node benchmarks/floor.mjs
step scaling node benchmarks/scaling.mjs 5
step rewrap-main node packages/rotation/scripts/rewrap-bench.mjs 100000 0
step rewrap-2 node packages/rotation/scripts/rewrap-bench.mjs 100000 2
step pg-json node packages/rotation/scripts/postgres-bench.mjs 20000 2 json
step pg-rows node packages/rotation/scripts/postgres-bench.mjs 20000 2 rows
step pg-json-floor node packages/rotation/scripts/postgres-bench.mjs 20000 2 json --floor
step pg-rows-floor node packages/rotation/scripts/postgres-bench.mjs 20000 2 rows --floor
step pg-json-nocrypto node packages/rotation/scripts/postgres-bench.mjs 20000 0 json --no-crypto
step pg-rows-nocrypto node packages/rotation/scripts/postgres-bench.mjs 20000 0 rows --no-crypto
step cli node packages/cli/scripts/ndjson-bench.mjs 50000 1
echo "$out"
