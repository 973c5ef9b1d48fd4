import { defineProject } from 'vitest/config';

// Integration tests against the test bed's real Prometheus, NATS and control plane.
// `TESTBED_SERVERS=prometheus,nats,etcd,kube-apiserver,kube-controller-manager npx vitest run
// --project operator-integration` starts just those.
export default defineProject({
  test: {
    name: 'operator-integration',
    include: ['test/**/*.test.ts'],
    globalSetup: ['../hack/testbed/src/global-setup.ts'],
    // Leader-election files time leases; one file at a time keeps them clear of each other.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 240_000,
  },
});
