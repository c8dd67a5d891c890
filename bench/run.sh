#!/usr/bin/env bash
# npm run bench: the tunnel, whole-pipeline and scale benchmarks, against the sandbox.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
bash e2e/sandbox.sh up
. e2e/.work/env
# The bundled benchmarks live under bench/.build: tell them where the sandbox is.
export SANDBOX_DIR
npx ncc build bench/tunnel.ts -o bench/.build/tunnel >/dev/null
echo "== tunnel: action (ssh2) vs OpenSSH ssh -L, same sshd"
"$NODE24" bench/.build/tunnel/index.js
echo "== cipher set-up per SSH packet: key Buffer vs KeyObject"
"$NODE24" bench/cipher-key.mjs
echo "== whole pipeline: action vs the manual script"
node bench/pipeline.mjs
echo "== scale: one convergence poll for 1, 10 and 50 services"
npx ncc build bench/scale.ts -o bench/.build/scale >/dev/null
"$NODE24" bench/.build/scale/index.js
echo "== rendering the stack with docker: start to first phase, against the bundle that read the file itself"
node bench/render.mjs
echo "== two images of one stack: one after another vs both at once (classic builder, then BuildKit)"
npx ncc build bench/images.ts -o bench/.build/images >/dev/null
"$NODE24" bench/.build/images/index.js
PATH="$BUILDKIT_CLI_DIR:$PATH" "$NODE24" bench/.build/images/index.js
