#!/usr/bin/env bash
# A second, independent client: runs the action's TypeScript source (src/main.ts, its exported run())
# through GitHub's @github/local-action, which applies action.yml's defaults, stubs @actions/core and
# @actions/github, and loads the source with tsx (Node's native ESM). It deploys the fixture app into
# the sandbox as a stack of its own (todobackend-la, published on 8300 so that it leaves the
# todobackend stack on 8000 alone), checks that migrate completed and the acceptance tests passed, and
# removes the stack again. Exits non-zero if the deploy failed.
#
# Usage: bash e2e/local-action.sh   (as root; brings the sandbox up if it is not)
#   LOCAL_ACTION_STACK, LOCAL_ACTION_PORT: stack name and published port (todobackend-la, 8300)
#   LOCAL_ACTION_KEEP=1: leave the stack running afterwards
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"

STACK=${LOCAL_ACTION_STACK:-todobackend-la}
PORT=${LOCAL_ACTION_PORT:-8300}
started=$SECONDS

bash e2e/sandbox.sh up
# shellcheck source=/dev/null
. e2e/.work/env

# Everything of this run lives in a private directory: the .env (it holds the SSH key and the
# app's secret), RUNNER_TEMP, the job summary and the log.
run_dir=$SANDBOX_DIR/local-action
rm -rf "$run_dir"
mkdir -m 700 "$run_dir"
env_file=$run_dir/.env
log_file=$run_dir/local-action.log
mkdir -m 700 "$run_dir/runner-temp"
(umask 077 && : >"$env_file")

manager() { docker -H "$MANAGER_DOCKER_HOST" "$@"; }

# The stack's services, containers and networks gone (as removeStack in e2e/helpers.ts), then the
# Swarm secrets the action created for it and its volume.
remove_stack() {
  local label="label=com.docker.stack.namespace=$STACK" left stale
  manager stack rm "$STACK" >/dev/null 2>&1 || true
  for _ in $(seq 600); do
    left=$(manager service ls -q --filter "$label")$(manager ps -aq --filter "$label")$(manager network ls -q --filter "$label")
    [ -n "$left" ] || break
    # Swarm leaves the exited containers of one-shot tasks behind once their service is gone.
    if [ -z "$(manager service ls -q --filter "$label")" ]; then
      stale=$(manager ps -aq --filter "$label" --filter status=exited)
      # shellcheck disable=SC2086
      [ -z "$stale" ] || manager rm $stale >/dev/null || true
    fi
    sleep 0.2
  done
  if [ -n "$left" ]; then
    echo "local-action: stack $STACK did not go away; left: $(echo "$left" | tr '\n' ' ')" >&2
    return 1
  fi
  local secrets volumes
  secrets=$(manager secret ls -q --filter "label=com.github.ecr-swarm-deploy.stack=$STACK")
  # shellcheck disable=SC2086
  [ -z "$secrets" ] || manager secret rm $secrets >/dev/null
  volumes=$(manager volume ls -q --filter "$label")
  # shellcheck disable=SC2086
  [ -z "$volumes" ] || manager volume rm $volumes >/dev/null
  echo "local-action: removed stack $STACK"
}

finish() {
  local status=$?
  if [ "${LOCAL_ACTION_KEEP:-}" = 1 ]; then
    echo "local-action: left stack $STACK running (http://127.0.0.1:$PORT)"
  else
    remove_stack || status=1
  fi
  # The .env holds secrets: it goes whatever happened; the log and summary stay for a look.
  rm -f "$env_file"
  rm -rf "$run_dir/runner-temp"
  echo "local-action: $([ "$status" = 0 ] && echo passed || echo FAILED) in $((SECONDS - started)) s" \
    "(log: ${log_file#"$ROOT"/})"
  exit "$status"
}
trap finish EXIT

# put NAME VALUE: one line of the .env, single-quoted: dotenv keeps such a value as it is, newlines
# included (the SSH key), with nothing expanded.
put() {
  case $2 in *"'"*)
    echo "local-action: $1 cannot go in a .env: its value holds a single quote" >&2
    exit 1
    ;;
  esac
  printf "%s='%s'\n" "$1" "$2" >>"$env_file"
}

