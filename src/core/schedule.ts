/**
 * Schedule files (`schedules/<model>/<steps>.json`) and their index: the static assets the API
 * serves. A schedule is valid only for the model, step count, solver and forecaster it was
 * calibrated with, so all of those travel inside it and the runtime checks them.
 */
import { z } from 'zod'
import { FORECAST_SPACES } from './forecast-spaces.ts'
import { ERROR_METRICS } from './pact.ts'
import { PLAN_METHODS } from './planner.ts'

/**
 * v2 adds per-segment forecaster orders (`plans[].orders`) and refinement provenance; v3 the
 * forecast spaces (`forecaster.spaces`), which change what every skipped step computes, so a
 * reader that knows only v2 must refuse the file rather than run its plans the v2 way; v4
 * per-segment spaces (`plans[].spaces`), which a v3 reader would silently ignore.
 */
export const SCHEDULE_SCHEMA = 'dpcache-schedule/v4'
export const SCHEDULE_SCHEMAS = [
  'dpcache-schedule/v1',
  'dpcache-schedule/v2',
  'dpcache-schedule/v3',
  SCHEDULE_SCHEMA,
] as const
export const INDEX_SCHEMA = 'dpcache-schedule-index/v1'

/** Model ids: one path segment, lower case, never starting with '.' (so never '..'). */
export const MODEL_ID_PATTERN = /^[a-z0-9][a-z0-9._-]{0,63}$/
/** The most sampler steps anything here plans, stores or runs. */
export const MAX_STEPS = 1000

const modelId = z
  .string()
  .regex(MODEL_ID_PATTERN, 'model ids are lower-case letters, digits, ".", "_" and "-"')
const sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lower-case hex sha256')

/** What a skipped step forecasts (schedule v3; the recipe records the same list). */
export const forecastSpacesSchema = z
  .array(z.enum(FORECAST_SPACES))
  .min(1)
  .refine((l) => new Set(l).size === l.length, 'forecast spaces must not repeat')

/** One segment's spaces in a v4 plan, '+'-joined: 'feature+noise' (one line per plan stays short). */
export const spaceSetSchema = z
  .string()
  .refine(
    (v) => forecastSpacesSchema.safeParse(v.split('+')).success,
    `a '+'-joined list of distinct forecast spaces (${FORECAST_SPACES.join(', ')})`,
  )

export const planSchema = z
  .object({
    budget: z.number().int().positive(),
    keySteps: z.array(z.number().int().nonnegative()).min(1),
    mask: z.string().regex(/^[01]+$/, 'mask is a string of 0 and 1'),
    cost: z.number().nonnegative(),
    /**
     * What the paper's released (greedy) planner costs at this budget on the same tensor and
     * settings: the saving of the exact planner is `greedyCost - cost`. Absent in older files.
     */
    greedyCost: z.number().nonnegative().optional(),
    nfe: z.number().int().positive(),
    speedup: z.number().positive(),
    /** v2: orders[m] is the forecaster order after keySteps[m] (absent: forecaster.order) */
    orders: z.array(z.number().int().min(0).max(3)).optional(),
    /** v4: spaces[m] is what the segment after keySteps[m] forecasts (absent: forecaster.spaces) */
    spaces: z.array(spaceSetSchema).optional(),
  })
  .strict()

const order = z.number().int().min(0).max(3)

/** The DP plans a refinement may start from: per-segment orders, or order 1 only. */
export const REFINE_STARTS = ['dp', 'dp-order1'] as const
export type RefineStart = (typeof REFINE_STARTS)[number]
/**
 * What a refinement judges a candidate by, over the judging seeds: the mean of the final
 * images' MSE, or the mean of its logarithm (the per-image mean PSNR up to sign and scale, so
 * one seed with a large error cannot outvote the rest).
 */
export const REFINE_ERRORS = ['final-image-mse', 'final-image-log-mse'] as const
export type RefineError = (typeof REFINE_ERRORS)[number]
/** Where a refined plan's climb began: a DP plan, or a seeded random key set. */
export const REFINE_ORIGINS = [...REFINE_STARTS, 'random'] as const
export type RefineOrigin = (typeof REFINE_ORIGINS)[number]

/** The polish climb from the selected plan, when its end won selection over that plan. */
export const polishedSchema = z.object({ moves: z.array(z.string()), error: z.number() }).strict()

/** One refined budget's provenance: where its climb started, what it did, what shipped. */
export const refinedBudgetSchema = z
  .object({
    budget: z.number().int().positive(),
    start: z
      .object({ keySteps: z.array(z.number().int().nonnegative()), orders: z.array(order) })
      .strict(),
    /** the judging error (a log-MSE is negative) */
    startError: z.number(),
    error: z.number(),
    evals: z.number().int().nonnegative(),
    moves: z.array(z.string()),
    /** which plan shipped: the refined one or the DP start */
    shipped: z.enum(['refined', 'dp']),
    /** where the shipped lineage started; absent: the per-segment-order DP plan ('dp') */
    from: z.enum(REFINE_ORIGINS).optional(),
    /** the climb's state after this many of its runs shipped; absent: its end state */
    stoppedAfter: z.number().int().positive().optional(),
    /** the polish climb's moves and error, when its end shipped (after `moves`) */
    polished: polishedSchema.optional(),
  })
  .strict()

