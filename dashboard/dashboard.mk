# dashboard/dashboard.mk: targets of the dashboard (included by the top-level Makefile).

##@ Dashboard

DASHBOARD_E2E_TIMEOUT ?= 900

.PHONY: dashboard-build dashboard-test dashboard-e2e

dashboard-build: deps ## Build the dashboard: server into dashboard/dist, page into dashboard/dist/public
	npm run build -w dashboard

dashboard-test: deps ## Dashboard tests: unit, backend against the test bed, headless Chromium (screenshots in reports/)
	@mkdir -p reports
	vitest run --project dashboard --reporter=default --reporter=json --outputFile.json=reports/vitest-dashboard.json

dashboard-e2e: deps ## On the host cluster with the chart installed: the page in Chromium, k6 launched from it; reports/dashboard-e2e.json
	source hack/cluster/env.sh && KUBECONFIG="$$KUBECONFIG_ADMIN" KUBECTL="$$KUBE_BIN_DIR/kubectl" \
		timeout --kill-after=30 $(DASHBOARD_E2E_TIMEOUT) tsx dashboard/e2e/dashboard-e2e.ts

