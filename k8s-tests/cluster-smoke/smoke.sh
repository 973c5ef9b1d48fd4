#!/usr/bin/env bash
# k8s-tests/cluster-smoke/smoke.sh (make cluster-smoke): on the host cluster (brought up if needed),
# deploys Postgres, Redis, NATS and the reservation image in a namespace of its own, then checks:
#   nodeReady           the node is Ready
#   podsReady           every Deployment of the namespace is available
#   dns                 another pod resolves the reservation Service through CoreDNS and gets an answer
#   portForward         kubectl port-forward on 127.0.0.1 reaches the Service from the host
#   logs                kubectl logs returns the reservation pod's output
#   podReplacedSeconds  a deleted reservation pod is replaced by a Ready one (seconds)
# Writes reports/cluster-smoke.json and exits non-zero if any check failed. Bounded: each wait has
# its own timeout and the whole run stops after SMOKE_TIMEOUT seconds (default 900).
#
# SMOKE_APP=auto|reservation|smoke-app chooses the image: auto takes the real reservation service
# once services/reservation/package.json exists, else the stand-in in k8s-tests/cluster-smoke/app.
# SMOKE_KEEP=1 keeps the namespace afterwards. SMOKE_DOWN=auto (default) tears the cluster down at
# the end only if this run brought it up; 1 always, 0 never.
set -euo pipefail
source "$(dirname "$0")/../../hack/cluster/lib.sh"

NAMESPACE=${SMOKE_NAMESPACE:-flashsale-smoke}
SMOKE_TIMEOUT=${SMOKE_TIMEOUT:-900}
HERE="$REPO_ROOT/k8s-tests/cluster-smoke"
REPORT="$REPO_ROOT/reports/cluster-smoke.json"
BUILD="$REPO_ROOT/hack/images/build.sh"

# Results, filled in as the checks run; written on every exit, failed or not.
nodeReady=false podsReady=false dns=false portForward=false logs=false podReplacedSeconds=null
app="" app_image="" errors=() timings=() pf_pid="" sleeper="" was_up=0

write_report() {
  mkdir -p "$(dirname "$REPORT")"
  local errs timing
  errs=$(printf '%s\n' "${errors[@]+"${errors[@]}"}" | jq -R . | jq -s 'map(select(. != ""))')
  timing=$(printf '%s\n' "${timings[@]+"${timings[@]}"}" | jq -R 'select(. != "") | split("=") | {(.[0]): (.[1] | tonumber)}' | jq -s 'add // {}')
  jq -n --argjson nodeReady "$nodeReady" --argjson podsReady "$podsReady" --argjson dns "$dns" \
    --argjson portForward "$portForward" --argjson logs "$logs" \
    --argjson podReplacedSeconds "$podReplacedSeconds" --arg app "$app" --arg image "$app_image" \
    --argjson errors "$errs" --argjson seconds "$timing" --arg k "$KUBERNETES_VERSION" '{
      nodeReady: $nodeReady, podsReady: $podsReady, dns: $dns, portForward: $portForward,
      logs: $logs, podReplacedSeconds: $podReplacedSeconds,
      ok: ($nodeReady and $podsReady and $dns and $portForward and $logs and ($podReplacedSeconds != null)),
      app: $app, image: $image, kubernetes: $k, seconds: $seconds, errors: $errors
    }' >"$REPORT"
}

