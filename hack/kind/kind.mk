# hack/kind/kind.mk: the kind tests on a build machine (test machinery; users run `make up`).
# Included by the top-level Makefile.

KIND_E2E_TIMEOUT ?= 2700

##@ kind on a machine without Docker service or registry (test machinery, hack/kind/)

.PHONY: kind-e2e kind-e2e-down kind-node-image

kind-e2e: tools deps ## Docker of our own, kind node image built here, make up via kind, a reservation, make down; reports/kind-e2e.json
	timeout --kill-after=60 $(KIND_E2E_TIMEOUT) hack/kind/e2e.sh

kind-e2e-down: ## Remove what an interrupted or KIND_E2E_KEEP=1 kind-e2e left (kind cluster, then its Docker)
	DOCKER_HOST=unix://$${FLASHSALE_DOCKER_DIR:-/var/lib/flashsale-docker}/docker.sock FLASHSALE_CLUSTER=kind \
		KUBECONFIG=$${FLASHSALE_CACHE:-$$HOME/.cache/flashsale}/kind/work/kubeconfig hack/cluster/make-up.sh down || true
	hack/docker/down.sh

kind-node-image: tools ## Build the kind node image (needs DOCKER_HOST, e.g. from hack/docker/up.sh)
	hack/kind/node-image.sh
