import { defineConfig } from 'vitest/config';

// One vitest run for the whole repo: each workspace is a project; the real servers they talk to
// are started once by the test bed's global setup and stopped when the run ends.
export default defineConfig({
  test: {
    projects: [
      'hack/testbed',
      'services/reservation',
      'k8s-tests/invariants',
      'k8s-tests',
      'operator',
      'operator/vitest.integration.config.ts',
      'dashboard',
    ],
  },
});