/** How closed-loop refinement changed the DP plans (scripts/lib/refine.ts), for replay. */
export const refinementSchema = z
  .object({
    method: z.literal('hill-climb'),
    /** what a candidate is judged by */
    error: z.enum(REFINE_ERRORS),
    seeds: z.array(z.number().int().nonnegative()),
    classes: z.array(z.number().int().nonnegative()),
    maxEvals: z.number().int().positive(),
    /** seeds that decide between the DP plan and the refined one (disjoint from `seeds`) */
    selectSeeds: z.array(z.number().int().nonnegative()),
    /** the DP plans each searched from, when more than one (scripts/lib/refine-plans.ts) */
    starts: z.array(z.enum(REFINE_STARTS)).optional(),
    /** runs per budget spent on climbs from seeded random key sets, after the DP starts' */
    randomEvals: z.number().int().positive().optional(),
    /** the random climbs moved keys only (every segment order 1) */
    randomKeysOnly: z.boolean().optional(),
    /** runs after which each climb's state was a selection candidate too (early stopping) */
    stops: z.array(z.number().int().positive()).optional(),
    /** runs per budget for a climb over orders and keys from the selected plan (a polish) */
    polishEvals: z.number().int().positive().optional(),
    /** v4: the per-segment spaces the polish chose from (absent: it kept the schedule's) */
    polishSpaces: z.array(spaceSetSchema).min(2).optional(),
    plans: z.array(refinedBudgetSchema),
  })
  .strict()

/** Where an imported cost tensor comes from and under which licence it was released. */
export const originSchema = z
  .object({
    source: z.string().min(1),
    licence: z.string().min(1),
    url: z.string().url().optional(),
  })
  .strict()

export const scheduleSchema = z
  .object({
    schema: z.enum(SCHEDULE_SCHEMAS),
    model: modelId,
    /** sha256 of the model graphs the calibration ran (null for imported tensors). */
    modelSha256: sha256.nullable(),
    steps: z.number().int().min(2).max(MAX_STEPS),
    /**
     * `shift: null` means unknown (an imported tensor whose sampler we did not run): a runtime
     * must check such a schedule against, or fall back to, the model's own manifest.
     */
    solver: z
      .object({ kind: z.literal('flow-euler'), shift: z.number().positive().nullable() })
      .strict(),
    forecaster: z
      .object({
        kind: z.literal('taylor'),
        order: z.number().int().min(0).max(3),
        /** '3d' (exact for order <= 1, `p-1` stand-in above) or '4d' (exact order-2 cost). */
        cost: z.enum(['3d', '4d']),
        includeArrival: z.boolean(),
        metric: z.enum(ERROR_METRICS as [string, ...string[]]),
        /** v2: the orders whose cost tensors the planner chose from, per segment */
        orders: z.array(order).optional(),
        /** v3: the spaces a skipped step forecasts, velocities averaged (absent: ['feature']) */
        spaces: forecastSpacesSchema.optional(),
      })
      .strict(),
    calibration: z
      .object({
        source: z.enum(['calibrated', 'imported']),
        samples: z.number().int().positive().nullable(),
        /** null: not known (imported tensors); [] is never used to mean "unknown". */
        seeds: z.array(z.number().int().nonnegative()).nullable(),
        classes: z.array(z.number().int().nonnegative()).nullable(),
        guidance: z.number().positive().nullable(),
        pactFile: z.string(),
        pactSha256: sha256,
        origin: originSchema.optional(),
        /** v2: one tensor per forecaster order (pactFile is the one of forecaster.order) */
        pactFiles: z.array(z.object({ order, file: z.string(), sha256 }).strict()).optional(),
      })
      .strict(),
    planner: z
      .object({
        method: z.enum(PLAN_METHODS as [string, ...string[]]),
        forcedFirst: z.number().int().nonnegative(),
        forcedLast: z.number().int().nonnegative(),
        maxJump: z.number().int().positive(),
      })
      .strict(),
    plans: z.array(planSchema).min(1),
    refinement: refinementSchema.optional(),
  })
  .strict()
  .superRefine((s, ctx) => {
    const v1 = s.schema === 'dpcache-schedule/v1'
    const version = SCHEDULE_SCHEMAS.indexOf(s.schema) + 1
    if (s.forecaster.spaces && version < 3) {
      ctx.addIssue({
        code: 'custom',
        message: 'forecast spaces need dpcache-schedule/v3 or later',
        path: ['schema'],
      })
    }
    if ((s.plans.some((p) => p.spaces) || s.refinement?.polishSpaces) && version < 4) {
      ctx.addIssue({
        code: 'custom',
        message: 'per-segment forecast spaces need dpcache-schedule/v4',
        path: ['schema'],
      })
    }
    if (
      v1 &&
      (s.refinement ||
        s.forecaster.orders ||
        s.calibration.pactFiles ||
        s.plans.some((p) => p.orders))
    ) {
      ctx.addIssue({
        code: 'custom',
        message: 'per-segment orders and refinement need dpcache-schedule/v2',
        path: ['schema'],
      })
    }
    let last = 0
    s.plans.forEach((p, k) => {
      const where = ['plans', k]
      const issue = (message: string, field: string) =>
        ctx.addIssue({ code: 'custom', message, path: [...where, field] })
      if (p.budget <= last) issue(`budgets must increase (${p.budget} after ${last})`, 'budget')
      last = p.budget
      if (p.keySteps.length !== p.budget)
        issue(`budget ${p.budget} but ${p.keySteps.length} key steps`, 'keySteps')
      if (p.keySteps[0] !== 0) issue('the first key step must be 0', 'keySteps')
      if (p.keySteps.some((t, m) => t >= s.steps || (m > 0 && t <= p.keySteps[m - 1]))) {
        issue(`key steps must increase and stay below ${s.steps}`, 'keySteps')
      }
      if (p.mask.length !== s.steps)
        issue(`mask has ${p.mask.length} chars, expected ${s.steps}`, 'mask')
      else if (
        p.keySteps.some((t) => p.mask[t] !== '1') ||
        [...p.mask].filter((c) => c === '1').length !== p.budget
      ) {
        issue('mask does not match keySteps', 'mask')
      }
      if (p.nfe !== p.budget) issue('nfe must equal budget (one trunk call per key step)', 'nfe')
      if (p.orders && p.orders.length !== p.budget)
        issue(`${p.orders.length} orders for ${p.budget} segments`, 'orders')
      if (p.spaces && p.spaces.length !== p.budget)
        issue(`${p.spaces.length} space sets for ${p.budget} segments`, 'spaces')
    })
  })

