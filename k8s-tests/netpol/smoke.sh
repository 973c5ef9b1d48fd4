#!/usr/bin/env bash
# k8s-tests/netpol/smoke.sh (make netpol-smoke): proves that the host cluster enforces
# NetworkPolicies. In a fresh namespace np-smoke-<random> (Pod Security level restricted) it deploys
# a Redis server, then probes it with hack/cluster/netpol-probe.sh from a pod labelled role=allowed
# and from one labelled role=other:
#   baselineReached  without any policy, both connect (so the checks below can fail)
#   allowedReached   with default-deny + allow-from-role=allowed, the allowed pod connects
#   deniedBlocked    ... and the other one times out, through the Service and to the pod's IP
#   liftedReached    with the policies deleted, the other one connects again
# enforced = all four. Writes reports/netpol-smoke.json and exits non-zero unless enforced. The
# namespace is deleted at the end, also when interrupted; the whole run is bounded by
# NETPOL_SMOKE_TIMEOUT seconds (default 300). The cluster is brought up (idempotently) if needed,
# and left up.
set -euo pipefail
source "$(dirname "$0")/../../hack/cluster/lib.sh"
source "$REPO_ROOT/hack/cluster/netpol-lib.sh"

HERE="$REPO_ROOT/k8s-tests/netpol"
PROBE="$REPO_ROOT/hack/cluster/netpol-probe.sh"
BUILD="$REPO_ROOT/hack/images/build.sh"
REPORT="$REPO_ROOT/reports/netpol-smoke.json"
TIMEOUT=${NETPOL_SMOKE_TIMEOUT:-300}
NAMESPACE="np-smoke-$(head -c3 /dev/urandom | od -An -tx1 | tr -d ' \n')"

baselineReached=false allowedReached=false deniedBlocked=false liftedReached=false
mode="" probes=() errors=() sleeper=""

write_report() {
  mkdir -p "$(dirname "$REPORT")"
  local p e
  p=$(printf '%s\n' "${probes[@]+"${probes[@]}"}" | jq -s -c 'map(select(. != null))' 2>/dev/null || echo '[]')
  e=$(printf '%s\n' "${errors[@]+"${errors[@]}"}" | jq -R . | jq -s -c 'map(select(. != ""))')
  jq -n --argjson b "$baselineReached" --argjson a "$allowedReached" --argjson d "$deniedBlocked" \
    --argjson l "$liftedReached" --arg ns "$NAMESPACE" --arg mode "$mode" \
    --arg enforcer "kube-network-policies $KUBE_NETWORK_POLICIES_VERSION" --argjson probes "$p" \
    --argjson errors "$e" --argjson seconds "$(elapsed)" '{
      enforced: ($b and $a and $d and $l), baselineReached: $b, allowedReached: $a,
      deniedBlocked: $d, liftedReached: $l, enforcer: $enforcer, queueVia: $mode,
      namespace: $ns, seconds: $seconds, probes: $probes, errors: $errors
    }' >"$REPORT"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -z $sleeper ]] || kill "$sleeper" 2>/dev/null || true
  ((rc == 0 || ${#errors[@]} > 0)) || errors+=("aborted with exit status $rc: see the output above")
  write_report
  if [[ -f $KUBECONFIG_ADMIN ]]; then
    log cleanup "deleting namespace $NAMESPACE"
    kubectl_ delete namespace "$NAMESPACE" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  fi
  if [[ $(jq -r .enforced "$REPORT") == true ]]; then
    log netpol "PASS: $(jq -c 'del(.probes, .errors)' "$REPORT")"
  else
    log netpol "FAIL: $(jq -c 'del(.probes)' "$REPORT")"
    ((rc != 0)) || rc=1
  fi
  log netpol "report: $REPORT"
  exit "$rc"
}

fail() {
  errors+=("$*")
  log netpol "check failed: $*"
}

# watchdog: ends this script (and so its kubectl children) when the time budget is spent.
watchdog() {
  local me=$$ deadline=$(($(date +%s) + TIMEOUT))
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

render() {
  sed -e "s#@NAMESPACE@#$NAMESPACE#g" -e "s#@REDIS_IMAGE@#$("$BUILD" --ref redis)#g" "$@"
}

# probe STEP HOST LABELS: one netpol-probe.sh run; records its JSON and prints its result word.
probe() {
  local step=$1 host=$2 labels=$3 out
  out=$("$PROBE" "$NAMESPACE" "$host" 6379 "$labels") || true
  [[ -n $out ]] || out='{"result":"error"}'
  probes+=("$(jq -c --arg s "$step" '{step: $s} + .' <<<"$out")")
  jq -r .result <<<"$out"
}

main() {
  trap cleanup EXIT
  trap 'fail "interrupted or out of time (NETPOL_SMOKE_TIMEOUT=${TIMEOUT}s)"; exit 1' INT TERM
  watchdog
  log netpol "host cluster (idempotent up; adds the enforcer if it is missing)"
  "$REPO_ROOT/hack/cluster/up.sh"
  if netpol_native_queue; then mode=nftables; else mode=iptables-nfqueue; fi
  running "$NETPOL_NAME" && netpol_queued || {
    fail "the enforcer is not running or not bound to NFQUEUE $NETPOL_QUEUE_ID"
    exit 1
  }
  log netpol "enforcer $NETPOL_NAME pid $(pid_of "$NETPOL_NAME"), queue $NETPOL_QUEUE_ID via $mode"
  "$BUILD" --import redis

  kubectl_ create namespace "$NAMESPACE" >/dev/null
  kubectl_ label namespace "$NAMESPACE" pod-security.kubernetes.io/enforce=restricted >/dev/null
  render "$HERE/server.yaml" | kubectl_ apply -f - >/dev/null
  log deploy "namespace $NAMESPACE: Redis server; waiting for it to be Ready"
  kubectl_ -n "$NAMESPACE" rollout status deployment/server --timeout=120s >/dev/null || {
    kubectl_ -n "$NAMESPACE" get pods -o wide >&2 || true
    fail "the server did not become Ready within 120s"
    exit 1
  }
  local pod_ip
  pod_ip=$(kubectl_ -n "$NAMESPACE" get pods -l app.kubernetes.io/name=np-server -o jsonpath='{.items[0].status.podIP}')
  log deploy "server Ready at $pod_ip"

  local a o
  log step "1/3 no policy: both clients must connect"
  a=$(probe baseline-allowed server role=allowed)
  o=$(probe baseline-other server role=other)
  if [[ $a == reached && $o == reached ]]; then baselineReached=true; else fail "baseline: allowed=$a other=$o (want reached, reached)"; fi

  log step "2/3 default-deny + allow from role=allowed"
  render "$HERE/policies.yaml" | kubectl_ apply -f - >/dev/null
  a=$(probe policy-allowed server role=allowed)
  o=$(probe policy-other server role=other)
  local o_ip
  o_ip=$(probe policy-other-pod-ip "$pod_ip" role=other)
  if [[ $a == reached ]]; then allowedReached=true; else fail "policy: allowed client got $a (want reached)"; fi
  if [[ $o == timeout && $o_ip == timeout ]]; then
    deniedBlocked=true
  else
    fail "policy: other client got $o via the Service and $o_ip via the pod IP (want timeout, timeout)"
  fi

  log step "3/3 policies deleted: the other client must connect again"
  kubectl_ -n "$NAMESPACE" delete networkpolicy --all >/dev/null
  o=$(probe lifted-other server role=other)
  if [[ $o == reached ]]; then liftedReached=true; else fail "lifted: other client got $o (want reached)"; fi
}

main "$@"
