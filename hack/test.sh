#!/usr/bin/env bash
# hack/test.sh (make test): every set-up step, then every test step, then one closing line
# "N passed, N failed" that stays true when a step fails.
#
# Set-up steps (tools, npm dependencies) stop the run at once: nothing after them can mean anything.
# Test steps all run even when one fails; each writes its outcome to reports/steps.json, and
# hack/test-summary.mjs adds them up (vitest counts each test; the other steps count as one each).
# The exit status is non-zero when anything failed.
#
#   TEST_STEPS="lint typecheck"  hack/test.sh    run only these test steps (default: all of them)
#   TEST_KEEP_CLUSTER=1                          keep the host cluster up at the end
set -uo pipefail
source "$(dirname "$0")/lib/common.sh"
cd "$REPO_ROOT" || exit 1

SETUP_STEPS=(tools deps)
# The order matters: the cheap checks first, then the servers, then the cluster runs that share one
# host cluster (brought up once by the first of them, removed by the last).
ALL_STEPS=(lint typecheck dockerfiles-check chart-test test-unit autoscale-sim chaos-local-short
  cluster-smoke netpol-smoke e2e dashboard-e2e operator-e2e kind-e2e)
# The steps that need the host cluster: it is brought up once before the first of them and shared
# (each of their own "down" switches is turned off), and removed after the last one if this run
# brought it up.
# dashboard-e2e installs the system (`make up`) into namespace flashsale and removes it again;
# operator-e2e installs its own release (its e2e values) into namespace op-e2e, which cluster-down
# removes with the cluster.
CLUSTER_STEPS=" cluster-smoke netpol-smoke e2e dashboard-e2e operator-e2e "
read -r -a STEPS <<<"${TEST_STEPS:-${ALL_STEPS[*]}}"
export SMOKE_DOWN=0 NETPOL_SMOKE_DOWN=0 E2E_CLUSTER_DOWN=0
# Settings of one step only (E2E_NAMESPACE means another namespace to make e2e).
declare -A STEP_ENV=([operator-e2e]="E2E_NAMESPACE=op-e2e")

mkdir -p reports
STEPS_FILE=reports/steps.json
rm -f "$STEPS_FILE" reports/vitest.json
echo '[]' >"$STEPS_FILE"

# record STEP RC SECONDS: append one outcome to reports/steps.json.
record() {
  node -e '
    const fs = require("node:fs");
    const [file, step, rc, seconds] = process.argv.slice(1);
    const all = JSON.parse(fs.readFileSync(file, "utf8"));
    all.push({ step, passed: rc === "0", exitCode: Number(rc), seconds: Number(seconds) });
    fs.writeFileSync(file, JSON.stringify(all, null, 2) + "\n");
  ' "$STEPS_FILE" "$1" "$2" "$3"
}

run_step() {
  local step=$1 t0 rc
  t0=$(date +%s)
  log test "▶ make $step"
  local -a step_env
  read -r -a step_env <<<"${STEP_ENV[$step]:-}"
  env "${step_env[@]}" make --no-print-directory "$step"
  rc=$?
  record "$step" "$rc" "$(($(date +%s) - t0))"
  if ((rc == 0)); then
    log test "✔ make $step ($(($(date +%s) - t0))s)"
  else
    log test "✘ make $step failed with exit code $rc ($(($(date +%s) - t0))s)"
  fi
  return "$rc"
}

for step in "${SETUP_STEPS[@]}"; do
  if ! run_step "$step"; then
    log test "set-up step '$step' failed: no test ran"
    node hack/test-summary.mjs
    exit 1
  fi
done
last_cluster_step=""
for step in "${STEPS[@]}"; do
  if [[ $CLUSTER_STEPS == *" $step "* ]]; then last_cluster_step=$step; fi
done
cluster_was_up=unknown
for step in "${STEPS[@]}"; do
  if [[ $CLUSTER_STEPS == *" $step "* && $cluster_was_up == unknown ]]; then
    if hack/cluster/kubectl.sh get --raw /readyz >/dev/null 2>&1; then cluster_was_up=1; else cluster_was_up=0; fi
    run_step cluster-up || true
  fi
  run_step "$step" || true
  # the host cluster goes as soon as the last step that needs it is done (kind-e2e runs its own)
  if [[ $step == "$last_cluster_step" && $cluster_was_up == 0 && ${TEST_KEEP_CLUSTER:-0} != 1 ]]; then
    run_step cluster-down || true
  fi
done
log test "all steps done in $(elapsed)s"
node hack/test-summary.mjs
