# shellcheck shell=bash
# PKI helpers shared by the test bed's control plane (hack/testbed/pki.sh) and the host cluster
# (hack/cluster/pki.sh): ECDSA P-256 keys (fast to make, accepted by every component), a CA,
# certificates it signs, and kubeconfigs with everything embedded. All work in the current folder.

# pki_key FILE: a new private key.
pki_key() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; }

# pki_ca NAME CN DAYS: a self-signed CA as NAME.key / NAME.crt.
pki_ca() {
  local name=$1 cn=$2 days=$3
  pki_key "$name.key"
  openssl req -x509 -new -key "$name.key" -sha256 -days "$days" -subj "/CN=$cn" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign,digitalSignature" -out "$name.crt" 2>/dev/null
}

# pki_cert CA NAME SUBJECT USAGE DAYS [SAN]: NAME.key / NAME.crt signed by CA.key / CA.crt; USAGE is
# serverAuth, clientAuth or both (comma separated).
pki_cert() {
  local ca=$1 name=$2 subj=$3 usage=$4 days=$5 san=${6:-}
  pki_key "$name.key"
  openssl req -new -key "$name.key" -subj "$subj" -out "$name.csr" 2>/dev/null
  {
    echo "basicConstraints=CA:FALSE"
    echo "keyUsage=critical,digitalSignature,keyEncipherment"
    echo "extendedKeyUsage=$usage"
    if [[ -n $san ]]; then echo "subjectAltName=$san"; fi
  } >"$name.ext"
  openssl x509 -req -in "$name.csr" -CA "$ca.crt" -CAkey "$ca.key" -CAcreateserial -days "$days" \
    -sha256 -extfile "$name.ext" -out "$name.crt" 2>/dev/null
  rm -f "$name.csr" "$name.ext"
}

# pki_kubeconfig NAME OUT SERVER CLUSTER: a kubeconfig for NAME's client certificate (mode 0600,
# written atomically).
pki_kubeconfig() {
  local name=$1 out=$2 server=$3 cluster=$4
  cat >"$out.tmp" <<KC
apiVersion: v1
kind: Config
clusters:
- name: $cluster
  cluster:
    server: $server
    certificate-authority-data: $(base64 -w0 ca.crt)
users:
- name: $name
  user:
    client-certificate-data: $(base64 -w0 "$name.crt")
    client-key-data: $(base64 -w0 "$name.key")
contexts:
- name: $cluster
  context:
    cluster: $cluster
    user: $name
current-context: $cluster
KC
  chmod 0600 "$out.tmp"
  mv "$out.tmp" "$out"
}
