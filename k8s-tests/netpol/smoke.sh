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
# NETPOL_SMOKE_TIMEOUT seconds (default 300). The cluster is brought up (idempotently) if needed;
# NETPOL_SMOKE_DOWN=auto (default) tears it down at the end only if this run brought it up, 1
# always, 0 never (as make cluster-smoke's SMOKE_DOWN).
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
mode="" errors=() sleeper="" verdicts0="{}" was_up=0 probe_pid="" result=""
PROBES=$(mktemp) # one JSON line per probe (probe() runs in a subshell: an array would not survive)

write_report() {
  mkdir -p "$(dirname "$REPORT")"
  local p e v
  p=$(jq -s -c . "$PROBES" 2>/dev/null || echo '[]')
  v=$(netpol_verdicts)
  e=$(printf '%s\n' "${errors[@]+"${errors[@]}"}" | jq -R . | jq -s -c 'map(select(. != ""))')
  jq -n --argjson b "$baselineReached" --argjson a "$allowedReached" --argjson d "$deniedBlocked" \
    --argjson l "$liftedReached" --arg ns "$NAMESPACE" --arg mode "$mode" \
    --arg enforcer "kube-network-policies $KUBE_NETWORK_POLICIES_VERSION" --argjson probes "$p" \
    --argjson errors "$e" --argjson seconds "$(elapsed)" --argjson v0 "$verdicts0" --argjson v1 "$v" '{
      enforced: ($b and $a and $d and $l), baselineReached: $b, allowedReached: $a,
      deniedBlocked: $d, liftedReached: $l, enforcer: $enforcer, queueVia: $mode,
      verdictsDuringRun: ($v1 | with_entries(.value -= ($v0[.key] // 0))),
      namespace: $ns, seconds: $seconds, probes: $probes, errors: $errors
    }' >"$REPORT"
  rm -f "$PROBES" "$PROBES.out"
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  [[ -z $sleeper ]] || kill "$sleeper" 2>/dev/null || true
  # An interrupted probe deletes its own Job on TERM; wait for it, briefly.
  if [[ -n $probe_pid ]]; then
    kill -TERM "$probe_pid" 2>/dev/null || true
    wait "$probe_pid" 2>/dev/null || true
  fi
  ((rc == 0 || ${#errors[@]} > 0)) || errors+=("aborted with exit status $rc: see the output above")
  write_report
  if [[ -f $KUBECONFIG_ADMIN ]]; then
    log cleanup "deleting namespace $NAMESPACE"
    kubectl_ delete namespace "$NAMESPACE" --ignore-not-found --wait=false >/dev/null 2>&1 || true
  fi
  local down=${NETPOL_SMOKE_DOWN:-auto}
  if [[ $down == 1 || ($down == auto && $was_up == 0) ]]; then
    "$REPO_ROOT/hack/cluster/down.sh" || rc=1
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

# probe STEP HOST LABELS: one netpol-probe.sh run; records its JSON and sets $result to its result
# word. The probe runs in the background and is waited for, so that a signal is handled at once.
probe() {
  local step=$1 host=$2 labels=$3 out
  "$PROBE" "$NAMESPACE" "$host" 6379 "$labels" >"$PROBES.out" &
  probe_pid=$!
  wait "$probe_pid" || true
  probe_pid=""
  out=$(cat "$PROBES.out")
  [[ -n $out ]] || out='{"result":"error"}'
  jq -c --arg s "$step" '{step: $s} + .' <<<"$out" >>"$PROBES"
  result=$(jq -r .result <<<"$out")
}

# probe_reach STEP HOST LABELS: probe(), again while the answer is "refused". Right after a pod is
# Ready, kube-proxy may not have programmed its Service yet, and a connection to a Service without
# endpoints is refused. Only the policy-free baseline uses it, and only a refusal is retried (at most
# 5 attempts, 2 s apart): a timeout, which is what a dropping policy gives, is never retried.
probe_reach() {
  local i
  for i in 1 2 3 4 5; do
    probe "$@"
    [[ $result == refused && $i -lt 5 ]] || return 0
    log probe "refused (attempt $i of 5): the Service may not be programmed yet; again in 2s"
    sleep 2
  done
}

main() {
  trap cleanup EXIT
  trap 'fail "interrupted or out of time (NETPOL_SMOKE_TIMEOUT=${TIMEOUT}s)"; exit 1' INT TERM
  watchdog
  if running kube-apiserver && running kubelet; then was_up=1; fi
  log netpol "host cluster (idempotent up; adds the enforcer if it is missing)"
  "$REPO_ROOT/hack/cluster/up.sh"
  if netpol_native_queue; then mode=nftables; else mode=iptables-nfqueue; fi
  running "$NETPOL_NAME" && netpol_queued || {
    fail "the enforcer is not running or not bound to NFQUEUE $NETPOL_QUEUE_ID"
    exit 1
  }
  verdicts0=$(netpol_verdicts)
  log netpol "enforcer $NETPOL_NAME pid $(pid_of "$NETPOL_NAME"), queue $NETPOL_QUEUE_ID via $mode, verdicts so far $verdicts0"
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
  probe_reach baseline-allowed server role=allowed && a=$result
  probe_reach baseline-other server role=other && o=$result
  if [[ $a == reached && $o == reached ]]; then baselineReached=true; else fail "baseline: allowed=$a other=$o (want reached, reached)"; fi

  log step "2/3 default-deny + allow from role=allowed"
  render "$HERE/policies.yaml" | kubectl_ apply -f - >/dev/null
  probe policy-allowed server role=allowed && a=$result
  probe policy-other server role=other && o=$result
  local o_ip
  probe policy-other-pod-ip "$pod_ip" role=other && o_ip=$result
  if [[ $a == reached ]]; then allowedReached=true; else fail "policy: allowed client got $a (want reached)"; fi
  if [[ $o == timeout && $o_ip == timeout ]]; then
    deniedBlocked=true
  else
    fail "policy: other client got $o via the Service and $o_ip via the pod IP (want timeout, timeout)"
  fi

  log step "3/3 policies deleted: the other client must connect again"
  kubectl_ -n "$NAMESPACE" delete networkpolicy --all >/dev/null
  probe lifted-other server role=other && o=$result
  if [[ $o == reached ]]; then liftedReached=true; else fail "lifted: other client got $o (want reached)"; fi
}

main "$@"
