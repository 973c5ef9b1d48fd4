#!/usr/bin/env bash
# hack/kind/node-image.sh [--print-ref]: builds a kind node image without a registry and imports
# it into the Docker of DOCKER_HOST (`docker import`). Test machinery for a build machine (users
# take kind's published kindest/node). Prints the image reference on stdout; progress on stderr.
#
# What kind's own node image holds, made from the parts this repository already builds:
#   rootfs      Debian (mmdebstrap, the host's apt sources) + systemd, containerd 1.6, runc, the CNI
#               plugins, iptables, conntrack; kind's base files (entrypoint, units) read from kind's
#               Go module at KIND_VERSION; hack/kind/node/ on top (containerd 1.6 config, limits of
#               this host, static bridge CNI instead of kindnetd, storage class without provisioner);
#               hack/docker/runc-shim as containerd's runc; kubeadm, kubelet, kubectl from make tools.
#   preloaded   in the rootfs's /var/lib/containerd (k8s.io namespace), under the names kubeadm
#               expects: kube-apiserver, kube-controller-manager, kube-scheduler, kube-proxy (the
#               binaries of make tools), pause (hack/images/pause), CoreDNS (make tools; tagged with
#               kubeadm's CoreDNS tag), etcd (Debian's etcd-server 3.4, tagged ETCD_TAG: kind's
#               cluster config must set etcd.local.imageTag to it: hack/kind/kind-config.patch.yaml).
# Cached by content: the key hashes every input; an unchanged input set is not rebuilt.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NODE_PKGS="systemd dbus conntrack iptables nftables iproute2 ethtool util-linux mount kmod libseccomp2
 bash ca-certificates curl jq procps containerd runc containernetworking-plugins e2fsprogs"
