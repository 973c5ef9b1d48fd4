# make bench: the benchmark of issue 12 (not part of make test; it measures, it does not judge).
# BENCH_PROFILE=short (a few minutes) or full; BENCH_PROCESSES=2; BENCH_SYSTEMS to run a subset.
.PHONY: bench
bench: deps build-reservation ## Benchmark: service vs empty handler vs classic design (reports/bench.json)
	BENCH_PROFILE=$${BENCH_PROFILE:-short} tsx k8s-tests/src/bench/bench.ts
