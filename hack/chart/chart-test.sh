#!/usr/bin/env bash
# make chart-test: the static tests of charts/flashsale, no cluster needed. Each step prints a
# progress line; the run ends with one line per step and writes reports/chart-test.json; exit 1
# when any step failed. `chart-test.sh STEP...` runs only those steps.
#   1 readme    the README's parameters table matches the values.yaml comments
#   2 lint      helm lint --strict, with the default values and each ci/*-values.yaml
#   3 unittest  helm-unittest suites in charts/flashsale/tests
#   4 ct        ct lint (chart-testing; yamllint, Chart.yaml schema, each ci values file)
#   5 kubeconform  every rendering validated offline against the Kubernetes version's own schemas
#   6 kube-score   posture lint of the default, host-cluster and operator-dashboard renderings
#   7 bad-values   every line of hack/chart/bad-values.txt refused with its message
#   8 crds      charts/flashsale/crds/ holds the same files as operator/deploy/crds/, byte for byte,
#               and the operator's rendered Roles (a ClusterRole when cluster-wide) have the rules of
#               operator/deploy/rbac.yaml
#   9 skaffold  skaffold.yaml (and each profile) valid against skaffold's schema, its Dockerfiles,
#               workspaces and port-forwards real, the chart rendering with its values
set -euo pipefail
source "$(dirname "$0")/lib.sh"

REPORT=${CHART_TEST_REPORT:-$REPO_ROOT/reports/chart-test.json}
declare -A RESULT DETAIL
STEPS=(readme lint unittest ct kubeconform kube-score bad-values crds skaffold)