NODE_PKGS=${NODE_PKGS//$'\n'/}
NODE_REPO=flashsale/kind-node
ETCD_PATCH="$REPO_ROOT/hack/kind/kind-config.patch.yaml" # its etcd imageTag is the tag given to our etcd image

coredns_bin() {
  local p="$FLASHSALE_BIN/coredns-$COREDNS_VERSION"
  [[ -x $p ]] || die "coredns $COREDNS_VERSION not built: run make tools"
  echo "$p"
}

input_key() {
  local b
  for b in kubeadm kubelet kubectl kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
    [[ -x $KUBE_BIN_DIR/$b ]] || die "$b $KUBERNETES_VERSION not built: run make tools"
  done
  {
    echo "$KIND_VERSION $KUBERNETES_VERSION $DEBIAN_SUITE $NODE_PKGS"
    cat "$0" "$REPO_ROOT/hack/kind/lib.sh" "$REPO_ROOT/hack/docker/runc-shim" "$ETCD_PATCH" "$REPO_ROOT/hack/kind/preload-containerd.toml" \
      "$REPO_ROOT"/hack/images/pause/*
    apt_source_files | xargs cat
    (cd "$REPO_ROOT/hack/kind/node" && find . -type f | sort | xargs sha256sum)
    stat -c '%n %s %Y' "$KUBE_BIN_DIR"/* "$(coredns_bin)"
  } | sha256sum | cut -c1-16
}

# component_images DIR: the OCI archives of the control-plane, proxy, pause, etcd and CoreDNS images.
component_images() {
  local dir=$1 list name ref static etcd_tag
  mkdir -p "$dir"
  etcd_tag=$(sed -n 's/^ *imageTag: *//p' "$ETCD_PATCH")
  list=$("$KUBE_BIN_DIR/kubeadm" config images list --kubernetes-version "$KUBERNETES_VERSION" 2>/dev/null) ||
    die "kubeadm config images list failed"
  static=$(static_layer)
  for name in kube-apiserver kube-controller-manager kube-scheduler; do
    ref=$(grep "/$name:" <<<"$list")
    oci_archive "$dir/$name.tar" "$ref" 0 "[\"/usr/local/bin/$name\"]" '[]' \
      "$static" "$(files_layer "$name" "$KUBE_BIN_DIR/$name:/usr/local/bin/$name")"
    log images "$ref"
  done
  # kube-proxy runs iptables, iptables-restore and conntrack: a Debian base with them.
  ref=$(grep "/kube-proxy:" <<<"$list")
  oci_archive "$dir/kube-proxy.tar" "$ref" 0 '["/usr/local/bin/kube-proxy"]' '[]' \
    "$(cached_rootfs_layer kube-proxy-base "iptables conntrack kmod")" \
    "$(files_layer kube-proxy "$KUBE_BIN_DIR/kube-proxy:/usr/local/bin/kube-proxy")"
  log images "$ref"
  ref=$(grep "/pause:" <<<"$list")
  (cd "$REPO_ROOT/hack/images/pause" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go build -trimpath -ldflags='-s -w' -o "$KIND_WORK/pause" .) || die "pause: go build failed"
  oci_archive "$dir/pause.tar" "$ref" 65535:65535 '["/pause"]' '[]' "$(files_layer pause "$KIND_WORK/pause:/pause")"
  log images "$ref"
  echo "$ref" >"$dir/pause.ref"
  # CoreDNS as root: kubeadm's Deployment binds port 53 with NET_BIND_SERVICE, which a non-root
  # user only has through file capabilities (what the upstream image does).
  ref=$(grep "/coredns:" <<<"$list")
  oci_archive "$dir/coredns.tar" "$ref" 0 '["/coredns"]' '[]' "$static" "$(files_layer coredns "$(coredns_bin):/coredns")"
  log images "$ref (CoreDNS $COREDNS_VERSION)"
  ref="registry.k8s.io/etcd:$etcd_tag"
  oci_archive "$dir/etcd.tar" "$ref" 0 '["/usr/bin/etcd"]' '[]' "$(cached_rootfs_layer etcd-base "etcd-server")"
  log images "$ref (Debian etcd-server)"
}

# preload ROOTFS DIR: imports every archive of DIR into ROOTFS/var/lib/containerd with a containerd
# of its own (socket and state in a temporary folder), as kind's node build does with ctr.
preload() {
  local rootfs=$1 dir=$2 tmp a img
  tmp=$(mktemp -d /tmp/flashsale-preload.XXXXXX)
  sed -e "s#@ROOT@#$rootfs#g" -e "s#@TMP@#$tmp#g" "$REPO_ROOT/hack/kind/preload-containerd.toml" >"$tmp/config.toml"
  containerd --config "$tmp/config.toml" >"$KIND_WORK/preload-containerd.log" 2>&1 &
  PRELOAD_PID=$!
  trap 'kill "$PRELOAD_PID" 2>/dev/null || true' EXIT
  local c=(ctr --address "$tmp/containerd.sock" -n k8s.io)
  wait_for preload 30 "${c[@]}" version || die "preload containerd did not start"
  for a in "$dir"/*.tar; do
    "${c[@]}" images import "$a" >/dev/null || die "import of $a failed"
  done
  # Pinned, as kind pins its preloaded images: the kubelet's image GC never removes them.
  for img in $("${c[@]}" images ls -q | grep -v '^sha256:'); do
    "${c[@]}" images label "$img" io.cri-containerd.pinned=pinned >/dev/null
  done
  log preload "$("${c[@]}" images ls -q | grep -vc '^sha256:') images in the node's containerd"
  kill "$PRELOAD_PID" && wait "$PRELOAD_PID" 2>/dev/null || true
  trap - EXIT
  rm -rf "$tmp"
}

# node_rootfs DIR: the node's root file system, ready to pack.
node_rootfs() {
  local root=$1 src files="$REPO_ROOT/hack/kind/node" pause_ref
  src="$(kind_src)/images/base/files"
  rm -rf "$root" && mkdir -p "$root"
  tar --numeric-owner --xattrs --xattrs-include='*' -xf "$(cached_rootfs_layer node-rootfs "$NODE_PKGS")" -C "$root"
  # kind's base image, as its Dockerfile lays it out.
  install -m 0755 "$src"/usr/local/bin/entrypoint "$root/usr/local/bin/entrypoint"
  mkdir -p "$root/kind/bin" "$root/etc/kubernetes/manifests" "$root/LICENSES"
  cp -r "$src"/kind/. "$root/kind/" && chmod 0755 "$root"/kind/bin/*
  cp -r "$src"/etc/. "$root/etc/"
  cp "$src"/LICENSES/* "$root/LICENSES/" 2>/dev/null || true
  # This repository's changes (containerd 1.6 config, the host's limits, CNI, manifests).
  cp -r "$files"/. "$root/"
  pause_ref=$(cat "$KIND_WORK/images/pause.ref")
  sed -i "s#@PAUSE_IMAGE@#$pause_ref#" "$root/etc/containerd/config.toml"
  install -m 0755 "$REPO_ROOT/hack/docker/runc-shim" "$root/usr/local/sbin/flashsale-runc-shim"
  ln -sf /usr/bin/containerd "$root/usr/local/bin/containerd"
  local b
  for b in kubeadm kubelet kubectl; do install -m 0755 "$KUBE_BIN_DIR/$b" "$root/usr/bin/$b"; done
  echo "$KUBERNETES_VERSION" >"$root/kind/version"
  # containerd's base spec: ctr's default, with kind's hook and without rlimits (kind does the same).
  ctr oci spec | jq '.hooks.createContainer += [{"path": "/kind/bin/mount-product-files.sh"}] | del(.process.rlimits)' \
    >"$root/etc/containerd/cri-base.json"
  # systemd as kind's Dockerfile sets it up: only the units a node needs.
  find "$root/lib/systemd/system/sysinit.target.wants/" -name systemd-tmpfiles-setup.service -delete
  rm -f "$root"/lib/systemd/system/multi-user.target.wants/* "$root"/etc/systemd/system/*.wants/* \
    "$root"/lib/systemd/system/local-fs.target.wants/* "$root"/lib/systemd/system/sockets.target.wants/*udev* \
    "$root"/lib/systemd/system/sockets.target.wants/*initctl* "$root"/lib/systemd/system/basic.target.wants/*
  grep -qx "ReadKMsg=no" "$root/etc/systemd/journald.conf" || echo "ReadKMsg=no" >>"$root/etc/systemd/journald.conf"
  ln -sf /usr/lib/systemd/systemd "$root/sbin/init"
  systemctl --root="$root" enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
  systemctl --root="$root" mask systemd-binfmt.service >/dev/null 2>&1
  preload "$root" "$KIND_WORK/images"
}

main() {
  local key ref tar
  key=$(input_key)
  ref="$NODE_REPO:$KUBERNETES_VERSION-$key"
  [[ ${1:-} == --print-ref ]] && { echo "$ref"; return; }
  tar="$KIND_CACHE/node-$key.tar"
  exec 9>"$KIND_CACHE/.node-lock"
  flock -w 1800 9 || die "another node image build holds the lock"
  if [[ -s $tar ]]; then
    log node-image "rootfs cached ($tar)"
  else
    log node-image "building $ref (kind $KIND_VERSION, Kubernetes $KUBERNETES_VERSION)"
    rm -rf "$KIND_WORK/images"
    component_images "$KIND_WORK/images"
    node_rootfs "$KIND_WORK/node-rootfs"
    log node-image "packing the rootfs"
    tar --numeric-owner --xattrs --xattrs-include='*' -C "$KIND_WORK/node-rootfs" -cf "$tar.tmp" .
    mv "$tar.tmp" "$tar"
    rm -rf "$KIND_WORK/node-rootfs"
    # One node image is kept: older ones (~2 GB each) were made from inputs that changed since.
    find "$KIND_CACHE" -maxdepth 1 -name 'node-*.tar' ! -path "$tar" -delete
    log node-image "rootfs $(du -m "$tar" | cut -f1) MB"
  fi
  if docker image inspect "$ref" >/dev/null 2>&1; then
    log node-image "$ref already in Docker"
  else
    log node-image "docker import $ref"
    # kind's image also sets STOPSIGNAL SIGRTMIN+3, which `docker import` cannot; kind removes its
    # nodes with `docker rm -f`, so nothing depends on it.
    docker import --change 'ENV container=docker' \
      --change 'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]' \
      "$tar" "$ref" >/dev/null
  fi
  echo "$ref"
}

main "$@"
