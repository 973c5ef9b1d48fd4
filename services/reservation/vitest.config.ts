import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'reservation',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    // Needs postgres, redis and nats only: `TESTBED_SERVERS=postgres,redis,nats npx vitest run
    // --project reservation` starts just those (the global setup reads the variable).
    globalSetup: ['../../hack/testbed/src/global-setup.ts'],
    // Files are isolated (own database, stream, key prefix; faults.test.ts restarts servers of its
    // own), but the load and fault tests want the machine's cores to themselves.
    fileParallelism: false,
    testTimeout: 120_000,
    hookTimeout: 180_000,
  },
});
