#!/usr/bin/env bash
# make tools: installs everything the tests need, idempotently, one progress line per tool.
#   - Debian packages (servers, chromium, containerd/runc/CNI, image building tools);
#   - Go-built binaries, cached under ~/.cache/flashsale/bin/<tool>-<version> so a machine builds
#     them once: Kubernetes (one `go build` through a wrapper module), helm, k6, CoreDNS, nats-server,
#     kube-network-policies (the host cluster's NetworkPolicy enforcer), and the chart tests'
#     helm-unittest (wrapper module too), chart-testing, kubeconform, kube-score; kind.
# Usage: hack/tools.sh
set -euo pipefail
source "$(dirname "$0")/lib/common.sh"

KUBE_BINS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl kubeadm)

APT_PACKAGES=(
  postgresql redis-server prometheus etcd-server etcd-client chromium
  containerd runc containernetworking-plugins mmdebstrap iptables iproute2 conntrack socat
  openssl jq python3 curl ca-certificates shellcheck nftables yamllint git python3-venv
)

apt_tools() {
  local missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  if ((${#missing[@]} == 0)); then
    log apt "all ${#APT_PACKAGES[@]} Debian packages present"
    return
  fi
  [[ $(id -u) == 0 ]] || die "missing Debian packages (${missing[*]}); run as root or install them"
  log apt "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  # Debian's postgresql/redis packages try to start system services; we run our own instances.
  apt-get install -y -q --no-install-recommends "${missing[@]}" >"$FLASHSALE_CACHE/apt.log" 2>&1 ||
    die "apt-get install failed; see $FLASHSALE_CACHE/apt.log"
  log apt "installed ${#missing[@]} packages"
}

# with_ticker NAME LOGFILE CMD...: runs CMD with output to LOGFILE and prints a progress line every
# 30 s (how long, and how many lines -v output so far, which for go build is packages compiled).
with_ticker() {
  local name=$1 logfile=$2
  shift 2
  "$@" >"$logfile" 2>&1 &
  local pid=$! start
  start=$(date +%s)
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    if (((($(date +%s) - start) % 30) < 5)) && kill -0 "$pid" 2>/dev/null; then
      log "$name" "building... $(($(date +%s) - start))s, $(wc -l <"$logfile") packages so far"
    fi
  done
  wait "$pid" || {
    tail -30 "$logfile" >&2
    die "$name build failed; full log: $logfile"
  }
}

go_env() {
  command -v go >/dev/null || die "Go is required to build the tools (https://go.dev/dl/)"
  export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
}

# go_tool NAME VERSION PACKAGE: go install PACKAGE@VERSION into the cache.
go_tool() {
  local name=$1 version=$2 pkg=$3
  local out="$FLASHSALE_BIN/$name-$version"
  if [[ -x $out ]]; then
    log "$name" "cached $version"
    return
  fi
  go_env
  local gobin
  gobin=$(mktemp -d)
  log "$name" "building $version from $pkg"
  local t
  t=$(date +%s)
  with_ticker "$name" "$FLASHSALE_CACHE/build-$name.log" \
    env GOBIN="$gobin" go install -v -trimpath -ldflags='-s -w' "$pkg@$version"
  mv "$gobin"/* "$out.tmp" # go install wrote exactly one binary
  mv "$out.tmp" "$out"
  rm -rf "$gobin"
  log "$name" "built $version in $(($(date +%s) - t))s"
}

# netpol_tool: kube-network-policies (the host cluster's NetworkPolicy enforcer), built inside a copy
# of its own module, so that its own go.sum verifies its dependencies: the Go checksum database
# that the module proxy serves here lacks both it and one of its dependencies (a pseudo-version of
# github.com/google/nftables), and `go install pkg@version` also wants a version list the proxy
# refuses. The module itself is checked against the hashes pinned in hack/versions.env.
netpol_tool() {
  local name=kube-network-policies v=$KUBE_NETWORK_POLICIES_VERSION mod=sigs.k8s.io/kube-network-policies
  local out="$FLASHSALE_BIN/kube-network-policies-$KUBE_NETWORK_POLICIES_VERSION"
  if [[ -x $out ]]; then
    log "$name" "cached $v"
    return
  fi
  go_env
  local t got dir work="$FLASHSALE_CACHE/build/netpol-$v"
  t=$(date +%s)
  got=$(cd "$FLASHSALE_CACHE" && GONOSUMDB=$mod go mod download -json "$mod@$v" |
    jq -r '"\(.Error // "")|\(.Sum)|\(.GoModSum)|\(.Dir)"') || true
  [[ ${got%|*} == "|$KUBE_NETWORK_POLICIES_SUM|$KUBE_NETWORK_POLICIES_GOMOD_SUM" ]] ||
    die "$mod@$v: got ${got%|*}, want |$KUBE_NETWORK_POLICIES_SUM|$KUBE_NETWORK_POLICIES_GOMOD_SUM (hack/versions.env)"
  dir=${got##*|}
  rm -rf "$work" && mkdir -p "$(dirname "$work")"
  cp -r "$dir" "$work" && chmod -R u+w "$work"
  log "$name" "building $v from $mod/cmd (module hashes match hack/versions.env)"
  with_ticker "$name" "$FLASHSALE_CACHE/build-$name.log" \
    bash -c "cd '$work' && go build -mod=readonly -v -trimpath -ldflags='-s -w' -o '$out.tmp' ./cmd"
  mv "$out.tmp" "$out"
  rm -rf "$work"
  log "$name" "built $v in $(($(date +%s) - t))s"
}

kube_tools() {
  local v=$KUBERNETES_VERSION dir="$FLASHSALE_BIN/kubernetes-$KUBERNETES_VERSION"
  local ok=1
  for b in "${KUBE_BINS[@]}"; do [[ -x $dir/$b ]] || ok=0; done
  if ((ok)); then
    log kubernetes "cached $v (${KUBE_BINS[*]})"
    return
  fi
  go_env
  local t work="$FLASHSALE_CACHE/build/kubebins-$v"
  t=$(date +%s)
  mkdir -p "$work"
  log kubernetes "building $v: ${KUBE_BINS[*]} (one go build; about 10 minutes on 2 cores the first time)"
  sed "s/@KUBERNETES_VERSION@/$v/" "$REPO_ROOT/hack/kubebins/go.mod.tmpl" >"$work/go.mod"
  # Replace every staging module k8s.io/kubernetes points at ./staging with its published twin
  # (staging modules are tagged v0.<minor>.<patch> for Kubernetes v1.<minor>.<patch>).
  local modfile
  modfile=$(cd "$work" && go mod download -json "k8s.io/kubernetes@$v" | python3 -c 'import json,sys; print(json.load(sys.stdin)["GoMod"])')
  {
    echo
    echo "replace ("
    sed -n 's#^\s*\(k8s.io/[a-z0-9-]*\) => ./staging/src/.*#\t\1 => \1 v0'"${v#v1}"'#p' "$modfile"
    echo ")"
  } >>"$work/go.mod"
  # Download first (best effort) so the build log below counts packages, not downloads.
  (cd "$work" && go mod download >/dev/null 2>&1) || true
  local vpkg=k8s.io/component-base/version cpkg=k8s.io/client-go/pkg/version
  local minor=${v#v1.}
  minor=${minor%%.*}
  local ld="-s -w"
  for p in $vpkg $cpkg; do
    ld+=" -X $p.gitVersion=$v -X $p.gitMajor=1 -X $p.gitMinor=$minor -X $p.gitTreeState=clean"
    ld+=" -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  local pkgs=()
  for b in "${KUBE_BINS[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
  mkdir -p "$dir.tmp"
  with_ticker kubernetes "$FLASHSALE_CACHE/build-kubernetes.log" \
    bash -c "cd '$work' && go build -mod=mod -v -trimpath -ldflags='$ld' -o '$dir.tmp/' ${pkgs[*]}"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  log kubernetes "built $v in $(($(date +%s) - t))s"
}

# wrapped_tool NAME VERSION MODULE PACKAGE [REPLACE]: builds PACKAGE through a wrapper module
# that requires MODULE@VERSION (hack/chart/wrapper.go.mod.tmpl), with an optional replace line.
wrapped_tool() {
  local name=$1 v=$2 mod=$3 pkg=$4 replace=${5:-}
  local out="$FLASHSALE_BIN/$name-$v"
  if [[ -x $out ]]; then
    log "$name" "cached $v"
    return
  fi
  go_env
  local t work="$FLASHSALE_CACHE/build/$name-$v"
  t=$(date +%s)
  rm -rf "$work" && mkdir -p "$work"
  sed -e "s#@NAME@#$name#" -e "s#@MODULE@#$mod#" -e "s#@VERSION@#$v#" -e "s#@REPLACE@#$replace#" \
    "$REPO_ROOT/hack/chart/wrapper.go.mod.tmpl" >"$work/go.mod"
  sed "s#@PACKAGE@#$pkg#" "$REPO_ROOT/hack/chart/wrapper.tools.go.tmpl" >"$work/tools.go"
  log "$name" "building $v from $pkg (wrapper module)"
  (cd "$work" && go mod tidy >"$work/tidy.log" 2>&1) || {
    tail -5 "$work/tidy.log" >&2
    die "$name: go mod tidy failed in $work"
  }
  with_ticker "$name" "$FLASHSALE_CACHE/build-$name.log" \
    bash -c "cd '$work' && go build -v -trimpath -ldflags='-s -w' -o '$out.tmp' '$pkg'"
  mv "$out.tmp" "$out"
  log "$name" "built $v in $(($(date +%s) - t))s"
}

# pip_tool NAME VERSION: a Python tool from PyPI in its own venv (Debian's python3), linked as
# $FLASHSALE_BIN/NAME-VERSION.
pip_tool() {
  local name=$1 v=$2 out="$FLASHSALE_BIN/$1-$2"
  if [[ -x $out ]]; then
    log "$name" "cached $v"
    return
  fi
  rm -rf "$out.venv"
  /usr/bin/python3 -m venv "$out.venv" || die "$name: python3 -m venv failed (Debian package python3-venv)"
  "$out.venv/bin/pip" install -q --disable-pip-version-check "$name==$v" >"$FLASHSALE_CACHE/build-$name.log" 2>&1 ||
    die "$name: pip install failed; see $FLASHSALE_CACHE/build-$name.log"
  ln -sfn "$out.venv/bin/$name" "$out"
  log "$name" "installed $v from PyPI"
}

# chart_tools: the chart tests' tools; ct also needs the chart schema and yamllint config of its
# module, kept beside the binary.
chart_tools() {
  wrapped_tool helm-unittest "$HELM_UNITTEST_VERSION" github.com/helm-unittest/helm-unittest \
    github.com/helm-unittest/helm-unittest/cmd/helm-unittest \
    "replace github.com/vmware-labs/yaml-jsonpath v0.3.2 => github.com/helm-unittest/yaml-jsonpath v0.4.0"
  wrapped_tool ct "$CHART_TESTING_VERSION" github.com/helm/chart-testing/v3 github.com/helm/chart-testing/v3/ct
  wrapped_tool kubeconform "$KUBECONFORM_VERSION" github.com/yannh/kubeconform github.com/yannh/kubeconform/cmd/kubeconform
  wrapped_tool kube-score "$KUBE_SCORE_VERSION" github.com/zegl/kube-score github.com/zegl/kube-score/cmd/kube-score
  pip_tool yamale "$YAMALE_VERSION"
  local etc="$FLASHSALE_BIN/ct-$CHART_TESTING_VERSION.etc" dir
  [[ -f $etc/chart_schema.yaml ]] && return
  dir="$FLASHSALE_CACHE/build/ct-$CHART_TESTING_VERSION"
  dir=$(cd "$dir" && go list -m -f '{{.Dir}}' github.com/helm/chart-testing/v3)
  mkdir -p "$etc.tmp" && cp "$dir/etc/chart_schema.yaml" "$dir/etc/lintconf.yaml" "$etc.tmp/"
  rm -rf "$etc" && mv "$etc.tmp" "$etc"
}

# skaffold_schema: skaffold's config schemas, from its Go module (skaffold itself is not built: the
# chart tests validate skaffold.yaml against the schema of its apiVersion).
skaffold_schema() {
  local out="$FLASHSALE_BIN/skaffold-schemas-$SKAFFOLD_VERSION" dir
  [[ -d $out ]] && return
  log skaffold "downloading the config schemas of $SKAFFOLD_VERSION (Go module)"
  dir=$(cd /tmp && GOFLAGS=-mod=mod go mod download -json "github.com/GoogleContainerTools/skaffold/v2@$SKAFFOLD_VERSION" | jq -r .Dir) ||
    die "skaffold: go mod download failed"
  mkdir -p "$out.tmp" && cp "$dir"/docs-v2/content/en/schemas/v4*.json "$out.tmp/"
  rm -rf "$out" && mv "$out.tmp" "$out"
}

main() {
  local total_start
  total_start=$(date +%s)
  mkdir -p "$FLASHSALE_BIN"
  apt_tools
  kube_tools
  go_tool helm "$HELM_VERSION" helm.sh/helm/v3/cmd/helm
  go_tool k6 "$K6_VERSION" go.k6.io/k6
  go_tool coredns "$COREDNS_VERSION" github.com/coredns/coredns
  go_tool nats-server "$NATS_SERVER_VERSION" github.com/nats-io/nats-server/v2
  netpol_tool
  chart_tools
  skaffold_schema
  go_tool kind "$KIND_VERSION" sigs.k8s.io/kind
  log "done" "all tools ready in $(($(date +%s) - total_start))s (cache: $FLASHSALE_BIN)"
}

main "$@"
