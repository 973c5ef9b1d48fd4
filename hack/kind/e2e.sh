#!/usr/bin/env bash
# hack/kind/e2e.sh (make kind-e2e): the kind path of `make up`, run for real on a build machine.
#   Docker started by hack/docker/up.sh -> node image built (hack/kind/node-image.sh) -> stand-ins
#   for the upstream images (hack/kind/standins.sh) -> `make up` through kind -> every pod Ready ->
#   `helm test` (once charts/ has the chart) -> one reservation end to end through kubectl
#   port-forward -> `make down` -> Docker stopped -> nothing left behind.
# Writes reports/kind-e2e.json and exits non-zero on any failure. Progress lines on stderr.
# KIND_E2E_KEEP=1 leaves the cluster and Docker running for a look (then: make kind-e2e-down).
set -euo pipefail
source "$(dirname "$0")/lib.sh"

REPORT="$REPO_ROOT/reports/kind-e2e.json"
NAMESPACE=flashsale
CONTEXT=kind-flashsale
export FLASHSALE_CLUSTER=kind          # make-up.sh takes the kind path and never the host cluster
export KUBECONFIG="$KIND_WORK/kubeconfig" # kind writes its context here, not into ~/.kube/config
export PATH="$KUBE_BIN_DIR:$PATH"

node_image="" pods_ready="" helm_test="not run" reservation="not run" builds="[]" failure=""
pf_pid="" prebind_pid=""
RELEASE=flashsale
NODE=flashsale-control-plane
CLAIMS=("data-$RELEASE-postgres-0" "data-$RELEASE-redis-0" "data-$RELEASE-nats-0" "data-$RELEASE-prometheus-0")

report() {
  local ok=$1
  mkdir -p "$(dirname "$REPORT")"
  jq -n --arg nodeImage "$node_image" --arg podsReady "$pods_ready" --arg helmTest "$helm_test" \
    --arg reservation "$reservation" --argjson dockerfileBuilds "$builds" --argjson seconds "$(elapsed)" \
    --argjson ok "$ok" --arg failure "$failure" \
    '{cluster: "kind", nodeImage: $nodeImage, podsReady: $podsReady, helmTest: $helmTest,
      reservation: $reservation, dockerfileBuilds: $dockerfileBuilds, seconds: $seconds, ok: $ok}
     + (if $failure == "" then {} else {failure: $failure} end)' >"$REPORT"
  log report "$REPORT: $(jq -c . "$REPORT")"
}

fail() {
  failure=$*
  log FAIL "$*"
  exit 1
}

teardown() {
  local rc=$?
  # (if, not &&: a process that already ended must not fail the teardown under set -e)
  if [[ -n $pf_pid ]]; then kill "$pf_pid" 2>/dev/null || true; fi
  if [[ -n $prebind_pid ]]; then kill "$prebind_pid" 2>/dev/null || true; fi
  if [[ ${KIND_E2E_KEEP:-0} == 1 ]]; then
    log keep "left running: DOCKER_HOST=$DOCKER_HOST KUBECONFIG=$KUBECONFIG (make kind-e2e-down removes it)"
  else
    if docker info >/dev/null 2>&1; then
      "$REPO_ROOT/hack/cluster/make-up.sh" down || { rc=1 && failure=${failure:-make down failed}; }
    fi
    "$REPO_ROOT/hack/docker/down.sh" || { rc=1 && failure=${failure:-hack/docker/down.sh failed}; }
    rm -f "$KUBECONFIG"
  fi
  ((rc == 0)) && report true || report false
  exit "$rc"
}

# pods_check: "READY/ALL" over every pod of every namespace; fails unless all are Ready (or done).
pods_check() {
  local json all ready
  json=$(kubectl --context "$CONTEXT" get pods -A -o json)
  all=$(jq '[.items[] | select(.status.phase != "Succeeded")] | length' <<<"$json")
  ready=$(jq '[.items[] | select(.status.phase != "Succeeded") | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length' <<<"$json")
  pods_ready="$ready/$all"
  log pods "$pods_ready Ready: $(jq -r '[.items[] | .metadata.namespace + "/" + .metadata.name] | join(" ")' <<<"$json")"
  ((all > 0 && ready == all))
}

helm_check() {
  local helm="$FLASHSALE_BIN/helm-$HELM_VERSION"
  if [[ ! -f $REPO_ROOT/charts/flashsale/Chart.yaml ]]; then
    helm_test="skipped: charts/flashsale has no chart yet (make up installs the plain manifests)"
    log helm "$helm_test"
    return
  fi
  log helm "helm test $RELEASE"
  "$helm" --kube-context "$CONTEXT" test "$RELEASE" -n "$NAMESPACE" --timeout 5m >"$KIND_WORK/helm-test.log" 2>&1 ||
    fail "helm test failed: $(tail -20 "$KIND_WORK/helm-test.log")"
  log helm "$(grep -E '^(TEST SUITE|Phase)' "$KIND_WORK/helm-test.log" | tr -s ' ' | tr '\n' ' ')"
  helm_test="passed"
}

