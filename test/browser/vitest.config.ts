import { defineConfig } from 'vitest/config'

// Headless Chromium (Debian's /usr/bin/chromium) against a real Node host; run after
// `npm run build:web` (npm test's pretest does it).
export default defineConfig({
  test: {
    include: ['test/browser/**/*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
})
