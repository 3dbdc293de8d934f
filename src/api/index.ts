/**
 * The dpcache-edge API as a Hono app factory. Hosts inject I/O: a `ScheduleStore` (files or
 * the ASSETS binding) and optionally a generate backend (in-process engine or a proxy).
 *
 *   const schedules = fileScheduleStore('schedules')
 *   const app = createApp({ schedules, generate: localGenerate(engine, schedules) })
 *
 * Routes are declared with their schemas (`@hono/zod-openapi`), so `/openapi.json` is
 * generated from what the routes really accept and answer, with the limits this app applies.
 */
import { createRoute, OpenAPIHono } from '@hono/zod-openapi'
import { compress } from 'hono/compress'
import type { ScheduleStore } from '../core/schedule.ts'
import type { VerifyingScheduleStore } from '../runtime/schedule-store.ts'
import type { GenerateBackend } from './backend.ts'
import { corsFor, type CorsOrigins } from './cors.ts'
import { ApiError, notFound, onError, sendError } from './errors.ts'
import { registerGenerate } from './generate.ts'
import { registerModels } from './models.ts'
import { BEARER, documentFrame } from './openapi.ts'
import { pageRoutes, type AssetServer } from './pages.ts'
import { registerSchedules } from './schedules.ts'
import { DEFAULT_LIMITS, healthSchema, readySchema, type Limits } from './schemas.ts'

export interface AppDeps {
  schedules: ScheduleStore
  /** Serves POST /v1/generate; without one it answers 503. */
  generate?: GenerateBackend
  /** When set, generate needs `Authorization: Bearer <apiToken>`; schedules stay public. */
  apiToken?: string
  limits?: Partial<Limits>
  /** Origins allowed to call the API from a browser (CORS_ORIGINS); no CORS when absent or empty. */
  cors?: CorsOrigins
  /** The host's static files: with them the app serves `/` (playground) and `/docs`. */
  assets?: AssetServer
}

export const API_VERSION = '1.0.0'

const healthRoute = createRoute({
  method: 'get',
  path: '/healthz',
  summary: 'Liveness, queue depth and refused schedule files',
  responses: {
    200: { description: 'Up', content: { 'application/json': { schema: healthSchema } } },
  },
})

const readyRoute = createRoute({
  method: 'get',
  path: '/readyz',
  summary: 'Readiness: models loaded and every graph warmed at the batch sizes served',
  responses: {
    200: { description: 'Ready', content: { 'application/json': { schema: readySchema } } },
    503: {
      description: 'Still loading or warming up',
      content: { 'application/json': { schema: readySchema } },
    },
  },
})

/** The app hosts serve (`app.fetch`) and tests call (`app.request`). */
export type App = OpenAPIHono

export function createApp(deps: AppDeps): App {
  const limits = { ...DEFAULT_LIMITS, ...deps.limits } satisfies Limits
  const app = new OpenAPIHono()
  app.onError(onError)
  if (deps.cors && deps.cors.length > 0) app.use(corsFor(deps.cors))
  // JSON answers are compressed when the client accepts it; PNGs already are
  app.use(compress())

  const refused = () =>
    'refused' in deps.schedules ? (deps.schedules as VerifyingScheduleStore).refused() : []
  app.openapi(healthRoute, async (c) => {
    await deps.schedules.index().catch(() => undefined) // a refused index shows up below
    const body = {
      ok: true,
      generate: deps.generate?.kind ?? ('none' as const),
      queue: deps.generate?.stats?.(),
      schedules: { refused: refused() },
      hosts: deps.generate?.hosts?.(),
    }
    return c.json(body, 200, { 'Cache-Control': 'no-store' })
  })
  // readiness: a load balancer (or the Worker's pool) sends generate here only once it is 200
  app.openapi(readyRoute, (c) => {
    const ready = deps.generate?.ready?.() ?? true
    const body = { ready, generate: deps.generate?.kind ?? ('none' as const) }
    return ready
      ? c.json(body, 200, { 'Cache-Control': 'no-store' })
      : c.json(body, 503, { 'Cache-Control': 'no-store' })
  })
  registerModels(app, deps.schedules, deps.generate)
  registerSchedules(app, deps.schedules)
  registerGenerate(app, deps.generate, limits, deps.apiToken)

  app.openAPIRegistry.registerComponent('securitySchemes', 'bearer', BEARER)
  // built on first request, not with the app: a Worker isolate's first request of any kind
  // should not pay for turning every schema into JSON Schema
  let document: string | undefined
  app.get('/openapi.json', (c) => {
    document ??= JSON.stringify(app.getOpenAPI31Document(documentFrame(API_VERSION)))
    return c.body(document, 200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'public, max-age=300',
    })
  })
  if (deps.assets) app.route('/', pageRoutes(deps.assets))
  app.notFound(methodAware(app))
  return app
}

/** 405 with `Allow` when the path exists under other methods; the 404 envelope otherwise. */
function methodAware(app: OpenAPIHono) {
  const routes = app.routes
    .filter((r) => r.method !== 'ALL')
    .map((r) => ({ method: r.method, pattern: pathPattern(r.path) }))
  return (c: Parameters<Parameters<OpenAPIHono['notFound']>[0]>[0]) => {
    const methods = [
      ...new Set(routes.filter((r) => r.pattern.test(c.req.path)).map((r) => r.method)),
    ]
    if (methods.includes('GET')) methods.push('HEAD')
    // no route at this path, or a route of this very method that found nothing (a missing
    // static file, say): that is a 404, not a wrong method
    if (methods.length === 0 || methods.includes(c.req.method)) return notFound(c)
    const allow = methods.join(', ')
    return sendError(
      c,
      new ApiError(
        405,
        {
          code: 'method_not_allowed',
          message: `${c.req.method} is not allowed on ${c.req.path}`,
          allowed: methods,
        },
        { Allow: allow },
      ),
    )
  }
}

/** A Hono route path (`/v1/schedules/:model/:steps`, `/models/*`) as an anchored RegExp. */
function pathPattern(path: string): RegExp {
  const source = path
    .split('/')
    .map((seg) =>
      seg === '*'
        ? '.*'
        : seg.startsWith(':')
          ? '[^/]+'
          : seg.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('/')
  return new RegExp(`^${source}$`)
}

// the in-process backend (local.ts) is imported by the hosts that run it, so the Worker
// bundle never carries the PNG encoder
export type { GenerateBackend } from './backend.ts'
export type { CorsOrigins } from './cors.ts'
export type { AssetServer } from './pages.ts'
