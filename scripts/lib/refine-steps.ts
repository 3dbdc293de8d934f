/**
 * The schedules script's refinement of one step count: the DP starts over the calibration's
 * cost tensors, the climbs (scripts/lib/refine-plans.ts) judged on the calibration images, the
 * selection on fresh full-step runs of the selection seeds; returns the recipe's record of
 * every refined budget (what the recipe replays, so `npm run schedules -- --model M` rewrites
 * the same files without climbing again).
 */
import type { Pact } from '../../src/core/pact.ts'
import { planAllOrders } from '../../src/core/planner-orders.ts'
import { planAll } from '../../src/core/planner.ts'
import type { Denoiser } from '../../src/core/sampler.ts'
import type { ForecastSpace } from '../../src/core/forecast-spaces.ts'
import { calibrateFull, type calibrationCases } from './calibrate.ts'
import type { RefinedPlan } from './recipe.ts'
import { refinePlans } from './refine-plans.ts'
import { defaultRefineBudgets, type ScheduleArgs } from './schedule-args.ts'

type Cases = ReturnType<typeof calibrationCases>

export interface RefineStepsInput {
  denoiser: Denoiser
  steps: number
  guidance: number
  shift: number
  refine: NonNullable<ScheduleArgs['refine']>
  /** calibration seeds and their full-step images (the climbs' judge) */
  calibration: Cases & { references: Float32Array[] }
  /** selection seeds (their full-step images are computed here) */
  selection: Cases
  byOrder: { order: number; pact: Pact }[]
  orders: number[]
  spaces?: ForecastSpace[]
  planner: { forcedFirst: number; forcedLast: number; maxJump: number }
  log: (line: string) => void
}

export async function refineSteps(a: RefineStepsInput): Promise<Record<string, RefinedPlan>> {
  const tensors = { byOrder: a.byOrder }
  const order1 = a.byOrder.find((b) => b.order === 1)?.pact
  const selectRefs = await calibrateFull(a.denoiser, {
    steps: a.steps,
    ...a.selection,
    guidance: a.guidance,
    shift: a.shift,
  })
  const budgets = a.refine.budgets ?? defaultRefineBudgets(a.steps)
  a.log(
    `${a.steps} steps: refining K = ${budgets.join(', ')} (${a.refine.evals} runs each on seeds ${a.calibration.seeds[0]}.., selection on ${a.selection.seeds[0]}..)`,
  )
  const r = await refinePlans(
    {
      denoiser: a.denoiser,
      steps: a.steps,
      guidance: a.guidance,
      shift: a.shift,
      calibration: a.calibration,
      selection: { ...a.selection, references: selectRefs.images },
      orders: a.orders,
      spaces: a.spaces,
      forcedFirst: a.planner.forcedFirst,
      evals: a.refine.evals,
      randomEvals: a.refine.randomEvals,
      randomKeysOnly: a.refine.randomKeysOnly,
      stops: a.refine.stops,
      polishEvals: a.refine.polishEvals,
      polishSpaces: a.refine.polishSpaces,
      error: a.refine.error,
      log: (line) => a.log(`  ${line}`),
    },
    planAllOrders(tensors, a.planner),
    budgets,
    tensors,
    // with several orders, the order-1-only DP plan is a second start (refine-plans.ts)
    order1 && a.orders.length > 1 ? planAll(order1, a.planner) : undefined,
  )
  return Object.fromEntries(
    r.record.plans.map((rec) => {
      const plan = r.plans.find((p) => p.budget === rec.budget)!
      const { budget, ...provenance } = rec
      const spaces = plan.spaces ? { spaces: plan.spaces } : {}
      return [
        String(budget),
        { keySteps: plan.keySteps, orders: plan.orders, ...spaces, ...provenance },
      ]
    }),
  )
}
