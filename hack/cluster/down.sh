#!/usr/bin/env bash
# hack/cluster/down.sh: tears the host cluster down and leaves nothing behind: no process, no
# mount (overlay snapshots, pod volumes, sandbox /dev/shm, network namespaces), no veth, no bridge,
# no KUBE-*/CNI-*/FLASHSALE-* iptables chain, no NetworkPolicy enforcer (process, NFQUEUE binding,
# nftables table), no kubepods cgroup, no state folder; the sysctls
# up.sh changed get their old values back. Safe to run when nothing is up, and to run twice.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/netpol-lib.sh"

[[ $(id -u) == 0 ]] || die "the host cluster needs root"

# netns_of_sandboxes: the network namespaces containerd made for our pods (read from the sandbox
# containers' specs, so namespaces of anything else on the host are never touched).
netns_of_sandboxes() {
  [[ -S $CONTAINERD_SOCK ]] || return 0
  local c
  for c in $(ctr_k8s containers ls -q 2>/dev/null); do
    ctr_k8s containers info "$c" 2>/dev/null |
      jq -r '.Spec.linux.namespaces[]? | select(.type == "network") | .path // empty' 2>/dev/null
  done | sort -u
}

# netns_of_bridge: the namespaces at the other end of the bridge's veths (a second source, for
# when containerd is gone and the sandbox specs cannot be read).
netns_of_bridge() {
  ip link show "$BRIDGE" >/dev/null 2>&1 || return 0
  local l
  for l in $(ip -o link show master "$BRIDGE" | awk -F': ' '{print $2}' | cut -d@ -f1); do
    ip -o link show "$l" | grep -o 'link-netns [^ ]*' | awk '{print "/run/netns/" $2}'
  done
}

# kill_pod_processes: whatever still runs in the kubepods cgroups (containers whose containerd or
# shim died before they could be stopped) gets SIGKILL.
kill_pod_processes() {
  local pids n=0 p deadline
  pids=$( (find /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods -name cgroup.procs -exec cat {} + 2>/dev/null || true) | sort -u)
  for p in $pids; do kill -KILL "$p" 2>/dev/null && n=$((n + 1)); done
  ((n == 0)) && return 0
  deadline=$(($(date +%s) + 10))
  for p in $pids; do while [[ -d /proc/$p ]] && (($(date +%s) < deadline)); do sleep 0.2; done; done
  log containers "killed $n leftover pod processes"
}

stop_workloads() {
  [[ -S $CONTAINERD_SOCK ]] && running containerd || return 0
  local t n=0
  for t in $(ctr_k8s tasks ls -q 2>/dev/null); do
    ctr_k8s tasks kill --signal SIGKILL "$t" >/dev/null 2>&1 || true
    n=$((n + 1))
  done
  sleep 1
  for t in $(ctr_k8s tasks ls -q 2>/dev/null); do ctr_k8s tasks delete --force "$t" >/dev/null 2>&1 || true; done
  for t in $(ctr_k8s containers ls -q 2>/dev/null); do ctr_k8s containers delete "$t" >/dev/null 2>&1 || true; done
  log containers "killed $n container tasks"
}

# unmount_under DIR: lazily unmounts every mount point below DIR, deepest first.
unmount_under() {
  local dir=$1 m n=0
  for m in $(awk -v d="$dir" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r); do
    umount -l "$m" 2>/dev/null && n=$((n + 1))
  done
  ((n == 0)) || log mounts "unmounted $n below $dir"
}

remove_netns() {
  local ns n=0
  for ns in "$@"; do
    [[ -n $ns && -e $ns ]] || continue
    umount -l "$ns" 2>/dev/null || true
    rm -f "$ns" && n=$((n + 1))
  done
  ((n == 0)) || log network "removed $n pod network namespaces"
}

remove_links() {
  local l n=0
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    for l in $(ip -o link show master "$BRIDGE" | awk -F': ' '{print $2}' | cut -d@ -f1); do
      ip link delete "$l" 2>/dev/null && n=$((n + 1))
    done
    ip link delete "$BRIDGE"
    log network "removed bridge $BRIDGE and $n veths"
  fi
}

# remove_chains REGEX: in every table, removes the chains whose name matches REGEX and every rule
# in or jumping to them, by rewriting the table's iptables-save text (quotes in comments survive).
remove_chains() {
  local regex=$1 table
  for table in filter nat mangle raw; do
    iptables-save -t "$table" 2>/dev/null | grep -Eq "^:($regex)" || continue
    iptables-save -t "$table" | python3 -c '
import re, sys
pat = re.compile(sys.argv[1])
for line in sys.stdin:
    w = line.split()
    if line.startswith(":") and pat.match(w[0][1:]):
        continue
    if line.startswith("-A") and (pat.match(w[1]) or ("-j" in w and pat.match(w[w.index("-j") + 1]))):
        continue
    sys.stdout.write(line)
' "$regex" | iptables-restore -w -T "$table"
  done
}

