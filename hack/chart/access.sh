#!/usr/bin/env bash
# hack/chart/access.sh dashboard|logs: reach the release that `make up` installed.
#   dashboard  port-forward on 127.0.0.1 to the dashboard (until the dashboard is installed: to
#              the reservation API, and it says so); prints the URL. `kubectl port-forward svc/...`
#              sticks to one pod and dies with it, so this forwards to a Ready pod and starts again
#              on another one when that pod goes away or stops being Ready. Ctrl-C ends it.
#              DASHBOARD_PORT (default 8080) is the local port; DASHBOARD_ONCE=1 prints the URL once
#              the forward answers and exits (tests).
#   logs       every pod's log of the release, prefixed with the pod's name, followed.
# The cluster: the host cluster when it runs, else the kind cluster of `make up`.
# FLASHSALE_NAMESPACE / FLASHSALE_RELEASE select another installation.
set -euo pipefail
source "$(dirname "$0")/../cluster/lib.sh"

NAMESPACE=${FLASHSALE_NAMESPACE:-flashsale}
RELEASE=${FLASHSALE_RELEASE:-flashsale}
PORT=${DASHBOARD_PORT:-8080}

if [[ -f $KUBECONFIG_ADMIN ]] && kubectl_ get --raw /readyz >/dev/null 2>&1; then
  K=("$KUBE_BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_ADMIN")
else
  K=(kubectl --context kind-flashsale)
fi
k() { "${K[@]}" -n "$NAMESPACE" "$@"; }

# target: the component to forward to and its container port.
target() {
  if k get svc "$RELEASE-dashboard" >/dev/null 2>&1; then
    echo "dashboard"
  elif k get svc "$RELEASE-reservation" >/dev/null 2>&1; then
    echo "reservation"
  else
    die "no release $RELEASE in namespace $NAMESPACE: run make up"
  fi
}

# ready_pod COMPONENT: the name of one Ready pod of the component, or nothing.
ready_pod() {
  k get pods -l "app.kubernetes.io/instance=$RELEASE,app.kubernetes.io/component=$1" -o json |
    jq -r '[.items[] | select(.metadata.deletionTimestamp == null)
      | select(any(.status.conditions[]?; .type == "Ready" and .status == "True")) | .metadata.name] | first // empty'
}

pod_ready() {
  [[ $(k get pod "$1" -o jsonpath='{.metadata.deletionTimestamp}{"/"}{.status.conditions[?(@.type=="Ready")].status}' 2>/dev/null) == /True ]]
}

dashboard() {
  local comp pod pid url
  comp=$(target)
  url="http://127.0.0.1:$PORT/"
  if [[ $comp == reservation ]]; then
    log dashboard "the dashboard is not installed yet: forwarding the reservation API instead"
    url="http://127.0.0.1:$PORT/readyz"
  fi
  trap '[[ -n ${pid:-} ]] && kill "$pid" 2>/dev/null; exit 0' INT TERM
  while :; do
    pod=$(ready_pod "$comp")
    if [[ -z $pod ]]; then
      log dashboard "no Ready $comp pod yet; retrying"
      sleep 2
      continue
    fi
    k port-forward --address 127.0.0.1 "pod/$pod" "$PORT:8080" >/dev/null 2>&1 &
    pid=$!
    if wait_for dashboard 15 curl -fsS -o /dev/null --max-time 2 "$url"; then
      log dashboard "$url -> $comp pod $pod"
      [[ ${DASHBOARD_ONCE:-0} == 1 ]] && {
        kill "$pid" 2>/dev/null
        echo "$url"
        return 0
      }
    fi
    # Follow the pod: start again on another one when it goes or the forward dies.
    while kill -0 "$pid" 2>/dev/null && pod_ready "$pod"; do sleep 2; done
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    log dashboard "pod $pod went away or the forward ended; re-establishing"
  done
}

logs() {
  log logs "namespace $NAMESPACE, release $RELEASE (Ctrl-C to stop)"
  k logs -l "app.kubernetes.io/instance=$RELEASE" --all-containers --prefix --timestamps \
    --tail="${LOGS_TAIL:-50}" --max-log-requests 30 -f
}

case ${1:-} in
  dashboard) dashboard ;;
  logs) logs ;;
  *) sed -n '2,3p' "$0" >&2 && exit 2 ;;
esac
