#!/usr/bin/env bash
# A three-node Swarm on one machine: a manager and two workers, each dockerd in its own network
# namespace on a bridge (192.168.77.0/24), an authenticated registry (behind the ECR emulator's proxy
# on the bridge address), sshd on the manager reachable only through a bastion (in sw3's namespace), and
# an ECR emulator for that registry.
# Usage: cluster.sh up | down   (needs the sandbox up: it reuses its keys and the runner's engine)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SANDBOX=${SANDBOX_DIR:-$ROOT/e2e/.work}
WORK=$SANDBOX/cluster
BRIDGE=br-esd
NET=192.168.77
NODES=(1 2 3)
ECR_PORT=4567
# The cluster's real registry listens here, privately; the ECR emulator's proxy answers on $NET.1:5000.
UPSTREAM=127.0.0.1:5101

log() { echo "cluster: $*" >&2; }
. "$ROOT/e2e/lib.sh"
node_host() { echo "unix://$WORK/sw$1/docker.sock"; }
ndocker() { local n=$1; shift; docker -H "$(node_host "$n")" "$@"; }

network_up() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
    ip addr add "$NET.1/24" dev "$BRIDGE"
    ip link set "$BRIDGE" up
  fi
  # Once dockerd runs, FORWARD drops by default: let the nodes talk to each other over the bridge.
  iptables -C FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null ||
    iptables -I FORWARD 1 -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT
  local i
  for i in "${NODES[@]}"; do
    [ -e "/run/netns/esd$i" ] && continue
    ip netns add "esd$i"
    ip link add "vesd$i" type veth peer name eth0 netns "esd$i"
    ip link set "vesd$i" master "$BRIDGE" up
    ip -n "esd$i" addr add "$NET.1$i/24" dev eth0
    ip -n "esd$i" link set eth0 up
    ip -n "esd$i" link set lo up
    ip -n "esd$i" route add default via "$NET.1"
  done
}

start_node() {
  local i=$1 d="$WORK/sw$1"
  mkdir -p "$d"
  alive "$d/docker.pid" && return 0
  log "starting dockerd on node sw$i ($NET.1$i)"
  # nsenter, not ip netns exec (which remounts /sys and hides the cgroup mounts); own hostname per node.
  setsid nsenter --net="/run/netns/esd$i" unshare -u sh -c "hostname sw$i; exec dockerd --data-root '$d/data' \
    --exec-root '$d/exec' --pidfile '$d/docker.pid' -H 'unix://$d/docker.sock' --insecure-registry '$NET.1:5000'" \
    >"$d/dockerd.log" 2>&1 </dev/null &
}

start_registry() {
  local d="$WORK/registry"
  mkdir -p "$d/data"
  cat > "$d/config.yml" <<YAML
version: 0.1
log: { level: warn }
storage:
  filesystem: { rootdirectory: $d/data }
http: { addr: $UPSTREAM, secret: cluster }
auth:
  htpasswd: { realm: cluster, path: $SANDBOX/registry/htpasswd }
YAML
  if ! alive "$d/pid"; then
    setsid docker-registry serve "$d/config.yml" >"$d/registry.log" 2>&1 </dev/null &
    echo $! > "$d/pid"
  fi
  wait_for 30 "cluster registry" curl -s -o /dev/null "http://$UPSTREAM/v2/"
}