values_files() { printf '%s\n' "" "$CHART"/ci/*-values.yaml; }

step_readme() { node "$REPO_ROOT/hack/chart/readme-params.mjs" --check; }

step_lint() {
  local f n=0
  while read -r f; do
    "$HELM" lint --strict "$CHART" --kube-version "$KUBE_VERSION" ${f:+-f "$f"} >/dev/null || {
      "$HELM" lint --strict "$CHART" --kube-version "$KUBE_VERSION" ${f:+-f "$f"} >&2
      return 1
    }
    n=$((n + 1))
  done < <(values_files)
  DETAIL[lint]="$n value sets"
}

step_unittest() {
  local out
  out=$("$(bin helm-unittest "$HELM_UNITTEST_VERSION")" --color=false "$CHART" 2>&1) || {
    echo "$out" >&2
    return 1
  }
  DETAIL[unittest]=$(grep -E '^Tests:' <<<"$out" | tr -s ' ')
}

step_ct() {
  local shim etc="$FLASHSALE_BIN/ct-$CHART_TESTING_VERSION.etc" out rc=0
  shim=$(mktemp -d)
  ln -s "$HELM" "$shim/helm"
  ln -s "$(bin yamale "$YAMALE_VERSION")" "$shim/yamale"
  out=$(cd "$REPO_ROOT" && PATH="$shim:$PATH" "$(bin ct "$CHART_TESTING_VERSION")" lint \
    --charts charts/flashsale --chart-yaml-schema "$etc/chart_schema.yaml" \
    --lint-conf "$etc/lintconf.yaml" --validate-maintainers=false --check-version-increment=false \
    --helm-lint-extra-args "--kube-version $KUBE_VERSION" 2>&1) || rc=$?
  rm -rf "$shim"
  ((rc == 0)) || echo "$out" >&2
  DETAIL[ct]="$(grep -c '^Linting chart with values file' <<<"$out") values files; yamllint, Chart.yaml schema (yamale), helm lint"
  return $rc
}

# The schemas of the exact Kubernetes version, from the OpenAPI document of the k8s.io/kubernetes
# module that make tools downloads; generated once per version into the cache.
schemas() {
  local dir="$FLASHSALE_CACHE/kubeconform-schemas/$KUBERNETES_VERSION"
  if [[ ! -f $dir/deployment-apps-v1.json ]]; then
    local swagger
    swagger="$(cd /tmp && go env GOMODCACHE)/k8s.io/kubernetes@$KUBERNETES_VERSION/api/openapi-spec/swagger.json"
    [[ -f $swagger ]] || (cd /tmp && go mod download "k8s.io/kubernetes@$KUBERNETES_VERSION") >/dev/null 2>&1
    [[ -f $swagger ]] || die "no $swagger: run make tools"
    node "$REPO_ROOT/hack/chart/openapi2jsonschema.mjs" "$swagger" "$dir"
  fi
  echo "$dir"
}

step_kubeconform() {
  local dir crds f n=0 docs=0 out
  dir=$(schemas)
  # The chart's own CRDs (ReservationAutoscaler) validate its custom resources.
  crds=$(mktemp -d)
  node "$REPO_ROOT/hack/chart/crd2jsonschema.mjs" "$CHART/crds" "$crds" 2>/dev/null
  while read -r f; do
    # ServiceMonitor is a CRD of the Prometheus operator: not in the Kubernetes schemas.
    out=$(helm_template ${f:+-f "$f"} | "$(bin kubeconform "$KUBECONFORM_VERSION")" -strict -summary \
      -schema-location "$dir/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
      -schema-location "$crds/{{ .ResourceKind }}{{ .KindSuffix }}.json" -skip ServiceMonitor -output text) || {
      echo "$out" >&2
      rm -rf "$crds"
      return 1
    }
    docs=$((docs + $(grep -oE 'Valid: [0-9]+' <<<"$out" | grep -oE '[0-9]+')))
    n=$((n + 1))
  done < <(values_files)
  rm -rf "$crds"
  DETAIL[kubeconform]="$docs resources valid over $n value sets (Kubernetes $KUBERNETES_VERSION and the chart's CRDs)"
}

# Checks left out, each for a reason (every other check of kube-score runs, warnings are printed
# but only critical findings fail):
#   container-resources: no CPU limit by default, on purpose (a throttled event loop answers late;
#     resources.limits.cpu sets one); memory limits and all requests are set;
#   container-ephemeral-storage-request-and-limit: the only writable paths are emptyDirs with a
#     sizeLimit, and the volumes;
#   container-image-pull-policy: Always would break the host cluster, whose images are never pulled;
#     the policy is a value per component;
#   container-security-context-user-group-id: the dependencies run as their images' own users
#     (postgres and redis are 999 in the official images), which own the data folders;
#   deployment-has-host-podantiaffinity: topologySpreadConstraints spread the pods instead.
KUBE_SCORE_IGNORE=(
  container-resources container-ephemeral-storage-request-and-limit container-image-pull-policy
  container-security-context-user-group-id deployment-has-host-podantiaffinity
)

step_kube-score() {
  local f out args=()
  for t in "${KUBE_SCORE_IGNORE[@]}"; do args+=(--ignore-test "$t"); done
  for f in "" "$CHART/ci/host-cluster-values.yaml" "$CHART/ci/operator-dashboard-values.yaml"; do
    out=$(helm_template ${f:+-f "$f"} | "$(bin kube-score "$KUBE_SCORE_VERSION")" score - \
      --output-format ci --kubernetes-version "v${KUBE_VERSION%.*}" "${args[@]}") || {
      grep -E '^\[(CRITICAL|WARNING)\]' <<<"$out" >&2
      return 1
    }
  done
  DETAIL[kube-score]="no critical finding in 3 renderings (${#KUBE_SCORE_IGNORE[@]} checks left out, see the script)"
}

step_bad-values() {
  local line args expect out n=0 failed=0
  while IFS= read -r line; do
    [[ -z $line || $line == \#* ]] && continue
    args=${line%%$'\t'*}
    expect=${line#*$'\t'}
    # shellcheck disable=SC2086 # the table's helm arguments are split on spaces on purpose
    if out=$(helm_template $args 2>&1); then
      log bad-values "ACCEPTED (should fail): $args"
      failed=$((failed + 1))
    elif ! grep -qF -- "$expect" <<<"$out"; then
      log bad-values "refused without the expected message: $args"
      log bad-values "  expected: $expect"
      log bad-values "  got: $(tr '\n' ' ' <<<"$out" | cut -c1-300)"
      failed=$((failed + 1))
    fi
    n=$((n + 1))
  done <"$REPO_ROOT/hack/chart/bad-values.txt"
  DETAIL[bad-values]="$((n - failed))/$n refused with the expected message"
  ((failed == 0 && n >= 15))
}

# The CRD and the RBAC live in the operator (its tests use them) and in the chart: one truth, two
# places, kept identical (copy operator/deploy/crds/*.yaml into charts/flashsale/crds/).
step_crds() {
  local a="$REPO_ROOT/operator/deploy/crds" b="$CHART/crds"
  diff -r "$a" "$b" >&2 || {
    log crds "charts/flashsale/crds differs from operator/deploy/crds: cp operator/deploy/crds/*.yaml charts/flashsale/crds/"
    return 1
  }
  # By default a Role in the release's namespace; with operator.watchNamespace "*" a ClusterRole.
  helm_template --set operator.enabled=true --show-only templates/operator/rbac.yaml |
    node "$REPO_ROOT/hack/chart/rbac-equal.mjs" "$REPO_ROOT/operator/deploy/rbac.yaml" Role || return 1
  helm_template --set operator.enabled=true --set 'operator.watchNamespace=*' \
    --show-only templates/operator/rbac.yaml |
    node "$REPO_ROOT/hack/chart/rbac-equal.mjs" "$REPO_ROOT/operator/deploy/rbac.yaml" ClusterRole || return 1
  DETAIL[crds]="$(find "$b" -name '*.yaml' | wc -l) CRD file(s) identical to operator/deploy/crds; operator RBAC rules (Role, and ClusterRole when cluster-wide) equal to operator/deploy/rbac.yaml"
}

step_skaffold() {
  local out
  out=$(node "$REPO_ROOT/hack/chart/skaffold-check.mjs" "$FLASHSALE_BIN/skaffold-schemas-$SKAFFOLD_VERSION" \
    "$HELM" "$KUBE_VERSION" 2>&1) || {
    echo "$out" >&2
    return 1
  }
  DETAIL[skaffold]=$(tail -1 <<<"$out")
}

main() {
  local s ok=0 failed=0
  # Arguments pick steps (make e2e runs lint, kubeconform and bad-values); none = all of them.
  (($#)) && STEPS=("$@")
  for s in "${STEPS[@]}"; do
    declare -F "step_$s" >/dev/null || die "unknown step $s"
    log "$s" "running"
    if "step_$s"; then
      RESULT[$s]=passed
      ok=$((ok + 1))
    else
      RESULT[$s]=failed
      failed=$((failed + 1))
    fi
    log "$s" "${RESULT[$s]}${DETAIL[$s]:+: ${DETAIL[$s]}}"
  done
  mkdir -p "$(dirname "$REPORT")"
  {
    printf '{\n  "passed": %d,\n  "failed": %d,\n  "steps": {' "$ok" "$failed"
    local sep=""
    for s in "${STEPS[@]}"; do
      printf '%s\n    "%s": {"result": "%s", "detail": %s}' "$sep" "$s" "${RESULT[$s]}" \
        "$(jq -Rn --arg d "${DETAIL[$s]:-}" '$d')"
      sep=","
    done
    printf '\n  }\n}\n'
  } >"$REPORT"
  log chart-test "$ok passed, $failed failed ($(elapsed)s; $REPORT)"
  ((failed == 0))
}

main "$@"
