import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'k8s-tests',
    include: ['src/**/*.test.ts'],
    globalSetup: ['../hack/testbed/src/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
