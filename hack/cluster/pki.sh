#!/usr/bin/env bash
# hack/cluster/pki.sh: the host cluster's CA, serving and client certificates, service-account keys
# and kubeconfigs, made with openssl (ECDSA P-256: fast, accepted by every component). Called by
# up.sh; makes nothing if the CA already exists. Everything lands in $CLUSTER_PKI and
# $CLUSTER_DIR/*.kubeconfig and is removed by down.sh.
set -euo pipefail
source "$(dirname "$0")/env.sh"

mkdir -p "$CLUSTER_PKI"
chmod 0700 "$CLUSTER_PKI"
cd "$CLUSTER_PKI"
if [[ -s ca.crt && -s $KUBECONFIG_ADMIN ]]; then
  log pki "certificates present in $CLUSTER_PKI"
  exit 0
fi
DAYS=365

key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }

key ca.key
openssl req -x509 -new -key ca.key -sha256 -days "$DAYS" -subj "/CN=flashsale-host-cluster-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
  -out ca.crt 2>/dev/null

# cert NAME SUBJECT USAGE [SAN]: a certificate signed by the CA; USAGE is serverAuth, clientAuth or both.
cert() {
  local name=$1 subj=$2 usage=$3 san=${4:-}
  key "$name.key"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    [[ -n $san ]] && echo "subjectAltName=$san"
  } >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA ca.crt -CAkey ca.key -CAcreateserial -days "$DAYS" -sha256 \
    -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

cert apiserver "/CN=kube-apiserver" serverAuth \
  "IP:$NODE_IP,IP:127.0.0.1,IP:$KUBERNETES_SVC_IP,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.$CLUSTER_DOMAIN"
cert apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" clientAuth
cert kubelet-serving "/O=system:nodes/CN=system:node:$NODE_NAME" serverAuth "IP:$NODE_IP,DNS:$NODE_NAME"
cert admin "/O=system:masters/CN=flashsale-admin" clientAuth
cert controller-manager "/CN=system:kube-controller-manager" clientAuth
cert scheduler "/CN=system:kube-scheduler" clientAuth
cert kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" clientAuth
cert kube-proxy "/CN=system:kube-proxy" clientAuth
# The front proxy: kube-apiserver's identity towards aggregated APIs (metrics-server, ...), from a
# CA of its own as Kubernetes requires.
openssl ecparam -name prime256v1 -genkey -noout -out front-proxy-ca.key 2>/dev/null
openssl req -x509 -new -key front-proxy-ca.key -sha256 -days "$DAYS" -subj "/CN=flashsale-front-proxy-ca" \
  -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" \
  -out front-proxy-ca.crt 2>/dev/null
key front-proxy-client.key
openssl req -new -key front-proxy-client.key -subj "/CN=front-proxy-client" -out front-proxy-client.csr 2>/dev/null
printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=clientAuth\n' >front-proxy-client.ext
openssl x509 -req -in front-proxy-client.csr -CA front-proxy-ca.crt -CAkey front-proxy-ca.key -CAcreateserial \
  -days "$DAYS" -sha256 -extfile front-proxy-client.ext -out front-proxy-client.crt 2>/dev/null
rm -f front-proxy-client.csr front-proxy-client.ext
key sa.key
openssl ec -in sa.key -pubout -out sa.pub 2>/dev/null

# kubeconfig NAME OUT: a kubeconfig with the CA and NAME's client certificate embedded.
kubeconfig() {
  local name=$1 out=$2
  cat >"$out.tmp" <<KC
apiVersion: v1
kind: Config
clusters:
- name: flashsale-host
  cluster:
    server: $APISERVER_URL
    certificate-authority-data: $(base64 -w0 ca.crt)
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 "$name.crt")
    client-key-data: $(base64 -w0 "$name.key")
contexts:
- name: flashsale-host
  context:
    cluster: flashsale-host
    user: $name
current-context: flashsale-host
KC
  chmod 0600 "$out.tmp"
  mv "$out.tmp" "$out"
}
for c in controller-manager scheduler kubelet kube-proxy; do kubeconfig "$c" "$CLUSTER_PKI/$c.kubeconfig"; done
kubeconfig admin "$KUBECONFIG_ADMIN" # last: its presence marks the PKI as complete
log pki "CA, certificates and kubeconfigs written to $CLUSTER_PKI"
