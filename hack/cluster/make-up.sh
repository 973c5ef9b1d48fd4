#!/usr/bin/env bash
# hack/cluster/make-up.sh up|down (make up / make down): picks the cluster and installs the system.
#   - kind, when kind and a working Docker or Podman are there (users' machines);
#   - else the host cluster (hack/cluster/up.sh) on Linux as root (CI and the build machines);
#   - else a message saying what to install.
# Then it builds and loads the images and installs the Helm chart (charts/flashsale) as release
# flashsale in namespace flashsale (labelled to enforce the restricted Pod Security level), waits
# until every pod is Ready with progress lines, and prints the next commands.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NAMESPACE=${FLASHSALE_NAMESPACE:-flashsale}
KIND_CLUSTER=flashsale
RELEASE=${FLASHSALE_RELEASE:-flashsale}
CHART="$REPO_ROOT/charts/flashsale"
HELM_TIMEOUT=${FLASHSALE_HELM_TIMEOUT:-600}
# The images of the host cluster: built here, imported, never pulled (chart value section: image;
# k6 is the image of the dashboard's load-test launcher, dashboard.loadTest.image).
HOST_IMAGES=(postgres redis nats prometheus reservation operator dashboard k6)
# The project's own images on the kind path: NAME=WORKSPACE, each built from the one generic
# Dockerfile with --build-arg WORKSPACE.
DOCKERFILE=services/reservation/Dockerfile
APP_IMAGES=(reservation=services/reservation operator=operator dashboard=dashboard)
# kind: the binary make tools builds (KIND_VERSION) when it is there, else the one on PATH.
KIND_BIN=$FLASHSALE_BIN/kind-$KIND_VERSION
[[ -x $KIND_BIN ]] || KIND_BIN=$(command -v kind || true)
# Knobs for machines without a registry (hack/kind/e2e.sh sets them; users need none):
#   KIND_NODE_IMAGE     node image for `kind create cluster --image` (default: kind's own)
#   KIND_CONFIG         cluster config (default: kind-config.yaml)
#   DOCKER_BUILD_FLAGS  extra `docker build` flags, e.g. --network host
KIND_CONFIG=${KIND_CONFIG:-$REPO_ROOT/kind-config.yaml}

engine() {
  if command -v docker >/dev/null && docker info >/dev/null 2>&1; then
    echo docker
  elif command -v podman >/dev/null && podman info >/dev/null 2>&1; then
    echo podman
  fi
}

# pick: kind:ENGINE or host. FLASHSALE_CLUSTER=kind|host forces one (hack/kind/e2e.sh forces kind,
# so that its `make down` can never reach a host cluster that other work uses).
pick() {
  local e
  e=$(engine)
  case ${FLASHSALE_CLUSTER:-auto} in
    kind)
      [[ -n $KIND_BIN && -n $e ]] || die "FLASHSALE_CLUSTER=kind but kind or a working Docker/Podman is missing"
      echo "kind:$e"
      return
      ;;
    host)
      echo host
      return
      ;;
  esac
  if [[ -n $KIND_BIN && -n $e ]]; then
    echo "kind:$e"
  elif [[ $(uname -s) == Linux && $(id -u) == 0 ]]; then
    echo host
  else
    cat >&2 <<MSG
make up needs one of:
  - kind (https://kind.sigs.k8s.io/docs/user/quick-start/#installation) and Docker or Podman, or
  - a Linux machine where you are root, for the host cluster built from containerd, runc and the
    Kubernetes binaries (run 'make tools' first).
MSG
    exit 1
  fi
}

helm_() {
  if [[ -x $FLASHSALE_BIN/helm-$HELM_VERSION ]]; then
    "$FLASHSALE_BIN/helm-$HELM_VERSION" "$@"
  else
    command -v helm >/dev/null || die "helm not found: run make tools, or install helm"
    helm "$@"
  fi
}

# restricted_namespace KUBECTL...: the namespace, enforcing the restricted Pod Security level.
restricted_namespace() {
  "$@" create namespace "$NAMESPACE" --dry-run=client -o yaml | "$@" apply -f - >/dev/null
  "$@" label namespace "$NAMESPACE" --overwrite pod-security.kubernetes.io/enforce=restricted \
    pod-security.kubernetes.io/enforce-version=latest pod-security.kubernetes.io/warn=restricted >/dev/null
}

# pods_ready KUBECTL...: "ready/total" of the release's pods (hook and test pods left out).
pods_ready() {
  "$@" -n "$NAMESPACE" get pods -l "app.kubernetes.io/instance=$RELEASE" -o json | jq -r '
    [.items[] | select(.metadata.labels["app.kubernetes.io/component"] as $c | $c != "migrations" and $c != "test")
     | select(.status.phase != "Succeeded")] as $p
    | "\([$p[] | select(any(.status.conditions[]?; .type == "Ready" and .status == "True"))] | length)/\($p | length)"'
}

