import { describe, expect, it } from 'vitest'
import { benchPlans, checkDpStarts, dpcacheAblations } from './quality-ablations.ts'

const shipped = [
  { budget: 3, keySteps: [0, 4, 9], orders: [1, 2, 1], spaces: ['noise', 'feature', 'feature'] },
  { budget: 4, keySteps: [0, 2, 6, 9], orders: [1, 1, 1, 2] },
]
const dp = [{ budget: 3, keySteps: [0, 5, 8], orders: [1, 1, 2] }]
const dp1 = [{ budget: 3, keySteps: [0, 3, 7] }]

describe('quality ablations', () => {
  it('bench plans keep per-segment spaces unless told to drop them', () => {
    expect(benchPlans(shipped, 1).get(3)).toEqual({
      keySteps: [0, 4, 9],
      orders: [1, 2, 1],
      order: 1,
      spaces: ['noise', 'feature', 'feature'],
    })
    expect(benchPlans(shipped, 1, false).get(3)).not.toHaveProperty('spaces')
    expect(benchPlans(shipped, 1).get(4)).not.toHaveProperty('spaces')
  })

  it('each row takes one ingredient away; rows whose ingredient is absent are left out', () => {
    const v4 = dpcacheAblations({
      forecaster: { order: 1, orders: [0, 1, 2], spaces: ['feature', 'noise'] },
      shipped,
      dp,
      dp1,
    })
    expect(v4.map((r) => r.label)).toEqual([
      'DP, order 1 only (v1 recipe)',
      'DP, per-segment orders, not refined',
      'shipped plans, forecast feature only',
      'shipped plans, forecast feature+noise everywhere',
    ])
    // the v1 row forecasts the feature at order 1; the DP row in the schedule's spaces
    expect(v4[0]).not.toHaveProperty('spaces')
    expect(v4[0].plans.get(3)).toEqual({ keySteps: [0, 3, 7], orders: undefined, order: 1 })
    expect(v4[1].spaces).toEqual(['feature', 'noise'])
    // feature only: no spaces at all; everywhere: the schedule's, no per-segment ones
    expect(v4[2].spaces).toBeUndefined()
    expect([...v4[2].plans.values()].every((p) => !p.spaces)).toBe(true)
    expect(v4[3].spaces).toEqual(['feature', 'noise'])
    expect(v4[3].plans.get(3)).toEqual({ keySteps: [0, 4, 9], orders: [1, 2, 1], order: 1 })
    // a v2 schedule (orders, no spaces) has the first two rows only
    const v2 = dpcacheAblations({
      forecaster: { order: 1, orders: [0, 1, 2] },
      shipped: shipped.map(({ spaces: _s, ...p }) => p),
      dp,
      dp1,
    })
    expect(v2.map((r) => r.label)).toEqual([
      'DP, order 1 only (v1 recipe)',
      'DP, per-segment orders, not refined',
    ])
  })

  it('the DP check passes a schedule that replans and names the budget that does not', () => {
    const forecaster = { order: 1, orders: [0, 1, 2] }
    const refined = [
      { budget: 3, start: { keySteps: [0, 5, 8], orders: [1, 1, 2] }, from: 'dp' },
      { budget: 4, start: { keySteps: [0, 1, 5, 7], orders: [1, 1, 1, 1] }, from: 'random' },
    ]
    const ok = { steps: 10, forecaster, shipped, refined, dp, dp1 }
    expect(() => checkDpStarts(ok)).not.toThrow()
    // a climb that started from the order-1-only DP plan is checked against that plan
    const fromOrder1 = [
      { budget: 3, start: { keySteps: [0, 3, 7], orders: [1, 1, 1] }, from: 'dp-order1' },
      refined[1],
    ]
    expect(() => checkDpStarts({ ...ok, refined: fromOrder1 })).not.toThrow()
    expect(() => checkDpStarts({ ...ok, refined: fromOrder1, dp1: dp })).toThrow(/10 steps, K=3/)
    // unrefined: the shipped plan itself must be the DP plan (same keys and orders)
    const plain = [{ budget: 3, keySteps: [0, 5, 8], orders: [1, 1, 2] }]
    expect(() => checkDpStarts({ ...ok, shipped: plain, refined: undefined })).not.toThrow()
    const drifted = [{ budget: 3, keySteps: [0, 5, 8], orders: [1, 1, 1] }]
    expect(() => checkDpStarts({ ...ok, shipped: drifted, refined: undefined })).toThrow(
      /K=3: the DP plan differs/,
    )
    // a budget the DP did not plan cannot be checked, so it fails
    expect(() => checkDpStarts({ ...ok, dp: [] })).toThrow(/K=3/)
  })
})
