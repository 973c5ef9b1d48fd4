#!/usr/bin/env bash
# hack/cluster/kubectl.sh ARGS...: kubectl (the build of hack/tools.sh) against the host cluster,
# e.g. hack/cluster/kubectl.sh get nodes,pods -A
source "$(dirname "$0")/env.sh"
exec "$KUBE_BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" "$@"
