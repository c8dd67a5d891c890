#!/usr/bin/env bash
# A Swarm of several nodes on one machine, each dockerd in its own network namespace on a bridge, with
# an authenticated registry (behind the ECR emulator's proxy on the bridge address) and an ECR emulator
# for it. Two layouts, which can run side by side:
# - workers (192.168.77.0/24, nodes sw1-sw3): a manager and two workers; sshd on the manager reachable
#   only through a bastion (in sw3's namespace).
# - managers (192.168.78.0/24, nodes sm1-sm4): three managers and a worker; sshd on each manager, each
#   serving its own engine's socket at one path ($WORK/manager.sock, in a mount namespace of its own),
#   as every manager of a production swarm serves /var/run/docker.sock.
# Usage: cluster.sh up|down [workers|managers]   (needs the sandbox up: it reuses its keys and the
# runner's engine)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SANDBOX=${SANDBOX_DIR:-$ROOT/e2e/.work}
LAYOUT=${2:-workers}
case "$LAYOUT" in
  workers)
    WORK=$SANDBOX/cluster BRIDGE=br-esd NET=192.168.77 NS=esd HOST=sw NODES=(1 2 3) MANAGERS=(1)
    ECR_PORT=4567 UPSTREAM=127.0.0.1:5101 ;;
  managers)
    WORK=$SANDBOX/managers BRIDGE=br-esm NET=192.168.78 NS=esm HOST=sm NODES=(1 2 3 4) MANAGERS=(1 2 3)
    ECR_PORT=4568 UPSTREAM=127.0.0.1:5102 ;;
  *) echo "cluster.sh: no layout $LAYOUT (workers, managers)" >&2; exit 2 ;;
esac
# UPSTREAM: the layout's real registry listens there, privately; the ECR emulator's proxy answers on $NET.1:5000.

log() { echo "cluster: $*" >&2; }
. "$ROOT/e2e/lib.sh"
node_host() { echo "unix://$WORK/$HOST$1/run/docker.sock"; }
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
    [ -e "/run/netns/$NS$i" ] && continue
    ip netns add "$NS$i"
    ip link add "v$NS$i" type veth peer name eth0 netns "$NS$i"
    ip link set "v$NS$i" master "$BRIDGE" up
    ip -n "$NS$i" addr add "$NET.1$i/24" dev eth0
    ip -n "$NS$i" link set eth0 up
    ip -n "$NS$i" link set lo up
    ip -n "$NS$i" route add default via "$NET.1"
  done
}

