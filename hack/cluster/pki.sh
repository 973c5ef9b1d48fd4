#!/usr/bin/env bash
# hack/cluster/pki.sh: the host cluster's CA, serving and client certificates, service-account keys
# and kubeconfigs, made with openssl (ECDSA P-256: fast, accepted by every component). Called by
# up.sh; makes nothing if the CA already exists. Everything lands in $CLUSTER_PKI and
# $CLUSTER_DIR/*.kubeconfig and is removed by down.sh.
set -euo pipefail
source "$(dirname "$0")/env.sh"
source "$(dirname "$0")/../lib/pki.sh"

mkdir -p "$CLUSTER_PKI"
chmod 0700 "$CLUSTER_PKI"
cd "$CLUSTER_PKI"
if [[ -s ca.crt && -s $KUBECONFIG_ADMIN ]]; then
  log pki "certificates present in $CLUSTER_PKI"
  exit 0
fi
DAYS=365

pki_ca ca flashsale-host-cluster-ca "$DAYS"
pki_cert ca apiserver "/CN=kube-apiserver" serverAuth "$DAYS" \
  "IP:$NODE_IP,IP:127.0.0.1,IP:$KUBERNETES_SVC_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN"
pki_cert ca apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth "$DAYS"
pki_cert ca kubelet-serving "/O=system:nodes/CN=system:node:$NODE_NAME" serverAuth "$DAYS" "IP:$NODE_IP,DNS:$NODE_NAME"
pki_cert ca admin "/O=system:masters/CN=flashsale-admin" clientAuth "$DAYS"
pki_cert ca controller-manager "/CN=system:kube-controller-manager" clientAuth "$DAYS"
pki_cert ca scheduler "/CN=system:kube-scheduler" clientAuth "$DAYS"
pki_cert ca kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth "$DAYS"
pki_cert ca kube-proxy "/CN=system:kube-proxy" clientAuth "$DAYS"
# The front proxy: kube-apiserver's identity towards aggregated APIs (metrics-server, ...), from a
# CA of its own as Kubernetes requires.
pki_ca front-proxy-ca flashsale-front-proxy-ca "$DAYS"
pki_cert front-proxy-ca front-proxy-client "/CN=front-proxy-client" clientAuth "$DAYS"
pki_key sa.key
openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null

for c in controller-manager scheduler kubelet kube-proxy; do
  pki_kubeconfig "$c" "$CLUSTER_PKI/$c.kubeconfig" "$APISERVER_URL" flashsale-host
done
pki_kubeconfig admin "$KUBECONFIG_ADMIN" "$APISERVER_URL" flashsale-host # last: its presence marks the PKI as complete
log pki "CA, certificates and kubeconfigs written to $CLUSTER_PKI"
