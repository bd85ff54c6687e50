import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Timing tests (rate limits, pauses) measure wall-clock behaviour; on 2 cores, two files at a
    // time keeps them honest while the suite still overlaps I/O waits.
    maxWorkers: 2,
    reporters: ['default'],
    // A test that leaves a socket or timer open keeps its worker alive: fail instead of hanging.
    teardownTimeout: 10_000,
  },
});
