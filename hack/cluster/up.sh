#!/usr/bin/env bash
# hack/cluster/up.sh: brings up a real single-node Kubernetes cluster on this Linux host, without
# Docker: containerd + runc + the CNI bridge (Debian packages), etcd, kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet and kube-proxy (hack/tools.sh builds them),
# CoreDNS as a Deployment, and kube-network-policies, which enforces NetworkPolicies (netpol-lib.sh).
# Idempotent: what already runs is left alone, what died is started again. Needs root.
#
# Everything it makes lives in $FLASHSALE_CLUSTER_DIR (default /var/lib/flashsale-cluster) or is
# named after it (bridge flashsale0, iptables chain FLASHSALE-GUARD, cgroups kubepods), and
# hack/cluster/down.sh removes all of it. The kubeconfig is $CLUSTER_DIR/admin.kubeconfig.
#
# Network: pods get 10.244.0.0/24 on the bridge flashsale0 (10.244.0.1 is the node's address and
# the pods' gateway), Services 10.96.0.0/16. Pods cannot reach past this host: the FORWARD chain
# refuses pod traffic that does not stay on the bridge, and nothing is masqueraded out. Images are
# imported, never pulled: containerd runs with a proxy that goes nowhere, so a stray pull fails.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
source "$(dirname "$0")/netpol-lib.sh"

CONF="$CLUSTER_DIR/config"

# write_file PATH: stdin into PATH, only if different. kube-proxy exits when its config file
# changes, so a second `up` must not touch the files of running components.
write_file() {
  local tmp
  tmp=$(mktemp "$1.XXXXXX")
  cat >"$tmp"
  if cmp -s "$tmp" "$1"; then rm -f "$tmp"; else mv "$tmp" "$1"; fi
}

