/**
 * GET /v1/models: every model that has schedules or runs here, with its step counts and
 * budgets. Merges the schedule index (all hosts) with the engine's models (Node, Deno).
 */
import { createRoute, type OpenAPIHono } from '@hono/zod-openapi'
import type { ScheduleStore } from '../core/schedule.ts'
import type { GenerateBackend } from './backend.ts'
import { modelsResponseSchema } from './schemas.ts'

export const modelsRoute = createRoute({
  method: 'get',
  path: '/v1/models',
  summary: 'Models, their step counts and budgets',
  responses: {
    200: {
      description: 'Models',
      content: { 'application/json': { schema: modelsResponseSchema } },
    },
  },
})

export function registerModels(
  app: OpenAPIHono,
  store: ScheduleStore,
  backend: GenerateBackend | undefined,
): void {
  app.openapi(modelsRoute, async (c) => {
    const index = await store.index()
    const local = backend?.models() ?? []
    const ids = [
      ...new Set([...index.models.map((m) => m.model), ...local.map((m) => m.id)]),
    ].sort()
    const models = ids.map((id) => {
      const info = local.find((m) => m.id === id)
      const schedules = (index.models.find((m) => m.model === id)?.schedules ?? []).map((s) => ({
        steps: s.steps,
        budgets: s.budgets,
        url: `/v1/schedules/${id}/${s.steps}`,
      }))
      const offers = schedules.length > 0 ? (['schedules'] as const) : ([] as const)
      if (!info) return { id, generate: false, offers: [...offers], schedules }
      const { classes, defaultSteps, defaultGuidance, image } = info
      return {
        id,
        generate: true,
        offers: [...offers, 'generate' as const],
        classes,
        defaultSteps,
        defaultGuidance,
        image,
        schedules,
      }
    })
    // short-lived: a host that restarts with another model should show up within a minute
    return c.json({ models }, 200, { 'Cache-Control': 'public, max-age=60' })
  })
}
