import { defineConfig } from 'vitest/config'

// Node-side tests: core, runtime, api, scripts and host e2e. The Workers suite runs in workerd
// through its own config (test/worker/vitest.config.ts); the pool test (hosts behind wrangler dev)
// through test/pool/vitest.config.ts.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['test/worker/**', 'test/browser/**', 'test/pool/**', 'node_modules/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
