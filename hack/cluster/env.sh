# shellcheck shell=bash disable=SC2034 # settings used by the scripts that source this file
# Settings of the host cluster, shared by hack/cluster/*.sh and hack/images/build.sh.
# Every address is on this host: the apiserver and the kubelet listen on the bridge address (pods
# must reach them), everything else on 127.0.0.1. Ports sit in 16xxx so they never clash with a
# default install or with the test stack (which takes random free ports, ≥ 32768 on Linux).
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

CLUSTER_DIR="${FLASHSALE_CLUSTER_DIR:-/var/lib/flashsale-cluster}"
CLUSTER_RUN="$CLUSTER_DIR/run"                 # pid files, sockets
CLUSTER_LOGS="$CLUSTER_DIR/logs"
CLUSTER_PKI="$CLUSTER_DIR/pki"
KUBECONFIG_ADMIN="$CLUSTER_DIR/admin.kubeconfig"
CONTAINERD_SOCK="$CLUSTER_RUN/containerd/containerd.sock"
CNI_CONF_DIR="$CLUSTER_DIR/cni/net.d"
CNI_BIN_DIR="${FLASHSALE_CNI_BIN_DIR:-/usr/lib/cni}"
KUBE_BIN_DIR="$FLASHSALE_BIN/kubernetes-$KUBERNETES_VERSION"

NODE_NAME=flashsale-node
BRIDGE=flashsale0
POD_CIDR=10.244.0.0/24
NODE_IP=10.244.0.1              # the bridge's own address: the pods' gateway and the node address
SERVICE_CIDR=10.96.0.0/16
KUBERNETES_SVC_IP=10.96.0.1
DNS_SVC_IP=10.96.0.10
CLUSTER_DOMAIN=cluster.local

APISERVER_PORT=16443
ETCD_CLIENT_PORT=16379
ETCD_PEER_PORT=16380
KUBELET_PORT=16250
KUBELET_HEALTHZ_PORT=16248
CONTROLLER_MANAGER_PORT=16257
SCHEDULER_PORT=16259
KUBE_PROXY_HEALTHZ_PORT=16256
KUBE_PROXY_METRICS_PORT=16249
NETPOL_METRICS_PORT=16290       # kube-network-policies, the NetworkPolicy enforcer (netpol-lib.sh)
NETPOL_QUEUE_ID=100             # its NFQUEUE number
APISERVER_URL="https://$NODE_IP:$APISERVER_PORT"

# Fixed host paths that containerd 1.6 (shim sockets), libcni (result cache) and the kubelet
# (container log links) use whatever their configuration; deepest first.
HOST_DIRS=(/run/containerd/s /run/containerd /var/lib/cni/results /var/lib/cni /var/log/containers)

# ctr against our containerd, in the namespace the CRI plugin uses.
ctr_k8s() { ctr --address "$CONTAINERD_SOCK" --namespace k8s.io "$@"; }
