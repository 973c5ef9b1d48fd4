#!/usr/bin/env bash
# hack/cluster/make-up.sh up|down (make up / make down): picks the cluster and installs the system.
#   - kind, when kind and a working Docker or Podman are there (users' machines);
#   - else the host cluster (hack/cluster/up.sh) on Linux as root (CI and the build machines);
#   - else a message saying what to install.
# Then it builds and loads the images and installs the system: for now the stack of the cluster
# smoke test (Postgres, Redis, NATS and the reservation Deployment) in namespace flashsale; the
# Helm chart replaces this once charts/ has it. It waits for Ready with progress and prints how to
# reach the service.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

NAMESPACE=${FLASHSALE_NAMESPACE:-flashsale}
KIND_CLUSTER=flashsale
MANIFESTS="$REPO_ROOT/k8s-tests/cluster-smoke/manifests"
UPSTREAM_POSTGRES=docker.io/library/postgres:15-bookworm
UPSTREAM_REDIS=docker.io/library/redis:7-bookworm
UPSTREAM_NATS=docker.io/library/nats:${NATS_SERVER_VERSION#v}
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

# render NAMESPACE APP_IMAGE POSTGRES REDIS NATS MIGRATE: the stack manifests for one namespace.
render() {
  awk 'FNR == 1 { print "---" } 1' "$MANIFESTS"/*.yaml | sed -e "s#@NAMESPACE@#$1#g" -e "s#@APP_IMAGE@#$2#g" -e "s#@POSTGRES_IMAGE@#$3#g" \
    -e "s#@REDIS_IMAGE@#$4#g" -e "s#@NATS_IMAGE@#$5#g" |
    if (($6)); then sed 's/ *# migrate$//'; else sed '/# migrate$/d'; fi
}

app_name() { if [[ -f $REPO_ROOT/services/reservation/package.json ]]; then echo reservation; else echo smoke-app; fi; }

wait_ready() {
  local k=("$@") deadline=$(($(date +%s) + 300)) want have
  while :; do
    want=$("${k[@]}" -n "$NAMESPACE" get deploy -o json | jq '[.items[].spec.replicas] | add // 0')
    have=$("${k[@]}" -n "$NAMESPACE" get deploy -o json | jq '[.items[].status.readyReplicas // 0] | add // 0')
    log wait "$have/$want pods Ready"
    ((want > 0 && want == have)) && return 0
    (($(date +%s) < deadline)) || die "not Ready after 300s: $("${k[@]}" -n "$NAMESPACE" get pods 2>&1)"
    sleep 5
  done
}

up_host() {
  "$REPO_ROOT/hack/tools.sh" # the Kubernetes binaries and image tools; seconds when cached
  "$REPO_ROOT/hack/cluster/up.sh"
  local app migrate=0 b="$REPO_ROOT/hack/images/build.sh"
  app=$(app_name)
  "$b" --import postgres redis nats "$app"
  [[ $app == reservation && -f $REPO_ROOT/services/reservation/dist/migrate.js ]] && migrate=1
  render "$NAMESPACE" "$("$b" --ref "$app")" "$("$b" --ref postgres)" "$("$b" --ref redis)" \
    "$("$b" --ref nats)" "$migrate" | kubectl_ apply -f - >/dev/null
  log install "namespace $NAMESPACE: postgres, redis, nats, reservation ($app)"
  wait_ready kubectl_
  log ready "export KUBECONFIG=$KUBECONFIG_ADMIN"
  log ready "reach the service: kubectl -n $NAMESPACE port-forward svc/reservation 8080:80, then http://127.0.0.1:8080/healthz"
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
  [[ -f $REPO_ROOT/services/reservation/package.json ]] || die "services/reservation is not buildable yet"
  local flags=()
  read -r -a flags <<<"${DOCKER_BUILD_FLAGS:-}"
  log image "$e build -f services/reservation/Dockerfile (a few minutes the first time)"
  t=$(date +%s)
  "$e" build "${flags[@]}" -q -f "$REPO_ROOT/services/reservation/Dockerfile" -t flashsale/reservation:dev "$REPO_ROOT" >/dev/null
  log image "flashsale/reservation:dev built in $(($(date +%s) - t))s"
  # The app image, and the upstream images when this engine already has them (kind nodes pull the
  # others themselves; a machine without a registry must have them all).
  local img images=(flashsale/reservation:dev)
  for img in "$UPSTREAM_POSTGRES" "$UPSTREAM_REDIS" "$UPSTREAM_NATS"; do
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
  # The Dockerfile compiles src/migrate.ts, so the image migrates whenever the source has it.
  render "$NAMESPACE" docker.io/flashsale/reservation:dev "$UPSTREAM_POSTGRES" "$UPSTREAM_REDIS" \
    "$UPSTREAM_NATS" "$([[ -f $REPO_ROOT/services/reservation/src/migrate.ts ]] && echo 1 || echo 0)" |
    sed 's/imagePullPolicy: Never/imagePullPolicy: IfNotPresent/' | "${k[@]}" apply -f - >/dev/null
  log install "namespace $NAMESPACE: postgres, redis, nats, reservation"
  wait_ready "${k[@]}"
  log ready "next: kubectl --context kind-$KIND_CLUSTER -n $NAMESPACE get pods"
  log ready "next: kubectl --context kind-$KIND_CLUSTER -n $NAMESPACE port-forward svc/reservation 8080:80, then http://127.0.0.1:8080/healthz"
  log ready "next: make down (deletes the kind cluster)"
}

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
      elif [[ -d $CLUSTER_DIR ]]; then
        "$REPO_ROOT/hack/cluster/down.sh"
      fi
      log make-down "done"
      ;;
    upstream-images) # for hack/kind/standins.sh: NAME=IMAGE of what kind nodes would pull
      printf 'postgres=%s\nredis=%s\nnats=%s\n' "$UPSTREAM_POSTGRES" "$UPSTREAM_REDIS" "$UPSTREAM_NATS"
      ;;
    *) die "usage: $0 up|down|upstream-images" ;;
  esac
}

main "$@"
