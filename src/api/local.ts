/**
 * The in-process generate backend (Node, Deno): resolves a request against the engine's
 * models and the schedule store, then runs it through the micro-batching queue, so requests
 * that share (model, steps, budget, guidance) share one sampler run.
 */
import type { Context } from 'hono'
import type { ResolvedPlan } from '../core/resolve.ts'
import type { ScheduleStore } from '../core/schedule.ts'
import {
  resolveRequest,
  type Engine,
  type GenerateOutput,
  type ModelInfo,
} from '../runtime/engine.ts'
import { encodePng } from '../runtime/png.ts'
import { BatchQueue, type BatchQueueOptions } from '../runtime/queue.ts'
import type { GenerateBackend } from './backend.ts'
import { ApiError } from './errors.ts'
import type { GenerateRequest } from './schemas.ts'

/** One sampler run's shared parameters: the micro-batching key. */
export interface RunGroup {
  plan: ResolvedPlan
  guidance: number
}

type Item = { class: number; seed: number }

export type LocalOptions = Pick<
  BatchQueueOptions<RunGroup, Item, GenerateOutput>,
  'maxBatch' | 'windowMs' | 'maxQueued' | 'timeoutMs' | 'concurrency'
>

/** Resolves a request against a model the engine runs; throws PlanError for what cannot run. */
export async function resolveRun(
  req: GenerateRequest,
  info: ModelInfo,
  store: ScheduleStore,
): Promise<RunGroup> {
  if (req.class >= info.classes) {
    throw new ApiError(400, {
      code: 'invalid_field',
      message: `class must be in [0, ${info.classes - 1}] for ${info.id}`,
      field: 'class',
      allowed: { min: 0, max: info.classes - 1 },
    })
  }
  const plan = await resolveRequest(info, store, {
    steps: req.steps,
    budget: req.budget,
    speedup: req.speedup,
  })
  return { plan, guidance: req.guidance ?? info.defaultGuidance }
}

function base64(bytes: Uint8Array): string {
  let s = ''
  for (let k = 0; k < bytes.length; k += 0x8000)
    s += String.fromCharCode(...bytes.subarray(k, k + 0x8000))
  return btoa(s)
}

const round = (ms: number) => Math.round(ms * 100) / 100

export function localGenerate(
  engine: Engine,
  store: ScheduleStore,
  opts: LocalOptions = {},
): GenerateBackend & { readonly maxBatch: number } {
  const queue = new BatchQueue<RunGroup, Item, GenerateOutput>({
    ...opts,
    key: (g) => `${g.plan.model}\n${g.plan.steps}\n${g.plan.mask}\n${g.guidance}`,
    run: (g, items, signal) => engine.generate({ ...g, items, signal }),
    estimateMs: (g, items) => engine.estimateMs({ ...g, items }),
  })
  const models = engine.models()
  return {
    kind: 'local',
    maxBatch: queue.maxBatch,
    models: () => models,
    stats: () => queue.stats,
    async handle(req: GenerateRequest, c: Context) {
      const arrived = performance.now() // TIMEOUT_MS counts from here, not from the queue
      const info = models.find((m) => m.id === req.model)
      if (!info && (await store.index()).models.some((m) => m.model === req.model)) {
        throw new ApiError(400, {
          code: 'schedules_only',
          message: `${req.model} is offered as schedules only (no weights here): fetch GET /v1/schedules/${req.model}/<steps>?budget=K&format=cache-dit and apply it in your own pipeline`,
          field: 'model',
          allowed: models.map((m) => m.id),
        })
      }
      if (!info) {
        throw new ApiError(404, {
          code: 'unknown_model',
          message: `unknown model '${req.model}'`,
          field: 'model',
          allowed: models.map((m) => m.id),
        })
      }
      if (req.batch > queue.maxBatch) {
        throw new ApiError(400, {
          code: 'invalid_field',
          message: `batch must be at most ${queue.maxBatch} here`,
          field: 'batch',
          allowed: { min: 1, max: queue.maxBatch },
        })
      }
      const group = await resolveRun(req, info, store)
      const seed = req.seed ?? Math.floor(Math.random() * 2 ** 31)
      const items = Array.from({ length: req.batch }, (_, k) => ({
        class: req.class,
        seed: (seed + k) % 2 ** 32,
      }))
      const t0 = performance.now()
      const left = Math.max(1, queue.timeoutMs - (performance.now() - arrived))
      const ticket = await queue.submit(group, items, { signal: c.req.raw.signal, timeoutMs: left })
      const totalMs = performance.now() - t0
      const out = ticket.output
      const images = out.images.slice(ticket.offset, ticket.offset + ticket.count)
      const timing = {
        totalMs: round(totalMs),
        queueMs: round(ticket.queueMs),
        trunkMs: round(out.timing.trunkMs),
        headMs: round(out.timing.headMs),
      }
      const headers: Record<string, string> = {
        'Cache-Control': 'no-store',
        'X-Model': out.model,
        'X-Steps': String(out.steps),
        'X-Budget': String(out.budget),
        'X-NFE': String(out.nfe),
        'X-Key-Steps': out.keySteps.join(','),
        'X-Batch': `requests=${ticket.batchRequests}; items=${ticket.batchItems}`,
        'Server-Timing': Object.entries(timing)
          .map(([k, v]) => `${k.replace(/Ms$/, '')};dur=${v}`)
          .join(', '),
      }
      if (req.format === 'json') {
        return c.json(
          {
            model: out.model,
            steps: out.steps,
            budget: out.budget,
            keySteps: out.keySteps,
            nfe: out.nfe,
            timing,
            images: images.map((im) => ({
              class: im.class,
              seed: im.seed,
              png: base64(encodePng([im.pixels], info.image).png),
            })),
          },
          200,
          headers,
        )
      }
      const { png, columns, rows } = encodePng(
        images.map((im) => im.pixels),
        info.image,
      )
      headers['X-Seeds'] = images.map((im) => im.seed).join(',')
      headers['X-Grid'] = `${columns}x${rows}`
      return c.body(png as Uint8Array<ArrayBuffer>, 200, {
        ...headers,
        'Content-Type': 'image/png',
      })
    },
  }
}
