#!/usr/bin/env bash
# k8s-tests/cluster-load/stack.sh up|down [NAMESPACE]: a stand-in system for `make k6` and
# `make chaos` on the host cluster while the Helm chart is not there (or not wanted): the stack of
# the cluster smoke test (Postgres, Redis, NATS, the reservation Deployment with migrations) in its
# own namespace (default flashsale-load), with 3 reservation replicas and a PodDisruptionBudget.
# `down` deletes that namespace only.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../../hack/cluster/env.sh"

NAMESPACE=${2:-${NAMESPACE:-flashsale-load}}
[[ $NAMESPACE == flashsale-load* ]] || die "refusing namespace $NAMESPACE: the stand-in stack lives in flashsale-load*"
MANIFESTS="$REPO_ROOT/k8s-tests/cluster-smoke/manifests"
BUILD="$REPO_ROOT/hack/images/build.sh"
LOCK=${FLASHSALE_IMAGES_LOCK:-/tmp/flashsale-images.lock}
k() { "$KUBE_BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"; }

render() {
  awk 'FNR == 1 { print "---" } 1' "$MANIFESTS"/*.yaml "$here/pdb.yaml" |
    sed -e "s#@NAMESPACE@#$NAMESPACE#g" -e "s#@APP_IMAGE@#$1#g" -e "s#@POSTGRES_IMAGE@#$2#g" \
      -e "s#@REDIS_IMAGE@#$3#g" -e "s#@NATS_IMAGE@#$4#g" -e 's/ *# migrate$//'
}

up() {
  [[ -f $KUBECONFIG_ADMIN ]] || die "no host cluster ($KUBECONFIG_ADMIN): make cluster-up first"
  log stack "importing images (postgres redis nats reservation k6)"
  flock "$LOCK" "$BUILD" --import postgres redis nats reservation k6 >&2
  render "$("$BUILD" --ref reservation)" "$("$BUILD" --ref postgres)" "$("$BUILD" --ref redis)" \
    "$("$BUILD" --ref nats)" | k apply -f - >/dev/null
  k -n "$NAMESPACE" scale deploy/reservation --replicas=3 >/dev/null
  log stack "namespace $NAMESPACE: postgres, redis, nats, 3 reservation pods; waiting for Ready"
  local deadline=$(($(date +%s) + 300)) want have
  while :; do
    want=$(k -n "$NAMESPACE" get deploy -o jsonpath='{range .items[*]}{.spec.replicas}{"\n"}{end}' | awk '{ s += $1 } END { print s + 0 }')
    have=$(k -n "$NAMESPACE" get deploy -o jsonpath='{range .items[*]}{.status.readyReplicas}{"\n"}{end}' | awk '{ s += $1 } END { print s + 0 }')
    log stack "$have/$want pods Ready"
    ((want > 0 && want == have)) && break
    (($(date +%s) < deadline)) || die "not Ready after 300s: $(k -n "$NAMESPACE" get pods 2>&1)"
    sleep 5
  done
}

case ${1:-} in
  up) up ;;
  down)
    log stack "deleting namespace $NAMESPACE"
    k delete namespace "$NAMESPACE" --ignore-not-found --wait=true --timeout=180s
    ;;
  *) die "usage: $0 up|down [NAMESPACE]" ;;
esac