cleanup() {
  local rc=$?
  ((rc == 0 || ${#errors[@]} > 0)) || errors+=("aborted with exit status $rc: see the output above")
  # (|| true: under set -e a failed last command of an && list would end the cleanup here)
  [[ -z $pf_pid ]] || kill "$pf_pid" 2>/dev/null || true
  [[ -z $sleeper ]] || kill "$sleeper" 2>/dev/null || true
  write_report
  if [[ ${SMOKE_KEEP:-0} != 1 ]] && [[ -f $KUBECONFIG_ADMIN ]]; then
    kubectl_ delete namespace "$NAMESPACE" --wait=false >/dev/null 2>&1 || true
  fi
  local down=${SMOKE_DOWN:-auto}
  if [[ $down == 1 || ($down == auto && $was_up == 0) ]]; then
    "$REPO_ROOT/hack/cluster/down.sh" || rc=1
  fi
  if [[ $(jq -r .ok "$REPORT") == true ]]; then
    log smoke "PASS: $(jq -c 'del(.errors, .seconds)' "$REPORT")"
  else
    log smoke "FAIL: $(jq -c . "$REPORT")"
    ((rc != 0)) || rc=1
  fi
  log smoke "report: $REPORT"
  exit "$rc"
}

fail() {
  errors+=("$*")
  log smoke "check failed: $*"
}

mark() { timings+=("$1=$(elapsed)"); }

# The whole run is bounded: a watchdog ends this script (and so its kubectl children) when the
# budget is spent.
watchdog() {
  local me=$$ deadline=$(($(date +%s) + SMOKE_TIMEOUT))
  (
    while kill -0 "$me" 2>/dev/null; do
      if (($(date +%s) > deadline)); then
        kill -TERM "$me" 2>/dev/null
        exit 0
      fi
      sleep 2
    done
  ) &
  sleeper=$!
}

choose_app() {
  app=${SMOKE_APP:-auto}
  if [[ $app == auto ]]; then
    if [[ -f $REPO_ROOT/services/reservation/package.json ]]; then app=reservation; else app=smoke-app; fi
  fi
  log smoke "application image: $app"
}

render() {
  local migrate=$1
  shift
  # One "---" before each file: documents of consecutive files must not merge.
  awk 'FNR == 1 { print "---" } 1' "$@" | sed -e "s#@NAMESPACE@#$NAMESPACE#g" -e "s#@CLUSTER_DOMAIN@#$CLUSTER_DOMAIN#g" \
    -e "s#@APP_IMAGE@#$app_image#g" -e "s#@POSTGRES_IMAGE@#$("$BUILD" --ref postgres)#g" \
    -e "s#@REDIS_IMAGE@#$("$BUILD" --ref redis)#g" -e "s#@NATS_IMAGE@#$("$BUILD" --ref nats)#g" |
    if ((migrate)); then sed 's/ *# migrate$//'; else sed '/# migrate$/d'; fi
}

# wait_deployments TIMEOUT: prints the namespace's pods every 10 s until every Deployment is available.
wait_deployments() {
  local deadline=$(($(date +%s) + $1)) next=0 want have
  while :; do
    want=$(kubectl_ -n "$NAMESPACE" get deploy -o json | jq '[.items[] | .spec.replicas] | add // 0')
    have=$(kubectl_ -n "$NAMESPACE" get deploy -o json | jq '[.items[] | .status.readyReplicas // 0] | add // 0')
    if ((want > 0 && want == have)); then
      log pods "all $have pods Ready"
      return 0
    fi
    # A container that keeps crashing will not get better by waiting: fail now, with its log.
    local crashing
    crashing=$(kubectl_ -n "$NAMESPACE" get pods -o json | jq -r '.items[] | .metadata.name as $p
      | ((.status.initContainerStatuses // []) + (.status.containerStatuses // []))[]
      | select(.restartCount >= 3 and .state.waiting.reason == "CrashLoopBackOff") | "\($p) \(.name)"' | head -1)
    if [[ -n $crashing ]]; then
      log pods "container ${crashing/ /\/} is crash-looping; its last log:"
      kubectl_ -n "$NAMESPACE" logs --previous "${crashing% *}" -c "${crashing#* }" --tail=20 >&2 || true
      errors+=("crash loop: ${crashing/ /\/}")
      return 1
    fi
    if (($(date +%s) >= next)); then
      log pods "$have/$want Ready: $(kubectl_ -n "$NAMESPACE" get pods --no-headers 2>/dev/null | awk '{printf "%s=%s(%s) ", $1, $3, $2}')"
      next=$(($(date +%s) + 10))
    fi
    if (($(date +%s) > deadline)); then
      kubectl_ -n "$NAMESPACE" get pods -o wide >&2 || true
      kubectl_ -n "$NAMESPACE" get events --sort-by=.lastTimestamp 2>/dev/null | tail -15 >&2 || true
      return 1
    fi
    sleep 2
  done
}

check_dns() {
  kubectl_ -n "$NAMESPACE" delete job dns-probe --ignore-not-found --wait=true >/dev/null
  render 0 "$HERE/dns-probe.yaml" | kubectl_ apply -f - >/dev/null
  if kubectl_ -n "$NAMESPACE" wait --for=condition=complete job/dns-probe --timeout=120s >/dev/null 2>&1; then
    local out
    out=$(kubectl_ -n "$NAMESPACE" logs job/dns-probe --tail=5)
    log dns "probe pod: $out"
    dns=true
  else
    fail "dns: the probe Job did not complete: $(kubectl_ -n "$NAMESPACE" logs job/dns-probe --tail=5 2>&1 | tr '\n' ' ')"
  fi
}

check_port_forward() {
  local port out
  port=$(free_port)
  kubectl_ -n "$NAMESPACE" port-forward --address 127.0.0.1 svc/reservation "$port:80" \
    >"$CLUSTER_LOGS/smoke-port-forward.log" 2>&1 &
  pf_pid=$!
  if wait_for port-forward 30 curl -fsS --max-time 2 "http://127.0.0.1:$port/healthz"; then
    out=$(curl -fsS --max-time 3 "http://127.0.0.1:$port/healthz")
    log port-forward "127.0.0.1:$port -> svc/reservation:80 answered $out"
    portForward=true
  else
    fail "portForward: no answer on 127.0.0.1:$port: $(tail -3 "$CLUSTER_LOGS/smoke-port-forward.log" | tr '\n' ' ')"
  fi
  kill "$pf_pid" 2>/dev/null || true
  wait "$pf_pid" 2>/dev/null || true
  pf_pid=""
}

check_logs() {
  local pod out
  pod=$(kubectl_ -n "$NAMESPACE" get pods -l app.kubernetes.io/name=reservation -o jsonpath='{.items[0].metadata.name}')
  if out=$(kubectl_ -n "$NAMESPACE" logs "$pod" -c reservation --tail=20 2>&1) && [[ -n $out ]]; then
    log logs "kubectl logs $pod: $(wc -l <<<"$out") lines, last: $(tail -1 <<<"$out" | cut -c1-120)"
    logs=true
  else
    fail "logs: kubectl logs $pod returned nothing: $out"
  fi
}

check_replacement() {
  local victim start deadline ready
  victim=$(kubectl_ -n "$NAMESPACE" get pods -l app.kubernetes.io/name=reservation -o jsonpath='{.items[0].metadata.name}')
  start=$(date +%s.%N)
  kubectl_ -n "$NAMESPACE" delete pod "$victim" --wait=false >/dev/null
  log replace "deleted $victim; waiting for a Ready replacement"
  deadline=$(($(date +%s) + 120))
  while (($(date +%s) < deadline)); do
    # Ready pods of the Deployment other than the victim (which may still be terminating).
    ready=$(kubectl_ -n "$NAMESPACE" get pods -l app.kubernetes.io/name=reservation -o json |
      jq --arg v "$victim" '[.items[] | select(.metadata.name != $v and .metadata.deletionTimestamp == null)
        | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length')
    if ((ready >= 2)); then
      podReplacedSeconds=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
      log replace "replacement Ready after ${podReplacedSeconds}s"
      return
    fi
    sleep 0.5
  done
  fail "podReplacedSeconds: no Ready replacement for $victim within 120s"
}

main() {
  trap cleanup EXIT
  trap 'fail "interrupted (SMOKE_TIMEOUT=${SMOKE_TIMEOUT}s?)"; exit 1' TERM INT
  watchdog
  choose_app
  if running kube-apiserver && running kubelet; then was_up=1; fi
  "$REPO_ROOT/hack/cluster/up.sh"
  mark clusterUp
  log images "building and importing postgres redis nats $app"
  "$BUILD" --import postgres redis nats "$app"
  app_image=$("$BUILD" --ref "$app")
  mark images
  local migrate=0
  [[ $app == reservation && -f $REPO_ROOT/services/reservation/dist/migrate.js ]] && migrate=1

  if kubectl_ wait --for=condition=Ready "node/$NODE_NAME" --timeout=60s >/dev/null; then
    nodeReady=true
    log node "$NODE_NAME Ready"
  else
    fail "nodeReady: $(kubectl_ get node "$NODE_NAME" --no-headers 2>&1)"
  fi

  # A clean namespace on every run: nothing from an earlier run is assumed or reused.
  if kubectl_ get namespace "$NAMESPACE" >/dev/null 2>&1; then
    log smoke "removing the namespace of an earlier run"
    kubectl_ delete namespace "$NAMESPACE" --timeout=120s >/dev/null
  fi
  render "$migrate" "$HERE"/manifests/*.yaml | kubectl_ apply -f - >/dev/null
  log deploy "namespace $NAMESPACE: postgres, redis, nats, reservation ($app_image, migrations: $migrate)"
  if wait_deployments 300; then podsReady=true; else fail "podsReady: not all pods Ready within 300s"; fi
  mark podsReady

  if [[ $podsReady == true ]]; then
    check_dns
    check_port_forward
    check_logs
    check_replacement
  fi
  mark finished
}

main "$@"
