# shellcheck shell=bash
# Helpers of hack/chart/e2e.sh: the report, port-forwards, API calls and object listings.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$REPO_ROOT/hack/cluster/lib.sh"

declare -A CHECK       # name -> true|false (the report's fields)
declare -A CHECK_INFO  # name -> detail line

# check NAME true|false DETAIL: records one result of the report and prints it.
check() {
  CHECK[$1]=$2
  CHECK_INFO[$1]=$3
  if [[ $2 == true ]]; then log "$1" "ok: $3"; else log "$1" "FAILED: $3"; fi
}

# write_report FILE SECONDS: the JSON report from CHECK (fields missing = not reached = false).
write_report() {
  local file=$1 secs=$2 f args=()
  for f in podsReady restrictedNamespace networkPolicyEnforced helmTest upgradeKeptData \
    uninstallLeftOnlyPvcs portForward lint templates badValues crdUpgrade; do
    args+=(--argjson "$f" "${CHECK[$f]:-false}" --arg "${f}Detail" "${CHECK_INFO[$f]:-not run}")
  done
  mkdir -p "$(dirname "$file")"
  jq -n "${args[@]}" --arg cluster host --arg ns "$E2E_NAMESPACE" --argjson seconds "$secs" '
    {cluster: $cluster, namespace: $ns, podsReady: $podsReady, restrictedNamespace: $restrictedNamespace,
     networkPolicyEnforced: $networkPolicyEnforced, helmTest: $helmTest, upgradeKeptData: $upgradeKeptData,
     uninstallLeftOnlyPvcs: $uninstallLeftOnlyPvcs, portForward: $portForward, lint: $lint,
     templates: $templates, badValues: $badValues, crdUpgrade: $crdUpgrade, seconds: $seconds,
     details: {podsReady: $podsReadyDetail, restrictedNamespace: $restrictedNamespaceDetail,
       networkPolicyEnforced: $networkPolicyEnforcedDetail, helmTest: $helmTestDetail,
       upgradeKeptData: $upgradeKeptDataDetail, uninstallLeftOnlyPvcs: $uninstallLeftOnlyPvcsDetail,
       portForward: $portForwardDetail, lint: $lintDetail, templates: $templatesDetail,
       badValues: $badValuesDetail, crdUpgrade: $crdUpgradeDetail}}
    | .ok = ([.podsReady, .restrictedNamespace, .networkPolicyEnforced, .helmTest, .upgradeKeptData,
              .uninstallLeftOnlyPvcs, .portForward, .lint, .templates, .badValues, .crdUpgrade] | all)' >"$file"
  merge_load_reports "$file"
}

# merge_load_reports FILE: adds the in-cluster load and chaos figures (k8s-tests/cluster.mk) as
# `k6` and `chaos`, when those runs happened (E2E_LOAD=0 skips them: the fields are then absent).
merge_load_reports() {
  local file=$1 k6="$REPO_ROOT/reports/k6-cluster.json" chaos="$REPO_ROOT/reports/chaos-cluster.json"
  [[ -n ${CHECK[k6InCluster]:-} || -n ${CHECK[chaosInCluster]:-} ]] || return 0
  jq --argjson k6ok "${CHECK[k6InCluster]:-false}" --argjson chaosok "${CHECK[chaosInCluster]:-false}" \
    --slurpfile k6 <(cat "$k6" 2>/dev/null || echo null) --slurpfile chaos <(cat "$chaos" 2>/dev/null || echo null) '
    .k6 = ($k6[0] | if . == null then null else {requests, rps, p95Ms, p99Ms, thresholdsPassed, pods} end)
    | .chaos = ($chaos[0] | if . == null then null else {podDeletions, upgradeDuringLoad, attempts,
        oversold, duplicateHolders, lostAcceptances, untruthful} end)
    | .ok = (.ok and $k6ok and $chaosok)' "$file" >"$file.tmp" && mv "$file.tmp" "$file"
}

kn() { kubectl_ -n "$E2E_NAMESPACE" "$@"; }

secret_value() { kn get secret "$1" -o "jsonpath={.data.$2}" | base64 -d; }

# forward_start: a port-forward to the reservation Service on a free loopback port -> $API.
forward_start() {
  local port
  port=$(free_port)
  # exec: $! is kubectl itself, so forward_stop really ends it.
  (exec "$KUBE_BIN_DIR/kubectl" --kubeconfig "$KUBECONFIG_ADMIN" -n "$E2E_NAMESPACE" port-forward \
    --address 127.0.0.1 "svc/$RELEASE-reservation" "$port:80" >/dev/null 2>&1) &
  FORWARD_PID=$!
  API="http://127.0.0.1:$port"
  wait_for forward 20 curl -fsS -o /dev/null --max-time 2 "$API/readyz"
}

forward_stop() {
  [[ -n ${FORWARD_PID:-} ]] && kill "$FORWARD_PID" 2>/dev/null
  wait "${FORWARD_PID:-}" 2>/dev/null || true
  FORWARD_PID=""
}

# api METHOD PATH [JSON] [TOKEN]: one call; prints "<status> <body>".
api() {
  local args=(-sS --max-time 10 -o "$TMP/body" -w '%{http_code}' -X "$1" -H 'content-type: application/json')
  [[ -n ${3:-} ]] && args+=(-d "$3")
  [[ -n ${4:-} ]] && args+=(-H "authorization: Bearer $4")
  local code
  code=$(curl "${args[@]}" "$API$2" || echo 000)
  echo "$code $(cat "$TMP/body" 2>/dev/null)"
}

# release_pods_ready: "ready/total" of the release's long-running pods.
release_pods_ready() {
  kn get pods -l "app.kubernetes.io/instance=$RELEASE" -o json | jq -r '
    [.items[] | select(.metadata.labels["app.kubernetes.io/component"] as $c | $c != "migrations" and $c != "test")
     | select(.status.phase != "Succeeded")] as $p
    | "\([$p[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length)/\($p | length)"'
}

# leftovers: every object left in the namespace, as kind/name, except what Kubernetes itself puts in
# every namespace (the default ServiceAccount, kube-root-ca.crt) and Events.
leftovers() {
  local kinds
  kinds=$(kubectl_ api-resources --namespaced --verbs=list -o name | grep -vE '^(events|events\.events\.k8s\.io|localsubjectaccessreviews.*)$' | paste -sd,)
  kn get "$kinds" -o json 2>/dev/null | jq -r '.items[]
    | select(.metadata.ownerReferences == null or (.kind == "PersistentVolumeClaim"))
    | select(.kind != "ServiceAccount" or .metadata.name != "default")
    | select(.kind != "ConfigMap" or .metadata.name != "kube-root-ca.crt")
    | "\(.kind)/\(.metadata.name)"' | sort -u
}
