import { defineProject } from 'vitest/config';

// The tests here are of the chaos run's own pieces and need no servers (the run starts its own
// stack; the checker's tests against real servers live in invariants/).
export default defineProject({
  test: {
    name: 'k8s-tests',
    include: ['src/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
