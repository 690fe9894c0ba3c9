import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Stops the run at once, naming what is missing, when a system tool the tests use is not installed.
    globalSetup: ['test/system-tools.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Two cores: more forks than that only adds contention.
    pool: 'forks',
    maxWorkers: 2,
  },
});
