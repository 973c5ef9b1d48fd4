#!/usr/bin/env bash
# pki.sh DIR: a throwaway CA, serving and client certificates, service-account keys and kubeconfigs
# for the test bed's control plane (ECDSA P-256: fast to make, accepted by every component).
# Usage: pki.sh DIR APISERVER_URL
set -euo pipefail
dir=$1 server=$2
mkdir -p "$dir"
cd "$dir"

key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -sha256 -days 2 -subj "/CN=flashsale-testbed-ca" -out ca.crt 2>/dev/null

# cert NAME SUBJECT [SAN]: a certificate signed by the CA.
cert() {
  local name=$1 subj=$2 san=${3:-}
  key "$name.key"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    if [[ -n $san ]]; then
      echo "extendedKeyUsage=serverAuth,clientAuth"
      echo "subjectAltName=$san"
    else
      echo "extendedKeyUsage=clientAuth"
    fi
  } >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days 2 -sha256 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

cert apiserver "/CN=kube-apiserver" \
  "IP:127.0.0.1,IP:10.96.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client"
cert admin "/O=system:masters/CN=testbed-admin"
cert controller-manager "/CN=system:kube-controller-manager"
cert scheduler "/CN=system:kube-scheduler"
key sa.key
openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null

# kubeconfig NAME: a kubeconfig with the CA and NAME's client certificate embedded.
kubeconfig() {
  local name=$1
  cat >"$name.kubeconfig" <<KC
apiVersion: v1
kind: Config
clusters:
- name: testbed
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 ca.crt)
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 "$name.crt")
    client-key-data: $(base64 -w0 "$name.key")
contexts:
- name: testbed
  context: {cluster: testbed, user: $name}
current-context: testbed
KC
}
kubeconfig admin
kubeconfig controller-manager
kubeconfig scheduler
