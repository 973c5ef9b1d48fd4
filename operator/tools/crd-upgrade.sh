#!/usr/bin/env bash
# make crd-upgrade (and `crdUpgrade` of make e2e): apply the chart's CRD server-side, wait until it is
# Established, and check that stored ReservationAutoscalers stay readable (operator/tools/crd-upgrade.ts).
# The cluster: $KUBECONFIG when set, else the host cluster's admin kubeconfig. One JSON line on
# stdout, progress on stderr; exit 1 when a check failed.
set -euo pipefail
source "$(dirname "$0")/../../hack/cluster/env.sh"
if [[ -z ${KUBECONFIG:-} ]]; then
  [[ -f $KUBECONFIG_ADMIN ]] || die "no KUBECONFIG and no host cluster ($KUBECONFIG_ADMIN missing)"
  export KUBECONFIG=$KUBECONFIG_ADMIN
fi
cd "$REPO_ROOT"
exec node --import tsx operator/tools/crd-upgrade.ts
