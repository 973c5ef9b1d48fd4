# Chaos tests against local processes (included by the top-level Makefile).

##@ Chaos (local processes)

.PHONY: chaos-local
chaos-local: deps build-reservation ## Chaos run: 3+ service processes, 50k attempts, kill -9 and dependency restarts; checks I1-I6
	tsx k8s-tests/src/chaos/chaos-local.ts --profile=full

.PHONY: chaos-local-short
chaos-local-short: deps build-reservation ## The shorter chaos profile that `make test` runs
	tsx k8s-tests/src/chaos/chaos-local.ts --profile=short

.PHONY: build-reservation
build-reservation: deps
	npm run build -w services/reservation
