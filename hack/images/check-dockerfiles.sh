#!/usr/bin/env bash
# hack/images/check-dockerfiles.sh [IMAGE...]: checks that each project image built without Docker
# (hack/images/build.sh) and its Dockerfile agree on what users and Kubernetes see: user, working
# directory, exposed ports, entrypoint, command, environment and Node version. Default: every
# project image whose workspace exists. Exits non-zero on the first difference.
set -euo pipefail
source "$(dirname "$0")/../lib/common.sh"

declare -A WORKSPACE=([reservation]=services/reservation [operator]=operator [dashboard]=dashboard)
WORK="${FLASHSALE_IMAGES_CACHE:-$FLASHSALE_CACHE/images}/work"
fails=0

# df_value DOCKERFILE INSTRUCTION: the arguments of the last INSTRUCTION of the final stage.
df_value() { awk -v i="$2" '$1 == "FROM" { v = "" } $1 == i { $1 = ""; sub(/^ /, ""); v = $0 } END { print v }' "$1"; }
df_arg() { sed -n "s/^ARG $2=//p" "$1" | head -1; }

same() {
  local image=$1 what=$2 dockerfile=$3 builder=$4
  if [[ $dockerfile == "$builder" ]]; then
    log check "$image $what: $builder"
  else
    log check "$image $what differs: Dockerfile '$dockerfile', hack/images/build.sh '$builder'"
    fails=$((fails + 1))
  fi
}

check() {
  local image=$1 ws=${WORKSPACE[$1]}
  local df="$REPO_ROOT/$ws/Dockerfile"
  [[ -f $df ]] || df="$REPO_ROOT/services/reservation/Dockerfile" # the generic one, with --build-arg
  "$REPO_ROOT/hack/images/build.sh" "$image" >/dev/null 2>&1 || die "$image: hack/images/build.sh $image failed"
  local cfg="$WORK/$image.config.json"
  same "$image" user "$(df_value "$df" USER)" "$(jq -r .User "$cfg")"
  same "$image" workdir "$(df_value "$df" WORKDIR | sed "s#\${WORKSPACE}#$ws#")" "$(jq -r .WorkingDir "$cfg")"
  same "$image" ports "$(df_value "$df" EXPOSE)" "$(jq -r '.ExposedPorts | keys | join(" ")' "$cfg")"
  same "$image" entrypoint "$(df_value "$df" ENTRYPOINT | jq -c .)" "$(jq -c .Entrypoint "$cfg")"
  same "$image" cmd "$(df_value "$df" CMD | jq -c .)" "$(jq -c .Cmd "$cfg")"
  local env
  env=$(df_value "$df" ENV | tr ' ' '\n' | grep -v '^NODE_VERSION=' | sort | tr '\n' ' ')
  same "$image" env "$env" "$(jq -r '.Env[] | select(startswith("PATH=") or startswith("NODE_VERSION=") | not)' "$cfg" | sort | tr '\n' ' ')"
  same "$image" node "$(df_arg "$df" NODE_VERSION)" "$(jq -r '.Env[] | select(startswith("NODE_VERSION=")) | sub("NODE_VERSION="; "")' "$cfg")"
}

images=("$@")
if ((${#images[@]} == 0)); then
  for i in reservation operator dashboard; do
    jq -e .scripts.build "$REPO_ROOT/${WORKSPACE[$i]}/package.json" >/dev/null 2>&1 && images+=("$i")
  done
fi
for i in "${images[@]}"; do check "$i"; done
# The root .dockerignore (builders without per-Dockerfile ignore files) keeps the same patterns.
patterns() { grep -v '^#' "$1" | sed '/^$/d' | sort; }
for f in "$REPO_ROOT"/services/reservation/Dockerfile.dockerignore "$REPO_ROOT"/{operator,dashboard}/Dockerfile.dockerignore; do
  [[ -f $f ]] || continue
  same dockerignore "${f#"$REPO_ROOT"/}" "$(patterns "$f" | paste -sd' ')" "$(patterns "$REPO_ROOT/.dockerignore" | paste -sd' ')"
done
# The Dockerfile's dependency layer copies every workspace's manifest (a missing one breaks npm ci).
for ws in $(jq -r '.workspaces[]' "$REPO_ROOT/package.json"); do
  if grep -qx "COPY $ws/package.json $ws/" "$REPO_ROOT/services/reservation/Dockerfile"; then
    log check "Dockerfile copies the manifest of workspace $ws"
  else
    log check "Dockerfile lacks 'COPY $ws/package.json $ws/' (workspace of the root package.json)"
    fails=$((fails + 1))
  fi
done
((fails == 0)) || die "$fails difference(s) between the Dockerfiles and hack/images/build.sh"
log check "Dockerfiles and hack/images/build.sh agree (${images[*]})"
