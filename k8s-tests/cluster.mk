# Load and chaos inside the cluster (included by the top-level Makefile): k6 as an Indexed Job of
# N pods, and pod deletion / eviction / a rolling upgrade under that load, checked per user.

LOAD_NAMESPACE ?= flashsale-load
SCENARIO ?= burst
PROFILE ?= short
PARALLELISM ?= 2
IMAGES_LOCK ?= /tmp/flashsale-images.lock
CLUSTER_LOAD_ENV = NAMESPACE=$(LOAD_NAMESPACE) PROFILE=$(PROFILE) PARALLELISM=$(PARALLELISM)

##@ Load and chaos in the cluster

.PHONY: k6 k6-local chaos k6-image load-stack-up load-stack-down e2e-load

k6-image: tools
	flock $(IMAGES_LOCK) hack/images/build.sh --import k6

k6: deps k6-image ## k6 Job of PARALLELISM pods on the cluster (SCENARIO=burst|ramp|soak, PROFILE=short|full); thresholds on merged samples
	$(CLUSTER_LOAD_ENV) SCENARIO=$(SCENARIO) tsx k8s-tests/src/cluster/k6-cluster.ts

chaos: deps k6-image ## Under a k6 Job's load: delete/evict pods, hit Redis/NATS/Postgres, upgrade; then I1-I6 per user
	$(CLUSTER_LOAD_ENV) tsx k8s-tests/src/cluster/chaos-cluster.ts

k6-local: deps build-reservation ## The same k6 scripts against a local service on 127.0.0.1 (SCENARIO=..., PROFILE=...)
	SCENARIO=$(SCENARIO) PROFILE=$(PROFILE) tsx k8s-tests/src/cluster/k6-local.ts

load-stack-up: tools ## Stand-in system in namespace $(LOAD_NAMESPACE) of the host cluster (smoke stack, 3 replicas, PDB)
	k8s-tests/cluster-load/stack.sh up $(LOAD_NAMESPACE)

load-stack-down: ## Delete namespace $(LOAD_NAMESPACE) (the stand-in stack only)
	k8s-tests/cluster-load/stack.sh down $(LOAD_NAMESPACE)

# The short profiles `make e2e` runs on the installed system (LOAD_NAMESPACE=flashsale there):
# reports/k6-cluster.json and reports/chaos-cluster.json, merged into reports/e2e-cluster.json.
e2e-load: deps k6-image
	$(CLUSTER_LOAD_ENV) SCENARIO=burst tsx k8s-tests/src/cluster/k6-cluster.ts
	$(CLUSTER_LOAD_ENV) tsx k8s-tests/src/cluster/chaos-cluster.ts