# install KUBECTL_ARGS_AS_STRING HELM_ARGS...: helm upgrade --install --wait in the background, one
# progress line every 5 s (pods Ready, what is not), fails with the pods' state on error.
install() {
  local kcs=$1 t0 pid rc=0 r
  local -a kc
  shift
  read -ra kc <<<"$kcs"
  log install "helm upgrade --install $RELEASE charts/flashsale -n $NAMESPACE (timeout ${HELM_TIMEOUT}s)"
  t0=$(date +%s)
  helm_ upgrade --install "$RELEASE" "$CHART" -n "$NAMESPACE" --wait --wait-for-jobs \
    --timeout "${HELM_TIMEOUT}s" "$@" >"$TMP/helm.log" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 5
    r=$(pods_ready "${kc[@]}" 2>/dev/null || echo "?")
    log wait "$(($(date +%s) - t0))s: $r pods Ready $("${kc[@]}" -n "$NAMESPACE" get pods --no-headers 2>/dev/null |
      awk '$3 != "Running" || $2 !~ /^([0-9]+)\/\1$/ {printf "%s=%s ", $1, $3}')"
  done
  wait "$pid" || rc=$?
  if ((rc != 0)); then
    cat "$TMP/helm.log" >&2
    "${kc[@]}" -n "$NAMESPACE" get pods -o wide >&2 || true
    "${kc[@]}" -n "$NAMESPACE" get events --sort-by=.lastTimestamp 2>/dev/null | tail -15 >&2 || true
    die "helm upgrade --install failed"
  fi
  log ready "release $RELEASE: $(pods_ready "${kc[@]}") pods Ready in $(($(date +%s) - t0))s"
}

next_commands() {
  local how=$1
  log next "$how -n $NAMESPACE get pods"
  log next "make dashboard            # port-forward on 127.0.0.1, printed URL (follows pod changes)"
  log next "make logs                 # every pod's log, followed"
  log next "helm test $RELEASE -n $NAMESPACE   # an event and a reservation, end to end"
  log next "make down                 # remove it all"
}

# image_values NAME...: --set <section>.image.repository/tag from the content-addressed references.
image_values() {
  local n ref
  for n in "$@"; do
    ref=$("$REPO_ROOT/hack/images/build.sh" --ref "$n")
    if [[ $n == k6 ]]; then
      printf -- '--set\ndashboard.loadTest.image=%s\n' "$ref"
    else
      printf -- '--set\n%s.image.repository=%s\n--set\n%s.image.tag=%s\n' "$n" "${ref%:*}" "$n" "${ref##*:}"
    fi
  done
}

up_host() {
  "$REPO_ROOT/hack/tools.sh" # the Kubernetes binaries, helm and image tools; seconds when cached
  # Several test runs share the host cluster: one up.sh and one image build at a time. A cluster
  # that answers is left alone. -o: the cluster's long-lived processes must not inherit the lock
  # (they would hold it for ever).
  if [[ -f $KUBECONFIG_ADMIN ]] && kubectl_ get --raw /readyz >/dev/null 2>&1; then
    log cluster "the host cluster is up"
  else
    flock -o -w 900 /tmp/flashsale-cluster.lock "$REPO_ROOT/hack/cluster/up.sh"
  fi
  flock -o -w 1800 /tmp/flashsale-images.lock "$REPO_ROOT/hack/images/build.sh" --import "${HOST_IMAGES[@]}"
  export KUBECONFIG=$KUBECONFIG_ADMIN # for helm
  restricted_namespace kubectl_
  # No provisioner on the host cluster: a folder per claim, bound in advance.
  "$REPO_ROOT/hack/cluster/volumes.sh" ensure "$NAMESPACE" "data-$RELEASE-postgres-0" \
    "data-$RELEASE-redis-0" "data-$RELEASE-nats-0" "data-$RELEASE-prometheus-0"
  local vals
  mapfile -t vals < <(image_values "${HOST_IMAGES[@]}")
  install "$KUBE_BIN_DIR/kubectl --kubeconfig $KUBECONFIG_ADMIN" \
    -f "$CHART/ci/host-cluster-values.yaml" "${vals[@]}" "${EXTRA_HELM_ARGS[@]}"
  log ready "export KUBECONFIG=$KUBECONFIG_ADMIN"
  next_commands "hack/cluster/kubectl.sh"
}

