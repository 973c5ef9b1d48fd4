#!/usr/bin/env bash
# hack/docker/down.sh: stops the dockerd of hack/docker/up.sh and removes every trace of it: its
# containers and networks (so their bridges and veths go), its processes (dockerd, its containerd,
# the shims), the mounts and folders below its data and exec roots; then checks that the host's
# FORWARD policy and ip_forward are what they were before up.sh, and that no Docker chain exists.
# Touches nothing that is not this engine's: other clusters on the host keep running.
set -euo pipefail
source "$(dirname "$0")/env.sh"

# our_pids: processes started for this engine (their command line names its data or exec root).
our_pids() {
  local p
  for p in /proc/[0-9]*; do
    { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qE "($DOCKER_DIR|$DOCKER_EXEC)( |/|$)" && echo "${p#/proc/}"
  done
  return 0
}

stop_engine() {
  local pid bridges
  pid=$(dockerd_pid)
  [[ -n $pid ]] || return 0
  export DOCKER_HOST=$DOCKER_HOST_URL
  local ids
  ids=$(docker ps -aq)
  if [[ -n $ids ]]; then
    log docker-down "removing $(wc -w <<<"$ids") container(s)"
    # shellcheck disable=SC2086 # one id per word
    docker rm -f -v $ids >/dev/null
  fi
  bridges=$(our_bridges)
  echo "bridges=$(tr '\n' ' ' <<<"$bridges")" >>"$DOCKER_STATE"
  local nets
  nets=$(docker network ls -q --filter type=custom)
  # shellcheck disable=SC2086
  [[ -z $nets ]] || docker network rm $nets >/dev/null
  log docker-down "stopping dockerd (pid $pid)"
  kill -TERM "$pid"
  for _ in $(seq 60); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 1
  done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  return 0
}

main() {
  if [[ ! -d $DOCKER_DIR && ! -d $DOCKER_EXEC ]]; then
    log docker-down "nothing to do ($DOCKER_DIR absent)"
    return
  fi
  stop_engine
  local p
  for p in $(our_pids); do
    log docker-down "killing leftover process $p ($(tr '\0' ' ' <"/proc/$p/cmdline" | cut -c1-80))"
    kill -KILL "$p" 2>/dev/null || true
  done
  local b
  for b in $(sed -n 's/^bridges=//p' "$DOCKER_STATE" 2>/dev/null); do
    if ip link show "$b" >/dev/null 2>&1; then
      log docker-down "deleting bridge $b"
      ip link delete "$b"
    fi
  done
  # Mounts below our roots (overlay2 layers, container shm, network namespaces), deepest first.
  local m
  for m in $(awk -v a="$DOCKER_DIR" -v b="$DOCKER_EXEC" 'index($5, a) == 1 || index($5, b) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
    umount -l "$m" 2>/dev/null || true
  done
  local want have
  want=$(sed -n 's/^forward_policy=//p' "$DOCKER_STATE" 2>/dev/null)
  have=$(iptables -S FORWARD | awk '$1 == "-P" { print $3 }')
  if [[ -n $want && $have != "$want" ]]; then
    log docker-down "restoring the FORWARD policy to $want (was $have)"
    iptables -P FORWARD "$want"
  fi
  want=$(sed -n 's/^ip_forward=//p' "$DOCKER_STATE" 2>/dev/null)
  [[ -z $want ]] || [[ $(cat /proc/sys/net/ipv4/ip_forward) == "$want" ]] || echo "$want" >/proc/sys/net/ipv4/ip_forward
  if [[ $(sed -n 's/^lib_modules=//p' "$DOCKER_STATE" 2>/dev/null) == absent && -d /lib/modules ]]; then
    if rmdir /lib/modules 2>/dev/null; then log docker-down "removed /lib/modules (made by Docker for a bind mount)"; fi
  fi
  rm -rf "$DOCKER_DIR" "$DOCKER_EXEC"
  # The checks: nothing of ours is left.
  local left=()
  [[ -z $(our_pids) ]] || left+=("processes $(our_pids | tr '\n' ' ')")
  grep -qE " ($DOCKER_DIR|$DOCKER_EXEC)[/ ]" /proc/self/mountinfo && left+=("mounts")
  iptables-save 2>/dev/null | grep -q -- '-N DOCKER' && left+=("DOCKER iptables chains")
  ((${#left[@]} == 0)) || die "left behind: ${left[*]}"
  log docker-down "done: no process, mount, bridge or folder of the engine left; FORWARD policy $(iptables -S FORWARD | awk '$1 == "-P" { print $3 }')"
}

main "$@"
