/**
 * Request and response schemas of the v1 API. Validation and `/openapi.json` both come from
 * here, so the document cannot drift from what the routes accept.
 */
import { z } from 'zod'
import { MAX_STEPS, MODEL_ID_PATTERN, planSchema, scheduleSchema } from '../core/schedule.ts'

/** Limits a deployment may tighten; the schemas are built from them. */
export interface Limits {
  /** Largest generate body in bytes. */
  bodyBytes: number
  /** Most images one generate request may ask for. */
  maxBatch: number
  /** Highest step count a generate request may ask for. */
  maxSteps: number
}

export const DEFAULT_LIMITS: Limits = { bodyBytes: 4096, maxBatch: 16, maxSteps: MAX_STEPS }

/** Seeds are 32-bit; image k of a batch uses seed + k, which must stay within 32 bits too. */
export const SEED_MAX = 2 ** 32 - 1
const SEED_RANGE = `seed must be an integer in [0, ${SEED_MAX}]`

export function generateRequestSchema(limits: Limits) {
  return z
    .strictObject({
      model: z
        .string()
        .regex(MODEL_ID_PATTERN, 'not a model id')
        .describe('Model id, see GET /v1/models'),
      class: z.number().int().min(0).max(65_535).describe('Class label; the model sets the range'),
      seed: z
        .number({ error: SEED_RANGE })
        .int({ error: SEED_RANGE })
        .min(0, { error: SEED_RANGE })
        .max(SEED_MAX, { error: SEED_RANGE })
        .optional()
        .describe(
          'Noise seed; image k uses seed + k, so seed + batch - 1 <= 4294967295. Random when absent',
        ),
      steps: z
        .number()
        .int()
        .min(2)
        .max(limits.maxSteps)
        .optional()
        .describe('Sampling steps; the model default when absent'),
      budget: z
        .number()
        .int()
        .min(1)
        .max(limits.maxSteps)
        .optional()
        .describe('Key steps (NFE); steps = full compute (the default)'),
      speedup: z
        .number()
        .min(1)
        .max(limits.maxSteps)
        .optional()
        .describe('Cheapest plan with steps / budget >= speedup'),
      guidance: z
        .number()
        .min(0)
        .max(20)
        .optional()
        .describe('Classifier-free guidance scale; the model default when absent'),
      batch: z
        .number()
        .int()
        .min(1)
        .max(limits.maxBatch)
        .default(1)
        .describe('Images (seeds seed..seed+batch-1)'),
      format: z
        .enum(['png', 'json'])
        .default('png')
        .describe('png: one image or a grid; json: base64 PNGs and timing'),
    })
    .refine((r) => r.budget === undefined || r.speedup === undefined, {
      path: ['speedup'],
      message: 'send budget or speedup, not both',
    })
    .superRefine((r, ctx) => {
      if (r.seed !== undefined && r.seed + r.batch - 1 > SEED_MAX) {
        const max = SEED_MAX - r.batch + 1
        ctx.addIssue({
          code: 'custom',
          path: ['seed'],
          message: `seed + batch - 1 must be at most ${SEED_MAX} (image k uses seed + k): with batch ${r.batch}, seed at most ${max}`,
          params: { allowed: { min: 0, max } },
        })
      }
    })
}

export type GenerateRequest = z.output<ReturnType<typeof generateRequestSchema>>

/** Path of GET /v1/schedules/:model/:steps; unknown values are a 404 listing what exists. */
export const scheduleParamsSchema = z.object({
  model: z.string().describe('Model id, see GET /v1/models'),
  steps: z.string().describe('Sampler steps, as the index lists them (e.g. 50)'),
})

/** Query string of GET /v1/schedules/:model/:steps: at most one selector. */
export const scheduleQuerySchema = z
  .strictObject({
    budget: z.coerce
      .number()
      .int()
      .min(1)
      .max(MAX_STEPS)
      .optional()
      .describe('Exactly this many key steps'),
    speedup: z.coerce
      .number()
      .min(1)
      .max(MAX_STEPS)
      .optional()
      .describe('Lowest-cost plan with steps / budget >= speedup'),
    maxCost: z.coerce
      .number()
      .min(0)
      .optional()
      .describe('Smallest budget whose expected cost <= maxCost'),
    format: z
      .enum(['dpcache', 'cache-dit'])
      .optional()
      .describe(
        "dpcache (default): our schedule JSON; cache-dit: one plan as cache-dit's static step mask (needs a selector)",
      ),
  })
  .refine((q) => [q.budget, q.speedup, q.maxCost].filter((v) => v !== undefined).length <= 1, {
    path: ['speedup'],
    message: 'use one of budget, speedup, maxCost',
  })

