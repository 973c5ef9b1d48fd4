# hack/cluster/cluster.mk: targets of the host cluster and of the images built without Docker.
# Included by the top-level Makefile (include hack/cluster/cluster.mk).

CLUSTER_SMOKE_TIMEOUT ?= 900

##@ Kubernetes (kind, or a real single-node cluster on this host without Docker)

.PHONY: up down cluster-up cluster-down cluster-smoke images images-import dockerfiles-check

up: deps ## Start a cluster (kind with Docker/Podman, else the host cluster as root) and install the system
	hack/cluster/make-up.sh up

down: ## Remove what `make up` made
	hack/cluster/make-up.sh down

cluster-up: tools ## Start the single-node host cluster (root, Linux, no Docker); idempotent
	hack/cluster/up.sh

cluster-down: ## Stop the host cluster and remove every trace of it
	hack/cluster/down.sh

cluster-smoke: tools deps ## On the host cluster: deploy the stack, check DNS, port-forward, logs, pod replacement
	SMOKE_TIMEOUT=$(CLUSTER_SMOKE_TIMEOUT) timeout --kill-after=30 $$(( $(CLUSTER_SMOKE_TIMEOUT) + 60 )) \
		k8s-tests/cluster-smoke/smoke.sh

images: tools deps ## Build every container image without Docker (cached by content)
	hack/images/build.sh

images-import: tools deps ## Build the images and import them into the host cluster's containerd
	hack/images/build.sh --import

dockerfiles-check: ## Check the Dockerfiles agree with the images built without Docker (user, ports, entrypoint, env)
	hack/images/check-dockerfiles.sh
