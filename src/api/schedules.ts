/**
 * GET /v1/schedules/:model/:steps: the schedule file, or one plan chosen by `budget`,
 * `speedup` or `maxCost` (the plan resolver's rules). Responses carry a strong ETag and a
 * revalidating cache policy: the URL is not versioned and schedules are re-shipped, so a
 * cache may keep a copy for a few minutes and must then ask (a 304 costs no body).
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import { hexDigest } from '../core/digest.ts'
import { toCacheDitConfig } from '../core/cache-dit.ts'
import { choosePlan } from '../core/resolve.ts'
import { scheduleSchema, type Schedule, type ScheduleStore } from '../core/schedule.ts'
import { isModelId } from '../runtime/schedule-store.ts'
import { ApiError, validationHook } from './errors.ts'
import { errorResponse } from './openapi.ts'
import {
  cacheDitResponseSchema,
  planResponseSchema,
  scheduleParamsSchema,
  scheduleQuerySchema,
} from './schemas.ts'

export const SCHEDULE_CACHE_CONTROL = 'public, max-age=300, must-revalidate'

/** Step counts as file names write them: `050` is not the 50-step file. */
const STEPS = /^[1-9][0-9]{0,3}$/

/** Loads a schedule or throws the 404 that lists what exists. */
async function findSchedule(
  store: ScheduleStore,
  model: string,
  stepsParam: string,
): Promise<Schedule> {
  const index = await store.index()
  const entry = isModelId(model) ? index.models.find((m) => m.model === model) : undefined
  if (!entry) {
    throw new ApiError(404, {
      code: 'unknown_model',
      message: `no schedules for model '${model}'`,
      field: 'model',
      allowed: index.models.map((m) => m.model),
    })
  }
  const schedule = STEPS.test(stepsParam) ? await store.get(model, Number(stepsParam)) : undefined
  if (!schedule) {
    throw new ApiError(404, {
      code: 'unknown_steps',
      message: `no ${stepsParam}-step schedule for '${model}'`,
      field: 'steps',
      allowed: entry.schedules.map((s) => s.steps),
    })
  }
  return schedule
}

const NUMBER_FORMAT: Record<string, RegExp> = {
  budget: /^[0-9]{1,4}$/,
  speedup: /^[0-9]{1,4}(\.[0-9]{1,6})?$/,
  maxCost: /^[0-9]{1,15}(\.[0-9]{1,15})?$/,
}

/**
 * Query numbers are written plainly: `0x0a`, `1e1`, ` 10 ` and an empty value are not numbers
 * (a coercing parser would accept them), and a repeated parameter is ambiguous.
 */
const strictQuery: MiddlewareHandler = async function strictQuery(c, next) {
  for (const [name, values] of Object.entries(c.req.queries())) {
    if (values.length > 1) {
      throw new ApiError(400, {
        code: 'duplicate_parameter',
        message: `'${name}' appears ${values.length} times; send it once`,
        field: name,
      })
    }
    const format = NUMBER_FORMAT[name]
    if (format && !format.test(values[0])) {
      throw new ApiError(400, {
        code: 'invalid_field',
        message: `${name}: '${values[0]}' is not a plain decimal number`,
        field: name,
      })
    }
  }
  return next()
}

export const scheduleRoute = createRoute({
  method: 'get',
  path: '/v1/schedules/{model}/{steps}',
  summary: 'A schedule file, or one plan of it',
  middleware: [strictQuery] as const,
  request: { params: scheduleParamsSchema, query: scheduleQuerySchema },
  responses: {
    200: {
      description: 'The schedule file (no selector) or one plan; ETag, revalidating caching',
      content: {
        'application/json': {
          schema: scheduleSchema.or(planResponseSchema).or(cacheDitResponseSchema),
        },
      },
    },
    304: { description: 'Not modified (If-None-Match)' },
    400: errorResponse('Bad selector, naming the field and what it allows'),
    404: errorResponse('Unknown model or steps, listing what exists'),
    503: errorResponse('The schedule file failed verification on this host'),
  },
})

export function registerSchedules(app: OpenAPIHono, store: ScheduleStore): void {
  const memo = new Map<string, Promise<{ body: string; tag: string }>>()
  const cached = (key: string, make: () => unknown) => {
    let hit = memo.get(key)
    if (!hit) {
      const body = JSON.stringify(make())
      hit = hexDigest('SHA-1', body).then((h) => ({ body, tag: `"${h}"` }))
      memo.set(key, hit) // keys are (file, plan) pairs, so this stays as small as the schedules
    }
    return hit
  }

  app.openapi(
    scheduleRoute,
    async (c) => {
      const { model: modelParam, steps: stepsParam } = c.req.valid('param')
      const schedule = await findSchedule(store, modelParam, stepsParam)
      const query = c.req.valid('query')
      const base = `${schedule.model}/${schedule.steps}`
      let entry: { body: string; tag: string }
      const selected =
        query.budget !== undefined || query.speedup !== undefined || query.maxCost !== undefined
      if (query.format === 'cache-dit' && !selected) {
        throw new ApiError(400, {
          code: 'invalid_field',
          message: 'format=cache-dit exports one plan: add budget, speedup or maxCost',
          field: 'budget',
          allowed: schedule.plans.map((p) => p.budget),
        })
      }
      if (!selected) {
        entry = await cached(base, () => schedule)
      } else {
        const plan = choosePlan(schedule, query)
        const { model, modelSha256, steps, solver, forecaster } = schedule
        entry =
          query.format === 'cache-dit'
            ? await cached(`${base}#${plan.budget}#cache-dit`, () =>
                toCacheDitConfig(schedule, plan),
              )
            : await cached(`${base}#${plan.budget}`, () => ({
                model,
                modelSha256,
                steps,
                solver,
                forecaster,
                plan,
              }))
      }
      const headers = { ETag: entry.tag, 'Cache-Control': SCHEDULE_CACHE_CONTROL }
      // answered here rather than by hono/etag, which builds the full response first
      if (matches(c.req.header('if-none-match'), entry.tag)) return c.body(null, 304, headers)
      return c.body(entry.body, 200, { ...headers, 'Content-Type': 'application/json' })
    },
    validationHook(scheduleQuerySchema),
  )
}

/** If-None-Match against a strong tag (weak comparison, as RFC 9110 asks for GET). */
function matches(header: string | undefined, tag: string): boolean {
  if (!header) return false
  return (
    header.trim() === '*' || header.split(',').some((t) => t.trim().replace(/^W\//, '') === tag)
  )
}
