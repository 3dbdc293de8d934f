import { defineConfig } from 'vitest/config'

// The pool test starts three Node hosts and two `wrangler dev` edges: one file, generous
// limits for a loaded 2-core machine (it finishes in well under a minute when idle).
export default defineConfig({
  test: {
    include: ['test/pool/**/*.test.ts'],
    testTimeout: 180_000,
    hookTimeout: 200_000,
  },
})