start_node() {
  local i=$1 d="$WORK/$HOST$1"
  mkdir -p "$d/run"
  alive "$d/docker.pid" && return 0
  log "starting dockerd on node $HOST$i ($NET.1$i)"
  # nsenter, not ip netns exec (which remounts /sys and hides the cgroup mounts); own hostname per node.
  setsid nsenter --net="/run/netns/$NS$i" unshare -u sh -c "hostname $HOST$i; exec dockerd --data-root '$d/data' \
    --exec-root '$d/exec' --pidfile '$d/docker.pid' -H 'unix://$d/run/docker.sock' --insecure-registry '$NET.1:5000'" \
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

# workers: sshd on the manager accepts only the bastion (sw3's address); the bastion, in sw3's
# namespace, is what the action connects to. Each has its own host key.
start_bastion_sshd() {
  local d="$WORK/ssh"
  [ -f "$d/bastion_ed25519" ] || ssh-keygen -q -t ed25519 -N '' -f "$d/bastion_ed25519"
  sed -e "s|^ListenAddress .*|ListenAddress $NET.13:22|" -e "s|^PidFile .*|PidFile $d/bastion-sshd.pid|" \
    -e "s|^HostKey .*|HostKey $d/bastion_ed25519|" "$SANDBOX/ssh/sshd_config" > "$d/bastion_sshd_config"
  echo "$NET.13 $(cut -d' ' -f1,2 "$d/bastion_ed25519.pub")" > "$d/bastion_known_hosts"
  ip netns exec "${NS}1" iptables -C INPUT -p tcp --dport 22 ! -s "$NET.13" -j REJECT --reject-with tcp-reset 2>/dev/null ||
    ip netns exec "${NS}1" iptables -I INPUT -p tcp --dport 22 ! -s "$NET.13" -j REJECT --reject-with tcp-reset
  alive "$d/bastion-sshd.pid" || nsenter --net="/run/netns/${NS}3" /usr/sbin/sshd -f "$d/bastion_sshd_config" -E "$d/bastion-sshd.log"
  wait_for 10 "sshd on the bastion" bash -c "exec 3<>/dev/tcp/$NET.13/22"
}

# sshd on each manager, with the sandbox's host key. In the managers layout each sshd serves its own
# node's engine socket at one path, $WORK/manager/docker.sock: its mount namespace has the node's run
# directory there (a directory, so that the socket a restarted dockerd makes again is seen).
start_sshd() {
  local d="$WORK/ssh" i
  mkdir -p "$d"
  : > "$d/known_hosts"
  for i in "${MANAGERS[@]}"; do
    sed -e "s|^ListenAddress .*|ListenAddress $NET.1$i:22|" -e "s|^PidFile .*|PidFile $d/sshd$i.pid|" \
      "$SANDBOX/ssh/sshd_config" > "$d/sshd${i}_config"
    echo "$NET.1$i $(cut -d' ' -f1,2 "$SANDBOX/ssh/host_ed25519.pub")" >> "$d/known_hosts"
    alive "$d/sshd$i.pid" && continue
    if [ "$LAYOUT" = managers ]; then
      mkdir -p "$WORK/manager"
      nsenter --net="/run/netns/$NS$i" unshare -m --propagation private sh -c \
        "mount --bind '$WORK/$HOST$i/run' '$WORK/manager' && exec /usr/sbin/sshd -f '$d/sshd${i}_config' -E '$d/sshd$i.log'"
    else
      nsenter --net="/run/netns/$NS$i" /usr/sbin/sshd -f "$d/sshd${i}_config" -E "$d/sshd$i.log"
    fi
  done
  [ "$LAYOUT" = workers ] && start_bastion_sshd
  [ "$LAYOUT" = managers ] && wait_for 10 "sshd on the managers" bash -c "exec 3<>/dev/tcp/$NET.11/22"
  return 0
}

form_swarm() {
  if [ "$(ndocker 1 info --format '{{.Swarm.LocalNodeState}}')" != active ]; then
    log "forming the swarm"
    ndocker 1 swarm init --advertise-addr "$NET.11" >/dev/null
  fi
  local i role token
  for i in "${NODES[@]}"; do
    # A node that was in the swarm (active, or pending while it reconnects after a restart) rejoins by itself.
    [ "$(ndocker "$i" info --format '{{.Swarm.LocalNodeState}}')" = inactive ] || continue
    role=worker
    [[ " ${MANAGERS[*]} " == *" $i "* ]] && role=manager
    token=$(ndocker 1 swarm join-token -q "$role")
    ndocker "$i" swarm join --advertise-addr "$NET.1$i" --token "$token" "$NET.11:2377" >/dev/null
  done
  wait_for 90 "${#NODES[@]} ready nodes, ${#MANAGERS[@]} reachable managers" bash -c \
    "[ \$(docker -H $(node_host 1) node ls --format '{{.Status}}' | grep -c Ready) = ${#NODES[@]} ] &&
     [ \$(docker -H $(node_host 1) node ls --format '{{.ManagerStatus}}' | grep -cE 'Leader|Reachable') = ${#MANAGERS[@]} ]"
}

# Brings up whatever part of the layout is not running: also what kill stopped, on its own data.
up() {
  [ -f "$SANDBOX/env" ] || { log "bring the sandbox up first (e2e/sandbox.sh up)"; exit 1; }
  mkdir -p "$WORK"
  network_up
  local i
  for i in "${NODES[@]}"; do start_node "$i"; done
  for i in "${NODES[@]}"; do wait_for 60 "dockerd $HOST$i" docker -H "$(node_host "$i")" version; done
  start_registry
  start_sshd
  start_ecr_emulator "$WORK/ecr" "$ECR_PORT" "$NET.1:5000" "$SANDBOX/registry/password" "$UPSTREAM"
  form_swarm
  local managers=() workers=()
  for i in "${NODES[@]}"; do
    if [[ " ${MANAGERS[*]} " == *" $i "* ]]; then managers+=("$NET.1$i"); else workers+=("$NET.1$i"); fi
  done
  # The workers layout's bastion (sw3) is a worker too; its sshd does not serve the engine.
  cat > "$WORK/env" <<ENV
CLUSTER_MANAGER_HOST=$(node_host 1)
CLUSTER_MANAGER_SOCKET=$([ "$LAYOUT" = managers ] && echo "$WORK/manager/docker.sock" || echo "$WORK/${HOST}1/run/docker.sock")
CLUSTER_SSH_HOST=${managers[*]}
CLUSTER_KNOWN_HOSTS=$WORK/ssh/known_hosts
CLUSTER_JUMP_HOST=$([ "$LAYOUT" = workers ] && echo "$NET.13")
CLUSTER_JUMP_KNOWN_HOSTS=$([ "$LAYOUT" = workers ] && echo "$WORK/ssh/bastion_known_hosts")
CLUSTER_REGISTRY=$NET.1:5000
CLUSTER_ECR_ENDPOINT=http://127.0.0.1:$ECR_PORT
CLUSTER_WORKER_IPS=${workers[*]}
ENV
  log "$LAYOUT up ($WORK/env)"
}

# kill engine|sshd N: the fault a scenario needs. engine: node N's dockerd is killed (SIGKILL), its
# containers left as they are; sshd: every sshd process of manager N, its connections too.
kill_part() {
  local part=$1 i=$2 pid
  case "$part" in
    engine) pid=$(cat "$WORK/$HOST$i/docker.pid"); kill -9 "$pid"; while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done ;;
    sshd)
      # The listener first: a client whose connection drops reconnects at once, and must find none.
      kill -9 "$(cat "$WORK/ssh/sshd$i.pid")" 2>/dev/null || true
      for pid in $(ip netns pids "$NS$i"); do
        [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = sshd ] && kill -9 "$pid" 2>/dev/null || true
      done
      rm -f "$WORK/ssh/sshd$i.pid" ;;
    *) echo "cluster.sh: kill engine|sshd N" >&2; exit 2 ;;
  esac
  log "killed the $part of $HOST$i"
}

