/**
 * GET /v1/schedules/:model/:steps: the schedule file, or one plan chosen by `budget`,
 * `speedup` or `maxCost`. Schedules are static build outputs, so responses carry a strong
 * ETag and `immutable` caching; bodies and tags are computed once per (file, plan).
 */
import { zValidator } from '@hono/zod-validator'
import { Hono } from 'hono'
import { choosePlan } from '../core/resolve.ts'
import type { Schedule, ScheduleStore } from '../core/schedule.ts'
import { isModelId } from '../runtime/schedule-store.ts'
import { ApiError, validationHook } from './errors.ts'
import { scheduleQuerySchema } from './schemas.ts'

/** Cache lifetime of schedule responses (a day; the content at a URL never changes). */
export const SCHEDULE_CACHE_CONTROL = 'public, max-age=86400, immutable'

async function sha1(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}

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
  const steps = /^[0-9]{1,4}$/.test(stepsParam) ? Number(stepsParam) : NaN
  const schedule = Number.isNaN(steps) ? undefined : await store.get(model, steps)
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

export function scheduleRoutes(store: ScheduleStore): Hono {
  const memo = new Map<string, Promise<{ body: string; tag: string }>>()
  const cached = (key: string, make: () => unknown) => {
    let hit = memo.get(key)
    if (!hit) {
      const body = JSON.stringify(make())
      hit = sha1(body).then((h) => ({ body, tag: `"${h}"` }))
      memo.set(key, hit) // keys are (file, plan) pairs, so this stays as small as the schedules
    }
    return hit
  }

  return new Hono().get(
    '/v1/schedules/:model/:steps',
    zValidator('query', scheduleQuerySchema, validationHook(scheduleQuerySchema)),
    async (c) => {
      const schedule = await findSchedule(store, c.req.param('model'), c.req.param('steps'))
      const query = c.req.valid('query')
      const base = `${schedule.model}/${schedule.steps}`
      let entry: { body: string; tag: string }
      if (
        query.budget === undefined &&
        query.speedup === undefined &&
        query.maxCost === undefined
      ) {
        entry = await cached(base, () => schedule)
      } else {
        const plan = choosePlan(schedule, query)
        const { model, modelSha256, steps, solver, forecaster } = schedule
        entry = await cached(`${base}#${plan.budget}`, () => ({
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
  )
}

/** If-None-Match against a strong tag (weak comparison, as RFC 9110 asks for GET). */
function matches(header: string | undefined, tag: string): boolean {
  if (!header) return false
  return (
    header.trim() === '*' || header.split(',').some((t) => t.trim().replace(/^W\//, '') === tag)
  )
}