# reservation_check: an event of capacity 1 and one reservation, confirmed, through port-forward.
reservation_check() {
  local port base token event rid status
  port=$(free_port)
  kubectl --context "$CONTEXT" -n "$NAMESPACE" port-forward --address 127.0.0.1 "svc/$RELEASE-reservation" "$port:80" \
    >"$KIND_WORK/port-forward.log" 2>&1 &
  pf_pid=$!
  base="http://127.0.0.1:$port"
  wait_for port-forward 30 curl -fsS --max-time 2 "$base/readyz" || fail "port-forward: $(tail -3 "$KIND_WORK/port-forward.log")"
  token=$(kubectl --context "$CONTEXT" -n "$NAMESPACE" get secret "$RELEASE-admin" -o jsonpath='{.data.admin-token}' | base64 -d)
  event=$(curl -fsS --max-time 10 -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    -d '{"name":"kind-e2e","capacity":1}' "$base/v1/events" | jq -r .id) || fail "POST /v1/events failed"
  log reservation "event $event (capacity 1)"
  rid=$(curl -sS --max-time 10 -H 'Content-Type: application/json' -d '{"userId":"kind-e2e-user"}' \
    "$base/v1/events/$event/reservations?wait=5000" | tee "$KIND_WORK/reservation.json" | jq -r .reservationId) ||
    fail "POST reservation failed: $(cat "$KIND_WORK/reservation.json")"
  status=$(curl -fsS --max-time 10 "$base/v1/reservations/$rid" | jq -r .status) || fail "GET /v1/reservations/$rid failed"
  log reservation "reservation $rid: $status"
  [[ $status == confirmed ]] || fail "reservation $rid is $status, not confirmed"
  reservation="confirmed ($rid)"
  kill "$pf_pid" 2>/dev/null || true
  pf_pid=""
}

# prebind: once the kind cluster answers, binds each claim of the chart's StatefulSets to a folder
# of the node (hack/kind/volume.yaml): the node image built here has no provisioner. Runs in the
# background while make up creates the cluster and installs the chart.
prebind() {
  until kubectl --context "$CONTEXT" get --raw /readyz >/dev/null 2>&1; do sleep 2; done
  local claim dir
  for claim in "${CLAIMS[@]}"; do
    dir=/var/lib/flashsale-volumes/$claim
    # The servers run as different non-root users and fsGroup does not apply to hostPath volumes.
    docker exec "$NODE" sh -c "mkdir -p '$dir' && chmod 0777 '$dir'"
    sed -e "s#@NAME@#kind-e2e-$claim#" -e "s#@NAMESPACE@#$NAMESPACE#" -e "s#@CLAIM@#$claim#" -e "s#@PATH@#$dir#" \
      "$REPO_ROOT/hack/kind/volume.yaml" | kubectl --context "$CONTEXT" apply -f - >/dev/null
  done
  log volumes "${#CLAIMS[@]} volumes bound in advance (${CLAIMS[*]})"
}

main() {
  trap teardown EXIT
  log kind-e2e "kind $KIND_VERSION, Kubernetes $KUBERNETES_VERSION"
  eval "$("$REPO_ROOT/hack/docker/up.sh")"
  export DOCKER_HOST
  # The classic builder: BuildKit would fetch the Dockerfile's syntax image from a registry.
  export DOCKER_BUILDKIT=0 DOCKER_BUILD_FLAGS="--network host"
  node_image=$("$REPO_ROOT/hack/kind/node-image.sh") || fail "node image build failed"
  "$REPO_ROOT/hack/kind/standins.sh" >/dev/null || fail "stand-in images failed"
  KIND_CONFIG="$KIND_WORK/kind-config.e2e.yaml"
  cat "$REPO_ROOT/kind-config.yaml" "$REPO_ROOT/hack/kind/kind-config.patch.yaml" >"$KIND_CONFIG"
  export KIND_CONFIG KIND_NODE_IMAGE=$node_image
  # The stand-in Prometheus is Debian's build: no Kubernetes discovery, and its own user (as on the
  # host cluster, charts/flashsale/ci/host-cluster-values.yaml).
  export FLASHSALE_HELM_ARGS="--set prometheus.discovery=dns --set prometheus.runAsUser=999"
  prebind &
  prebind_pid=$!
  timeout 1500 "$REPO_ROOT/hack/cluster/make-up.sh" up || fail "make up (kind) failed"
  # The one generic Dockerfile, once per workspace (hack/cluster/make-up.sh, APP_IMAGES).
  builds='["services/reservation/Dockerfile (reservation)","services/reservation/Dockerfile --build-arg WORKSPACE=operator","services/reservation/Dockerfile --build-arg WORKSPACE=dashboard"]'
  local deadline=$(($(date +%s) + 180))
  until pods_check; do
    (($(date +%s) < deadline)) || fail "not every pod is Ready after 180s: $pods_ready"
    sleep 5
  done
  helm_check
  reservation_check
  log kind-e2e "passed in $(elapsed)s"
}

main "$@"
