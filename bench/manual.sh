#!/usr/bin/env bash
# The manual way, as in the book, against the sandbox: ssh -NL tunnel, registry login, build, push,
# docker stack deploy, watch docker service ps every few seconds, then docker run ... bats.
# Usage: manual.sh TAG   (needs e2e/sandbox.sh up)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$ROOT/e2e/.work/env"
TAG=$1
POLL=${MANUAL_POLL_SECONDS:-3}
IMAGE=$REGISTRY/todobackend:$TAG
work=$(mktemp -d)
export DOCKER_CONFIG=$work/config
trap 'kill $tunnel 2>/dev/null; rm -rf "$work"' EXIT

ssh -NL "$work/docker.sock:$MANAGER_SOCKET" -o BatchMode=yes -o "UserKnownHostsFile=$SSH_KNOWN_HOSTS" \
  -i "$SSH_KEY" -p "$SSH_PORT" root@127.0.0.1 &
tunnel=$!
docker -H "$RUNNER_DOCKER_HOST" login -u AWS --password-stdin "$REGISTRY" < "$REGISTRY_PASSWORD_FILE" >/dev/null 2>&1
docker -H "$RUNNER_DOCKER_HOST" build -q -t "$IMAGE" "$ROOT/e2e/fixture" >/dev/null 2>&1
docker -H "$RUNNER_DOCKER_HOST" push -q "$IMAGE" >/dev/null
until [ -S "$work/docker.sock" ]; do sleep 0.1; done
export DOCKER_HOST=unix://$work/docker.sock
# The app's secret was made by hand once, as the book does (bench/pipeline.mjs makes it before timing).
SECRET_KEY_SECRET=todobackend_secret_key APP_VERSION=$TAG ECR_REGISTRY=$REGISTRY docker stack deploy --with-registry-auth \
  -c "$ROOT/e2e/fixture/stack.yml" todobackend >/dev/null 2>&1
# Watch migrate until a task of this image says Complete, then the app until it runs this image.
until docker service ps --no-trunc --format '{{.Image}} {{.CurrentState}}' todobackend_migrate | grep -q ":$TAG@.* Complete"; do
  sleep "$POLL"
done
until docker service ps --no-trunc --filter desired-state=running --format '{{.Image}} {{.CurrentState}}' todobackend_app |
  grep -q ":$TAG@.* Running"; do
  sleep "$POLL"
done
unset DOCKER_HOST
docker -H "$RUNNER_DOCKER_HOST" run --rm --network host -e APP_URL=http://127.0.0.1:8000 "$IMAGE" \
  bats /app/src/acceptance.bats >/dev/null