# sshd on the manager accepts only the bastion (sw3's address); the bastion, in sw3's namespace, is
# what the action connects to. Each has its own host key.
start_sshd() {
  local d="$WORK/ssh"
  mkdir -p "$d"
  [ -f "$d/bastion_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$d/bastion_ed25519"
  sed -e "s|^ListenAddress .*|ListenAddress $NET.11:22|" -e "s|^PidFile .*|PidFile $d/manager-sshd.pid|" \
    "$SANDBOX/ssh/sshd_config" > "$d/manager_sshd_config"
  sed -e "s|^ListenAddress .*|ListenAddress $NET.13:22|" -e "s|^PidFile .*|PidFile $d/bastion-sshd.pid|" \
    -e "s|^HostKey .*|HostKey $d/bastion_ed25519|" "$SANDBOX/ssh/sshd_config" > "$d/bastion_sshd_config"
  echo "$NET.11 $(cut -d' ' -f1,2 "$SANDBOX/ssh/host_ed25519.pub")" > "$d/known_hosts"
  echo "$NET.13 $(cut -d' ' -f1,2 "$d/bastion_ed25519.pub")" > "$d/bastion_known_hosts"
  ip netns exec esd1 iptables -C INPUT -p tcp --dport 22 ! -s "$NET.13" -j REJECT --reject-with tcp-reset 2>/dev/null ||
    ip netns exec esd1 iptables -I INPUT -p tcp --dport 22 ! -s "$NET.13" -j REJECT --reject-with tcp-reset
  alive "$d/manager-sshd.pid" || nsenter --net=/run/netns/esd1 /usr/sbin/sshd -f "$d/manager_sshd_config" -E "$d/manager-sshd.log"
  alive "$d/bastion-sshd.pid" || nsenter --net=/run/netns/esd3 /usr/sbin/sshd -f "$d/bastion_sshd_config" -E "$d/bastion-sshd.log"
  wait_for 10 "sshd on the bastion" bash -c "exec 3<>/dev/tcp/$NET.13/22"
}

form_swarm() {
  if [ "$(ndocker 1 info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    log "forming the swarm"
    ndocker 1 swarm init --advertise-addr "$NET.11" >/dev/null
  fi
  local token i
  token=$(ndocker 1 swarm join-token -q worker)
  for i in 2 3; do
    [ "$(ndocker "$i" info --format '{{.Swarm.LocalNodeState}}')" = active ] ||
      ndocker "$i" swarm join --advertise-addr "$NET.1$i" --token "$token" "$NET.11:2377" >/dev/null
  done
  wait_for 60 "three ready nodes" bash -c "[ \$(docker -H $(node_host 1) node ls --format '{{.Status}}' | grep -c Ready) = 3 ]"
}

up() {
  [ -f "$SANDBOX/env" ] || { log "bring the sandbox up first (e2e/sandbox.sh up)"; exit 1; }
  mkdir -p "$WORK"
  network_up
  local i
  for i in "${NODES[@]}"; do start_node "$i"; done
  for i in "${NODES[@]}"; do wait_for 60 "dockerd sw$i" docker -H "$(node_host "$i")" version; done
  start_registry
  start_sshd
  start_ecr_emulator "$WORK/ecr" "$ECR_PORT" "$NET.1:5000" "$SANDBOX/registry/password" "$UPSTREAM"
  form_swarm
  cat > "$WORK/env" <<ENV
CLUSTER_MANAGER_HOST=$(node_host 1)
CLUSTER_MANAGER_SOCKET=$WORK/sw1/docker.sock
CLUSTER_SSH_HOST=$NET.11
CLUSTER_KNOWN_HOSTS=$WORK/ssh/known_hosts
CLUSTER_JUMP_HOST=$NET.13
CLUSTER_JUMP_KNOWN_HOSTS=$WORK/ssh/bastion_known_hosts
CLUSTER_REGISTRY=$NET.1:5000
CLUSTER_ECR_ENDPOINT=http://127.0.0.1:$ECR_PORT
CLUSTER_WORKER_IPS=$NET.12 $NET.13
ENV
  log "up ($WORK/env)"
}

down() {
  local i
  for i in "${NODES[@]}"; do
    alive "$WORK/sw$i/docker.pid" && ndocker "$i" swarm leave --force >/dev/null 2>&1 || true
  done
  stop_pidfile "$WORK/ecr/pid"
  stop_pidfile "$WORK/ssh/manager-sshd.pid"
  stop_pidfile "$WORK/ssh/bastion-sshd.pid"
  stop_pidfile "$WORK/registry/pid"
  for i in "${NODES[@]}"; do stop_pidfile "$WORK/sw$i/docker.pid"; done
  for i in "${NODES[@]}"; do
    if [ -e "/run/netns/esd$i" ]; then
      for pid in $(ip netns pids "esd$i" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "esd$i" || true
    fi
    ip link del "vesd$i" 2>/dev/null || true
  done
  unmount_under "$WORK"
  iptables -D FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null || true
  ip link del "$BRIDGE" 2>/dev/null || true
  rm -rf "$WORK"
  log "down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
