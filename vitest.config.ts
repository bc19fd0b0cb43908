import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    // a fresh machine compiles a runtime for the engine (seconds when quiet, a minute on a loaded 2 cores)
    testTimeout: 240_000,
    hookTimeout: 300_000,
    pool: 'forks',
    // Two cores: integration tests start real builds and engines.
    maxWorkers: 2,
  },
});
