# dashboard/dashboard.mk: targets of the dashboard (included by the top-level Makefile).

##@ Dashboard

DASHBOARD_E2E_TIMEOUT ?= 900

.PHONY: dashboard-build dashboard-test dashboard-e2e

dashboard-build: deps ## Build the dashboard: server into dashboard/dist, page into dashboard/dist/public
	npm run build -w dashboard

dashboard-test: deps ## Dashboard tests: unit, backend against the test bed, headless Chromium (screenshots in reports/)
	@mkdir -p reports
	vitest run --project dashboard --reporter=default --reporter=json --outputFile.json=reports/vitest-dashboard.json

# NAMESPACE (default flashsale): the release there is used as it is; when there is none, the run
# installs it (hack/cluster/make-up.sh, DASHBOARD_E2E_HELM_ARGS passed to helm) and removes it at
# the end (DASHBOARD_E2E_KEEP=1 keeps it). The bound covers a first install that builds images.
dashboard-e2e: deps ## On the host cluster (the chart installed when it is not): the page in Chromium, k6 launched from it; reports/dashboard-e2e.json
	source hack/cluster/env.sh && KUBECONFIG="$$KUBECONFIG_ADMIN" KUBECTL="$$KUBE_BIN_DIR/kubectl" \
		HELM="$$FLASHSALE_BIN/helm-$$HELM_VERSION" \
		timeout --kill-after=30 $(DASHBOARD_E2E_TIMEOUT) tsx dashboard/e2e/dashboard-e2e.ts
