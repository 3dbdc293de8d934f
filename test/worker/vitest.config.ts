/**
 * The Worker inside workerd (@cloudflare/vitest-pool-workers), configured from the real
 * wrangler.toml: the committed `schedules/` are its static assets. GENERATE is a fake GPU
 * backend (a Node function service binding) that echoes what reached it.
 */
import { join } from 'node:path'
import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'

const root = join(import.meta.dirname, '..', '..')

export default defineConfig({
  root,
  plugins: [
    cloudflareTest({
      wrangler: { configPath: join(root, 'wrangler.toml') },
      miniflare: {
        serviceBindings: {
          async GENERATE(request: Request) {
            const body = await request.json()
            const auth = request.headers.get('authorization')
            return Response.json(
              { dispatched: true, url: request.url, auth, body },
              { headers: { 'x-backend': 'fake' } },
            )
          },
        },
      },
    }),
  ],
  // the first request in an isolate builds the app (OpenAPI document, JSON Schemas): seconds
  // on a loaded 2-core machine, past vitest's 5 s default
  test: { include: ['test/worker/**/*.test.ts'], testTimeout: 30_000 },
})