remove_cgroups() {
  local root d n=0
  for root in /sys/fs/cgroup/*/kubepods /sys/fs/cgroup/kubepods /sys/fs/cgroup/*/kubepods.slice; do
    [[ -d $root ]] || continue
    # Deepest first: a cgroup directory can only be removed once it has no children.
    while read -r d; do rmdir "$d" 2>/dev/null && n=$((n + 1)) || true; done < <(find "$root" -depth -type d)
  done
  ((n == 0)) || log cgroups "removed $n kubepods cgroups"
}

restore_sysctls() {
  [[ -f $CLUSTER_DIR/sysctl.saved ]] || return 0
  local kv
  while read -r kv; do sysctl -qw "$kv" || true; done <"$CLUSTER_DIR/sysctl.saved"
  log network "sysctls restored ($(tr '\n' ' ' <"$CLUSTER_DIR/sysctl.saved"))"
}

main() {
  local t0 netns
  t0=$(date +%s)
  exec 9<"$REPO_ROOT/hack/cluster/env.sh"
  flock -w 600 9 || die "another hack/cluster/up.sh or down.sh holds the lock"
  if [[ ! -d $CLUSTER_DIR ]] && ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    log down "nothing to remove (no $CLUSTER_DIR)"
    return
  fi
  # Control loops first, so nothing restarts what is being removed.
  stop kube-controller-manager
  stop kube-scheduler
  stop kubelet
  netns=$( (netns_of_sandboxes; netns_of_bridge) | sort -u)
  # Container and sandbox ids, from containerd if it still runs and from its folders if not: they
  # name the shim sockets and the CNI cache entries that live outside our state folder.
  local ids
  ids=$({
    [[ -S $CONTAINERD_SOCK ]] && running containerd && ctr_k8s containers ls -q 2>/dev/null
    ls "$CLUSTER_RUN/containerd/state/io.containerd.runtime.v2.task/k8s.io" 2>/dev/null
    ls "$CLUSTER_DIR/containerd/root/io.containerd.grpc.v1.cri/sandboxes" 2>/dev/null
    ls "$CLUSTER_DIR/containerd/root/io.containerd.grpc.v1.cri/containers" 2>/dev/null
  } | sort -u || true)
  stop_workloads
  netpol_stop
  stop kube-proxy
  stop kube-apiserver
  stop etcd
  stop containerd 20
  # Shims outlive containerd when it is killed: end those of our state folder.
  local p
  for p in $(pgrep -f "containerd-shim-runc-v2 .*-address $CONTAINERD_SOCK" || true); do kill -KILL "$p" 2>/dev/null || true; done
  kill_pod_processes
  # shellcheck disable=SC2086 # one path per word
  remove_netns $netns
  unmount_under "$CLUSTER_RUN"
  unmount_under "$CLUSTER_DIR"
  remove_links
  if [[ -x $KUBE_BIN_DIR/kube-proxy ]]; then
    "$KUBE_BIN_DIR/kube-proxy" --cleanup >/dev/null 2>&1 || true
  fi
  remove_chains 'KUBE-|CNI-|FLASHSALE-'
  log iptables "KUBE-*, CNI-* and FLASHSALE-* chains removed"
  remove_cgroups
  restore_sysctls
  # CNI's cache of our network, and the container log links the kubelet made for our pods.
  rm -f /var/lib/cni/results/flashsale-* 2>/dev/null || true
  local id
  for id in $ids; do
    rm -f /var/lib/cni/results/cni-loopback-"$id"-* 2>/dev/null || true
    # containerd 1.6 puts shim sockets at /run/containerd/s/sha256(<address>/<namespace>/<id>),
    # whatever its state folder; a killed shim leaves its socket behind.
    rm -f "/run/containerd/s/$(printf '%s' "$CONTAINERD_SOCK/k8s.io/$id" | sha256sum | cut -c1-64)"
  done
  find /var/log/containers -maxdepth 1 -type l -lname "$CLUSTER_DIR/*" -delete 2>/dev/null || true
  if [[ -f $CLUSTER_DIR/host-dirs.created ]]; then
    local d
    while read -r d; do rmdir "$d" 2>/dev/null || true; done <"$CLUSTER_DIR/host-dirs.created"
  fi
  rm -rf "$CLUSTER_DIR"
  log down "host cluster removed in $(($(date +%s) - t0))s"
}

main "$@"
