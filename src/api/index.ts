/**
 * The dpcache-edge API as a Hono app factory. Hosts inject I/O: a `ScheduleStore` (files or
 * the ASSETS binding) and optionally a generate backend (in-process engine or a proxy).
 *
 *   const schedules = fileScheduleStore('schedules')
 *   const app = createApp({ schedules, generate: localGenerate(engine, schedules) })
 */
import { Hono } from 'hono'
import type { ScheduleStore } from '../core/schedule.ts'
import type { VerifyingScheduleStore } from '../runtime/schedule-store.ts'
import type { GenerateBackend } from './backend.ts'
import { notFound, onError } from './errors.ts'
import { generateRoutes } from './generate.ts'
import { modelRoutes } from './models.ts'
import { openApiDocument } from './openapi.ts'
import { scheduleRoutes } from './schedules.ts'
import { DEFAULT_LIMITS, type Limits } from './schemas.ts'

export interface AppDeps {
  schedules: ScheduleStore
  /** Serves POST /v1/generate; without one it answers 503. */
  generate?: GenerateBackend
  /** When set, generate needs `Authorization: Bearer <apiToken>`; schedules stay public. */
  apiToken?: string
  limits?: Partial<Limits>
}

export const API_VERSION = '1.0.0'

export function createApp(deps: AppDeps): Hono {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits } satisfies Limits
  const openapi = JSON.stringify(openApiDocument(limits, API_VERSION))
  const app = new Hono()
  app.onError(onError)
  app.notFound(notFound)
  const refused = () => ('refused' in deps.schedules ? (deps.schedules as VerifyingScheduleStore).refused() : [])
  app.get('/healthz', async (c) => {
    await deps.schedules.index().catch(() => undefined) // a refused index shows up below
    return c.json(
      {
        ok: true,
        generate: deps.generate?.kind ?? 'none',
        queue: deps.generate?.stats?.(),
        schedules: { refused: refused() },
      },
      200,
      { 'Cache-Control': 'no-store' },
    )
  })
  app.get('/openapi.json', (c) =>
    c.body(openapi, 200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'public, max-age=300',
    }),
  )
  app.route('/', modelRoutes(deps.schedules, deps.generate))
  app.route('/', scheduleRoutes(deps.schedules))
  app.route('/', generateRoutes(deps.generate, limits, deps.apiToken))
  return app
}

// the in-process backend (local.ts) is imported by the hosts that run it, so the Worker
// bundle never carries the PNG encoder
export type { GenerateBackend } from './backend.ts'
