# shellcheck shell=bash
# Process helpers of the host cluster scripts. Each component runs as its own session (setsid),
# with its pid in $CLUSTER_RUN/NAME.pid and its output in $CLUSTER_LOGS/NAME.log.
source "$(dirname "${BASH_SOURCE[0]}")/env.sh"


kubectl_() { "$KUBE_BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

# write_file PATH: stdin into PATH, only if different. kube-proxy exits when its config file
# changes, so a second `up` must not touch the files of running components.
write_file() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}

# pid_of NAME: the pid of a running component, or nothing. The pid file alone is not trusted:
# the process must still exist and run the same executable it was started with.
pid_of() {
  local f="$CLUSTER_RUN/$1.pid" pid exe
  [[ -f $f ]] || return 0
  read -r pid exe <"$f" || return 0
  [[ -n $pid && -d /proc/$pid ]] || return 0
  [[ $(readlink "/proc/$pid/exe" 2>/dev/null) == "$exe" ]] && echo "$pid"
  return 0
}

running() { [[ -n $(pid_of "$1") ]]; }

# close_fds: closes every descriptor above 2 of the calling (sub)shell. A long-lived component must
# not inherit one: the up/down lock, or the lock of a caller's `flock FILE make cluster-up`, would
# otherwise stay held for the component's whole life. (The subshell is not a process group leader,
# so setsid execs in place and $! is the component's pid.)
close_fds() {
  local f fd
  for f in "/proc/$BASHPID/fd"/*; do
    fd=${f##*/}
    ((fd > 2)) && exec {fd}>&-
  done
  return 0
}

# await_exec PID EXE: waits (up to 5 s) until PID runs EXE: a component is started through a
# subshell and setsid (and the enforcer through unshare and sh), each exec'ing the next, and until
# the last exec `running` would see a stranger's executable and call the component dead.
await_exec() {
  local pid=$1 exe deadline=$(($(date +%s) + 5))
  exe=$(readlink -f "$2")
  while [[ -d /proc/$pid && $(readlink "/proc/$pid/exe" 2>/dev/null) != "$exe" ]] && (($(date +%s) < deadline)); do
    sleep 0.05
  done
}

# start NAME EXE ARGS...: starts EXE in its own session unless NAME already runs.
start() {
  local name=$1 exe=$2
  shift 2
  if running "$name"; then
    log "$name" "already running (pid $(pid_of "$name"))"
    return
  fi
  [[ -x $exe ]] || die "$name: $exe not found (run hack/tools.sh)"
  mkdir -p "$CLUSTER_RUN" "$CLUSTER_LOGS"
  (
    close_fds
    exec setsid "$exe" "$@" </dev/null >>"$CLUSTER_LOGS/$name.log" 2>&1
  ) &
  echo "$! $(readlink -f "$exe")" >"$CLUSTER_RUN/$name.pid"
  await_exec "$!" "$exe"
  log "$name" "started (pid $!, log $CLUSTER_LOGS/$name.log)"
}

# stop NAME [GRACE_SECONDS]: SIGTERM, then SIGKILL after the grace period.
stop() {
  local name=$1 grace=${2:-10} pid
  pid=$(pid_of "$name")
  if [[ -z $pid ]]; then
    rm -f "$CLUSTER_RUN/$name.pid"
    return
  fi
  kill -TERM "$pid" 2>/dev/null || true
  local deadline=$(($(date +%s) + grace))
  while [[ -d /proc/$pid ]] && (($(date +%s) < deadline)); do sleep 0.2; done
  if [[ -d /proc/$pid ]]; then
    kill -KILL "$pid" 2>/dev/null || true
    sleep 0.5
  fi
  rm -f "$CLUSTER_RUN/$name.pid"
  log "$name" "stopped (pid $pid)"
}

# wait_up NAME TIMEOUT CMD...: like wait_for, but fails at once (showing the log's tail) if the
# component's process died, instead of waiting out the timeout.
wait_up() {
  local name=$1 timeout=$2
  shift 2
  local deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    if ! running "$name"; then
      tail -20 "$CLUSTER_LOGS/$name.log" >&2 || true
      die "$name exited; log: $CLUSTER_LOGS/$name.log"
    fi
    if (($(date +%s) > deadline)); then
      tail -20 "$CLUSTER_LOGS/$name.log" >&2 || true
      die "$name not ready after ${timeout}s; log: $CLUSTER_LOGS/$name.log"
    fi
    sleep 0.5
  done
}

# https_ok URL: an HTTPS GET with the admin client certificate succeeds.
https_ok() {
  curl -fsS --max-time 3 --cacert "$CLUSTER_PKI/ca.crt" --cert "$CLUSTER_PKI/admin.crt" \
    --key "$CLUSTER_PKI/admin.key" "$1" >/dev/null
}
# local_https_ok URL: a self-signed local health endpoint (controller-manager, scheduler) answers.
local_https_ok() { curl -fsSk --max-time 3 "$1" >/dev/null; }
