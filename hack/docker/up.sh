#!/usr/bin/env bash
# hack/docker/up.sh: installs Debian's docker.io if dockerd is missing and starts a dockerd of the
# project's own (test machinery for the kind tests on a build machine; see hack/docker/env.sh).
# Idempotent. Prints `export DOCKER_HOST=...` on stdout; progress on stderr.
#   - --iptables=false --ip-forward=false --ip-masq=false --bridge=none: no firewall rules, no
#     FORWARD policy change, no sysctl change, no docker0. The kind node is reached over its network's
#     bridge from the host (published ports go through docker-proxy on 127.0.0.1), which needs none
#     of them; builds that fetch packages use `docker build --network host`.
#   - the runtime shim (hack/docker/runc-shim) is the default runtime: root on this VM lacks
#     CAP_SYS_RESOURCE, which a privileged container (the kind node) would ask for.
#   - --oom-score-adjust=0: lowering an oom_score_adj also needs CAP_SYS_RESOURCE.
set -euo pipefail
source "$(dirname "$0")/env.sh"

install_docker() {
  command -v dockerd >/dev/null && return
  [[ $(id -u) == 0 ]] || die "dockerd is missing; install Docker (or run as root to install Debian's docker.io)"
  log docker "installing Debian's docker.io (apt-get; its service is not started)"
  export DEBIAN_FRONTEND=noninteractive
  # A policy-rc.d that says 101 keeps the package from starting the system dockerd, which would
  # take /var/lib/docker and set the FORWARD policy to DROP.
  local policy=/usr/sbin/policy-rc.d own_policy=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod 755 "$policy" && own_policy=1
  fi
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends -o DPkg::Lock::Timeout=600 docker.io \
    >"$FLASHSALE_CACHE/apt-docker.log" 2>&1 || die "apt-get install docker.io failed; see $FLASHSALE_CACHE/apt-docker.log"
  ((own_policy)) && rm -f "$policy"
  log docker "installed $(dockerd --version)"
}

main() {
  install_docker
  command -v jq >/dev/null || die "jq is missing (make tools installs it)"
  mkdir -p "$DOCKER_DIR" "$DOCKER_EXEC"
  if [[ -n $(dockerd_pid) ]]; then
    log docker "dockerd already running (pid $(dockerd_pid), $DOCKER_HOST_URL)"
  else
    # Remember the host state down.sh must leave behind.
    {
      echo "forward_policy=$(iptables -S FORWARD | awk '$1 == "-P" { print $3 }')"
      echo "ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
      # kind mounts /lib/modules into its nodes; Docker creates a missing bind source, so down.sh
      # removes it again when it was not there before.
      echo "lib_modules=$([[ -e /lib/modules ]] && echo present || echo absent)"
    } >"$DOCKER_STATE"
    log docker "starting dockerd (data $DOCKER_DIR, exec $DOCKER_EXEC, socket $DOCKER_SOCK)"
    setsid dockerd \
      --data-root "$DOCKER_DIR/data" --exec-root "$DOCKER_EXEC" -H "$DOCKER_HOST_URL" \
      --pidfile "$DOCKER_PIDFILE" --config-file "$REPO_ROOT/hack/docker/daemon.json" \
      --iptables=false --ip6tables=false --ip-forward=false --ip-masq=false --bridge=none \
      --exec-opt native.cgroupdriver=cgroupfs --oom-score-adjust=0 \
      --add-runtime "$SHIM_NAME=$SHIM" --default-runtime "$SHIM_NAME" \
      </dev/null >>"$DOCKER_LOG" 2>&1 &
    wait_for docker 60 env DOCKER_HOST="$DOCKER_HOST_URL" docker version ||
      die "dockerd did not answer in 60s; log: $DOCKER_LOG: $(tail -5 "$DOCKER_LOG")"
    log docker "dockerd $(DOCKER_HOST=$DOCKER_HOST_URL docker version -f '{{.Server.Version}}') ready (pid $(dockerd_pid))"
  fi
  # The FORWARD policy must not have moved: other clusters on this host route through it.
  local want
  want=$(sed -n 's/^forward_policy=//p' "$DOCKER_STATE")
  [[ $(iptables -S FORWARD | awk '$1 == "-P" { print $3 }') == "$want" ]] ||
    die "the FORWARD policy changed while dockerd started (was $want)"
  echo "export DOCKER_HOST=$DOCKER_HOST_URL"
}

main "$@"
