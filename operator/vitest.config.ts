import { defineProject } from 'vitest/config';

// Unit tests: pure functions and local HTTP servers of their own, no test bed.
export default defineProject({
  test: {
    name: 'operator',
    include: ['src/**/*.test.ts'],
  },
});
