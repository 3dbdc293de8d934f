/**
 * The Worker inside workerd (@cloudflare/vitest-pool-workers), configured from the real
 * wrangler.toml. Until `schedules/index.json` exists the assets directory is replaced by
 * fixture schedules made with the core planner; the tests read whatever index is served.
 * GENERATE is a fake GPU backend (a Node function service binding) that echoes what reached it.
 */
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { cloudflareTest } from '@cloudflare/vitest-pool-workers'
import { defineConfig } from 'vitest/config'
import { fixtureSchedule, writeScheduleDir } from '../fixtures/schedules.ts'

const root = join(import.meta.dirname, '..', '..')
let assets: { directory: string; binding: string } | undefined
if (!existsSync(join(root, 'schedules', 'index.json'))) {
  const directory = join(root, '.tmp', 'worker-schedules')
  await writeScheduleDir(directory, [
    fixtureSchedule('toy-dit', 10),
    fixtureSchedule('toy-dit', 20),
  ])
  assets = { directory, binding: 'ASSETS' }
}

export default defineConfig({
  root,
  plugins: [
    cloudflareTest({
      wrangler: { configPath: join(root, 'wrangler.toml') },
      miniflare: {
        ...(assets ? { assets } : {}),
        serviceBindings: {
          async GENERATE(request: Request) {
            return Response.json(
              {
                dispatched: true,
                url: request.url,
                auth: request.headers.get('authorization'),
                body: await request.json(),
              },
              { headers: { 'x-backend': 'fake' } },
            )
          },
        },
      },
    }),
  ],
  test: { include: ['test/worker/**/*.test.ts'] },
})