sha=$(git rev-parse HEAD 2>/dev/null || true)
[[ "$sha" =~ ^[0-9a-f]{40}$ ]] || sha=$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
# The deploy role's key: the ECR emulator holds it to the documented policy (docs/iam/deploy.json).
deploy_key() { node --input-type=module -e "import { MODE_CREDENTIALS } from './e2e/credentials.mjs'; console.log(MODE_CREDENTIALS.deploy.$1)"; }
aws_key_id=$(deploy_key accessKeyId)
aws_secret=$(deploy_key secretAccessKey)

# Inputs, named as the runner names them (INPUT_ + upper case, dashes kept); every input left out
# gets action.yml's default from local-action.
put INPUT_ECR-REPOSITORY todobackend
put INPUT_CONTEXT e2e/fixture
put INPUT_SSH-HOST 127.0.0.1
put INPUT_SSH-PORT "$SSH_PORT"
put INPUT_SSH-USER root
put INPUT_SSH-PRIVATE-KEY "$(cat "$SSH_KEY")"
put INPUT_SSH-KNOWN-HOSTS "$(cat "$SSH_KNOWN_HOSTS")"
put INPUT_REMOTE-DOCKER-SOCKET "$MANAGER_SOCKET"
put INPUT_STACK-NAME "$STACK"
put INPUT_STACK-FILE e2e/fixture/stack.yml
put INPUT_STACK-ENV "PREVIEW_PORT=$PORT"
put INPUT_STACK-SECRETS secret_key=APP_SECRET_KEY
put INPUT_APP-URL "http://127.0.0.1:$PORT"
put INPUT_ACCEPTANCE-ARGS '--network host'
# The step's environment, as a workflow would give it.
put APP_SECRET_KEY "$(cat "$APP_SECRET_KEY_FILE")"
put AWS_ACCESS_KEY_ID "$aws_key_id"
put AWS_SECRET_ACCESS_KEY "$aws_secret"
put AWS_REGION us-east-1
put AWS_ENDPOINT_URL_ECR "$ECR_ENDPOINT"
put DOCKER_HOST "$RUNNER_DOCKER_HOST"
put GITHUB_ACTIONS true
put GITHUB_SHA "$sha"
put GITHUB_REF refs/heads/main
put GITHUB_EVENT_NAME push
put GITHUB_REPOSITORY example/todobackend
put GITHUB_RUN_ID 2001
put GITHUB_WORKSPACE "$ROOT"
put GITHUB_STEP_SUMMARY "$run_dir/summary.md"
put RUNNER_TEMP "$run_dir/runner-temp"

# Node 24 (what GitHub runs actions on), from the sandbox, ahead of the machine's own node.
node_dir=$(dirname "$NODE24")
echo "local-action: deploying stack $STACK (sha ${sha:0:7}) through src/main.ts on Node $("$NODE24" --version)"
set +e
PATH="$node_dir:$PATH" FORCE_COLOR=0 npx --no-install @github/local-action . src/main.ts "$env_file" 2>&1 |
  tee "$log_file"
status=${PIPESTATUS[0]}
set -e

# local-action itself exits 0 when the action calls setFailed: read what the stubbed toolkit printed.
failed=0
fail() {
  echo "local-action: $*" >&2
  failed=1
}
[ "$status" = 0 ] || fail "local-action exited with $status"
grep -q '^ *Running Action *$' "$log_file" || fail "the action never ran"
if grep -q '^::error' "$log_file"; then fail "the action reported errors:" && grep '^::error' "$log_file" >&2; fi
grep -qx '::set-output name=migrate::complete' "$log_file" || fail "migrate did not complete"
passed=$(sed -n 's/^::set-output name=tests-passed-count::\([0-9]*\)$/\1/p' "$log_file")
grep -qx '::set-output name=tests-failed-count::0' "$log_file" || fail "acceptance tests failed"
[ "${passed:-0}" -gt 0 ] || fail "no acceptance test passed"
grep -qx "::set-output name=url::http://127.0.0.1:$PORT" "$log_file" || fail "no url output for port $PORT"
[ "$failed" = 0 ] || exit 1
echo "local-action: deploy of $STACK succeeded: migrate complete, $passed acceptance tests passed"