export const errorSchema = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
    allowed: z
      .union([
        z.object({ min: z.number().optional(), max: z.number().optional() }),
        z.array(z.union([z.string(), z.number()])),
      ])
      .optional(),
  }),
})

const file = scheduleSchema.shape
export const planResponseSchema = z.object({
  model: file.model,
  modelSha256: file.modelSha256,
  steps: file.steps,
  solver: file.solver,
  forecaster: file.forecaster,
  plan: planSchema,
})

/** One plan as cache-dit takes it (src/core/cache-dit.ts). */
export const cacheDitResponseSchema = z.object({
  format: z.literal('cache-dit'),
  model: z.string(),
  budget: z.number().int(),
  num_inference_steps: z.number().int().describe('DBCacheConfig(num_inference_steps=...)'),
  steps_computation_mask: z
    .array(z.number().int().min(0).max(1))
    .describe('DBCacheConfig(steps_computation_mask=...): 1 compute, 0 cache'),
  steps_computation_policy: z.literal('static'),
  taylorseer_order: z.number().int().describe('TaylorSeerCalibratorConfig(taylorseer_order=...)'),
  key_steps: z.array(z.number().int()),
  cost: z.number(),
  greedy_cost: z
    .number()
    .nullable()
    .describe("What the paper's greedy planner's plan costs at this budget"),
})

export const modelsResponseSchema = z.object({
  models: z.array(
    z.object({
      id: z.string(),
      generate: z.boolean().describe('Whether this host runs the model itself'),
      offers: z
        .array(z.enum(['schedules', 'generate']))
        .describe('schedules: plans to fetch; generate: POST /v1/generate runs it here'),
      classes: z.number().int().optional(),
      defaultSteps: z.number().int().optional(),
      defaultGuidance: z.number().optional(),
      image: z
        .object({ channels: z.number().int(), height: z.number().int(), width: z.number().int() })
        .optional(),
      schedules: z.array(
        z.object({ steps: z.number().int(), budgets: z.array(z.number().int()), url: z.string() }),
      ),
    }),
  ),
})

export const generateJsonSchema = z.object({
  model: z.string(),
  steps: z.number().int(),
  budget: z.number().int(),
  keySteps: z.array(z.number().int()),
  nfe: z.number().int().describe('Trunk evaluations of the run (equals budget)'),
  timing: z.object({
    totalMs: z.number().describe('Queue wait plus the sampler run'),
    queueMs: z.number(),
    trunkMs: z.number().describe('Of the whole micro-batch this request ran in'),
    headMs: z.number(),
  }),
  images: z.array(
    z.object({
      class: z.number().int(),
      seed: z.number().int(),
      png: z.string().describe('base64 PNG'),
    }),
  ),
})

export const healthSchema = z.object({
  ok: z.boolean(),
  generate: z.enum(['local', 'remote', 'none']),
  queue: z
    .object({
      queued: z.number().int(),
      running: z.number().int(),
      batches: z.number().int().optional(),
    })
    .optional(),
  schedules: z.object({
    refused: z
      .array(z.object({ file: z.string(), reason: z.string() }))
      .describe('Schedule files this host would not serve, and why'),
  }),
  hosts: z
    .array(
      z.object({
        name: z.string().describe('Service binding name, or endpoint URL without credentials'),
        state: z.enum(['healthy', 'cooling']),
        coolingUntil: z.string().optional().describe('ISO time the cool-down ends'),
        consecutiveFailures: z.number().int(),
        recentFailures: z.array(z.object({ at: z.string(), reason: z.string() })),
      }),
    )
    .optional()
    .describe("The Worker's generate hosts (docs/deploy.md, The pool of hosts)"),
})

export const readySchema = z.object({
  ready: z.boolean(),
  generate: z.enum(['local', 'remote', 'none']),
})
