#!/usr/bin/env bash
# npm run demo: bring up the sandbox, deploy the fixture app once through dist/ as the GitHub runner
# would, and leave it running. A second run redeploys. Stop everything with: npm run sandbox:down
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
bash "$ROOT/e2e/sandbox.sh" up
cd "$ROOT"
sha=$(git rev-parse HEAD 2>/dev/null || true)
[[ "$sha" =~ ^[0-9a-f]{40}$ ]] || sha=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
node e2e/run-action.mjs "$sha" | tee "$ROOT/e2e/.work/demo.log"
status=${PIPESTATUS[0]}
echo
echo "Full log: e2e/.work/demo.log. Stop the sandbox with: npm run sandbox:down"
url=$(sed -n 's/^output url=//p' "$ROOT/e2e/.work/demo.log" | tail -1)
[ "$status" = 0 ] || { echo "demo deploy failed (exit $status)"; exit "$status"; }
echo "url=$url"
