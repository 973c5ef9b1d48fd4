# flashsale: the commands users type. `make help` lists them.
SHELL := bash
.SHELLFLAGS := -euo pipefail -c
.DEFAULT_GOAL := help
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

NPM_STAMP := node_modules/.package-lock.json

##@ Everyday

.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*##"} /^##@/ {printf "\n%s\n", substr($$0, 5)} /^[a-zA-Z0-9_-]+:.*##/ {printf "  make %-16s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

.PHONY: tools
tools: ## Install every tool the tests need (Debian packages, Kubernetes, helm, k6, ...), cached
	@hack/tools.sh

WORKSPACES := hack/testbed services/reservation operator dashboard k8s-tests/invariants k8s-tests

$(NPM_STAMP): package-lock.json package.json $(wildcard $(addsuffix /package.json,$(WORKSPACES)))
	npm ci --no-audit --no-fund
	@touch $(NPM_STAMP)

.PHONY: deps
deps: $(NPM_STAMP) ## Install npm dependencies from the lockfile

.PHONY: lint
lint: deps ## ESLint (typed rules), Prettier and shellcheck
	eslint .
	prettier --check '**/*.{ts,tsx,js,mjs,cjs,json}'
	shellcheck -x -S warning .ci/run $$(git ls-files --cached --others --exclude-standard '*.sh')
	node hack/verify-docs.mjs

.PHONY: typecheck
typecheck: deps ## TypeScript strict type check of every workspace
	npm run typecheck --workspaces --if-present

.PHONY: test
test: ## Everything: set-up, then every test; ends with "N passed, N failed" (hack/test.sh)
	@hack/test.sh

.PHONY: test-unit
test-unit: deps ## Unit and integration tests (vitest) against real servers the test bed starts
	@mkdir -p reports
	vitest run --reporter=default --reporter=json --outputFile.json=reports/vitest.json

##@ Local servers (the test bed)

.PHONY: stack-up
stack-up: deps ## Start Postgres, Redis, NATS, Prometheus and a Kubernetes control plane on free loopback ports
	@tsx hack/testbed/src/cli.ts up > /dev/null

.PHONY: stack-down
stack-down: deps ## Stop them and remove their folder
	@tsx hack/testbed/src/cli.ts down

-include hack/cluster/cluster.mk
-include hack/cluster/netpol.mk
-include k8s-tests/chaos.mk
-include hack/kind/kind.mk
-include hack/chart/chart.mk
-include k8s-tests/cluster.mk
-include operator/operator.mk
-include dashboard/dashboard.mk
-include k8s-tests/bench/bench.mk
