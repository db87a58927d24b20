#!/usr/bin/env bash
# Bulk award throughput, end to end: a fresh `cairn serve --demo` is sent a CSV file of ROWS
# direct awards of one demo badge (new addresses, a narrative and an evidence link each) with
# `cairn award`, which prints rows per second once every row is done: each credential signed in
# both forms with its OB 2.0 assertion, its PNG and SVG baked and stored, its status index taken,
# its direct award stored and its claim mail queued. The server logs where the time went
# ("bulk award done": checking, signing, images, storing).
#
#   scripts/bench-bulk-award.sh [ROWS] [serve options, e.g. --database-url postgres://…]
set -euo pipefail
ROWS=${1:-10000}
shift || true
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CAIRN=${CAIRN_BIN:-$ROOT/target/release/cairn}
PORT=${PORT:-8099}
WORK=$(mktemp -d)
trap 'kill $SERVER 2>/dev/null || true; rm -rf "$WORK"' EXIT
CAIRN_LOG=info "$CAIRN" serve --demo --addr "127.0.0.1:$PORT" --data "$WORK/data" "$@" >"$WORK/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.2; done
BASE="http://127.0.0.1:$PORT"
json() { python3 -c "import json,sys; print(json.load(sys.stdin)$1)"; }
TOKEN=$(curl -s -X POST "$BASE/api/v1/session" -H 'content-type: application/json' \
  -d '{"email":"issuer@demo.cairn.test","password":"cairn-demo-issuer"}' | json '["token"]')
ORG=$(curl -s "$BASE/api/v1/organisations" | json '["items"][0]["id"]')
BADGE=$(curl -s "$BASE/api/v1/achievements?kind=micro-badge&limit=100" | json '["items"][0]["id"]')
python3 - "$ROWS" "$BADGE" >"$WORK/awards.csv" <<'PY'
import sys
rows, badge = int(sys.argv[1]), sys.argv[2]
print("email,name,achievement_id,narrative,evidence_url")
for i in range(rows):
    print(f"learner{i}@example.org,Learner {i},{badge},Assessed at the spring workshop,https://example.org/work/{i}")
PY
CAIRN_TOKEN=$TOKEN "$CAIRN" award --server "$BASE" --organisation "$ORG" "$WORK/awards.csv"
sleep 0.5
grep "bulk award done" "$WORK/serve.log" | tail -1 | sed 's/\x1b\[[0-9;]*m//g'
