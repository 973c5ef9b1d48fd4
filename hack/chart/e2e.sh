#!/usr/bin/env bash
# make e2e: the Helm chart on the host cluster, end to end. Progress lines throughout; writes
# reports/e2e-cluster.json {cluster, podsReady, restrictedNamespace, networkPolicyEnforced, helmTest,
# upgradeKeptData, uninstallLeftOnlyPvcs, portForward, ...} and exits 1 when any check failed.
#   1 static: helm lint, every ci/*-values.yaml rendering validated (kubeconform), the bad-values table
#   2 the cluster: brought up when it is not (hack/cluster/up.sh, under the shared lock)
#   3 make up into namespace $E2E_NAMESPACE (enforcing the restricted Pod Security level): all pods Ready
#   4 the namespace refuses a privileged pod; helm test; make dashboard's forward answers; the CRD
#     upgrade step users run (make crd-upgrade: Helm never upgrades crds/) keeps the autoscalers readable
#   5 an event created, helm upgrade with a changed value: Secrets unchanged, the event still there,
#     also after the Postgres pod is deleted (the data is on its volume)
#   6 NetworkPolicies: a pod without the reservation labels cannot reach Postgres, Redis or NATS; a
#     pod with them can
#   7 helm uninstall leaves only the PersistentVolumeClaims (the operator's Lease, owned by its pods,
#     is garbage-collected after them: the check waits up to 60 s for that)
#   8 (before 7) load and chaos inside the cluster, short profiles (k8s-tests/cluster.mk e2e-load):
#     a k6 Job of 2 pods passing its thresholds, then pods deleted/evicted and the release upgraded
#     under load with I1-I6 held; their figures land in the report as `k6` and `chaos`
# Cleanup deletes only what the run made (its namespace and volumes). E2E_KEEP=1 keeps the namespace
# and release (step 7 is then skipped); the cluster stays up unless E2E_CLUSTER_DOWN=1 and this run
# brought it up (E2E_KEEP_CLUSTER=1 always keeps it, for the operator's and dashboard's runs).
set -euo pipefail
source "$(dirname "$0")/e2e-lib.sh"

E2E_NAMESPACE=${E2E_NAMESPACE:-flashsale-e2e}
RELEASE=flashsale
REPORT="$REPO_ROOT/reports/e2e-cluster.json"
export KUBECONFIG=$KUBECONFIG_ADMIN # for helm
TMP=$(mktemp -d)
BROUGHT_UP=0
T0=$(date +%s)

