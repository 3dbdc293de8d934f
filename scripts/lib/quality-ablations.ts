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
