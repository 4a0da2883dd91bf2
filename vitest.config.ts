import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test-fixtures/**/*.test.ts'],
    environment: 'node',
    testTimeout: 60_000,
    pool: 'forks',
    // Node runs the relaxed-SIMD kernels as the CLI and Chromium do, so that tests comparing the page's path with the CLI's hold to the bit
    setupFiles: ['src/cli/relaxed-simd.ts'],
  },
});
