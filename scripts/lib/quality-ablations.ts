/**
 * The shipped plans as the quality bench runs them, and the DPCache ablation rows: each row
 * takes one ingredient of the shipped recipe away, so its paired difference to the shipped row
 * is what that ingredient buys held out.
 */
import type { BenchPlan, SettingInput } from './quality-setting.ts'

type ListedPlan = { budget: number; keySteps: number[]; orders?: number[]; spaces?: string[] }

/**
 * Plans by budget. `withSpaces` false drops a v4 plan's per-segment spaces, so every segment
 * forecasts in the row's (or the schedule's) spaces.
 */
export function benchPlans(
  list: readonly ListedPlan[],
  order: number,
  withSpaces = true,
): Map<number, BenchPlan> {
  return new Map(
    list.map((p) => [
      p.budget,
      {
        keySteps: p.keySteps,
        orders: p.orders,
        order,
        ...(withSpaces && p.spaces ? { spaces: p.spaces } : {}),
      },
    ]),
  )
}

export function dpcacheAblations(a: {
  /** the schedule's forecaster block */
  forecaster: { order: number; orders?: number[]; spaces?: string[] }
  shipped: readonly ListedPlan[]
  /** the DP's plans over the per-order tensors, before refinement */
  dp: readonly ListedPlan[]
  /** the DP's plans over the order-1 tensor (the v1 recipe) */
  dp1: readonly ListedPlan[]
}): SettingInput['ablations'] {
  const f = a.forecaster
  const rows: SettingInput['ablations'] = [
    { label: 'DP, order 1 only (v1 recipe)', plans: benchPlans(a.dp1, 1) },
  ]
  if (f.orders)
    rows.push({
      label: 'DP, per-segment orders, not refined',
      plans: benchPlans(a.dp, f.order),
      spaces: f.spaces,
    })
  // what the forecast spaces alone buy: the shipped plans, forecasting the feature only
  if (f.spaces)
    rows.push({
      label: 'shipped plans, forecast feature only',
      plans: benchPlans(a.shipped, f.order, false),
    })
  // what the polish's per-segment spaces buy: the same plans, the schedule's spaces everywhere
  if (a.shipped.some((p) => p.spaces))
    rows.push({
      label: `shipped plans, forecast ${(f.spaces ?? ['feature']).join('+')} everywhere`,
      plans: benchPlans(a.shipped, f.order, false),
      spaces: f.spaces,
    })
  return rows
}

/** What a schedule's refinement record says of one budget's start (schedule.ts). */
type StartRecord = {
  budget: number
  start: { keySteps: number[]; orders: number[] }
  from?: string
}

/**
 * Throws unless every shipped plan's DP part is what this calibration plans: the refinement's
 * recorded start (or, unrefined, the plan itself) must equal the per-order DP plan, or the
 * order-1-only one where the climb started there. A plan that does not replan means the
 * schedule and the model or calibration have drifted apart, and the ablation rows (which
 * replan) would no longer be ablations of it. A climb from a random key set has no DP start
 * to check (its seed is (steps, budget)).
 */
export function checkDpStarts(a: {
  steps: number
  forecaster: { order: number; orders?: number[] }
  shipped: readonly ListedPlan[]
  refined?: readonly StartRecord[]
  dp: readonly ListedPlan[]
  dp1: readonly ListedPlan[]
}): void {
  const f = a.forecaster
  for (const p of a.shipped) {
    const rec = a.refined?.find((r) => r.budget === p.budget)
    if (rec?.from === 'random') continue
    const want = rec
      ? rec.start
      : { keySteps: p.keySteps, orders: p.orders ?? p.keySteps.map(() => f.order) }
    const o1 = a.dp1.find((d) => d.budget === p.budget)
    const po = a.dp.find((d) => d.budget === p.budget)
    const got =
      rec?.from === 'dp-order1'
        ? o1 && { keySteps: o1.keySteps, orders: o1.keySteps.map(() => 1) }
        : po && {
            keySteps: po.keySteps,
            orders: f.orders && po.orders ? po.orders : po.keySteps.map(() => f.order),
          }
    if (
      !got ||
      got.keySteps.join() !== want.keySteps.join() ||
      got.orders.join() !== want.orders.join()
    )
      throw new Error(
        `${a.steps} steps, K=${p.budget}: the DP plan differs from the shipped schedule's (recompute the schedules)`,
      )
  }
}
