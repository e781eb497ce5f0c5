import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Tests spawn worker threads and native thread pools; the machine has 2 cores.
    pool: 'forks',
    maxWorkers: 2,
  },
});
