# hack/cluster/netpol.mk: the NetworkPolicy enforcement test of the host cluster.
# Included by the top-level Makefile (-include hack/cluster/netpol.mk).

NETPOL_SMOKE_TIMEOUT ?= 300

##@ NetworkPolicies (host cluster)

.PHONY: netpol-smoke

netpol-smoke: tools ## On the host cluster: prove NetworkPolicies are enforced (reports/netpol-smoke.json)
	NETPOL_SMOKE_TIMEOUT=$(NETPOL_SMOKE_TIMEOUT) timeout --kill-after=30 $$(( $(NETPOL_SMOKE_TIMEOUT) + 60 )) \
		k8s-tests/netpol/smoke.sh
