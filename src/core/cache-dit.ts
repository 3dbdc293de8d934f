/**
 * A plan as cache-dit's static step mask (https://github.com/vipshop/cache-dit, "SCM: Steps
 * Computation Masking"). cache-dit takes a list of N integers, 1 = compute the step, 0 = serve it
 * from the cache, and with `steps_computation_policy="static"` it caches every 0 step without
 * looking at residual differences: exactly a DPCache key-step plan. Its TaylorSeer calibrator
 * then forecasts the cached steps; `taylorseer_order` is the order the plan was costed for.
 *
 * Python side, with `cfg` the object below:
 *   DBCacheConfig(num_inference_steps=cfg["num_inference_steps"],
 *                 steps_computation_mask=cfg["steps_computation_mask"],
 *                 steps_computation_policy=cfg["steps_computation_policy"])
 *   TaylorSeerCalibratorConfig(taylorseer_order=cfg["taylorseer_order"])
 * (docs/cache-dit.md has the whole example.)
 */
import type { Schedule, SchedulePlan } from './schedule.ts'

export interface CacheDitConfig {
  format: 'cache-dit'
  model: string
  /** Key steps K: the number of 1s in the mask. */
  budget: number
  /** DBCacheConfig(num_inference_steps=...): the mask is only valid for this step count. */
  num_inference_steps: number
  /** DBCacheConfig(steps_computation_mask=...): N ints, 1 compute, 0 cache. */
  steps_computation_mask: number[]
  /** DBCacheConfig(steps_computation_policy=...): 'static' = cache every 0 step unconditionally. */
  steps_computation_policy: 'static'
  /** TaylorSeerCalibratorConfig(taylorseer_order=...); 0 means plain reuse (no calibrator). */
  taylorseer_order: number
  /** The plan's key steps (the positions of the 1s), for reading and checking. */
  key_steps: number[]
  /** Expected path cost of the plan under the schedule's cost tensor (and the greedy one's). */
  cost: number
  greedy_cost: number | null
}

/** Converts one plan of a schedule; throws RangeError if the plan does not belong to it. */
export function toCacheDitConfig(
  schedule: Pick<Schedule, 'model' | 'steps' | 'forecaster' | 'plans'>,
  plan: SchedulePlan,
): CacheDitConfig {
  if (plan.mask.length !== schedule.steps || !/^[01]+$/.test(plan.mask)) {
    throw new RangeError(
      `plan mask has ${plan.mask.length} chars, the schedule has ${schedule.steps} steps`,
    )
  }
  const mask = [...plan.mask].map((c) => (c === '1' ? 1 : 0))
  const keys = mask.flatMap((v, i) => (v === 1 ? [i] : []))
  if (keys.length !== plan.budget || keys.some((k, m) => k !== plan.keySteps[m])) {
    throw new RangeError(`plan mask does not match its ${plan.budget} key steps`)
  }
  return {
    format: 'cache-dit',
    model: schedule.model,
    budget: plan.budget,
    num_inference_steps: schedule.steps,
    steps_computation_mask: mask,
    steps_computation_policy: 'static',
    taylorseer_order: schedule.forecaster.order,
    key_steps: keys,
    cost: plan.cost,
    greedy_cost: plan.greedyCost ?? null,
  }
}
