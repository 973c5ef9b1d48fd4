# shellcheck shell=bash
# The host cluster's NetworkPolicy enforcer: kube-network-policies (hack/tools.sh builds it) as a
# host process of the node, like kube-proxy. Sourced by up.sh (netpol_start) and down.sh
# (netpol_stop), after lib.sh. Design and the kernel findings: docs/adr/0016-networkpolicy-enforcer.md.
#
# How it works: the first packet of every pod connection (conntrack state not ESTABLISHED/RELATED)
# is handed to NFQUEUE $NETPOL_QUEUE_ID; the enforcer reads it, evaluates the NetworkPolicies of
# the source pod (egress) and of the destination pod (ingress) and answers accept or drop.
# kube-network-policies installs that queue rule itself with nftables' `queue` statement; kernels
# built without CONFIG_NFT_QUEUE (this host's) refuse it, so here the same rule is installed with
# iptables' NFQUEUE target (xt_NFQUEUE through nft_compat) in the chain FLASHSALE-NETPOL of the
# mangle table, hooked first in POSTROUTING, where upstream's own chain sits.
#
# Fail-open: the rule has --queue-bypass, so while no enforcer listens (stopped, restarting) pod
# traffic flows as on the bare bridge CNI instead of stopping the whole shared cluster. The smoke
# test (make netpol-smoke) proves it is enforcing, not just running.

NETPOL_NAME=kube-network-policies
NETPOL_BIN="$FLASHSALE_BIN/kube-network-policies-$KUBE_NETWORK_POLICIES_VERSION"
NETPOL_DIR="$CLUSTER_DIR/netpol"
NETPOL_CHAIN=FLASHSALE-NETPOL
NETPOL_NFT_TABLE=kube-network-policies # the enforcer's own table (inet), when the kernel takes it

# netpol_native_queue: the kernel accepts nftables' `queue` statement (checked, never applied).
netpol_native_queue() {
  command -v nft >/dev/null && nft --check -f "$REPO_ROOT/hack/cluster/netpol-probe.nft" 2>/dev/null
}

# netpol_queued: the enforcer is bound to its queue (a line of /proc/net/netfilter/nfnetlink_queue
# starts with the queue number).
netpol_queued() {
  awk -v q="$NETPOL_QUEUE_ID" '$1 == q { found = 1 } END { exit !found }' /proc/net/netfilter/nfnetlink_queue 2>/dev/null
}

# netpol_credentials: the enforcer's ServiceAccount, RBAC and token (v0.7.0 reads in-cluster
# credentials only), as the files a pod would see under /var/run/secrets/kubernetes.io/serviceaccount.
netpol_credentials() {
  local sa="$NETPOL_DIR/serviceaccount" token=""
  kubectl_ apply -f "$REPO_ROOT/hack/cluster/manifests/kube-network-policies.yaml" >/dev/null
  local deadline=$(($(date +%s) + 30))
  until [[ -n $token ]]; do
    token=$(kubectl_ -n kube-system get secret kube-network-policies-token -o jsonpath='{.data.token}' 2>/dev/null | base64 -d)
    [[ -n $token ]] || (($(date +%s) < deadline)) || die "$NETPOL_NAME: the token controller did not fill secret kube-system/kube-network-policies-token in 30s"
    [[ -n $token ]] || sleep 0.5
  done
  mkdir -p "$sa"
  chmod 0700 "$NETPOL_DIR"
  printf '%s' "$token" | write_file "$sa/token"
  write_file "$sa/ca.crt" <"$CLUSTER_PKI/ca.crt"
  printf kube-system | write_file "$sa/namespace"
}

# netpol_rules: the rules of $NETPOL_CHAIN, one per line in `iptables -S` form without `-A CHAIN`.
# Established flows pass (only a connection's first packet is judged, as upstream does); so do
# root's own connections from the host (the kubelet's probes), as upstream's `meta skuid 0 accept`.
netpol_rules() {
  echo "-m conntrack --ctstate RELATED,ESTABLISHED -j RETURN"
  echo "-m owner --uid-owner 0 -j RETURN"
  echo "-s $POD_CIDR -j NFQUEUE --queue-num $NETPOL_QUEUE_ID --queue-bypass"
  echo "-d $POD_CIDR -j NFQUEUE --queue-num $NETPOL_QUEUE_ID --queue-bypass"
}

