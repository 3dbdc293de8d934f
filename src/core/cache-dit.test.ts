import { describe, expect, it } from 'vitest'
import { toCacheDitConfig } from './cache-dit.ts'
import { maskOf } from './planner.ts'
import type { Schedule, SchedulePlan } from './schedule.ts'

const plan = (steps: number, keySteps: number[]): SchedulePlan => ({
  budget: keySteps.length,
  keySteps,
  mask: maskOf(steps, keySteps),
  cost: 1.5,
  greedyCost: 2,
  nfe: keySteps.length,
  speedup: steps / keySteps.length,
})
const schedule = (steps: number, order: number, plans: SchedulePlan[]) =>
  ({
    model: 'flux.1-dev',
    steps,
    forecaster: { kind: 'taylor', order, cost: '3d', includeArrival: true, metric: 'l1' },
    plans,
  }) satisfies Pick<Schedule, 'model' | 'steps' | 'forecaster' | 'plans'>

describe('toCacheDitConfig', () => {
  it("round-trips: mask of length N, K ones, exactly at the plan's key steps", () => {
    // the paper's FLUX.1-dev K=13 plan at 50 steps, and the edge plans of a short schedule
    const cases: [number, number[]][] = [
      [50, [0, 1, 2, 4, 7, 10, 14, 19, 23, 28, 34, 40, 45]],
      [7, [0]],
      [7, [0, 1, 2, 3, 4, 5, 6]],
      [7, [0, 6]],
    ]
    for (const [n, keys] of cases) {
      const p = plan(n, keys)
      const cfg = toCacheDitConfig(schedule(n, 2, [p]), p)
      expect(cfg.num_inference_steps).toBe(n)
      expect(cfg.steps_computation_mask).toHaveLength(n)
      expect(cfg.steps_computation_mask.every((v) => v === 0 || v === 1)).toBe(true)
      expect(cfg.steps_computation_mask.reduce((a, b) => a + b, 0)).toBe(keys.length)
      expect(cfg.steps_computation_mask.flatMap((v, i) => (v ? [i] : []))).toEqual(keys)
      // and back: the mask string the schedule stores
      expect(cfg.steps_computation_mask.join('')).toBe(p.mask)
      expect(cfg).toMatchObject({
        budget: keys.length,
        key_steps: keys,
        steps_computation_policy: 'static',
        taylorseer_order: 2,
        cost: 1.5,
        greedy_cost: 2,
      })
    }
  })

  it('carries the order the plan was costed for, and null when the greedy cost is not recorded', () => {
    const p = { ...plan(10, [0, 4, 8]), greedyCost: undefined }
    expect(toCacheDitConfig(schedule(10, 1, [p]), p)).toMatchObject({
      taylorseer_order: 1,
      greedy_cost: null,
    })
  })

  it('refuses a plan that does not belong to the schedule', () => {
    const p = plan(10, [0, 4, 8])
    expect(() => toCacheDitConfig(schedule(12, 1, [p]), p)).toThrow(
      /10 chars, the schedule has 12 steps/,
    )
    expect(() => toCacheDitConfig(schedule(10, 1, [p]), { ...p, keySteps: [0, 4, 9] })).toThrow(
      /does not match/,
    )
  })
})
