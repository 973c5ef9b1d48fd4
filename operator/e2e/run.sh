#!/usr/bin/env bash
# make operator-e2e: the operator of the Helm chart on the host cluster. Drives k6 load, a Prometheus
# outage, a scheduled sale, a crash-looping pod and a leader kill, and writes
# reports/operator-e2e.json (operator/e2e/run.ts). Self-sufficient: when release E2E_RELEASE
# (flashsale) is not installed in E2E_NAMESPACE (flashsale), or its values differ from
# operator/e2e/values.yaml, or its images are older than the last built ones, it installs/upgrades it
# with hack/cluster/make-up.sh (which also brings the host cluster up when it is down).
# E2E_UNINSTALL=1 removes the release, namespace and volumes at the end.
set -euo pipefail
source "$(dirname "$0")/../../hack/cluster/env.sh"
NS=${E2E_NAMESPACE:-flashsale}
RELEASE=${E2E_RELEASE:-flashsale}
VALUES="$REPO_ROOT/operator/e2e/values.yaml"
cd "$REPO_ROOT"

helm_() {
  if [[ -x $FLASHSALE_BIN/helm-$HELM_VERSION ]]; then "$FLASHSALE_BIN/helm-$HELM_VERSION" "$@"; else helm "$@"; fi
}

# why_install: prints why the release needs installing or upgrading; nothing when it is current.
why_install() {
  [[ -f $KUBECONFIG_ADMIN ]] || {
    echo "no host cluster"
    return
  }
  export KUBECONFIG=$KUBECONFIG_ADMIN
  local status tag want name
  status=$(helm_ status "$RELEASE" -n "$NS" -o json 2>/dev/null | jq -r .info.status) || status=""
  [[ $status == deployed ]] || {
    echo "release $RELEASE not deployed in $NS (${status:-absent})"
    return
  }
  helm_ get values "$RELEASE" -n "$NS" -o json | node operator/e2e/values-differ.mjs "$VALUES" | sed 's/^/values differ: /' || true
  for name in operator reservation; do
    want=$(hack/images/build.sh --ref "$name" 2>/dev/null) || continue
    tag=$(helm_ get values "$RELEASE" -n "$NS" -o json | jq -r ".$name.image.tag // empty")
    [[ $tag == "${want##*:}" ]] || echo "image $name: installed ${tag:-?}, last built ${want##*:}"
  done
}

reasons=$(why_install)
if [[ -n $reasons ]]; then
  while read -r r; do log operator-e2e "install: $r"; done <<<"$reasons"
  log operator-e2e "hack/cluster/make-up.sh up: release $RELEASE in $NS with $(basename "$VALUES")"
  FLASHSALE_CLUSTER=host FLASHSALE_NAMESPACE=$NS FLASHSALE_RELEASE=$RELEASE \
    FLASHSALE_HELM_ARGS="-f $VALUES" hack/cluster/make-up.sh up
else
  log operator-e2e "release $RELEASE in $NS is installed with the e2e values and the last built images"
fi

export KUBECONFIG=$KUBECONFIG_ADMIN
export E2E_KUBECTL="$KUBE_BIN_DIR/kubectl"
export E2E_NAMESPACE=$NS E2E_RELEASE=$RELEASE
# The k6 image make up imported (content-addressed), as the dashboard's launcher uses it.
E2E_K6_IMAGE=$(hack/images/build.sh --ref k6 2>/dev/null) || E2E_K6_IMAGE=docker.io/flashsale/k6:dev
export E2E_K6_IMAGE
# The failover phase freezes the leader's container through the host cluster's containerd.
if [[ -S $CONTAINERD_SOCK ]] && command -v ctr >/dev/null; then export E2E_CONTAINERD_SOCK=$CONTAINERD_SOCK; fi
mkdir -p reports
log operator-e2e "namespace $NS, release $RELEASE; report reports/operator-e2e.json"
if [[ ${E2E_UNINSTALL:-0} != 1 ]]; then exec node --import tsx operator/e2e/run.ts; fi

# E2E_UNINSTALL=1 (make test): the release, its namespace and its volumes go afterwards, whatever
# the result (the exit code stays the run's).
uninstall() {
  log operator-e2e "E2E_UNINSTALL=1: removing release $RELEASE, namespace $NS and its volumes"
  helm_ uninstall "$RELEASE" -n "$NS" --wait --timeout 300s >/dev/null 2>&1 || true
  "$KUBE_BIN_DIR/kubectl" delete namespace "$NS" --wait=true --timeout=300s >/dev/null 2>&1 || true
  hack/cluster/volumes.sh delete "$NS"
}
trap uninstall EXIT
rc=0
node --import tsx operator/e2e/run.ts || rc=$?
exit "$rc"
