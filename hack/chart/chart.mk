# hack/chart/chart.mk: the Helm chart's tests. Included by the top-level Makefile.

E2E_TIMEOUT ?= 1800

##@ Helm chart

.PHONY: chart-test e2e

chart-test: deps ## Static chart tests: README table, helm lint, helm-unittest, ct lint, kubeconform, kube-score, bad values
	hack/chart/chart-test.sh

e2e: tools deps ## On the host cluster: the chart installed restricted, helm test, upgrade, uninstall, NetworkPolicies
	E2E_TIMEOUT=$(E2E_TIMEOUT) timeout --kill-after=30 $$(( $(E2E_TIMEOUT) + 60 )) hack/chart/e2e.sh

.PHONY: dashboard logs

dashboard: ## Port-forward the dashboard on 127.0.0.1 (the reservation API until it is installed), following pod changes
	hack/chart/access.sh dashboard

logs: ## Follow the logs of every pod of the release
	hack/chart/access.sh logs
