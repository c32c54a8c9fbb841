// Vitest projects: `unit` runs pure domain and adapter tests in Node; `sync` runs tests that
// start a real sync server on 127.0.0.1. Browser tests are Playwright (test/e2e), not Vitest.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          environment: 'node',
          include: ['src/**/*.test.ts', 'bin/**/*.test.ts', 'sync-server/**/*.test.ts'],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'sync',
          environment: 'node',
          include: ['test/sync/**/*.test.ts', 'test/fuzz/**/*.test.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
