#!/usr/bin/env bash
# make operator-e2e: the operator on the host cluster with the chart installed (make up first).
# Drives load, a scheduled sale, a crash-looping pod, a Prometheus outage and a leader kill, and
# writes reports/operator-e2e.json. Shares the cluster of `make e2e`; brings up nothing itself.
set -euo pipefail
source "$(dirname "$0")/../../hack/cluster/env.sh"
[[ -f $KUBECONFIG_ADMIN ]] || die "no host cluster ($KUBECONFIG_ADMIN missing): run make up first"
export KUBECONFIG="$KUBECONFIG_ADMIN"
export E2E_KUBECTL="$KUBE_BIN_DIR/kubectl"
mkdir -p "$REPO_ROOT/reports"
log operator-e2e "namespace ${E2E_NAMESPACE:-flashsale}; report reports/operator-e2e.json"
cd "$REPO_ROOT"
exec node --import tsx operator/e2e/run.ts
