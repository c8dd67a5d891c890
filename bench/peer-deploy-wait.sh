#!/usr/bin/env bash
# The peers' way to deploy a stack and wait for it, as a CI step would run it: plain docker CLI calls
# through DOCKER_HOST (ssh://..., each call its own ssh connection and `docker system dial-stdio`).
#
#   peer-deploy-wait.sh STACK STACK_FILE TAG INTERVAL [ONE_SHOT]
#
# 1. docker stack deploy --with-registry-auth --detach=true -c STACK_FILE STACK (the CLI's default
#    --resolve-image always; the stack file's variables come from the environment).
# 2. docker-stack-wait's loop shape (github.com/sudo-bmitch/docker-stack-wait: check at once, and while
#    not done, sleep INTERVAL and check again; its default is -s 5), but judging with one
#    `docker service ls` and one `docker service ps` of all the stack's services per check (two CLI calls
#    per check, whatever the number of services; docker-stack-wait itself makes 1 + 3 per service:
#    stack services, then two service inspects and a service ls for each):
#      - ONE_SHOT (default migrate): a task of this deploy (its image is ...:TAG@... or ...:TAG)
#        whose current state is Complete;
#      - every other service of the stack: as many Running tasks of the new image as `service ls`
#        says it wants (the Y of X/Y), and no task of another image Running.
#    A one-shot task of this deploy that Failed/Rejected 3 times ends the wait with exit 1.
# Prints to stderr: "deployed <s>" after the deploy command, one line per check, and at the end
# "done polls=<n> cli_calls=<n> deploy_s=<s> wait_s=<s>". Times are from `date +%s.%N`.
set -uo pipefail
stack=$1 file=$2 tag=$3 interval=$4 oneshot=${5:-migrate}
now() { date +%s.%N; }
t0=$(now)
if ! docker stack deploy --with-registry-auth --detach=true -c "$file" "$stack" >/dev/null; then
  echo "docker stack deploy failed" >&2
  exit 2
fi
t1=$(now)
echo "deployed $(echo "$t1 - $t0" | bc)" >&2
polls=0 calls=1
while :; do
  polls=$((polls + 1))
  p0=$(now)
  ls=$(docker service ls --filter "label=com.docker.stack.namespace=$stack" --format '{{.Name}} {{.Replicas}}')
  calls=$((calls + 1))
  # shellcheck disable=SC2046
  ps=$(docker service ps --no-trunc --format '{{.Name}}|{{.Image}}|{{.DesiredState}}|{{.CurrentState}}' \
    $(awk '{print $1}' <<<"$ls"))
  calls=$((calls + 1))
  verdict=$(awk -v stack="$stack" -v oneshot="${stack}_$oneshot" -v tag="$tag" '
    FNR == NR { split($2, r, "/"); want[$1] = r[2] + 0; next }   # service ls: name, replicas X/Y
    {
      split($0, f, "|")
      name = f[1]; sub(/^[^a-zA-Z0-9]*/, "", name); sub(/\.[^.]*$/, "", name)   # "\_ s.1" -> s
      isnew = index(f[2], ":" tag "@") > 0 || substr(f[2], length(f[2]) - length(tag)) == ":" tag
      if (name == oneshot) {
        if (isnew && f[4] ~ /^Complete/) oneshot_done = 1
        if (isnew && f[4] ~ /^(Failed|Rejected)/) oneshot_failed++
        next
      }
      if (f[4] ~ /^Running/) { if (isnew) running_new[name]++; else running_old[name]++ }
    }
    END {
      pending = ""
      for (s in want) if (s != oneshot && (running_new[s] + 0 < want[s] || running_old[s] + 0 > 0)) pending = pending " " s
      if (oneshot_failed >= 3) { print "failed"; exit }
      if (!oneshot_done) pending = pending " " oneshot
      print (pending == "" ? "done" : "pending" pending)
    }' <(printf '%s\n' "$ls") <(printf '%s\n' "$ps"))
  echo "check $polls $(echo "$(now) - $p0" | bc) s: ${verdict:0:200}" >&2
  case "$verdict" in
    done) break ;;
    failed) echo "one-shot failed" >&2; exit 1 ;;
  esac
  sleep "$interval"
done
t2=$(now)
echo "done polls=$polls cli_calls=$calls deploy_s=$(echo "$t1 - $t0" | bc) wait_s=$(echo "$t2 - $t1" | bc)" >&2
