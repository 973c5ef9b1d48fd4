# The operator's make targets (included from the top-level Makefile).

.PHONY: operator-test
operator-test: deps ## Operator: unit tests, then control-plane/Prometheus/NATS tests on the test bed
	vitest run --project operator
	TESTBED_SERVERS=$${TESTBED_SERVERS:-nats,prometheus,etcd,kube-apiserver,kube-controller-manager} \
		vitest run --project operator-integration

.PHONY: autoscale-sim
autoscale-sim: deps ## Replay traffic traces through the operator, an HPA model and a KEDA model; reports/autoscale-sim.json
	@mkdir -p reports
	tsx operator/src/sim/cli.ts

.PHONY: operator-build
operator-build: deps ## Build the operator to operator/dist (what the image runs)
	npm run build -w operator

.PHONY: operator-e2e
operator-e2e: deps ## On the host cluster with the chart (make up first): scaling, pre-scale, remediation, failover; reports/operator-e2e.json
	operator/e2e/run.sh

.PHONY: crd-upgrade
crd-upgrade: deps ## Apply the chart's CRD server-side (Helm never upgrades crds/), wait for Established, check stored ReservationAutoscalers stay readable
	operator/tools/crd-upgrade.sh
