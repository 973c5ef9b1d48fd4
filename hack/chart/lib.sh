# shellcheck shell=bash
# Shared by the chart scripts (chart-test.sh, e2e.sh): tool paths and helm with the right defaults.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

CHART="$REPO_ROOT/charts/flashsale"
# helm built from its Go module reports Kubernetes v1.20 for `helm template`; render for the
# version the host cluster runs.
KUBE_VERSION=${KUBERNETES_VERSION#v}

# bin NAME VERSION: the cached tool, or a message saying to run make tools.
bin() {
  local b="$FLASHSALE_BIN/$1-$2"
  [[ -x $b ]] || die "$1 $2 is not built: run make tools"
  echo "$b"
}

HELM=$(bin helm "$HELM_VERSION")

# helm_template [ARGS...]: the chart rendered as release flashsale in namespace flashsale.
helm_template() {
  "$HELM" template flashsale "$CHART" -n flashsale --kube-version "$KUBE_VERSION" "$@"
}
