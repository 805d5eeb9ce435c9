import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // Real PostgreSQL and real argon2 on a 2-core machine: generous timeouts, no timing asserts.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    maxWorkers: 2,
    sequence: { hooks: 'list' },
    env: { NODE_ENV: 'test' },
  },
});
