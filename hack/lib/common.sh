# shellcheck shell=bash
# Shared helpers for the hack/ scripts: progress lines, timing, and the tool cache location.

FLASHSALE_CACHE="${FLASHSALE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/flashsale}"
# shellcheck disable=SC2034 # used by the scripts that source this file
FLASHSALE_BIN="$FLASHSALE_CACHE/bin"
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
# shellcheck source=../versions.env
source "$REPO_ROOT/hack/versions.env"

_t0=$(date +%s)

# log STEP MESSAGE: one progress line, prefixed with the seconds since the script started.
log() {
  local step=$1
  shift
  printf '[%4ss] %-14s %s\n' "$(($(date +%s) - _t0))" "$step" "$*" >&2
}

die() {
  log error "$*"
  exit 1
}

elapsed() { echo $(($(date +%s) - _t0)); }

# free_port: a TCP port on 127.0.0.1 that nothing listens on right now.
free_port() {
  python3 - <<'PY'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
PY
}

# wait_for NAME TIMEOUT_SECONDS CMD...: retries CMD until it succeeds or the time runs out.
wait_for() {
  local name=$1 timeout=$2
  shift 2
  local deadline=$(($(date +%s) + timeout))
  until "$@" >/dev/null 2>&1; do
    if (($(date +%s) > deadline)); then
      log "$name" "not ready after ${timeout}s: $*"
      return 1
    fi
    sleep 0.2
  done
}
