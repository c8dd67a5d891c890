# Shell helpers shared by sandbox.sh and cluster.sh (sourced; each script defines log()).

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for() { # wait_for SECONDS DESCRIPTION COMMAND...
  local deadline=$((SECONDS + $1)) what=$2; shift 2
  until "$@" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || { log "timed out waiting for $what"; return 1; }
    sleep 0.2
  done
}

stop_pidfile() { # stop_pidfile FILE: TERM the process, wait for it to go
  local f=$1 pid
  [ -f "$f" ] || return 0
  pid=$(cat "$f")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

unmount_under() { # unmount_under DIR: leftover mounts (netns, overlay) of engines that ran there
  local m
  for m in $(grep -oE " $1/[^ ]+" /proc/mounts | sort -r); do umount "$m" 2>/dev/null || true; done
}

start_ecr_emulator() { # start_ecr_emulator DIR PORT REGISTRY PASSWORD_FILE UPSTREAM
  # The ECR API emulator, and in front of the real registry (UPSTREAM, a private address) its proxy on
  # REGISTRY, the address every client uses: it lets each request through as the caller's IAM policy
  # allows the ECR action ECR checks for it (see docs/iam.md).
  local d=$1 port=$2
  mkdir -p "$d"
  if ! alive "$d/pid"; then
    log "starting ECR API emulator on 127.0.0.1:$port, its registry proxy on $3 for $5"
    ECR_EMULATOR_PORT=$port ECR_EMULATOR_REGISTRY=$3 ECR_EMULATOR_PASSWORD_FILE=$4 ECR_EMULATOR_UPSTREAM=$5 \
      ECR_EMULATOR_OVERRIDE_POLICY="$d/override-policy.json" \
      setsid node "$ROOT/e2e/ecr-emulator.mjs" >"$d/ecr.log" 2>&1 </dev/null &
    echo $! > "$d/pid"
  fi
  wait_for 10 "ECR emulator" curl -s -o /dev/null "http://127.0.0.1:$port/"
  wait_for 10 "registry proxy" curl -sf -o /dev/null "http://$3/v2/" -u "AWS:$(cat "$4")"
}
