#!/usr/bin/env bash
# pki.sh DIR APISERVER_URL: a throwaway CA, serving and client certificates, service-account keys
# and kubeconfigs for the test bed's control plane (valid two days).
set -euo pipefail
source "$(dirname "$0")/../lib/pki.sh"
dir=$1 server=$2
mkdir -p "$dir"
cd "$dir"

pki_ca ca flashsale-testbed-ca 2
pki_cert ca apiserver "/CN=kube-apiserver" serverAuth,clientAuth 2 \
  "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
pki_cert ca apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth 2
pki_cert ca admin "/O=system:masters/CN=testbed-admin" clientAuth 2
pki_cert ca controller-manager "/CN=system:kube-controller-manager" clientAuth 2
pki_cert ca scheduler "/CN=system:kube-scheduler" clientAuth 2
pki_key sa.key
openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null
for c in admin controller-manager scheduler; do pki_kubeconfig "$c" "$c.kubeconfig" "$server" testbed; done