export type Schedule = z.infer<typeof scheduleSchema>
export type SchedulePlan = z.infer<typeof planSchema>

export const scheduleIndexSchema = z
  .object({
    schema: z.literal(INDEX_SCHEMA),
    models: z.array(
      z
        .object({
          model: modelId,
          schedules: z.array(
            z
              .object({
                steps: z.number().int().positive(),
                file: z.string().regex(/^[a-z0-9._-]+\/[0-9]+\.json$/),
                sha256,
                budgets: z.array(z.number().int().positive()),
              })
              .strict(),
          ),
        })
        .strict(),
    ),
  })
  .strict()

export type ScheduleIndex = z.infer<typeof scheduleIndexSchema>

/** Validates an unknown value as a schedule, with one readable message listing every issue. */
export function parseSchedule(value: unknown): Schedule {
  const version = /^dpcache-schedule\/v([0-9]+)$/.exec(
    String((value as { schema?: unknown } | null)?.schema ?? ''),
  )
  if (version && !(SCHEDULE_SCHEMAS as readonly string[]).includes(version[0])) {
    throw new ScheduleError(
      `schema: ${version[0]} is newer than this reader, which knows ${SCHEDULE_SCHEMAS.slice(0, -1).join(', ')} and ${SCHEDULE_SCHEMA}; upgrade dpcache-edge or recompute the schedule`,
    )
  }
  const r = scheduleSchema.safeParse(value)
  if (!r.success) throw new ScheduleError(formatIssues(r.error.issues))
  return r.data
}

export function parseScheduleIndex(value: unknown): ScheduleIndex {
  const r = scheduleIndexSchema.safeParse(value)
  if (!r.success) throw new ScheduleError(formatIssues(r.error.issues))
  return r.data
}

export class ScheduleError extends Error {
  override name = 'ScheduleError'
}

function formatIssues(
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): string {
  return issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ')
}

/** The plan selection rules the API offers. Returns undefined when none qualifies. */
export function selectPlan(
  s: Pick<Schedule, 'steps' | 'plans'>,
  by: { budget: number } | { speedup: number } | { maxCost: number },
): SchedulePlan | undefined {
  if ('budget' in by) return s.plans.find((p) => p.budget === by.budget)
  if ('speedup' in by) {
    // among plans at least this fast, the one with the lowest expected error
    const ok = s.plans.filter((p) => s.steps / p.budget >= by.speedup - 1e-9)
    return ok.reduce<SchedulePlan | undefined>(
      (best, p) => (!best || p.cost < best.cost ? p : best),
      undefined,
    )
  }
  return s.plans.find((p) => p.cost <= by.maxCost)
}

/** Where schedules come from: files on Node/Deno, the ASSETS binding on Workers. */
export interface ScheduleStore {
  index(): Promise<ScheduleIndex>
  /** The schedule for a model and step count, or undefined when there is none. */
  get(model: string, steps: number): Promise<Schedule | undefined>
}
