/**
 * A model's schedule recipe, `schedules/<model>/recipe.json`: every option that decides the
 * shipped files, so that `npm run schedules -- --model M` (no other flag) reproduces them byte
 * for byte. The schedules script takes it as its defaults; flags override it, and the recipe
 * written back is the one the files were made with.
 *
 * Two stages, recorded separately so a check can replay the cheap one:
 *   1. the cost tensor: calibrated (model, samples, seed, guidance, backend) or imported (where
 *      from, under which licence), then the exact DP over it with `planner`: deterministic, so
 *      CI replans every committed tensor and compares;
 *   2. `refinement` (optional): a closed-loop step that runs the model and may replace a
 *      budget's key steps. Too slow for CI, so its *result* is recorded (`plans[steps][budget]`)
 *      and the replay applies the recorded keys instead of rerunning it.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { z } from 'zod'
import { ERROR_METRICS, type ErrorMetric } from '../../src/core/pact.ts'
import {
  forecastSpacesSchema,
  MAX_STEPS,
  MODEL_ID_PATTERN,
  originSchema,
  refinedBudgetSchema,
  refinementSchema,
  spaceSetSchema,
} from '../../src/core/schedule.ts'
import { writeFileAtomic } from './atomic.ts'

export const RECIPE_SCHEMA = 'dpcache-recipe/v1'

const int = z.number().int()
const keys = z.array(int.nonnegative()).min(1)
const orders = z.array(int.min(0).max(3))
/**
 * One refined budget with its provenance (scripts/lib/refine-plans.ts), or just its key steps:
 * the plan, then the schedule's provenance record without its budget, in the schedule's key
 * order (plan-and-write spreads it into the schedule as it stands). Its start must have keys.
 */
const { budget: _budget, ...provenance } = refinedBudgetSchema.shape
export const refinedPlanSchema = z
  .object({
    keySteps: keys,
    orders,
    /** per-segment spaces, where the polish chose them (schedule v4) */
    spaces: z.array(spaceSetSchema).optional(),
    ...provenance,
    start: z.object({ keySteps: keys, orders }).strict(),
  })
  .strict()
export type RefinedPlan = z.infer<typeof refinedPlanSchema>
const keyLists = z.record(
  z.string().regex(/^[0-9]+$/),
  z.record(z.string().regex(/^[0-9]+$/), z.union([keys, refinedPlanSchema])),
)

export const recipeSchema = z
  .object({
    schema: z.literal(RECIPE_SCHEMA),
    model: z.string().regex(MODEL_ID_PATTERN),
    /** The step counts shipped with this recipe. */
    steps: z.array(int.min(2).max(MAX_STEPS)).min(1),
    tensor: z.discriminatedUnion('source', [
      z
        .object({
          source: z.literal('calibrated'),
          samples: int.min(1),
          seed: int.nonnegative(),
          guidance: z.number().positive(),
          backend: z.string(),
        })
        .strict(),
      z
        .object({
          source: z.literal('imported'),
          origin: originSchema,
          /** What we know of how the tensor was made, in words (what is not known stays null in the schedule). */
          notes: z.string().optional(),
        })
        .strict(),
    ]),
    forecaster: z
      .object({
        order: int.min(0).max(3),
        cost: z.enum(['3d', '4d']),
        metric: z.enum(ERROR_METRICS as [ErrorMetric, ...ErrorMetric[]]),
        includeArrival: z.boolean(),
        /** per-segment orders the DP chose from (schedule v2); absent: `order` everywhere */
        orders: orders.optional(),
        /** what a skipped step forecasts (schedule v3); absent: the trunk feature only */
        spaces: forecastSpacesSchema.optional(),
      })
      .strict(),
    planner: z
      .object({
        forcedFirst: int.nonnegative(),
        forcedLast: int.nonnegative(),
        /** null: no limit (N). */
        maxJump: int.positive().nullable(),
      })
      .strict(),
    refinement: z
      .object({
        method: z.string().min(1),
        options: z.record(z.string(), z.unknown()),
        /** plans[steps][budget] = key steps the refinement chose (replayed, not rerun). */
        plans: keyLists,
      })
      .strict()
      .nullable(),
  })
  .strict()

export type Recipe = z.infer<typeof recipeSchema>

export const recipePath = (outDir: string, model: string) => join(outDir, model, 'recipe.json')

/** The recorded recipe, or undefined when the model has none yet; a broken one is an error. */
export async function readRecipe(outDir: string, model: string): Promise<Recipe | undefined> {
  let text: string
  try {
    text = await readFile(recipePath(outDir, model), 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
  const r = recipeSchema.safeParse(JSON.parse(text))
  if (!r.success)
    throw new Error(
      `${recipePath(outDir, model)}: ${r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    )
  if (r.data.model !== model)
    throw new Error(
      `${recipePath(outDir, model)} is the recipe of '${r.data.model}', not '${model}'`,
    )
  return r.data
}

export const recipeText = (r: Recipe) => JSON.stringify(recipeSchema.parse(r), null, 2) + '\n'

export async function writeRecipe(outDir: string, r: Recipe): Promise<void> {
  await writeFileAtomic(recipePath(outDir, r.model), recipeText(r))
}

/**
 * Two recipes make the same files when everything but the list of step counts (and the
 * refinement's per-step results) agrees.
 */
export function sameMaking(a: Recipe, b: Recipe): boolean {
  const strip = (r: Recipe) =>
    JSON.stringify({ ...r, steps: [], refinement: r.refinement && { ...r.refinement, plans: {} } })
  return strip(a) === strip(b)
}

/** The schedule's forecaster block for a recipe (orders only when the DP chose them per segment). */
export function forecasterOf(r: Recipe) {
  const { order, cost, metric, includeArrival, orders, spaces } = r.forecaster
  return {
    kind: 'taylor' as const,
    order,
    cost,
    includeArrival,
    metric,
    ...(orders ? { orders } : {}),
    ...(spaces ? { spaces } : {}),
  }
}

/** A hill climb's recorded options: the schedule's refinement block without its results. */
const hillClimbOptions = refinementSchema.omit({ method: true, plans: true })

/** How a recorded hill-climb refinement ran, as the schedule records it; undefined for other methods. */
export function hillClimb(r: Recipe) {
  if (r.refinement?.method !== 'hill-climb') return undefined
  return { method: 'hill-climb' as const, ...hillClimbOptions.parse(r.refinement.options) }
}
