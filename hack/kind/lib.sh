# shellcheck shell=bash
# hack/kind/lib.sh: helpers of the kind test machinery (node image, stand-in images, e2e). Test
# machinery for a build machine without a registry; users run kind with its published node image.
source "$(dirname "${BASH_SOURCE[0]}")/../lib/common.sh"

KIND_CACHE="${FLASHSALE_KIND_CACHE:-$FLASHSALE_CACHE/kind}" # node image and stand-in archives
KIND_WORK="$KIND_CACHE/work"
OCI="$REPO_ROOT/hack/images/oci.py"
# shellcheck disable=SC2034 # used by the scripts that source this file
KUBE_BIN_DIR="$FLASHSALE_BIN/kubernetes-$KUBERNETES_VERSION"
DEBIAN_SUITE=$(. /etc/os-release && echo "$VERSION_CODENAME")
mkdir -p "$KIND_CACHE" "$KIND_WORK"

# kind_bin: the kind binary make tools built (pinned by KIND_VERSION), else kind from PATH.
kind_bin() {
  local p="$FLASHSALE_BIN/kind-$KIND_VERSION"
  if [[ -x $p ]]; then echo "$p"; else command -v kind || die "kind $KIND_VERSION not built: run make tools"; fi
}

# kind_src: the folder of kind's own module source (its node image's base files are read from it).
kind_src() {
  local dir
  dir=$(cd "$KIND_WORK" && GOFLAGS=-mod=mod go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | jq -r .Dir) ||
    die "go mod download sigs.k8s.io/kind@$KIND_VERSION failed"
  [[ -d $dir/images/base/files ]] || die "kind $KIND_VERSION has no images/base/files"
  echo "$dir"
}

# apt_source_files: the host's enabled Debian sources; the rootfs come from the same mirror.
apt_source_files() {
  local f
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
    [[ -s $f ]] && grep -Eq '^[^#]*debian(-security)?/?( |$)' "$f" && echo "$f"
  done
  return 0
}

# debian_rootfs OUT FORMAT "PKGS" [HOOK...]: mmdebstrap minbase + PKGS into OUT (FORMAT tar or
# directory); each HOOK is an mmdebstrap --customize-hook. Progress on stderr, log in KIND_WORK.
debian_rootfs() {
  local out=$1 format=$2 pkgs=$3
  shift 3
  local sources=() hooks=() h
  mapfile -t sources < <(apt_source_files)
  ((${#sources[@]})) || die "no Debian apt sources in /etc/apt"
  for h in "$@"; do hooks+=(--customize-hook="$h"); done
  local t log
  t=$(date +%s) log="$KIND_WORK/mmdebstrap-$(basename "$out").log"
  log rootfs "mmdebstrap $DEBIAN_SUITE [$pkgs] (1-3 min)"
  SOURCE_DATE_EPOCH=0 timeout 1200 mmdebstrap --quiet --variant=minbase --format="$format" \
    --include="${pkgs// /,}" \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/* "$1"/var/log/apt/* "$1"/var/log/dpkg.log' \
    "${hooks[@]}" "$DEBIAN_SUITE" "$out" "${sources[@]}" >"$log" 2>&1 ||
    die "mmdebstrap failed: $(tail -15 "$log")"
  log rootfs "done in $(($(date +%s) - t))s"
}

# cached_rootfs_layer NAME "PKGS": a cached rootfs tar (minbase + PKGS) for an image layer.
cached_rootfs_layer() {
  local key out
  key=$({
    echo "$1 $2 $DEBIAN_SUITE"
    apt_source_files | xargs cat
  } | sha256sum | cut -c1-16)
  out="$KIND_CACHE/layers/$1-$key.tar"
  mkdir -p "$KIND_CACHE/layers"
  [[ -s $out ]] || {
    debian_rootfs "$out.tmp" tar "$2"
    mv "$out.tmp" "$out"
  }
  echo "$out"
}

# dir_layer NAME DIR: a reproducible tar of DIR in the layer cache; its path on stdout.
dir_layer() {
  local out="$KIND_CACHE/layers/$1.tar"
  mkdir -p "$KIND_CACHE/layers"
  python3 "$OCI" layer "$2" "$out.new"
  if [[ -f $out ]] && cmp -s "$out" "$out.new"; then rm "$out.new"; else mv "$out.new" "$out"; fi
  echo "$out"
}

# files_layer NAME SRC:DEST...: a layer holding each file SRC at DEST (mode 0755).
files_layer() {
  local name=$1 d="$KIND_WORK/files-$1" pair
  shift
  rm -rf "$d" && mkdir -p "$d"
  for pair in "$@"; do install -D -m 0755 "${pair%%:*}" "$d${pair#*:}"; done
  dir_layer "files-$name" "$d"
}

# static_layer: /etc/passwd, /etc/group and /tmp, for images of one static binary.
static_layer() {
  local d="$KIND_WORK/static"
  rm -rf "$d" && mkdir -p "$d/etc" "$d/tmp" && chmod 1777 "$d/tmp"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\n' >"$d/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$d/etc/group"
  dir_layer static "$d"
}

# oci_archive OUT REF USER ENTRYPOINT_JSON CMD_JSON LAYER...: packs an OCI image archive.
oci_archive() {
  local out=$1 ref=$2 user=$3 ep=$4 cmd=$5
  shift 5
  local cfg
  cfg="$KIND_WORK/$(basename "$out").config.json"
  jq -n --arg user "$user" --argjson ep "$ep" --argjson cmd "$cmd" '{User: $user, WorkingDir: "/",
    Entrypoint: $ep, Cmd: $cmd, Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]}' >"$cfg"
  python3 "$OCI" pack --name "$ref" --config "$cfg" --out "$out" "$@" >/dev/null
}

# docker_archive IN OUT TAG...: an OCI archive from oci.py, plus the manifest.json that
# `docker load` of Docker < 25 reads (it cannot load an OCI layout), naming the image TAG....
docker_archive() {
  python3 "$REPO_ROOT/hack/kind/docker-archive.py" "$@"
}
