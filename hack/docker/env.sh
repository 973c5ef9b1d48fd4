# shellcheck shell=bash disable=SC2034 # settings used by the scripts that source this file
# Settings of the Docker engine that hack/docker/up.sh starts for the kind tests on a build machine.
# Test machinery: users run their own Docker (or Podman); this one exists so that `make kind-e2e`
# can run the kind path on a host that has no Docker service. It has its own folders, socket and
# pid file, so it never meets a system dockerd, and it is started with --iptables=false so it never
# touches the host's firewall (the host cluster's rules and FORWARD policy stay as they are).
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

DOCKER_DIR="${FLASHSALE_DOCKER_DIR:-/var/lib/flashsale-docker}" # images, containers, volumes, logs
DOCKER_EXEC="${FLASHSALE_DOCKER_EXEC:-/run/flashsale-docker}"   # sockets of dockerd's containerd and shims
DOCKER_SOCK="$DOCKER_DIR/docker.sock"
DOCKER_PIDFILE="$DOCKER_DIR/dockerd.pid"
DOCKER_LOG="$DOCKER_DIR/dockerd.log"
DOCKER_STATE="$DOCKER_DIR/host-state" # what up.sh saw on the host before it started, for down.sh
SHIM_NAME=flashsale-runc
SHIM="$REPO_ROOT/hack/docker/runc-shim"
# What the scripts and kind use to reach this engine (kind runs the docker CLI, which reads it).
DOCKER_HOST_URL="unix://$DOCKER_SOCK"

# dockerd_pid: the pid of our dockerd if it runs (pid file and /proc/PID/exe agree), else nothing.
dockerd_pid() {
  local pid
  pid=$(cat "$DOCKER_PIDFILE" 2>/dev/null) || return 0
  [[ -n $pid && $(readlink "/proc/$pid/exe" 2>/dev/null) == */dockerd ]] && echo "$pid"
  return 0
}

# our_bridges: the Linux bridges of this engine's networks (br-<first 12 hex of the network id>).
our_bridges() {
  local id
  for id in $(DOCKER_HOST=$DOCKER_HOST_URL docker network ls -q --filter driver=bridge 2>/dev/null); do
    echo "br-${id:0:12}"
  done
}