preflight() {
  [[ $(uname -s) == Linux ]] || die "the host cluster needs Linux (use kind elsewhere: make up)"
  [[ $(id -u) == 0 ]] || die "the host cluster needs root (containerd, CNI, iptables, cgroups)"
  local b missing=()
  for b in containerd runc ctr etcd iptables ip conntrack mmdebstrap openssl jq curl; do
    command -v "$b" >/dev/null || missing+=("$b")
  done
  [[ -x $CNI_BIN_DIR/bridge && -x $CNI_BIN_DIR/host-local && -x $CNI_BIN_DIR/loopback ]] ||
    missing+=("CNI plugins in $CNI_BIN_DIR")
  ((${#missing[@]} == 0)) || die "missing: ${missing[*]} (run hack/tools.sh)"
  for b in kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl; do
    [[ -x $KUBE_BIN_DIR/$b ]] || die "$KUBE_BIN_DIR/$b missing: run hack/tools.sh"
  done
  [[ -x $NETPOL_BIN ]] || die "$NETPOL_BIN missing: run hack/tools.sh"
  if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
    log preflight "cgroup v2 host"
  else
    log preflight "cgroup v1 host (kubelet failCgroupV1=false)"
  fi
}

# check_ports: each fixed port is free, or held by our own running component.
check_ports() {
  local pair name port
  for pair in "etcd:$ETCD_CLIENT_PORT" "etcd:$ETCD_PEER_PORT" "kube-apiserver:$APISERVER_PORT" \
    "kube-controller-manager:$CONTROLLER_MANAGER_PORT" "kube-scheduler:$SCHEDULER_PORT" \
    "kubelet:$KUBELET_PORT" "kubelet:$KUBELET_HEALTHZ_PORT" \
    "kube-proxy:$KUBE_PROXY_HEALTHZ_PORT" "kube-proxy:$KUBE_PROXY_METRICS_PORT" \
    "$NETPOL_NAME:$NETPOL_METRICS_PORT"; do
    name=${pair%%:*} port=${pair##*:}
    running "$name" && continue
    if [[ -n $(ss -Hltn "sport = :$port") ]]; then
      die "port $port (for $name) is taken: $(ss -Hltnp "sport = :$port" | head -1) — stop it, or change the ports in hack/cluster/env.sh"
    fi
  done
}

# guard_first: the jump to FLASHSALE-GUARD is rule 1 of FORWARD (kube-proxy prepends its own
# jumps when it starts, so this runs again after it). Insert first, then delete the old copies:
# there is never a moment without the guard.
guard_first() {
  local nums
  nums=$(iptables -w -L FORWARD -n --line-numbers | awk '$2 == "FLASHSALE-GUARD" {print $1}')
  [[ $nums == 1 ]] && return 0
  iptables -w -I FORWARD 1 -j FLASHSALE-GUARD
  local n
  for n in $(sort -rn <<<"$nums"); do iptables -w -D FORWARD $((n + 1)); done
}

# host_network: sysctls, the bridge with the node address, and the guard chain. The previous sysctl
# values are saved once so down.sh can put them back.
host_network() {
  mkdir -p "$CLUSTER_DIR" "$CLUSTER_RUN" "$CLUSTER_LOGS" "$CONF"
  # Host folders that containerd, CNI and the kubelet create outside our state folder (fixed paths
  # in those programs); down.sh removes the ones that did not exist before, once empty.
  if [[ ! -f $CLUSTER_DIR/host-dirs.created ]]; then
    local d
    for d in "${HOST_DIRS[@]}"; do [[ -e $d ]] || echo "$d"; done >"$CLUSTER_DIR/host-dirs.created"
  fi
  if [[ ! -f $CLUSTER_DIR/sysctl.saved ]]; then
    {
      echo "net.ipv4.ip_forward=$(cat /proc/sys/net/ipv4/ip_forward)"
      [[ -f /proc/sys/net/bridge/bridge-nf-call-iptables ]] &&
        echo "net.bridge.bridge-nf-call-iptables=$(cat /proc/sys/net/bridge/bridge-nf-call-iptables)"
    } >"$CLUSTER_DIR/sysctl.saved"
  fi
  [[ -f /proc/sys/net/bridge/bridge-nf-call-iptables ]] || modprobe br_netfilter 2>/dev/null ||
    die "br_netfilter is not available: Service traffic between pods on the bridge would not be translated back"
  sysctl -qw net.ipv4.ip_forward=1 net.bridge.bridge-nf-call-iptables=1
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
  fi
  ip addr show dev "$BRIDGE" | grep -q "inet $NODE_IP/" || ip addr add "$NODE_IP/${POD_CIDR#*/}" dev "$BRIDGE"
  ip link set "$BRIDGE" up
  # Pod traffic that would leave the bridge is refused, not silently dropped: a pod connecting
  # to a Service without endpoints (kube-proxy has not DNATed it) then fails at once, as it does
  # on any cluster, instead of hanging until its TCP timeout.
  if ! iptables -w -S FLASHSALE-GUARD >/dev/null 2>&1; then
    iptables -w -N FLASHSALE-GUARD
    iptables -w -A FLASHSALE-GUARD -i "$BRIDGE" -o "$BRIDGE" -j RETURN
    iptables -w -A FLASHSALE-GUARD -s "$POD_CIDR" -p tcp -j REJECT --reject-with tcp-reset
    iptables -w -A FLASHSALE-GUARD -s "$POD_CIDR" -j REJECT --reject-with icmp-port-unreachable
    iptables -w -A FLASHSALE-GUARD -d "$POD_CIDR" -j DROP
  fi
  guard_first
  log network "bridge $BRIDGE $NODE_IP/${POD_CIDR#*/}, ip_forward on, pod traffic confined to the bridge"
}

write_cni_config() {
  mkdir -p "$CNI_CONF_DIR" "$CLUSTER_DIR/cni/ipam"
  write_file "$CNI_CONF_DIR/10-flashsale.conflist" <<EOF
{
  "cniVersion": "1.0.0",
  "name": "flashsale",
  "plugins": [
    {
      "type": "bridge",
      "bridge": "$BRIDGE",
      "isGateway": true,
      "ipMasq": false,
      "hairpinMode": true,
      "ipam": {
        "type": "host-local",
        "dataDir": "$CLUSTER_DIR/cni/ipam",
        "ranges": [[{ "subnet": "$POD_CIDR", "gateway": "$NODE_IP" }]],
        "routes": [{ "dst": "0.0.0.0/0" }]
      }
    }
  ]
}
EOF
}

start_containerd() {
  write_cni_config
  mkdir -p "$CLUSTER_DIR/containerd" "$CLUSTER_RUN/containerd"
  # The default spec of containerd 1.6 asks for RLIMIT_NOFILE 1024 only, under the host's hard limit.
  write_file "$CONF/containerd.toml" <<EOF
version = 2
root = "$CLUSTER_DIR/containerd/root"
state = "$CLUSTER_RUN/containerd/state"
oom_score = 0
disabled_plugins = ["io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs",
  "io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.devmapper"]

[grpc]
  address = "$CONTAINERD_SOCK"
[ttrpc]
  address = "$CONTAINERD_SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""

[plugins."io.containerd.internal.v1.opt"]
  path = "$CLUSTER_DIR/containerd/opt"

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "docker.io/flashsale/pause:dev"
  # root here lacks CAP_SYS_RESOURCE: never ask runc for an oom_score_adj below containerd's own.
  restrict_oom_score_adj = true
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  max_container_log_line_size = 16384
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
        Root = "$CLUSTER_RUN/runc"
        SystemdCgroup = false
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "$CNI_BIN_DIR"
    conf_dir = "$CNI_CONF_DIR"
    max_conf_num = 1
EOF
  # HTTP(S)_PROXY to a closed loopback port: any image pull attempt fails here instead of leaving the host.
  HTTP_PROXY=http://127.0.0.1:9 HTTPS_PROXY=http://127.0.0.1:9 NO_PROXY='' \
    start containerd "$(command -v containerd)" --config "$CONF/containerd.toml" --log-level warn
  wait_up containerd 30 ctr --address "$CONTAINERD_SOCK" version
}

import_pause() {
  log images "pause (the pod sandbox image) into containerd"
  "$REPO_ROOT/hack/images/build.sh" --import pause
}

start_etcd() {
  mkdir -p "$CLUSTER_DIR/etcd"
  start etcd "$(command -v etcd)" --name flashsale --data-dir "$CLUSTER_DIR/etcd/data" \
    --listen-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --advertise-client-urls "http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "flashsale=http://127.0.0.1:$ETCD_PEER_PORT" \
    --quota-backend-bytes=$((2 * 1024 * 1024 * 1024)) --log-level warn
  wait_up etcd 30 curl -fsS --max-time 2 "http://127.0.0.1:$ETCD_CLIENT_PORT/health"
}

start_apiserver() {
  local p=$CLUSTER_PKI
  start kube-apiserver "$KUBE_BIN_DIR/kube-apiserver" \
    --etcd-servers="http://127.0.0.1:$ETCD_CLIENT_PORT" \
    --bind-address="$NODE_IP" --advertise-address="$NODE_IP" --secure-port="$APISERVER_PORT" \
    --cert-dir="$CLUSTER_DIR/apiserver" \
    --tls-cert-file="$p/apiserver.crt" --tls-private-key-file="$p/apiserver.key" \
    --client-ca-file="$p/ca.crt" \
    --kubelet-client-certificate="$p/apiserver-kubelet-client.crt" \
    --kubelet-client-key="$p/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority="$p/ca.crt" --kubelet-preferred-address-types=InternalIP \
    --service-account-issuer="https://kubernetes.default.svc.$CLUSTER_DOMAIN" \
    --service-account-key-file="$p/sa.pub" --service-account-signing-key-file="$p/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --requestheader-client-ca-file="$p/front-proxy-ca.crt" --requestheader-allowed-names=front-proxy-client \
    --requestheader-username-headers=X-Remote-User --requestheader-group-headers=X-Remote-Group \
    --requestheader-extra-headers-prefix=X-Remote-Extra- \
    --proxy-client-cert-file="$p/front-proxy-client.crt" --proxy-client-key-file="$p/front-proxy-client.key" \
    --authorization-mode=Node,RBAC --enable-admission-plugins=NodeRestriction \
    --allow-privileged=true --profiling=false --v=1
  wait_up kube-apiserver 90 https_ok "$APISERVER_URL/readyz"
}

start_controllers() {
  local p=$CLUSTER_PKI
  start kube-controller-manager "$KUBE_BIN_DIR/kube-controller-manager" \
    --kubeconfig="$p/controller-manager.kubeconfig" \
    --authentication-kubeconfig="$p/controller-manager.kubeconfig" \
    --authorization-kubeconfig="$p/controller-manager.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$CONTROLLER_MANAGER_PORT" \
    --cert-dir="$CLUSTER_DIR/controller-manager" \
    --service-account-private-key-file="$p/sa.key" --root-ca-file="$p/ca.crt" \
    --cluster-signing-cert-file="$p/ca.crt" --cluster-signing-key-file="$p/ca.key" \
    --use-service-account-credentials=true --service-cluster-ip-range="$SERVICE_CIDR" \
    --leader-elect=false --profiling=false --v=1
  start kube-scheduler "$KUBE_BIN_DIR/kube-scheduler" \
    --kubeconfig="$p/scheduler.kubeconfig" \
    --authentication-kubeconfig="$p/scheduler.kubeconfig" \
    --authorization-kubeconfig="$p/scheduler.kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$SCHEDULER_PORT" --cert-dir="$CLUSTER_DIR/scheduler" \
    --leader-elect=false --profiling=false --v=1
  wait_up kube-controller-manager 60 local_https_ok "https://127.0.0.1:$CONTROLLER_MANAGER_PORT/healthz"
  wait_up kube-scheduler 60 local_https_ok "https://127.0.0.1:$SCHEDULER_PORT/healthz"
}

start_kubelet() {
  local p=$CLUSTER_PKI
  mkdir -p "$CLUSTER_DIR/kubelet" "$CLUSTER_DIR/pod-logs"
  write_file "$CONF/kubelet.yaml" <<EOF
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
address: $NODE_IP
port: $KUBELET_PORT
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: $KUBELET_HEALTHZ_PORT
tlsCertFile: $p/kubelet-serving.crt
tlsPrivateKeyFile: $p/kubelet-serving.key
authentication:
  anonymous: {enabled: false}
  webhook: {enabled: true}
  x509: {clientCAFile: $p/ca.crt}
authorization: {mode: Webhook}
containerRuntimeEndpoint: unix://$CONTAINERD_SOCK
cgroupDriver: cgroupfs
failCgroupV1: false
failSwapOn: false
cpuManagerPolicy: none
clusterDomain: $CLUSTER_DOMAIN
clusterDNS: [$DNS_SVC_IP]
# No resolv.conf of the host for pods: with dnsPolicy Default a pod gets no upstream resolver.
resolvConf: ""
podLogsDir: $CLUSTER_DIR/pod-logs
maxPods: 60
podPidsLimit: 4096
maxOpenFiles: 20000
oomScoreAdj: 0
protectKernelDefaults: false
makeIPTablesUtilChains: false
serializeImagePulls: false
rotateCertificates: false
serverTLSBootstrap: false
# Images are imported by our scripts and never pulled again: image GC would delete them for good.
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
# A busy or nearly full build disk must not evict the cluster's pods.
evictionHard: {memory.available: 100Mi, nodefs.available: 1%, nodefs.inodesFree: 1%, imagefs.available: 1%}
evictionPressureTransitionPeriod: 30s
nodeStatusReportFrequency: 10s
nodeStatusUpdateFrequency: 10s
syncFrequency: 10s
shutdownGracePeriod: 0s
EOF
  start kubelet "$KUBE_BIN_DIR/kubelet" --config="$CONF/kubelet.yaml" \
    --kubeconfig="$p/kubelet.kubeconfig" --root-dir="$CLUSTER_DIR/kubelet" \
    --hostname-override="$NODE_NAME" --node-ip="$NODE_IP" --v=1
  wait_up kubelet 90 curl -fsS --max-time 2 "http://127.0.0.1:$KUBELET_HEALTHZ_PORT/healthz"
  wait_up kubelet 60 kubectl_ get node "$NODE_NAME"
}

start_kube_proxy() {
  write_file "$CONF/kube-proxy.yaml" <<EOF
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
clientConnection: {kubeconfig: $CLUSTER_PKI/kube-proxy.kubeconfig}
mode: iptables
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
bindAddress: 127.0.0.1
healthzBindAddress: 127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT
metricsBindAddress: 127.0.0.1:$KUBE_PROXY_METRICS_PORT
# NodePorts answer on the node address only (not on the host's other interfaces).
nodePortAddresses: ["$NODE_IP/32"]
# Leave the host's conntrack table settings alone.
conntrack: {maxPerCore: 0, min: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
iptables: {syncPeriod: 30s, minSyncPeriod: 1s}
EOF
  start kube-proxy "$KUBE_BIN_DIR/kube-proxy" --config="$CONF/kube-proxy.yaml" --v=1
  wait_up kube-proxy 60 curl -fsS --max-time 2 "http://127.0.0.1:$KUBE_PROXY_HEALTHZ_PORT/healthz"
  wait_for kube-proxy-rules 30 iptables -w -C FORWARD -m comment --comment "kubernetes forwarding rules" -j KUBE-FORWARD || true
  guard_first
}

render_coredns() {
  local ref
  ref=$("$REPO_ROOT/hack/images/build.sh" --ref coredns)
  sed -e "s#@COREDNS_IMAGE@#$ref#g" -e "s#@DNS_SVC_IP@#$DNS_SVC_IP#g" \
    -e "s#@CLUSTER_DOMAIN@#$CLUSTER_DOMAIN#g" "$REPO_ROOT/hack/cluster/manifests/coredns.yaml"
}

deploy_coredns() {
  local ref
  "$REPO_ROOT/hack/images/build.sh" --import coredns
  ref=$("$REPO_ROOT/hack/images/build.sh" --ref coredns)
  render_coredns | kubectl_ apply -f - >/dev/null
  log coredns "deployed ($ref); waiting for it to be ready"
  kubectl_ -n kube-system rollout status deployment/coredns --timeout=120s >/dev/null ||
    die "CoreDNS not ready: $(kubectl_ -n kube-system get pods -l k8s-app=kube-dns -o wide 2>&1)"
}

main() {
  local t0
  t0=$(date +%s)
  preflight
  # One up or down at a time (both lock env.sh; the lock goes with the process, no file is left).
  exec 9<"$REPO_ROOT/hack/cluster/env.sh"
  flock -w 600 9 || die "another hack/cluster/up.sh or down.sh holds the lock"
  if running kube-proxy && running kubelet && https_ok "$APISERVER_URL/readyz" 2>/dev/null &&
    kubectl_ -n kube-system rollout status deployment/coredns --timeout=5s >/dev/null 2>&1; then
    # Still re-assert what a newer checkout may have changed (no-ops when nothing did).
    guard_first
    render_coredns | kubectl_ apply -f - >/dev/null
    # The enforcer joins a cluster that is already up (or comes back if it died) without
    # touching any other component.
    netpol_start
    log up "already up; kubeconfig: $KUBECONFIG_ADMIN"
    return
  fi
  check_ports
  host_network
  "$REPO_ROOT/hack/cluster/pki.sh"
  start_containerd
  import_pause
  start_etcd
  start_apiserver
  start_controllers
  start_kubelet
  start_kube_proxy
  wait_for node-ready 120 kubectl_ wait --for=condition=Ready "node/$NODE_NAME" --timeout=5s ||
    die "node not Ready: $(kubectl_ describe node "$NODE_NAME" | tail -30)"
  log node "$NODE_NAME Ready"
  deploy_coredns
  netpol_start
  log up "cluster up in $(($(date +%s) - t0))s"
  log up "kubeconfig: $KUBECONFIG_ADMIN   (export KUBECONFIG=$KUBECONFIG_ADMIN)"
}

main "$@"
