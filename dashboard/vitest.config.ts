import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'dashboard',
    include: ['src/**/*.test.ts', 'web/src/**/*.test.ts', 'test/**/*.test.ts'],
    // The backend and browser tests need the test bed: Postgres, Redis and NATS for the
    // reservation service, Prometheus, and the control plane.
    globalSetup: ['../hack/testbed/src/global-setup.ts'],
    // The browser test renders a live page in Chromium: on a shared 2-core machine it must not
    // compete with the backend test for the CPU.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