down() {
  local i
  for i in "${NODES[@]}"; do
    alive "$WORK/$HOST$i/docker.pid" && ndocker "$i" swarm leave --force >/dev/null 2>&1 || true
  done
  stop_pidfile "$WORK/ecr/pid"
  for i in "${MANAGERS[@]}"; do stop_pidfile "$WORK/ssh/sshd$i.pid"; done
  stop_pidfile "$WORK/ssh/bastion-sshd.pid"
  stop_pidfile "$WORK/registry/pid"
  for i in "${NODES[@]}"; do stop_pidfile "$WORK/$HOST$i/docker.pid"; done
  for i in "${NODES[@]}"; do
    if [ -e "/run/netns/$NS$i" ]; then
      for pid in $(ip netns pids "$NS$i" 2>/dev/null); do kill -9 "$pid" 2>/dev/null || true; done
      ip netns del "$NS$i" || true
    fi
    ip link del "v$NS$i" 2>/dev/null || true
  done
  unmount_under "$WORK"
  iptables -D FORWARD -i "$BRIDGE" -o "$BRIDGE" -j ACCEPT 2>/dev/null || true
  ip link del "$BRIDGE" 2>/dev/null || true
  rm -rf "$WORK"
  log "$LAYOUT down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  kill) kill_part "${3:-}" "${4:-}" ;;
  *) echo "usage: $0 up|down [workers|managers] | kill workers|managers engine|sshd N" >&2; exit 2 ;;
esac