# netpol_iptables: the queue rule through iptables (see the top of this file). The chain is
# rewritten only when its rules differ, and its jump kept as rule 1 of mangle POSTROUTING.
netpol_iptables() {
  local want have rule
  want=$(
    echo "-N $NETPOL_CHAIN"
    netpol_rules | sed "s/^/-A $NETPOL_CHAIN /"
  )
  have=$(iptables -w -t mangle -S "$NETPOL_CHAIN" 2>/dev/null || true)
  if [[ $have != "$want" ]]; then
    iptables -w -t mangle -N "$NETPOL_CHAIN" 2>/dev/null || iptables -w -t mangle -F "$NETPOL_CHAIN"
    while read -r rule; do
      # shellcheck disable=SC2086 # a rule is words
      iptables -w -t mangle -A "$NETPOL_CHAIN" $rule
    done < <(netpol_rules)
  fi
  local nums n
  nums=$(iptables -w -t mangle -L POSTROUTING -n --line-numbers | awk -v c="$NETPOL_CHAIN" '$2 == c {print $1}')
  [[ $nums == 1 ]] && return 0
  iptables -w -t mangle -I POSTROUTING 1 -j "$NETPOL_CHAIN"
  for n in $(sort -rn <<<"$nums"); do iptables -w -t mangle -D POSTROUTING $((n + 1)); done
}

# netpol_iptables_remove: the chain and its jumps, if any.
netpol_iptables_remove() {
  iptables -w -t mangle -S "$NETPOL_CHAIN" >/dev/null 2>&1 || return 0
  while iptables -w -t mangle -D POSTROUTING -j "$NETPOL_CHAIN" 2>/dev/null; do :; done
  iptables -w -t mangle -F "$NETPOL_CHAIN"
  iptables -w -t mangle -X "$NETPOL_CHAIN"
  log "$NETPOL_NAME" "removed iptables chain mangle/$NETPOL_CHAIN"
}

# netpol_start: credentials, the queue rule, and the enforcer process (unless it runs), then waits
# until it is bound to its queue. Idempotent; needs a running API server.
netpol_start() {
  [[ -x $NETPOL_BIN ]] || die "$NETPOL_NAME: $NETPOL_BIN missing: run hack/tools.sh"
  netpol_credentials
  local mode=iptables
  if netpol_native_queue; then
    mode=nftables
    netpol_iptables_remove
  else
    netpol_iptables
  fi
  if running "$NETPOL_NAME"; then
    log "$NETPOL_NAME" "already running (pid $(pid_of "$NETPOL_NAME"), queue $NETPOL_QUEUE_ID via $mode)"
    return
  fi
  mkdir -p "$CLUSTER_RUN" "$CLUSTER_LOGS"
  # In a private mount namespace (the host's network namespace): a tmpfs over /run holds only the
  # service-account folder where client-go's in-cluster config looks for it, so nothing is written
  # to the host's /run. unshare and sh exec, so the pid stays that of the enforcer.
  KUBERNETES_SERVICE_HOST=$NODE_IP KUBERNETES_SERVICE_PORT=$APISERVER_PORT \
    setsid unshare --mount --propagation private -- /bin/sh -c '
      set -e
      mount -t tmpfs -o size=64k,mode=0755 flashsale-netpol /run
      mkdir -p /run/secrets/kubernetes.io/serviceaccount
      mount --bind "$1" /run/secrets/kubernetes.io/serviceaccount
      shift
      exec "$@"' sh "$NETPOL_DIR/serviceaccount" "$NETPOL_BIN" \
    --hostname-override="$NODE_NAME" --nfqueue-id="$NETPOL_QUEUE_ID" \
    --metrics-bind-address="127.0.0.1:$NETPOL_METRICS_PORT" \
    --netfilter-bug-1766-fix=false --logging-format=json --v=0 \
    </dev/null 9<&- >>"$CLUSTER_LOGS/$NETPOL_NAME.log" 2>&1 &
  echo "$! $(readlink -f "$NETPOL_BIN")" >"$CLUSTER_RUN/$NETPOL_NAME.pid"
  log "$NETPOL_NAME" "started (pid $!, queue $NETPOL_QUEUE_ID via $mode, log $CLUSTER_LOGS/$NETPOL_NAME.log)"
  wait_up "$NETPOL_NAME" 60 netpol_queued
  log "$NETPOL_NAME" "bound to NFQUEUE $NETPOL_QUEUE_ID: NetworkPolicies are enforced"
}

# netpol_stop: the process (SIGINT: v0.7.0 cleans its nftables table on SIGINT only), its nftables
# table if the kernel took one, and the iptables chain. Safe when nothing runs.
netpol_stop() {
  local pid
  pid=$(pid_of "$NETPOL_NAME")
  if [[ -n $pid ]]; then
    kill -INT "$pid" 2>/dev/null || true
    # It sleeps 5 s after the signal before exiting (upstream's grace period for its cleanup).
    local deadline=$(($(date +%s) + 10))
    while [[ -d /proc/$pid ]] && (($(date +%s) < deadline)); do sleep 0.2; done
  fi
  stop "$NETPOL_NAME"
  if command -v nft >/dev/null && nft list table inet "$NETPOL_NFT_TABLE" >/dev/null 2>&1; then
    nft delete table inet "$NETPOL_NFT_TABLE"
    log "$NETPOL_NAME" "removed nftables table inet $NETPOL_NFT_TABLE"
  fi
  netpol_iptables_remove
}