up_kind() {
  local e=$1 k=(kubectl --context "kind-$KIND_CLUSTER") kind=("$KIND_BIN") t
  [[ $e == podman ]] && export KIND_EXPERIMENTAL_PROVIDER=podman
  if ! "${kind[@]}" get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
    log kind "creating cluster $KIND_CLUSTER ($e, $("${kind[@]}" version | cut -d' ' -f1-2))"
    local image=()
    [[ -n ${KIND_NODE_IMAGE:-} ]] && image=(--image "$KIND_NODE_IMAGE")
    "${kind[@]}" create cluster --name "$KIND_CLUSTER" --config "$KIND_CONFIG" "${image[@]}" --wait 180s
  fi
  local flags=() d name
  read -r -a flags <<<"${DOCKER_BUILD_FLAGS:-}"
  local images=()
  for d in "${APP_IMAGES[@]}"; do
    name=${d%%=*}
    log image "$e build -f $DOCKERFILE --build-arg WORKSPACE=${d#*=} -t flashsale/$name:dev (a few minutes the first time)"
    t=$(date +%s)
    "$e" build "${flags[@]}" -q -f "$REPO_ROOT/$DOCKERFILE" --build-arg "WORKSPACE=${d#*=}" \
      -t "flashsale/$name:dev" "$REPO_ROOT" >/dev/null
    log image "flashsale/$name:dev built in $(($(date +%s) - t))s"
    images+=("flashsale/$name:dev")
  done
  # The app image, and the dependencies' upstream images when this engine already has them (kind
  # nodes pull the others themselves; a machine without a registry must have them all).
  local img
  for img in $(upstream_images | cut -d= -f2); do
    "$e" image inspect "$img" >/dev/null 2>&1 && images+=("$img")
  done
  for img in "${images[@]}"; do
    log image "kind load $img"
    if [[ $e == docker ]]; then
      "${kind[@]}" load docker-image --name "$KIND_CLUSTER" "$img" >/dev/null
    else
      local tar
      tar=$(mktemp --suffix .tar)
      podman save -o "$tar" "$img"
      "${kind[@]}" load image-archive --name "$KIND_CLUSTER" "$tar" >/dev/null
      rm -f "$tar"
    fi
  done
  restricted_namespace "${k[@]}"
  install "${k[*]}" --kube-context "kind-$KIND_CLUSTER" -f "$CHART/ci/kind-values.yaml" "${EXTRA_HELM_ARGS[@]}"
  next_commands "kubectl --context kind-$KIND_CLUSTER"
}

# upstream_images: NAME=IMAGE of the dependencies' upstream images, read from the chart's values
# (top-level section NAME, its image.repository and image.tag).
upstream_images() {
  awk '/^[a-z][A-Za-z]*:/ { sec = substr($1, 1, length($1) - 1); img = 0 }
       sec ~ /^(postgres|redis|nats|prometheus)$/ && /^  image:/ { img = 1; next }
       img && /^    repository:/ { repo[sec] = $2 }
       img && /^    tag:/ { tag[sec] = $2; img = 0 }
       END { for (s in repo) print s "=" repo[s] ":" tag[s] }' "$CHART/values.yaml" | sort
}

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
# Extra helm arguments (make e2e passes --set values through this).
read -ra EXTRA_HELM_ARGS <<<"${FLASHSALE_HELM_ARGS:-}"

main() {
  local cmd=${1:-up} where
  case $cmd in
    up)
      where=$(pick)
      log make-up "cluster: $where"
      if [[ $where == host ]]; then up_host; else up_kind "${where#kind:}"; fi
      ;;
    down)
      # The same choice as `up`: with kind and a container engine, only the kind cluster goes (a host
      # cluster that other work uses on the same machine is left alone); else the host cluster.
      where=$(pick)
      if [[ $where == kind:* ]]; then
        [[ $where == kind:podman ]] && export KIND_EXPERIMENTAL_PROVIDER=podman
        if "$KIND_BIN" get clusters 2>/dev/null | grep -qx "$KIND_CLUSTER"; then
          log make-down "kind delete cluster --name $KIND_CLUSTER"
          "$KIND_BIN" delete cluster --name "$KIND_CLUSTER"
        fi
      else
        if [[ -f $KUBECONFIG_ADMIN ]] && kubectl_ get ns "$NAMESPACE" >/dev/null 2>&1; then
          export KUBECONFIG=$KUBECONFIG_ADMIN
          helm_ uninstall "$RELEASE" -n "$NAMESPACE" --wait --timeout 300s >/dev/null 2>&1 || true
          kubectl_ delete namespace "$NAMESPACE" --wait=true --timeout=300s >/dev/null || true
          "$REPO_ROOT/hack/cluster/volumes.sh" delete "$NAMESPACE"
          log make-down "release $RELEASE and namespace $NAMESPACE removed"
        fi
        if [[ -d $CLUSTER_DIR && ${FLASHSALE_KEEP_CLUSTER:-0} != 1 ]]; then "$REPO_ROOT/hack/cluster/down.sh"; fi
      fi
      log make-down "done"
      ;;
    upstream-images) # for hack/kind/standins.sh: NAME=IMAGE of what kind nodes would pull
      upstream_images
      ;;
    *) die "usage: $0 up|down|upstream-images" ;;
  esac
}

main "$@"
