import { defineConfig } from 'vitest/config';

// The unit tests alone (npm run test:unit): no global setup, so no runtime builds; seconds, not minutes.
export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
