#!/usr/bin/env bash
# hack/cluster/netpol-probe.sh: can a pod with these labels open a TCP connection to HOST:PORT?
# Runs one short-lived pod (a Job, hack/cluster/manifests/netpol-probe.yaml) in NAMESPACE on the host
# cluster and reports what happened, to test NetworkPolicies end to end.
#
#   hack/cluster/netpol-probe.sh [--timeout S] [--image NAME] NAMESPACE HOST PORT [LABELS]
#
#   HOST    a Service name, a DNS name or an IP (a Service name resolves in NAMESPACE)
#   LABELS  the probe pod's labels, k=v[,k=v...] (default: none besides the Job's own)
#   --timeout S   connect timeout in seconds (default 5; SYN retransmits at 1 s and 3 s fall inside it,
#                 which covers a new pod whose IP the enforcer has not seen yet)
#   --image NAME  an image of hack/images/build.sh with bash and coreutils (default redis)
#
# Prints progress on stderr and one JSON line on stdout:
#   {"namespace","host","port","labels","result","reached","ms","detail"}
# result: reached (connected), timeout (no answer: what a NetworkPolicy drop looks like), refused
# (the host answered with a reset: reached the network, nothing listens), error (e.g. unknown name).
# Exit status: 0 reached, 1 timeout, 3 refused, 2 anything else (usage, the pod did not run).
# The pod carries exactly the given labels; it is never Ready and belongs to its Job, so Services
# and ReplicaSets that select those labels leave it alone. The Job is deleted at the end.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

usage() {
  sed -n '6,7p' "$0" | sed 's/^# *//' >&2
  exit 2
}

timeout_s=5 image=redis
while [[ ${1:-} == --* ]]; do
  case $1 in
    --timeout) timeout_s=${2:?--timeout needs seconds} && shift 2 ;;
    --image) image=${2:?--image needs a name} && shift 2 ;;
    *) usage ;;
  esac
done
(($# == 3 || $# == 4)) || usage
ns=$1 host=$2 port=$3 labels=${4:-}
[[ $port =~ ^[0-9]+$ ]] || die "PORT must be a number, got '$port'"
[[ $timeout_s =~ ^[0-9]+$ ]] || die "--timeout must be whole seconds, got '$timeout_s'"
[[ $host =~ ^[A-Za-z0-9.:-]+$ ]] || die "HOST must be a name or an IP, got '$host'"
[[ -f $KUBECONFIG_ADMIN ]] || die "no host cluster ($KUBECONFIG_ADMIN missing): make cluster-up"

# k=v,k=v -> a JSON object (valid YAML) for the template.
labels_json=$(jq -cn --arg l "$labels" '$l | split(",") | map(select(. != "") | split("=")
  | if length == 2 then {(.[0]): .[1]} else error("LABELS must be k=v[,k=v...]") end) | add // {}') ||
  die "LABELS must be k=v[,k=v...], got '$labels'"

name="netpol-probe-$(head -c4 /dev/urandom | od -An -tx1 | tr -d ' \n')"
ref=$("$REPO_ROOT/hack/images/build.sh" --ref "$image") || die "image $image is not built: hack/images/build.sh --import $image"
deadline=$((timeout_s + 60))

cleanup() { kubectl_ -n "$ns" delete job "$name" --ignore-not-found --wait=false >/dev/null 2>&1 || true; }
trap cleanup EXIT
trap 'exit 2' INT TERM

sed -e "s#@NAME@#$name#g" -e "s#@NAMESPACE@#$ns#g" -e "s#@HOST@#$host#g" -e "s#@PORT@#$port#g" \
  -e "s#@TIMEOUT@#$timeout_s#g" -e "s#@DEADLINE@#$deadline#g" -e "s#@IMAGE@#$ref#g" \
  -e "s#@LABELS@#$labels_json#g" "$REPO_ROOT/hack/cluster/manifests/netpol-probe.yaml" |
  kubectl_ apply -f - >/dev/null
log probe "$ns/$name ($labels_json) -> $host:$port, timeout ${timeout_s}s"

# The Job ends either way (complete or failed); its pod's log holds the answer.
out="" t_end=$(($(date +%s) + deadline + 10))
while (($(date +%s) < t_end)); do
  state=$(kubectl_ -n "$ns" get job "$name" -o jsonpath='{.status.succeeded}/{.status.failed}' 2>/dev/null || true)
  if [[ $state == 1/* || $state == */1 ]]; then
    out=$(kubectl_ -n "$ns" logs "job/$name" --tail=1 2>/dev/null || true)
    break
  fi
  sleep 0.5
done
if ! jq -e .result >/dev/null 2>&1 <<<"$out"; then
  kubectl_ -n "$ns" get pods -l "job-name=$name" -o wide >&2 || true
  kubectl_ -n "$ns" get events --field-selector "involvedObject.name=$name" 2>/dev/null | tail -5 >&2 || true
  out='{"result":"error","ms":0,"detail":"the probe pod did not report (see above)"}'
fi
jq -c --arg ns "$ns" --arg host "$host" --argjson port "$port" --argjson labels "$labels_json" \
  '{namespace: $ns, host: $host, port: $port, labels: $labels, result, reached: (.result == "reached"), ms, detail}' <<<"$out"
result=$(jq -r .result <<<"$out")
log probe "$host:$port from ($labels_json): $result"
case $result in
  reached) exit 0 ;;
  timeout) exit 1 ;;
  refused) exit 3 ;;
  *) exit 2 ;;
esac