cleanup() {
  local rc=$?
  forward_stop
  write_report "$REPORT" "$(($(date +%s) - T0))"
  if [[ ${E2E_KEEP:-0} != 1 && -f $KUBECONFIG_ADMIN ]]; then
    log cleanup "namespace $E2E_NAMESPACE and its volumes"
    "$HELM" uninstall "$RELEASE" -n "$E2E_NAMESPACE" --wait --timeout 120s >/dev/null 2>&1 || true
    kubectl_ delete namespace "$E2E_NAMESPACE" --ignore-not-found --wait=true --timeout=180s >/dev/null 2>&1 || true
    "$REPO_ROOT/hack/cluster/volumes.sh" delete "$E2E_NAMESPACE" || true
  fi
  if ((BROUGHT_UP)) && [[ ${E2E_CLUSTER_DOWN:-0} == 1 && ${E2E_KEEP_CLUSTER:-0} != 1 ]]; then
    flock -o -w 900 /tmp/flashsale-cluster.lock "$REPO_ROOT/hack/cluster/down.sh"
  fi
  rm -rf "$TMP"
  log e2e "report $REPORT: ok=$(jq .ok "$REPORT") in $(($(date +%s) - T0))s"
  if [[ $(jq .ok "$REPORT") != true ]]; then exit 1; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

static_checks() {
  local s f
  for s in lint kubeconform bad-values; do
    f=$s
    [[ $s == kubeconform ]] && f=templates
    [[ $s == bad-values ]] && f=badValues
    if CHART_TEST_REPORT="$TMP/static-$s.json" "$REPO_ROOT/hack/chart/chart-test.sh" "$s"; then
      check "$f" true "$(jq -r ".steps[\"$s\"].detail" "$TMP/static-$s.json")"
    else
      check "$f" false "see the log above"
    fi
  done
}

cluster() {
  if [[ -f $KUBECONFIG_ADMIN ]] && kubectl_ get --raw /readyz >/dev/null 2>&1; then
    log cluster "the host cluster is up"
  else
    BROUGHT_UP=1
    log cluster "bringing the host cluster up"
    # -o: the cluster's processes must not inherit the lock.
    flock -o -w 900 /tmp/flashsale-cluster.lock "$REPO_ROOT/hack/cluster/up.sh"
  fi
}

install() {
  FLASHSALE_NAMESPACE=$E2E_NAMESPACE FLASHSALE_RELEASE=$RELEASE FLASHSALE_HELM_ARGS="${1:-}" \
    "$REPO_ROOT/hack/cluster/make-up.sh" up
}

ready_and_restricted() {
  local r label out
  r=$(release_pods_ready)
  [[ ${r%/*} == "${r#*/}" && ${r%/*} -gt 0 ]] && check podsReady true "$r pods Ready" ||
    check podsReady false "$r pods Ready: $(kn get pods --no-headers | tr -s ' ' | paste -sd';')"
  label=$(kubectl_ get ns "$E2E_NAMESPACE" -o jsonpath='{.metadata.labels.pod-security\.kubernetes\.io/enforce}')
  # The admission must refuse a pod that is not restricted (server-side dry run: nothing is made).
  if out=$(kn run e2e-privileged --image=docker.io/flashsale/redis:dev --restart=Never \
    --dry-run=server --overrides='{"spec":{"containers":[{"name":"p","image":"docker.io/flashsale/redis:dev","securityContext":{"privileged":true}}]}}' 2>&1); then
    check restrictedNamespace false "enforce=$label, but a privileged pod was admitted"
  elif [[ $label == restricted && $out == *"violates PodSecurity \"restricted"* ]]; then
    check restrictedNamespace true "enforce=restricted: every chart pod admitted, a privileged pod refused"
  else
    check restrictedNamespace false "enforce=$label; privileged pod: $out"
  fi
}

helm_test() {
  # The test pod is deleted once it passed (hook-succeeded), so its log is read only on failure.
  if "$HELM" test "$RELEASE" -n "$E2E_NAMESPACE" --timeout 180s >"$TMP/helm-test.log" 2>&1; then
    check helmTest true "$(grep -E '^(TEST SUITE|Phase)' "$TMP/helm-test.log" | tr -s ' ' | paste -sd' ')"
  else
    cat "$TMP/helm-test.log" >&2
    kn logs "$RELEASE-test" >&2 || true
    check helmTest false "helm test failed (log above)"
  fi
}

port_forward() {
  local port url
  port=$(free_port)
  if url=$(FLASHSALE_NAMESPACE=$E2E_NAMESPACE FLASHSALE_RELEASE=$RELEASE DASHBOARD_PORT=$port \
    DASHBOARD_ONCE=1 timeout 60 "$REPO_ROOT/hack/chart/access.sh" dashboard); then
    check portForward true "make dashboard answered at $url"
  else
    check portForward false "make dashboard did not answer within 60s"
  fi
}

crd_upgrade() {
  local out
  if out=$("$REPO_ROOT/operator/tools/crd-upgrade.sh" 2>"$TMP/crd-upgrade.log"); then
    check crdUpgrade true "$(jq -r '.detail // .' <<<"$out" 2>/dev/null || echo "$out")"
  else
    cat "$TMP/crd-upgrade.log" >&2
    check crdUpgrade false "$(jq -r '.detail // .' <<<"$out" 2>/dev/null || echo "make crd-upgrade failed (log above)")"
  fi
}

upgrade_keeps_data() {
  local token event id sum_before sum_after got
  token=$(secret_value "$RELEASE-admin" admin-token)
  sum_before=$(kn get secret "$RELEASE-admin" "$RELEASE-postgres" -o json | jq -S '[.items[].data]' | sha256sum)
  forward_start
  event=$(api POST /v1/events '{"name":"e2e-before-upgrade","capacity":5}' "$token")
  forward_stop
  [[ $event == 201* ]] || {
    check upgradeKeptData false "could not create the event: $event"
    return
  }
  id=$(jq -r .id <<<"${event#* }")
  log upgrade "event $id created; helm upgrade with a changed pod annotation"
  install "--set-string reservation.podAnnotations.e2e-upgrade=$(date +%s)"
  sum_after=$(kn get secret "$RELEASE-admin" "$RELEASE-postgres" -o json | jq -S '[.items[].data]' | sha256sum)
  log upgrade "deleting the Postgres pod: the event must come back from its volume"
  kn delete pod "$RELEASE-postgres-0" --wait=true >/dev/null
  kn wait --for=condition=Ready pod/"$RELEASE-postgres-0" --timeout=180s >/dev/null
  kn rollout status deploy/"$RELEASE-reservation" --timeout=180s >/dev/null
  forward_start
  got=""
  for _ in $(seq 30); do
    got=$(api GET "/v1/events/$id")
    [[ $got == 200* ]] && break
    sleep 2
  done
  forward_stop
  if [[ $sum_before != "$sum_after" ]]; then
    check upgradeKeptData false "the Secrets changed on upgrade"
  elif [[ $got == 200* && $(jq -r .name <<<"${got#* }") == e2e-before-upgrade ]]; then
    check upgradeKeptData true "Secrets unchanged; event $id still there after the upgrade and a Postgres restart"
  else
    check upgradeKeptData false "event $id after the upgrade: $got"
  fi
}

network_policies() {
  local probe="$REPO_ROOT/hack/cluster/netpol-probe.sh" rl target out ok=true detail=""
  rl="app.kubernetes.io/name=flashsale,app.kubernetes.io/instance=$RELEASE,app.kubernetes.io/component=reservation"
  for target in postgres:5432 redis:6379 nats:4222; do
    out=$("$probe" "$E2E_NAMESPACE" "$RELEASE-${target%:*}" "${target#*:}" "app=e2e-stranger" 2>>"$TMP/probe.log" || true)
    detail+="unlabelled->${target%:*}: $(jq -r .result <<<"$out"); "
    [[ $(jq -r .result <<<"$out") == timeout ]] || ok=false
    out=$("$probe" "$E2E_NAMESPACE" "$RELEASE-${target%:*}" "${target#*:}" "$rl" 2>>"$TMP/probe.log" || true)
    detail+="reservation->${target%:*}: $(jq -r .result <<<"$out"); "
    [[ $(jq -r .result <<<"$out") == reached ]] || ok=false
  done
  check networkPolicyEnforced "$ok" "$detail"
}

in_cluster_load() {
  if [[ ${E2E_LOAD:-1} != 1 ]]; then
    log load "E2E_LOAD=0: the in-cluster k6 and chaos runs are skipped"
    return 0
  fi
  local k6=false chaos=false
  rm -f "$REPO_ROOT/reports/k6-cluster.json" "$REPO_ROOT/reports/chaos-cluster.json"
  make -C "$REPO_ROOT" --no-print-directory k6 LOAD_NAMESPACE="$E2E_NAMESPACE" SCENARIO=burst \
    PROFILE=short PARALLELISM=2 && k6=true
  check k6InCluster "$k6" "$(jq -c '{requests, rps, p95Ms, p99Ms, thresholdsPassed, pods}' \
    "$REPO_ROOT/reports/k6-cluster.json" 2>/dev/null || echo 'no report')"
  RELEASE="$RELEASE" make -C "$REPO_ROOT" --no-print-directory chaos LOAD_NAMESPACE="$E2E_NAMESPACE" \
    PROFILE=short PARALLELISM=2 && chaos=true
  check chaosInCluster "$chaos" "$(jq -c '{podDeletions, upgradeDuringLoad, attempts, oversold,
    duplicateHolders, lostAcceptances, untruthful}' "$REPO_ROOT/reports/chaos-cluster.json" 2>/dev/null || echo 'no report')"
}

uninstall_leaves_pvcs() {
  local left others pvcs
  "$HELM" uninstall "$RELEASE" -n "$E2E_NAMESPACE" --wait --timeout 180s >/dev/null
  kn wait --for=delete pod -l "app.kubernetes.io/instance=$RELEASE" --timeout=120s >/dev/null 2>&1 || true
  # What the release's pods owned (the operator's Lease) goes by garbage collection, just after them.
  for _ in $(seq 30); do
    left=$(leftovers)
    grep -qv '^PersistentVolumeClaim/' <<<"$left" || break
    sleep 2
  done
  pvcs=$(grep -c '^PersistentVolumeClaim/' <<<"$left" || true)
  others=$(grep -v '^PersistentVolumeClaim/' <<<"$left" | paste -sd' ' || true)
  if [[ -z $others && $pvcs -gt 0 ]]; then
    check uninstallLeftOnlyPvcs true "left: $(paste -sd' ' <<<"$left")"
  else
    check uninstallLeftOnlyPvcs false "left besides $pvcs claims: ${others:-nothing, and no claim}"
  fi
}

main() {
  log e2e "namespace $E2E_NAMESPACE, release $RELEASE"
  static_checks
  cluster
  install ""
  ready_and_restricted
  helm_test
  port_forward
  crd_upgrade
  upgrade_keeps_data
  network_policies
  in_cluster_load
  if [[ ${E2E_KEEP:-0} == 1 ]]; then
    log uninstall "E2E_KEEP=1: release kept, uninstall not tested"
  else
    uninstall_leaves_pvcs
  fi
}

main "$@"
