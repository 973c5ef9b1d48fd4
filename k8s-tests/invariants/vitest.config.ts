import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'invariants',
    include: ['test/**/*.test.ts'],
    // The snapshot reader's test needs Postgres and Redis: `TESTBED_SERVERS=postgres,redis npx
    // vitest run --project invariants` starts just those.
    globalSetup: ['../../hack/testbed/src/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
