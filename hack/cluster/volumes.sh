#!/usr/bin/env bash
# hack/cluster/volumes.sh: PersistentVolumes for the chart's claims on the host cluster, which has
# no storage provisioner: one folder per claim under $CLUSTER_DIR/volumes/<namespace>/<claim>, and
# a PersistentVolume and the claim, bound to each other before the chart's StatefulSets start
# (manifests/host-volume.yaml, manifests/host-claim.yaml).
#   hack/cluster/volumes.sh ensure NAMESPACE CLAIM...   create what is missing (idempotent)
#   hack/cluster/volumes.sh delete NAMESPACE            the namespace's volumes and their folders
# Only volumes labelled with the namespace are touched; claims must be deleted first (deleting the
# namespace does it).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

pv_name() { echo "fs-$1-$2" | cut -c1-253; }

ensure() {
  local ns=$1 claim dir
  shift
  for claim in "$@"; do
    dir="$CLUSTER_DIR/volumes/$ns/$claim"
    # The pods run as different non-root users; fsGroup does not apply to hostPath volumes, so the
    # folder is open to all (its parent is root-only) and each server makes its own private data
    # folder inside (postgres: pgdata, 0700).
    mkdir -p "$dir" && chmod 0777 "$dir" && chmod 0711 "$CLUSTER_DIR/volumes" "$CLUSTER_DIR/volumes/$ns"
    sed -e "s#@NAME@#$(pv_name "$ns" "$claim")#g" -e "s#@NAMESPACE@#$ns#g" -e "s#@CLAIM@#$claim#g" \
      -e "s#@PATH@#$dir#g" "$REPO_ROOT/hack/cluster/manifests/host-volume.yaml" |
      kubectl_ apply -f - >/dev/null
    if ! kubectl_ -n "$ns" get pvc "$claim" >/dev/null 2>&1; then
      sed -e "s#@NAME@#$(pv_name "$ns" "$claim")#g" -e "s#@NAMESPACE@#$ns#g" -e "s#@CLAIM@#$claim#g" \
        "$REPO_ROOT/hack/cluster/manifests/host-claim.yaml" | kubectl_ create -f - >/dev/null
    fi
  done
  for claim in "$@"; do
    kubectl_ -n "$ns" wait --for=jsonpath='{.status.phase}'=Bound "pvc/$claim" --timeout=60s >/dev/null ||
      die "claim $ns/$claim not bound to its volume within 60s"
  done
  log volumes "$ns: $# volumes ready ($*)"
}

delete() {
  local ns=$1
  kubectl_ delete pv -l "app.kubernetes.io/part-of=flashsale-host-volumes,flashsale.dev/namespace=$ns" \
    --ignore-not-found --wait=true >/dev/null
  rm -rf "${CLUSTER_DIR:?}/volumes/$ns"
  log volumes "$ns: volumes and folders removed"
}

case ${1:-} in
  ensure) shift && (($# >= 2)) && ensure "$@" ;;
  delete) (($# == 2)) && delete "$2" ;;
  *) sed -n '5,6p' "$0" >&2 && exit 2 ;;
esac
