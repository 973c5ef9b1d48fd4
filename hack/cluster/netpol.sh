#!/usr/bin/env bash
# hack/cluster/netpol.sh start|stop|status: the host cluster's NetworkPolicy enforcer alone
# (hack/cluster/netpol-lib.sh; up.sh starts it and down.sh stops it with the rest of the cluster).
#   start   adds it to a running cluster, or restarts it if it died; touches nothing else
#   stop    stops it and removes its traces (process, NFQUEUE binding, nftables table, iptables chain);
#           pod traffic then flows unenforced (the queue rule is gone, and it fails open anyway)
#   status  one JSON line {running, pid, queueBound, queueVia, verdicts}; exit 0 only if it runs and
#           is bound to its queue
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/netpol-lib.sh"

status() {
  local pid bound=false via=iptables-nfqueue v
  pid=$(pid_of "$NETPOL_NAME")
  netpol_queued && bound=true
  netpol_native_queue && via=nftables
  v=$(netpol_verdicts)
  jq -cn --arg pid "$pid" --argjson bound "$bound" --arg via "$via" --argjson v "$v" \
    '{running: ($pid != ""), pid: (if $pid == "" then null else ($pid | tonumber) end), queueBound: $bound, queueVia: $via, verdicts: $v}'
  [[ -n $pid && $bound == true ]]
}

[[ $(id -u) == 0 ]] || die "the host cluster needs root"
case ${1:-} in
  start | stop)
    # The same lock as up.sh and down.sh.
    exec 9<"$REPO_ROOT/hack/cluster/env.sh"
    flock -w 600 9 || die "another hack/cluster/up.sh or down.sh holds the lock"
    if [[ $1 == start ]]; then
      https_ok "$APISERVER_URL/readyz" || die "the host cluster is not up: make cluster-up"
      netpol_start
    else
      netpol_stop
    fi
    ;;
  status) status ;;
  *) die "usage: hack/cluster/netpol.sh start|stop|status" ;;
esac
